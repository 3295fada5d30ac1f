/**
 * Charts of the web UI's Analytics page from the prediction log and its reviews: traffic by intent and channel,
 * the fallback rate, and how the model's confidence and answers compare with reviewers' labels. Specs are Vega-Lite
 * with inline data, in the look of the evaluation reports, and reuse the report builders where the data fits
 * (confidence histogram, confusion heatmap).
 * @module
 */
import type { TopLevelSpec } from 'vega-lite'
import { createError } from '../errors.js'
import { confidenceHistogram } from '../eval/calibration.js'
import { CONFIG, confidenceHistogramSpec, confusionHeatmapSpec, SCHEMA } from '../eval/charts.js'
import type { PredictionStore } from '../store/types.js'

export interface ReviewChart {
  id: string
  title: string
  description?: string
  spec: TopLevelSpec
}

const DAY = 86_400_000
/** Intents drawn by name in the traffic chart; the rest are summed as "(other intents)". */
const TOP_INTENTS = 8

/** `7d`, `24h` → milliseconds. */
export function windowMs(window: string): number {
  const m = /^([1-9]\d{0,3})([hd])$/.exec(window)
  if (!m)
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `window "${window}" is not a window: use hours or days from 1 to 9999, such as 24h or 7d`,
    })
  return Number(m[1]) * (m[2] === 'h' ? 3_600_000 : DAY)
}

