/**
 * Token features of the CRF tagger, hashed into a fixed space of `2^hashBits` keys.
 *
 * Per token: bias, lowercased word, shape (`Xxxx`, `dd`, …) and short shape (`Xx`, `d`), 2- and 3-character prefixes
 * and suffixes, is-digit / is-title / is-upper, the words in a ±window context (with begin/end markers), the short
 * shapes of the neighbours, the bigrams with each neighbour, the lookup tables the token is part of (with its
 * B/I/L/U position in the match) and the regexes whose matches overlap it.
 *
 * Words are hashed character by character straight from the original text (FNV-1a over lowercased UTF-16 code
 * units, through the shared character tables), so extracting features allocates no substrings; only regex matching
 * allocates, as `RegExp.exec` must. Lookup tables are matched by the allocation-free `LookupMatcher` and regexes are
 * compiled by `compilePattern`, as the `lookup_entities`, `regex_entities` and `regex_features` steps do.
 * @module
 */

import { newRegexCheckTally, type RegexCheckTally } from '../../util/regex-safety.js'
import { charTables } from '../chars.js'
import { firstTokenEndingAfter } from './crf-tags.js'
import { LookupMatcher } from './lookup.js'
import { compilePattern, MAX_REGEX_INPUT, pastEmptyMatch } from './regex.js'

/** Token boundaries into the text; features read the characters from the text itself. */
export interface FeatureToken {
  start: number
  end: number
}

export interface CrfLookupSource {
  name: string
  elements: readonly string[]
}

export interface CrfRegexSource {
  name: string
  patterns: readonly string[]
}

// ── hashing ──────────────────────────────────────────────────────────────────

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** Mixes two 32-bit values into a well-spread 32-bit hash (murmur3 finaliser over a multiply-xor). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

const { lower } = charTables()

/** Shape class of a code unit: X upper, x lower (or caseless letter), d digit, the character itself otherwise. */
function shapeCode(c: number): number {
  if (c >= 48 && c <= 57) return 100 // d
  if (c >= 65 && c <= 90) return 88 // X
  if (c >= 97 && c <= 122) return 120 // x
  if (c < 128) return c
  return lower[c] !== c ? 88 : 120
}

/** Hash of the lowercased characters `text[start … end)`; also used for lookup elements. */
function hashWord(text: string, start: number, end: number): number {
  let h = FNV_OFFSET
  for (let i = start; i < end; i++) h = Math.imul(h ^ lower[text.charCodeAt(i)]!, FNV_PRIME)
  return h >>> 0
}

// ── feature templates ────────────────────────────────────────────────────────

const T_BIAS = 1
const T_WORD = 2
const T_SHAPE = 3
const T_SHORT_SHAPE = 4
const T_PREFIX2 = 5
const T_PREFIX3 = 6
const T_SUFFIX2 = 7
const T_SUFFIX3 = 8
const T_DIGIT = 9
const T_TITLE = 10
const T_UPPER = 11
const T_CONTEXT_WORD = 12
const T_CONTEXT_SHAPE = 13
const T_BIGRAM_PREV = 14
const T_BIGRAM_NEXT = 15
const T_LOOKUP = 16
const T_REGEX = 17

