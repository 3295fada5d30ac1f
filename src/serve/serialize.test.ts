import fc from 'fast-check'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { anyEntity, anyText } from '../../test/helpers/json-text.js'
import {
  BatchResponseSchema,
  EntitySchema,
  type ParseResponse,
  ParseResponseSchema,
  RasaParseResultSchema,
  TriageResponseSchema,
} from './schemas.js'
import {
  batchResponseJson,
  ENTITY_KEYS,
  PARSE_RESPONSE_KEYS,
  parseResponseJson,
  RASA_PARSE_RESULT_KEYS,
  rasaParseResultJson,
  TRIAGE_CLASSIFICATION_KEYS,
  TRIAGE_RESPONSE_KEYS,
  triageResponseJson,
} from './serialize.js'

// Fastify's own schema serializer is the reference: an app that answers with whatever object the test hands it.
let reference: FastifyInstance
let next: unknown
beforeAll(async () => {
  reference = Fastify({ logger: false })
  reference.get('/', { schema: { response: { 200: ParseResponseSchema } } }, async () => next)
  reference.get('/batch', { schema: { response: { 200: BatchResponseSchema } } }, async () => next)
  reference.get('/rasa', { schema: { response: { 200: RasaParseResultSchema } } }, async () => next)
  reference.get('/triage', { schema: { response: { 200: TriageResponseSchema } } }, async () => next)
  await reference.ready()
})
afterAll(async () => {
  await reference.close()
})

async function schemaJson(r: unknown, url = '/'): Promise<string> {
  next = r
  const res = await reference.inject({ method: 'GET', url })
  expect(res.statusCode).toBe(200)
  return res.body
}

const text = anyText
const confidence = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 1e-7, 0.5))
const score = fc.record({ name: text, confidence })
const entity = anyEntity(text, confidence)
const response: fc.Arbitrary<ParseResponse> = fc.record(
  {
    request_id: fc.uuid(),
    message_id: text,
    text,
    // The request schema refuses field names with a line break (its key pattern is `^(.*)$`, and `.` stops there).
    fields: fc.dictionary(
      text.filter((k) => k !== '__proto__' && !/[\n\r\u2028\u2029]/.test(k)),
      text,
      { maxKeys: 4 },
    ),
    intent: score,
    intent_ranking: fc.array(score, { maxLength: 12 }),
    entities: fc.array(entity, { maxLength: 4 }),
    fallback: fc.boolean(),
    model: fc.record({ name: text, version: text }),
  },
  { requiredKeys: ['request_id', 'text', 'intent', 'intent_ranking', 'entities', 'fallback', 'model'] },
)

describe('parseResponseJson', () => {
  it('writes what the schema serializer writes, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(response, async (r) => {
        expect(parseResponseJson(r)).toBe(await schemaJson(r))
      }),
      { numRuns: 400 },
    )
  })

  it('writes batch answers as the schema serializer does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ name: text, version: text }),
        fc.array(response, { maxLength: 4 }),
        async (model, results) => {
          expect(batchResponseJson(model, results)).toBe(await schemaJson({ model, results }, '/batch'))
        },
      ),
      { numRuns: 100 },
    )
  })

  it('writes valid JSON that reads back as the answer', () => {
    fc.assert(
      fc.property(response, (r) => {
        expect(JSON.parse(parseResponseJson(r))).toEqual(JSON.parse(JSON.stringify(r)))
      }),
    )
  })

  it('leaves out properties the schema does not have, as the schema serializer does', async () => {
    const r = {
      request_id: 'r',
      text: 't',
      intent: { name: 'a', confidence: 1, extra: 1 },
      intent_ranking: [{ name: 'a', confidence: 1, extra: 2 }],
      entities: [{ start: 0, end: 1, entity: 'e', value: 'v', extractor: 'x', confidence_entity: 1, internal: true }],
      fallback: false,
      model: { name: 'm', version: '1', digest: 'd' },
      debug: 'not in the schema',
    } as unknown as ParseResponse
    expect(parseResponseJson(r)).toBe(await schemaJson(r))
    expect(parseResponseJson(r)).not.toMatch(/"extra"|internal|digest|debug/)
  })

  it('keeps the same intent name prefix when a later answer names the same intents with other confidences', () => {
    const base: ParseResponse = {
      request_id: 'r',
      text: 't',
      intent: { name: 'greet', confidence: 0.9 },
      intent_ranking: [
        { name: 'greet', confidence: 0.9 },
        { name: 'say "bye"', confidence: 0.1 },
      ],
      entities: [],
      fallback: false,
      model: { name: 'm', version: '1' },
    }
    const other = {
      ...base,
      intent: { name: 'say "bye"', confidence: 0.7 },
      intent_ranking: [
        { name: 'say "bye"', confidence: 0.7 },
        { name: 'greet', confidence: 0.3 },
      ],
      model: { name: 'm', version: '2' },
    }
    for (const r of [base, other, base]) expect(JSON.parse(parseResponseJson(r))).toEqual(r)
  })

  it('writes a non-finite confidence as null', () => {
    const r: ParseResponse = {
      request_id: 'r',
      text: 't',
      intent: { name: 'a', confidence: Number.NaN },
      intent_ranking: [{ name: 'a', confidence: Number.POSITIVE_INFINITY }],
      entities: [],
      fallback: false,
      model: { name: 'm', version: '1' },
    }
    expect(JSON.parse(parseResponseJson(r))).toMatchObject({
      intent: { confidence: null },
      intent_ranking: [{ confidence: null }],
    })
  })

  it('covers every property of the response and entity schemas: required ones first, each group in schema order', () => {
    const order = (schema: { properties: object; required?: string[] }) => {
      const keys = Object.keys(schema.properties)
      const required = new Set(schema.required ?? [])
      return [...keys.filter((k) => required.has(k)), ...keys.filter((k) => !required.has(k))]
    }
    expect([...PARSE_RESPONSE_KEYS]).toEqual(order(ParseResponseSchema))
    expect([...ENTITY_KEYS]).toEqual(order(EntitySchema))
    expect([...RASA_PARSE_RESULT_KEYS]).toEqual(order(RasaParseResultSchema))
    expect([...TRIAGE_RESPONSE_KEYS]).toEqual(order(TriageResponseSchema))
    expect([...TRIAGE_CLASSIFICATION_KEYS]).toEqual(order(TriageResponseSchema.properties.classifications.items))
  })
})

