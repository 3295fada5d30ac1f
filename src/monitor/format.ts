/**
 * Plain-text tables of analytics results and drift reports, for the terminal.
 * @module
 */
import type { AnalyticsResult, NgramCount, TextSample } from './analytics.js'
import type { DriftReport } from './drift.js'

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

const day = (iso: string, bucket: 'hour' | 'day') =>
  bucket === 'hour' ? iso.slice(0, 16).replace('T', ' ') : iso.slice(0, 10)

function ngramTable(words: readonly NgramCount[], bigrams: readonly NgramCount[]): string {
  const n = Math.max(words.length, bigrams.length)
  const rows = Array.from({ length: n }, (_, i) => [
    words[i]?.ngram ?? '',
    words[i]?.count ?? '',
    bigrams[i]?.ngram ?? '',
    bigrams[i]?.count ?? '',
  ])
  return table(['word', 'count', 'bigram', 'count'], rows)
}

/** The result as text: a one-line heading with the range, then a table. */
export function formatAnalytics(r: AnalyticsResult): string {
  const { range } = r
  const filters = [
    range.intent && `intent ${range.intent}`,
    range.channel && `channel ${range.channel}`,
    range.modelVersion && `model version ${range.modelVersion}`,
  ].filter(Boolean)
  const head = `${range.from} .. ${range.to}${filters.length ? ` (${filters.join(', ')})` : ''}`
  switch (r.kind) {
    case 'intents':
      return `intents, ${head}: ${r.total} messages\n${table(
        ['intent', 'count', 'share'],
        r.intents.map((i) => [i.intent, i.count, pct(i.share)]),
      )}\n`
    case 'channels':
      return `channels, ${head}: ${r.total} messages\n${table(
        ['channel', 'count', 'share'],
        r.channels.map((c) => [c.channel, c.count, pct(c.share)]),
      )}\n`
    case 'rates':
      return `fallback ${pct(r.fallbackRate)}, confidence < ${r.threshold} ${pct(r.lowConfidenceRate)} of ${
        r.total
      } messages, ${head}\n${table(
        [range.bucket, 'messages', 'fallback', 'low confidence'],
        r.series.map((s) => [day(s.bucket, range.bucket), s.total, pct(s.fallbackRate), pct(s.lowConfidenceRate)]),
      )}\n`
    case 'latency': {
      const f = (x: number) => x.toFixed(1)
      return `latency (ms), ${head}: p50 ${f(r.p50)}, p90 ${f(r.p90)}, p95 ${f(r.p95)}, p99 ${f(r.p99)}, max ${f(
        r.max,
      )} over ${r.count} messages\n${table(
        [range.bucket, 'messages', 'p50', 'p95', 'p99', 'max'],
        r.series.map((s) => [day(s.bucket, range.bucket), s.count, f(s.p50), f(s.p95), f(s.p99), f(s.max)]),
      )}\n`
    }
    case 'corrections':
      return `live accuracy ${pct(r.liveAccuracy)}: reviewers corrected ${r.corrected} of ${r.reviewed} reviewed predictions, ${head}\n${table(
        ['predicted intent', 'reviewed', 'corrected', 'rate'],
        r.byIntent.map((i) => [i.intent, i.reviewed, i.corrected, pct(i.correctionRate)]),
      )}\n`
    case 'ngrams': {
      const parts = [`top words and bigrams, ${head}: ${sampleNote(r)}`, ngramTable(r.words, r.bigrams)]
      for (const i of r.byIntent.slice(0, 10)) {
        parts.push('', `${i.intent} (${i.messages} messages)`, ngramTable(i.words.slice(0, 5), i.bigrams.slice(0, 5)))
      }
      return `${parts.join('\n')}\n`
    }
    case 'emerging':
      return `emerging n-grams, ${head}: ${sampleNote(r)} against ${r.trainingExamples} training examples\n${table(
        ['n-gram', 'count', 'per 1000', 'in training', 'lift'],
        r.items.map((i) => [i.ngram, i.count, i.perThousand.toFixed(1), i.trainingCount, i.lift.toFixed(1)]),
      )}\n`
  }
}

/** The drift report as text: one line per check, then the verdict. */
export function formatDrift(r: DriftReport): string {
  const lines = [
    `drift: ${r.recent.label} (${r.recent.size} messages) against ${r.reference.label} (${r.reference.size})`,
  ]
  for (const c of r.checks) lines.push(`  ${c.status.toUpperCase().padEnd(7)} ${c.name.padEnd(20)} ${c.message}`)
  lines.push(r.passed ? 'no drift' : `${r.failed.length} check(s) failed: ${r.failed.join(', ')}`)
  return `${lines.join('\n')}\n`
}

function sampleNote(r: TextSample): string {
  return r.sampled
    ? `${r.messages} messages (counts estimated from a sample of ${r.sampleSize} spread over the range)`
    : `${r.messages} messages`
}