const BOS = 0x2f1b3c4d
const EOS = 0x6a09e667
const FLAG_DIGIT = 1
const FLAG_TITLE = 2
const FLAG_UPPER = 4
// Shapes collapse runs longer than this, as spaCy does: "Xxxxxxxx" → "Xxxx".
const SHAPE_MAX_RUN = 4
/** Compiled feature settings: lookup tables and regexes. Build once per model; `extract` reuses its buffers. */
export class CrfFeaturizer {
  readonly hashBits: number
  readonly window: number
  readonly lookupNames: readonly string[]
  readonly regexNames: readonly string[]
  private readonly shift: number
  private readonly matcher: LookupMatcher
  private readonly regexes: RegExp[][]
  // Per-token scratch, grown on demand.
  private cap = 0
  private word = new Uint32Array(0)
  private shape = new Uint32Array(0)
  private shortShape = new Uint32Array(0)
  private prefix2 = new Uint32Array(0)
  private prefix3 = new Uint32Array(0)
  private suffix2 = new Uint32Array(0)
  private suffix3 = new Uint32Array(0)
  private flags = new Uint8Array(0)
  private lookupLen = new Uint16Array(0)
  private lookupPos = new Uint8Array(0)
  private regexHit = new Uint8Array(0)
  private keyBuf = new Uint32Array(0)
  private offsetBuf = new Uint32Array(0)
  // The tokens of the current `extract` call, for the lookup callback.
  private current: readonly FeatureToken[] = []
  private readonly onLookup = (table: number, first: number, last: number) => this.markLookup(table, first, last)

  /**
   * Throws ERR_NLU_REGEX_INVALID for a pattern that does not compile (with the `u` flag, as every regex step), and
   * what `compilePattern` throws for one that is unsafe or past the limits of `tally` (the training run's or model
   * load's).
   */
  constructor(
    hashBits: number,
    window: number,
    lookups: readonly CrfLookupSource[],
    regexes: readonly CrfRegexSource[],
    caseSensitive: boolean,
    tally: RegexCheckTally = newRegexCheckTally(),
  ) {
    this.hashBits = hashBits
    this.window = window
    this.shift = 32 - hashBits
    this.lookupNames = lookups.map((l) => l.name)
    this.regexNames = regexes.map((r) => r.name)
    this.matcher = new LookupMatcher(lookups, false)
    this.regexes = regexes.map((r) =>
      r.patterns.map((p) => compilePattern(p, r.name, caseSensitive, false, undefined, tally)),
    )
  }

  /** Upper bound on the number of features of one token. */
  get maxFeaturesPerToken(): number {
    // bias, word, shape, short shape, 4 affixes, 3 flags, 2·window context words, 2 context shapes, 2 bigrams
    return 13 + 2 * this.window + 2 + this.lookupNames.length + this.regexNames.length
  }

