/**
 * A prediction record's JSON text, written by hand: the log queue encodes every logged request's record as it is
 * pushed, on the event loop. It is byte for byte what `JSON.stringify` writes for a record whose keys were set in
 * the order `toRecord` sets them (serve/predict.ts), and for any record, text that parses to the same record. The
 * ranking's intent names are escaped once per name, and no number goes through a template (util/json.ts).
 * @module
 */
import { jsonNumber, jsonString, scorePrefix } from '../util/json.js'
import type { PredictionRecord } from './types.js'

/** An intent score as `JSON.stringify` writes one; anything else in a ranking goes through it. */
function scoreJson(x: unknown): string {
  const s = x as { name?: unknown; confidence?: unknown } | null
  if (s !== null && typeof s === 'object' && typeof s.name === 'string' && typeof s.confidence === 'number') {
    return `${scorePrefix(s.name)}${jsonNumber(s.confidence)}}`
  }
  return JSON.stringify(x) ?? 'null'
}

/**
 * The record's JSON text. Like `JSON.stringify`, it throws on what JSON cannot hold (a cycle or a BigInt in
 * `metadata`, say). The record must have passed `checkPrediction`: its required strings are strings and its
 * required numbers finite.
 */
export function predictionJson(r: PredictionRecord): string {
  let s = `{"id":${jsonString(r.id)},"ts":${jsonNumber(r.ts)},"text":${jsonString(r.text)},"intent":${jsonString(r.intent)},"confidence":${jsonNumber(r.confidence)},"margin":${jsonNumber(r.margin)},"fallback":${r.fallback ? 'true' : 'false'},"ranking":[`
  const ranking = r.ranking
  for (let i = 0; i < ranking.length; i++) s += (i === 0 ? '' : ',') + scoreJson(ranking[i])
  s += `],"entities":${r.entities.length === 0 ? '[]' : JSON.stringify(r.entities)},"modelName":${jsonString(r.modelName)},"modelVersion":${jsonString(r.modelVersion)},"latencyMs":${jsonNumber(r.latencyMs)},"channel":${jsonString(r.channel)}`
  // Optional keys, each only when set, as JSON.stringify leaves out an undefined property.
  if (r.messageId !== undefined) s += `,"messageId":${jsonString(r.messageId)}`
  if (r.senderId !== undefined) s += `,"senderId":${jsonString(r.senderId)}`
  if (r.senderHash !== undefined) s += `,"senderHash":${jsonString(r.senderHash)}`
  if (r.fields !== undefined) s += `,"fields":${JSON.stringify(r.fields)}`
  if (r.metadata !== undefined) s += `,"metadata":${JSON.stringify(r.metadata)}`
  if (r.label !== undefined) s += `,"label":${JSON.stringify(r.label)}`
  if (r.reviewAction !== undefined) s += `,"reviewAction":${JSON.stringify(r.reviewAction)}`
  if (r.reviewedAt !== undefined) s += `,"reviewedAt":${JSON.stringify(r.reviewedAt)}`
  return `${s}}`
}
