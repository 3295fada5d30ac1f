/**
 * Hashing of n-grams without building their strings: two independent 32-bit hashes rolled over UTF-16 code
 * units, finalised with MurmurHash3's mixer, act as one 64-bit key (a collision between two of a million n-grams
 * has odds near 1 in 10^7), and an open-addressing table maps keys to feature indexes.
 * @module
 */

export const H1_INIT = 0x811c9dc5
export const H2_INIT = 0x3c6ef372

/** One FNV-1a step over a UTF-16 code unit. */
export function step1(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193)
}

/** A second, independent multiplicative step. */
export function step2(h: number, c: number): number {
  return (Math.imul(h ^ c, 0x2c1b3c6d) + 0x297a2d39) | 0
}

/** MurmurHash3 finaliser: spreads every input bit over the output; returns an unsigned 32-bit value. */
export function fmix32(h: number): number {
  return fmix32i(h) >>> 0
}

/**
 * {@link fmix32}'s bits as a signed int32, for keys that are only stored in typed arrays or compared as bits: a
 * result above 2^31 - 1 needs no heap number when the call is not inlined.
 */
export function fmix32i(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** Mixed into a key's second half before its finaliser. */
export const KEY_B_SALT = 0x5bd1e995

/**
 * The 64-bit key of the code units `chars[s..e)`, as unsigned halves: `step1`/`step2` rolled over them, then
 * `fmix32`. A token's key (`TextScanner.hashTokens` computes the same bits as int32).
 */
export function hashCodeUnits(chars: Uint16Array, s: number, e: number): [number, number] {
  let a = H1_INIT
  let b = H2_INIT
  for (let j = s; j < e; j++) {
    a = step1(a, chars[j]!)
    b = step2(b, chars[j]!)
  }
  return [fmix32(a), fmix32(b ^ KEY_B_SALT)]
}

/**
 * Open-addressing hash table from 64-bit keys (two uint32 halves) to non-negative int32 values, linear probing,
 * kept at most half full. Deterministic: equal insertions in equal order give equal tables. A slot's two key
 * halves and value sit side by side, so a lookup (one per n-gram on the predict path) touches one cache line.
 */
export class KeyTable {
  /** Slot `i` is `[3i]` = key's first half, `[3i + 1]` = second half (both as int32), `[3i + 2]` = value or -1. */
  private slots: Int32Array
  private mask: number
  size = 0

  constructor(expected = 16) {
    let cap = 16
    while (cap < expected * 2) cap *= 2
    this.slots = emptySlots(cap)
    this.mask = cap - 1
  }

  /** The value stored for the key, or -1. */
  get(a: number, b: number): number {
    const slots = this.slots
    const mask = this.mask
    const a32 = a | 0
    const b32 = b | 0
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask
    for (;;) {
      const at = i * 3
      const x = slots[at + 2]!
      if (x === -1) return -1
      if (slots[at] === a32 && slots[at + 1] === b32) return x
      i = (i + 1) & mask
    }
  }

  /** Store `value` for the key unless present; returns the stored value. */
  intern(a: number, b: number, value: number): number {
    const a32 = a | 0
    const b32 = b | 0
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask
    for (;;) {
      const at = i * 3
      const x = this.slots[at + 2]!
      if (x === -1) break
      if (this.slots[at] === a32 && this.slots[at + 1] === b32) return x
      i = (i + 1) & this.mask
    }
    const at = i * 3
    this.slots[at] = a32
    this.slots[at + 1] = b32
    this.slots[at + 2] = value
    this.size++
    if (this.size * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2)
    return value
  }

  private rehash(cap: number): void {
    const old = this.slots
    this.slots = emptySlots(cap)
    this.mask = cap - 1
    this.size = 0
    for (let at = 0; at < old.length; at += 3) {
      if (old[at + 2] !== -1) this.intern(old[at]! >>> 0, old[at + 1]! >>> 0, old[at + 2]!)
    }
  }
}

function emptySlots(cap: number): Int32Array {
  const slots = new Int32Array(cap * 3)
  for (let at = 2; at < slots.length; at += 3) slots[at] = -1
  return slots
}
