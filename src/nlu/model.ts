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
    for (let k = 0; k < K; k++) order[k] = k
    order.sort((a, b) => proba[b]! - proba[a]! || a - b)
    const topK = options.topK === undefined ? K : Math.max(0, Math.min(K, Math.floor(options.topK)))
    const ranking: IntentScore[] = new Array(topK)
    for (let r = 0; r < topK; r++) ranking[r] = { name: labels[order[r]!]!, confidence: proba[order[r]!]! }
    let intent: IntentScore = { name: labels[order[0]!]!, confidence: proba[order[0]!]! }
    const fb = this.manifest.fallback
    if (options.fallback !== false && isFallback(proba[order[0]!]!, K > 1 ? proba[order[1]!]! : 0, fb)) {
      // As Rasa's FallbackClassifier: the fallback intent, with the threshold as its confidence, heads the ranking.
      intent = { name: fb.intent, confidence: fb.threshold }
      ranking.unshift({ ...intent })
      if (options.topK !== undefined && ranking.length > topK) ranking.length = topK
    }
    return {
      text: messageText(msg),
      ...(msg.fields ? { fields: { ...msg.fields } } : {}),
      intent,
      intent_ranking: ranking,
      entities: this.pipeline.extractEntities(msg),
    }
  }
}
