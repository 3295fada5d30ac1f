import { describe, expect, it } from 'vitest'
import { Rng } from '../random.js'
import { toyClassification } from '../testing.js'
import { solveSag } from './sag-solver.js'
import { rowSqNorms, solveSvmDual, solveSvmWorkingSet } from './svm-solver.js'

function noisyProblem(seed: number) {
  const rng = new Rng(seed)
  const N = 240
  const F = 30
  const K = 3
  const indptr = new Int32Array(N + 1)
  const indices: number[] = []
  const values: number[] = []
  const labels = new Int32Array(N)
  for (let i = 0; i < N; i++) {
    labels[i] = rng.nextInt(K)
    const used = new Set<number>()
    for (let j = 0; j < 6; j++) {
      let f = rng.nextInt(F)
      if (rng.nextFloat() < 0.5) f = (labels[i]! * 10 + rng.nextInt(10)) % F
      if (used.has(f)) continue
      used.add(f)
      indices.push(f)
      values.push(rng.nextFloat())
    }
    indptr[i + 1] = indices.length
  }
  return { indptr, indices: Int32Array.from(indices), values: Float32Array.from(values), labels, cols: F, K, N }
}

describe('svm solvers', () => {
  it('the working-set solver reaches the same solution as solving on every row', () => {
    const p = noisyProblem(4)
    const problem = { ...p, sqnorm: rowSqNorms(p.indptr, p.values) }
    const rows = Int32Array.from({ length: p.N }, (_, i) => i)
    const opts = { cPos: 1, cNeg: 1, tol: 1e-4, maxIter: 5000, bias: 1, seed: 1 }
    for (let k = 0; k < p.K; k++) {
      const w1 = new Float64Array(p.cols + 1)
      const w2 = new Float64Array(p.cols + 1)
      solveSvmDual(problem, rows, k, opts, w1, new Float64Array(p.N))
      solveSvmWorkingSet(problem, rows, k, { ...opts, initNegatives: 1 }, w2, new Float64Array(p.N))
      for (let f = 0; f <= p.cols; f++) expect(w2[f]).toBeCloseTo(w1[f]!, 2)
    }
  })
  it('satisfies the optimality conditions of the dual', () => {
    const p = noisyProblem(5)
    const problem = { ...p, sqnorm: rowSqNorms(p.indptr, p.values) }
    const rows = Int32Array.from({ length: p.N }, (_, i) => i)
    const w = new Float64Array(p.cols + 1)
    const alpha = new Float64Array(p.N)
    const C = 0.5
    solveSvmDual(problem, rows, 0, { cPos: C, cNeg: C, tol: 1e-5, maxIter: 10000, bias: 1, seed: 2 }, w, alpha)
    for (let i = 0; i < p.N; i++) {
      let dot = w[p.cols]!
      for (let j = p.indptr[i]!; j < p.indptr[i + 1]!; j++) dot += w[p.indices[j]!]! * p.values[j]!
      const y = p.labels[i] === 0 ? 1 : -1
      const g = y * dot - 1 + alpha[i]! / (2 * C)
      // alpha > 0 ⇒ gradient 0; alpha = 0 ⇒ gradient ≥ 0
      if (alpha[i]! > 0) expect(Math.abs(g)).toBeLessThan(1e-3)
      else expect(g).toBeGreaterThan(-1e-3)
    }
  })
})

