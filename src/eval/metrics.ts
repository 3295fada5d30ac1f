/**
 * Classification metrics on label indices: accuracy, per-label precision / recall / F1 / support, macro and
 * weighted averages, and the confusion matrix. The numbers match scikit-learn's
 * `classification_report(output_dict=True)`: unrounded, with an explicit zero-division policy.
 * @module
 */
import { createError } from '../errors.js'

/**
 * The value a ratio takes when its denominator is zero: precision of a label never predicted, recall of a label
 * with no support, F1 when both are zero. scikit-learn's `zero_division`; `0` is its default (after the warning).
 */
export type ZeroDivision = 0 | 1

export interface ClassMetrics {
  precision: number
  recall: number
  f1: number
  /** Gold examples of this label (for an average: of all labels averaged). */
  support: number
}

/** Per-label and averaged scores, the shape of scikit-learn's `classification_report(output_dict=True)`. */
export interface ClassificationReport {
  /** The labels reported, in report order. */
  labels: string[]
  perLabel: Record<string, ClassMetrics>
  /** Share of all examples predicted correctly, whatever the label set. */
  accuracy: number
  /**
   * Micro average over `labels` only. Equals `accuracy` when `labels` cover every gold and predicted label;
   * scikit-learn prints it as "micro avg" only when they do not.
   */
  microAvg: ClassMetrics
  macroAvg: ClassMetrics
  /** Averages weighted by support. */
  weightedAvg: ClassMetrics
  zeroDivision: ZeroDivision
  /** Number of examples. */
  total: number
}

export interface ClassificationOptions {
  /**
   * Labels to report, in order. Default: every gold and predicted label, sorted (scikit-learn's `unique_labels`).
   */
  labels?: readonly string[]
  zeroDivision?: ZeroDivision
}

/** Encodes string labels as indices into a label list; unseen labels get new indices at the end. */
export class LabelIndex {
  readonly labels: string[] = []
  private readonly index = new Map<string, number>()

  constructor(labels: Iterable<string> = []) {
    for (const l of labels) this.id(l)
  }

  /** Index of `label`, adding it when new. */
  id(label: string): number {
    let i = this.index.get(label)
    if (i === undefined) {
      i = this.labels.length
      this.labels.push(label)
      this.index.set(label, i)
    }
    return i
  }

  get(label: string): number | undefined {
    return this.index.get(label)
  }

  get size(): number {
    return this.labels.length
  }
}

/** Sorted by code unit, like Python's `sorted` on str, so label order matches scikit-learn's. */
export function compareLabels(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Confusion matrix as a row-major `Int32Array` of `n × n`: row = gold label index, column = predicted.
 * Indices outside [0, n) are an error.
 */
export function confusionMatrix(gold: ArrayLike<number>, predicted: ArrayLike<number>, n: number): Int32Array {
  if (gold.length !== predicted.length) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `gold and predicted differ in length (${gold.length} vs ${predicted.length})`,
    })
  }
  const m = new Int32Array(n * n)
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i]!
    const p = predicted[i]!
    if (g < 0 || g >= n || p < 0 || p >= n) {
      throw createError('ERR_INVALID_ARGUMENT', { detail: `label index out of range at example ${i}` })
    }
    m[g * n + p]!++
  }
  return m
}

function ratio(num: number, den: number, zeroDivision: ZeroDivision): number {
  return den === 0 ? zeroDivision : num / den
}

/** F1 from precision and recall as scikit-learn computes it: 0 when both are 0 (after zero-division fill). */
function f1Of(precision: number, recall: number): number {
  const den = precision + recall
  return den === 0 ? 0 : (2 * precision * recall) / den
}

/**
 * Per-label and averaged precision, recall and F1 of string predictions against gold labels.
 * @example
 * classificationReport(['a', 'b', 'b'], ['a', 'b', 'a']).perLabel.b // { precision: 1, recall: 0.5, ... }
 */
export function classificationReport(
  gold: readonly string[],
  predicted: readonly string[],
  options: ClassificationOptions = {},
): ClassificationReport {
  if (gold.length !== predicted.length) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `gold and predicted differ in length (${gold.length} vs ${predicted.length})`,
    })
  }
  const zeroDivision = options.zeroDivision ?? 0
  const labels = options.labels ? [...options.labels] : [...new Set([...gold, ...predicted])].sort(compareLabels)
  const index = new LabelIndex(labels)
  const k = labels.length
  const tp = new Float64Array(k)
  const goldCount = new Float64Array(k)
  const predCount = new Float64Array(k)
  let correct = 0
  for (let i = 0; i < gold.length; i++) {
    const g = index.get(gold[i]!)
    const p = index.get(predicted[i]!)
    if (gold[i] === predicted[i]) correct++
    if (g !== undefined) goldCount[g]!++
    if (p !== undefined) predCount[p]!++
    if (g !== undefined && g === p) tp[g]!++
  }
  return reportFromCounts(labels, tp, goldCount, predCount, correct, gold.length, zeroDivision)
}

