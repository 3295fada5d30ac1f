/**
 * The parse result and the parser contract every consumer (eval, serve, review) relies on. The result is shaped
 * like Rasa's `/model/parse` response, so its keys are snake_case on purpose: Rasa clients read them unchanged.
 * @module
 */
import type { MessageInput } from '../data/types.js'

export interface IntentScore {
  name: string
  confidence: number
}

export interface EntityPrediction {
  start: number
  end: number
  entity: string
  /** Canonical value (after synonym mapping). */
  value: string
  role?: string
  group?: string
  /** For multi-field messages: the field the offsets refer to. */
  field?: string
  /** The component that found it, e.g. `regex`, `lookup`, `crf`. */
  extractor: string
  confidence_entity: number
  /** Present when a synonym replaced the covered text. */
  processors?: string[]
}

export interface ParseResult {
  text: string
  fields?: Record<string, string>
  intent: IntentScore
  /** Every intent, best first (or the top K when asked). */
  intent_ranking: IntentScore[]
  entities: EntityPrediction[]
}

export interface ParseOptions {
  /** Return only the best K intents in `intent_ranking`. Default: all. */
  topK?: number
  /** Apply the fallback rule (threshold and ambiguity). Default: true. */
  fallback?: boolean
}

/** Anything that turns a message into a parse result: a fitted pipeline, a loaded model file. */
export interface IntentParser {
  /** Intent labels known to the model, in a fixed order. */
  readonly labels: readonly string[]
  parse(message: MessageInput | string, options?: ParseOptions): ParseResult
}
