import { describe, expect, it } from 'vitest'
import { bigReport } from '../../../test/helpers/eval-fixtures.js'
import { confusionHeatmapSpec, reportCharts } from '../charts.js'
import { renderHtml } from './html.js'
import { renderMarkdown, summaryLineCount } from './markdown.js'
import { chartLibrary, renderSvg } from './svg.js'

describe('Markdown report', () => {
  const report = bigReport()
  const md = renderMarkdown(report)

  it('keeps the summary before the first <details> under 60 lines for 77 intents', () => {
    expect(summaryLineCount(md)).toBeLessThan(60)
    expect(md.indexOf('<details>')).toBeGreaterThan(0)
    expect(md).toContain('| macro F1 |')
    expect(md).toContain('**Weakest intents:**')
    expect(md).toContain('**Must-pass failures:**')
    expect(md).toContain('❌ 4/12 passed (1 allowed to fail)')
  })

  it('puts every intent in the folded detail and stays small enough for a PR comment', () => {
    for (const label of report.intent.labels) expect(md).toContain(`\`${label}\``)
    expect(md.length).toBeLessThan(60_000)
    expect((md.match(/<details>/g) ?? []).length).toBe((md.match(/<\/details>/g) ?? []).length)
  })

  it('escapes message text so it cannot break tables or inject HTML', () => {
    expect(md).not.toContain('<markup>')
    expect(md).toContain('&lt;markup&gt;')
    expect(md).toContain('\\| with')
  })
})

describe('charts', () => {
  it('are plain JSON Vega-Lite specs with inline data', () => {
    const charts = reportCharts(bigReport())
    expect(Object.keys(charts).sort()).toEqual(['confidence', 'confusion', 'f1', 'learningCurve', 'reliability'])
    for (const spec of Object.values(charts)) {
      expect(JSON.parse(JSON.stringify(spec))).toEqual(spec)
      expect(JSON.stringify(spec)).not.toMatch(/"url"\s*:/)
    }
  })

  it('limits the heatmap to the most confused intents', () => {
    const spec = confusionHeatmapSpec(bigReport().intent.confusion, { maxIntents: 8 }) as {
      data: { values: Array<{ gold: string }> }
    }
    expect(new Set(spec.data.values.map((v) => v.gold)).size).toBeLessThanOrEqual(8)
  })

  it('load vega and vega-lite from their single-file bundles', async () => {
    const lib = await chartLibrary()
    expect(lib.source).toBe('bundles')
    expect(lib.vega).toMatch(/^6\./)
    expect(lib.vegaLite).toMatch(/^6\./)
  })

  it('render to SVG on the server and refuse to load data from a URL', async () => {
    const svg = await renderSvg(reportCharts(bigReport()).f1)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('intent_00_')
    await expect(
      renderSvg({ data: { url: 'http://127.0.0.1:9/data.json' }, mark: 'bar', encoding: {} } as never),
    ).rejects.toMatchObject({ code: 'ERR_INTERNAL' })
  })
})

describe('HTML report', () => {
  it('is one self-contained file with every chart inline and text escaped', async () => {
    const html = await renderHtml(bigReport())
    for (const chart of ['confusion', 'f1', 'confidence', 'reliability', 'learningCurve']) {
      expect(html).toMatch(new RegExp(`data-chart="${chart}"[^>]*><svg`))
    }
    expect(html).toContain("default-src 'none'")
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/)
    expect(html).not.toContain('<markup>')
    expect(html).toContain('id="intents"')
  })
})
