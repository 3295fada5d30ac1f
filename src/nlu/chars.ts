/**
 * Per-character tables for the allocation-free scanner: character class, lowercase and accent folding for every
 * UTF-16 code unit of the Basic Multilingual Plane. Built once, lazily (about 20 ms), so the predict path maps a
 * character with two array reads instead of `toLowerCase()` / `normalize()` on substrings.
 * @module
 */

/** Not part of a word. */
export const CH_OTHER = 0
/** A letter or a digit (`\p{L}`, `\p{N}`): starts or continues a word. */
export const CH_WORD = 1
/** A combining mark (`\p{M}`): continues a word, dropped by accent folding. */
export const CH_MARK = 2
/** An apostrophe (`'` or `’`): joins two words ("don't"). */
export const CH_APOSTROPHE = 3
/** A high surrogate: the class depends on the full code point. */
export const CH_SURROGATE = 4

export interface CharTables {
  /** Class of each code unit, one of the `CH_*` constants. */
  cls: Uint8Array
  /** Lowercase form of each code unit (its first code unit when lowercasing expands). */
  lower: Uint16Array
  /** The base character after canonical decomposition, or 0 for a combining mark (dropped when folding). */
  fold: Uint16Array
}

let tables: CharTables | undefined

const WORD_RE = /^[\p{L}\p{N}]$/u
const MARK_RE = /^\p{M}$/u
const MARKS_RE = /\p{M}+/gu

/** The shared tables; the first call builds them. */
export function charTables(): CharTables {
  if (tables) return tables
  const cls = new Uint8Array(65536)
  const lower = new Uint16Array(65536)
  const fold = new Uint16Array(65536)
  for (let c = 0; c < 65536; c++) {
    lower[c] = c
    fold[c] = c
    if (c >= 0xd800 && c <= 0xdfff) {
      cls[c] = c <= 0xdbff ? CH_SURROGATE : CH_OTHER
      continue
    }
    if (c < 128) {
      const isWord = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
      cls[c] = isWord ? CH_WORD : c === 39 ? CH_APOSTROPHE : CH_OTHER
      if (c >= 65 && c <= 90) lower[c] = c + 32
      continue
    }
    const s = String.fromCharCode(c)
    if (c === 0x2019) cls[c] = CH_APOSTROPHE
    else if (WORD_RE.test(s)) cls[c] = CH_WORD
    else if (MARK_RE.test(s)) cls[c] = CH_MARK
    const lo = s.toLowerCase()
    lower[c] = lo.charCodeAt(0)
    if (cls[c] === CH_MARK) fold[c] = 0
    else if (cls[c] === CH_WORD) {
      const base = s.normalize('NFD').replace(MARKS_RE, '')
      if (base.length === 1) fold[c] = base.charCodeAt(0)
    }
  }
  tables = { cls, lower, fold }
  return tables
}

const astralClass = new Map<number, number>()

/** Class of a code point outside the BMP (emoji, historic scripts, rare CJK); cached. */
export function astralCharClass(codePoint: number): number {
  let c = astralClass.get(codePoint)
  if (c === undefined) {
    const s = String.fromCodePoint(codePoint)
    c = WORD_RE.test(s) ? CH_WORD : MARK_RE.test(s) ? CH_MARK : CH_OTHER
    if (astralClass.size < 4096) astralClass.set(codePoint, c)
  }
  return c
}
