import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashCodeUnits } from './hash.js'
import { TextScanner, tokenize } from './tokenizer.js'

describe('tokenize', () => {
  it('keeps offsets into the original text and normalises apostrophes', () => {
    const text = 'Book a table in Zürich, don’t wait!'
    const toks = tokenize(text)
    expect(toks.map((t) => t.text)).toEqual(['book', 'a', 'table', 'in', 'zürich', "don't", 'wait'])
    expect(toks.map((t) => [t.start, t.end])).toEqual([
      [0, 4],
      [5, 6],
      [7, 12],
      [13, 15],
      [16, 22],
      [24, 29],
      [30, 34],
    ])
    for (const t of toks) expect(text.slice(t.start, t.end).toLowerCase().replace('’', "'")).toBe(t.text)
  })
  it('folds accents when asked, precomposed or not, and handles mixed scripts and emoji', () => {
    const text = 'Café 東京 😀 Москва 42 e\u0301cole'
    expect(tokenize(text, { lowercase: true, foldAccents: true }).map((t) => t.text)).toEqual([
      'cafe',
      '東京',
      'москва',
      '42',
      'ecole',
    ])
    const toks = tokenize(text)
    expect(text.slice(toks[2]!.start, toks[2]!.end)).toBe('Москва')
    expect(toks[4]).toEqual({ text: 'e\u0301cole', start: 21, end: 27 })
    expect(tokenize('ÉCOLE', { lowercase: false, foldAccents: true })[0]!.text).toBe('ECOLE')
  })
  it('keeps letters outside the Basic Multilingual Plane, with their offsets', () => {
    const text = 'a 𝐀𝐁c 𠀀𠀁 z'
    const toks = tokenize(text)
    expect(toks.map((t) => text.slice(t.start, t.end))).toEqual(['a', '𝐀𝐁c', '𠀀𠀁', 'z'])
  })
  it('returns nothing for empty, symbol-only or control-character text, and survives lone surrogates', () => {
    expect(tokenize('')).toEqual([])
    expect(tokenize(' \u0000\t!!! \u001b[0m ')).toEqual([{ text: '0m', start: 9, end: 11 }])
    expect(tokenize('\uD800 x \uDFFF').map((t) => t.text)).toEqual(['x'])
    expect(tokenize("'quoted' it's").map((t) => t.text)).toEqual(['quoted', "it's"])
  })
  it('handles very long tokens and texts', () => {
    const long = 'x'.repeat(200_000)
    expect(tokenize(long)).toEqual([{ text: long, start: 0, end: 200_000 }])
    expect(tokenize('ab '.repeat(50_000))).toHaveLength(50_000)
  })
  it('gives the same normalised text for tokens on either side of the short-token path', () => {
    for (const n of [1, 15, 16, 17, 4096, 4097]) {
      const word = 'ÄbÇ'.repeat(Math.ceil(n / 3)).slice(0, n)
      expect(tokenize(`${word} ${word}`).map((t) => t.text)).toEqual([word.toLowerCase(), word.toLowerCase()])
    }
  })
  it('scanOnce rescans only for another text, and token keys follow the text scanned', () => {
    const scanner = new TextScanner()
    const tokens = () => Array.from({ length: scanner.count }, (_, i) => scanner.tokenText(i))
    const keys = () => {
      scanner.hashTokens()
      return Array.from({ length: scanner.count }, (_, i) => [scanner.tokHashA[i]! >>> 0, scanner.tokHashB[i]! >>> 0])
    }
    const expected = () =>
      Array.from({ length: scanner.count }, (_, i) =>
        hashCodeUnits(scanner.chars, scanner.tokStart[i]!, scanner.tokEnd[i]!),
      )
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (a, b) => {
        scanner.scanOnce(a)
        const aTokens = tokens()
        const aKeys = keys()
        expect(aKeys).toEqual(expected())
        expect(tokens()).toEqual(tokenize(a).map((t) => t.text))
        scanner.scanOnce(b)
        expect(tokens()).toEqual(tokenize(b).map((t) => t.text))
        expect(keys()).toEqual(expected())
        // Back to the first text: scanned again, keys computed again.
        expect(scanner.scanOnce(a)).toBe(aTokens.length)
        expect(tokens()).toEqual(aTokens)
        expect(keys()).toEqual(aKeys)
      }),
      { numRuns: 300 },
    )
    // The same text is not scanned again: the arrays are left as they are.
    scanner.scan('book a flight')
    scanner.tokEnd[0] = scanner.tokStart[0]! + 1
    scanner.scanOnce('book a flight')
    expect(scanner.tokenText(0)).toBe('b')
    scanner.scanOnce('book a train')
    expect(scanner.tokenText(0)).toBe('book')
  })
  it('the allocation-free scanner and tokenize agree on any text', () => {
    const scanner = new TextScanner({ lowercase: true, foldAccents: true })
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const n = scanner.scan(s)
        const toks = tokenize(s, { lowercase: true, foldAccents: true })
        expect(n).toBe(toks.length)
        for (let i = 0; i < n; i++) {
          expect(scanner.tokenText(i)).toBe(toks[i]!.text)
          expect([scanner.srcStart[i], scanner.srcEnd[i]]).toEqual([toks[i]!.start, toks[i]!.end])
          expect(toks[i]!.start).toBeLessThan(toks[i]!.end)
        }
      }),
      { numRuns: 500 },
    )
  })
})
