/**
 * Score one system's run on one dataset from its predictions, with the same code for every system, and summarise
 * repeated runs by their medians.
 * @module
 */
import { createError } from '../../src/errors.js'
import type { BenchDataset } from './dataset.js'
import {
  accuracy,
  applyThreshold,
  chooseThreshold,
  type EntityScores,
  entityScores,
  inScopeAccuracy,
  macroF1,
  oosRecall,
  percentile,
  type ThresholdRule,
} from './metrics.js'
import type { PeerResult } from './protocol.js'

export interface IntentMetrics {
  accuracy: number
  macroF1: number
  /** Only on datasets with an out-of-scope label. */
  inScopeAccuracy: number | null
  oosRecall: number | null
}

export interface ThresholdedMetrics extends IntentMetrics {
  /** The rule that chose the threshold. */
  rule: ThresholdRule
  threshold: number
  /** What the threshold gave on the validation split it was chosen on. */
  valid: { inScopeAccuracy: number; oosRecall: number }
}

export interface RunMetrics {
  /** The top label as predicted (the out-of-scope label is an ordinary class). */
  intent: IntentMetrics
  /**
   * With a fallback threshold chosen on the valid split, one entry per rule; empty without confidences, valid split
   * or out-of-scope label.
   */
  fallback: ThresholdedMetrics[]
  /** Exact-span entity scores; null when the test split has no `entities` or the system extracts none. */
  entities: EntityScores | null
  trainMs: number
  latencyMs: { p50: number; p99: number; mean: number; max: number }
  modelBytes: number
  peakRssBytes: number
}

export function scoreRun(dataset: BenchDataset, result: PeerResult, rules: readonly ThresholdRule[]): RunMetrics {
  const gold = dataset.test.examples.map((e) => e.intent)
  const labels = result.test.map((p) => p.label)
  const oos = dataset.oosLabel
  const intent = intentMetrics(gold, labels, oos)

  const fallback: ThresholdedMetrics[] = []
  if (oos !== null && dataset.valid && result.valid) {
    const validGold = dataset.valid.examples.map((e) => e.intent)
    for (const rule of rules) {
      const choice = chooseThreshold(validGold, result.valid, oos, rule)
      if (!choice) continue
      const thresholded = applyThreshold(result.test, choice.threshold, oos)
      fallback.push({
        ...intentMetrics(gold, thresholded, oos),
        rule,
        threshold: choice.threshold,
        valid: { inScopeAccuracy: choice.inScopeAccuracy, oosRecall: choice.oosRecall },
      })
    }
  }

  const extractsEntities = result.test.some((p) => p.entities !== undefined)
  const entities =
    dataset.test.hasEntities && extractsEntities
      ? entityScores(
          dataset.test.examples.map((e) => e.entities ?? []),
          result.test.map((p) => p.entities ?? []),
        )
      : null

  const lat = result.latencyMs
  return {
    intent,
    fallback,
    entities,
    trainMs: result.trainMs,
    latencyMs: {
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      mean: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : Number.NaN,
      max: lat.length ? Math.max(...lat) : Number.NaN,
    },
    modelBytes: result.modelBytes,
    peakRssBytes: result.peakRssBytes,
  }
}

function intentMetrics(gold: string[], pred: string[], oos: string | null): IntentMetrics {
  return {
    accuracy: accuracy(gold, pred),
    macroF1: macroF1(gold, pred),
    inScopeAccuracy: oos === null ? null : inScopeAccuracy(gold, pred, oos),
    oosRecall: oos === null ? null : oosRecall(gold, pred, oos),
  }
}

/**
 * The element-wise median of same-shaped values (objects by key, arrays by index): numbers become their median,
 * other leaves come from the first run. Repeated runs of a system are summarised this way, so one noisy run on a shared machine does not decide.
 */
export function medianOf<T>(runs: readonly T[]): T {
  if (runs.length === 0) throw createError('ERR_INVALID_ARGUMENT', { detail: 'medianOf needs at least one run' })
  return mergeMedian(runs as unknown[]) as T
}

function mergeMedian(values: unknown[]): unknown {
  const first = values[0]
  if (typeof first === 'number') {
    const nums = values.filter((v): v is number => typeof v === 'number')
    return percentile(nums, 0.5)
  }
  if (Array.isArray(first)) {
    return first.map((_, i) => mergeMedian(values.map((v) => (Array.isArray(v) ? v[i] : undefined))))
  }
  if (first === null || typeof first !== 'object') return first
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(first)) {
    out[key] = mergeMedian(values.map((v) => (v as Record<string, unknown> | null)?.[key]))
  }
  return out
}
