/**
 * TF-IDF over word n-grams or character n-grams inside word boundaries (`char_wb`, each word padded with a space
 * on both sides, as in scikit-learn). Features come from a vocabulary learned at fit time, pruned by document
 * frequency and size, or from feature hashing. N-grams are never materialised as strings: their hashes roll over
 * the scanner's code units, and a vocabulary is a table of 64-bit n-gram hashes.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import type { ComponentState, Featurizer, FeaturizerFitContext, FittedFeaturizer, JsonValue } from '../component.js'
import { fmix32i, H1_INIT, H2_INIT, hashCodeUnits, KeyTable, step1, step2 } from '../hash.js'
import { Nullable, paramError, validateParams } from '../params.js'
import type { SparseVector } from '../sparse.js'
import { ENGLISH_STOP_WORDS } from '../stop-words.js'
import { type ScannerPool, type ScannerUser, TextScanner } from '../tokenizer.js'

export const TfidfParamsSchema = Type.Object(
  {
    analyzer: Type.Union([Type.Literal('word'), Type.Literal('char_wb')], {
      default: 'word',
      description: 'N-grams of words, or of characters inside word boundaries.',
    }),
    ngramMin: Type.Integer({ minimum: 1, maximum: 8, default: 1, description: 'Shortest n-gram.' }),
    ngramMax: Type.Integer({ minimum: 1, maximum: 8, default: 2, description: 'Longest n-gram.' }),
    lowercase: Type.Boolean({ default: true, description: 'Lowercase before extracting n-grams.' }),
    foldAccents: Type.Boolean({ default: false, description: 'Strip accents (é → e) before extracting n-grams.' }),
    sublinearTf: Type.Boolean({ default: true, description: 'Use 1 + ln(tf) instead of the raw term count.' }),
    useIdf: Type.Boolean({ default: true, description: 'Weight by smoothed inverse document frequency.' }),
    norm: Type.Union([Type.Literal('l2'), Type.Literal('none')], {
      default: 'l2',
      description: 'Scale each message to unit length.',
    }),
    minDf: Type.Integer({
      minimum: 1,
      default: 1,
      description: 'Drop n-grams that occur in fewer training messages than this.',
    }),
    maxDf: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 1,
      description: 'Drop n-grams that occur in more than this fraction of training messages.',
    }),
    maxFeatures: Nullable(
      Type.Integer({ minimum: 1 }),
      'Keep only the most frequent n-grams (by document frequency); null keeps all.',
    ),
    hashBits: Nullable(
      Type.Integer({ minimum: 8, maximum: 24 }),
      'Use feature hashing into 2^hashBits columns instead of a vocabulary; null learns a vocabulary.',
    ),
    stopWords: Type.Union([Type.Literal('english'), Type.Array(Type.String({ minLength: 1 })), Type.Null()], {
      default: null,
      description: "Words to skip: 'english', a list, or null for none.",
    }),
    weight: Type.Number({
      exclusiveMinimum: 0,
      maximum: 100,
      default: 1,
      description: 'Multiplies this block after normalisation, to weigh it against other featurizers.',
    }),
  },
  { additionalProperties: false },
)

export type TfidfParams = Static<typeof TfidfParamsSchema>

/** Validate raw params (applying defaults) and check the relations between them. */
export function tfidfParams(raw: unknown, component = 'tfidf'): TfidfParams {
  const p = validateParams(component, TfidfParamsSchema, raw)
  if (p.ngramMin > p.ngramMax) {
    throw paramError(
      component,
      `The 'ngramMin' parameter of ${component} must be at most 'ngramMax' (${p.ngramMax}). Got ${p.ngramMin} instead.`,
      'ngramMin',
    )
  }
  if (p.hashBits !== null && p.maxFeatures !== null) {
    throw paramError(component, `${component} takes either 'hashBits' or 'maxFeatures', not both.`)
  }
  return p
}

/** An untrained TF-IDF featurizer. */
export class TfidfFeaturizer implements Featurizer<TfidfParams> {
  readonly type = 'tfidf'
  constructor(readonly params: Readonly<TfidfParams>) {}

