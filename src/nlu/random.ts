/**
 * A small seeded random number generator (SplitMix32 seeding a xorshift128), so every random choice in training
 * is reproducible from the `seed` alone and independent of `Math.random`.
 * @module
 */

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    let s = seed >>> 0
    const next = () => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next() | 1
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    let t = this.d
    const s = this.a
    this.d = this.c
    this.c = this.b
    this.b = s
    t ^= t << 11
    t ^= t >>> 8
    this.a = (t ^ s ^ (s >>> 19)) >>> 0
    return this.a
  }

  /** A uniform integer in `[0, n)`. */
  nextInt(n: number): number {
    return Math.floor((this.nextU32() / 4294967296) * n)
  }

  /** A uniform float in `[0, 1)`. */
  nextFloat(): number {
    return this.nextU32() / 4294967296
  }

  /** Shuffle `xs[0..n)` in place (Fisher–Yates). */
  shuffle(xs: Int32Array | number[], n = xs.length): void {
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1)
      const t = xs[i]!
      xs[i] = xs[j]!
      xs[j] = t
    }
  }
}

/** A seed derived from a base seed and a stream number, so parallel jobs draw independent sequences. */
export function deriveSeed(seed: number, stream: number): number {
  let z = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}