describe('sag solver', () => {
  it('converges to the minimum of the penalised multinomial log loss', () => {
    const p = noisyProblem(6)
    const rows = Int32Array.from({ length: p.N }, (_, i) => i)
    const C = 1
    const loss = (w: Float64Array, b: Float64Array) => {
      let total = 0
      const s = new Float64Array(p.K)
      for (let i = 0; i < p.N; i++) {
        s.set(b)
        for (let j = p.indptr[i]!; j < p.indptr[i + 1]!; j++)
          for (let k = 0; k < p.K; k++) s[k]! += p.values[j]! * w[p.indices[j]! * p.K + k]!
        const m = Math.max(...s)
        total += m + Math.log(s.reduce((z, x) => z + Math.exp(x - m), 0)) - s[p.labels[i]!]!
      }
      return total / p.N + w.reduce((r, x) => r + x * x, 0) / (2 * C * p.N)
    }
    // Reference: full-batch gradient descent to convergence.
    const w0 = new Float64Array(p.cols * p.K)
    const b0 = new Float64Array(p.K)
    const s = new Float64Array(p.K)
    for (let it = 0; it < 3000; it++) {
      const gw = new Float64Array(p.cols * p.K)
      const gb = new Float64Array(p.K)
      for (let i = 0; i < p.N; i++) {
        s.set(b0)
        for (let j = p.indptr[i]!; j < p.indptr[i + 1]!; j++)
          for (let k = 0; k < p.K; k++) s[k]! += p.values[j]! * w0[p.indices[j]! * p.K + k]!
        const m = Math.max(...s)
        let z = 0
        for (let k = 0; k < p.K; k++) z += s[k] = Math.exp(s[k]! - m)
        for (let k = 0; k < p.K; k++) s[k]! /= z
        s[p.labels[i]!]! -= 1
        for (let j = p.indptr[i]!; j < p.indptr[i + 1]!; j++)
          for (let k = 0; k < p.K; k++) gw[p.indices[j]! * p.K + k]! += (p.values[j]! * s[k]!) / p.N
        for (let k = 0; k < p.K; k++) gb[k]! += s[k]! / p.N
      }
      for (let q = 0; q < w0.length; q++) w0[q]! -= 0.5 * (gw[q]! + w0[q]! / (C * p.N))
      for (let k = 0; k < p.K; k++) b0[k]! -= 0.5 * gb[k]!
    }
    const w = new Float64Array(p.cols * p.K)
    const b = new Float64Array(p.K)
    solveSag(p, rows, p.K, { c: C, tol: 1e-7, maxEpochs: 300, seed: 1, warmStart: false }, w, b)
    expect(loss(w, b)).toBeLessThan(loss(w0, b0) + 1e-4)
    // A warm start from the solution stays there.
    const w2 = w.slice()
    const b2 = b.slice()
    solveSag(p, rows, p.K, { c: C, tol: 1e-7, maxEpochs: 3, seed: 2, warmStart: true }, w2, b2)
    expect(loss(w2, b2)).toBeLessThan(loss(w, b) + 1e-5)
  })
  it('with class weights, converges to the minimum of the weighted loss', () => {
    const p = noisyProblem(9)
    const rows = Int32Array.from({ length: p.N }, (_, i) => i)
    const C = 1
    const cw = [1, 3, 0.5]
    // Per-row loss weights and their gradient: Σ cw[y] · ℓ / n + ‖W‖² / (2 C n).
    const evaluate = (w: Float64Array, b: Float64Array, gw?: Float64Array, gb?: Float64Array) => {
      let total = 0
      const s = new Float64Array(p.K)
      for (let i = 0; i < p.N; i++) {
        const sw = cw[p.labels[i]!]!
        s.set(b)
        for (let j = p.indptr[i]!; j < p.indptr[i + 1]!; j++)
          for (let k = 0; k < p.K; k++) s[k]! += p.values[j]! * w[p.indices[j]! * p.K + k]!
        const m = Math.max(...s)
        let z = 0
        for (let k = 0; k < p.K; k++) z += Math.exp(s[k]! - m)
        total += sw * (m + Math.log(z) - s[p.labels[i]!]!)
        if (!gw || !gb) continue
        for (let k = 0; k < p.K; k++) s[k] = (Math.exp(s[k]! - m) / z - (k === p.labels[i] ? 1 : 0)) * sw
        for (let j = p.indptr[i]!; j < p.indptr[i + 1]!; j++)
          for (let k = 0; k < p.K; k++) gw[p.indices[j]! * p.K + k]! += (p.values[j]! * s[k]!) / p.N
        for (let k = 0; k < p.K; k++) gb[k]! += s[k]! / p.N
      }
      return total / p.N + w.reduce((r, x) => r + x * x, 0) / (2 * C * p.N)
    }
    const w0 = new Float64Array(p.cols * p.K)
    const b0 = new Float64Array(p.K)
    for (let it = 0; it < 4000; it++) {
      const gw = new Float64Array(p.cols * p.K)
      const gb = new Float64Array(p.K)
      evaluate(w0, b0, gw, gb)
      for (let q = 0; q < w0.length; q++) w0[q]! -= 0.2 * (gw[q]! + w0[q]! / (C * p.N))
      for (let k = 0; k < p.K; k++) b0[k]! -= 0.2 * gb[k]!
    }
    const w = new Float64Array(p.cols * p.K)
    const b = new Float64Array(p.K)
    solveSag(p, rows, p.K, { c: C, tol: 1e-7, maxEpochs: 300, seed: 1, warmStart: false, classWeight: cw }, w, b)
    expect(evaluate(w, b)).toBeLessThan(evaluate(w0, b0) + 1e-4)
    // The unweighted solution is not the weighted minimum: the weights changed what was solved.
    const wu = new Float64Array(p.cols * p.K)
    const bu = new Float64Array(p.K)
    solveSag(p, rows, p.K, { c: C, tol: 1e-7, maxEpochs: 300, seed: 1, warmStart: false }, wu, bu)
    expect(evaluate(wu, bu)).toBeGreaterThan(evaluate(w, b) + 1e-3)
  })
  it('separates separable toy data', () => {
    const { x, y } = toyClassification(3, 10)
    const w = new Float64Array(x.cols * 3)
    const b = new Float64Array(3)
    solveSag(
      { ...x, labels: y },
      Int32Array.from({ length: x.rows }, (_, i) => i),
      3,
      { c: 100, tol: 1e-4, maxEpochs: 200, seed: 1, warmStart: false },
      w,
      b,
    )
    for (let r = 0; r < x.rows; r++) {
      const s = Array.from(b)
      for (let j = x.indptr[r]!; j < x.indptr[r + 1]!; j++)
        for (let k = 0; k < 3; k++) s[k]! += x.values[j]! * w[x.indices[j]! * 3 + k]!
      expect(s.indexOf(Math.max(...s))).toBe(y[r])
    }
  })
})
