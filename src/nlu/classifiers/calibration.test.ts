import { describe, expect, it } from 'vitest'
import { Rng } from '../random.js'
import { fitTemperature, foldRows, softmaxInPlace, stratifiedFolds } from './calibration.js'

describe('softmaxInPlace', () => {
  it('is stable for large scores and honours the temperature', () => {
    const out = Float64Array.of(1000, 1001, 999)
    softmaxInPlace(out, 3)
    expect(out[1]).toBeCloseTo(0.6652409557748219, 12)
    expect(out[0]! + out[1]! + out[2]!).toBeCloseTo(1, 12)
    const hot = Float64Array.of(0, Math.log(2))
    softmaxInPlace(hot, 2, 0.5)
    expect(hot[1]).toBeCloseTo(0.8, 12)
  })
})

describe('fitTemperature', () => {
  it('recovers the temperature that generated the labels', () => {
    const rng = new Rng(11)
    const n = 20_000
    const K = 5
    const scores = new Float64Array(n * K)
    const labels = new Int32Array(n)
    const p = new Float64Array(K)
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) scores[i * K + k] = 3 * (rng.nextFloat() - 0.5)
      p.set(scores.subarray(i * K, i * K + K))
      softmaxInPlace(p, K, 0.5)
      let u = rng.nextFloat()
      let k = 0
      while (k < K - 1 && u >= p[k]!) u -= p[k++]!
      labels[i] = k
    }
    expect(fitTemperature(scores, labels, K)).toBeCloseTo(0.5, 1)
  })
  it('keeps confidences below 1 on perfectly separated data', () => {
    const scores = Float64Array.of(5, -5, -5, 5)
    const t = fitTemperature(scores, Int32Array.of(0, 1), 2)
    const p = Float64Array.of(5, -5)
    softmaxInPlace(p, 2, t)
    expect(p[0]).toBeLessThan(0.9)
    expect(p[0]).toBeGreaterThan(0.6)
  })
})

describe('stratifiedFolds', () => {
  it('deals every class evenly over the folds, reproducibly', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : i < 95 ? 1 : 2))
    const folds = stratifiedFolds(labels, 3, 5, 42)
    expect(folds).toEqual(stratifiedFolds(labels, 3, 5, 42))
    for (let f = 0; f < 5; f++) {
      const rows = foldRows(folds, f, true)
      expect(rows.length).toBe(20)
      expect(rows.filter((r) => labels[r] === 0).length).toBe(14)
      expect(foldRows(folds, f, false).length).toBe(80)
    }
  })
})
