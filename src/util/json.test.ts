import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { anyText } from '../../test/helpers/json-text.js'
import { jsonNumber, jsonString, scorePrefix } from './json.js'

describe('JSON pieces', () => {
  it('escapes strings as JSON.stringify does', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(jsonString(s)).toBe(JSON.stringify(s))
      }),
      { numRuns: 2000 },
    )
  })

  it('writes numbers as JSON.stringify does, and a non-finite one as null', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 1e21, 1e-7, 2 ** 53, Number.MIN_VALUE)),
        (x) => {
          expect(jsonNumber(x)).toBe(JSON.stringify(x))
        },
      ),
      { numRuns: 2000 },
    )
    expect(jsonNumber(Number.NaN)).toBe('null')
    expect(jsonNumber(Number.POSITIVE_INFINITY)).toBe('null')
  })

  it('opens an intent score as JSON.stringify writes one, name escaped', () => {
    fc.assert(
      fc.property(anyText, fc.double(), (name, confidence) => {
        expect(`${scorePrefix(name)}${jsonNumber(confidence)}}`).toBe(JSON.stringify({ name, confidence }))
      }),
      { numRuns: 1000 },
    )
  })
})