  getParams(): Record<string, JsonValue> {
    return structuredClone(this.params) as unknown as Record<string, JsonValue>
  }

  fit(texts: readonly string[], ctx: FeaturizerFitContext): FittedTfidf {
    const p = this.params
    const ex = new NgramExtractor(p)
    const nDocs = texts.length
    if (p.hashBits !== null) {
      const dim = 2 ** p.hashBits
      const mask = dim - 1
      const df = new Float64Array(dim)
      const lastDoc = new Int32Array(dim)
      for (let d = 0; d < nDocs; d++) {
        const n = ex.extract(texts[d]!)
        for (let j = 0; j < n; j++) {
          const f = ex.ka[j]! & mask
          if (lastDoc[f] !== d + 1) {
            lastDoc[f] = d + 1
            df[f]!++
          }
        }
        if ((d & 1023) === 1023) ctx.signal?.throwIfAborted()
      }
      const idf = new Float32Array(dim)
      for (let f = 0; f < dim; f++) idf[f] = Math.log((1 + nDocs) / (1 + df[f]!)) + 1
      return new FittedTfidf(p, dim, idf, undefined, undefined)
    }

    const table = new KeyTable(1 << 16)
    let keyA: Uint32Array = new Uint32Array(1 << 16)
    let keyB: Uint32Array = new Uint32Array(1 << 16)
    let df: Int32Array = new Int32Array(1 << 16)
    let lastDoc: Int32Array = new Int32Array(1 << 16)
    for (let d = 0; d < nDocs; d++) {
      const n = ex.extract(texts[d]!)
      for (let j = 0; j < n; j++) {
        const a = ex.ka[j]!
        const b = ex.kb[j]!
        const size = table.size
        const id = table.intern(a, b, size)
        if (id === size) {
          if (id === keyA.length) {
            keyA = growU32(keyA)
            keyB = growU32(keyB)
            df = growI32(df)
            lastDoc = growI32(lastDoc)
          }
          keyA[id] = a
          keyB[id] = b
        }
        if (lastDoc[id] !== d + 1) {
          lastDoc[id] = d + 1
          df[id]!++
        }
      }
      if ((d & 1023) === 1023) ctx.signal?.throwIfAborted()
    }

    const total = table.size
    const maxDocs = p.maxDf * nDocs
    let kept: number[] = []
    for (let id = 0; id < total; id++) if (df[id]! >= p.minDf && df[id]! <= maxDocs) kept.push(id)
    const byKey = (x: number, y: number) => keyA[x]! - keyA[y]! || keyB[x]! - keyB[y]!
    if (p.maxFeatures !== null && kept.length > p.maxFeatures) {
      kept.sort((x, y) => df[y]! - df[x]! || byKey(x, y))
      kept = kept.slice(0, p.maxFeatures)
    }
    // Columns in key order: the vocabulary does not depend on the order of the training examples.
    kept.sort(byKey)
    const dim = kept.length
    const outA = new Uint32Array(dim)
    const outB = new Uint32Array(dim)
    const idf = new Float32Array(dim)
    for (let f = 0; f < dim; f++) {
      const id = kept[f]!
      outA[f] = keyA[id]!
      outB[f] = keyB[id]!
      idf[f] = Math.log((1 + nDocs) / (1 + df[id]!)) + 1
    }
    return new FittedTfidf(p, dim, idf, outA, outB)
  }
}

/** A fitted TF-IDF featurizer: the vocabulary (n-gram hash keys) and idf weights. */
export class FittedTfidf implements FittedFeaturizer, ScannerUser {
  readonly type = 'tfidf'
  private readonly table: KeyTable | undefined
  private readonly mask: number
  private readonly ex: NgramExtractor
  /** Term counts of the message being transformed, all zero between calls. */
  private tf: Int32Array
  private touched = new Int32Array(256)
  private weights = new Float64Array(256)
  /** With `char_wb` and a vocabulary: the columns of recently seen words. */
  private readonly words: WordColumns | undefined