/**
 * The report from a confusion matrix over `labels` (row = gold, column = predicted). Every example must fall into
 * one of the labels, so `accuracy` equals the micro average.
 */
export function reportFromConfusion(
  labels: readonly string[],
  matrix: ArrayLike<number>,
  zeroDivision: ZeroDivision = 0,
): ClassificationReport {
  const k = labels.length
  const tp = new Float64Array(k)
  const goldCount = new Float64Array(k)
  const predCount = new Float64Array(k)
  let correct = 0
  let total = 0
  for (let g = 0; g < k; g++) {
    for (let p = 0; p < k; p++) {
      const c = matrix[g * k + p]!
      goldCount[g]! += c
      predCount[p]! += c
      total += c
      if (g === p) {
        tp[g] = c
        correct += c
      }
    }
  }
  return reportFromCounts([...labels], tp, goldCount, predCount, correct, total, zeroDivision)
}

function reportFromCounts(
  labels: string[],
  tp: Float64Array,
  goldCount: Float64Array,
  predCount: Float64Array,
  correct: number,
  total: number,
  zeroDivision: ZeroDivision,
): ClassificationReport {
  const k = labels.length
  const perLabel: Record<string, ClassMetrics> = {}
  let sumP = 0
  let sumR = 0
  let sumF = 0
  let wP = 0
  let wR = 0
  let wF = 0
  let support = 0
  let tpAll = 0
  let predAll = 0
  for (let i = 0; i < k; i++) {
    const precision = ratio(tp[i]!, predCount[i]!, zeroDivision)
    const recall = ratio(tp[i]!, goldCount[i]!, zeroDivision)
    const f1 = f1Of(precision, recall)
    const s = goldCount[i]!
    perLabel[labels[i]!] = { precision, recall, f1, support: s }
    sumP += precision
    sumR += recall
    sumF += f1
    wP += precision * s
    wR += recall * s
    wF += f1 * s
    support += s
    tpAll += tp[i]!
    predAll += predCount[i]!
  }
  const macroAvg: ClassMetrics =
    k === 0
      ? { precision: zeroDivision, recall: zeroDivision, f1: zeroDivision, support: 0 }
      : { precision: sumP / k, recall: sumR / k, f1: sumF / k, support }
  const weightedAvg: ClassMetrics =
    support === 0
      ? { precision: zeroDivision, recall: zeroDivision, f1: zeroDivision, support: 0 }
      : { precision: wP / support, recall: wR / support, f1: wF / support, support }
  const microP = ratio(tpAll, predAll, zeroDivision)
  const microR = ratio(tpAll, support, zeroDivision)
  return {
    labels,
    perLabel,
    accuracy: total === 0 ? zeroDivision : correct / total,
    microAvg: { precision: microP, recall: microR, f1: f1Of(microP, microR), support },
    macroAvg,
    weightedAvg,
    zeroDivision,
    total,
  }
}

/** Share of positions where `a[i] === b[i]`. */
export function accuracy(gold: ArrayLike<unknown>, predicted: ArrayLike<unknown>): number {
  if (gold.length !== predicted.length) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `gold and predicted differ in length (${gold.length} vs ${predicted.length})`,
    })
  }
  if (gold.length === 0) return 0
  let c = 0
  for (let i = 0; i < gold.length; i++) if (gold[i] === predicted[i]) c++
  return c / gold.length
}

export interface Confusion {
  /** The gold label. */
  intent: string
  /** The label it was predicted as instead. */
  predicted: string
  count: number
}

/**
 * The off-diagonal cells of a confusion matrix, largest first (ties by label order): which intents get mistaken for
 * which.
 */
export function topConfusions(labels: readonly string[], matrix: ArrayLike<number>, limit = Infinity): Confusion[] {
  const k = labels.length
  const out: Confusion[] = []
  for (let g = 0; g < k; g++) {
    for (let p = 0; p < k; p++) {
      const c = matrix[g * k + p]!
      if (g !== p && c > 0) out.push({ intent: labels[g]!, predicted: labels[p]!, count: c })
    }
  }
  out.sort((a, b) => b.count - a.count || compareLabels(a.intent, b.intent) || compareLabels(a.predicted, b.predicted))
  return out.slice(0, limit)
}

/** The labels a gold label was most often predicted as instead, largest first. */
export function confusedWith(
  labels: readonly string[],
  matrix: ArrayLike<number>,
  limit = 5,
): Record<string, Array<{ intent: string; count: number }>> {
  const k = labels.length
  const out: Record<string, Array<{ intent: string; count: number }>> = {}
  for (let g = 0; g < k; g++) {
    const row: Array<{ intent: string; count: number }> = []
    for (let p = 0; p < k; p++) {
      const c = matrix[g * k + p]!
      if (p !== g && c > 0) row.push({ intent: labels[p]!, count: c })
    }
    row.sort((a, b) => b.count - a.count || compareLabels(a.intent, b.intent))
    out[labels[g]!] = row.slice(0, limit)
  }
  return out
}
