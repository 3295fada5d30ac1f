/**
 * Analytics over the prediction log. Counts, rates and latency read the hourly rollups the store keeps
 * (`prediction_rollups`, see store/rollups.ts): whole hours of the range come from there, summed by the database, and
 * the partial hours at the range's edges from the raw rows, so counts equal a raw count exactly. Word counts need the
 * tokenizer and run here, over the whole range or, past a cap, a uniform sample of it. Predictions deleted by review (junk, PII) never count. Every
 * function returns plain JSON, shared by the CLI (`intentops analytics`), the HTTP API (`/v1/analytics/...`) and the
 * chart specs in `charts.ts`.
 * @module
 */
import { type Kysely, type SelectQueryBuilder, sql } from 'kysely'
import { messageText, type TrainingData } from '../data/types.js'
import { createError } from '../errors.js'
import type { ConfusionMatrix } from '../eval/types.js'
import { ENGLISH_STOP_WORDS } from '../nlu/stop-words.js'
import { TextScanner } from '../nlu/tokenizer.js'
import type { StoreDialect } from '../store/kysely-store.js'
import {
  CONFIDENCE_BINS,
  ceilHour,
  confColumn,
  confidenceBin,
  countedPrediction,
  floorHour,
  HOUR_MS,
  LAT_COLUMNS,
  LATENCY_BINS,
  LATENCY_RELATIVE_ERROR,
  latencyBinValue,
  ROLLUP_SOURCE_COLUMNS,
  ROLLUP_TABLE,
  RollupAccumulator,
  type RollupCell,
  type RollupSourceRow,
} from '../store/rollups.js'
import type { StoreDatabase } from '../store/schema.js'

/** What analytics read: a Kysely instance over the store tables and its dialect (a `KyselyPredictionStore` is one). */
export interface AnalyticsSource {
  readonly db: Kysely<StoreDatabase>
  readonly dialect: StoreDialect
}

export type Bucket = 'hour' | 'day'

export const BUCKET_MS: Readonly<Record<Bucket, number>> = Object.freeze({ hour: 3_600_000, day: 86_400_000 })

/** Which predictions to look at. Times are epoch ms: `from` inclusive, `to` exclusive. */
export interface AnalyticsQuery {
  from?: number
  to?: number
  bucket?: Bucket
  intent?: string
  channel?: string
  modelVersion?: string
}

/** The resolved range every result echoes, so a chart or a table can say what it shows. */
export interface AnalyticsRange {
  from: string
  to: string
  bucket: Bucket
  intent?: string
  channel?: string
  modelVersion?: string
}

/** Default range: the last 7 days, by day. */
export const DEFAULT_RANGE_MS = 7 * BUCKET_MS.day

interface Resolved {
  from: number
  to: number
  bucket: Bucket
  bucketMs: number
  q: AnalyticsQuery
  range: AnalyticsRange
}

function resolve(q: AnalyticsQuery, now: number): Resolved {
  const to = q.to ?? now
  const from = q.from ?? to - DEFAULT_RANGE_MS
  const bucket = q.bucket ?? 'day'
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw createError('ERR_ANALYTICS_RANGE', {
      from: Number.isFinite(from) ? new Date(from).toISOString() : String(from),
      to: Number.isFinite(to) ? new Date(to).toISOString() : String(to),
      detail: 'from must be before to',
    })
  }
  if (!(bucket in BUCKET_MS)) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: `bucket must be hour or day, got "${bucket}"` })
  }
  const bucketMs = BUCKET_MS[bucket]
  if ((to - from) / bucketMs > MAX_BUCKETS) {
    throw createError('ERR_ANALYTICS_RANGE', {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      detail: `more than ${MAX_BUCKETS} ${bucket} buckets`,
    })
  }
  const range: AnalyticsRange = {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    bucket,
    ...(q.intent !== undefined ? { intent: q.intent } : {}),
    ...(q.channel !== undefined ? { channel: q.channel } : {}),
    ...(q.modelVersion !== undefined ? { modelVersion: q.modelVersion } : {}),
  }
  return { from, to, bucket, bucketMs, q, range }
}

/** Enough for a year by hour; bounds the size of any series an HTTP client can ask for. */
export const MAX_BUCKETS = 24 * 366

type PredictionsQuery<O> = SelectQueryBuilder<StoreDatabase, 'predictions', O>

function filtered<O>(qb: PredictionsQuery<O>, r: Resolved, from = r.from, to = r.to): PredictionsQuery<O> {
  let out = qb.where('ts', '>=', from).where('ts', '<', to).where(countedPrediction())
  if (r.q.intent !== undefined) out = out.where('intent', '=', r.q.intent)
  if (r.q.channel !== undefined) out = out.where('channel', '=', r.q.channel)
  if (r.q.modelVersion !== undefined) out = out.where('model_version', '=', r.q.modelVersion)
  return out
}