  constructor(
    readonly params: Readonly<TfidfParams>,
    readonly dim: number,
    private readonly idf: Float32Array,
    private readonly keyA: Uint32Array | undefined,
    private readonly keyB: Uint32Array | undefined,
  ) {
    this.ex = new NgramExtractor(params)
    this.mask = dim - 1
    // Whole counts, so 32-bit integers hold them exactly: half the bytes of doubles stay in cache between requests.
    this.tf = new Int32Array(dim)
    if (keyA && keyB) {
      this.table = new KeyTable(dim)
      for (let f = 0; f < dim; f++) this.table.intern(keyA[f]!, keyB[f]!, f)
      if (params.analyzer === 'char_wb') {
        this.words = new WordColumns(WORD_ENTRIES, this.ex.charCapacity(WordColumns.MAX_WORD))
      }
    }
  }

  useScanners(pool: ScannerPool): void {
    this.ex.scanner = pool.get(this.params)
  }

  transformOne(text: string, out: SparseVector, offset: number, scale: number): void {
    const m = this.words ? this.countWords(text) : this.countNgrams(text)
    const tf = this.tf
    const touched = this.touched
    const { sublinearTf, useIdf } = this.params
    const idf = this.idf
    const w = this.weights
    let norm = 0
    for (let i = 0; i < m; i++) {
      const f = touched[i]!
      const t = tf[f]!
      // Most n-grams of a short message occur once, and 1 + ln(1) is exactly 1: no logarithm for them.
      const v = (sublinearTf ? (t === 1 ? 1 : 1 + Math.log(t)) : t) * (useIdf ? idf[f]! : 1)
      w[i] = v
      norm += v * v
      tf[f] = 0
    }
    let factor = scale * this.params.weight
    if (this.params.norm === 'l2' && norm > 0) factor /= Math.sqrt(norm)
    for (let i = 0; i < m; i++) out.push(offset + touched[i]!, w[i]! * factor)
  }

  /** Count the columns of the n-grams of `text` in `tf`, listing each in `touched` once; returns how many. */
  private countNgrams(text: string): number {
    const n = this.ex.extract(text)
    this.reserve(n)
    const { ka, kb } = this.ex
    const tf = this.tf
    const touched = this.touched
    const table = this.table
    let m = 0
    for (let j = 0; j < n; j++) {
      const f = table ? table.get(ka[j]!, kb[j]!) : ka[j]! & this.mask
      if (f < 0) continue
      if (tf[f] === 0) touched[m++] = f
      tf[f]!++
    }
    return m
  }

  /**
   * {@link countNgrams} for `char_wb` with a vocabulary, a word at a time: a word's columns (those of its n-grams
   * in the vocabulary, in n-gram order) come from {@link WordColumns} when it was seen lately, else are looked up
   * and remembered. The same columns in the same order, so the same counts and order of `touched`.
   */
  private countWords(text: string): number {
    const ex = this.ex
    const nTok = ex.tokens(text, true)
    const { starts, ends, ta } = ex
    let total = 0
    for (let i = 0; i < nTok; i++) total += ex.charCapacity(ends[i]! - starts[i]!)
    this.reserve(total)
    const words = this.words!
    const table = this.table!
    const tf = this.tf
    const touched = this.touched
    const chars = ex.scanner.chars
    let m = 0
    for (let i = 0; i < nTok; i++) {
      const s = starts[i]!
      const e = ends[i]!
      if (e - s > WordColumns.MAX_WORD) {
        // Too long to remember: looked up n-gram by n-gram.
        ex.ensure(ex.charCapacity(e - s))
        const n = ex.wordCharNgrams(s, e, 0)
        const { ka, kb } = ex
        for (let j = 0; j < n; j++) {
          const f = table.get(ka[j]!, kb[j]!)
          if (f < 0) continue
          if (tf[f] === 0) touched[m++] = f
          tf[f]!++
        }
        continue
      }
      // The token's key's first half hashes the word.
      const h = ta[i]!
      let w = words.find(chars, s, e, h)
      if (w < 0) {
        w = words.claim(chars, s, e, h)
        ex.ensure(ex.charCapacity(e - s))
        const n = ex.wordCharNgrams(s, e, 0)
        const { ka, kb } = ex
        const cols = words.cols
        const base = w * words.stride
        let c = 0
        for (let j = 0; j < n; j++) {
          const f = table.get(ka[j]!, kb[j]!)
          if (f >= 0) cols[base + c++] = f
        }
        words.count[w] = c
      }
      const cols = words.cols
      const base = w * words.stride
      const end = base + words.count[w]!
      for (let c = base; c < end; c++) {
        const f = cols[c]!
        if (tf[f] === 0) touched[m++] = f
        tf[f]!++
      }
    }
    return m
  }

