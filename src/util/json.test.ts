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

  it('writes a number again from memory, and never another number that shares its slot', () => {
    // Doubles whose two 32-bit halves XOR to the same low six bits share a slot of the memory.
    const slot = (x: number) => {
      const w = new Uint32Array(new Float64Array([x]).buffer)
      return (w[0]! ^ w[1]!) & 63
    }
    const seen = new Map<number, number>()
    let pair: [number, number] | undefined
    for (let i = 0; !pair; i++) {
      const x = (i * 0.6180339887498949) % 1
      const other = seen.get(slot(x))
      if (other !== undefined && other !== x) pair = [other, x]
      seen.set(slot(x), x)
    }
    const [a, b] = pair
    for (const x of [a, a, b, a, b, b, -0, 0, -0, Number.NaN, Number.NaN, 1e21, 1e21]) {
      expect(jsonNumber(x)).toBe(JSON.stringify(x))
    }
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
