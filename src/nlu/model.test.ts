import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rankByScore, rankTop } from './model.js'

describe('rankByScore', () => {
  it('orders by descending score, ties by index, as a stable sort does', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 0.1, 0.25, 0.5, 1, 1e-300, Number.NaN), { maxLength: 200 }), (values) => {
        const score = Float64Array.from(values)
        const order = new Int32Array(values.length + 3)
        rankByScore(score, order, values.length)
        const key = (k: number) => (Number.isNaN(score[k]!) ? Number.NEGATIVE_INFINITY : score[k]!)
        const expected = values.map((_, k) => k).sort((a, b) => key(b) - key(a) || a - b)
        expect(Array.from(order.subarray(0, values.length))).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })

  it('sorts distinct random scores of every length up to 300', () => {
    for (let n = 0; n <= 300; n += 7) {
      const score = Float64Array.from(
        { length: n },
        (_, i) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453),
      )
      const order = new Int32Array(n)
      rankByScore(score, order, n)
      for (let i = 1; i < n; i++) expect(score[order[i - 1]!]!).toBeGreaterThanOrEqual(score[order[i]!]!)
      expect(new Set(order).size).toBe(n)
    }
  })

  it('ranks the best k as the full sort does, for every k', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0, 0.1, 0.25, 0.5, 1, 1e-300, Number.NaN), { minLength: 1, maxLength: 200 }),
        fc.nat(),
        (values, kRaw) => {
          const n = values.length
          const k = kRaw % (n + 1)
          const score = Float64Array.from(values)
          const full = new Int32Array(n)
          rankByScore(score, full, n)
          const top = new Int32Array(n)
          rankTop(score, top, n, k)
          expect(Array.from(top.subarray(0, k))).toEqual(Array.from(full.subarray(0, k)))
        },
      ),
      { numRuns: 500 },
    )
  })
})
