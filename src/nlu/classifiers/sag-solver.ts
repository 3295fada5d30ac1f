/**
 * Multinomial logistic regression with L2 penalty, solved by SAG, the stochastic average gradient (Schmidt, Le
 * Roux & Bach 2017; the `sag` solver of scikit-learn). Sparse rows are handled with just-in-time ("lagged")
 * updates: a feature's weights are brought up to date only when a row that uses it is visited, so a step costs
 * O(nnz(row) × classes) instead of O(features × classes).
 * @module
 */
import { Rng } from '../random.js'

export interface SagProblem {
  indptr: Int32Array
  indices: Int32Array
  values: Float32Array
  labels: Int32Array
  cols: number
}

export interface SagOptions {
  /** Inverse regularisation strength, as in scikit-learn: the penalty is ‖W‖² / (2 C n). */
  c: number
  /** Stop when the largest weight change over an epoch is below `tol` times the largest weight. */
  tol: number
  maxEpochs: number
  seed: number
  /** Start from the given weights and initialise the gradient memory at them (one extra pass). */
  warmStart: boolean
  /** Weight of each class's rows in the loss, by label (empty or absent: all 1), like scikit-learn's class_weight. */
  classWeight?: readonly number[]
  /** Called after each epoch with its number; return false to stop. */
  onEpoch?: (epoch: number) => boolean | undefined
}

/**
 * Train on `rows`. `w` is feature-major `cols × K`, `b` the K intercepts (not penalised); both hold the starting
 * point and receive the solution. Returns the number of epochs run.
 */
