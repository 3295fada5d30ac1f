/**
 * Choosing the fallback threshold on held-out data: the lowest confidence threshold at which enough out-of-scope
 * messages end up as the out-of-scope intent or as the fallback, so in-scope accuracy loses as little as possible.
 * @module
 */
import { isFallback } from './model.js'

export interface ThresholdChoice {
  /** The chosen confidence threshold. */
  threshold: number
  /** Out-of-scope recall on the held-out data at that threshold (predicted out-of-scope intent or fallback). */
  oosRecall: number
  /** Accuracy on the held-out in-scope messages at that threshold (a fallback counts as wrong). */
  inScopeAccuracy: number
  /** Share of the held-out in-scope messages the fallback takes (those answered out of scope are not counted). */
  inScopeFallback: number
  /** Held-out messages used, and how many of them were out of scope. */
  examples: number
  oosExamples: number
}

/** Top confidence, best class and ambiguity of every row. */
function summarize(
  proba: Float32Array | Float64Array,
  n: number,
  K: number,
  ambiguityThreshold: number,
): { top: Float64Array; pred: Int32Array; ambiguous: Uint8Array } {
  const top = new Float64Array(n)
  const pred = new Int32Array(n)
  const ambiguous = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    let b = 0
    let s = -1
    for (let k = 1; k < K; k++) if (proba[i * K + k]! > proba[i * K + b]!) b = k
    for (let k = 0; k < K; k++) if (k !== b && proba[i * K + k]! > s) s = proba[i * K + k]!
    top[i] = proba[i * K + b]!
    pred[i] = b
    ambiguous[i] = isFallback(top[i]!, Math.max(0, s), { threshold: 0, ambiguityThreshold }) ? 1 : 0
  }
  return { top, pred, ambiguous }
}

/** In-scope accuracy, out-of-scope recall and in-scope fallback share at threshold `t`. */
function measure(
  rows: { top: Float64Array; pred: Int32Array; ambiguous: Uint8Array },
  labels: Int32Array,
  oos: number,
  t: number,
): { oosRecall: number; inScopeAccuracy: number; inScopeFallback: number } {
  const { top, pred, ambiguous } = rows
  const n = labels.length
  let nOos = 0
  let caught = 0
  let right = 0
  let fell = 0
  for (let i = 0; i < n; i++) {
    const falls = top[i]! < t || ambiguous[i] === 1
    if (labels[i] === oos) {
      nOos++
      if (falls || pred[i] === oos) caught++
    } else {
      if (!falls && pred[i] === labels[i]) right++
      if (falls && pred[i] !== oos) fell++
    }
  }
  const nIn = n - nOos
  return {
    oosRecall: nOos ? caught / nOos : 1,
    inScopeAccuracy: nIn ? right / nIn : 1,
    inScopeFallback: nIn ? fell / nIn : 0,
  }
}

/**
 * Find the smallest threshold `t` such that the out-of-scope recall on the held-out rows is at least `target`.
 * `proba` is row-major `rows × nClasses`; `labels` the true class of every row; `oos` the out-of-scope class.
 * The ambiguity threshold stays as configured and is applied while measuring.
 */
export function chooseThreshold(
  proba: Float32Array | Float64Array,
  labels: Int32Array,
  nClasses: number,
  oos: number,
  target: number,
  ambiguityThreshold: number,
): ThresholdChoice {
  const n = labels.length
  const rows = summarize(proba, n, nClasses, ambiguityThreshold)
  const { top, pred } = rows
  let nOos = 0
  for (let i = 0; i < n; i++) if (labels[i] === oos) nOos++
  const evaluate = (t: number) => measure(rows, labels, oos, t)
  // Candidate thresholds: 0 and just above each out-of-scope row's top confidence (recall only changes there).
  const candidates = [0]
  for (let i = 0; i < n; i++) if (labels[i] === oos && pred[i] !== oos) candidates.push(nextUp(top[i]!))
  candidates.sort((a, b) => a - b)
  for (const t of candidates) {
    const r = evaluate(t)
    if (r.oosRecall >= target) return { threshold: t, ...r, examples: n, oosExamples: nOos }
  }
  const t = candidates[candidates.length - 1]!
  return { threshold: t, ...evaluate(t), examples: n, oosExamples: nOos }
}

/** The smallest double above `x` rounded to 6 decimals, so thresholds print cleanly and still exclude `x`. */
function nextUp(x: number): number {
  return Math.min(1, Math.floor(x * 1e6 + 1) / 1e6)
}

/**
 * Find the highest threshold `t` that sends at most a share `budget` of the held-out in-scope messages to the
 * fallback, which catches the most out-of-scope messages the budget allows. It reads only how in-scope messages
 * score, so it needs no out-of-scope examples (`oos` may be −1) and does not depend on how alike the held-out and
 * the live out-of-scope messages are. Messages answered with the out-of-scope intent are not counted against the
 * budget; near-ties under the ambiguity threshold are.
 */
export function chooseThresholdForFallbackBudget(
  proba: Float32Array | Float64Array,
  labels: Int32Array,
  nClasses: number,
  oos: number,
  budget: number,
  ambiguityThreshold: number,
): ThresholdChoice {
  const n = labels.length
  const rows = summarize(proba, n, nClasses, ambiguityThreshold)
  const { top, pred, ambiguous } = rows
  let nOos = 0
  let nIn = 0
  let alreadyFalling = 0
  const candidates: number[] = []
  for (let i = 0; i < n; i++) {
    if (labels[i] === oos) {
      nOos++
      continue
    }
    nIn++
    if (pred[i] === oos) continue
    if (ambiguous[i] === 1) alreadyFalling++
    else candidates.push(top[i]!)
  }
  candidates.sort((a, b) => a - b)
  // `top < t` falls back: t equal to the (k+1)-th smallest in-scope confidence sends exactly the k below it.
  const k = Math.floor(budget * nIn + 1e-9) - alreadyFalling
  let t = 0
  if (k >= candidates.length) t = candidates.length ? nextUp(candidates[candidates.length - 1]!) : 1
  else if (k > 0) t = Math.floor(candidates[k]! * 1e6) / 1e6
  return { threshold: t, ...measure(rows, labels, oos, t), examples: n, oosExamples: nOos }
}
