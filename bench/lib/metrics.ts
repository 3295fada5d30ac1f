/**
 * The benchmark's metrics, computed by the orchestrator from each system's predictions so that every system is
 * scored by the same code: accuracy, macro-F1, in-scope accuracy and out-of-scope recall, the fallback threshold
 * chosen on a validation split, latency percentiles and exact-span entity scores.
 * @module
 */
import { createError } from '../../src/errors.js'

/** A system's answer for one message: its top label and, when it has one, the label's confidence. */
export interface ScoredLabel {
  label: string
  confidence: number | null
}

/** Fraction of messages whose predicted label equals the gold label. 0 for no messages. */
export function accuracy(gold: readonly string[], pred: readonly string[]): number {
  checkLengths(gold, pred)
  if (gold.length === 0) return 0
  let hits = 0
  for (let i = 0; i < gold.length; i++) if (gold[i] === pred[i]) hits++
  return hits / gold.length
}

/**
 * Unweighted mean of per-label F1 over the labels that occur in `gold`. A predicted label absent from `gold` still
 * costs recall of the gold label it replaced; precision or recall with an empty denominator count as 0.
 */
export function macroF1(gold: readonly string[], pred: readonly string[]): number {
  checkLengths(gold, pred)
  const labels = [...new Set(gold)]
  if (labels.length === 0) return 0
  const tp = new Map<string, number>()
  const predicted = new Map<string, number>()
  const actual = new Map<string, number>()
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i]!
    const p = pred[i]!
    actual.set(g, (actual.get(g) ?? 0) + 1)
    predicted.set(p, (predicted.get(p) ?? 0) + 1)
    if (g === p) tp.set(g, (tp.get(g) ?? 0) + 1)
  }
  let sum = 0
  for (const label of labels) {
    sum += f1(tp.get(label) ?? 0, predicted.get(label) ?? 0, actual.get(label) ?? 0)
  }
  return sum / labels.length
}

/** Accuracy over the messages whose gold label is not `oosLabel`. Predicting `oosLabel` for them is an error. */
export function inScopeAccuracy(gold: readonly string[], pred: readonly string[], oosLabel: string): number {
  checkLengths(gold, pred)
  let n = 0
  let hits = 0
  for (let i = 0; i < gold.length; i++) {
    if (gold[i] === oosLabel) continue
    n++
    if (pred[i] === gold[i]) hits++
  }
  return n === 0 ? 0 : hits / n
}

/** Fraction of the out-of-scope messages (gold `oosLabel`) predicted as `oosLabel`. */
export function oosRecall(gold: readonly string[], pred: readonly string[], oosLabel: string): number {
  checkLengths(gold, pred)
  let n = 0
  let hits = 0
  for (let i = 0; i < gold.length; i++) {
    if (gold[i] !== oosLabel) continue
    n++
    if (pred[i] === oosLabel) hits++
  }
  return n === 0 ? 0 : hits / n
}

/** The fallback rule: a message whose top confidence is below `threshold` is answered `oosLabel`. */
export function applyThreshold(preds: readonly ScoredLabel[], threshold: number, oosLabel: string): string[] {
  return preds.map((p) => (p.confidence !== null && p.confidence < threshold ? oosLabel : p.label))
}

/**
 * How the fallback threshold is chosen on the validation split:
 * - `sum`: maximise in-scope accuracy + out-of-scope recall;
 * - `recall`: reach out-of-scope recall of at least `target` with the best in-scope accuracy (the lowest such
 *   threshold, since raising it can only trade in-scope hits for out-of-scope ones);
 * - `reject`: the best out-of-scope recall among the thresholds that turn at most a share `budget` of the in-scope
 *   messages into the fallback (Neyman–Pearson: a bound on false fallbacks, the most recall under it). It reads only how the
 *   in-scope messages score, so out-of-scope messages of valid that are easier or harder than test's do not move it.
 * Ties go to the lowest threshold.
 */
export type ThresholdRule = { kind: 'sum' } | { kind: 'recall'; target: number } | { kind: 'reject'; budget: number }

export interface ThresholdChoice {
  threshold: number
  /** The in-scope accuracy and out-of-scope recall the threshold gives on the split it was chosen on. */
  inScopeAccuracy: number
  oosRecall: number
}

/**
 * Choose the fallback threshold on held-out predictions. Candidates are 0 (no fallback) and the midpoints between
 * consecutive distinct confidences, so the threshold never sits exactly on an observed value. Returns null when no
 * prediction has a confidence or the split has no out-of-scope message.
 */
