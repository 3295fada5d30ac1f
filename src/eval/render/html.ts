/**
 * A self-contained HTML report: summary, charts rendered to inline SVG, and sortable tables. One file, no external
 * requests (a Content-Security-Policy forbids them), safe to attach to a CI run or open from disk.
 * @module
 */
import { reportCharts } from '../charts.js'
import { describeMustPassFailure } from '../must-pass.js'
import type { EvalReport } from '../types.js'
import { htmlText as esc, ms, percent, score } from './format.js'
import { topConfusionPairs } from './markdown.js'
import { htmlPage, SORT_SCRIPT, SORTABLE_CSS } from './page.js'
import { renderSvgs } from './svg.js'

export interface HtmlOptions {
  title?: string
  /** Rows in the error table. Default 300. */
  maxErrors?: number
}

const CSS = `${SORTABLE_CSS}
:root { color-scheme: light; --fg: #1d2329; --muted: #5c6670; --line: #e3e7ea; --bad: #c9302c; --good: #2e7d32; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 10px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 140px; }
.card .v { font-size: 20px; font-weight: 600; } .card .k { color: var(--muted); font-size: 12px; }
.card.bad .v { color: var(--bad); } .card.good .v { color: var(--good); }
.charts { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px; overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th { position: sticky; top: 0; }
tr.fail td { background: #fdf0ef; } code { font-size: 12px; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
`

function num(x: number, text = score(x)): string {
  return `<td class="n" data-v="${Number.isFinite(x) ? x : ''}">${text}</td>`
}

function card(label: string, value: string, tone = ''): string {
  return `<div class="card ${tone}"><div class="v">${value}</div><div class="k">${esc(label)}</div></div>`
}

function sortableTable(header: Array<[string, boolean]>, rows: string[], attrs = ''): string {
  const ths = header.map(([h, n]) => `<th${n ? ' class="n"' : ''}>${esc(h)}</th>`).join('')
  return `<table class="sortable"${attrs}><thead><tr>${ths}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`
}