/** Start of the UTC bucket of `ts`, computed by the database (integer arithmetic, the same on both backends). */
function bucketExpr(bucketMs: number) {
  return sql<number>`(ts - (ts % ${sql.lit(bucketMs)}))`
}

// biome-ignore lint/suspicious/noExplicitAny: rows of caller-built aggregations, read by column name
type AggregateRow = Record<string, any>

function keyOrder(a: AggregateRow, b: AggregateRow, keys: readonly string[]): number {
  for (const k of keys) {
    if (a[k] < b[k]) return -1
    if (a[k] > b[k]) return 1
  }
  return 0
}

/** One aggregate: its SQL over rollup rows (summed unless `max`) and the same over a cell built from raw rows. */
interface Measure {
  sql: string
  cell: (c: RollupCell) => number
  max?: boolean
}

type Dimension = 'intent' | 'channel'

const cellKey: Record<Dimension, (c: RollupCell) => string> = {
  intent: (c) => c.intent,
  channel: (c) => c.channel,
}

/**
 * Aggregates `measures` over the range by time bucket and `keys`. Whole hours come from the rollup table, grouped by
 * the database (a 30-day range is tens of thousands of rollup rows, not a million predictions); the partial hours at
 * either edge are read raw and binned here with the rollups' own code, then both are added up.
 */
async function aggregateRollups(
  src: AnalyticsSource,
  r: Resolved,
  measures: Readonly<Record<string, Measure>>,
  keys: readonly Dimension[],
): Promise<Array<AggregateRow & { bucket: number }>> {
  const out = new Map<string, AggregateRow & { bucket: number }>()
  const names = Object.keys(measures)
  const merge = (row: AggregateRow & { bucket: number }) => {
    const id = [row.bucket, ...keys.map((k) => row[k])].join('\u0000')
    const have = out.get(id)
    if (!have) {
      out.set(id, row)
      return
    }
    for (const m of names) have[m] = measures[m]!.max ? Math.max(have[m], row[m]) : have[m] + row[m]
  }
  const wholeFrom = ceilHour(r.from)
  const wholeTo = floorHour(r.to)
  const edges: Array<[number, number]> = []
  if (wholeFrom < wholeTo) {
    if (r.from < wholeFrom) edges.push([r.from, wholeFrom])
    if (wholeTo < r.to) edges.push([wholeTo, r.to])
    // biome-ignore lint/suspicious/noExplicitAny: the rollup table's columns are generated (rollups.ts)
    const db = src.db as unknown as Kysely<any>
    let q = db
      .selectFrom(ROLLUP_TABLE)
      .select([
        sql<number>`(hour - (hour % ${sql.lit(r.bucketMs)}))`.as('bucket'),
        ...keys,
        ...names.map((m) => sql.raw(measures[m]!.max ? `max(${measures[m]!.sql})` : `sum(${measures[m]!.sql})`).as(m)),
      ])
      .where('hour', '>=', wholeFrom)
      .where('hour', '<', wholeTo)
    if (r.q.intent !== undefined) q = q.where('intent', '=', r.q.intent)
    if (r.q.channel !== undefined) q = q.where('channel', '=', r.q.channel)
    if (r.q.modelVersion !== undefined) q = q.where('model_version', '=', r.q.modelVersion)
    const rows = await q.groupBy([sql.ref('bucket'), ...keys.map((k) => sql.ref(k))]).execute()
    for (const row of rows) {
      const x: AggregateRow & { bucket: number } = { bucket: Number(row.bucket) }
      for (const k of keys) x[k] = row[k]
      for (const m of names) x[m] = Number(row[m])
      merge(x)
    }
  } else {
    edges.push([r.from, r.to])
  }
  for (const [from, to] of edges) {
    const acc = new RollupAccumulator()
    const raw = await filtered(
      src.db.selectFrom('predictions').select([...ROLLUP_SOURCE_COLUMNS]),
      r,
      from,
      to,
    ).execute()
    for (const row of raw) acc.add(row as RollupSourceRow)
    for (const c of acc.cells.values()) {
      const x: AggregateRow & { bucket: number } = { bucket: c.hour - (c.hour % r.bucketMs) }
      for (const k of keys) x[k] = cellKey[k](c)
      for (const m of names) x[m] = measures[m]!.cell(c)
      merge(x)
    }
  }
  return [...out.values()]
    .filter((row) => Number(row.count) > 0)
    .sort((a, b) => a.bucket - b.bucket || keyOrder(a, b, keys))
}

const COUNT: Measure = { sql: 'n', cell: (c) => c.n }

