import { describe, expect, it } from 'vitest'
import { toyClassification } from '../testing.js'
import { LinearSvm, linearSvmParams } from './linear-svm.js'
import { LogisticRegression, logisticRegressionParams } from './logistic-regression.js'

describe('linear classifiers', () => {
  const { x, y } = toyClassification(6, 30, 9)
  it.each([
    [
      'linear_svm',
      () => new LinearSvm(linearSvmParams({ workers: 0 })),
      () => new LinearSvm(linearSvmParams({ workers: 2 })),
    ],
    [
      'logistic_regression',
      () => new LogisticRegression(logisticRegressionParams({ workers: 0 })),
      () => new LogisticRegression(logisticRegressionParams({ workers: 2 })),
    ],
  ])('%s gives bit-identical models in worker threads and in the calling thread', async (_name, inThread, parallel) => {
    const a = (await inThread().fit(x, y, 6, { seed: 4 })).toState()
    const b = (await parallel().fit(x, y, 6, { seed: 4 })).toState()
    const { params: _pa, ...ja } = a.json as Record<string, unknown>
    const { params: _pb, ...jb } = b.json as Record<string, unknown>
    expect(jb).toEqual(ja)
    expect(Buffer.from(b.arrays.weights!.buffer).equals(Buffer.from(a.arrays.weights!.buffer))).toBe(true)
    expect(Buffer.from(b.arrays.intercept!.buffer).equals(Buffer.from(a.arrays.intercept!.buffer))).toBe(true)
  })
  it('reports held-out probabilities for every row and fits a temperature on them', async () => {
    let held: Float32Array | undefined
    const m = await new LinearSvm(linearSvmParams({ workers: 0 })).fit(x, y, 6, {
      seed: 1,
      onHeldOut: (p) => {
        held = p
      },
    })
    expect(held).toHaveLength(x.rows * 6)
    for (let r = 0; r < x.rows; r++) {
      const row = Array.from(held!.subarray(r * 6, r * 6 + 6))
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5)
    }
    expect(m.temperature).toBeGreaterThan(0)
    expect(m.temperature).not.toBe(1)
    const uncalibrated = await new LinearSvm(linearSvmParams({ workers: 0, calibration: 'none' })).fit(x, y, 6, {
      seed: 1,
    })
    expect(uncalibrated.temperature).toBe(1)
  })
  it('reports progress up to 1 and stops when aborted', async () => {
    const seen: number[] = []
    await new LinearSvm(linearSvmParams({ workers: 0 })).fit(x, y, 6, { seed: 1, onProgress: (f) => seen.push(f) })
    expect(seen.at(-1)).toBe(1)
    expect([...seen].sort((a, b) => a - b)).toEqual(seen)
    const ac = new AbortController()
    ac.abort()
    await expect(
      new LinearSvm(linearSvmParams({ workers: 0 })).fit(x, y, 6, { seed: 1, signal: ac.signal }),
    ).rejects.toThrow()
    await expect(
      new LinearSvm(linearSvmParams({ workers: 2 })).fit(x, y, 6, { seed: 1, signal: ac.signal }),
    ).rejects.toThrow()
  })
  it('handles a single class and validates params', async () => {
    const one = await new LinearSvm(linearSvmParams({})).fit(x, new Int32Array(x.rows), 1, { seed: 1 })
    expect(one.nClasses).toBe(1)
    expect(() => linearSvmParams({ C: 0 })).toThrow(
      "The 'C' parameter of linear_svm must be a number in (0, 1000000]. Got 0 instead.",
    )
    expect(() => logisticRegressionParams({ maxEpochs: 1.5 })).toThrow(/'maxEpochs' .* must be an int in \[1, 10000\]/)
  })
})
