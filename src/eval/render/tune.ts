/**
 * Rendering of tuning results: a plain-text table for terminals (sortable by any column), Markdown, and a
 * self-contained HTML page with a sortable table and a chart of the score of every trial.
 * @module
 */
import path from 'node:path'
import type { TopLevelSpec } from 'vega-lite'
import { createError } from '../../errors.js'
import { writeFileAtomic } from '../../util/fs.js'
import type { TrialResult } from '../jobs.js'
import type { TuneReport } from '../tune.js'
import { htmlText as esc, mdCode, mdText, score } from './format.js'
import { htmlPage, SORT_SCRIPT, SORTABLE_CSS } from './page.js'
import { renderSvg } from './svg.js'

interface Column {
  key: string
  header: string
  numeric: boolean
  value: (t: TrialResult) => number | string | undefined
  format: (t: TrialResult) => string
}

function columns(report: TuneReport): Column[] {
  const params: Column[] = report.space.map((p, k) => ({
    key: `${p.step}.${p.param}`,
    header: `${p.step}.${p.param}`,
    numeric: (p.values ?? [p.min]).every((v) => typeof v === 'number'),
    value: (t) => {
      const v = t.assignments[k]?.value
      return typeof v === 'boolean' ? String(v) : v
    },
    format: (t) => {
      const v = t.assignments[k]?.value
      return v === undefined ? '' : typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v)
    },
  }))
  const metric = report.metric
  return [
    { key: 'trial', header: 'trial', numeric: true, value: (t) => t.trial + 1, format: (t) => String(t.trial + 1) },
    ...params,
    {
      key: 'score',
      header: metric,
      numeric: true,
      value: (t) => t.score,
      format: (t) => (t.status === 'ok' ? `${score(t.score!)} ± ${score(t.std![metric])}` : 'failed'),
    },
    {
      key: 'accuracy',
      header: 'accuracy',
      numeric: true,
      value: (t) => t.mean?.accuracy,
      format: (t) => (t.mean ? score(t.mean.accuracy) : ''),
    },
    {
      key: 'time',
      header: 'time',
      numeric: true,
      value: (t) => t.durationMs,
      format: (t) => `${(t.durationMs / 1000).toFixed(1)} s`,
    },
  ]
}

/** Trials sorted by a column: `score` (default, best first), `trial`, `time`, `accuracy` or a `step.param`. */
export function sortTrials(report: TuneReport, by = 'score'): TrialResult[] {
  const cols = columns(report)
  const col = cols.find((c) => c.key === by)
  if (!col) {
    throw createError('ERR_CLI_USAGE', { detail: `--sort ${by}: sort by one of ${cols.map((c) => c.key).join(', ')}` })
  }
  const descending = by === 'score' || by === 'accuracy'
  return [...report.trials].sort((a, b) => {
    const x = col.value(a)
    const y = col.value(b)
    if (x === undefined && y === undefined) return a.trial - b.trial
    if (x === undefined) return 1
    if (y === undefined) return -1
    const r = x < y ? -1 : x > y ? 1 : 0
    return (descending ? -r : r) || a.trial - b.trial
  })
}

