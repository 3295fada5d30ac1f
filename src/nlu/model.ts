/**
 * A trained model: a fitted pipeline with its manifest. Parsing applies the fallback rule of the manifest and
 * returns results shaped like Rasa's `/model/parse`.
 * @module
 */
import { type MessageInput, messageText } from '../data/types.js'
import { createError } from '../errors.js'
import type { FittedPipeline } from './pipeline.js'
import type { IntentScore, ModelManifest, ParseOptions, ParseResult, TrainedModel } from './types.js'

/** Check a message's shape; accepts a plain string as `{ text }`. */
export function normalizeMessage(message: MessageInput | string): MessageInput {
  if (typeof message === 'string') return { text: message }
  if (message === null || typeof message !== 'object') {
    throw createError('ERR_NLU_MESSAGE_INVALID', { detail: 'a message must be a string or an object' })
  }
  const { text, fields } = message
  if (fields !== undefined) {
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
      throw createError('ERR_NLU_MESSAGE_INVALID', { detail: '`fields` must map field names to strings' })
    }
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v !== 'string') {
        throw createError('ERR_NLU_MESSAGE_INVALID', { detail: `field '${k}' must be a string, got ${typeof v}` })
      }
    }
    return { fields }
  }
  if (typeof text !== 'string') {
    throw createError('ERR_NLU_MESSAGE_INVALID', { detail: 'the message needs a string `text` or an object `fields`' })
  }
  return { text }
}

/** Whether the fallback rule fires for these two best confidences. */
export function isFallback(
  top: number,
  second: number,
  fallback: Readonly<{ threshold: number; ambiguityThreshold: number }>,
): boolean {
  return top < fallback.threshold || top - second < fallback.ambiguityThreshold
}

/**
 * The field names a model was trained on, sorted; empty when it was trained on plain text only. A file written before
 * format 1.2 does not record them: for it, the fields its config weighted stand in (what servers checked before).
 */
export function trainedFieldNames(manifest: ModelManifest): readonly string[] {
  return manifest.trainedFields ?? Object.keys(manifest.fields).sort()
}

export class NluModel implements TrainedModel {
  private order: Int32Array

  constructor(
    readonly manifest: ModelManifest,
    readonly pipeline: FittedPipeline,
  ) {
    this.order = new Int32Array(pipeline.labels.length)
  }

  get labels(): readonly string[] {
    return this.pipeline.labels
  }

  parse(message: MessageInput | string, options: ParseOptions = {}): ParseResult {
    const msg = normalizeMessage(message)
    const labels = this.pipeline.labels
    const K = labels.length
    const proba = this.pipeline.classify(msg)
    const order = this.order
    const topK = options.topK === undefined ? K : Math.max(0, Math.min(K, Math.floor(options.topK)))
    // The fallback rule reads the best two, so at least two are ranked.
    rankTop(proba, order, K, Math.min(K, Math.max(2, topK)))
    const ranking: IntentScore[] = new Array(topK)
    for (let r = 0; r < topK; r++) ranking[r] = { name: labels[order[r]!]!, confidence: proba[order[r]!]! }
    let intent: IntentScore = { name: labels[order[0]!]!, confidence: proba[order[0]!]! }
    const fb = this.manifest.fallback
    if (options.fallback !== false && isFallback(proba[order[0]!]!, K > 1 ? proba[order[1]!]! : 0, fb)) {
      // As Rasa's FallbackClassifier: the fallback intent, with the threshold as its confidence, heads the ranking.
      intent = { name: fb.intent, confidence: fb.threshold }
      ranking.unshift({ ...intent })
      // Cut to the K asked for, not to the intents there are: asking for more than exist keeps every entry, as
      // without `topK`.
      if (options.topK !== undefined) ranking.length = Math.min(ranking.length, Math.max(0, Math.floor(options.topK)))
    }
    const text = messageText(msg)
    const entities = this.pipeline.extractEntities(msg)
    // Two literals rather than a spread of an optional part: a literal of fixed shape is built in one step.
    if (msg.fields) return { text, fields: { ...msg.fields }, intent, intent_ranking: ranking, entities }
    return { text, intent, intent_ranking: ranking, entities }
  }
}

/**
 * `order[0..n)` = `0..n-1` sorted by descending `score`, ties by ascending index: the same order as a stable sort,
 * without a comparator closure (parsing calls this once per message on every intent). The scores are first copied
 * into a scratch array with NaN as −∞, so a comparison is two array reads and no NaN checks. Insertion sort for
 * short runs, median-of-three quicksort above.
 */
export function rankByScore(score: Float64Array, order: Int32Array, n: number): void {
  if (sortKeys.length < n) sortKeys = new Float64Array(Math.max(n, sortKeys.length * 2))
  const key = sortKeys
  for (let k = 0; k < n; k++) {
    const s = score[k]!
    key[k] = Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s
    order[k] = k
  }
  sortRange(key, order, 0, n - 1)
}

/**
 * `order[0..k)` = the `k` best of `0..n-1` in {@link rankByScore}'s order (the rest of `order` is unspecified).
 * For a short ranking (`top_k` of a few intents out of hundreds) it keeps a sorted list of the best `k` while
 * scanning once, and most scores are rejected by one comparison with the current `k`-th; otherwise it sorts all.
 */
export function rankTop(score: Float64Array, order: Int32Array, n: number, k: number): void {
  if (k * 8 > n) {
    rankByScore(score, order, n)
    return
  }
  if (k <= 0) return
  let m = 0
  for (let c = 0; c < n; c++) {
    let s = score[c]!
    if (Number.isNaN(s)) s = Number.NEGATIVE_INFINITY
    if (m === k) {
      const last = order[k - 1]!
      let sl = score[last]!
      if (Number.isNaN(sl)) sl = Number.NEGATIVE_INFINITY
      // Ties go to the lower index, which was seen first: a later equal score never enters a full list.
      if (!(s > sl)) continue
      m--
    }
    let j = m - 1
    for (; j >= 0; j--) {
      let so = score[order[j]!]!
      if (Number.isNaN(so)) so = Number.NEGATIVE_INFINITY
      if (!(s > so)) break
      order[j + 1] = order[j]!
    }
    order[j + 1] = c
    m++
  }
}

/** Scratch for {@link rankByScore}: sorting is synchronous, so one array serves every model. */
let sortKeys = new Float64Array(256)

/** Whether index `a` ranks before index `b`. */
function before(key: Float64Array, a: number, b: number): boolean {
  const ka = key[a]!
  const kb = key[b]!
  return ka > kb || (ka === kb && a < b)
}

function sortRange(key: Float64Array, order: Int32Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1
    // Median of three to the middle, then Hoare partition around it.
    if (before(key, order[mid]!, order[lo]!)) swap(order, mid, lo)
    if (before(key, order[hi]!, order[lo]!)) swap(order, hi, lo)
    if (before(key, order[hi]!, order[mid]!)) swap(order, hi, mid)
    const pivot = order[mid]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (before(key, order[i]!, pivot)) i++
      while (before(key, pivot, order[j]!)) j--
      if (i <= j) {
        swap(order, i, j)
        i++
        j--
      }
    }
    // Recurse into the smaller side, loop on the larger: stack depth stays logarithmic.
    if (j - lo < hi - i) {
      sortRange(key, order, lo, j)
      lo = i
    } else {
      sortRange(key, order, i, hi)
      hi = j
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = order[i]!
    let j = i - 1
    while (j >= lo && before(key, v, order[j]!)) {
      order[j + 1] = order[j]!
      j--
    }
    order[j + 1] = v
  }
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i]!
  a[i] = a[j]!
  a[j] = t
}
