import { describe, expect, it } from 'vitest'
import { Rng } from '../random.js'
import { SparseVector } from '../sparse.js'
import { FittedLinearClassifier } from './linear-model.js'
import { ScoreKernel, weightMatrix } from './score-kernel.js'

function randomModel(F: number, K: number, seed: number, precision: 'f16' | 'f32') {
  const rng = new Rng(seed)
  const w = new Float32Array(F * K)
  for (let i = 0; i < w.length; i++) w[i] = rng.nextFloat() < 0.3 ? 0 : (rng.nextFloat() - 0.5) * 4
  const b = new Float32Array(K)
  for (let k = 0; k < K; k++) b[k] = rng.nextFloat() - 0.5
  return new FittedLinearClassifier('linear_svm', K, F, w, b, 1, { weightPrecision: precision })
}

function randomVector(F: number, n: number, rng: Rng): SparseVector {
  const v = new SparseVector(4)
  for (let j = 0; j < n; j++) v.push(rng.nextInt(F + 3), (rng.nextFloat() - 0.5) * 2)
  return v
}

describe('SIMD scoring kernel', () => {
  it('is available on this Node', () => {
    expect(ScoreKernel.create(3, 2)).toBeInstanceOf(ScoreKernel)
  })

  // Class counts around multiples of four exercise the two-lane SIMD body and the scalar tail; message lengths
  // above the kernel's chunk size exercise several calls per message; indexes past the last feature are skipped.
  it.each([1, 2, 3, 4, 5, 7, 8, 77, 151])('scores %i classes bit-identically to the plain loop', (K) => {
    const F = 40
    const m = randomModel(F, K, K, 'f32')
    const rng = new Rng(100 + K)
    const a = new Float64Array(K)
    const b = new Float64Array(K)
    for (const n of [0, 1, 5, 60, 1023, 1024, 1025, 2500]) {
      const v = randomVector(F, n, rng)
      m.decision(v, a)
      m.decisionJs(v, b)
      expect(Array.from(a)).toEqual(Array.from(b))
      expect(a.some((s) => s !== 0) || n === 0).toBe(true)
    }
  })

  it('keeps scoring the same after saving and loading, in both precisions', () => {
    for (const precision of ['f16', 'f32'] as const) {
      const m = randomModel(30, 9, 3, precision)
      const back = FittedLinearClassifier.fromState('linear_svm', m.toState())
      const v = randomVector(30, 50, new Rng(9))
      const a = new Float64Array(9)
      const b = new Float64Array(9)
      m.decision(v, a)
      back.decision(v, b)
      expect(Array.from(b)).toEqual(Array.from(a))
      expect(Array.from(back.weights)).toEqual(Array.from(m.weights))
    }
  })

  it('saves only the weights, not the kernel memory around them', () => {
    const m = randomModel(10, 3, 1, 'f32')
    const saved = m.toState().arrays.weights as Float32Array
    expect(saved.byteOffset).toBe(0)
    expect(saved.buffer.byteLength).toBe(10 * 3 * 4)
  })
})

describe('weightMatrix', () => {
  it('hands out a kernel matrix that the classifier adopts without a copy', () => {
    const w = weightMatrix(6, 5)
    w[7] = 1.5
    const m = new FittedLinearClassifier('linear_svm', 5, 6, w, new Float32Array(5), 1, { weightPrecision: 'f32' })
    expect(m.weights).toBe(w)
    // A matrix of another shape, or a plain array, is copied into a kernel of its own.
    const other = new FittedLinearClassifier('linear_svm', 6, 5, w, new Float32Array(6), 1, { weightPrecision: 'f32' })
    expect(other.weights).not.toBe(w)
    expect(Array.from(other.weights)).toEqual(Array.from(w))
  })
})