  /**
   * Hashed feature keys of every token: token `t` owns `keys[offsets[t] … offsets[t+1])`, each in
   * `[0, 2^hashBits)`. The returned arrays are views into buffers reused by the next call.
   */
  extract(text: string, tokens: readonly FeatureToken[]): { keys: Uint32Array; offsets: Uint32Array } {
    const n = tokens.length
    this.ensure(n)
    this.tokenHashes(text, tokens)
    const nl = this.lookupNames.length
    const nr = this.regexNames.length
    if (nl > 0) this.matchLookups(text, tokens)
    if (nr > 0) this.matchRegexes(text, tokens)
    const { word, shape, shortShape, flags, keyBuf, offsetBuf, shift } = this
    const w = this.window
    let k = 0
    for (let t = 0; t < n; t++) {
      offsetBuf[t] = k
      const wt = word[t]!
      keyBuf[k++] = mix(T_BIAS, 0) >>> shift
      keyBuf[k++] = mix(T_WORD, wt) >>> shift
      keyBuf[k++] = mix(T_SHAPE, shape[t]!) >>> shift
      keyBuf[k++] = mix(T_SHORT_SHAPE, shortShape[t]!) >>> shift
      keyBuf[k++] = mix(T_PREFIX2, this.prefix2[t]!) >>> shift
      keyBuf[k++] = mix(T_PREFIX3, this.prefix3[t]!) >>> shift
      keyBuf[k++] = mix(T_SUFFIX2, this.suffix2[t]!) >>> shift
      keyBuf[k++] = mix(T_SUFFIX3, this.suffix3[t]!) >>> shift
      const f = flags[t]!
      if (f & FLAG_DIGIT) keyBuf[k++] = mix(T_DIGIT, 1) >>> shift
      if (f & FLAG_TITLE) keyBuf[k++] = mix(T_TITLE, 1) >>> shift
      if (f & FLAG_UPPER) keyBuf[k++] = mix(T_UPPER, 1) >>> shift
      for (let d = 1; d <= w; d++) {
        const before = t - d >= 0 ? word[t - d]! : BOS
        const after = t + d < n ? word[t + d]! : EOS
        keyBuf[k++] = mix(T_CONTEXT_WORD, mix(-d, before)) >>> shift
        keyBuf[k++] = mix(T_CONTEXT_WORD, mix(d, after)) >>> shift
      }
      const prevWord = t > 0 ? word[t - 1]! : BOS
      const nextWord = t + 1 < n ? word[t + 1]! : EOS
      keyBuf[k++] = mix(T_CONTEXT_SHAPE, mix(-1, t > 0 ? shortShape[t - 1]! : BOS)) >>> shift
      keyBuf[k++] = mix(T_CONTEXT_SHAPE, mix(1, t + 1 < n ? shortShape[t + 1]! : EOS)) >>> shift
      keyBuf[k++] = mix(T_BIGRAM_PREV, mix(prevWord, wt)) >>> shift
      keyBuf[k++] = mix(T_BIGRAM_NEXT, mix(wt, nextWord)) >>> shift
      for (let j = 0; j < nl; j++) {
        const pos = this.lookupPos[t * nl + j]!
        if (pos !== 0) keyBuf[k++] = mix(T_LOOKUP, mix(j, pos)) >>> shift
      }
      for (let j = 0; j < nr; j++) {
        if (this.regexHit[t * nr + j] === 1) keyBuf[k++] = mix(T_REGEX, j) >>> shift
      }
    }
    offsetBuf[n] = k
    return { keys: keyBuf.subarray(0, k), offsets: offsetBuf.subarray(0, n + 1) }
  }

  private ensure(n: number): void {
    if (n <= this.cap) return
    const cap = Math.max(n, this.cap * 2, 32)
    this.cap = cap
    this.word = new Uint32Array(cap)
    this.shape = new Uint32Array(cap)
    this.shortShape = new Uint32Array(cap)
    this.prefix2 = new Uint32Array(cap)
    this.prefix3 = new Uint32Array(cap)
    this.suffix2 = new Uint32Array(cap)
    this.suffix3 = new Uint32Array(cap)
    this.flags = new Uint8Array(cap)
    this.lookupLen = new Uint16Array(cap * this.lookupNames.length)
    this.lookupPos = new Uint8Array(cap * this.lookupNames.length)
    this.regexHit = new Uint8Array(cap * this.regexNames.length)
    this.keyBuf = new Uint32Array(cap * this.maxFeaturesPerToken)
    this.offsetBuf = new Uint32Array(cap + 1)
  }

