/**
 * IEEE 754 half precision (binary16) for model weights: half the bytes of float32, with a relative precision of
 * 2⁻¹¹, far finer than the noise in learned weights. Node 20 has no Float16Array, so values travel as their bit
 * patterns in a Uint16Array and are widened to float32 to compute with.
 * @module
 */

/** Largest finite half-precision value. */
export const HALF_MAX = 65504

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** The binary16 bit pattern nearest to `v` (round to nearest, ties to even; overflow gives ±Infinity). */
export function halfBits(v: number): number {
  f32[0] = v
  const x = u32[0]!
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0)
  const e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    // Subnormal half: m × 2⁻²⁴.
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    let half = mant >>> shift
    const rem = mant & ((1 << shift) - 1)
    const mid = 1 << (shift - 1)
    if (rem > mid || (rem === mid && (half & 1) === 1)) half++
    return sign | half
  }
  let half = (e << 10) | (mant >>> 13)
  const rem = mant & 0x1fff
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++
  return sign | half
}

let table: Float32Array | undefined

/** Every half bit pattern's value, built once (256 KiB). */
function halfTable(): Float32Array {
  if (table) return table
  table = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1
    const e = (h >>> 10) & 0x1f
    const m = h & 0x3ff
    table[h] =
      e === 0
        ? s * m * 2 ** -24
        : e === 0x1f
          ? m !== 0
            ? Number.NaN
            : s * Number.POSITIVE_INFINITY
          : s * (1 + m / 1024) * 2 ** (e - 15)
  }
  return table
}

/** The value of a half bit pattern. */
export function halfValue(bits: number): number {
  return halfTable()[bits & 0xffff]!
}

/** Bit patterns of `values`, each rounded to the nearest half. */
export function toHalfBits(values: Float32Array | Float64Array): Uint16Array {
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]!)
  return out
}

/** Half bit patterns widened to float32 (exactly). */
export function fromHalfBits(bits: Uint16Array): Float32Array {
  const t = halfTable()
  const out = new Float32Array(bits.length)
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!
  return out
}

/**
 * In place: round every value to the nearest half, clamped to ±{@link HALF_MAX} so that no weight becomes
 * infinite. A model rounds its weights with this before use, so that it predicts the same before and after saving.
 */
export function roundToHalf(values: Float32Array): void {
  const t = halfTable()
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    values[i] = t[halfBits(v > HALF_MAX ? HALF_MAX : v < -HALF_MAX ? -HALF_MAX : v)]!
  }
}

/** Whether every value is a finite half value (so it is stored exactly as half). */
export function isHalfExact(values: Float32Array): boolean {
  const t = halfTable()
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isFinite(v) || t[halfBits(v)] !== v) return false
  }
  return true
}