const iso = (ms: number) => new Date(Number(ms)).toISOString()
const share = (part: number, total: number) => (total === 0 ? 0 : part / total)

// ── intent distribution ──────────────────────────────────────────────────────

export interface IntentDistribution {
  kind: 'intents'
  range: AnalyticsRange
  total: number
  /** Every intent in the range, most frequent first. */
  intents: Array<{ intent: string; count: number; share: number }>
  /** Counts per bucket and intent; buckets without predictions are absent. */
  series: Array<{ bucket: string; intent: string; count: number }>
}

/** Predicted intents over time. */
export async function intentDistribution(
  src: AnalyticsSource,
  query: AnalyticsQuery = {},
  now = Date.now(),
): Promise<IntentDistribution> {
  const r = resolve(query, now)
  const rows = await aggregateRollups(src, r, { count: COUNT }, ['intent'])
  const series = rows.map((x) => ({ bucket: iso(x.bucket), intent: String(x.intent), count: Number(x.count) }))
  const { total, items } = totalsBy(series, (s) => s.intent)
  return {
    kind: 'intents',
    range: r.range,
    total,
    intents: items.map(([intent, count]) => ({ intent, count, share: share(count, total) })),
    series,
  }
}

function totalsBy<T extends { count: number }>(
  rows: readonly T[],
  key: (row: T) => string,
): { total: number; items: Array<[string, number]> } {
  const m = new Map<string, number>()
  let total = 0
  for (const row of rows) {
    m.set(key(row), (m.get(key(row)) ?? 0) + row.count)
    total += row.count
  }
  return { total, items: [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)) }
}

// ── volume by channel ────────────────────────────────────────────────────────

export interface ChannelVolume {
  kind: 'channels'
  range: AnalyticsRange
  total: number
  channels: Array<{ channel: string; count: number; share: number }>
  series: Array<{ bucket: string; channel: string; count: number }>
}

/** Message volume per channel over time. */
export async function channelVolume(
  src: AnalyticsSource,
  query: AnalyticsQuery = {},
  now = Date.now(),
): Promise<ChannelVolume> {
  const r = resolve(query, now)
  const rows = await aggregateRollups(src, r, { count: COUNT }, ['channel'])
  const series = rows.map((x) => ({ bucket: iso(x.bucket), channel: String(x.channel), count: Number(x.count) }))
  const { total, items } = totalsBy(series, (s) => s.channel)
  return {
    kind: 'channels',
    range: r.range,
    total,
    channels: items.map(([channel, count]) => ({ channel, count, share: share(count, total) })),
    series,
  }
}

// ── fallback and low-confidence rates ────────────────────────────────────────

export interface RateCounts {
  total: number
  fallback: number
  lowConfidence: number
  fallbackRate: number
  lowConfidenceRate: number
}

export interface Rates extends RateCounts {
  kind: 'rates'
  range: AnalyticsRange
  /** Predictions below this confidence count as low-confidence (`monitor.lowConfidence`). */
  threshold: number
  series: Array<{ bucket: string } & RateCounts>
}

