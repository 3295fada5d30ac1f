import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { emptyTrainingData } from '../../data/types.js'
import { fmix32, H1_INIT, H2_INIT, step1, step2 } from '../hash.js'
import { paramError } from '../params.js'
import { SparseVector } from '../sparse.js'
import { FittedTfidf, NgramExtractor, TfidfFeaturizer, tfidfParams } from './tfidf.js'

const ctx = { seed: 0, data: emptyTrainingData() }
const fitTfidf = (texts: string[], params: Record<string, unknown>) =>
  new TfidfFeaturizer(tfidfParams(params)).fit(texts, ctx)
const values = (f: FittedTfidf, text: string) => {
  const v = new SparseVector()
  f.transformOne(text, v, 0, 1)
  return Array.from(v.val.subarray(0, v.n)).sort((a, b) => b - a)
}

describe('tfidf', () => {
  const corpus = ['a b', 'a c', 'b b d']
  it('matches hand-computed TF-IDF with sublinear tf, smoothed idf and L2 norm', () => {
    const f = fitTfidf(corpus, { ngramMax: 1 })
    expect(f.dim).toBe(4)
    const [b, d] = values(f, 'b b d')
    expect(b).toBeCloseTo(0.7898069290660905, 6)
    expect(d).toBeCloseTo(0.6133555370249717, 6)
    const raw = fitTfidf(corpus, { ngramMax: 1, sublinearTf: false })
    const [b2, d2] = values(raw, 'b b d')
    expect(b2).toBeCloseTo(0.8355915419449177, 6)
    expect(d2).toBeCloseTo(0.5493512310263033, 6)
  })
  it('scales and offsets columns as asked, and ignores unknown n-grams', () => {
    const f = fitTfidf(corpus, { ngramMax: 1, weight: 2 })
    const v = new SparseVector()
    f.transformOne('b b d zzz', v, 10, 0.5)
    expect(v.n).toBe(2)
    expect(Math.sqrt(v.sumSquares())).toBeCloseTo(1, 6)
    for (let i = 0; i < v.n; i++) expect(v.idx[i]).toBeGreaterThanOrEqual(10)
    f.transformOne('', v, 0, 1)
    expect(v.n).toBe(2)
  })
  it('counts word bigrams and character n-grams inside padded words', () => {
    expect(fitTfidf(['a b c'], { ngramMin: 1, ngramMax: 2 }).dim).toBe(5)
    expect(fitTfidf(['a b c'], { ngramMin: 2, ngramMax: 2 }).dim).toBe(2)
    // " ab " gives " a", "ab", "b ", " ab", "ab ", " ab " for 2..4
    expect(fitTfidf(['ab'], { analyzer: 'char_wb', ngramMin: 2, ngramMax: 4 }).dim).toBe(6)
    // a word shorter than ngramMin counts once, whole
    expect(fitTfidf(['a'], { analyzer: 'char_wb', ngramMin: 5, ngramMax: 6 }).dim).toBe(1)
  })
  it('prunes by document frequency and size, and drops stop words', () => {
    const texts = ['the card', 'the card arrived', 'the pin', 'a card']
    expect(fitTfidf(texts, { ngramMax: 1 }).dim).toBe(5)
    expect(fitTfidf(texts, { ngramMax: 1, minDf: 2 }).dim).toBe(2)
    expect(fitTfidf(texts, { ngramMax: 1, maxDf: 0.5 }).dim).toBe(3)
    expect(fitTfidf(texts, { ngramMax: 1, maxFeatures: 3 }).dim).toBe(3)
    expect(fitTfidf(texts, { ngramMax: 1, stopWords: 'english' }).dim).toBe(3)
    // stop words go before n-grams are formed: "the card arrived" gives the bigram "the arrived"
    expect(fitTfidf(texts, { ngramMax: 2, stopWords: ['card', 'pin'] }).dim).toBe(4)
  })
  it('does not depend on the order of the training texts', () => {
    const texts = ['I lost my card', 'where is my card', 'my pin is blocked', 'top up failed']
    const a = fitTfidf(texts, { analyzer: 'char_wb', ngramMin: 2, ngramMax: 4 }).toState()
    const b = fitTfidf([...texts].reverse(), { analyzer: 'char_wb', ngramMin: 2, ngramMax: 4 }).toState()
    expect(a).toEqual(b)
  })
  it('hashes into 2^hashBits columns', () => {
    const f = fitTfidf(corpus, { hashBits: 8 })
    expect(f.dim).toBe(256)
    const v = new SparseVector()
    f.transformOne('a b unseen words', v, 0, 1)
    expect(v.n).toBeGreaterThanOrEqual(4)
    for (let i = 0; i < v.n; i++) expect(v.idx[i]).toBeLessThan(256)
  })
  it('folds accents and case as configured', () => {
    const f = fitTfidf(['Café crème'], { foldAccents: true, ngramMax: 1 })
    expect(values(f, 'CAFE CREME')).toHaveLength(2)
    expect(values(fitTfidf(['Café'], { ngramMax: 1 }), 'cafe')).toHaveLength(0)
  })
  it('explains bad params by name, expectation and value', () => {
    expect(() => tfidfParams({ ngramMax: 9 })).toThrow(
      "The 'ngramMax' parameter of tfidf must be an int in [1, 8]. Got 9 instead.",
    )
    expect(() => tfidfParams({ analyzer: 'chars' })).toThrow(
      "The 'analyzer' parameter of tfidf must be one of 'word', 'char_wb'. Got 'chars' instead.",
    )
    expect(() => tfidfParams({ ngramMin: 3, ngramMax: 2 })).toThrow(/'ngramMin' .* at most 'ngramMax'/)
    expect(() => tfidfParams({ ngramMx: 2 })).toThrow(/tfidf has no parameter 'ngramMx'/)
    expect(() => tfidfParams({ hashBits: 10, maxFeatures: 5 })).toThrow(/either 'hashBits' or 'maxFeatures'/)
    expect(() => tfidfParams({ stopWords: 'german' })).toThrow(
      "must be 'english', a list of non-empty strings or null. Got 'german' instead.",
    )
  })
  it('refuses inconsistent saved state', () => {
    const state = fitTfidf(corpus, {}).toState()
    expect(() => FittedTfidf.fromState({ ...state, arrays: { ...state.arrays, idf: new Float32Array(1) } })).toThrow(
      paramError('tfidf', "The saved state of tfidf has a bad 'idf' section.").message,
    )
  })
})

