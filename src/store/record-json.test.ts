import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { anyEntity, anyText } from '../../test/helpers/json-text.js'
import { trainedModelBytes } from '../../test/helpers/registry.js'
import { decodeModel } from '../nlu/model-file.js'
import type { ServedModel } from '../serve/model-holder.js'
import { predict, toRecord } from '../serve/predict.js'
import { checkPrediction } from './kysely-store.js'
import { predictionJson } from './record-json.js'
import type { PredictionRecord } from './types.js'

const finite = fc.double({ noNaN: true, noDefaultInfinity: true })
const score = fc.record({ name: anyText, confidence: fc.oneof(finite, fc.double()) })
const entity = anyEntity(anyText, finite)
const json = fc.jsonValue({ maxDepth: 2 })

/** Records with their keys in the order `toRecord` sets them, every optional key present or not. */
const record = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 40 }),
    ts: fc.oneof(fc.nat(), fc.integer({ min: 1.6e12, max: 2e12 })),
    text: anyText,
    intent: anyText,
    confidence: finite,
    margin: finite,
    fallback: fc.boolean(),
    ranking: fc.array(score, { maxLength: 4 }),
    entities: fc.array(entity, { maxLength: 3 }),
    modelName: anyText,
    modelVersion: anyText,
    latencyMs: finite,
    channel: anyText,
    messageId: anyText,
    senderId: anyText,
    senderHash: fc.stringMatching(/^[0-9a-f]{0,16}$/),
    fields: fc.dictionary(anyText, anyText, { maxKeys: 3 }),
    metadata: fc.dictionary(fc.string(), json, { maxKeys: 4 }),
    label: anyText,
    reviewAction: fc.constantFrom('confirm', 'relabel', 'out_of_scope', 'entities', 'skip', 'delete' as const),
    reviewedAt: fc.nat(),
  },
  {
    requiredKeys: [
      'id',
      'ts',
      'text',
      'intent',
      'confidence',
      'margin',
      'fallback',
      'ranking',
      'entities',
      'modelName',
      'modelVersion',
      'latencyMs',
      'channel',
    ],
  },
) as fc.Arbitrary<PredictionRecord>

describe('predictionJson', () => {
  it('writes what JSON.stringify writes, byte for byte, for records in the order toRecord builds them', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(checkPrediction(r)).toBeUndefined()
        expect(predictionJson(r)).toBe(JSON.stringify(r))
      }),
      { numRuns: 1500 },
    )
  })

  it('writes text that parses to the same record whatever order its keys were set in', () => {
    fc.assert(
      fc.property(record, fc.context(), (r, ctx) => {
        const reversed = Object.fromEntries(Object.entries(r).reverse()) as unknown as PredictionRecord
        const text = predictionJson(reversed)
        ctx.log(text)
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(r)))
      }),
      { numRuns: 500 },
    )
  })

  it('passes anything in a ranking that is not an intent score through JSON.stringify', () => {
    const base = fc.sample(record, { numRuns: 1, seed: 7 })[0]!
    const ranking = [null, 3, 'x', { name: 1, confidence: 2 }, undefined, { confidence: 0.5, name: 'late' }]
    const r = { ...base, ranking } as unknown as PredictionRecord
    expect(JSON.parse(predictionJson(r))).toEqual(JSON.parse(JSON.stringify(r)))
  })

  it('throws where JSON.stringify throws', () => {
    const base = fc.sample(record, { numRuns: 1, seed: 3 })[0]!
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const metadata of [{ n: 1n }, cyclic]) {
      const r = { ...base, metadata } as PredictionRecord
      expect(() => JSON.stringify(r)).toThrow(TypeError)
      expect(() => predictionJson(r)).toThrow(TypeError)
    }
  })

  it("is JSON.stringify's text for what the server logs: a real model's predictions, fields, ids and metadata", async () => {
    const model = decodeModel((await trainedModelBytes()).bytes)
    const served = { model, name: 'travel', version: '3' } as ServedModel
    const messages = [
      { text: 'book a flight to Lisbon "tomorrow"\n\\ please ✈' },
      { text: 'hi', message_id: 'm-1', sender_id: 'user \ud83d', metadata: { a: [1, { b: null }], c: 'é' } },
      { fields: { subject: 'refund', body: 'can I get my money back?' }, channel: 'email' },
    ]
    const keys = new Set<string>()
    for (const [i, m] of messages.entries()) {
      const record = toRecord(served, predict(served, m, `req-${i}`, 10), m, 'api')
      expect(predictionJson(record)).toBe(JSON.stringify(record))
      for (const k of Object.keys(record)) keys.add(k)
    }
    expect([...keys]).toEqual(expect.arrayContaining(['messageId', 'senderId', 'fields', 'metadata']))
  })
})
