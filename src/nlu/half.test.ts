import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromHalfBits, HALF_MAX, halfBits, halfValue, isHalfExact, roundToHalf, toHalfBits } from './half.js'

/** The nearest half by search over every finite half, ties to the even bit pattern. */
function nearestHalf(v: number): number {
  let best = 0
  let bestErr = Number.POSITIVE_INFINITY
  for (let h = 0; h < 0x10000; h++) {
    const x = halfValue(h)
    if (!Number.isFinite(x)) continue
    const err = Math.abs(x - Math.fround(v))
    if (err < bestErr || (err === bestErr && (h & 1) === 0 && Object.is(Math.sign(x), Math.sign(v) || 0))) {
      best = h
      bestErr = err
    }
  }
  return best
}

describe('half precision', () => {
  it('decodes known bit patterns', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555].map(halfValue)).toEqual([
      1,
      -2,
      65504,
      2 ** -24,
      2 ** -14,
      0.333251953125,
    ])
    expect(halfValue(0x7c00)).toBe(Number.POSITIVE_INFINITY)
    expect(Number.isNaN(halfValue(0x7e00))).toBe(true)
    expect(Object.is(halfValue(0x8000), -0)).toBe(true)
  })

  it('round-trips every finite half exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = halfValue(h)
      if (Number.isNaN(v)) continue
      expect(halfBits(v)).toBe(h)
    }
  })

  it('rounds to the nearest half, ties to even', () => {
    expect(halfValue(halfBits(1 + 2 ** -11))).toBe(1) // tie between 1 and 1 + 2^-10: even wins
    expect(halfValue(halfBits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9)
    expect(halfValue(halfBits(2 ** -25))).toBe(0) // tie between 0 and the smallest subnormal
    expect(halfValue(halfBits(65520))).toBe(Number.POSITIVE_INFINITY)
    fc.assert(
      fc.property(fc.float({ min: -70000, max: 70000, noNaN: true }), (v) => {
        const h = halfBits(v)
        if (Math.abs(v) >= 65520) expect(Math.abs(halfValue(h))).toBe(Number.POSITIVE_INFINITY)
        else expect(Math.abs(halfValue(h) - v)).toBe(Math.abs(halfValue(nearestHalf(v)) - v))
      }),
      { numRuns: 60 },
    )
  })

  it('rounds arrays in place, clamped to the finite range, and converts both ways', () => {
    const a = Float32Array.of(0.1, -1e6, 1e6, 1.2345, 0)
    roundToHalf(a)
    expect(Array.from(a)).toEqual([halfValue(halfBits(0.1)), -HALF_MAX, HALF_MAX, halfValue(halfBits(1.2345)), 0])
    expect(isHalfExact(a)).toBe(true)
    expect(isHalfExact(Float32Array.of(0.1))).toBe(false)
    expect(Array.from(fromHalfBits(toHalfBits(a)))).toEqual(Array.from(a))
  })
})
