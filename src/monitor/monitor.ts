/**
 * `intentops monitor` as a library call: read the recent window (and a reference window) from the prediction log,
 * build drift samples, run every check, and post failures to webhooks.
 * @module
 */
import type { MonitorConfig } from '../config/schema.js'
import type { TrainingData } from '../data/types.js'
import { countedPrediction } from '../store/rollups.js'
import type { RetryOptions } from '../util/http.js'
import { type DeliveryReport, notify, type WebhookTarget } from '../util/notify.js'
import type { AnalyticsSource } from './analytics.js'
import {
  type DriftReport,
  type DriftSample,
  DriftSampleBuilder,
  driftSummary,
  runDriftChecks,
  trainingSample,
  vocabularyOf,
} from './drift.js'
import { parseReference, recentWindow, type TimeWindow } from './window.js'

export interface MonitorOptions {
  /** Recent window duration; default `config.window`. */
  window?: string
  /** `training`, a duration, or `FROM..TO` (ages on either side count back from `now`); default `config.reference`. */
  reference?: string
  now?: number
  /** Called after each page of predictions read: messages so far, and how many the windows hold. */
  onProgress?: (read: number, total: number) => void
}

const PAGE = 10_000

/**
 * Streams one window of the prediction log (text, intent, confidence) into a drift sample, in keyset pages.
 * Predictions deleted by review (junk, PII) are not traffic to compare, as in analytics.
 */
export async function sampleWindow(
  src: AnalyticsSource,
  window: Pick<TimeWindow, 'from' | 'to'>,
  options: { maxTexts: number; seed: number; onProgress?: (read: number) => void },
): Promise<DriftSample> {
  const b = new DriftSampleBuilder(options)
  let read = 0
  let cursor: { ts: number; id: string } | undefined
  for (;;) {
    let qb = src.db
      .selectFrom('predictions')
      .select(['ts', 'id', 'text', 'intent', 'confidence'])
      .where('ts', '>=', window.from)
      .where('ts', '<', window.to)
      .where(countedPrediction())
    if (cursor) {
      const c = cursor
      qb = qb.where((eb) => eb.or([eb('ts', '>', c.ts), eb.and([eb('ts', '=', c.ts), eb('id', '>', c.id)])]))
    }
    const rows = await qb.orderBy('ts').orderBy('id').limit(PAGE).execute()
    for (const r of rows) b.add(r.text, r.intent, Number(r.confidence))
    read += rows.length
    options.onProgress?.(read)
    if (rows.length < PAGE) break
    const last = rows[rows.length - 1]!
    cursor = { ts: Number(last.ts), id: last.id }
  }
  return b.build()
}

async function countWindow(src: AnalyticsSource, w: Pick<TimeWindow, 'from' | 'to'>): Promise<number> {
  const row = await src.db
    .selectFrom('predictions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('ts', '>=', w.from)
    .where('ts', '<', w.to)
    .where(countedPrediction())
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Runs every drift check of the recent window against the training data or a reference window. */
export async function monitorDrift(
  src: AnalyticsSource,
  training: TrainingData,
  config: Readonly<MonitorConfig>,
  options: MonitorOptions = {},
): Promise<DriftReport> {
  const now = options.now ?? Date.now()
  const recentSpec = recentWindow(options.window ?? config.window, now)
  const refSpec = parseReference(options.reference ?? config.reference, recentSpec, now)
  const sampleOptions = { maxTexts: config.domainSamples, seed: config.seed }
  const train = trainingSample(training, sampleOptions)
  const windows = refSpec.kind === 'training' ? [recentSpec] : [recentSpec, refSpec]
  let total = 0
  if (options.onProgress) for (const w of windows) total += await countWindow(src, w)
  let read = 0
  const recent = await sampleWindow(src, recentSpec, {
    ...sampleOptions,
    onProgress: (n) => options.onProgress?.(read + n, total),
  })
  read = recent.size
  const reference =
    refSpec.kind === 'training'
      ? train
      : await sampleWindow(src, refSpec, { ...sampleOptions, onProgress: (n) => options.onProgress?.(read + n, total) })
  return runDriftChecks(
    {
      recent,
      reference,
      vocabulary: vocabularyOf(train),
      recentLabel: recentSpec.label,
      referenceLabel: refSpec.label,
      referenceKind: refSpec.kind,
    },
    config,
  )
}

/** Posts a failed report to the webhooks as a `drift_alert` (nothing is sent when every check passed). */
export async function alertDrift(
  report: DriftReport,
  targets: readonly WebhookTarget[],
  retry: RetryOptions = {},
): Promise<DeliveryReport[]> {
  if (report.passed || targets.length === 0) return []
  const { summary, details } = driftSummary(report)
  return notify(targets, { kind: 'drift_alert', summary, details }, retry)
}
