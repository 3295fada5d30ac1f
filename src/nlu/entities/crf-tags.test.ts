import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { tokenize } from '../tokenizer.js'
import { fromBilou } from './bilou.js'
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
  crfTransitionAllowed,
  firstTokenEndingAfter,
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

  it('decodes every tag sequence exactly as fromBilou decodes its tag names', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: crfTagCount(2) - 1 }), { maxLength: 12 }), (tags) => {
        const tokens = tags.map((_, i) => ({ text: 'w', start: 2 * i, end: 2 * i + 1 }))
        const expected = fromBilou(tokens, tagNames(tags)).map((s) => ({
          first: s.firstToken,
          last: s.lastToken,
          label: names.indexOf(s.label),
        }))
        expect(crfSpansFromTags(tags)).toEqual(expected)
      }),
    )
  })

  it('finds the first token ending after an offset', () => {
    const tokens = tokenize('fly  to New York')
    expect([0, 2, 3, 4, 5, 7, 8, 15, 16, 99].map((o) => firstTokenEndingAfter(tokens, o))).toEqual([
      0, 0, 1, 1, 1, 2, 2, 3, 4, 4,
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