/** Fallback rate and low-confidence rate, overall and per bucket. */
export async function rates(
  src: AnalyticsSource,
  query: AnalyticsQuery & { lowConfidence: number },
  now = Date.now(),
): Promise<Rates> {
  const r = resolve(query, now)
  const threshold = query.lowConfidence
  if (!Number.isFinite(threshold)) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: `low-confidence threshold must be a number, got ${threshold}` })
  }
  // The rollups hold confidence in bins of 0.05. Every bin below the threshold's bin counts whole, from them; of the
  // threshold's own bin only the rows under it do, counted raw: a confidence band of at most 0.05, none on a bin edge.
  const k = confidenceBin(threshold)
  const lowBins = Array.from({ length: k }, (_, b) => b)
  const rows = await aggregateRollups(
    src,
    r,
    {
      count: COUNT,
      fallback: { sql: 'fallback_n', cell: (c) => c.fallback },
      low: {
        sql: k === 0 ? '0' : lowBins.map(confColumn).join(' + '),
        cell: (c) => lowBins.reduce((a, b) => a + c.conf[b]!, 0),
      },
    },
    [],
  )
  const binFloor = k === 0 ? undefined : k / CONFIDENCE_BINS
  if (binFloor === undefined || threshold > binFloor) {
    // `reviewed in (0, 1)` and `fallback in (0, 1)` hold for every row; they let the fallback-order inbox index
    // (reviewed, fallback desc, confidence, id), or with an intent (intent, reviewed, fallback desc, …), serve the
    // band as four range scans.
    let band = src.db
      .selectFrom('predictions')
      .select([bucketExpr(r.bucketMs).as('bucket'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('reviewed', 'in', [0, 1])
      .where('fallback', 'in', [0, 1])
      .where('confidence', '<', threshold)
    if (binFloor !== undefined) band = band.where('confidence', '>=', binFloor)
    const extra = new Map<number, number>()
    for (const row of await filtered(band, r).groupBy(sql.ref('bucket')).execute()) {
      extra.set(Number(row.bucket), Number(row.n))
    }
    for (const row of rows) row.low = Number(row.low) + (extra.get(row.bucket) ?? 0)
  }
  const counts = (total: number, fallback: number, low: number): RateCounts => ({
    total,
    fallback,
    lowConfidence: low,
    fallbackRate: share(fallback, total),
    lowConfidenceRate: share(low, total),
  })
  const series = rows.map((x) => ({
    bucket: iso(x.bucket),
    ...counts(Number(x.count), Number(x.fallback), Number(x.low)),
  }))
  const sum = (f: (s: RateCounts) => number) => series.reduce((acc, s) => acc + f(s), 0)
  return {
    kind: 'rates',
    range: r.range,
    threshold,
    ...counts(
      sum((s) => s.total),
      sum((s) => s.fallback),
      sum((s) => s.lowConfidence),
    ),
    series,
  }
}

// ── latency percentiles ──────────────────────────────────────────────────────

export interface LatencyStats {
  count: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
}

export interface Latency extends LatencyStats {
  kind: 'latency'
  range: AnalyticsRange
  /** Largest relative error of a percentile (log-scale histogram, see store/rollups.ts); count, mean and max are exact. */
  relativeError: number
  series: Array<{ bucket: string } & LatencyStats>
}

/** A latency histogram in the rollups' log-scale bins, with the exact count, sum and maximum. */
export interface LatencyHistogram {
  count: number
  sum: number
  max: number
  bins: readonly number[]
}

const LATENCY_MEASURES: Readonly<Record<string, Measure>> = Object.freeze({
  count: COUNT,
  sum: { sql: 'lat_sum', cell: (c) => c.latSum },
  max: { sql: 'lat_max', cell: (c) => c.latMax, max: true },
  ...Object.fromEntries(LAT_COLUMNS.map((col, b) => [col, { sql: col, cell: (c: RollupCell) => c.lat[b]! }])),
})

/**
 * Latency percentiles (nearest rank over the rollups' log-scale histogram, each within `relativeError` of the exact
 * value), overall and per bucket.
 */
export async function latency(src: AnalyticsSource, query: AnalyticsQuery = {}, now = Date.now()): Promise<Latency> {
  const r = resolve(query, now)
  const rows = await aggregateRollups(src, r, LATENCY_MEASURES, [])
  const all: LatencyHistogram = { count: 0, sum: 0, max: 0, bins: new Array<number>(LATENCY_BINS).fill(0) }
  const series = rows.map((row) => {
    const h: LatencyHistogram = {
      count: Number(row.count),
      sum: Number(row.sum),
      max: Number(row.max),
      bins: LAT_COLUMNS.map((col) => Number(row[col])),
    }
    all.max = all.count === 0 ? h.max : Math.max(all.max, h.max)
    all.count += h.count
    all.sum += h.sum
    for (let b = 0; b < LATENCY_BINS; b++) (all.bins as number[])[b]! += h.bins[b]!
    return { bucket: iso(row.bucket), ...latencyStats(h) }
  })
  return { kind: 'latency', range: r.range, relativeError: LATENCY_RELATIVE_ERROR, ...latencyStats(all), series }
}

/** Nearest-rank percentiles from a histogram: the rank is exact, the value is its bin's middle (at most the max). */
export function latencyStats(h: LatencyHistogram): LatencyStats {
  const at = (p: number) => {
    if (h.count === 0) return 0
    const rank = Math.max(1, Math.ceil(p * h.count))
    let seen = 0
    for (let b = 0; b < h.bins.length; b++) {
      seen += h.bins[b]!
      if (seen >= rank) return Math.min(h.max, latencyBinValue(b))
    }
    return h.max
  }
  return {
    count: h.count,
    mean: h.count === 0 ? 0 : h.sum / h.count,
    p50: at(0.5),
    p90: at(0.9),
    p95: at(0.95),
    p99: at(0.99),
    max: h.max,
  }
}

// ── corrections and live accuracy ────────────────────────────────────────────

export interface Corrections {
  kind: 'corrections'
  range: AnalyticsRange
  /** Predictions in the range with a human label (the latest review; deleted ones excluded). */
  reviewed: number
  /** Of those, how many humans labelled differently from the model. */
  corrected: number
  correctionRate: number
  /** 1 − correction rate: accuracy of the model on reviewed traffic. */
  liveAccuracy: number
  /** Per predicted intent, most corrected first. */
  byIntent: Array<{ intent: string; reviewed: number; corrected: number; correctionRate: number }>
  /** Rows: the human label ("gold"); columns: the model's prediction. */
  confusion: ConfusionMatrix
}

/**
 * Correction rate by intent and the confusion matrix of model predictions against human labels. Reviewed traffic is
 * not a random sample (the inbox shows uncertain predictions first), so live accuracy is a lower bound in practice.
 */
export async function corrections(
  src: AnalyticsSource,
  query: AnalyticsQuery = {},
  now = Date.now(),
): Promise<Corrections> {
  const r = resolve(query, now)
  const rows = await filtered(
    src.db
      .selectFrom('predictions')
      .select(['intent', 'label', (eb) => eb.fn.countAll<number>().as('count')])
      .where('reviewed', '=', 1)
      .where('label', 'is not', null),
    r,
  )
    .groupBy(['intent', 'label'])
    .execute()
  const perIntent = new Map<string, { reviewed: number; corrected: number }>()
  const labels = new Set<string>()
  let reviewed = 0
  let corrected = 0
  for (const row of rows) {
    const label = row.label as string
    const count = Number(row.count)
    labels.add(row.intent)
    labels.add(label)
    const s = perIntent.get(row.intent) ?? { reviewed: 0, corrected: 0 }
    s.reviewed += count
    reviewed += count
    if (label !== row.intent) {
      s.corrected += count
      corrected += count
    }
    perIntent.set(row.intent, s)
  }
  const sortedLabels = [...labels].sort()
  const pos = new Map(sortedLabels.map((l, i) => [l, i]))
  const matrix = sortedLabels.map(() => new Array<number>(sortedLabels.length).fill(0))
  for (const row of rows) matrix[pos.get(row.label as string)!]![pos.get(row.intent)!]! += Number(row.count)
  return {
    kind: 'corrections',
    range: r.range,
    reviewed,
    corrected,
    correctionRate: share(corrected, reviewed),
    liveAccuracy: reviewed === 0 ? 0 : 1 - corrected / reviewed,
    byIntent: [...perIntent]
      .map(([intent, s]) => ({ intent, ...s, correctionRate: share(s.corrected, s.reviewed) }))
      .sort((a, b) => b.correctionRate - a.correctionRate || b.reviewed - a.reviewed || (a.intent < b.intent ? -1 : 1)),
    confusion: { labels: sortedLabels, matrix },
  }
}

// ── words and bigrams ────────────────────────────────────────────────────────

/**
 * Word counting reads at most this many messages of the range; a range holding more is sampled uniformly over its
 * whole span and the counts are scaled up (the result says so).
 */
export const DEFAULT_MAX_MESSAGES = 100_000

export interface NgramCount {
  ngram: string
  count: number
}

/** How the messages of a word count were read. */
export interface TextSample {
  /** Messages in the range (exact, from the rollups). */
  messages: number
  /** Messages read and tokenized: all of them, or a sample when the range holds more than `maxMessages`. */
  sampleSize: number
  /** True when sampled: every count (and per-intent `messages`) is then an estimate for the whole range. */
  sampled: boolean
}

export interface TopNgrams extends TextSample {
  kind: 'ngrams'
  range: AnalyticsRange
  words: NgramCount[]
  bigrams: NgramCount[]
  /** The same per predicted intent (most frequent intents first); `messages` estimated when sampled. */
  byIntent: Array<{ intent: string; messages: number; words: NgramCount[]; bigrams: NgramCount[] }>
}

/**
 * The engine's list leaves out words that often carry an intent ("not", "my", "how"); top-word lists are for people
 * reading what users talk about, so those go too.
 */
const STOP = new Set([...ENGLISH_STOP_WORDS, 'my', 'not', 'no', 'how', 'can', 'will', 'just', 'also', 'please'])

/**
 * Counts words and bigrams of texts with stop words removed. A bigram is two adjacent tokens of the text, neither a
 * stop word, so removing stop words never glues together words that were apart. Tokens without a letter (numbers,
 * redaction masks' digits) are skipped too.
 */
export class NgramCounter {
  readonly words = new Map<string, number>()
  readonly bigrams = new Map<string, number>()
  messages = 0
  private readonly scanner = new TextScanner()
  /** Per distinct token: counted or skipped, so the stop-word and letter tests run once per word, not per use. */
  private readonly keep = new Map<string, boolean>()

  /** Count one text `weight` times (a group of identical messages, scaled up when they are a sample). */
  add(text: string, weight = 1): void {
    const n = this.scanner.scan(text)
    let prev: string | undefined
    for (let t = 0; t < n; t++) {
      const tok = this.scanner.tokenText(t)
      let ok = this.keep.get(tok)
      if (ok === undefined) {
        ok = !STOP.has(tok) && /\p{L}/u.test(tok)
        this.keep.set(tok, ok)
      }
      if (!ok) {
        prev = undefined
        continue
      }
      this.words.set(tok, (this.words.get(tok) ?? 0) + weight)
      if (prev !== undefined) {
        const bg = `${prev} ${tok}`
        this.bigrams.set(bg, (this.bigrams.get(bg) ?? 0) + weight)
      }
      prev = tok
    }
    this.messages += weight
  }
}

export function topCounts(m: ReadonlyMap<string, number>, limit: number): NgramCount[] {
  return [...m]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([ngram, count]) => ({ ngram, count: Math.round(count) }))
}

/** A stretch of one hour of the range, and how many of its first messages (by time) the sample reads. */
interface Slice {
  hour: number
  from: number
  to: number
  take: number
}

/** The sample is read in about this many slices of the range, at most this many per hour. */
const SAMPLE_SLICES = 2000
const MAX_SLICES_PER_HOUR = 60
/** Slices per SQLite statement, plus the rest of the last hour (a compound select holds at most 500 terms). */
const SLICES_PER_QUERY = 400

/**
 * Where a sample of `max` messages is read from: each hour of the range gets a quota proportional to its count
 * (systematic allocation over the running total, so the quotas add up to `max`), spread evenly over sub-slices of the
 * hour. Every slice is an index range on `ts` read in time order up to its quota: cheap and deterministic.
 */
export function sampleSlices(
  hours: ReadonlyArray<{ hour: number; from: number; to: number; count: number }>,
  max: number,
): Slice[] {
  const total = hours.reduce((a, h) => a + h.count, 0)
  const perHour = Math.max(1, Math.min(MAX_SLICES_PER_HOUR, Math.round(SAMPLE_SLICES / Math.max(1, hours.length))))
  const slices: Slice[] = []
  let seen = 0
  for (const h of hours) {
    const before = Math.floor((seen * max) / total)
    seen += h.count
    const quota = Math.floor((seen * max) / total) - before
    if (quota <= 0) continue
    const parts = Math.min(perHour, quota)
    const width = (h.to - h.from) / parts
    for (let k = 0; k < parts; k++) {
      const from = k === 0 ? h.from : Math.floor(h.from + k * width)
      const to = k === parts - 1 ? h.to : Math.floor(h.from + (k + 1) * width)
      const take = Math.floor(((k + 1) * quota) / parts) - Math.floor((k * quota) / parts)
      if (to > from && take > 0) slices.push({ hour: h.hour, from, to, take })
    }
  }
  return slices
}

/**
 * Feeds the messages of the range to `onText`, identical (text, intent) pairs grouped by the database so each
 * distinct text is tokenized once. A range of at most `maxMessages` is read whole; a larger one is sampled over its
 * whole span ({@link sampleSlices}), each message read standing for `messages / maxMessages` of the range, so the
 * counts estimate the whole range.
 */
async function readTexts(
  src: AnalyticsSource,
  r: Resolved,
  maxMessages: number,
  onText: (text: string, intent: string, weight: number) => void,
): Promise<TextSample> {
  // Per-hour counts: whole hours from the rollups, the partial edge hours from raw rows (exact either way).
  const counts = await aggregateRollups(src, { ...r, bucketMs: HOUR_MS }, { count: COUNT }, [])
  const hours = counts.map((c) => ({
    hour: c.bucket,
    from: Math.max(c.bucket, r.from),
    to: Math.min(c.bucket + HOUR_MS, r.to),
    count: Number(c.count),
  }))
  const messages = hours.reduce((a, h) => a + h.count, 0)
  if (messages <= maxMessages) {
    const rows = await filtered(
      src.db.selectFrom('predictions').select(['text', 'intent', (eb) => eb.fn.countAll<number>().as('n')]),
      r,
    )
      .groupBy(['text', 'intent'])
      .execute()
    let read = 0
    for (const row of rows) {
      onText(row.text, row.intent, Number(row.n))
      read += Number(row.n)
    }
    return { messages, sampleSize: read, sampled: false }
  }
  const slices = sampleSlices(hours, maxMessages)
  const quota = new Map<number, number>()
  for (const x of slices) quota.set(x.hour, (quota.get(x.hour) ?? 0) + x.take)
  // Each message read stands for messages/maxMessages of the range; an hour whose slices held fewer messages than
  // their quotas (traffic bunched within the hour) weighs its messages up to the quota. The database sums the
  // weights per distinct (text, intent), so each distinct text is tokenized once here.
  const scale = sql.lit(messages / maxMessages)
  const weight = sql`hq * 1.0 * ${scale} / count(*) over (partition by hour)`
  type Row = { text: string; intent: string; n: number; weight: number }
  const rows: Row[] = []
  if (src.dialect === 'postgres') {
    // One statement: the slices as a VALUES list, each read through a LATERAL index range scan.
    const values = sql.join(
      slices.map(
        (x) => sql`(${sql.lit(x.hour)}, ${sql.lit(quota.get(x.hour)!)}, ${sql.lit(x.from)}, ${sql.lit(x.to)},
          ${sql.lit(x.take)})`,
      ),
    )
    const res = await sql<Row>`select text, intent, count(*) as n, sum(w) as weight from (select p.text, p.intent,
      ${weight} as w from (values ${values}) as s(hour, hq, lo, hi, take) cross join lateral (select text, intent
      from predictions where ts >= s.lo and ts < s.hi${sliceWhere(r)} order by ts, id limit s.take) p) x
      group by text, intent`.execute(src.db)
    rows.push(...res.rows)
  } else {
    // Compound selects of whole hours (at most 500 terms each), so the window counts an hour's reads in one place.
    const batches: Slice[][] = [[]]
    for (const x of slices) {
      const last = batches[batches.length - 1]!
      if (last.length >= SLICES_PER_QUERY && last[last.length - 1]!.hour !== x.hour) batches.push([x])
      else last.push(x)
    }
    for (const batch of batches.filter((b) => b.length > 0)) {
      const parts = batch.map(
        (x) => sql`select ${sql.lit(x.hour)} as hour, ${sql.lit(quota.get(x.hour)!)} as hq, text, intent from (select
          text, intent from predictions where ts >= ${sql.lit(x.from)} and ts < ${sql.lit(x.to)}${sliceWhere(r)}
          order by ts, id limit ${sql.lit(x.take)})`,
      )
      const res = await sql<Row>`select text, intent, count(*) as n, sum(w) as weight from (select text, intent,
        ${weight} as w from (${sql.join(parts, sql` union all `)})) group by text, intent`.execute(src.db)
      rows.push(...res.rows)
    }
  }
  const merged = new Map<string, Row>()
  let sampleSize = 0
  for (const row of rows) {
    sampleSize += Number(row.n)
    const key = `${row.text}\u0000${row.intent}`
    const have = merged.get(key)
    if (have) have.weight += Number(row.weight)
    else merged.set(key, { ...row, weight: Number(row.weight) })
  }
  for (const row of merged.values()) onText(row.text, row.intent, row.weight)
  return { messages, sampleSize, sampled: true }
}

/** The query's filters besides time, as SQL appended to a slice's `where` (deleted predictions never count). */
function sliceWhere(r: Resolved) {
  const parts = [sql` and ${countedPrediction()}`]
  if (r.q.intent !== undefined) parts.push(sql` and intent = ${r.q.intent}`)
  if (r.q.channel !== undefined) parts.push(sql` and channel = ${r.q.channel}`)
  if (r.q.modelVersion !== undefined) parts.push(sql` and model_version = ${r.q.modelVersion}`)
  return sql.join(parts, sql``)
}

function maxMessagesOf(max: number | undefined): number {
  const m = max ?? DEFAULT_MAX_MESSAGES
  if (!Number.isInteger(m) || m < 1) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: `maxMessages must be a positive integer, got ${m}` })
  }
  return m
}

