/**
 * Helpers for review tests: logged predictions with sensible defaults.
 * @module
 */
import type { PredictionRecord } from '../store/types.js'

/** A logged prediction; `ranking` is derived from the intent and confidence unless given. */
export function prediction(
  id: string,
  text: string,
  intent: string,
  confidence: number,
  extra: Partial<PredictionRecord> = {},
): PredictionRecord {
  const second = Math.max(0, Math.min(confidence, 1 - confidence) - 0.05)
  return {
    id,
    ts: Date.UTC(2026, 10, 1),
    text,
    intent,
    confidence,
    margin: confidence - second,
    fallback: false,
    ranking: [
      { name: intent, confidence },
      { name: intent === 'other' ? 'greet' : 'other', confidence: second },
    ],
    entities: [],
    modelName: 'bot',
    modelVersion: '1',
    latencyMs: 1,
    channel: 'api',
    ...extra,
  }
}
