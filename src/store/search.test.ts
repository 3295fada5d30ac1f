import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isIntentopsError } from '../errors.js'
import { ftsQuery, likePattern, parseSearch, searchText, searchWords } from './search.js'

describe('text search words', () => {
  it('lower-cases, drops accents and splits on everything but letters and digits', () => {
    expect(searchWords('Crème BRÛLÉE, s’il-vous-plaît: 2×3 ＡＢＣ')).toEqual([
      'creme',
      'brulee',
      's',
      'il',
      'vous',
      'plait',
      '2',
      '3',
      'abc',
    ])
    expect(searchText('Hi there!', { subject: 'Re: Ünïcode' })).toBe(' hi there re unicode')
    expect(searchText('…', {})).toBe('')
  })

  it('finds the same words on ASCII text as the full Unicode path does', () => {
    // The general path, as searchWords runs it on any text that is not ASCII.
    const unicode = (t: string) =>
      t
        .normalize('NFKD')
        .replace(/\p{M}+/gu, '')
        .toLowerCase()
        .match(/[\p{L}\p{N}]+/gu) ?? []
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) }), (t) => {
        expect(searchWords(t)).toEqual(unicode(t))
      }),
      { numRuns: 2000 },
    )
    // One character past ASCII takes the general path.
    expect(searchWords('ABC déf')).toEqual(['abc', 'def'])
    expect(searchText('Book 2 FLIGHTS, now!')).toBe(' book 2 flights now')
  })

  it('parses words, quoted phrases and punctuation-joined words, all required', () => {
    expect(parseSearch('Refund  ORDER')).toEqual([['refund'], ['order']])
    expect(parseSearch('"lost bag" e-mail')).toEqual([
      ['lost', 'bag'],
      ['e', 'mail'],
    ])
    expect(parseSearch('where "is my')).toEqual([['where'], ['is', 'my']])
    expect(parseSearch('"" café')).toEqual([['cafe']])
    const err = (() => {
      try {
        parseSearch('%_ ?!')
      } catch (e) {
        return e
      }
    })()
    expect(isIntentopsError(err) && err.code).toBe('ERR_INVALID_ARGUMENT')
  })

  it('builds the same phrases for FTS5 and LIKE, the last word a prefix', () => {
    const phrases = parseSearch('"lost bag" refund')
    expect(ftsQuery(phrases)).toBe('"lost bag" * AND "refund" *')
    expect(phrases.map(likePattern)).toEqual(['% lost bag%', '% refund%'])
  })
})