  private reserve(n: number): void {
    if (n > this.touched.length) {
      this.touched = new Int32Array(n)
      this.weights = new Float64Array(n)
    }
  }

  toState(): ComponentState {
    const arrays: ComponentState['arrays'] = { idf: this.idf }
    if (this.keyA && this.keyB) {
      arrays.keyA = this.keyA
      arrays.keyB = this.keyB
    }
    return { json: { params: this.params as unknown as JsonValue, dim: this.dim }, arrays }
  }

  static fromState(state: ComponentState): FittedTfidf {
    const json = state.json as { params: unknown; dim: number }
    const params = tfidfParams(json.params)
    const { idf, keyA, keyB } = state.arrays
    const dim = json.dim
    if (!(idf instanceof Float32Array) || idf.length !== dim) throw stateError('idf')
    if (params.hashBits !== null) {
      if (dim !== 2 ** params.hashBits) throw stateError('dim')
      return new FittedTfidf(params, dim, idf, undefined, undefined)
    }
    if (!(keyA instanceof Uint32Array) || !(keyB instanceof Uint32Array) || keyA.length !== dim) {
      throw stateError('keyA/keyB')
    }
    if (keyB.length !== dim) throw stateError('keyB')
    return new FittedTfidf(params, dim, idf, keyA, keyB)
  }
}

/** Entries of {@link WordColumns} per featurizer. */
const WORD_ENTRIES = 1024

/**
 * The vocabulary columns of the character n-grams of recently seen words, direct-mapped by a hash of the word: a
 * word's n-grams depend only on its normalised characters, which the entry keeps and compares, so an entry is
 * never used for another word. Most words of a message are common ones: reading a few contiguous columns replaces
 * hashing each n-gram and probing the vocabulary for it, one scattered cache line each.
 */
class WordColumns {
  /** Longer words are not remembered. */
  static readonly MAX_WORD = 16
  /** Per entry: the word's length + 1 (0: empty), its hash, and how many columns it has. */
  private readonly len: Int32Array
  private readonly hash: Int32Array
  readonly count: Int32Array
  /** Entry `w`'s characters are `chars[w * MAX_WORD..]`, its columns `cols[w * stride..]`. */
  private readonly chars: Uint16Array
  readonly cols: Int32Array
  private readonly mask: number

  constructor(
    entries: number,
    readonly stride: number,
  ) {
    this.len = new Int32Array(entries)
    this.hash = new Int32Array(entries)
    this.count = new Int32Array(entries)
    this.chars = new Uint16Array(entries * WordColumns.MAX_WORD)
    this.cols = new Int32Array(entries * stride)
    this.mask = entries - 1
  }

  /** The entry of the word `text[s..e)` with hash `h`, or -1. */
  find(text: Uint16Array, s: number, e: number, h: number): number {
    const w = h & this.mask
    if (this.len[w] !== e - s + 1 || this.hash[w] !== h) return -1
    const at = w * WordColumns.MAX_WORD - s
    for (let i = s; i < e; i++) if (this.chars[at + i] !== text[i]) return -1
    return w
  }

  /** The entry for the word, emptied of whatever word it held; the caller fills `cols` and `count`. */
  claim(text: Uint16Array, s: number, e: number, h: number): number {
    const w = h & this.mask
    this.len[w] = e - s + 1
    this.hash[w] = h
    this.count[w] = 0
    const at = w * WordColumns.MAX_WORD - s
    for (let i = s; i < e; i++) this.chars[at + i] = text[i]!
    return w
  }
}

