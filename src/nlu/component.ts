/**
 * The component contract shared by featurizers, classifiers and entity extractors: typed params kept apart from
 * fitted state, and fitted state made of JSON plus typed arrays so the model file can store it without code.
 * @module
 */
import type { TrainingData } from '../data/types.js'
import type { Token } from './tokenizer.js'
import type { EntityPrediction } from './types.js'

export type NumericArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** What a fitted component writes into the model file: JSON for small things, typed arrays for weights. */
export interface ComponentState {
  json: JsonValue
  arrays: Record<string, NumericArray>
}

export interface FitContext {
  /** Seed for every random choice; equal seeds give equal models. */
  seed: number
  /** Reports progress in [0, 1] for long fits. */
  onProgress?: (fraction: number) => void
  signal?: AbortSignal
}

/** An untrained entity extractor: only params. `fit` returns a new fitted object and never mutates `data`. */
export interface EntityExtractor<P = unknown> {
  readonly type: string
  readonly params: Readonly<P>
  fit(data: TrainingData, ctx: FitContext): FittedEntityExtractor
}

export interface FittedEntityExtractor {
  readonly type: string
  /** `tokens` are the tokenizer's output for `text` (offsets into `text`). */
  extract(text: string, tokens: readonly Token[]): EntityPrediction[]
  toState(): ComponentState
}
