import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EntityPrediction } from '../types.js'
import { mergeEntities, type RankedEntity } from './merge.js'

function ent(start: number, end: number, entity: string, extra: Partial<EntityPrediction> = {}): EntityPrediction {
  return {
    start,
    end,
    entity,
    value: 'x'.repeat(end - start),
    extractor: 'regex_entities',
    confidence_entity: 1,
    ...extra,
  }
}

const spans = (out: EntityPrediction[]) => out.map((e) => `${e.entity}@${e.start}-${e.end}/${e.extractor}`)

describe('mergeEntities', () => {
  it('keeps the longer of overlapping spans, whatever the priority', () => {
    const out = mergeEntities([
      { entity: ent(0, 6, 'booking_ref'), priority: 0 },
      { entity: ent(0, 13, 'city', { extractor: 'lookup_entities' }), priority: 1 },
      { entity: ent(20, 25, 'date'), priority: 0 },
    ])
    expect(spans(out)).toEqual(['city@0-13/lookup_entities', 'date@20-25/regex_entities'])
  })

  it('breaks a tie of length by priority, then confidence, then start, then type', () => {
    const lookup = ent(4, 10, 'city', { extractor: 'lookup_entities' })
    const crf = ent(4, 10, 'person', { extractor: 'crf', confidence_entity: 0.99 })
    expect(
      spans(
        mergeEntities([
          { entity: crf, priority: 1 },
          { entity: lookup, priority: 0 },
        ]),
      ),
    ).toEqual(['city@4-10/lookup_entities'])
    const low = ent(4, 10, 'city', { extractor: 'crf', confidence_entity: 0.4 })
    const high = ent(6, 12, 'person', { extractor: 'crf', confidence_entity: 0.9 })
    expect(
      spans(
        mergeEntities([
          { entity: low, priority: 2 },
          { entity: high, priority: 2 },
        ]),
      ),
    ).toEqual(['person@6-12/crf'])
    const a = ent(0, 4, 'b_type')
    const b = ent(2, 6, 'a_type')
    expect(
      spans(
        mergeEntities([
          { entity: b, priority: 0 },
          { entity: a, priority: 0 },
        ]),
      ),
    ).toEqual(['b_type@0-4/regex_entities'])
    const c = ent(0, 4, 'z_type')
    expect(
      spans(
        mergeEntities([
          { entity: c, priority: 0 },
          { entity: a, priority: 0 },
        ]),
      ),
    ).toEqual(['b_type@0-4/regex_entities'])
  })

  it('gives the kept entity the role and group of a dropped one of the same span and type', () => {
    const lookup = ent(9, 14, 'city', { extractor: 'lookup_entities' })
    const crf = ent(9, 14, 'city', { extractor: 'crf', role: 'destination', group: '1', confidence_entity: 0.8 })
    const out = mergeEntities([
      { entity: lookup, priority: 0 },
      { entity: crf, priority: 1 },
    ])
    expect(out).toEqual([{ ...lookup, role: 'destination', group: '1' }])
    expect(lookup.role).toBeUndefined()
  })

  it('does not merge across fields, and sorts by field then offsets', () => {
    const out = mergeEntities([
      { entity: ent(0, 5, 'city', { field: 'subject' }), priority: 0 },
      { entity: ent(0, 5, 'city', { field: 'body' }), priority: 0 },
      { entity: ent(0, 3, 'city', { field: 'body' }), priority: 0 },
    ])
    expect(out.map((e) => [e.field, e.start, e.end])).toEqual([
      ['body', 0, 5],
      ['subject', 0, 5],
    ])
  })

  it('returns non-overlapping entities, independent of input order', () => {
    const arb = fc.array(
      fc.record({
        start: fc.integer({ min: 0, max: 30 }),
        len: fc.integer({ min: 1, max: 8 }),
        entity: fc.constantFrom('a', 'b', 'c'),
        priority: fc.integer({ min: 0, max: 2 }),
        confidence: fc.constantFrom(0.3, 0.6, 1),
      }),
      { maxLength: 12 },
    )
    fc.assert(
      fc.property(arb, fc.integer(), (raw, seed) => {
        const found: RankedEntity[] = raw.map((r) => ({
          entity: ent(r.start, r.start + r.len, r.entity, { confidence_entity: r.confidence }),
          priority: r.priority,
        }))
        const out = mergeEntities(found)
        for (let i = 1; i < out.length; i++) expect(out[i]!.start).toBeGreaterThanOrEqual(out[i - 1]!.end)
        const shuffled = [...found].sort(
          (x, y) => ((x.entity.start * 31 + seed) % 7) - ((y.entity.start * 31 + seed) % 7),
        )
        expect(mergeEntities(shuffled)).toEqual(out)
        // every dropped candidate overlaps a kept one
        for (const f of found) {
          expect(out.some((k) => f.entity.start < k.end && k.start < f.entity.end)).toBe(true)
        }
      }),
    )
  })
})