function stateError(what: string) {
  return paramError('tfidf', `The saved state of tfidf has a bad '${what}' section.`)
}

const WORD_SALT = 0x2545f491
const CHAR_SALT = 0x9e3779b9
const SPACE = 32

/**
 * Turns a text into the 64-bit hash keys of its n-grams, written into reusable arrays `ka`/`kb`. Allocates only
 * when a text is longer than any seen before.
 */
export class NgramExtractor {
  ka = new Uint32Array(1024)
  kb = new Uint32Array(1024)
  /**
   * After {@link tokens}: token `i` (stop words left out) is `scanner.chars[starts[i]..ends[i])` and its key is
   * `ta[i]`, `tb[i]` (when asked for). The scanner's own arrays when no stop word is skipped, else those below.
   */
  starts: Int32Array
  ends: Int32Array
  ta: Int32Array
  tb: Int32Array
  private kept: { starts: Int32Array; ends: Int32Array; ta: Int32Array; tb: Int32Array } | undefined
  /** One word of `char_wb` with its padding spaces. */
  private padded = new Uint16Array(64)
  /** Replaced by a pipeline's shared scanner of the same normalisation (see `shareScanners`). */
  scanner: TextScanner
  private readonly stop: KeyTable | undefined
  private readonly word: boolean
  private readonly nMin: number
  private readonly nMax: number

  constructor(p: Readonly<TfidfParams>) {
    this.scanner = new TextScanner({ lowercase: p.lowercase, foldAccents: p.foldAccents })
    this.starts = this.scanner.tokStart
    this.ends = this.scanner.tokEnd
    this.ta = this.scanner.tokHashA
    this.tb = this.scanner.tokHashB
    this.word = p.analyzer === 'word'
    this.nMin = p.ngramMin
    this.nMax = p.ngramMax
    const words = p.stopWords === 'english' ? ENGLISH_STOP_WORDS : p.stopWords
    if (words && words.length > 0) {
      this.stop = new KeyTable(words.length)
      const sc = new TextScanner({ lowercase: p.lowercase, foldAccents: p.foldAccents })
      for (const w of words) {
        // A stop word is matched token by token; a multi-token entry ("it's" is one token) adds each part.
        const count = sc.scan(w)
        for (let t = 0; t < count; t++) {
          const [a, b] = hashCodeUnits(sc.chars, sc.tokStart[t]!, sc.tokEnd[t]!)
          this.stop.intern(a, b, 0)
        }
      }
    }
  }

  /** Extract the n-gram keys of `text`; returns how many were written. */
  extract(text: string): number {
    const t = this.tokens(text, this.word)
    return this.word ? this.wordNgrams(t) : this.charNgrams(t)
  }

  /**
   * Scan `text` (unless the scanner holds it) and drop stop words; returns how many tokens are left, token `i`
   * being `scanner.chars[starts[i]..ends[i])`, with its key in `ta[i]`, `tb[i]` when `keys` is set.
   */
  tokens(text: string, keys: boolean): number {
    const sc = this.scanner
    const nTok = sc.scanOnce(text)
    if (!this.stop) {
      this.starts = sc.tokStart
      this.ends = sc.tokEnd
      if (keys) {
        sc.hashTokens()
        this.ta = sc.tokHashA
        this.tb = sc.tokHashB
      }
      return nTok
    }
    // The scanner's arrays may be shared: the tokens that are no stop words are copied out.
    sc.hashTokens()
    let kept = this.kept
    if (!kept || kept.starts.length < nTok) {
      const size = Math.max(64, nTok * 2)
      kept = {
        starts: new Int32Array(size),
        ends: new Int32Array(size),
        ta: new Int32Array(size),
        tb: new Int32Array(size),
      }
      this.kept = kept
    }
    const { tokStart, tokEnd, tokHashA, tokHashB } = sc
    let t = 0
    for (let i = 0; i < nTok; i++) {
      const a = tokHashA[i]!
      const b = tokHashB[i]!
      if (this.stop.get(a, b) >= 0) continue
      kept.starts[t] = tokStart[i]!
      kept.ends[t] = tokEnd[i]!
      kept.ta[t] = a
      kept.tb[t] = b
      t++
    }
    this.starts = kept.starts
    this.ends = kept.ends
    this.ta = kept.ta
    this.tb = kept.tb
    return t
  }