export function solveSag(
  p: SagProblem,
  rows: Int32Array,
  K: number,
  opt: SagOptions,
  w: Float64Array,
  b: Float64Array,
): number {
  const { indptr, indices, values, labels } = p
  const F = p.cols
  const n = rows.length
  if (n === 0) return 0
  let maxSq = 0
  for (let s = 0; s < n; s++) {
    const i = rows[s]!
    let sq = 0
    for (let j = indptr[i]!; j < indptr[i + 1]!; j++) sq += values[j]! * values[j]!
    if (sq > maxSq) maxSq = sq
  }
  const alpha = 1 / (opt.c * n)
  const cw = opt.classWeight !== undefined && opt.classWeight.length > 0 ? opt.classWeight : undefined
  // A row's loss weight scales its gradient, so the step bound takes the largest weight among the rows.
  let maxWeight = 1
  if (cw) {
    maxWeight = 0
    for (let s = 0; s < n; s++) maxWeight = Math.max(maxWeight, cw[labels[rows[s]!]!] ?? 1)
  }
  // Lipschitz constant of the multinomial log loss per sample (with an intercept), as scikit-learn's auto step.
  const eta = 1 / (maxWeight * 0.25 * (maxSq + 1) + alpha)

  const sumGrad = new Float64Array(F * K)
  const sumGradB = new Float64Array(K)
  // Gradient memory per row position (not per row id), so only `n × K` is allocated.
  const mem = new Float64Array(n * K)
  const seen = new Uint8Array(n)
  let nSeen = 0
  const hist = new Int32Array(F)
  // cum[t]: sum over steps s < t of the multiplier applied to sumGrad at step s (in stored-weight units). The step
  // counter restarts every epoch, so n + 1 entries suffice.
  const cum = new Float64Array(n + 1)
  let wscale = 1
  let t = 0
  const g = new Float64Array(K)
  const rng = new Rng(opt.seed)

  const sync = (f: number) => {
    const h = hist[f]!
    if (h === t) return
    const c = cum[t]! - cum[h]!
    hist[f] = t
    if (c === 0) return
    const off = f * K
    for (let k = 0; k < K; k++) w[off + k]! -= c * sumGrad[off + k]!
  }
  const syncAll = () => {
    for (let f = 0; f < F; f++) sync(f)
  }
  const rowGradient = (i: number) => {
    // g = softmax(W x + b) − onehot(y), with W = wscale × stored weights.
    for (let k = 0; k < K; k++) g[k] = 0
    for (let j = indptr[i]!, e = indptr[i + 1]!; j < e; j++) {
      const off = indices[j]! * K
      const x = values[j]! * wscale
      for (let k = 0; k < K; k++) g[k]! += x * w[off + k]!
    }
    let max = Number.NEGATIVE_INFINITY
    for (let k = 0; k < K; k++) {
      g[k]! += b[k]!
      if (g[k]! > max) max = g[k]!
    }
    let z = 0
    for (let k = 0; k < K; k++) {
      const e = Math.exp(g[k]! - max)
      g[k] = e
      z += e
    }
    for (let k = 0; k < K; k++) g[k]! /= z
    g[labels[i]!]! -= 1
    if (cw) {
      const sw = cw[labels[i]!] ?? 1
      for (let k = 0; k < K; k++) g[k]! *= sw
    }
  }

  if (opt.warmStart) {
    for (let s = 0; s < n; s++) {
      const i = rows[s]!
      rowGradient(i)
      for (let j = indptr[i]!, e = indptr[i + 1]!; j < e; j++) {
        const off = indices[j]! * K
        const x = values[j]!
        for (let k = 0; k < K; k++) sumGrad[off + k]! += x * g[k]!
      }
      for (let k = 0; k < K; k++) {
        sumGradB[k]! += g[k]!
        mem[s * K + k] = g[k]!
      }
      seen[s] = 1
    }
    nSeen = n
  }

  const prev = new Float64Array(F * K)
  const prevB = new Float64Array(K)
  let epoch = 0
  while (epoch < opt.maxEpochs) {
    prev.set(w)
    for (let f = 0; f < F * K; f++) prev[f]! *= wscale
    prevB.set(b)
    for (let q = 0; q < n; q++) {
      // Sampling with replacement, as the method assumes: a fixed or permuted order makes SAG unstable.
      const s = rng.nextInt(n)
      const i = rows[s]!
      const a = indptr[i]!
      const e = indptr[i + 1]!
      for (let j = a; j < e; j++) sync(indices[j]!)
      rowGradient(i)
      const ms = s * K
      for (let j = a; j < e; j++) {
        const off = indices[j]! * K
        const x = values[j]!
        for (let k = 0; k < K; k++) sumGrad[off + k]! += x * (g[k]! - mem[ms + k]!)
      }
      for (let k = 0; k < K; k++) {
        sumGradB[k]! += g[k]! - mem[ms + k]!
        mem[ms + k] = g[k]!
      }
      if (seen[s] === 0) {
        seen[s] = 1
        nSeen++
      }
      for (let k = 0; k < K; k++) b[k]! -= (eta * sumGradB[k]!) / nSeen
      wscale *= 1 - eta * alpha
      cum[t + 1] = cum[t]! + eta / (wscale * nSeen)
      t++
      if (wscale < 1e-9) {
        // Fold the scale into the stored weights before it underflows.
        syncAll()
        for (let f = 0; f < F * K; f++) w[f]! *= wscale
        wscale = 1
        cum.fill(0)
        t = 0
        hist.fill(0)
      }
    }
    syncAll()
    epoch++
    let maxW = 0
    let maxD = 0
    for (let f = 0; f < F * K; f++) {
      const v = w[f]! * wscale
      const d = Math.abs(v - prev[f]!)
      if (d > maxD) maxD = d
      if (Math.abs(v) > maxW) maxW = Math.abs(v)
    }
    for (let k = 0; k < K; k++) {
      maxD = Math.max(maxD, Math.abs(b[k]! - prevB[k]!))
      maxW = Math.max(maxW, Math.abs(b[k]!))
    }
    if (opt.onEpoch?.(epoch) === false) break
    if (maxW > 0 && maxD / maxW < opt.tol) break
    // Restart the step counter each epoch so `cum` stays small; every feature is in sync here.
    cum.fill(0)
    t = 0
    hist.fill(0)
  }
  for (let f = 0; f < F * K; f++) w[f]! *= wscale
  return epoch
}