export function chooseThreshold(
  gold: readonly string[],
  preds: readonly ScoredLabel[],
  oosLabel: string,
  rule: ThresholdRule,
): ThresholdChoice | null {
  checkLengths(gold, preds)
  const nOos = gold.filter((g) => g === oosLabel).length
  const nIn = gold.length - nOos
  if (nOos === 0 || nIn === 0) return null
  const scored: number[] = []
  let inHits = 0
  let oosHits = 0
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i]!
    const p = preds[i]!
    if (g === oosLabel ? p.label === oosLabel : p.label === g) {
      if (g === oosLabel) oosHits++
      else inHits++
    }
    if (p.confidence !== null) scored.push(i)
  }
  if (scored.length === 0) return null
  scored.sort((a, b) => preds[a]!.confidence! - preds[b]!.confidence!)

  const candidates: ThresholdChoice[] = [{ threshold: 0, inScopeAccuracy: inHits / nIn, oosRecall: oosHits / nOos }]
  // In-scope messages the fallback takes that were not answered with the out-of-scope label already, per candidate.
  let inFallback = 0
  const inFallbacks = [0]
  // Sweep upwards: each group of equal confidences flips to the fallback once the threshold passes it.
  let k = 0
  while (k < scored.length) {
    const value = preds[scored[k]!]!.confidence!
    while (k < scored.length && preds[scored[k]!]!.confidence! === value) {
      const i = scored[k]!
      const g = gold[i]!
      const p = preds[i]!
      if (g === oosLabel) {
        if (p.label !== oosLabel) oosHits++
      } else {
        if (p.label === g) inHits--
        if (p.label !== oosLabel) inFallback++
      }
      k++
    }
    if (k === scored.length) break
    const next = preds[scored[k]!]!.confidence!
    candidates.push({ threshold: (value + next) / 2, inScopeAccuracy: inHits / nIn, oosRecall: oosHits / nOos })
    inFallbacks.push(inFallback)
  }

  if (rule.kind === 'sum') {
    let best = candidates[0]!
    for (const c of candidates) {
      if (c.inScopeAccuracy + c.oosRecall > best.inScopeAccuracy + best.oosRecall) best = c
    }
    return best
  }
  if (rule.kind === 'reject') {
    let best = 0
    for (let c = 1; c < candidates.length; c++) {
      if (inFallbacks[c]! <= rule.budget * nIn && candidates[c]!.oosRecall > candidates[best]!.oosRecall) best = c
    }
    return candidates[best]!
  }
  const reaching = candidates.find((c) => c.oosRecall >= rule.target)
  return reaching ?? candidates[candidates.length - 1]!
}

/** The q-quantile (q in [0, 1]) with linear interpolation between order statistics, as numpy's default. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = Float64Array.from(samples).sort()
  const pos = q * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

/** The median of a list of numbers (used to summarise repeated runs). */
export function median(values: readonly number[]): number {
  return percentile(values, 0.5)
}

export interface EntitySpan {
  start: number
  end: number
  entity: string
}

export interface PrecisionRecall {
  precision: number
  recall: number
  f1: number
  /** Gold spans of this entity. */
  support: number
  truePositives: number
  falsePositives: number
  falseNegatives: number
}

export interface EntityScores {
  perEntity: Record<string, PrecisionRecall>
  /** Pooled over every entity type. */
  micro: PrecisionRecall
}

/**
 * Exact-span entity scores: a predicted span counts only when a gold span of the same message has the same start,
 * end and entity type; each gold span matches at most once.
 */
export function entityScores(
  gold: readonly (readonly EntitySpan[])[],
  pred: readonly (readonly EntitySpan[])[],
): EntityScores {
  checkLengths(gold, pred)
  const counts = new Map<string, { tp: number; fp: number; fn: number }>()
  const bump = (entity: string, key: 'tp' | 'fp' | 'fn') => {
    const c = counts.get(entity) ?? { tp: 0, fp: 0, fn: 0 }
    c[key]++
    counts.set(entity, c)
  }
  for (let i = 0; i < gold.length; i++) {
    const unmatched = new Map<string, number>()
    for (const g of gold[i]!) {
      const key = spanKey(g)
      unmatched.set(key, (unmatched.get(key) ?? 0) + 1)
    }
    for (const p of pred[i]!) {
      const key = spanKey(p)
      const left = unmatched.get(key) ?? 0
      if (left > 0) {
        unmatched.set(key, left - 1)
        bump(p.entity, 'tp')
      } else {
        bump(p.entity, 'fp')
      }
    }
    for (const g of gold[i]!) {
      const key = spanKey(g)
      const left = unmatched.get(key) ?? 0
      if (left > 0) {
        unmatched.set(key, left - 1)
        bump(g.entity, 'fn')
      }
    }
  }
  const perEntity: Record<string, PrecisionRecall> = {}
  let tp = 0
  let fp = 0
  let fn = 0
  for (const entity of [...counts.keys()].sort()) {
    const c = counts.get(entity)!
    perEntity[entity] = precisionRecall(c.tp, c.fp, c.fn)
    tp += c.tp
    fp += c.fp
    fn += c.fn
  }
  return { perEntity, micro: precisionRecall(tp, fp, fn) }
}

function spanKey(s: EntitySpan): string {
  return `${s.start}:${s.end}:${s.entity}`
}

function precisionRecall(tp: number, fp: number, fn: number): PrecisionRecall {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp)
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn)
  return {
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    support: tp + fn,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
  }
}

function f1(tp: number, predicted: number, actual: number): number {
  const precision = predicted === 0 ? 0 : tp / predicted
  const recall = actual === 0 ? 0 : tp / actual
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
}

function checkLengths(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: `gold has ${a.length} items but predictions have ${b.length}` })
  }
}
