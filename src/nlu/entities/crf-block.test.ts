import { describe, expect, it } from 'vitest'
import { bruteForce, randomProblem } from '../../../test/helpers/crf-brute-force.js'
import {
  addBlockCounts,
  crfBlock,
  crfBlockCounts,
  crfBlockForwardBackward,
  crfBlockScratch,
  crfBlockSpanProb,
  crfBlockViterbi,
  setBlockWeights,
} from './crf-block.js'
import { crfBackward, crfExpectations, crfForward, crfViterbi } from './crf-inference.js'

describe('crf block kernels', () => {
  for (const [seed, labels, n] of [
    [11, 1, 1],
    [12, 1, 5],
    [13, 2, 4],
    [14, 3, 3],
  ] as const) {
    it(`match brute-force enumeration (seed ${seed}, ${labels} labels, ${n} tokens)`, () => {
      const { L, pot, scores, trans, start, end } = randomProblem(seed, labels, n)
      const brute = bruteForce(pot, scores, n)
      const b = crfBlock(labels)
      setBlockWeights(b, trans, start, end)
      const sc = crfBlockScratch(b, n)

      const tags = new Uint16Array(n)
      expect(crfBlockViterbi(b, scores, n, sc, tags)).toBeCloseTo(brute.bestScore, 10)
      expect(Array.from(tags)).toEqual(brute.best)

      const node = new Float64Array(n * L)
      const counts = crfBlockCounts(labels)
      expect(crfBlockForwardBackward(b, scores, n, sc, node, counts)).toBeCloseTo(brute.logZ, 10)
      const pairs = new Float64Array(L * L)
      addBlockCounts(b, counts, pairs)
      const bruteNode = new Float64Array(n * L)
      const brutePairs = new Float64Array(L * L)
      for (const { tags: y, score } of brute.all) {
        const p = Math.exp(score - brute.logZ)
        for (let t = 0; t < n; t++) bruteNode[t * L + y[t]!]! += p
        for (let t = 1; t < n; t++) brutePairs[y[t - 1]! * L + y[t]!]! += p
      }
      for (let k = 0; k < n * L; k++) expect(node[k]).toBeCloseTo(bruteNode[k]!, 10)
      for (let k = 0; k < L * L; k++) expect(pairs[k]).toBeCloseTo(brutePairs[k]!, 10)

      // Span marginals of every sub-span of the best path.
      for (let first = 0; first < n; first++) {
        for (let last = first; last < n; last++) {
          const p = brute.all
            .filter((x) => x.tags.slice(first, last + 1).every((v, i) => v === brute.best[first + i]))
            .reduce((s, x) => s + Math.exp(x.score - brute.logZ), 0)
          expect(crfBlockSpanProb(b, sc, tags, first, last)).toBeCloseTo(p, 10)
        }
      }
    })
  }

  it('agrees with the generic log-space passes on longer sequences', () => {
    const labels = 6
    const n = 40
    const { L, pot, scores, trans, start, end } = randomProblem(21, labels, n, 3)
    const b = crfBlock(labels)
    setBlockWeights(b, trans, start, end)
    const sc = crfBlockScratch(b, n)
    const alpha = new Float64Array(n * L)
    const beta = new Float64Array(n * L)
    const logZ = crfForward(pot, scores, n, alpha)
    crfBackward(pot, scores, n, beta)
    const node = new Float64Array(n * L)
    const csr = new Float64Array(pot.predIdx.length)
    crfExpectations(pot, scores, n, alpha, beta, logZ, node, csr)
    const blockNode = new Float64Array(n * L)
    expect(crfBlockForwardBackward(b, scores, n, sc, blockNode)).toBeCloseTo(logZ, 9)
    for (let k = 0; k < n * L; k++) expect(blockNode[k]).toBeCloseTo(node[k]!, 10)
    const a = new Uint16Array(n)
    const c = new Uint16Array(n)
    crfViterbi(pot, scores, n, a, new Float64Array(n * L), new Int32Array(n * L))
    crfBlockViterbi(b, scores, n, sc, c)
    expect(Array.from(c)).toEqual(Array.from(a))
  })

  it('returns NaN, not a wrong number, when probability space underflows', () => {
    const labels = 2
    const n = 6
    const { scores, trans, start, end } = randomProblem(5, labels, n, 2000)
    const b = crfBlock(labels)
    setBlockWeights(b, trans, start, end)
    const sc = crfBlockScratch(b, n)
    const counts = crfBlockCounts(labels)
    const result = crfBlockForwardBackward(b, scores, n, sc, undefined, counts)
    expect(Number.isNaN(result)).toBe(true)
    expect(counts.block.every((v) => v === 0)).toBe(true)
  })
})