/**
 * Top words and bigrams, stop words removed, overall and per predicted intent. Over more than `maxMessages` messages
 * the counts are estimates from a uniform sample of the range (`sampled`, `sampleSize`).
 */
export async function topNgrams(
  src: AnalyticsSource,
  query: AnalyticsQuery & { limit?: number; maxMessages?: number } = {},
  now = Date.now(),
): Promise<TopNgrams> {
  const r = resolve(query, now)
  const limit = query.limit ?? 20
  const overall = new NgramCounter()
  const per = new Map<string, NgramCounter>()
  const sample = await readTexts(src, r, maxMessagesOf(query.maxMessages), (text, intent, n) => {
    overall.add(text, n)
    let c = per.get(intent)
    if (!c) {
      c = new NgramCounter()
      per.set(intent, c)
    }
    c.add(text, n)
  })
  return {
    kind: 'ngrams',
    range: r.range,
    ...sample,
    words: topCounts(overall.words, limit),
    bigrams: topCounts(overall.bigrams, limit),
    byIntent: [...per]
      .sort((a, b) => b[1].messages - a[1].messages || (a[0] < b[0] ? -1 : 1))
      .map(([intent, c]) => ({
        intent,
        messages: Math.round(c.messages),
        words: topCounts(c.words, limit),
        bigrams: topCounts(c.bigrams, limit),
      })),
  }
}

