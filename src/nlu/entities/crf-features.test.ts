import { describe, expect, it } from 'vitest'
import { tokenize } from '../tokenizer.js'
import { CrfFeaturizer } from './crf-features.js'

function features(f: CrfFeaturizer, text: string): number[][] {
  const tokens = tokenize(text)
  const { keys, offsets } = f.extract(text, tokens)
  return tokens.map((_, t) => Array.from(keys.subarray(offsets[t]!, offsets[t + 1]!)))
}

const plain = new CrfFeaturizer(20, 2, [], [], false)

describe('CrfFeaturizer', () => {
  it('hashes every feature into [0, 2^hashBits)', () => {
    const small = new CrfFeaturizer(10, 2, [], [], false)
    for (const row of features(small, 'Book 2 tickets to São Paulo, ASAP! 東京 x')) {
      for (const key of row) expect(key).toBeLessThan(1024)
      expect(new Set(row).size).toBeGreaterThan(row.length - 3)
    }
  })

  it('gives a token the same word features whatever its case, and different shape features', () => {
    const [upper] = features(plain, 'Paris')
    const [lower] = features(plain, 'paris')
    const shared = upper!.filter((k) => lower!.includes(k))
    // bias, word, 4 affixes, 4 context words, 2 context shapes and 2 bigrams agree; shape, short shape and title differ.
    expect(shared.length).toBe(upper!.length - 3)
    expect(lower!.length).toBe(upper!.length - 1)
  })

  it('emits flags for digits, title case and upper case', () => {
    const [digits, title, upper, lower] = features(plain, '2024 Rome NASA rome')
    const base = lower!.length
    expect(digits!.length).toBe(base + 1)
    expect(title!.length).toBe(base + 1)
    expect(upper!.length).toBe(base + 1)
  })

  it('sees the context window: the same word in different contexts shares only its own features', () => {
    const a = features(plain, 'fly to rome today')[2]!
    const b = features(plain, 'drive to rome now')[2]!
    const shared = a.filter((k) => b.includes(k)).length
    // The word two to the left, the word one to the right and the right bigram differ; the shapes agree.
    expect(shared).toBe(a.length - 3)
    const wide = new CrfFeaturizer(20, 3, [], [], false)
    expect(features(wide, 'fly to rome today')[2]!.length).toBe(a.length + 2)
  })

  it('marks leftmost-longest lookup matches per table, with their position', () => {
    const f = new CrfFeaturizer(
      20,
      2,
      [
        { name: 'city', elements: ['New York', 'york city', 'Rome', 'new'] },
        { name: 'borough', elements: ['York City'] },
      ],
      [],
      false,
    )
    const text = 'new YORK city and rome or york'
    const withLookups = features(f, text)
    const without = features(plain, text)
    const extra = withLookups.map((row, t) => row.length - without[t]!.length)
    // city: "new york" (B, L), "rome" (U); borough: "york city" (B, L). A lone "york" matches nothing.
    expect(extra).toEqual([1, 2, 1, 0, 1, 0, 0])
    const bKey = withLookups[0]!.filter((k) => !without[0]!.includes(k))
    const uKey = withLookups[4]!.filter((k) => !without[4]!.includes(k))
    expect(bKey).not.toEqual(uKey)
  })

  it('marks tokens overlapping a regex match', () => {
    const f = new CrfFeaturizer(20, 2, [], [{ name: 'code', patterns: ['[A-Z]{2}-\\d+', 'zz'] }], true)
    const text = 'use AB-12 or fizz now'
    const extra = features(f, text).map((row, t) => row.length - features(plain, text)[t]!.length)
    expect(extra).toEqual([0, 1, 1, 0, 1, 0])
  })

  it('reuses its buffers across calls without mixing results', () => {
    const f = new CrfFeaturizer(20, 2, [{ name: 'c', elements: ['rome'] }], [{ name: 'd', patterns: ['\\d'] }], false)
    const long = features(f, 'a b c d e f g h i j k l m n o p q r s t u v w x y z rome 1 '.repeat(20))
    const first = features(f, 'to rome 2')
    features(f, 'x')
    expect(features(f, 'to rome 2')).toEqual(first)
    expect(long.length).toBe(560)
  })
})
