/**
 * The component contract shared by featurizers, classifiers and entity extractors: typed params kept apart from
 * fitted state, and fitted state made of JSON plus typed arrays so the model file can store it without code.
 *
 * Every component comes in two halves. The untrained half holds only validated params (`params`, `getParams()`)
 * and has a `fit` that returns a new fitted object; it never mutates its input, keeps no training data, and equal
 * seeds give equal results. The fitted half predicts and writes its state with `toState()`; the catalog's
 * `fromState` rebuilds it from that state.
 * @module
 */
import type { TrainingData } from '../data/types.js'
import type { RegexCheckTally } from '../util/regex-safety.js'
import type { CsrMatrix, SparseVector } from './sparse.js'
import type { Token } from './tokenizer.js'
import type { EntityPrediction } from './types.js'

export type NumericArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** What a fitted component writes into the model file: JSON for small things, typed arrays for weights. */
export interface ComponentState {
  json: JsonValue
  arrays: Record<string, NumericArray>
  /**
   * Float32Array arrays stored as IEEE half precision (`f16` sections, format 1.1), each value rounded to the
   * nearest half. Round them before use (`roundToHalf`) so that a model predicts the same before and after saving.
   */
  half?: readonly string[]
}

export interface FitContext {
  /** Seed for every random choice; equal seeds give equal models. */
  seed: number
  /** Reports progress in [0, 1] for long fits. */
  onProgress?: (fraction: number) => void
  signal?: AbortSignal
  /**
   * The regex safety check's budget, shared by every step of one training run so that patterns several steps use
   * are charged once (see `regexCheckLimit`). Default: one of the step's own.
   */
  regexTally?: RegexCheckTally
}

/**
 * What the steps of one model load share, passed to the catalog's `fromState`: the regex safety check's budget, so
 * that a model file with many regex steps costs at most what one check may, and patterns several steps use are
 * charged once.
 */
export interface LoadContext {
  readonly regexTally: RegexCheckTally
}

// ── entity extractors ───────────────────────────────────────────────────────────

/** An untrained entity extractor: only params. `fit` returns a new fitted object and never mutates `data`. */
export interface EntityExtractor<P = unknown> {
  readonly type: string
  readonly params: Readonly<P>
  fit(data: TrainingData, ctx: FitContext): FittedEntityExtractor
  /** JSON params that rebuild an untrained copy through the catalog. */
  getParams?(): Record<string, JsonValue>
}

export interface FittedEntityExtractor {
  readonly type: string
  /** `tokens` are the tokenizer's output for `text` (offsets into `text`). */
  extract(text: string, tokens: readonly Token[]): EntityPrediction[]
  toState(): ComponentState
  /** Entity types this extractor can return; when empty, it returns none and parsing skips it. */
  readonly entityTypes?: readonly string[]
  /** False when `extract` ignores `tokens`: a pipeline whose extractors all say so does not tokenize. */
  readonly usesTokens?: boolean
}

// ── featurizers ────────────────────────────────────────────────────────────────

export interface FeaturizerFitContext extends FitContext {
  /** The whole training set, for featurizers that read its regexes and lookup tables. */
  data: TrainingData
}

/**
 * An untrained featurizer. `fit` learns from the texts (one per example, or one per field of a multi-field
 * example) and returns a fitted featurizer; the pipeline then featurizes training rows through the same
 * `transformOne` used at predict time, so training and serving cannot disagree.
 */
export interface Featurizer<P = unknown> {
  readonly type: string
  readonly params: Readonly<P>
  getParams(): Record<string, JsonValue>
  fit(texts: readonly string[], ctx: FeaturizerFitContext): FittedFeaturizer
}

export interface FittedFeaturizer {
  readonly type: string
  /** Number of columns this featurizer produces. */
  readonly dim: number
  /**
   * Append the features of `text` to `out`, with column indexes shifted by `offset` and values multiplied by
   * `scale`. Appends each column at most once. Must not allocate per call on the hot path.
   */
  transformOne(text: string, out: SparseVector, offset: number, scale: number): void
  toState(): ComponentState
}

// ── classifiers ────────────────────────────────────────────────────────────────

export interface ClassifierFitContext extends FitContext {
  /**
   * Called once with held-out (out-of-fold) calibrated probabilities, row-major `rows × nClasses`, when the
   * classifier computes them for calibration. Used to choose the fallback threshold without a validation file.
   */
  onHeldOut?: (proba: Float32Array) => void
  /** Worker threads to use; 0 or 1 trains in the calling thread. Default: chosen by the classifier. */
  workers?: number
  /** Label of each class index, for params that name intents. */
  labels?: readonly string[]
}

/** An untrained intent classifier over sparse rows. Labels are class indexes `0..nClasses-1`. */
export interface Classifier<P = unknown> {
  readonly type: string
  readonly params: Readonly<P>
  getParams(): Record<string, JsonValue>
  fit(x: CsrMatrix, y: Int32Array, nClasses: number, ctx: ClassifierFitContext): Promise<FittedClassifier>
}

export interface FittedClassifier {
  readonly type: string
  readonly nClasses: number
  readonly nFeatures: number
  /** Calibrated probabilities of every class for one row, written into `out` (length `nClasses`); sums to 1. */
  predictProba(x: SparseVector, out: Float64Array): void
  toState(): ComponentState
}
