import { describe, expect, it } from 'vitest'
import { tableParser } from '../../test/helpers/eval-fixtures.js'
import type { MustPassCase } from '../data/types.js'
import { describeMustPassFailure, runMustPass } from './must-pass.js'

const parser = tableParser(['book', 'cancel', 'greet'], {
  'book a flight to Paris tomorrow': {
    scores: { book: 0.7, cancel: 0.2, greet: 0.1 },
    entities: [
      { start: 17, end: 22, entity: 'city', value: 'Paris' },
      { start: 23, end: 31, entity: 'date', value: 'tomorrow' },
    ],
  },
  'fly to NYC': {
    scores: { book: 0.55, cancel: 0.3, greet: 0.15 },
    entities: [{ start: 7, end: 10, entity: 'city', value: 'NYC' }],
  },
  'cancel it': { scores: { cancel: 0.5, book: 0.3, greet: 0.2 } },
  hello: { scores: { greet: 0.4, book: 0.35, cancel: 0.25 } }, // ambiguous → falls back
})

const cases: MustPassCase[] = [
  {
    text: 'book a flight to Paris tomorrow',
    intent: 'book',
    entities: [{ start: 17, end: 22, entity: 'city', value: 'Paris' }],
    allowFailure: false,
    source: { file: 'tests/must.yml', line: 3 },
  },
  {
    text: 'fly to NYC',
    intent: 'book',
    entities: [{ start: 7, end: 10, entity: 'city', value: 'New York' }], // synonym expected, not applied
    allowFailure: false,
  },
  { text: 'cancel it', intent: 'cancel', minConfidence: 0.6, allowFailure: true },
  { text: 'hello', intent: 'greet', allowFailure: false },
  {
    text: 'book a flight to Paris tomorrow',
    intent: 'book',
    entities: [{ start: 0, end: 4, entity: 'verb', value: 'book' }],
    allowFailure: false,
  },
]

describe('runMustPass', () => {
  const r = runMustPass(parser, cases)

  it('passes a case whose intent and annotated entities match; extra entities are only listed', () => {
    const ok = r.results[0]!
    expect(ok.passed).toBe(true)
    expect(ok.unexpectedEntities).toEqual([{ start: 23, end: 31, entity: 'date', value: 'tomorrow' }])
    expect(ok.source).toEqual({ file: 'tests/must.yml', line: 3 })
  })

  it('checks entity values, minimum confidence, the intent after fallback and missing spans', () => {
    expect(r.results[1]!.failures).toEqual([
      {
        kind: 'entity-value',
        expected: { start: 7, end: 10, entity: 'city', value: 'New York' },
        actual: { start: 7, end: 10, entity: 'city', value: 'NYC' },
      },
    ])
    expect(r.results[2]!.failures).toEqual([{ kind: 'confidence', min: 0.6, actual: 0.5 }])
    expect(r.results[3]!.failures[0]).toMatchObject({ kind: 'intent', expected: 'greet', actual: 'nlu_fallback' })
    expect(r.results[4]!.failures[0]).toMatchObject({ kind: 'entity-missing' })
  })

  it('counts failures, and only those not allowed to fail are required', () => {
    expect(r).toMatchObject({ total: 5, passed: 1, failed: 4, failedRequired: 3, allowedFailures: 1 })
  })

  it('describes failures for people', () => {
    expect(describeMustPassFailure(r.results[1]!.failures[0]!)).toBe(
      'entity city at 7-10 has value "NYC", expected "New York"',
    )
    expect(describeMustPassFailure(r.results[2]!.failures[0]!)).toBe('confidence 0.500 is below the required 0.6')
    expect(describeMustPassFailure(r.results[3]!.failures[0]!)).toMatch(/^expected intent greet, got nlu_fallback/)
  })
})
