import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EntityAnnotation } from '../../data/types.js'
import { FittedRegexFeatures, RegexFeaturizer, regexFeaturesParams } from '../featurizers/regex-features.js'
import { SparseVector } from '../sparse.js'
import { toyTrainingData } from '../testing.js'
import { tokenize } from '../tokenizer.js'
import type { EntityPrediction } from '../types.js'
import { fromBilou, parseTag, toBilou } from './bilou.js'
import {
  FittedLookupEntities,
  LookupEntities,
  LookupMatcher,
  lookupEntitiesParams,
  MAX_LOOKUP_TOKENS,
  shareLookupMatchers,
} from './lookup.js'
import { compilePattern, FittedRegexEntities, RegexEntities, regexEntitiesParams } from './regex.js'
import { applySynonyms, buildSynonymMap } from './synonyms.js'

describe('BILOU', () => {
  const text = 'fly from New York City to Paris on Monday'
  const tokens = tokenize(text)
  const ents: EntityAnnotation[] = [
    { start: 9, end: 22, entity: 'city', value: 'New York City' },
    { start: 26, end: 31, entity: 'city', value: 'Paris' },
    { start: 35, end: 41, entity: 'day', value: 'Monday' },
  ]
  it('tags tokens and decodes the tags back to the same spans', () => {
    const tags = toBilou(tokens, ents)
    expect(tags).toEqual(['O', 'O', 'B-city', 'I-city', 'L-city', 'O', 'U-city', 'O', 'U-day'])
    expect(fromBilou(tokens, tags).map((s) => [s.label, text.slice(s.start, s.end)])).toEqual([
      ['city', 'New York City'],
      ['city', 'Paris'],
      ['day', 'Monday'],
    ])
  })
  it('tags by another label when asked, and keeps the first of overlapping entities', () => {
    const roles = toBilou(
      tokens,
      [
        { ...ents[0]!, role: 'from' },
        { ...ents[1]!, role: 'to' },
      ],
      (e) => e.role ?? 'O',
    )
    expect(roles.filter((t) => t !== 'O')).toEqual(['B-from', 'I-from', 'L-from', 'U-to'])
    const overlap = toBilou(tokens, [ents[0]!, { start: 13, end: 17, entity: 'state', value: 'York' }])
    expect(overlap.slice(2, 5)).toEqual(['B-city', 'I-city', 'L-city'])
  })
  it('decodes broken sequences leniently', () => {
    const t = tokenize('a b c d e')
    expect(fromBilou(t, ['I-x', 'L-x', 'B-y', 'O', 'U-z']).map((s) => [s.label, s.firstToken, s.lastToken])).toEqual([
      ['x', 0, 1],
      ['y', 2, 2],
      ['z', 4, 4],
    ])
    expect(fromBilou(t, ['B-x', 'I-y', 'L-y', 'city', 'O']).map((s) => [s.label, s.firstToken, s.lastToken])).toEqual([
      ['x', 0, 0],
      ['y', 1, 2],
      ['city', 3, 3],
    ])
    expect(parseTag('U-city')).toEqual({ prefix: 'U', label: 'city' })
  })
  it('round-trips any set of non-overlapping token-aligned entities', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('O', 'a', 'b'), { minLength: 1, maxLength: 12 }), (labels) => {
        const words = labels.map((_, i) => `w${i}`)
        const toks = tokenize(words.join(' '))
        const spans: EntityAnnotation[] = []
        for (let i = 0; i < labels.length; ) {
          let j = i
          while (j + 1 < labels.length && labels[j + 1] === labels[i] && (j - i) % 3 !== 2) j++
          if (labels[i] !== 'O') spans.push({ start: toks[i]!.start, end: toks[j]!.end, entity: labels[i]!, value: '' })
          i = j + 1
        }
        const decoded = fromBilou(toks, toBilou(toks, spans))
        expect(decoded.map((s) => [s.start, s.end, s.label])).toEqual(spans.map((s) => [s.start, s.end, s.entity]))
      }),
    )
  })
})

