import { describe, expect, it } from 'vitest'
import type { NumericArray } from '../component.js'
import { SparseVector } from '../sparse.js'
import { toyClassification } from '../testing.js'
import { FittedLinearClassifier } from './linear-model.js'
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
    expect(Object.keys(b.arrays)).toEqual(Object.keys(a.arrays))
    for (const [name, array] of Object.entries(a.arrays)) {
      expect(Buffer.from(b.arrays[name]!.buffer).equals(Buffer.from(array.buffer)), name).toBe(true)
    }
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
  const labels = ['a', 'b', 'c', 'd', 'e', 'f']
  it.each([
    ['linear_svm', (extra: object) => new LinearSvm(linearSvmParams({ workers: 0, ...extra }))],
    [
      'logistic_regression',
      (extra: object) => new LogisticRegression(logisticRegressionParams({ workers: 0, ...extra })),
    ],
  ])('%s adds classBias to the named intents only, in the model and in held-out confidences', async (_n, make) => {
    let heldPlain: Float32Array | undefined
    let heldBiased: Float32Array | undefined
    const plain = await make({}).fit(x, y, 6, { seed: 2, labels, onHeldOut: (p) => (heldPlain = p) })
    const biased = await make({ classBias: { c: 0.75, e: -0.25 } }).fit(x, y, 6, {
      seed: 2,
      labels,
      onHeldOut: (p) => (heldBiased = p),
    })
    expect(Array.from(biased.weights)).toEqual(Array.from(plain.weights))
    expect(biased.temperature).toBe(plain.temperature)
    const shift = [0, 0, 0.75, 0, -0.25, 0]
    for (let k = 0; k < 6; k++) expect(biased.intercept[k]).toBeCloseTo(plain.intercept[k]! + shift[k]!, 6)
    // softmax((s + b) / T) = softmax(s / T) reweighted by exp(b / T)
    const T = plain.temperature
    for (let r = 0; r < 3; r++) {
      const w = shift.map((b, k) => heldPlain![r * 6 + k]! * Math.exp(b / T))
      const z = w.reduce((a, v) => a + v, 0)
      for (let k = 0; k < 6; k++) expect(heldBiased![r * 6 + k]).toBeCloseTo(w[k]! / z, 5)
    }
    await expect(make({ classBias: { nope: 1 } }).fit(x, y, 6, { seed: 2, labels })).rejects.toThrow(
      /classBias names 'nope', which is not an intent/,
    )
  })
  it('linear_svm weighs the named intents by classWeight', async () => {
    const train = (classWeight: unknown) =>
      new LinearSvm(linearSvmParams({ workers: 0, calibration: 'none', classWeight })).fit(x, y, 6, { seed: 2, labels })
    const plain = await train(null)
    const mapped = await train({ b: 5 })
    const balanced = await train('balanced')
    // Only class b's one-vs-rest problem changes; the toy classes are equal-sized, so 'balanced' changes none.
    for (let f = 0; f < plain.nFeatures; f++) {
      for (const k of [0, 2, 3, 4, 5]) expect(mapped.weights[f * 6 + k]).toBe(plain.weights[f * 6 + k])
      for (let k = 0; k < 6; k++) expect(balanced.weights[f * 6 + k]).toBe(plain.weights[f * 6 + k])
    }
    let changed = 0
    for (let f = 0; f < plain.nFeatures; f++) if (mapped.weights[f * 6 + 1] !== plain.weights[f * 6 + 1]) changed++
    expect(changed).toBeGreaterThan(0)
    await expect(train({ z: 2 })).rejects.toThrow(/classWeight names 'z', which is not an intent/)
    expect(() => linearSvmParams({ classWeight: { b: 0 } })).toThrow(/'classWeight' parameter of linear_svm/)
  })
  it('logistic_regression weighs the named intents by classWeight', async () => {
    const train = (classWeight: unknown) =>
      new LogisticRegression(logisticRegressionParams({ workers: 0, calibration: 'none', classWeight })).fit(x, y, 6, {
        seed: 2,
        labels,
      })
    const plain = await train(null)
    const mapped = await train({ b: 5 })
    const balanced = await train('balanced')
    // The toy classes are equal-sized, so 'balanced' weighs every row 1 and changes nothing.
    expect(Array.from(balanced.weights)).toEqual(Array.from(plain.weights))
    // Weighing b's messages up raises the probability the model gives b on them.
    const meanProbOfB = (m: typeof plain) => {
      let sum = 0
      let n = 0
      const v = new SparseVector()
      for (let r = 0; r < x.rows; r++) {
        if (y[r] !== 1) continue
        v.clear()
        for (let j = x.indptr[r]!; j < x.indptr[r + 1]!; j++) v.push(x.indices[j]!, x.values[j]!)
        const out = new Float64Array(6)
        m.predictProba(v, out)
        sum += out[1]!
        n++
      }
      return sum / n
    }
    expect(meanProbOfB(mapped)).toBeGreaterThan(meanProbOfB(plain) + 0.01)
    await expect(train({ z: 2 })).rejects.toThrow(/classWeight names 'z', which is not an intent/)
    expect(() => logisticRegressionParams({ classWeight: { b: 0 } })).toThrow(
      /'classWeight' parameter of logistic_regression/,
    )
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

describe('sparse linear weights', () => {
  const base = (overrides: Record<string, NumericArray>) => ({
    json: { params: { weightPrecision: 'f32' }, nClasses: 3, nFeatures: 2, temperature: 1, weightLayout: 'sparse' },
    arrays: {
      weightOffsets: Uint32Array.of(0, 2, 3),
      weightClasses: Uint16Array.of(0, 2, 1),
      weightValues: Float32Array.of(0.5, -1, 2),
      intercept: Float32Array.of(0, 0.1, 0),
      ...overrides,
    },
  })

  it('scores like the dense matrix they come from', () => {
    const m = FittedLinearClassifier.fromState('linear_svm', base({}))
    const v = new SparseVector()
    v.push(0, 2)
    v.push(1, 1)
    const out = new Float64Array(3)
    m.decision(v, out)
    // feature 0 (value 2): class 0 += 2·0.5, class 2 += 2·(−1); feature 1 (value 1): class 1 += 2
    expect(Array.from(out)).toEqual([1, Math.fround(0.1) + 2, -2])
    const dense = new FittedLinearClassifier(
      'linear_svm',
      3,
      2,
      Float32Array.of(0.5, 0, -1, 0, 2, 0),
      Float32Array.of(0, 0.1, 0),
      1,
      { weightPrecision: 'f32' },
    )
    const again = new Float64Array(3)
    dense.decision(v, again)
    expect(Array.from(again)).toEqual(Array.from(out))
    // a mostly-zero matrix is kept and saved sparse, a small dense one dense
    const w = new Float32Array(200 * 10)
    for (let f = 0; f < 200; f += 3) w[f * 10 + (f % 10)] = 1
    const big = new FittedLinearClassifier('linear_svm', 10, 200, w, new Float32Array(10), 1, {
      weightPrecision: 'f16',
    })
    expect(big.toState().json).toMatchObject({ weightLayout: 'sparse' })
    expect(big.toState().half).toEqual(['weightValues'])
    expect(dense.toState().arrays.weights).toBeInstanceOf(Float32Array)
  })

  it('refuses offsets, classes or values that do not fit', () => {
    const bad: Array<[Record<string, NumericArray>, RegExp]> = [
      [{ weightOffsets: Uint32Array.of(0, 2, 9) }, /weightValues/],
      [{ weightOffsets: Uint32Array.of(1, 2, 3) }, /weightOffsets/],
      [{ weightClasses: Uint16Array.of(0, 3, 1) }, /weightClasses/],
      [{ weightClasses: Uint16Array.of(2, 0, 1) }, /weightClasses/],
      [{ weightValues: Float32Array.of(0.5, Number.NaN, 2) }, /not finite/],
    ]
    const huge = base({})
    huge.json.nClasses = 2 ** 20
    huge.arrays.intercept = new Float32Array(2 ** 20)
    huge.arrays.weightOffsets = new Uint32Array(2 ** 9 + 1)
    huge.json.nFeatures = 2 ** 9
    expect(() => FittedLinearClassifier.fromState('linear_svm', huge)).toThrow(/more weights than a model may have/)
    for (const [overrides, message] of bad) {
      expect(() => FittedLinearClassifier.fromState('linear_svm', base(overrides))).toThrow(message)
    }
  })
})
