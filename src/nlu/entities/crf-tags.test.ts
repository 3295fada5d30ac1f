import { describe, expect, it } from 'vitest'
import { tokenize } from '../tokenizer.js'
import {
  CRF_BEGIN,
  CRF_INSIDE,
  CRF_LAST,
  CRF_OUTSIDE,
  CRF_UNIT,
  crfEndAllowed,
  crfSpansFromTags,
  crfStartAllowed,
  crfTag,
  crfTagCount,
  crfTagLabel,
  crfTagName,
  crfTagPosition,
  crfTagsFromSpans,
  crfTransitionAllowed,
} from './crf-tags.js'

const names = ['city', 'date']
const tagNames = (tags: ArrayLike<number>) => Array.from(tags, (t) => crfTagName(t, names))

describe('crf BILOU tags', () => {
  it('numbers O and B/I/L/U of each label', () => {
    expect(crfTagCount(2)).toBe(9)
    expect(crfTag(1, CRF_LAST)).toBe(7)
    expect(crfTagLabel(7)).toBe(1)
    expect(crfTagPosition(7)).toBe(CRF_LAST)
    expect(crfTagLabel(CRF_OUTSIDE)).toBe(-1)
    expect(Array.from({ length: 9 }, (_, t) => crfTagName(t, names))).toEqual([
      'O',
      'B-city',
      'I-city',
      'L-city',
      'U-city',
      'B-date',
      'I-date',
      'L-date',
      'U-date',
    ])
  })

  it('tags multi-token, single-token and misaligned spans over tokens', () => {
    const text = 'fly from New York City to Paris on 3rd-May'
    const tokens = tokenize(text)
    const at = (s: string) => text.indexOf(s)
    const { tags, dropped } = crfTagsFromSpans(tokens, [
      { start: at('Paris'), end: at('Paris') + 5, label: 0 },
      { start: at('New'), end: at('City') + 4, label: 0 },
      // Cuts the token "3rd" in the middle: the whole token is taken.
      { start: at('rd-May'), end: text.length, label: 1 },
    ])
    expect(dropped).toEqual([])
    expect(tagNames(tags)).toEqual(['O', 'O', 'B-city', 'I-city', 'L-city', 'O', 'U-city', 'O', 'B-date', 'L-date'])
  })

  it('drops spans that cover no token or overlap an earlier one', () => {
    const text = 'from New York to Rome'
    const tokens = tokenize(text)
    const overlap = { start: 9, end: 13, label: 1 }
    const empty = { start: 4, end: 5, label: 1 }
    const { tags, dropped } = crfTagsFromSpans(tokens, [overlap, { start: 5, end: 13, label: 0 }, empty])
    expect(tagNames(tags)).toEqual(['O', 'B-city', 'L-city', 'O', 'O'])
    expect(dropped).toEqual([empty, overlap])
  })

  it('decodes valid sequences exactly and broken ones leniently', () => {
    const valid = [0, crfTag(0, CRF_BEGIN), crfTag(0, CRF_INSIDE), crfTag(0, CRF_LAST), crfTag(1, CRF_UNIT), 0]
    expect(crfSpansFromTags(valid)).toEqual([
      { first: 1, last: 3, label: 0 },
      { first: 4, last: 4, label: 1 },
    ])
    // B without L, a stray I, a label switch inside an entity, and an entity running to the end.
    const broken = [crfTag(0, CRF_BEGIN), 0, crfTag(1, CRF_INSIDE), crfTag(0, CRF_LAST), crfTag(1, CRF_BEGIN)]
    expect(crfSpansFromTags(broken)).toEqual([
      { first: 0, last: 0, label: 0 },
      { first: 2, last: 2, label: 1 },
      { first: 3, last: 3, label: 0 },
      { first: 4, last: 4, label: 1 },
    ])
    expect(crfSpansFromTags(new Uint16Array(0))).toEqual([])
  })

  it('round-trips spans through tags', () => {
    const tokens = Array.from({ length: 12 }, (_, i) => ({ start: 2 * i, end: 2 * i + 1 }))
    const spans = [
      { start: 0, end: 5, label: 1 },
      { start: 8, end: 9, label: 0 },
      { start: 12, end: 23, label: 1 },
    ]
    const { tags } = crfTagsFromSpans(tokens, spans)
    expect(crfSpansFromTags(tags)).toEqual([
      { first: 0, last: 2, label: 1 },
      { first: 4, last: 4, label: 0 },
      { first: 6, last: 11, label: 1 },
    ])
  })

  it('allows exactly the BILOU transitions', () => {
    const B = (l: number) => crfTag(l, CRF_BEGIN)
    const I = (l: number) => crfTag(l, CRF_INSIDE)
    const L = (l: number) => crfTag(l, CRF_LAST)
    const U = (l: number) => crfTag(l, CRF_UNIT)
    const allowed: [number, number][] = [
      [0, 0],
      [0, B(0)],
      [0, U(1)],
      [B(0), I(0)],
      [B(0), L(0)],
      [I(0), I(0)],
      [I(0), L(0)],
      [L(0), 0],
      [L(0), B(1)],
      [U(0), U(0)],
    ]
    const refused: [number, number][] = [
      [0, I(0)],
      [0, L(0)],
      [B(0), 0],
      [B(0), L(1)],
      [I(0), B(0)],
      [I(1), L(0)],
      [L(0), I(0)],
      [U(1), L(1)],
    ]
    for (const [a, b] of allowed) expect(crfTransitionAllowed(a, b), `${a}→${b}`).toBe(true)
    for (const [a, b] of refused) expect(crfTransitionAllowed(a, b), `${a}→${b}`).toBe(false)
    expect([0, B(0), I(0), L(0), U(0)].map(crfStartAllowed)).toEqual([true, true, false, false, true])
    expect([0, B(0), I(0), L(0), U(0)].map(crfEndAllowed)).toEqual([true, false, false, true, true])
  })
})
