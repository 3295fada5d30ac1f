/**
 * UUIDv7 (RFC 9562) ids, from the `uuid` package: a 48-bit Unix-millisecond timestamp first, then a counter within
 * the millisecond, then random bits. Ids made later sort later, so a B-tree keyed on them (the prediction log's
 * primary key) appends at its right edge instead of touching a random page per insert; the random tail keeps ids
 * from several processes apart.
 * @module
 */
import { randomFillSync } from 'node:crypto'
import { v7 } from 'uuid'

// Every request gets an id: `uuid`'s own generator asks the OS-backed CSPRNG for 16 bytes per id (~6 µs of a ~100 µs
// request); one fill of 4 KB serves 256 ids.
const POOL_BYTES = 4096
const pool = new Uint8Array(POOL_BYTES)
let poolOffset = POOL_BYTES

// With caller-given random bytes `uuid` keeps no state, so the counter is kept here, as its `updateV7State` does.
let lastMs = Number.NEGATIVE_INFINITY
let seq = 0

/**
 * A new UUIDv7 string, greater than every earlier one from this process (a counter within the millisecond, and the
 * time carried forward when the counter wraps or the clock steps back).
 * @example
 * uuidv7() // '019ab3f2-6c1e-7a41-9f0c-2b5d8e7a1c34'
 */
export function uuidv7(): string {
  if (poolOffset === POOL_BYTES) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const random = pool.subarray(poolOffset, poolOffset + 16)
  poolOffset += 16
  const now = Date.now()
  if (now > lastMs) {
    // A random start (31 bits, top bit clear) leaves room to count up within the millisecond.
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!
    lastMs = now
  } else {
    seq = (seq + 1) | 0
    if (seq === 0) lastMs++
  }
  return v7({ msecs: lastMs, seq, random })
}

/** The Unix-millisecond time a UUIDv7 carries. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
}
