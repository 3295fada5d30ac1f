import { describe, expect, it } from 'vitest'
import {
  type CrfPotentials,
  crfBackward,
  crfExpectations,
  crfForward,
  crfPotentials,
  crfSequenceScore,
  crfSpanLogProb,
  crfStructure,
  crfViterbi,
} from './crf-inference.js'
import { crfEndAllowed, crfStartAllowed, crfTagCount, crfTransitionAllowed } from './crf-tags.js'

/** Small deterministic generator (mulberry32) for weights in [-scale, scale]. */
function rng(seed: number) {
  let a = seed >>> 0
  return (scale: number) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale
  }
}

function randomProblem(seed: number, numLabels: number, n: number, scale = 2) {
  const r = rng(seed)
  const L = crfTagCount(numLabels)
  const pot = crfPotentials(
    crfStructure(L),
    Array.from({ length: L * L }, () => r(scale)),
    Array.from({ length: L }, () => r(scale)),
    Array.from({ length: L }, () => r(scale)),
  )
  const scores = Float64Array.from({ length: n * L }, () => r(scale))
  return { L, pot, scores }
}

/** Every tag sequence of length n (valid or not) with its score; invalid ones score -∞. */
function* allSequences(L: number, n: number): Generator<number[]> {
  const tags = new Array<number>(n).fill(0)
  while (true) {
    yield [...tags]
    let i = n - 1
    while (i >= 0 && tags[i] === L - 1) tags[i--] = 0
    if (i < 0) return
    tags[i]!++
  }
}

function isValid(tags: number[]): boolean {
  if (!crfStartAllowed(tags[0]!) || !crfEndAllowed(tags[tags.length - 1]!)) return false
  for (let t = 1; t < tags.length; t++) if (!crfTransitionAllowed(tags[t - 1]!, tags[t]!)) return false
  return true
}

function bruteForce(pot: CrfPotentials, scores: Float64Array, n: number) {
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

describe('crf inference', () => {
  for (const [seed, labels, n] of [
    [1, 1, 1],
    [2, 1, 5],
    [3, 2, 4],
    [4, 2, 3],
  ] as const) {
    it(`matches brute-force enumeration (seed ${seed}, ${labels} labels, ${n} tokens)`, () => {
      const { L, pot, scores } = randomProblem(seed, labels, n)
      const brute = bruteForce(pot, scores, n)
      const alpha = new Float64Array(n * L)
      const beta = new Float64Array(n * L)
      const work = new Float64Array(2 * L)
      const logZ = crfForward(pot, scores, n, alpha, work)
      expect(logZ).toBeCloseTo(brute.logZ, 10)
      crfBackward(pot, scores, n, beta, work)
      // The backward pass gives the same partition function.
      let sum = 0
      for (let j = 0; j < L; j++) sum += Math.exp(pot.start[j]! + scores[j]! + beta[j]! - logZ)
      expect(sum).toBeCloseTo(1, 10)

      const tags = new Uint16Array(n)
      const best = crfViterbi(pot, scores, n, tags, new Float64Array(n * L), new Int32Array(n * L))
      expect(best).toBeCloseTo(brute.bestScore, 10)
      expect(Array.from(tags)).toEqual(brute.best)

      // Node and pair marginals against sums over all sequences.
      const node = new Float64Array(n * L)
      const trans = new Float64Array(L * L)
      crfExpectations(pot, scores, n, alpha, beta, logZ, node, trans, work)
      const bruteNode = new Float64Array(n * L)
      const bruteTrans = new Float64Array(L * L)
      for (const { tags: y, score } of brute.all) {
        const p = Math.exp(score - brute.logZ)
        for (let t = 0; t < n; t++) bruteNode[t * L + y[t]!]! += p
        for (let t = 1; t < n; t++) bruteTrans[y[t - 1]! * L + y[t]!]! += p
      }
      for (let k = 0; k < n * L; k++) expect(node[k]).toBeCloseTo(bruteNode[k]!, 10)
      for (let k = 0; k < L * L; k++) expect(trans[k]).toBeCloseTo(bruteTrans[k]!, 10)

      // The span marginal of the best path's first two tags.
      if (n >= 2) {
        const p = brute.all
          .filter((x) => x.tags[0] === brute.best[0] && x.tags[1] === brute.best[1])
          .reduce((s, x) => s + Math.exp(x.score - brute.logZ), 0)
        expect(Math.exp(crfSpanLogProb(pot, scores, alpha, beta, logZ, tags, 0, 1))).toBeCloseTo(p, 10)
      }
    })
  }

  it('stays finite with large scores, where plain exponentials overflow', () => {
    const { L, pot, scores } = randomProblem(7, 2, 30, 400)
    const alpha = new Float64Array(30 * L)
    const beta = new Float64Array(30 * L)
    const work = new Float64Array(2 * L)
    const logZ = crfForward(pot, scores, 30, alpha, work)
    crfBackward(pot, scores, 30, beta, work)
    expect(Number.isFinite(logZ)).toBe(true)
    const node = new Float64Array(30 * L)
    const trans = new Float64Array(L * L)
    crfExpectations(pot, scores, 30, alpha, beta, logZ, node, trans, work)
    for (let t = 0; t < 30; t++) {
      let s = 0
      for (let j = 0; j < L; j++) s += node[t * L + j]!
      expect(s).toBeCloseTo(1, 8)
    }
    expect(trans.reduce((a, b) => a + b, 0)).toBeCloseTo(29, 6)
  })

  it('breaks Viterbi ties towards the lower tag, deterministically', () => {
    const L = crfTagCount(1)
    const pot = crfPotentials(crfStructure(L), new Float64Array(L * L), new Float64Array(L), new Float64Array(L))
    const tags = new Uint16Array(3)
    crfViterbi(pot, new Float64Array(3 * L), 3, tags, new Float64Array(3 * L), new Int32Array(3 * L))
    expect(Array.from(tags)).toEqual([0, 0, 0])
  })
})