// ── emerging n-grams ─────────────────────────────────────────────────────────

export interface EmergingNgram {
  ngram: string
  /** 1 for words, 2 for bigrams. */
  n: 1 | 2
  count: number
  /** Occurrences per 1000 recent messages. */
  perThousand: number
  trainingCount: number
  /** How many times more frequent (per message) than in the training data, with add-one smoothing. */
  lift: number
}

export interface EmergingNgrams extends TextSample {
  kind: 'emerging'
  range: AnalyticsRange
  trainingExamples: number
  items: EmergingNgram[]
}

/**
 * Emerging n-grams: frequent in the range, rare in the training data. Scored by smoothed lift (recent rate over
 * training rate, each per message, with one extra occurrence on both sides), among n-grams seen at least `minCount`
 * times; ties broken by count.
 */
export async function emergingNgrams(
  src: AnalyticsSource,
  training: TrainingData,
  query: AnalyticsQuery & { limit?: number; minCount?: number; maxMessages?: number } = {},
  now = Date.now(),
): Promise<EmergingNgrams> {
  const r = resolve(query, now)
  const recent = new NgramCounter()
  const sample = await readTexts(src, r, maxMessagesOf(query.maxMessages), (t, _i, n) => recent.add(t, n))
  const train = new NgramCounter()
  for (const ex of training.examples) train.add(messageText(ex))
  return {
    kind: 'emerging',
    range: r.range,
    ...sample,
    trainingExamples: train.messages,
    items: emerging(recent, train, { limit: query.limit ?? 20, minCount: query.minCount ?? 3 }),
  }
}

