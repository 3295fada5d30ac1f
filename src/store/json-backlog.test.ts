import { describe, expect, it } from 'vitest'
import { JsonBacklog, parseJsonLines } from './json-backlog.js'

const decode = (bytes: Uint8Array) => parseJsonLines(bytes)

describe('JsonBacklog', () => {
  it('gives any leading run of records back as newline-delimited JSON, and keeps them until shifted', () => {
    const b = new JsonBacklog()
    expect(decode(b.batch(10))).toEqual([])
    for (let i = 0; i < 5; i++) b.append({ i, text: `record ${i}` })
    expect(b.count).toBe(5)
    expect(decode(b.batch(3))).toEqual([0, 1, 2].map((i) => ({ i, text: `record ${i}` })))
    // Reading a batch is not taking it: a failed write reads the same records again.
    expect(decode(b.batch(3))).toEqual([0, 1, 2].map((i) => ({ i, text: `record ${i}` })))
    b.shift(3)
    expect(b.count).toBe(2)
    expect(decode(b.batch(10))).toEqual([3, 4].map((i) => ({ i, text: `record ${i}` })))
    b.shift(10)
    expect(b.count).toBe(0)
    expect(b.byteLength).toBe(0)
  })

  it('keeps text in any script, escapes and lone surrogates exactly as JSON.parse(JSON.stringify(x)) would', () => {
    const b = new JsonBacklog()
    const values = [
      { text: 'naïve café, 東京, emoji 🚀 and \u2028 line separator' },
      { text: 'quotes " and \\ backslash, newline \n tab \t' },
      { text: 'lone \ud800 surrogate' },
      { nested: { list: [1, 2.5, -0.125, null, true] } },
    ]
    for (const v of values) b.append(v)
    expect(decode(b.batch(values.length))).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))))
  })

  it('hands out a buffer of its own that may be transferred, and later appends do not change it', () => {
    const b = new JsonBacklog()
    b.append({ a: 1 })
    const batch = b.batch(1)
    expect(batch.byteOffset).toBe(0)
    expect(batch.byteLength).toBe(batch.buffer.byteLength)
    expect(new TextDecoder().decode(batch)).toBe('{"a":1}\n')
    // copyTo fills a recycled buffer, and refuses one too small.
    const into = new Uint8Array(64)
    expect(b.copyTo(1, into)).toBe(8)
    expect(() => b.copyTo(1, new Uint8Array(7))).toThrow(RangeError)
    for (let i = 0; i < 100; i++) b.append({ filler: 'x'.repeat(1000) })
    b.shift(1)
    expect(decode(batch)).toEqual([{ a: 1 }])
  })

  it('stays a FIFO through growth, sliding and shrinking, record for record', () => {
    const b = new JsonBacklog()
    let next = 0
    let expected = 0
    // Records of varied sizes, some far larger than the starting buffer, taken in uneven batches while more arrive.
    const make = (i: number) => ({ i, pad: 'é'.repeat((i * 7919) % (i % 97 === 0 ? 600_000 : 2_000)) })
    for (let round = 0; round < 60; round++) {
      const add = (round * 37) % 400
      for (let k = 0; k < add; k++) b.append(make(next++))
      const take = Math.min(b.count, (round * 53) % 300)
      const got = decode(b.batch(take)) as Array<{ i: number; pad: string }>
      expect(got.map((r) => r.i)).toEqual(Array.from({ length: take }, (_, k) => expected + k))
      for (const r of got) expect(r).toEqual(make(r.i))
      b.shift(take)
      expected += take
      expect(b.count).toBe(next - expected)
    }
    const rest = decode(b.batch(b.count)) as Array<{ i: number }>
    expect(rest.map((r) => r.i)).toEqual(Array.from({ length: next - expected }, (_, k) => expected + k))
    b.clear()
    expect(b.count).toBe(0)
    b.append({ after: 'clear' })
    expect(decode(b.batch(5))).toEqual([{ after: 'clear' }])
  })

  it('keeps its buffer through the steady cycle of appends and batches, and gives back what a burst grew', () => {
    const b = new JsonBacklog()
    const record = { text: 'x'.repeat(480) }
    const cycle = (records: number, batch: number) => {
      for (let i = 0; i < records; i++) b.append(record)
      b.shift(batch)
    }
    // A batch of ~2.5 MB in flight while the next fills: the buffer grows once, then is reused.
    for (let i = 0; i < 5; i++) cycle(5000, 5000)
    const steady = b.capacity
    expect(steady).toBeGreaterThan(5000 * 481)
    for (let i = 0; i < 100; i++) cycle(5000, 5000)
    expect(b.capacity).toBe(steady)
    // The backlog emptying is no reason to give the buffer back either.
    b.shift(b.count)
    for (let i = 0; i < 10; i++) cycle(5000, 5000)
    expect(b.capacity).toBe(steady)

    // A burst (the store down for a while), then small batches again: the buffer shrinks once they have shown the
    // load, to twice the most they held, and the records survive the move.
    for (let i = 0; i < 60_000; i++) b.append({ i, text: 'y'.repeat(480) })
    const burst = b.capacity
    expect(burst).toBeGreaterThan(60_000 * 490)
    b.shift(b.count)
    for (let i = 0; i < 100; i++) b.append(record)
    const sizes: number[] = []
    for (let i = 0; i < 40; i++) {
      cycle(200, 200)
      sizes.push(b.capacity)
    }
    expect(sizes.slice(0, 14).every((s) => s === burst)).toBe(true)
    expect(b.capacity).toBeLessThan(burst)
    expect(b.capacity).toBe(1 << 20)
    expect(new Set(sizes.slice(-20)).size).toBe(1)
    const left = decode(b.batch(b.count))
    expect(left).toHaveLength(100)
    expect(left.every((r) => JSON.stringify(r) === JSON.stringify(record))).toBe(true)
  })
})

describe('parseJsonLines', () => {
  it('parses batches of many chunks, lines longer than a chunk, and text in any script', () => {
    const values = Array.from({ length: 3000 }, (_, i) => ({
      i,
      text: i % 500 === 7 ? 'ü東🚀'.repeat(40_000) : `message ${i} naïve`,
    }))
    const bytes = new TextEncoder().encode(values.map((v) => `${JSON.stringify(v)}\n`).join(''))
    expect(bytes.length).toBeGreaterThan(4 * 64 * 1024)
    expect(parseJsonLines(bytes)).toEqual(values)
    // A view into a larger buffer reads only its own bytes.
    const padded = new Uint8Array(bytes.length + 10)
    padded.set(bytes, 5)
    expect(parseJsonLines(padded.subarray(5, 5 + bytes.length))).toEqual(values)
    expect(parseJsonLines(new Uint8Array(0))).toEqual([])
  })

  it('refuses text that does not end with a newline or holds an invalid line', () => {
    const enc = (s: string) => new TextEncoder().encode(s)
    expect(() => parseJsonLines(enc('{"a":1}\n{"b":2}'))).toThrow(/end with a newline/)
    expect(() => parseJsonLines(enc('{"a":1}\n{"b":\n'))).toThrow(SyntaxError)
  })
})
