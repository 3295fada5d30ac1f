/**
 * Analytics and drift as files: each chart rendered to SVG, or one self-contained HTML page (charts inline, the
 * text table below them, no external requests).
 * @module
 */
import { htmlText as esc } from '../eval/render/format.js'
import { htmlPage } from '../eval/render/page.js'
import { renderSvg } from '../eval/render/svg.js'
import type { AnalyticsResult } from './analytics.js'
import { analyticsCharts, driftSpec } from './charts.js'
import type { DriftReport } from './drift.js'
import { formatAnalytics, formatDrift } from './format.js'

/** Every chart of a result (or of a drift report) as SVG text, keyed by chart name. */
export async function renderCharts(r: AnalyticsResult | DriftReport): Promise<Record<string, string>> {
  const specs = 'format' in r ? { drift: driftSpec(r) } : analyticsCharts(r)
  const out: Record<string, string> = {}
  for (const [name, spec] of Object.entries(specs)) out[name] = await renderSvg(spec)
  return out
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2329; margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 12px; }
figure { margin: 0 0 20px; border: 1px solid #e3e7ea; border-radius: 8px; padding: 10px; overflow-x: auto; }
pre { font-size: 12px; background: #f7f9fa; border: 1px solid #e3e7ea; border-radius: 8px; padding: 10px; overflow-x: auto; }
`

/** One HTML page with the charts and the text table of a result or drift report. */
export async function renderHtmlPage(r: AnalyticsResult | DriftReport): Promise<string> {
  const isDrift = 'format' in r
  const title = isDrift ? 'intentops drift' : `intentops analytics: ${r.kind}`
  const svgs = await renderCharts(r)
  const figures = Object.values(svgs)
    .map((svg) => `<figure>${svg}</figure>`)
    .join('\n')
  const text = isDrift ? formatDrift(r) : formatAnalytics(r)
  return htmlPage({
    title,
    css: CSS,
    body: `<main>
<h1>${esc(title)}</h1>
${figures}
<pre>${esc(text)}</pre>
</main>`,
  })
}
