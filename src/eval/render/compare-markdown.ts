/**
 * Markdown rendering of a model comparison: the verdict of the paired test first, the metric deltas, the
 * regressed intents, then the changed predictions folded into `<details>` blocks.
 * @module
 */
import type { Comparison, IntentDelta } from '../compare.js'
import { mdCode, mdText, percent, score, signed } from './format.js'

export interface ComparisonMarkdownOptions {
  headingLevel?: number
  /** Changed predictions listed per kind. Default 25. */
  maxChanges?: number
  /** Intent rows in the summary (the full list is folded). Default 10. */
  maxIntents?: number
}

/** `p = 0.412` or `p < 0.001`. */
function pValue(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`
}

const STATUS_MARK: Record<IntentDelta['status'], string> = {
  broken: '🔴 broken',
  regressed: '🟠 regressed',
  removed: '⚪ removed',
  new: '🆕 new',
  improved: '🟢 improved',
  unchanged: 'unchanged',
}

function intentRow(r: IntentDelta): string {
  return `| ${mdCode(r.intent, 60)} | ${STATUS_MARK[r.status]} | ${r.a ? score(r.a.f1) : '–'} | ${r.b ? score(r.b.f1) : '–'} | ${signed(r.deltaF1)} | ${r.fixed} | ${r.broken} |`
}

const INTENT_HEADER = [
  '| intent | status | F1 A | F1 B | Δ F1 | fixed | broken |',
  '|---|---|---:|---:|---:|---:|---:|',
]

/** The comparison as Markdown for a pull-request comment. */
export function renderComparisonMarkdown(c: Comparison, options: ComparisonMarkdownOptions = {}): string {
  const h = '#'.repeat(options.headingLevel ?? 2)
  const maxChanges = options.maxChanges ?? 25
  const maxIntents = options.maxIntents ?? 10
  const out: string[] = []
  const t = c.mcnemar
  const mark =
    c.verdict === 'no significant difference' ? '⚪' : c.verdict === 'B is significantly better' ? '🟢' : '🔴'
  out.push(
    `${h} Comparison: ${mdText(c.b.label, 80)} (B) against ${mdText(c.a.label, 80)} (A)`,
    '',
    `**${mark} ${c.verdict}** — McNemar ${t.method === 'exact' ? 'exact binomial' : 'χ² with continuity correction'} test on ${c.testSet.examples} paired messages: B fixed ${c.changes.fixed.length}, broke ${c.changes.broken.length}; ${pValue(t.pValue)} (α = ${t.alpha}).`,
    '',
    '| metric | A | B | Δ |',
    '|---|---:|---:|---:|',
  )
  for (const m of c.overall) {
    const digits = m.metric.includes('ms') ? 2 : 3
    const delta = signed(m.delta, digits)
    // ▲ better, ▼ worse; only for a change visible at the printed precision
    const better = Number(delta) === 0 ? '' : m.delta > 0 === m.higherIsBetter ? ' ▲' : ' ▼'
    const fmt = digits === 2 ? (x: number) => x.toFixed(2) : m.metric === 'fallback rate' ? percent : score
    out.push(`| ${m.metric} | ${fmt(m.a)} | ${fmt(m.b)} | ${delta}${better} |`)
  }
  out.push('')
  if (c.mustPass) {
    const mp = c.mustPass
    out.push(
      `Must-pass: A ${mp.a.passed}/${mp.a.total}, B ${mp.b.passed}/${mp.b.total}${
        mp.newlyFailing.length > 0
          ? `; **newly failing:** ${mp.newlyFailing
              .slice(0, 5)
              .map((s) => `"${mdText(s, 60)}"`)
              .join(', ')}`
          : ''
      }.`,
      '',
    )
  }
  const regressions = c.perIntent.filter(
    (r) => r.status === 'broken' || r.status === 'regressed' || r.status === 'removed',
  )
  if (regressions.length > 0) {
    out.push(`**Regressed intents (${regressions.length}):**`, '', ...INTENT_HEADER)
    for (const r of regressions.slice(0, maxIntents)) out.push(intentRow(r))
    if (regressions.length > maxIntents) out.push(`| … ${regressions.length - maxIntents} more below | | | | | | |`)
    out.push('')
  } else {
    out.push('No intent regressed.', '')
  }

  const changed = c.perIntent.filter((r) => r.status !== 'unchanged')
  out.push(
    '<details>',
    `<summary>Per-intent changes (${changed.length} of ${c.perIntent.length} intents changed)</summary>`,
    '',
    ...INTENT_HEADER,
    ...changed.map(intentRow),
    '',
    '</details>',
    '',
  )
  const lists: Array<[string, Comparison['changes']['fixed']]> = [
    ['Broken (A right, B wrong)', c.changes.broken],
    ['Fixed (A wrong, B right)', c.changes.fixed],
    ['Changed but still wrong', c.changes.changedStillWrong],
  ]
  for (const [label, list] of lists) {
    if (list.length === 0) continue
    const shown = list.slice(0, maxChanges)
    out.push(
      '<details>',
      `<summary>${label}: ${list.length}${shown.length < list.length ? ` (${shown.length} shown)` : ''}</summary>`,
      '',
      '| text | gold | A | B |',
      '|---|---|---|---|',
      ...shown.map(
        (x) =>
          `| ${mdText(x.text, 90)} | ${mdCode(x.gold, 40)} | ${mdCode(x.a.intent, 40)} ${score(x.a.confidence)} | ${mdCode(x.b.intent, 40)} ${score(x.b.confidence)} |`,
      ),
      '',
      '</details>',
      '',
    )
  }
  return `${out.join('\n').trimEnd()}\n`
}
