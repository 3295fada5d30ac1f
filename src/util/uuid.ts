/**
 * UUIDv7 (RFC 9562): a 48-bit Unix-millisecond timestamp, a 12-bit counter and 62 random bits. Ids made later sort
 * later, so a B-tree keyed on them (the prediction log's primary key) appends at its right edge instead of touching a
 * random page per insert; the random tail keeps ids from several processes apart.
 * @module
 */
import { randomFillSync } from 'node:crypto'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const COUNTER = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'))

// Random bytes drawn in blocks: one system call per 512 ids.
const pool = new Uint8Array(4096)
let poolAt = pool.length

let lastMs = -1
let counter = 0
let prefix = ''

/**
 * A new UUIDv7 string, strictly greater than every earlier one from this process (within a millisecond the counter
 * goes up; when it runs out, or the clock steps back, the timestamp is carried forward).
 * @example
 * uuidv7() // '019ab3f2-6c1e-7a41-9f0c-2b5d8e7a1c34'
 */
export function uuidv7(): string {
  const now = Date.now()
  if (now > lastMs) {
    lastMs = now
    // A random start within the lower half leaves at least 2048 ids for the millisecond before carrying.
    counter = nextByte() | ((nextByte() & 0x07) << 8)
    prefix = timePrefix(lastMs)
  } else if (++counter > 0xfff) {
    lastMs++
    counter = 0
    prefix = timePrefix(lastMs)
  }
  if (poolAt + 8 > pool.length) refill()
  const p = pool
  const i = poolAt
  poolAt += 8
  return (
    prefix +
    COUNTER[counter]! +
    '-' +
    HEX[(p[i]! & 0x3f) | 0x80]! +
    HEX[p[i + 1]!]! +
    '-' +
    HEX[p[i + 2]!]! +
    HEX[p[i + 3]!]! +
    HEX[p[i + 4]!]! +
    HEX[p[i + 5]!]! +
    HEX[p[i + 6]!]! +
    HEX[p[i + 7]!]!
  )
}

/** The Unix-millisecond time a UUIDv7 carries. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
}

function timePrefix(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7`
}

function nextByte(): number {
  if (poolAt >= pool.length) refill()
  return pool[poolAt++]!
}

function refill(): void {
  randomFillSync(pool)
  poolAt = 0
}
