/**
 * A small seeded random source for fold assignment, subsampling and random search: equal seeds give equal
 * splits and equal trials on every machine.
 * @module
 */

/** A deterministic generator of floats in [0, 1). */
export type Random = () => number

/** SplitMix32: fast, well mixed, and one 32-bit word of state, so a seed is all it takes to replay it. */
export function createRandom(seed: number): Random {
  let state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    z ^= z >>> 16
    return (z >>> 0) / 4294967296
  }
}

/** A seed derived from a parent seed and a label, so sub-tasks (fold 3, trial 7) get independent streams. */
export function deriveSeed(seed: number, ...labels: Array<string | number>): number {
  let h = (Math.trunc(seed) ^ 0x811c9dc5) >>> 0
  for (const label of labels) {
    const s = String(label)
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
    h = Math.imul(h ^ 0xff, 0x01000193) >>> 0
  }
  return h
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
  return items
}

/** An integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n)
}
