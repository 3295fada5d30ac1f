/**
 * Unicode-aware tokenizer that keeps character offsets, so entities map back to the original text.
 *
 * A token starts with a letter or digit (`\p{L}`, `\p{N}`), continues with letters, digits and combining marks,
 * and joins across an inner apostrophe ("don't", "l’homme"). Everything else separates tokens. Two entry points
 * share one definition: {@link TextScanner} fills reusable typed arrays and allocates nothing per call (the
 * featurizers' predict path), and {@link tokenize} returns `Token` objects (entity extractors).
 * @module
 */
import { astralCharClass, CH_APOSTROPHE, CH_MARK, CH_SURROGATE, CH_WORD, charTables } from './chars.js'
import { fmix32i, H1_INIT, H2_INIT, KEY_B_SALT, step1, step2 } from './hash.js'

export interface Token {
  /** Normalised form (lowercased / accent-folded as configured; apostrophes become `'`). */
  text: string
  /** UTF-16 offset of the first character in the original text. */
  start: number
  /** UTF-16 offset one past the last character. */
  end: number
}

export interface TokenizerParams {
  /** Lowercase tokens. Default true. */
  lowercase: boolean
  /** Strip combining marks after canonical decomposition (é → e). Default false. */
  foldAccents: boolean
}

export const DEFAULT_TOKENIZER_PARAMS: Readonly<TokenizerParams> = Object.freeze({
  lowercase: true,
  foldAccents: false,
})

const APOSTROPHE = 39

/**
 * Scans text into tokens held in reusable typed arrays. One instance is not reentrant. After `scan(text)`, token `i`
 * is `chars[tokStart[i]..tokEnd[i])` (normalised code units) and covers `text[srcStart[i]..srcEnd[i])`. The arrays
 * are read-only to everyone but the scanner: the components of a fitted pipeline that normalise alike share one
 * scanner (see {@link ScannerPool}), and {@link scanOnce} then scans each message once for all of them.
 */
export class TextScanner {
  chars = new Uint16Array(256)
  tokStart = new Int32Array(64)
  tokEnd = new Int32Array(64)
  srcStart = new Int32Array(64)
  srcEnd = new Int32Array(64)
  /** After {@link hashTokens}: token `i`'s 64-bit key, two int32 halves (see `hashCodeUnits`). */
  tokHashA = new Int32Array(64)
  tokHashB = new Int32Array(64)
  count = 0
  readonly lowercase: boolean
  readonly foldAccents: boolean
  /** The text the arrays describe, and whether its token keys are computed. */
  private held: string | undefined = undefined
  private hashed = false

  constructor(params: Readonly<TokenizerParams> = DEFAULT_TOKENIZER_PARAMS) {
    this.lowercase = params.lowercase
    this.foldAccents = params.foldAccents
  }

  /** {@link scan}, unless the arrays already describe `text`. */
  scanOnce(text: string): number {
    return text === this.held ? this.count : this.scan(text)
  }

  /** Compute `tokHashA/B` for the tokens of the last scan, unless they are. */
  hashTokens(): void {
    if (this.hashed) return
    const n = this.count
    if (this.tokHashA.length < n) {
      this.tokHashA = new Int32Array(n * 2)
      this.tokHashB = new Int32Array(n * 2)
    }
    const { chars, tokStart, tokEnd, tokHashA, tokHashB } = this
    for (let i = 0; i < n; i++) {
      let a = H1_INIT
      let b = H2_INIT
      const e = tokEnd[i]!
      for (let j = tokStart[i]!; j < e; j++) {
        a = step1(a, chars[j]!)
        b = step2(b, chars[j]!)
      }
      tokHashA[i] = fmix32i(a)
      tokHashB[i] = fmix32i(b ^ KEY_B_SALT)
    }
    this.hashed = true
  }

