import { describe, expect, it } from 'vitest'
import { canonicalize } from './canonical.js'

describe('canonicalize', () => {
  it('sorts keys at every level, drops undefined members and writes no whitespace', () => {
    expect(canonicalize({ b: 1, a: { d: [3, { z: 1, y: 'x' }], c: undefined }, é: true, B: null })).toBe(
      '{"B":null,"a":{"d":[3,{"y":"x","z":1}]},"b":1,"é":true}',
    )
  })

  it('is stable: these exact bytes are what existing signatures cover', () => {
    const record = { version: 3, name: 'bot', tags: { team: 'support' }, blob: { size: 10, digest: 'sha256:ab' } }
    expect(canonicalize(record)).toBe(
      '{"blob":{"digest":"sha256:ab","size":10},"name":"bot","tags":{"team":"support"},"version":3}',
    )
    expect(canonicalize({ f: 0.1 + 0.2, s: 'line\nbreak "quoted"' })).toBe(
      '{"f":0.30000000000000004,"s":"line\\nbreak \\"quoted\\""}',
    )
  })

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalize({ x: Number.NaN })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    expect(() => canonicalize({ x: () => 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
