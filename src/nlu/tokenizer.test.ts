import { describe, expect, it } from 'vitest'
import { tokenize } from './tokenizer.js'

describe('tokenize', () => {
  it('keeps offsets into the original text', () => {
    const text = 'Book a table in Zürich, don’t wait!'
    const toks = tokenize(text)
    expect(toks.map((t) => t.text)).toEqual(['book', 'a', 'table', 'in', 'zürich', 'don’t', 'wait'])
    for (const t of toks) expect(text.slice(t.start, t.end).toLowerCase()).toBe(t.text)
  })
  it('folds accents when asked, and handles mixed scripts and emoji', () => {
    const text = 'Café 東京 😀 Москва 42'
    expect(tokenize(text, { lowercase: true, foldAccents: true }).map((t) => t.text)).toEqual([
      'cafe',
      '東京',
      'москва',
      '42',
    ])
    const toks = tokenize(text)
    expect(text.slice(toks[2]!.start, toks[2]!.end)).toBe('Москва')
  })
  it('returns nothing for empty or symbol-only text', () => {
    expect(tokenize('')).toEqual([])
    expect(tokenize(' \u0000\t!!! ')).toEqual([])
  })
})
