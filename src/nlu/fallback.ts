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
  /** Held-out messages used, and how many of them were out of scope. */
  examples: number
  oosExamples: number
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
  const K = nClasses
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
  let nOos = 0
  for (let i = 0; i < n; i++) if (labels[i] === oos) nOos++
  const evaluate = (t: number) => {
    let caught = 0
    let right = 0
    for (let i = 0; i < n; i++) {
      const falls = top[i]! < t || ambiguous[i] === 1
      if (labels[i] === oos) {
        if (falls || pred[i] === oos) caught++
      } else if (!falls && pred[i] === labels[i]) right++
    }
    return { oosRecall: nOos ? caught / nOos : 1, inScopeAccuracy: n - nOos ? right / (n - nOos) : 1 }
  }
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