describe('regex and lookup entities', () => {
  const data = toyTrainingData()
  it('extracts regex entities with Unicode word boundaries', () => {
    const x = new RegexEntities(regexEntitiesParams({})).fit(data, { seed: 0 })
    expect(x.extract('codes 12345 and 123456 and é54321', [])).toEqual([
      { start: 6, end: 11, entity: 'zipcode', value: '12345', extractor: 'regex_entities', confidence_entity: 1 },
    ])
    const loose = new RegexEntities(regexEntitiesParams({ useWordBoundaries: false })).fit(data, { seed: 0 })
    expect(loose.extract('123456', []).map((e) => e.value)).toEqual(['12345'])
  })
  it('reports a span found by several patterns of one name once, sorted by position', () => {
    const x = new FittedRegexEntities(regexEntitiesParams({}), [
      { name: 'code', patterns: ['[a-z]+\\d', '\\d{3}', 'ab\\d'] },
      { name: 'num', patterns: ['\\d{3}'] },
      // A saved state may repeat a name: its spans are still reported once.
      { name: 'code', patterns: ['\\d{3}', 'zz'] },
    ])
    const got = x.extract('ab1 zz 123 456 zz', []).map((e) => [e.entity, e.value, e.start])
    expect(got).toEqual([
      ['code', 'ab1', 0],
      ['code', 'zz', 4],
      ['code', '123', 7],
      ['num', '123', 7],
      ['code', '456', 11],
      ['num', '456', 11],
      ['code', 'zz', 15],
    ])
  })
  it('matches lookup phrases on whole tokens, longest first, ignoring case', () => {
    const x = new LookupEntities(lookupEntitiesParams({})).fit(data, { seed: 0 })
    const text = 'From NEW YORK to san francisco, not Parisian'
    expect(x.extract(text, []).map((e) => [e.value, e.start, e.end])).toEqual([
      ['NEW YORK', 5, 13],
      ['san francisco', 17, 30],
    ])
    const folded = new LookupEntities(lookupEntitiesParams({ foldAccents: true })).fit(
      { ...data, lookups: [{ name: 'city', elements: ['Zürich'] }] },
      { seed: 0 },
    )
    expect(folded.extract('to zurich', []).map((e) => e.value)).toEqual(['zurich'])
  })
  it('uses only tables and regexes named like annotated entities unless told which', () => {
    const d = { ...data, lookups: [...data.lookups, { name: 'fruit', elements: ['apple'] }] }
    expect(new LookupEntities(lookupEntitiesParams({})).fit(d, { seed: 0 }).entityTypes).toEqual(['city'])
    expect(new LookupEntities(lookupEntitiesParams({ entities: ['fruit'] })).fit(d, { seed: 0 }).entityTypes).toEqual([
      'fruit',
    ])
  })
  it('steps over a whole emoji after an empty match, instead of finding the same empty match forever', () => {
    const x = new FittedRegexEntities(regexEntitiesParams({ useWordBoundaries: false }), [
      { name: 'code', patterns: ['a*', '(?:)'] },
    ])
    expect(x.extract('😀', [])).toEqual([])
    expect(x.extract('aa 😀 a😀😀aaa', []).map((e) => [e.value, e.start, e.end])).toEqual([
      ['aa', 0, 2],
      ['a', 6, 7],
      ['aaa', 11, 14],
    ])
  })
  it('reports a bad pattern with its data file position', () => {
    const bad = { ...data, regexes: [{ name: 'zipcode', patterns: ['(\\d{5}'], source: { file: 'nlu.yml', line: 7 } }] }
    expect(() => new RegexEntities(regexEntitiesParams({})).fit(bad, { seed: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_NLU_REGEX_INVALID', location: { file: 'nlu.yml', line: 7 } }),
    )
    expect(() => compilePattern('[', 'x', false, true)).toThrow(/The regex 'x' has an invalid pattern \/\[\//)
  })
  it('refuses a pattern that can backtrack catastrophically, in every step that compiles patterns', () => {
    const slow = {
      ...data,
      regexes: [{ name: 'zipcode', patterns: ['(\\d+\\s?)+$'], source: { file: 'nlu.yml', line: 7 } }],
    }
    const refused = expect.objectContaining({ code: 'ERR_NLU_REGEX_UNSAFE', location: { file: 'nlu.yml', line: 7 } })
    expect(() => new RegexEntities(regexEntitiesParams({})).fit(slow, { seed: 0 })).toThrow(refused)
    expect(() => new RegexFeaturizer(regexFeaturesParams({})).fit([], { data: slow, seed: 0 })).toThrow(refused)
    expect(() => compilePattern('(a|b+)*c', 'x', false, true)).toThrow(/exponential backtracking in `\(a\|b\+\)\*`/)
    // Checked the same way whatever the step's options, so training agrees with `data validate`.
    expect(() => compilePattern('(a|aa)+', 'x', true, false)).toThrow(/exponential backtracking in `\(a\|aa\)\+`/)
    expect(compilePattern('\\w+(?:\\s\\w+)*', 'x', false, true).exec('big red bus')?.[0]).toBe('big red bus')
  })
})

describe('synonyms', () => {
  it('learns from synonym lists and from annotations, and maps values case-insensitively', () => {
    const map = buildSynonymMap(toyTrainingData())
    expect(map).toEqual({ 'big apple': 'New York', nyc: 'New York' })
    const ents: EntityPrediction[] = [
      { start: 0, end: 3, entity: 'city', value: 'Nyc ', extractor: 'x', confidence_entity: 1 },
      { start: 4, end: 9, entity: 'city', value: 'Paris', extractor: 'x', confidence_entity: 1 },
      { start: 4, end: 9, entity: 'city', value: 'constructor', extractor: 'x', confidence_entity: 1 },
    ]
    applySynonyms(ents, map)
    expect(ents.map((e) => [e.value, e.processors])).toEqual([
      ['New York', ['synonyms']],
      ['Paris', undefined],
      ['constructor', undefined],
    ])
  })
})

describe('LookupMatcher', () => {
  // The reference: every run of tokens that equals a phrase, found by comparing words.
  const occurrences = (phrases: string[][][], words: string[]) => {
    const out: Array<[number, number, number]> = []
    for (let i = 0; i < words.length; i++) {
      for (let j = i; j < Math.min(words.length, i + MAX_LOOKUP_TOKENS); j++) {
        const run = words.slice(i, j + 1).join(' ')
        phrases.forEach((table, t) => {
          if (table.some((p) => p.join(' ') === run)) out.push([t, i, j])
        })
      }
    }
    return out
  }
  const leftmostLongest = (all: Array<[number, number, number]>) => {
    const out: Array<[number, number, number]> = []
    let from = 0
    for (;;) {
      const starts = all.filter(([, i]) => i >= from)
      if (starts.length === 0) return out
      const i = Math.min(...starts.map(([, s]) => s))
      const last = Math.max(...starts.filter(([, s]) => s === i).map(([, , e]) => e))
      for (const o of starts) if (o[1] === i && o[2] === last) out.push(o)
      from = last + 1
    }
  }
  const run = (m: LookupMatcher, text: string, longest: boolean) => {
    const got: Array<[number, number, number]> = []
    m.match(text, longest, (t, i, j) => got.push([t, i, j]))
    return got.sort((x, y) => x[1] - y[1] || x[2] - y[2] || x[0] - y[0])
  }
  const sorted = (xs: Array<[number, number, number]>) =>
    [...xs].sort((x, y) => x[1] - y[1] || x[2] - y[2] || x[0] - y[0])

  it('finds every phrase occurrence, and the leftmost-longest ones, as comparing words does', () => {
    const word = fc.constantFrom('new', 'york', 'city', 'big', 'apple', 'of')
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.array(word, { minLength: 1, maxLength: 7 }), { maxLength: 6 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.array(word, { maxLength: 30 }),
        (phrases, words) => {
          const m = new LookupMatcher(
            phrases.map((elements, t) => ({ name: `t${t}`, elements: elements.map((p) => p.join(' ')) })),
            false,
          )
          const text = words.map((w, k) => (k % 3 === 0 ? w.toUpperCase() : w)).join(' ')
          const all = occurrences(phrases, words)
          expect(run(m, text, false)).toEqual(sorted(all))
          expect(run(m, text, true)).toEqual(sorted(leftmostLongest(all)))
        },
      ),
      { numRuns: 300, seed: 7 },
    )
  })

  it('matches a phrase of the longest allowed length inside a long text, and never a longer one', () => {
    const long = Array.from({ length: MAX_LOOKUP_TOKENS }, (_, k) => `w${k}`).join(' ')
    const tooLong = `${long} w${MAX_LOOKUP_TOKENS}`
    const m = new LookupMatcher([{ name: 'x', elements: [long, tooLong, 'w3 w4'] }], false)
    const text = `start ${tooLong} end`
    expect(run(m, text, true)).toEqual([[0, 1, MAX_LOOKUP_TOKENS]])
    expect(run(m, text, false)).toEqual([
      [0, 1, MAX_LOOKUP_TOKENS],
      [0, 4, 5],
    ])
  })
})

describe('shared lookup matching', () => {
  const city = { name: 'city', elements: ['New York', 'New York City', 'Paris', 'Zürich'] }
  const landmark = { name: 'landmark', elements: ['York City Hall', 'Paris'] }
  const texts = ['fly from New York City to Zurich', 'Zürich or PARIS', 'York City Hall tour in New York', '', 'paris']
  const features = (f: FittedRegexFeatures, text: string) => {
    const v = new SparseVector()
    f.transformOne(text, v, 3, 0.5)
    return [...v.idx.subarray(0, v.n)].map((i, k) => [i, v.val[k]])
  }
  const entities = (e: FittedLookupEntities, text: string) => e.extract(text, [])
  // Each text is matched by the featurizer, then the extractor, as a pipeline does; then in the other order and
  // with other texts in between, so a remembered scan of one text never answers for another.
  const compare = (
    feat: FittedRegexFeatures,
    ent: FittedLookupEntities,
    alone: () => [FittedRegexFeatures, FittedLookupEntities],
  ) => {
    const [f0, e0] = alone()
    for (const text of [...texts, ...[...texts].reverse()]) {
      expect(features(feat, text)).toEqual(features(f0, text))
      expect(entities(ent, text)).toEqual(entities(e0, text))
      expect(entities(ent, `${text} and Paris`)).toEqual(entities(e0, `${text} and Paris`))
      expect(features(feat, text)).toEqual(features(f0, text))
    }
  }
  const make = (tables: (typeof city)[], fold: boolean, entityTables: (typeof city)[], entityFold: boolean) => {
    const feat = new FittedRegexFeatures(regexFeaturesParams({ foldAccents: fold }), [], tables)
    const ent = new FittedLookupEntities(lookupEntitiesParams({ foldAccents: entityFold }), entityTables)
    return [feat, ent] as [FittedRegexFeatures, FittedLookupEntities]
  }

  it('scans once for a featurizer and an extractor of the same tables, finding what each finds alone', () => {
    for (const fold of [false, true]) {
      const [feat, ent] = make([city, landmark], fold, [city, landmark], fold)
      shareLookupMatchers([feat, ent])
      expect(ent.lookupMatcher).toBe(feat.lookupMatcher)
      compare(feat, ent, () => make([city, landmark], fold, [city, landmark], fold))
    }
  })

  it('keeps separate matchers when the tables or the normalisation differ', () => {
    const cases: Array<Parameters<typeof make>> = [
      [[city, landmark], false, [city], false],
      [[city], false, [city], true],
      [[city, landmark], true, [landmark, city], true],
      [[city], false, [{ ...city, elements: [...city.elements, 'Rome'] }], false],
    ]
    for (const c of cases) {
      const [feat, ent] = make(...c)
      shareLookupMatchers([feat, ent])
      expect(ent.lookupMatcher).not.toBe(feat.lookupMatcher)
      compare(feat, ent, () => make(...c))
    }
  })

  it('shares only between lookup matchers, and finds phrases of one table inside those of another', () => {
    const [feat, ent] = make([city, landmark], false, [city, landmark], false)
    shareLookupMatchers([{}, feat, ent, { lookupMatcher: 'not a matcher' }])
    expect(entities(ent, texts[0]!).map((e) => [e.entity, e.value])).toEqual([['city', 'New York City']])
    expect(entities(ent, texts[2]!).map((e) => [e.entity, e.value])).toEqual([
      ['landmark', 'York City Hall'],
      ['city', 'New York'],
    ])
    expect(features(feat, texts[2]!)).toEqual([
      [3, 0.5],
      [4, 0.5],
    ])
  })
})
