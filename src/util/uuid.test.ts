import { afterEach, describe, expect, it, vi } from 'vitest'
import { uuidv7, uuidv7Time } from './uuid.js'

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10, the current time in the first 48 bits', () => {
    const before = Date.now()
    const id = uuidv7()
    const after = Date.now()
    expect(id).toMatch(V7)
    // The counter may carry the time forward by a few ms when many ids were made in one ms.
    expect(uuidv7Time(id)).toBeGreaterThanOrEqual(before)
    expect(uuidv7Time(id)).toBeLessThanOrEqual(after + 5)
  })

  it('sorts strictly in the order made, also many within one millisecond', () => {
    const ids = Array.from({ length: 50_000 }, () => uuidv7())
    for (let i = 1; i < ids.length; i++) {
      if (!(ids[i - 1]! < ids[i]!)) throw new Error(`${ids[i - 1]} !< ${ids[i]} at ${i}`)
    }
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids.slice(0, 1000)) expect(id).toMatch(V7)
  })

  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('stays increasing when the clock steps back, and carries the time it last used', () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(2_000_000_000_000)
    const a = uuidv7()
    now.mockReturnValue(1_999_999_999_000)
    const b = uuidv7()
    now.mockReturnValue(2_000_000_000_001)
    const c = uuidv7()
    expect(a < b && b < c).toBe(true)
    expect(uuidv7Time(b)).toBe(2_000_000_000_000)
    expect(uuidv7Time(c)).toBe(2_000_000_000_001)
    for (const id of [a, b, c]) expect(id).toMatch(V7)
  })

  it('varies in its random tail', () => {
    // Several times the ids one fill of random bytes serves: no tail comes back after a refill.
    const tails = new Set(Array.from({ length: 2000 }, () => uuidv7().slice(19)))
    expect(tails.size).toBe(2000)
  })
})
