/**
 * Calibration of classifier confidences: stratified folds for held-out scores, and temperature scaling fitted on
 * them by minimising the negative log-likelihood of `softmax(scores / T)`.
 * @module
 */
import { Rng } from '../random.js'

/**
 * Assign every row to one of `k` folds, stratified by label: each class is shuffled (seeded) and dealt round-robin,
 * continuing where the previous class stopped so fold sizes stay balanced.
 */
export function stratifiedFolds(labels: Int32Array, nClasses: number, k: number, seed: number): Int32Array {
  const byClass: number[][] = Array.from({ length: nClasses }, () => [])
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i)
  const fold = new Int32Array(labels.length)
  const rng = new Rng(seed)
  let next = 0
  for (const rows of byClass) {
    rng.shuffle(rows)
    for (const r of rows) {
      fold[r] = next
      next = (next + 1) % k
    }
  }
  return fold
}

/** Rows whose fold is (`inFold` true) or is not (`inFold` false) `f`. */
export function foldRows(fold: Int32Array, f: number, inFold: boolean): Int32Array {
  let n = 0
  for (let i = 0; i < fold.length; i++) if ((fold[i] === f) === inFold) n++
  const out = new Int32Array(n)
  let k = 0
  for (let i = 0; i < fold.length; i++) if ((fold[i] === f) === inFold) out[k++] = i
  return out
}

/** In place: `out[0..n) = softmax(out[0..n) / temperature)`, stable (max subtracted). */
export function softmaxInPlace(out: Float64Array, n: number, temperature = 1): void {
  let max = Number.NEGATIVE_INFINITY
  for (let c = 0; c < n; c++) if (out[c]! > max) max = out[c]!
  if (!Number.isFinite(max)) {
    out.fill(1 / n, 0, n)
    return
  }
  const inv = 1 / temperature
  let z = 0
  for (let c = 0; c < n; c++) {
    const e = Math.exp((out[c]! - max) * inv)
    out[c] = e
    z += e
  }
  for (let c = 0; c < n; c++) out[c]! /= z
}

/**
 * The temperature `T` minimising the mean cross-entropy of `softmax(scores / T)` against the true labels, smoothed
 * as in Platt scaling: the true class gets target `1 − ε` with `ε = 1 / (n + 2)`, spread over the others. Without
 * the smoothing a small, perfectly separated training set would drive `T` to 0 and every confidence to 1.
 * `scores` is row-major `rows × nClasses`. The loss is convex in `β = 1/T`; safeguarded Newton steps converge in
 * a few iterations. Returns a value in [1e-3, 1e3].
 */
export function fitTemperature(scores: Float64Array | Float32Array, labels: Int32Array, nClasses: number): number {
  const n = labels.length
  if (n === 0) return 1
  const K = nClasses
  let lo = 1e-3
  let hi = 1e3
  let beta = 1
  const eps = K > 1 ? 1 / (n + 2) : 0
  const other = K > 1 ? eps / (K - 1) : 0
  const derivs = (b: number): [number, number] => {
    // d/dβ of the loss = Σ E_p[s] − E_q[s] (q the smoothed target);  d²/dβ² = Σ Var_p[s]
    let g = 0
    let h = 0
    for (let i = 0; i < n; i++) {
      const off = i * K
      let max = Number.NEGATIVE_INFINITY
      for (let c = 0; c < K; c++) if (scores[off + c]! > max) max = scores[off + c]!
      let z = 0
      let m1 = 0
      let m2 = 0
      let sum = 0
      for (let c = 0; c < K; c++) {
        const s = scores[off + c]!
        const e = Math.exp(b * (s - max))
        z += e
        m1 += e * s
        m2 += e * s * s
        sum += s
      }
      const mean = m1 / z
      const sy = scores[off + labels[i]!]!
      g += mean - ((1 - eps) * sy + other * (sum - sy))
      h += m2 / z - mean * mean
    }
    return [g / n, h / n]
  }
  for (let it = 0; it < 50; it++) {
    const [g, h] = derivs(beta)
    if (Math.abs(g) < 1e-7) break
    if (g > 0) hi = beta
    else lo = beta
    let next = h > 1e-12 ? beta - g / h : Number.NaN
    if (!(next > lo && next < hi)) next = Math.sqrt(lo * hi)
    if (Math.abs(next - beta) < 1e-9 * beta) {
      beta = next
      break
    }
    beta = next
  }
  return Math.min(1e3, Math.max(1e-3, 1 / beta))
}