describe('rasaParseResultJson', () => {
  // The route hands the serializer its entities as they are; the schema serializer reads `confidence` from each.
  const rasa = fc.record(
    {
      text,
      intent: score,
      intent_ranking: fc.array(score, { maxLength: 12 }),
      entities: fc.array(entity, { maxLength: 4 }),
      message_id: text,
    },
    { requiredKeys: ['text', 'intent', 'intent_ranking', 'entities'] },
  )

  it("writes Rasa's ParseResult as the schema serializer does, each entity's confidence its confidence_entity", async () => {
    await fc.assert(
      fc.asyncProperty(rasa, async (r) => {
        const withConfidence = { ...r, entities: r.entities.map((e) => ({ ...e, confidence: e.confidence_entity })) }
        expect(rasaParseResultJson(r)).toBe(await schemaJson(withConfidence, '/rasa'))
      }),
      { numRuns: 400 },
    )
  })

  it('leaves out message_id when the request had none', () => {
    const r = {
      text: 't',
      intent: { name: 'a', confidence: 1 },
      intent_ranking: [],
      entities: [],
      message_id: undefined,
    }
    expect(JSON.parse(rasaParseResultJson(r))).toEqual({
      text: 't',
      intent: { name: 'a', confidence: 1 },
      intent_ranking: [],
      entities: [],
    })
  })
})

describe('triageResponseJson', () => {
  const triage = fc.record({
    classifications: fc.array(fc.record({ id: text, category: text, confidence, request_id: fc.uuid() }), {
      maxLength: 6,
    }),
    model: fc.record({ name: text, version: text }),
  })

  it('writes the triage answer as the schema serializer does, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(triage, async (r) => {
        expect(triageResponseJson(r)).toBe(await schemaJson(r, '/triage'))
      }),
      { numRuns: 400 },
    )
  })

  it('leaves out properties the schema does not have, and writes a non-finite confidence as null', async () => {
    const r = {
      classifications: [{ id: 'm1', category: 'refund', confidence: 0.25, request_id: 'r', debug: 1 }],
      model: { name: 'm', version: '1', digest: 'd' },
    }
    expect(triageResponseJson(r)).toBe(await schemaJson(r, '/triage'))
    expect(triageResponseJson(r)).not.toMatch(/debug|digest/)
    // The schema serializer refuses a NaN outright (a 500); the answer writes null, as the parse answers do.
    r.classifications[0]!.confidence = Number.NaN
    expect(JSON.parse(triageResponseJson(r))).toEqual({
      classifications: [{ id: 'm1', category: 'refund', confidence: null, request_id: 'r' }],
      model: { name: 'm', version: '1' },
    })
  })
})
