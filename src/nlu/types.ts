/**
 * The parse result and the parser contract every consumer (eval, serve, review) relies on. The result is shaped
 * like Rasa's `/model/parse` response, so its keys are snake_case on purpose: Rasa clients read them unchanged.
 * @module
 */
import type { EntityPrediction, IntentScore, MessageInput } from '../data/types.js'

// Defined beside the training data, so the prediction log (store/) holds predictions without importing the engine.
export type { EntityPrediction, IntentScore }

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

/** A model file's format version. A different `major` is refused on load; a newer `minor` is read. */
export interface FormatVersion {
  major: number
  minor: number
}

/** One pipeline step as written into the manifest: its catalog type name and its params, JSON only. */
export interface ManifestStep {
  name: string
  type: string
  params: Record<string, unknown>
}

/**
 * The JSON manifest at the head of every model file. It describes the model and its lineage; it never names code
 * to run: `steps[].type` is looked up in the frozen component catalog, and an unknown type is an error.
 */
export interface ModelManifest {
  format: 'intentops-model'
  formatVersion: FormatVersion
  /** Model name (the `name` of intentops.yml); the registry groups versions by it. */
  name: string
  /** Intent labels in the order the classifier's weight rows use. */
  labels: string[]
  /** Entity types the model can extract. */
  entities: string[]
  steps: ManifestStep[]
  /** Field weights for multi-field messages (`fields` of the config). */
  fields: Record<string, number>
  /**
   * The field names of the training examples' `fields`, sorted; empty when every example was plain text. Format 1.2
   * on; files before it do not record them (see `trainedFieldNames`).
   */
  trainedFields?: string[]
  fallback: { intent: string; threshold: number; ambiguityThreshold: number }
  language: string
  /** `fingerprintTrainingData` of the data the model was trained on. */
  dataFingerprint: string
  /** `fingerprintConfig` of the config it was trained with. */
  configFingerprint: string
  seed: number
  toolkitVersion: string
  nodeVersion: string
  /** ISO-8601 time training finished. */
  trainedAt: string
  trainingMs: number
  /** Number of training examples. */
  examples: number
}

/** A fitted model ready to parse: the product of training or of loading a model file. */
export interface TrainedModel extends IntentParser {
  readonly manifest: ModelManifest
}
