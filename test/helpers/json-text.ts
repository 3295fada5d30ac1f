/**
 * fast-check strings for the hand-written JSON writers' property tests: every kind, with the characters JSON must
 * escape, and lone surrogates, often.
 * @module
 */
import fc from 'fast-check'

export const anyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({
    unit: fc.constantFrom('a', '"', '\\', '\n', '\u0001', '\u007f', '\ud83d', '\ude00', 'é', '\u2028'),
    maxLength: 12,
  }),
)