/** A fixed-width table for the terminal. */
export function renderTuneTable(report: TuneReport, sortBy = 'score', limit = Infinity): string {
  const cols = columns(report)
  const rows = sortTrials(report, sortBy)
    .slice(0, limit)
    .map((t) => cols.map((c) => c.format(t)))
  const widths = cols.map((c, i) => Math.max(c.header.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells.map((s, i) => (cols[i]!.numeric ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join('  ')
  return `${[line(cols.map((c) => c.header)), ...rows.map(line)].join('\n')}\n`
}

function headline(report: TuneReport): string {
  const b = report.best
  const status =
    report.status === 'interrupted'
      ? `interrupted after ${report.trials.length} of ${report.plannedTrials} trials`
      : `${report.trials.length} trials`
  const best = b
    ? `best ${report.metric} ${score(b.score!)} ± ${score(b.std![report.metric])} (trial ${b.trial + 1})`
    : 'no trial succeeded'
  return `${report.method} search, ${status}, ${report.folds}-fold cross-validation, seed ${report.seed}: ${best}`
}

export function renderTuneMarkdown(report: TuneReport): string {
  const cols = columns(report)
  const out = [`## Tuning`, '', headline(report), '']
  if (report.best) {
    out.push(
      `Best values: ${report.best.assignments.map((a) => mdCode(`${a.step}.${a.param}=${String(a.value)}`)).join(', ')}`,
      '',
    )
  }
  out.push(
    `| ${cols.map((c) => c.header).join(' | ')} |`,
    `|${cols.map((c) => (c.numeric ? '---:' : '---')).join('|')}|`,
    ...sortTrials(report).map((t) => `| ${cols.map((c) => mdText(c.format(t), 60)).join(' | ')} |`),
  )
  const failed = report.trials.filter((t) => t.status === 'failed')
  if (failed.length > 0) {
    out.push('', `${failed.length} trials failed; the first: ${mdText(failed[0]!.error?.message ?? '', 200)}`)
  }
  return `${out.join('\n')}\n`
}

/** Score of every finished trial in trial order, best marked. */
export function tuneScoresSpec(report: TuneReport): TopLevelSpec {
  const values = report.trials
    .filter((t) => t.status === 'ok')
    .map((t) => ({ trial: t.trial + 1, score: t.score!, best: t.trial === report.best?.trial ? 'best' : 'trial' }))
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${report.metric} per trial`,
    data: { values },
    width: 420,
    height: 200,
    mark: { type: 'point', filled: true, size: 60 },
    encoding: {
      x: { field: 'trial', type: 'quantitative', title: 'trial', axis: { tickMinStep: 1 } },
      y: { field: 'score', type: 'quantitative', title: report.metric, scale: { zero: false } },
      color: {
        field: 'best',
        type: 'nominal',
        scale: { domain: ['trial', 'best'], range: ['#2f7ed8', '#d9534f'] },
        title: null,
      },
      tooltip: [
        { field: 'trial', type: 'quantitative' },
        { field: 'score', type: 'quantitative', format: '.4f' },
      ],
    },
  } as TopLevelSpec
}

const TUNE_CSS = `body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2329; } table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #e3e7ea; padding: 4px 10px; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }${SORTABLE_CSS}`

/** The trials as one sortable page, with the scores chart. */
export async function renderTuneHtml(report: TuneReport): Promise<string> {
  const cols = columns(report)
  const chart = report.trials.some((t) => t.status === 'ok') ? await renderSvg(tuneScoresSpec(report)) : ''
  const rows = sortTrials(report).map(
    (t) =>
      `<tr>${cols
        .map((c) => {
          const v = c.value(t)
          return c.numeric
            ? `<td class="n" data-v="${v ?? ''}">${esc(c.format(t))}</td>`
            : `<td>${esc(c.format(t))}</td>`
        })
        .join('')}</tr>`,
  )
  return htmlPage({
    title: 'Tuning',
    css: TUNE_CSS,
    body: `<h1>Tuning</h1><p>${esc(headline(report))}</p>
<figure data-chart="scores">${chart}</figure>
<table class="sortable" id="trials"><thead><tr>${cols.map((c) => `<th${c.numeric ? ' class="n"' : ''}>${esc(c.header)}</th>`).join('')}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`,
    script: SORT_SCRIPT,
  })
}

export interface TuneFiles {
  json: string
  markdown: string
  html: string
}

/** Write `tune.json`, `tune.md` and `tune.html` into `dir`, each atomically: partial results are always valid. */
export async function writeTuneFiles(report: TuneReport, dir: string): Promise<TuneFiles> {
  const files = {
    json: path.join(dir, 'tune.json'),
    markdown: path.join(dir, 'tune.md'),
    html: path.join(dir, 'tune.html'),
  }
  await writeFileAtomic(files.json, `${JSON.stringify(report, null, 1)}\n`)
  await writeFileAtomic(files.markdown, renderTuneMarkdown(report))
  await writeFileAtomic(files.html, await renderTuneHtml(report))
  return files
}
