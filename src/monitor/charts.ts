/**
 * Vega-Lite specs for analytics results and drift reports, in the style of the evaluation charts: plain JSON with the
 * data inline, rendered to SVG for `intentops analytics --svg/--html` and drawn by vega-embed in the web UI.
 * @module
 */
import type { TopLevelSpec } from 'vega-lite'
import { CONFIG, confusionHeatmapSpec, SCHEMA } from '../eval/charts.js'
import type {
  AnalyticsResult,
  ChannelVolume,
  Corrections,
  EmergingNgrams,
  IntentDistribution,
  Latency,
  Rates,
  TopNgrams,
} from './analytics.js'
import type { DriftReport } from './drift.js'

const COLOR_MAIN = '#2f7ed8'
const COLOR_BAD = '#d9534f'

/** Series with many categories keep the largest ones and fold the rest into `other`, so a legend stays readable. */
export const MAX_SERIES = 10

function timeFormat(bucket: 'hour' | 'day'): string {
  return bucket === 'hour' ? '%b %d %H:%M' : '%b %d'
}

function foldOthers<T extends { count: number; bucket: string }>(
  rows: readonly T[],
  key: (r: T) => string,
  keep: readonly string[],
): Array<{ bucket: string; name: string; count: number }> {
  const kept = new Set(keep)
  const out = new Map<string, { bucket: string; name: string; count: number }>()
  for (const r of rows) {
    const name = kept.has(key(r)) ? key(r) : 'other'
    const k = `${r.bucket}\u0000${name}`
    const cur = out.get(k)
    if (cur) cur.count += r.count
    else out.set(k, { bucket: r.bucket, name, count: r.count })
  }
  return [...out.values()]
}

function stackedOverTime(
  title: string,
  values: Array<{ bucket: string; name: string; count: number }>,
  legend: string,
  order: readonly string[],
  bucket: 'hour' | 'day',
): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    width: 560,
    height: 260,
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'bucket',
        type: 'temporal',
        timeUnit: bucket === 'hour' ? 'utcyearmonthdatehours' : 'utcyearmonthdate',
        title: null,
        axis: { format: timeFormat(bucket), formatType: 'utc' },
      },
      y: { field: 'count', type: 'quantitative', stack: 'zero', title: 'messages' },
      color: { field: 'name', type: 'nominal', title: legend, sort: [...order, 'other'] },
      tooltip: [
        { field: 'bucket', type: 'temporal', format: '%Y-%m-%d %H:%M', formatType: 'utc', title: bucket },
        { field: 'name', type: 'nominal', title: legend },
        { field: 'count', type: 'quantitative' },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec
}

/** Stacked bars of predicted intents per bucket (the ten largest intents, the rest as `other`). */
export function intentDistributionSpec(r: IntentDistribution): TopLevelSpec {
  const keep = r.intents.slice(0, MAX_SERIES).map((i) => i.intent)
  return stackedOverTime(
    `Predicted intents per ${r.range.bucket} (${r.total} messages)`,
    foldOthers(r.series, (s) => s.intent, keep),
    'intent',
    keep,
    r.range.bucket,
  )
}

/** Stacked bars of message volume per channel and bucket. */
export function channelVolumeSpec(r: ChannelVolume): TopLevelSpec {
  const keep = r.channels.slice(0, MAX_SERIES).map((c) => c.channel)
  return stackedOverTime(
    `Messages per channel and ${r.range.bucket} (${r.total} messages)`,
    foldOthers(r.series, (s) => s.channel, keep),
    'channel',
    keep,
    r.range.bucket,
  )
}