describe('character n-gram keys', () => {
  // The reference: every substring of each padded word of ngramMin..ngramMax characters (a padded word shorter than
  // ngramMin, whole), hashed code unit by code unit.
  const reference = (words: string[], nMin: number, nMax: number) => {
    const out: string[] = []
    const key = (s: string) => {
      let a = H1_INIT ^ 0x9e3779b9
      let b = H2_INIT ^ 0x9e3779b9
      for (let i = 0; i < s.length; i++) {
        a = step1(a, s.charCodeAt(i))
        b = step2(b, s.charCodeAt(i))
      }
      return `${fmix32(a)}:${fmix32(b)}`
    }
    for (const w of words) {
      const p = ` ${w} `
      if (p.length < nMin) out.push(key(p))
      else
        for (let i = 0; i < p.length; i++)
          for (let n = nMin; n <= nMax && i + n <= p.length; n++) out.push(key(p.slice(i, i + n)))
    }
    return out
  }
  it('are the hashes of the substrings of each padded word, with or without stop words', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,9}$/), { maxLength: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        (words, nMin, extra, stop) => {
          const nMax = Math.min(8, nMin + extra)
          const ex = new NgramExtractor(
            tfidfParams({ analyzer: 'char_wb', ngramMin: nMin, ngramMax: nMax, stopWords: stop ? ['x9'] : null }),
          )
          const n = ex.extract(words.join(' '))
          const got = Array.from({ length: n }, (_, k) => `${ex.ka[k]}:${ex.kb[k]}`)
          expect(got).toEqual(reference(words, nMin, nMax))
        },
      ),
      { numRuns: 300, seed: 3 },
    )
  })
})

describe('character n-gram columns remembered by word', () => {
  it('give the vectors of looking every n-gram up, whatever the words seen before', () => {
    const corpus = ['the flight to Lisbon', 'cancel my reservation please', 'how much luggage', 'Zürich and Zurich']
    const params = { analyzer: 'char_wb', ngramMin: 2, ngramMax: 5 }
    const cached = fitTfidf(corpus, params)
    const plain = FittedTfidf.fromState(cached.toState())
    // Without its word memory the featurizer looks each n-gram up in the vocabulary.
    ;(plain as unknown as { words: undefined }).words = undefined
    const vector = (f: FittedTfidf, text: string) => {
      const v = new SparseVector()
      f.transformOne(text, v, 7, 0.5)
      return [Array.from(v.idx.subarray(0, v.n)), Array.from(v.val.subarray(0, v.n))]
    }
    const word = fc.oneof(
      fc.constantFrom('the', 'The', 'flight', 'ZÜRICH', 'zurich', 'lisbon', 'a', 'my', 'reservations'),
      fc.stringMatching(/^[a-eé]{1,24}$/),
    )
    fc.assert(
      fc.property(fc.array(fc.array(word, { maxLength: 12 }), { minLength: 1, maxLength: 6 }), (messages) => {
        for (const words of messages) {
          const text = words.join(' ')
          expect(vector(cached, text)).toEqual(vector(plain, text))
        }
      }),
      { numRuns: 300, seed: 5 },
    )
  })
})