  /** Room for the n-gram keys of a word of `len` code units, with `char_wb`. */
  charCapacity(len: number): number {
    return (len + 2) * (this.nMax - this.nMin + 1) + 1
  }

  ensure(n: number): void {
    if (n <= this.ka.length) return
    let cap = this.ka.length * 2
    while (cap < n) cap *= 2
    const ka = new Uint32Array(cap)
    ka.set(this.ka)
    const kb = new Uint32Array(cap)
    kb.set(this.kb)
    this.ka = ka
    this.kb = kb
  }

  private wordNgrams(nTok: number): number {
    const { nMin, nMax, ta, tb } = this
    this.ensure(nTok * (nMax - nMin + 1))
    const { ka, kb } = this
    let k = 0
    for (let n = nMin; n <= nMax; n++) {
      for (let i = 0; i + n <= nTok; i++) {
        if (n === 1) {
          ka[k] = ta[i]!
          kb[k] = tb[i]!
        } else {
          let a = H1_INIT ^ WORD_SALT ^ n
          let b = H2_INIT ^ WORD_SALT ^ n
          for (let j = i; j < i + n; j++) {
            a = step1(a, ta[j]!)
            b = step2(b, tb[j]!)
          }
          ka[k] = fmix32i(a)
          kb[k] = fmix32i(b)
        }
        k++
      }
    }
    return k
  }

  private charNgrams(nTok: number): number {
    const { starts, ends } = this
    let total = 0
    for (let i = 0; i < nTok; i++) total += this.charCapacity(ends[i]! - starts[i]!)
    this.ensure(total)
    let k = 0
    for (let i = 0; i < nTok; i++) k = this.wordCharNgrams(starts[i]!, ends[i]!, k)
    return k
  }

  /**
   * The `char_wb` n-gram keys of the token `scanner.chars[s..e)`, written from index `k` (room checked by the
   * caller, see {@link charCapacity}); returns the index after the last.
   */
  wordCharNgrams(s: number, e: number, k: number): number {
    const chars = this.scanner.chars
    const { nMin, nMax, ka, kb } = this
    // The padded word, a space on each side, copied once so the n-gram loops read it without a test per character.
    const len = e - s + 2
    if (this.padded.length < len) this.padded = new Uint16Array(len * 2)
    const pad = this.padded
    pad[0] = SPACE
    for (let q = 1; q < len - 1; q++) pad[q] = chars[s + q - 1]!
    pad[len - 1] = SPACE
    if (len < nMin) {
      let a = H1_INIT ^ CHAR_SALT
      let b = H2_INIT ^ CHAR_SALT
      for (let p = 0; p < len; p++) {
        a = step1(a, pad[p]!)
        b = step2(b, pad[p]!)
      }
      ka[k] = fmix32i(a)
      kb[k] = fmix32i(b)
      return k + 1
    }
    for (let p = 0; p < len; p++) {
      let a = H1_INIT ^ CHAR_SALT
      let b = H2_INIT ^ CHAR_SALT
      const stop = Math.min(len, p + nMax)
      const first = Math.min(stop, p + nMin - 1)
      // The characters before the shortest n-gram's end, then one n-gram per further character.
      let q = p
      for (; q < first; q++) {
        a = step1(a, pad[q]!)
        b = step2(b, pad[q]!)
      }
      for (; q < stop; q++) {
        a = step1(a, pad[q]!)
        b = step2(b, pad[q]!)
        ka[k] = fmix32i(a)
        kb[k] = fmix32i(b)
        k++
      }
    }
    return k
  }
}

function growU32(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2)
  b.set(a)
  return b
}

function growI32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2)
  b.set(a)
  return b
}