/** Fallback rate and low-confidence rate per bucket, as two lines. */
export function ratesSpec(r: Rates): TopLevelSpec {
  const values = r.series.flatMap((s) => [
    { bucket: s.bucket, rate: s.fallbackRate, series: 'fallback', count: s.fallback, total: s.total },
    {
      bucket: s.bucket,
      rate: s.lowConfidenceRate,
      series: `confidence < ${r.threshold}`,
      count: s.lowConfidence,
      total: s.total,
    },
  ])
  return {
    $schema: SCHEMA,
    title: `Fallback and low-confidence rates per ${r.range.bucket}`,
    data: { values },
    width: 560,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'bucket',
        type: 'temporal',
        title: null,
        axis: { format: timeFormat(r.range.bucket), formatType: 'utc' },
      },
      y: { field: 'rate', type: 'quantitative', title: 'share of messages', axis: { format: '.0%' } },
      color: { field: 'series', type: 'nominal', title: null, scale: { range: [COLOR_BAD, '#f0ad4e'] } },
      tooltip: [
        { field: 'bucket', type: 'temporal', format: '%Y-%m-%d %H:%M', formatType: 'utc' },
        { field: 'series', type: 'nominal' },
        { field: 'rate', type: 'quantitative', format: '.1%' },
        { field: 'count', type: 'quantitative' },
        { field: 'total', type: 'quantitative' },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec
}

/** p50, p95 and p99 latency per bucket. */
export function latencySpec(r: Latency): TopLevelSpec {
  const values = r.series.flatMap((s) =>
    (['p50', 'p95', 'p99'] as const).map((p) => ({ bucket: s.bucket, percentile: p, ms: s[p], count: s.count })),
  )
  return {
    $schema: SCHEMA,
    title: `Latency per ${r.range.bucket} (overall p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms)`,
    data: { values },
    width: 560,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'bucket',
        type: 'temporal',
        title: null,
        axis: { format: timeFormat(r.range.bucket), formatType: 'utc' },
      },
      y: { field: 'ms', type: 'quantitative', title: 'ms' },
      color: {
        field: 'percentile',
        type: 'nominal',
        title: null,
        sort: ['p50', 'p95', 'p99'],
        scale: { range: ['#7fb3e6', COLOR_MAIN, '#1b3f75'] },
      },
      tooltip: [
        { field: 'bucket', type: 'temporal', format: '%Y-%m-%d %H:%M', formatType: 'utc' },
        { field: 'percentile', type: 'nominal' },
        { field: 'ms', type: 'quantitative', format: '.1f' },
        { field: 'count', type: 'quantitative', title: 'messages' },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec
}

/** Correction rate per predicted intent, worst first. */
export function correctionRateSpec(r: Corrections): TopLevelSpec {
  const values = r.byIntent.slice(0, 40)
  return {
    $schema: SCHEMA,
    title: `Corrections by intent (live accuracy ${(r.liveAccuracy * 100).toFixed(1)}% of ${r.reviewed} reviewed)`,
    data: { values },
    width: 420,
    height: { step: 14 },
    mark: { type: 'bar', color: COLOR_BAD },
    encoding: {
      y: { field: 'intent', type: 'nominal', sort: null, title: null },
      x: {
        field: 'correctionRate',
        type: 'quantitative',
        title: 'corrected by reviewers',
        scale: { domain: [0, 1] },
        axis: { format: '.0%' },
      },
      tooltip: [
        { field: 'intent', type: 'nominal' },
        { field: 'correctionRate', type: 'quantitative', format: '.1%' },
        { field: 'corrected', type: 'quantitative' },
        { field: 'reviewed', type: 'quantitative' },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec
}

function ngramBars(title: string, values: Array<{ ngram: string; value: number; tip: Record<string, unknown> }>) {
  return {
    title,
    data: { values: values.map((v) => ({ ngram: v.ngram, value: v.value, ...v.tip })) },
    width: 260,
    height: { step: 14 },
    mark: { type: 'bar', color: COLOR_MAIN },
    encoding: {
      y: { field: 'ngram', type: 'nominal', sort: null, title: null },
      x: { field: 'value', type: 'quantitative', title: 'count' },
      tooltip: [
        { field: 'ngram', type: 'nominal' },
        ...Object.keys(values[0]?.tip ?? {}).map((field) => ({ field, type: 'quantitative' })),
      ],
    },
  }
}

/** Top words and top bigrams side by side. */
export function topNgramsSpec(r: TopNgrams): TopLevelSpec {
  const bars = (xs: TopNgrams['words']) => xs.map((w) => ({ ngram: w.ngram, value: w.count, tip: { count: w.count } }))
  return {
    $schema: SCHEMA,
    title: `Top words and bigrams, stop words removed (${r.messages} messages${r.sampled ? `, estimated from a sample of ${r.sampleSize}` : ''})`,
    hconcat: [ngramBars('words', bars(r.words)), ngramBars('bigrams', bars(r.bigrams))],
    config: CONFIG,
  } as TopLevelSpec
}

/** Emerging n-grams by lift over the training data. */
export function emergingSpec(r: EmergingNgrams): TopLevelSpec {
  const values = r.items.map((i) => ({
    ngram: i.ngram,
    value: i.lift,
    tip: { lift: i.lift, count: i.count, trainingCount: i.trainingCount },
  }))
  const spec = ngramBars('', values)
  return {
    $schema: SCHEMA,
    ...spec,
    title: `Emerging words and bigrams: frequent now, rare in the training data (${r.messages} messages)`,
    width: 420,
    encoding: { ...spec.encoding, x: { field: 'value', type: 'quantitative', title: 'lift over training data' } },
    config: CONFIG,
  } as TopLevelSpec
}

/** Each drift check's value as a share of its threshold: bars past the rule at 100% failed. */
export function driftSpec(r: DriftReport): TopLevelSpec {
  const values = r.checks
    .filter((c) => c.value !== null)
    .map((c) => {
      // The domain AUC starts at 0.5 (chance), so its scale runs from there.
      const ratio = c.name === 'domain_classifier' ? (c.value! - 0.5) / (c.threshold - 0.5) : c.value! / c.threshold
      return {
        check: c.name,
        ratio: Number.isFinite(ratio) ? Math.max(0, ratio) : 0,
        value: c.value,
        threshold: c.threshold,
        status: c.status,
      }
    })
  return {
    $schema: SCHEMA,
    title: `Drift: ${r.recent.label} (${r.recent.size}) against ${r.reference.label} (${r.reference.size})`,
    data: { values },
    width: 420,
    height: { step: 22 },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'check', type: 'nominal', sort: null, title: null },
          x: { field: 'ratio', type: 'quantitative', title: 'share of threshold', axis: { format: '.0%' } },
          color: {
            field: 'status',
            type: 'nominal',
            scale: { domain: ['pass', 'fail'], range: [COLOR_MAIN, COLOR_BAD] },
            title: null,
          },
          tooltip: [
            { field: 'check', type: 'nominal' },
            { field: 'value', type: 'quantitative', format: '.3f' },
            { field: 'threshold', type: 'quantitative' },
            { field: 'status', type: 'nominal' },
          ],
        },
      },
      { mark: { type: 'rule', color: '#222', strokeDash: [4, 3] }, encoding: { x: { datum: 1 } } },
    ],
    config: CONFIG,
  } as TopLevelSpec
}

/** Every chart of one analytics result, keyed by a short name. */
export function analyticsCharts(r: AnalyticsResult): Record<string, TopLevelSpec> {
  switch (r.kind) {
    case 'intents':
      return { intents: intentDistributionSpec(r) }
    case 'channels':
      return { channels: channelVolumeSpec(r) }
    case 'rates':
      return { rates: ratesSpec(r) }
    case 'latency':
      return { latency: latencySpec(r) }
    case 'corrections':
      return r.reviewed === 0
        ? { corrections: correctionRateSpec(r) }
        : {
            corrections: correctionRateSpec(r),
            confusion: relabelConfusion(confusionHeatmapSpec(r.confusion)),
          }
    case 'ngrams':
      return { ngrams: topNgramsSpec(r) }
    case 'emerging':
      return { emerging: emergingSpec(r) }
  }
}

/** The evaluation heatmap says gold/predicted; here the gold label is the reviewer's. */
function relabelConfusion(spec: TopLevelSpec): TopLevelSpec {
  const s = structuredClone(spec) as unknown as {
    title: string
    encoding: { y: { title: string }; x: { title: string } }
  }
  s.title = s.title.replace('Confusions among', 'Model against reviewers: confusions among')
  s.encoding.y.title = 'reviewer label'
  s.encoding.x.title = 'model prediction'
  return s as unknown as TopLevelSpec
}
