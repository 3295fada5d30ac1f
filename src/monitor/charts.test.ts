import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import type { KyselyPredictionStore } from '../store/kysely-store.js'
import { openSqliteStore } from '../store/sqlite.js'
import { ANALYTICS_KINDS, type AnalyticsResult, type IntentDistribution, runAnalytics } from './analytics.js'
import { analyticsCharts, driftSpec } from './charts.js'
import { monitorDrift } from './monitor.js'
import { renderCharts, renderHtmlPage } from './render.js'
import { syntheticTraffic, syntheticTrainingData } from './testing.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 22)
let dir: string
let store: KyselyPredictionStore
const results = new Map<string, AnalyticsResult>()

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'intentops-charts-'))
  store = openSqliteStore({ file: path.join(dir, 'store.db') })
  await store.migrate()
  const traffic = syntheticTraffic({
    seed: 9,
    count: 300,
    start: NOW - 3 * DAY,
    stepMs: DAY / 100,
    shift: 'vocabulary',
  })
  await store.insertPredictions(traffic)
  for (const [i, p] of traffic.slice(0, 30).entries()) {
    await store.addReview({
      id: `r${i}`,
      predictionId: p.id,
      action: i % 3 === 0 ? 'relabel' : 'confirm',
      ...(i % 3 === 0 ? { intent: 'order_food' } : {}),
      previousIntent: p.intent,
      reviewer: 'ann',
      ts: NOW,
    })
  }
  for (const what of ANALYTICS_KINDS) {
    results.set(
      what,
      await runAnalytics(
        store,
        what,
        { from: NOW - 3 * DAY, to: NOW },
        {
          lowConfidence: 0.5,
          loadTraining: async () => syntheticTrainingData(1),
          now: NOW,
        },
      ),
    )
  }
})

afterAll(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('analytics charts', () => {
  it('have a spec for every analytics, with data inline, rendered to SVG', async () => {
    for (const what of ANALYTICS_KINDS) {
      const r = results.get(what)!
      const specs = analyticsCharts(r)
      expect(Object.keys(specs).length).toBeGreaterThan(0)
      for (const spec of Object.values(specs)) {
        expect(JSON.stringify(spec)).not.toContain('"url"')
        expect(spec.$schema).toContain('vega-lite')
      }
      const svgs = await renderCharts(r)
      for (const svg of Object.values(svgs)) expect(svg).toMatch(/^<svg[\s\S]*<\/svg>$/)
    }
  }, 60_000)

  it('show what the results say', async () => {
    const intents = await renderCharts(results.get('intents')!)
    expect(intents.intents).toContain('nlu_fallback')
    const corrections = analyticsCharts(results.get('corrections')!)
    expect(Object.keys(corrections)).toEqual(['corrections', 'confusion'])
    const heat = JSON.stringify(corrections.confusion)
    expect(heat).toContain('reviewer label')
    expect(heat).toContain('order_food')
    const emerging = await renderCharts(results.get('emerging')!)
    expect(emerging.emerging).toContain('wallet')
  })

  it('fold intents beyond the ten largest into "other"', () => {
    const r = results.get('intents') as IntentDistribution
    const many: IntentDistribution = {
      ...r,
      intents: Array.from({ length: 14 }, (_, i) => ({ intent: `i${i}`, count: 14 - i, share: 0 })),
      series: Array.from({ length: 14 }, (_, i) => ({ bucket: r.range.from, intent: `i${i}`, count: 14 - i })),
    }
    const spec = analyticsCharts(many).intents as unknown as {
      data: { values: Array<{ name: string; count: number }> }
    }
    const names = spec.data.values.map((v) => v.name)
    expect(names).toHaveLength(11)
    expect(spec.data.values.find((v) => v.name === 'other')?.count).toBe(4 + 3 + 2 + 1)
  })
})

describe('drift chart and page', () => {
  it('draws each check against its threshold and renders one HTML page', async () => {
    const report = await monitorDrift(store, syntheticTrainingData(1), defaultConfig().monitor, { now: NOW })
    const spec = driftSpec(report) as unknown as { data: { values: Array<{ check: string; status: string }> } }
    // Confidence is skipped against training data: no bar.
    expect(spec.data.values.map((v) => v.check)).toEqual([
      'intent_distribution',
      'oov_share',
      'text_length',
      'domain_classifier',
    ])
    expect(spec.data.values.find((v) => v.check === 'oov_share')?.status).toBe('fail')
    const html = await renderHtmlPage(report)
    expect(html).toContain('<svg')
    expect(html).toContain('FAIL    oov_share')
    // the page runs nothing, so its policy allows no script at all
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`)
    expect(html).not.toContain('<script')
  }, 60_000)
})
