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
