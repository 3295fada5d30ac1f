/**
 * Brute-force references for the CRF kernels: every tag sequence enumerated, scored and summed.
 * @module
 */
import { expect } from 'vitest'
import {
  type CrfPotentials,
  crfPotentials,
  crfSequenceScore,
  crfStructure,
} from '../../src/nlu/entities/crf-inference.js'
import { crfEndAllowed, crfStartAllowed, crfTagCount, crfTransitionAllowed } from '../../src/nlu/entities/crf-tags.js'

/** Small deterministic generator (mulberry32) for weights in [-scale, scale]. */
export function rng(seed: number) {
  let a = seed >>> 0
  return (scale: number) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale
  }
}

/** Random weights and state scores for `numLabels` labels and `n` tokens, raw and as potentials. */
export function randomProblem(seed: number, numLabels: number, n: number, scale = 2) {
  const r = rng(seed)
  const L = crfTagCount(numLabels)
  const trans = Float64Array.from({ length: L * L }, () => r(scale))
  const start = Float64Array.from({ length: L }, () => r(scale))
  const end = Float64Array.from({ length: L }, () => r(scale))
  const pot = crfPotentials(crfStructure(L), trans, start, end)
  const scores = Float64Array.from({ length: n * L }, () => r(scale))
  return { L, pot, scores, trans, start, end }
}

/** Every tag sequence of length n (valid or not) with its score; invalid ones score -∞. */
export function* allSequences(L: number, n: number): Generator<number[]> {
  const tags = new Array<number>(n).fill(0)
  while (true) {
    yield [...tags]
    let i = n - 1
    while (i >= 0 && tags[i] === L - 1) tags[i--] = 0
    if (i < 0) return
    tags[i]!++
  }
}

export function isValid(tags: number[]): boolean {
  if (!crfStartAllowed(tags[0]!) || !crfEndAllowed(tags[tags.length - 1]!)) return false
  for (let t = 1; t < tags.length; t++) if (!crfTransitionAllowed(tags[t - 1]!, tags[t]!)) return false
  return true
}

export function bruteForce(pot: CrfPotentials, scores: Float64Array, n: number) {
  const L = pot.L
  let max = Number.NEGATIVE_INFINITY
  let best: number[] = []
  const all: { tags: number[]; score: number }[] = []
  for (const tags of allSequences(L, n)) {
    const score = crfSequenceScore(pot, scores, n, tags)
    expect(Number.isFinite(score)).toBe(isValid(tags))
    if (!Number.isFinite(score)) continue
    all.push({ tags, score })
    if (score > max) {
      max = score
      best = tags
    }
  }
  const logZ = max + Math.log(all.reduce((s, x) => s + Math.exp(x.score - max), 0))
  return { logZ, best, bestScore: max, all }
}