/** Charts over the messages logged in the last `window` (`7d`, `24h`); empty when there were none. */
export async function reviewCharts(
  store: PredictionStore,
  options: { window: string; fallbackIntent: string; now?: number; maxMessages?: number },
): Promise<ReviewChart[]> {
  const now = options.now ?? Date.now()
  const span = windowMs(options.window)
  const bucket = span > 2 * DAY ? DAY : 3_600_000
  const max = options.maxMessages ?? 200_000
  const perBucketIntent = new Map<string, number>()
  const intentTotals = new Map<string, number>()
  const channels = new Map<string, number>()
  const fallbackByBucket = new Map<number, { total: number; fallback: number }>()
  const reviewedConfidence: number[] = []
  const reviewedRight: boolean[] = []
  const pairs = new Map<string, number>()
  let n = 0
  // Deleted messages are gone for every count, as in analytics; their reviews were removals, not labels.
  for await (const p of store.streamPredictions({ from: now - span, to: now + 1, deleted: false })) {
    if (++n > max) break
    const b = Math.floor(p.ts / bucket) * bucket
    const key = `${b}\u0000${p.intent}`
    perBucketIntent.set(key, (perBucketIntent.get(key) ?? 0) + 1)
    intentTotals.set(p.intent, (intentTotals.get(p.intent) ?? 0) + 1)
    channels.set(p.channel, (channels.get(p.channel) ?? 0) + 1)
    const fb = fallbackByBucket.get(b) ?? { total: 0, fallback: 0 }
    fb.total++
    if (p.fallback || p.intent === options.fallbackIntent) fb.fallback++
    fallbackByBucket.set(b, fb)
    if (p.label && p.reviewAction !== 'skip') {
      reviewedConfidence.push(p.confidence)
      reviewedRight.push(p.label === p.intent)
      const pk = `${p.label}\u0000${p.intent}`
      pairs.set(pk, (pairs.get(pk) ?? 0) + 1)
    }
  }
  if (n === 0) return []

  const top = new Set(
    [...intentTotals.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP_INTENTS)
      .map(([i]) => i),
  )
  const traffic = new Map<string, { time: number; intent: string; count: number }>()
  for (const [key, count] of perBucketIntent) {
    const [b, intent] = key.split('\u0000') as [string, string]
    const name = top.has(intent) ? intent : '(other intents)'
    const k = `${b}\u0000${name}`
    const row = traffic.get(k) ?? { time: Number(b), intent: name, count: 0 }
    row.count += count
    traffic.set(k, row)
  }
  const timeUnit = bucket === DAY ? 'yearmonthdate' : 'yearmonthdatehours'
  const charts: ReviewChart[] = [
    {
      id: 'intents',
      title: 'Messages by intent',
      description: `What people asked, per ${bucket === DAY ? 'day' : 'hour'}, by the intent the bot answered.`,
      spec: {
        $schema: SCHEMA,
        data: { values: [...traffic.values()] },
        width: { step: 28 },
        height: 220,
        mark: { type: 'bar' },
        encoding: {
          // ordinal: one bar per bucket, however few buckets have traffic
          x: { field: 'time', type: 'ordinal', timeUnit, title: null, axis: { labelAngle: -45 } },
          y: { field: 'count', type: 'quantitative', title: 'messages', stack: 'zero' },
          color: { field: 'intent', type: 'nominal', title: 'intent', legend: { labelLimit: 220 } },
          tooltip: [
            { field: 'time', type: 'temporal', timeUnit, title: 'time' },
            { field: 'intent', type: 'nominal' },
            { field: 'count', type: 'quantitative' },
          ],
        },
        config: CONFIG,
      } as TopLevelSpec,
    },
    {
      id: 'channels',
      title: 'Messages by channel',
      description: 'Where the messages came from.',
      spec: {
        $schema: SCHEMA,
        data: { values: [...channels.entries()].map(([channel, count]) => ({ channel, count })) },
        width: 420,
        height: { step: 22 },
        mark: { type: 'bar', color: '#2f7ed8' },
        encoding: {
          y: { field: 'channel', type: 'nominal', sort: '-x', title: null },
          x: { field: 'count', type: 'quantitative', title: 'messages' },
          tooltip: [
            { field: 'channel', type: 'nominal' },
            { field: 'count', type: 'quantitative' },
          ],
        },
        config: CONFIG,
      } as TopLevelSpec,
    },
    {
      id: 'fallback',
      title: 'Fallback rate',
      description: 'Share of messages the bot was too unsure to answer.',
      spec: {
        $schema: SCHEMA,
        data: {
          values: [...fallbackByBucket.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([time, c]) => ({ time, rate: c.fallback / c.total, messages: c.total })),
        },
        width: 460,
        height: 200,
        mark: { type: 'line', point: true, color: '#d9534f' },
        encoding: {
          x: { field: 'time', type: 'temporal', timeUnit, title: null },
          y: {
            field: 'rate',
            type: 'quantitative',
            title: 'fallback rate',
            axis: { format: '.0%' },
            scale: { domain: [0, 1] },
          },
          tooltip: [
            { field: 'time', type: 'temporal', timeUnit, title: 'time' },
            { field: 'rate', type: 'quantitative', format: '.1%' },
            { field: 'messages', type: 'quantitative' },
          ],
        },
        config: CONFIG,
      } as TopLevelSpec,
    },
  ]
  if (reviewedConfidence.length) {
    const right = reviewedRight.filter(Boolean).length
    charts.push({
      id: 'confidence',
      title: 'Confidence against reviews',
      description: `Reviewers agreed with the bot on ${right} of ${reviewedRight.length} reviewed messages (${Math.round((100 * right) / reviewedRight.length)}%).`,
      spec: confidenceHistogramSpec(confidenceHistogram(reviewedConfidence, reviewedRight)),
    })
    const labels = [...new Set([...pairs.keys()].flatMap((k) => k.split('\u0000')))].sort()
    const pos = new Map(labels.map((l, i) => [l, i]))
    const matrix = labels.map(() => labels.map(() => 0))
    for (const [k, c] of pairs) {
      const [gold, predicted] = k.split('\u0000') as [string, string]
      matrix[pos.get(gold)!]![pos.get(predicted)!]! += c
    }
    if (reviewedRight.some((r) => !r)) {
      const spec = confusionHeatmapSpec({ labels, matrix }) as TopLevelSpec & { title?: unknown }
      charts.push({
        id: 'corrections',
        title: 'Corrections: reviewers against the bot',
        description:
          'Rows are the reviewers’ labels, columns the bot’s answers; off the diagonal, the bot was corrected.',
        spec: { ...spec, title: 'Reviewer label × bot answer' } as TopLevelSpec,
      })
    }
  }
  return charts
}