/** The HTML report, charts included. Rendering the charts is the slow part; everything else is string building. */
export async function renderHtml(report: EvalReport, options: HtmlOptions = {}): Promise<string> {
  const svgs = await renderSvgs(reportCharts(report))
  const maxErrors = options.maxErrors ?? 300
  const name = report.model?.name ?? 'model'
  const title = options.title ?? `Evaluation of ${name}`
  const how =
    report.mode === 'cross-validation' && report.crossValidation
      ? `${report.crossValidation.folds}-fold cross-validation (seed ${report.crossValidation.seed})`
      : 'test set'
  const parts: string[] = []
  parts.push(
    `<h1>${esc(title)}</h1>`,
    `<p class="sub">${report.testSet.examples} messages, ${report.testSet.intents} intents, ${esc(how)} · ${esc(report.createdAt)} · intentops ${esc(report.toolkitVersion)}</p>`,
  )
  const cards = [
    card('accuracy', score(report.intent.accuracy)),
    card('macro F1', score(report.intent.macroAvg.f1)),
    card('weighted F1', score(report.intent.weightedAvg.f1)),
    card('fallback rate', percent(report.fallback.rate)),
    card('ECE', score(report.calibration.ece)),
  ]
  if (report.entities) cards.push(card('entity F1 (exact)', score(report.entities.exact.micro.f1)))
  if (report.mustPass) {
    const mp = report.mustPass
    cards.push(card('must-pass', `${mp.passed}/${mp.total}`, mp.failedRequired > 0 ? 'bad' : 'good'))
  }
  if (report.latency) cards.push(card('latency p99', `${ms(report.latency.p99Ms)} ms`))
  parts.push(`<section class="cards">${cards.join('')}</section>`)

  parts.push('<h2>Charts</h2><section class="charts">')
  const order: Array<[keyof typeof svgs, string]> = [
    ['confusion', 'Confusion heatmap'],
    ['f1', 'F1 per intent'],
    ['confidence', 'Confidence histogram'],
    ['reliability', 'Reliability diagram'],
    ['learningCurve', 'Learning curve'],
  ]
  for (const [key, label] of order) {
    const svg = svgs[key]
    if (svg) parts.push(`<figure class="chart" data-chart="${key}" aria-label="${esc(label)}">${svg}</figure>`)
  }
  parts.push('</section>')

  parts.push(
    '<h2>Intents</h2><div class="scroll">',
    sortableTable(
      [
        ['intent', false],
        ['precision', true],
        ['recall', true],
        ['F1', true],
        ['support', true],
        ['confused with', false],
      ],
      Object.entries(report.intent.perLabel)
        .sort((a, b) => a[1].f1 - b[1].f1 || (a[0] < b[0] ? -1 : 1))
        .map(
          ([label, m]) =>
            `<tr><td><code>${esc(label)}</code></td>${num(m.precision)}${num(m.recall)}${num(m.f1)}${num(m.support, String(m.support))}<td>${(
              report.intent.confusedWith[label] ?? []
            )
              .map((c) => `${esc(c.intent)} (${c.count})`)
              .join(', ')}</td></tr>`,
        ),
      ' id="intents"',
    ),
    '</div>',
  )

  const confusions = topConfusionPairs(report, 30)
  if (confusions.length > 0) {
    parts.push(
      '<h2>Most confused pairs</h2>',
      sortableTable(
        [
          ['gold', false],
          ['predicted', false],
          ['count', true],
        ],
        confusions.map(
          (c) =>
            `<tr><td><code>${esc(c.gold)}</code></td><td><code>${esc(c.predicted)}</code></td>${num(c.count, String(c.count))}</tr>`,
        ),
      ),
    )
  }

  if (report.mustPass && report.mustPass.total > 0) {
    const mp = report.mustPass
    parts.push(
      `<h2>Must-pass sentences: ${mp.passed}/${mp.total} passed</h2><div class="scroll">`,
      sortableTable(
        [
          ['text', false],
          ['expected', false],
          ['got', false],
          ['confidence', true],
          ['result', false],
        ],
        mp.results.map(
          (r) =>
            `<tr class="${r.passed ? '' : 'fail'}"><td>${esc(r.text)}</td><td><code>${esc(r.intent)}</code></td><td><code>${esc(r.predicted)}</code></td>${num(r.confidence)}<td>${
              r.passed
                ? 'pass'
                : `${r.allowFailure ? 'allowed failure: ' : 'FAIL: '}${esc(r.failures.map(describeMustPassFailure).join('; '))}`
            }</td></tr>`,
        ),
        ' id="must-pass"',
      ),
      '</div>',
    )
  }

  if (report.errors.length > 0) {
    const shown = report.errors.slice(0, maxErrors)
    parts.push(
      `<h2>Errors (${report.errors.length}${shown.length < report.errors.length ? `, ${shown.length} most confident shown` : ''})</h2><div class="scroll">`,
      sortableTable(
        [
          ['text', false],
          ['gold', false],
          ['predicted', false],
          ['confidence', true],
        ],
        shown.map(
          (e) =>
            `<tr><td>${esc(e.text)}</td><td><code>${esc(e.gold)}</code></td><td><code>${esc(e.predicted)}</code></td>${num(e.confidence)}</tr>`,
        ),
        ' id="errors"',
      ),
      '</div>',
    )
  }

  if (report.entities) {
    const e = report.entities
    parts.push(
      '<h2>Entities</h2>',
      sortableTable(
        [
          ['entity', false],
          ['exact P', true],
          ['exact R', true],
          ['exact F1', true],
          ['token P', true],
          ['token R', true],
          ['token F1', true],
          ['support', true],
        ],
        e.entities.map((t) => {
          const x = e.exact.perEntity[t]!
          const k = e.token.perEntity[t]!
          return `<tr><td><code>${esc(t)}</code></td>${num(x.precision)}${num(x.recall)}${num(x.f1)}${num(k.precision)}${num(k.recall)}${num(k.f1)}${num(x.support, String(x.support))}</tr>`
        }),
      ),
    )
  }

  const fb = report.fallback
  parts.push(
    '<h2>Fallback</h2>',
    `<p>The fallback intent <code>${esc(fb.intent)}</code> answered ${fb.count} messages (${percent(fb.rate)}): ${fb.caught} would have been wrong or were out of scope, ${fb.lost} would have been right. With fallback: accuracy ${score(fb.withFallback.accuracy)}, macro F1 ${score(fb.withFallback.macroF1)}; without: accuracy ${score(fb.withoutFallback.accuracy)}, macro F1 ${score(fb.withoutFallback.macroF1)}.</p>`,
  )

  const cv = report.crossValidation
  if (cv) {
    parts.push(
      `<h2>Folds</h2><p>macro F1 ${score(cv.mean.macroF1)} ± ${score(cv.std.macroF1)}</p>`,
      sortableTable(
        [
          ['fold', true],
          ['train', true],
          ['test', true],
          ['accuracy', true],
          ['macro F1', true],
          ['weighted F1', true],
        ],
        cv.perFold.map(
          (f) =>
            `<tr>${num(f.fold + 1, String(f.fold + 1))}${num(f.trainExamples, String(f.trainExamples))}${num(f.testExamples, String(f.testExamples))}${num(f.accuracy)}${num(f.macroF1)}${num(f.weightedF1)}</tr>`,
        ),
      ),
    )
  }

  return htmlPage({ title, css: CSS, body: `<main>\n${parts.join('\n')}\n</main>`, script: SORT_SCRIPT })
}
