/**
 * UUIDv7 (RFC 9562) ids, from the `uuid` package: a 48-bit Unix-millisecond timestamp first, then a counter within
 * the millisecond, then random bits. Ids made later sort later, so a B-tree keyed on them (the prediction log's
 * primary key) appends at its right edge instead of touching a random page per insert; the random tail keeps ids
 * from several processes apart.
 * @module
 */
import { v7 } from 'uuid'

/**
 * A new UUIDv7 string, greater than every earlier one from this process (`uuid` keeps a counter within the
 * millisecond and carries the time forward when the clock steps back).
 * @example
 * uuidv7() // '019ab3f2-6c1e-7a41-9f0c-2b5d8e7a1c34'
 */
export function uuidv7(): string {
  return v7()
}

/** The Unix-millisecond time a UUIDv7 carries. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
}