/** The scoring of {@link emergingNgrams}, on two counters. */
export function emerging(
  recent: NgramCounter,
  training: NgramCounter,
  options: { limit: number; minCount: number },
): EmergingNgram[] {
  const items: EmergingNgram[] = []
  const rm = Math.max(1, recent.messages)
  const tm = Math.max(1, training.messages)
  for (const [n, counts, trainCounts] of [
    [1, recent.words, training.words],
    [2, recent.bigrams, training.bigrams],
  ] as const) {
    for (const [ngram, count] of counts) {
      if (count < options.minCount) continue
      const trainingCount = trainCounts.get(ngram) ?? 0
      const lift = (count + 1) / rm / ((trainingCount + 1) / tm)
      if (lift <= 1) continue
      items.push({ ngram, n, count: Math.round(count), perThousand: (1000 * count) / rm, trainingCount, lift })
    }
  }
  return items
    .sort((a, b) => b.lift - a.lift || b.count - a.count || (a.ngram < b.ngram ? -1 : 1))
    .slice(0, options.limit)
}

export type AnalyticsResult =
  | IntentDistribution
  | ChannelVolume
  | Rates
  | Latency
  | Corrections
  | TopNgrams
  | EmergingNgrams

// ── dispatch ─────────────────────────────────────────────────────────────────

