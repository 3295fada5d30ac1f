/**
 * Word tokens of many examples as integer ids in one flat array, built without a string per token: ASCII text is
 * hashed and interned straight from its char codes. Duplicate and near-duplicate search run on these ids.
 * @module
 */

const WORD_RE = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu
const NON_ASCII_RE = /[^\x00-\x7f]/

function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90)
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c
}

/** Lowercased word tokens of a text (NFKC): runs of letters and digits, with inner apostrophes. */
export function exampleTokens(text: string): string[] {
  if (NON_ASCII_RE.test(text)) return text.normalize('NFKC').toLowerCase().match(WORD_RE) ?? []
  const out: string[] = []
  scanAscii(text, (from, to) => {
    out.push(text.slice(from, to).toLowerCase())
  })
  return out
}

/** Call `emit(from, to)` for each ASCII word in `text`; the same words `WORD_RE` finds in ASCII text. */
function scanAscii(text: string, emit: (from: number, to: number) => void): void {
  const n = text.length
  let i = 0
  while (i < n) {
    if (!isAlnum(text.charCodeAt(i))) {
      i++
      continue
    }
    const from = i
    while (i < n) {
      const c = text.charCodeAt(i)
      if (isAlnum(c)) i++
      else if (c === 39 && i + 1 < n && isAlnum(text.charCodeAt(i + 1))) i += 2
      else break
    }
    emit(from, i)
  }
}

/** Interns tokens to dense ids with an open-addressing table; ASCII spans are looked up without a substring. */
class Interner {
  words: string[] = []
  private hashes: number[] = []
  private table = new Int32Array(1 << 12)

  get size() {
    return this.words.length
  }

  /** Id of the lowercased ASCII span text[from, to). Hot path: no closure, no substring unless the word is new. */
  span(text: string, from: number, to: number): number {
    let h = 0x811c9dc5
    for (let k = from; k < to; k++) h = Math.imul(h ^ lower(text.charCodeAt(k)), 0x01000193)
    const len = to - from
    const mask = this.table.length - 1
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot]!
      if (entry === 0) return this.add(slot, h, text.slice(from, to).toLowerCase())
      const id = entry - 1
      const w = this.words[id]!
      if (this.hashes[id] !== h || w.length !== len) continue
      let k = 0
      while (k < len && w.charCodeAt(k) === lower(text.charCodeAt(from + k))) k++
      if (k === len) return id
    }
  }

  private add(slot: number, h: number, word: string): number {
    const id = this.words.length
    this.words.push(word)
    this.hashes.push(h)
    this.table[slot] = id + 1
    if (this.words.length * 2 > this.table.length) this.grow()
    return id
  }

  /** Id of a token string (already normalised). */
  word(word: string): number {
    let h = 0x811c9dc5
    for (let k = 0; k < word.length; k++) h = Math.imul(h ^ word.charCodeAt(k), 0x01000193)
    return this.find(
      h,
      word.length,
      (w) => w === word,
      () => word,
    )
  }

  private find(h: number, len: number, same: (w: string) => boolean, make: () => string): number {
    const mask = this.table.length - 1
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot]!
      if (entry === 0) return this.add(slot, h, make())
      const id = entry - 1
      if (this.hashes[id] === h && this.words[id]!.length === len && same(this.words[id]!)) return id
    }
  }

  private grow(): void {
    const table = new Int32Array(this.table.length * 2)
    const mask = table.length - 1
    for (let id = 0; id < this.words.length; id++) {
      let slot = this.hashes[id]! & mask
      while (table[slot] !== 0) slot = (slot + 1) & mask
      table[slot] = id + 1
    }
    this.table = table
  }
}

export interface TokenIndex {
  /** Token ids of example i, in text order: seq[start[i]] .. seq[start[i + 1] - 1]. */
  seq: Int32Array
  start: Int32Array
  /** Distinct tokens seen. */
  vocabSize: number
}

/** Tokenise `texts` into one flat array of ids. */
export function indexTokens(texts: readonly string[]): TokenIndex {
  const interner = new Interner()
  let seq = new Int32Array(Math.max(16, texts.length * 8))
  const start = new Int32Array(texts.length + 1)
  let w = 0
  const push = (id: number) => {
    if (w === seq.length) {
      const bigger = new Int32Array(seq.length * 2)
      bigger.set(seq)
      seq = bigger
    }
    seq[w++] = id
  }
  for (let i = 0; i < texts.length; i++) {
    start[i] = w
    const text = texts[i]!
    if (NON_ASCII_RE.test(text)) {
      for (const t of text.normalize('NFKC').toLowerCase().match(WORD_RE) ?? []) push(interner.word(t))
      continue
    }
    // the scan of `scanAscii`, inlined: this loop runs once per character of the training set
    const n = text.length
    let p = 0
    while (p < n) {
      if (!isAlnum(text.charCodeAt(p))) {
        p++
        continue
      }
      const from = p
      while (p < n) {
        const c = text.charCodeAt(p)
        if (isAlnum(c)) p++
        else if (c === 39 && p + 1 < n && isAlnum(text.charCodeAt(p + 1))) p += 2
        else break
      }
      push(interner.span(text, from, p))
    }
  }
  start[texts.length] = w
  return { seq: seq.subarray(0, w), start, vocabSize: interner.size }
}