  /** Tokenize `text`; returns the number of tokens. */
  scan(text: string): number {
    this.held = undefined
    this.hashed = false
    const { cls, lower, fold } = charTables()
    const n = text.length
    if (this.chars.length < n + 2) this.chars = new Uint16Array(Math.max(n + 2, this.chars.length * 2))
    const chars = this.chars
    let len = 0
    let count = 0
    let i = 0
    while (i < n) {
      // Find the start of the next token.
      let c = text.charCodeAt(i)
      let k = cls[c]!
      let width = 1
      if (k === CH_SURROGATE) {
        const cp = text.codePointAt(i)!
        if (cp > 0xffff) {
          k = astralCharClass(cp)
          width = 2
        } else k = 0
      }
      if (k !== CH_WORD) {
        i += width
        continue
      }
      if (count === this.tokStart.length) this.growTokens()
      const tokenStart = len
      this.srcStart[count] = i
      let end = i
      // Consume the token.
      while (i < n) {
        c = text.charCodeAt(i)
        k = cls[c]!
        width = 1
        if (k === CH_SURROGATE) {
          const cp = text.codePointAt(i)!
          if (cp > 0xffff) {
            k = astralCharClass(cp)
            width = 2
          } else k = 0
        }
        if (k === CH_WORD) {
          if (width === 2) {
            chars[len++] = c
            chars[len++] = text.charCodeAt(i + 1)
          } else {
            let m = this.lowercase ? lower[c]! : c
            if (this.foldAccents) m = fold[m]!
            chars[len++] = m
          }
          i += width
          end = i
        } else if (k === CH_MARK) {
          if (!this.foldAccents) {
            if (width === 2) {
              chars[len++] = c
              chars[len++] = text.charCodeAt(i + 1)
            } else chars[len++] = c
          }
          i += width
          end = i
        } else if (k === CH_APOSTROPHE && i + 1 < n && isWordStart(text, i + 1, cls)) {
          chars[len++] = APOSTROPHE
          i += 1
        } else break
      }
      this.tokStart[count] = tokenStart
      this.tokEnd[count] = len
      this.srcEnd[count] = end
      count++
    }
    this.count = count
    this.held = text
    return count
  }

  /** The normalised text of token `i` (allocates; for tests and entity code, not for the hot path). */
  tokenText(i: number): string {
    const chars = this.chars
    const start = this.tokStart[i]!
    const end = this.tokEnd[i]!
    let s = ''
    // Most tokens are short: appending code units is several times faster than spreading a subarray (the spread
    // goes through the iterator protocol), and entity extraction asks for every token of every message.
    if (end - start <= 16) {
      for (let a = start; a < end; a++) s += String.fromCharCode(chars[a]!)
      return s
    }
    // Chunked: one call with a very long token's code units would overflow the argument stack.
    for (let a = start; a < end; a += 4096) {
      s += String.fromCharCode.apply(null, chars.subarray(a, Math.min(end, a + 4096)) as unknown as number[])
    }
    return s
  }

  private growTokens(): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2)
      b.set(a)
      return b
    }
    this.tokStart = grow(this.tokStart)
    this.tokEnd = grow(this.tokEnd)
    this.srcStart = grow(this.srcStart)
    this.srcEnd = grow(this.srcEnd)
  }
}

/**
 * One scanner per normalisation for the components of one fitted pipeline, which run one at a time on the same
 * message: the first to read a message scans it, the others find it scanned.
 */
export class ScannerPool {
  private readonly scanners = new Map<string, TextScanner>()

  get(params: Readonly<TokenizerParams>): TextScanner {
    const key = `${params.lowercase ? 1 : 0}${params.foldAccents ? 1 : 0}`
    let scanner = this.scanners.get(key)
    if (!scanner) {
      scanner = new TextScanner(params)
      this.scanners.set(key, scanner)
    }
    return scanner
  }
}

/** A component whose scanners a pipeline may replace by shared ones of the same normalisation. */
export interface ScannerUser {
  useScanners(pool: ScannerPool): void
}

/** Give every component of a pipeline that reads text through a {@link TextScanner} the pool's scanners. */
export function shareScanners(components: readonly object[]): void {
  const pool = new ScannerPool()
  for (const c of components) (c as Partial<ScannerUser>).useScanners?.(pool)
}

function isWordStart(text: string, i: number, cls: Uint8Array): boolean {
  const k = cls[text.charCodeAt(i)]!
  if (k === CH_WORD) return true
  if (k !== CH_SURROGATE) return false
  const cp = text.codePointAt(i)!
  return cp > 0xffff && astralCharClass(cp) === CH_WORD
}

const tokenizeScanners = new ScannerPool()

/** Split text into word tokens with offsets into the original string. */
export function tokenize(text: string, params: Readonly<TokenizerParams> = DEFAULT_TOKENIZER_PARAMS): Token[] {
  const scanner = tokenizeScanners.get(params)
  const count = scanner.scanOnce(text)
  const tokens: Token[] = new Array(count)
  for (let t = 0; t < count; t++) {
    tokens[t] = { text: scanner.tokenText(t), start: scanner.srcStart[t]!, end: scanner.srcEnd[t]! }
  }
  return tokens
}

/** Normalise one word the way the tokenizer normalises token text. */
export function normalizeToken(raw: string, params: Readonly<TokenizerParams> = DEFAULT_TOKENIZER_PARAMS): string {
  return tokenize(raw, params)
    .map((t) => t.text)
    .join(' ')
}