/** Every analytics by the name the CLI and the HTTP API use. */
export const ANALYTICS_KINDS = Object.freeze([
  'intents',
  'channels',
  'rates',
  'ngrams',
  'emerging',
  'corrections',
  'latency',
] as const)

export type AnalyticsKind = (typeof ANALYTICS_KINDS)[number]

export function isAnalyticsKind(what: string): what is AnalyticsKind {
  return (ANALYTICS_KINDS as readonly string[]).includes(what)
}

export interface RunAnalyticsOptions {
  /** `monitor.lowConfidence`, for `rates`. */
  lowConfidence: number
  /** Loads the training data, for `emerging` only. */
  loadTraining: () => Promise<TrainingData>
  /** Top-N lists (`ngrams`, `emerging`). */
  limit?: number
  maxMessages?: number
  now?: number
}

/** One analytics by name; unknown names throw `ERR_ANALYTICS_UNKNOWN`. */
export async function runAnalytics(
  src: AnalyticsSource,
  what: string,
  query: AnalyticsQuery,
  options: RunAnalyticsOptions,
): Promise<AnalyticsResult> {
  const now = options.now ?? Date.now()
  const words = {
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.maxMessages !== undefined ? { maxMessages: options.maxMessages } : {}),
  }
  switch (what) {
    case 'intents':
      return intentDistribution(src, query, now)
    case 'channels':
      return channelVolume(src, query, now)
    case 'rates':
      return rates(src, { ...query, lowConfidence: options.lowConfidence }, now)
    case 'latency':
      return latency(src, query, now)
    case 'corrections':
      return corrections(src, query, now)
    case 'ngrams':
      return topNgrams(src, { ...query, ...words }, now)
    case 'emerging':
      return emergingNgrams(src, await options.loadTraining(), { ...query, ...words }, now)
    default:
      throw createError('ERR_ANALYTICS_UNKNOWN', { what, known: ANALYTICS_KINDS.join(', ') })
  }
}
