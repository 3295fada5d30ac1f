/**
 * fast-check values for the hand-written JSON writers' property tests: strings of every kind, with the characters
 * JSON must escape, and lone surrogates, often; and the model's entities built from them.
 * @module
 */
import fc from 'fast-check'
import type { EntityPrediction } from '../../src/nlu/types.js'

export const anyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({
    unit: fc.constantFrom('a', '"', '\\', '\n', '\u0001', '\u007f', '\ud83d', '\ude00', 'é', '\u2028'),
    maxLength: 12,
  }),
  // Past the 64 units below which `jsonString` scans a string itself.
  fc.string({ minLength: 60, maxLength: 200 }),
)

/** An entity as the model reports one, each optional key present or not. */
export function anyEntity(
  text: fc.Arbitrary<string>,
  confidence: fc.Arbitrary<number>,
): fc.Arbitrary<EntityPrediction> {
  return fc.record(
    {
      start: fc.integer({ min: 0, max: 10_000 }),
      end: fc.integer({ min: 0, max: 10_000 }),
      entity: text,
      value: text,
      role: text,
      group: text,
      field: text,
      extractor: text,
      confidence_entity: confidence,
      processors: fc.array(text, { maxLength: 3 }),
    },
    { requiredKeys: ['start', 'end', 'entity', 'value', 'extractor', 'confidence_entity'] },
  )
}