  /** One pass over each token's characters: word, shape, affix hashes and flags. */
  private tokenHashes(text: string, tokens: readonly FeatureToken[]): void {
    for (let t = 0; t < tokens.length; t++) {
      const { start, end } = tokens[t]!
      let word = FNV_OFFSET
      let shape = FNV_OFFSET
      let short = FNV_OFFSET
      let p2 = FNV_OFFSET
      let p3 = FNV_OFFSET
      let lastClass = -1
      let run = 0
      let uppers = 0
      let lowers = 0
      let digits = 0
      let firstUpper = false
      for (let i = start; i < end; i++) {
        const c = text.charCodeAt(i)
        const lc = lower[c]!
        word = Math.imul(word ^ lc, FNV_PRIME)
        const k = i - start
        if (k === 1) p2 = word
        if (k === 2) p3 = word
        const cls = shapeCode(c)
        if (cls === 88) {
          uppers++
          if (k === 0) firstUpper = true
        } else if (cls === 120) lowers++
        else if (cls === 100) digits++
        if (cls === lastClass) run++
        else {
          run = 1
          short = Math.imul(short ^ cls, FNV_PRIME)
          lastClass = cls
        }
        if (run <= SHAPE_MAX_RUN) shape = Math.imul(shape ^ cls, FNV_PRIME)
      }
      const len = end - start
      if (len < 2) p2 = word
      if (len < 3) p3 = word
      this.word[t] = word >>> 0
      this.shape[t] = shape >>> 0
      this.shortShape[t] = short >>> 0
      this.prefix2[t] = p2 >>> 0
      this.prefix3[t] = p3 >>> 0
      this.suffix2[t] = hashWord(text, Math.max(start, end - 2), end)
      this.suffix3[t] = hashWord(text, Math.max(start, end - 3), end)
      let f = 0
      if (len > 0 && digits === len) f |= FLAG_DIGIT
      if (firstUpper && uppers === 1 && lowers > 0) f |= FLAG_TITLE
      if (uppers > 0 && lowers === 0) f |= FLAG_UPPER
      this.flags[t] = f
    }
  }

  /**
   * Marks, per table, the leftmost-longest non-overlapping matches with the B/I/L/U position of each token: each
   * table is matched on its own, so a phrase of one table never hides a phrase of another.
   */
  private matchLookups(text: string, tokens: readonly FeatureToken[]): void {
    const n = tokens.length
    const nl = this.lookupNames.length
    this.lookupLen.fill(0, 0, n * nl)
    this.lookupPos.fill(0, 0, n * nl)
    this.current = tokens
    this.matcher.match(text, false, this.onLookup)
    this.current = []
    for (let j = 0; j < nl; j++) {
      for (let t = 0; t < n; ) {
        const len = this.lookupLen[t * nl + j]!
        if (len === 0) {
          t++
          continue
        }
        // Positions 1..4 = B, I, L, U (0 = no match).
        if (len === 1) this.lookupPos[t * nl + j] = 4
        else for (let k = 0; k < len; k++) this.lookupPos[(t + k) * nl + j] = k === 0 ? 1 : k === len - 1 ? 3 : 2
        t += len
      }
    }
  }

  /** Records the longest match of `table` starting at each of our tokens. */
  private markLookup(table: number, first: number, last: number): void {
    const sc = this.matcher.scanner
    const start = sc.srcStart[first]!
    const end = sc.srcEnd[last]!
    const tokens = this.current
    // Map the matcher's tokens to ours by offsets, so a pipeline tokenizer with other boundaries still lines up.
    const a = firstTokenEndingAfter(tokens, start)
    if (a >= tokens.length || tokens[a]!.start >= end) return
    let b = a
    while (b + 1 < tokens.length && tokens[b + 1]!.start < end) b++
    const i = a * this.lookupNames.length + table
    this.lookupLen[i] = Math.max(this.lookupLen[i]!, b - a + 1)
  }

  /** Marks every token that overlaps a match of each regex. */
  private matchRegexes(text: string, tokens: readonly FeatureToken[]): void {
    const n = tokens.length
    const nr = this.regexNames.length
    this.regexHit.fill(0, 0, n * nr)
    // Bounds the time a slow pattern can take on a huge message, as the other regex steps do.
    const input = text.length > MAX_REGEX_INPUT ? text.slice(0, MAX_REGEX_INPUT) : text
    for (let j = 0; j < nr; j++) {
      for (const re of this.regexes[j]!) {
        re.lastIndex = 0
        for (let m = re.exec(input); m !== null; m = re.exec(input)) {
          const ms = m.index
          const me = ms + m[0].length
          if (me === ms) {
            re.lastIndex = pastEmptyMatch(input, re)
            continue
          }
          for (let t = firstTokenEndingAfter(tokens, ms); t < n && tokens[t]!.start < me; t++)
            this.regexHit[t * nr + j] = 1
        }
      }
    }
  }
}
