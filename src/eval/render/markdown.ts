/**
 * Markdown rendering of an evaluation report, made for a pull-request comment: a short summary first (well under
 * 60 lines whatever the number of intents), then the detail folded into `<details>` blocks, with long lists capped
 * so the whole comment stays far below code hosts' size limits.
 * @module
 */
import { topConfusions } from '../metrics.js'
import { describeMustPassFailure } from '../must-pass.js'
import type { EvalReport } from '../types.js'
import { mdCode, mdText, ms, percent, score, signed } from './format.js'

export interface MarkdownOptions {
  /** Heading level of the title. Default 2. */
  headingLevel?: number
  /** Title; default names the model and the test set. */
  title?: string
  /** Rows in the error list. Default 30. */
  maxErrors?: number
  /** Confusion pairs listed. Default 20. */
  maxConfusions?: number
}

const NUMERIC_CELL = /^[-+]?[\d.,]+( %| ms| s)?$|^–$/

/** A GFM table; columns whose cells are all numbers are right-aligned. */
function table(header: string[], rows: string[][]): string[] {
  const align = header.map((_, i) => i > 0 && rows.length > 0 && rows.every((r) => NUMERIC_CELL.test(r[i] ?? '')))
  return [
    `| ${header.join(' | ')} |`,
    `|${align.map((right) => (right ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ]
}

function details(summary: string, body: string[]): string[] {
  return ['<details>', `<summary>${summary}</summary>`, '', ...body, '', '</details>', '']
}

/** The Markdown report. */
export function renderMarkdown(report: EvalReport, options: MarkdownOptions = {}): string {
  const h = '#'.repeat(options.headingLevel ?? 2)
  const maxErrors = options.maxErrors ?? 30
  const maxConfusions = options.maxConfusions ?? 20
  const out: string[] = []
  const name = report.model ? mdCode(report.model.name, 80) : 'model'
  const how =
    report.mode === 'cross-validation' && report.crossValidation
      ? `${report.crossValidation.folds}-fold cross-validation`
      : 'test set'
  out.push(
    `${h} ${options.title ?? `Evaluation of ${name}`}`,
    '',
    `${report.testSet.examples} messages, ${report.testSet.intents} intents, ${how}.`,
    '',
  )

  const rows: string[][] = [
    ['accuracy', score(report.intent.accuracy)],
    ['macro F1', score(report.intent.macroAvg.f1)],
    ['weighted F1', score(report.intent.weightedAvg.f1)],
  ]
  const fb = report.fallback
  rows.push([
    'fallback',
    `${percent(fb.rate)} of messages; ${fb.caught} caught a mistake, ${fb.lost} hid a right answer`,
  ])
  rows.push(['accuracy without fallback', score(fb.withoutFallback.accuracy)])
  rows.push(['calibration (ECE)', score(report.calibration.ece)])
  if (report.entities) {
    rows.push([
      'entity F1 (exact span / token)',
      `${score(report.entities.exact.micro.f1)} / ${score(report.entities.token.micro.f1)}`,
    ])
  }
  if (report.mustPass) {
    const mp = report.mustPass
    const mark = mp.failedRequired > 0 ? '❌' : '✅'
    const allowed = mp.allowedFailures > 0 ? ` (${mp.allowedFailures} allowed to fail)` : ''
    rows.push(['must-pass', `${mark} ${mp.passed}/${mp.total} passed${allowed}`])
  }
  if (report.latency) rows.push(['latency p50 / p99', `${ms(report.latency.p50Ms)} / ${ms(report.latency.p99Ms)} ms`])
  out.push(...table(['metric', 'value'], rows), '')

  const cv = report.crossValidation
  if (cv) {
    out.push(
      `Across folds: macro F1 ${score(cv.mean.macroF1)} ± ${score(cv.std.macroF1)}, accuracy ${score(cv.mean.accuracy)} ± ${score(cv.std.accuracy)}.`,
      '',
    )
  }

  const worst = Object.entries(report.intent.perLabel)
    .filter(([, m]) => m.support > 0)
    .sort((a, b) => a[1].f1 - b[1].f1 || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
  if (worst.length > 0) {
    out.push(`**Weakest intents:** ${worst.map(([l, m]) => `${mdCode(l, 60)} ${score(m.f1)}`).join(', ')}`, '')
  }
  const confusions = topConfusionPairs(report, maxConfusions)
  if (confusions.length > 0) {
    out.push(
      `**Most confused:** ${confusions
        .slice(0, 5)
        .map((c) => `${mdCode(c.gold, 40)} → ${mdCode(c.predicted, 40)} (${c.count})`)
        .join(', ')}`,
      '',
    )
  }
  const failures = report.mustPass?.results.filter((r) => !r.passed) ?? []
  if (failures.length > 0) {
    out.push('**Must-pass failures:**', '')
    for (const f of failures.slice(0, 5)) {
      const tag = f.allowFailure ? ' _(allowed)_' : ''
      out.push(`- "${mdText(f.text, 80)}": ${mdText(describeMustPassFailure(f.failures[0]!), 120)}${tag}`)
    }
    if (failures.length > 5) out.push(`- … and ${failures.length - 5} more below`)
    out.push('')
  }
  if (report.learningCurve && report.learningCurve.points.length > 1) {
    const pts = report.learningCurve.points
    const first = pts[0]!
    const last = pts[pts.length - 1]!
    const prev = pts[pts.length - 2]!
    out.push(
      `**Learning curve:** macro F1 ${score(first.macroF1)} with ${first.trainExamples} examples → ${score(last.macroF1)} with ${last.trainExamples} (last step ${signed(last.macroF1 - prev.macroF1)}).`,
      '',
    )
  }

  // ── details ──
  out.push(
    ...details(
      `Per-intent metrics (${report.intent.labels.length} intents)`,
      table(
        ['intent', 'precision', 'recall', 'F1', 'support', 'confused with'],
        Object.entries(report.intent.perLabel)
          .sort((a, b) => a[1].f1 - b[1].f1 || (a[0] < b[0] ? -1 : 1))
          .map(([label, m]) => [
            `${mdCode(label, 60)}`,
            score(m.precision),
            score(m.recall),
            score(m.f1),
            String(m.support),
            (report.intent.confusedWith[label] ?? [])
              .slice(0, 3)
              .map((c) => `${mdText(c.intent, 40)} (${c.count})`)
              .join(', '),
          ]),
      ),
    ),
  )
  if (confusions.length > 0) {
    out.push(
      ...details(
        `Most confused pairs (top ${confusions.length})`,
        table(
          ['gold', 'predicted', 'count'],
          confusions.map((c) => [`${mdCode(c.gold, 60)}`, `${mdCode(c.predicted, 60)}`, String(c.count)]),
        ),
      ),
    )
  }
  if (report.errors.length > 0) {
    const shown = report.errors.slice(0, maxErrors)
    out.push(
      ...details(
        `Errors (${report.errors.length}${report.errors.length > shown.length ? `, the ${shown.length} most confident shown` : ''})`,
        table(
          ['text', 'gold', 'predicted', 'confidence'],
          shown.map((e) => [
            mdText(e.text, 100),
            `${mdCode(e.gold, 40)}`,
            `${mdCode(e.predicted, 40)}`,
            score(e.confidence),
          ]),
        ),
      ),
    )
  }
  if (report.mustPass && report.mustPass.total > 0) {
    const mp = report.mustPass
    const listed = mp.results.filter((r) => !r.passed).slice(0, 100)
    out.push(
      ...details(
        `Must-pass sentences: ${mp.passed}/${mp.total} passed, ${mp.failedRequired} required failures`,
        listed.length === 0
          ? ['Every must-pass sentence passed.']
          : table(
              ['text', 'expected', 'got', 'problem', 'allowed'],
              listed.map((r) => [
                mdText(r.text, 80),
                `${mdCode(r.intent, 40)}`,
                `${mdCode(r.predicted, 40)} ${score(r.confidence)}`,
                r.failures.map((f) => mdText(describeMustPassFailure(f), 100)).join('; '),
                r.allowFailure ? 'yes' : 'no',
              ]),
            ),
      ),
    )
  }
  if (report.entities) {
    const e = report.entities
    out.push(
      ...details(
        `Entities (${e.entities.length} types, ${e.goldSpans} gold spans)`,
        table(
          ['entity', 'exact P', 'exact R', 'exact F1', 'token P', 'token R', 'token F1', 'support'],
          [
            ...e.entities.map((t) => {
              const x = e.exact.perEntity[t]!
              const k = e.token.perEntity[t]!
              return [
                `${mdCode(t, 40)}`,
                score(x.precision),
                score(x.recall),
                score(x.f1),
                score(k.precision),
                score(k.recall),
                score(k.f1),
                String(x.support),
              ]
            }),
            [
              '**micro**',
              score(e.exact.micro.precision),
              score(e.exact.micro.recall),
              score(e.exact.micro.f1),
              score(e.token.micro.precision),
              score(e.token.micro.recall),
              score(e.token.micro.f1),
              String(e.exact.micro.support),
            ],
          ],
        ),
      ),
    )
  }
  out.push(
    ...details('Fallback and calibration', [
      ...table(
        ['', 'with fallback', 'without fallback'],
        [
          ['accuracy', score(fb.withFallback.accuracy), score(fb.withoutFallback.accuracy)],
          ['macro F1', score(fb.withFallback.macroF1), score(fb.withoutFallback.macroF1)],
          ['weighted F1', score(fb.withFallback.weightedF1), score(fb.withoutFallback.weightedF1)],
        ],
      ),
      '',
      `Fallback (${mdCode(fb.intent, 40)}) answered ${fb.count} messages: ${fb.caught} would have been wrong or were out of scope (precision ${score(fb.precision)}), ${fb.lost} would have been right. It caught ${percent(fb.recall)} of the mistakes.${fb.outOfScope.total > 0 ? ` Out-of-scope messages: ${fb.outOfScope.fellBack}/${fb.outOfScope.total} fell back.` : ''}`,
      '',
      `Expected calibration error ${score(report.calibration.ece)}, maximum ${score(report.calibration.mce)}, Brier score ${score(report.calibration.brier)}.`,
      '',
      ...table(
        ['confidence', 'messages', 'mean confidence', 'accuracy'],
        report.calibration.bins
          .filter((b) => b.count > 0)
          .map((b) => [
            `${b.lower.toFixed(1)}–${b.upper.toFixed(1)}`,
            String(b.count),
            score(b.meanConfidence),
            score(b.accuracy),
          ]),
      ),
    ]),
  )
  if (cv) {
    out.push(
      ...details(
        `Folds (${cv.folds}, seed ${cv.seed})`,
        table(
          ['fold', 'train', 'test', 'accuracy', 'macro F1', 'weighted F1', 'training'],
          cv.perFold.map((f) => [
            String(f.fold + 1),
            String(f.trainExamples),
            String(f.testExamples),
            score(f.accuracy),
            score(f.macroF1),
            score(f.weightedF1),
            `${(f.trainingMs / 1000).toFixed(1)} s`,
          ]),
        ),
      ),
    )
  }
  if (report.learningCurve && report.learningCurve.points.length > 0) {
    const lc = report.learningCurve
    out.push(
      ...details(
        `Learning curve (evaluated on ${lc.evaluatedOn === 'test-set' ? 'the test set' : 'a stratified hold-out'}, ${lc.testExamples} messages)`,
        table(
          ['% of data', 'examples', 'accuracy', 'macro F1', 'weighted F1'],
          lc.points.map((p) => [
            `${p.percent} %`,
            String(p.trainExamples),
            score(p.accuracy),
            score(p.macroF1),
            score(p.weightedF1),
          ]),
        ),
      ),
    )
  }
  return `${out.join('\n').trimEnd()}\n`
}

/** Off-diagonal cells of the confusion matrix, largest first. */
export function topConfusionPairs(
  report: EvalReport,
  limit: number,
): Array<{ gold: string; predicted: string; count: number }> {
  const { labels, matrix } = report.intent.confusion
  return topConfusions(labels, matrix.flat(), limit).map((c) => ({
    gold: c.intent,
    predicted: c.predicted,
    count: c.count,
  }))
}

/** Lines of the Markdown before the first `<details>` block: what a reviewer sees without clicking. */
export function summaryLineCount(markdown: string): number {
  const i = markdown.indexOf('<details>')
  const head = i === -1 ? markdown : markdown.slice(0, i)
  return head.trimEnd().split('\n').length
}
