/**
 * The JSON of the parse answers (/v1/parse, its batch and Rasa's /model/parse) and of the triage answer
 * (/v1/messages), written by hand for the hot path. It is byte for byte what Fastify's schema serializer
 * (fast-json-stringify with the route's response schema) writes, with a third of its intermediate strings and
 * numbers at half the cost (util/json.ts): every answer repeats the model's intent names, so each one's
 * `{"name":…,"confidence":` prefix is escaped once and kept. On /v1/parse the schema serializer and the length count
 * of its many-piece string cost about as much as the classifier (bench/README.md, "Serving").
 * @module
 */
import type { FastifyReply } from 'fastify'
import type { IntentScore } from '../nlu/types.js'
import { jsonNumber, jsonString, scorePrefix } from '../util/json.js'
import type { ParseResponse, TriageResponse } from './schemas.js'

/** The content type Fastify gives a serialised JSON answer. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** Send JSON serialised here: a string with a JSON content type goes out as it is, past the schema serializer. */
export function sendJson(reply: FastifyReply, json: string): void {
  reply.type(JSON_CONTENT_TYPE).send(json)
}

/**
 * The properties written, in the order fast-json-stringify writes them: the required ones in schema order, then the
 * optional ones in schema order. A test keeps the lists in step with the schemas.
 */
export const PARSE_RESPONSE_KEYS = [
  'request_id',
  'text',
  'intent',
  'intent_ranking',
  'entities',
  'fallback',
  'model',
  'message_id',
  'fields',
] as const

export const RASA_PARSE_RESULT_KEYS = ['text', 'intent', 'intent_ranking', 'entities', 'message_id'] as const

export const TRIAGE_RESPONSE_KEYS = ['classifications', 'model'] as const
export const TRIAGE_CLASSIFICATION_KEYS = ['id', 'category', 'confidence', 'request_id'] as const

export const ENTITY_KEYS = [
  'start',
  'end',
  'entity',
  'value',
  'extractor',
  'confidence_entity',
  'role',
  'group',
  'field',
  'processors',
] as const

let lastModel: { name: string; version: string; json: string } | undefined

function modelJson(m: { name: string; version: string }): string {
  const last = lastModel
  if (last !== undefined && last.name === m.name && last.version === m.version) return last.json
  const json = `{"name":${jsonString(m.name)},"version":${jsonString(m.version)}}`
  lastModel = { name: m.name, version: m.version, json }
  return json
}

function stringArrayJson(a: readonly string[]): string {
  let s = '['
  for (let i = 0; i < a.length; i++) s += (i === 0 ? '' : ',') + jsonString(a[i]!)
  return `${s}]`
}

/** An entity; Rasa's answer repeats `confidence_entity` as `confidence`, a required key written after it. */
function entityJson(e: ParseResponse['entities'][number], rasa = false): string {
  let s = `{"start":${Math.trunc(e.start)},"end":${Math.trunc(e.end)},"entity":${jsonString(e.entity)},"value":${jsonString(e.value)},"extractor":${jsonString(e.extractor)},"confidence_entity":${jsonNumber(e.confidence_entity)}`
  if (rasa) s += `,"confidence":${jsonNumber(e.confidence_entity)}`
  if (e.role !== undefined) s += `,"role":${jsonString(e.role)}`
  if (e.group !== undefined) s += `,"group":${jsonString(e.group)}`
  if (e.field !== undefined) s += `,"field":${jsonString(e.field)}`
  if (e.processors !== undefined) s += `,"processors":${stringArrayJson(e.processors)}`
  return `${s}}`
}

/** The JSON of a batch answer (`POST /v1/parse/batch`). */
export function batchResponseJson(model: { name: string; version: string }, results: readonly ParseResponse[]): string {
  let s = `{"model":${modelJson(model)},"results":[`
  for (let i = 0; i < results.length; i++) s += (i === 0 ? '' : ',') + parseResponseJson(results[i]!)
  return `${s}]}`
}

/** `"intent":{…},"intent_ranking":[…],"entities":[…]`, shared by both parse answers. */
function scoresJson(
  intent: IntentScore,
  ranking: readonly IntentScore[],
  entities: ParseResponse['entities'],
  rasa: boolean,
): string {
  let s = `"intent":${scorePrefix(intent.name)}${jsonNumber(intent.confidence)}},"intent_ranking":[`
  for (let i = 0; i < ranking.length; i++) {
    const x = ranking[i]!
    s += `${i === 0 ? '' : ','}${scorePrefix(x.name)}${jsonNumber(x.confidence)}}`
  }
  s += '],"entities":['
  for (let i = 0; i < entities.length; i++) s += (i === 0 ? '' : ',') + entityJson(entities[i]!, rasa)
  return `${s}]`
}

/** The JSON of one parse answer (`POST /v1/parse`, and each result of `/v1/parse/batch`). */
export function parseResponseJson(r: ParseResponse): string {
  let s = `{"request_id":${jsonString(r.request_id)},"text":${jsonString(r.text)},${scoresJson(r.intent, r.intent_ranking, r.entities, false)}`
  s += `,"fallback":${r.fallback ? 'true' : 'false'},"model":${modelJson(r.model)}`
  if (r.message_id !== undefined) s += `,"message_id":${jsonString(r.message_id)}`
  if (r.fields !== undefined) {
    let first = true
    s += ',"fields":{'
    for (const key of Object.keys(r.fields)) {
      s += `${first ? '' : ','}${jsonString(key)}:${jsonString(r.fields[key]!)}`
      first = false
    }
    s += '}'
  }
  return `${s}}`
}

/**
 * Rasa's `ParseResult` (`POST /model/parse`), byte for byte what the schema serializer writes with
 * `RasaParseResultSchema`; each entity's `confidence` is its `confidence_entity`.
 */
export function rasaParseResultJson(r: {
  text: string
  intent: IntentScore
  intent_ranking: readonly IntentScore[]
  entities: ParseResponse['entities']
  message_id?: string | undefined
}): string {
  let s = `{"text":${jsonString(r.text)},${scoresJson(r.intent, r.intent_ranking, r.entities, true)}`
  if (r.message_id !== undefined) s += `,"message_id":${jsonString(r.message_id)}`
  return `${s}}`
}

/**
 * The triage answer (`POST /v1/messages`), byte for byte what the schema serializer writes with
 * `TriageResponseSchema`, its confidences through `jsonNumber`.
 */
export function triageResponseJson(r: TriageResponse): string {
  let s = '{"classifications":['
  const items = r.classifications
  for (let i = 0; i < items.length; i++) {
    const c = items[i]!
    s += `${i === 0 ? '' : ','}{"id":${jsonString(c.id)},"category":${jsonString(c.category)},"confidence":${jsonNumber(c.confidence)},"request_id":${jsonString(c.request_id)}}`
  }
  return `${s}],"model":${modelJson(r.model)}}`
}
