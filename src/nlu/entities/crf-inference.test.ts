import { describe, expect, it } from 'vitest'
import { bruteForce, randomProblem } from '../../../test/helpers/crf-brute-force.js'
import {
  crfBackward,
  crfExpectations,
  crfForward,
  crfPotentials,
  crfSpanLogProb,
  crfStructure,
  crfViterbi,
} from './crf-inference.js'
import { crfTagCount } from './crf-tags.js'

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
      const logZ = crfForward(pot, scores, n, alpha)
      expect(logZ).toBeCloseTo(brute.logZ, 10)
      crfBackward(pot, scores, n, beta)
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
      const csr = new Float64Array(pot.predIdx.length)
      crfExpectations(pot, scores, n, alpha, beta, logZ, node, csr)
      const trans = new Float64Array(L * L)
      for (let j = 0; j < L; j++) {
        for (let k = pot.predStart[j]!; k < pot.predStart[j + 1]!; k++) trans[pot.predIdx[k]! * L + j] = csr[k]!
      }
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
    const logZ = crfForward(pot, scores, 30, alpha)
    crfBackward(pot, scores, 30, beta)
    expect(Number.isFinite(logZ)).toBe(true)
    const node = new Float64Array(30 * L)
    const trans = new Float64Array(pot.predIdx.length)
    crfExpectations(pot, scores, 30, alpha, beta, logZ, node, trans)
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
