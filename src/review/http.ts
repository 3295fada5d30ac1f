/**
 * The review API under `/v1/review/...`: inbox pages, groups, decisions, the audit, intents for the picker, and
 * "Try it" messages saved as reviewed examples. Every route needs an annotator or admin token; the server passes
 * its auth preHandler in, so this module stays independent of the server's internals. Decisions answer only after
 * the store committed them.
 * @module
 */
import type {} from '@fastify/swagger'
import { type Static, Type } from '@sinclair/typebox'
import type { FastifyPluginAsync, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Config } from '../config/schema.js'
import { loadTrainingData } from '../data/load.js'
import { createError } from '../errors.js'
import type { PredictionRecord, PredictionStore, TokenRecord } from '../store/types.js'
import { describeTimeForms } from '../util/time.js'
import { uuidv7 } from '../util/uuid.js'
import { checkEntitySpans, checkReviewName, decide, REVIEW_ACTIONS } from './actions.js'
import { listAudit } from './audit.js'
import { findGroup, listInbox } from './inbox.js'
import { parseTime } from './time.js'

/** What a "Try it" parse gives: the prediction fields of a log record. */
export type TryParse = Pick<
  PredictionRecord,
  'intent' | 'confidence' | 'margin' | 'fallback' | 'ranking' | 'entities' | 'modelName' | 'modelVersion' | 'latencyMs'
>

export interface ReviewRoutesOptions {
  store: PredictionStore
  config: Pick<Config, 'data' | 'review' | 'fallback'>
  /** Project root, to read the training data's intents. */
  root: string
  /** The server's auth preHandler admitting annotator and admin tokens (401 without a token, 403 for a client). */
  authorize: preHandlerAsyncHookHandler
  /** The token of a request that passed `authorize`. */
  identity: (request: FastifyRequest) => Promise<Pick<TokenRecord, 'name' | 'role'> | undefined>
  /** Parse a message with the served model, for "Try it"; undefined while no model is loaded. */
  parse?: (text: string) => TryParse | undefined
  /** Labels of the served model, offered by the intent picker. */
  modelLabels?: () => readonly string[]
  now?: () => number
}

const Entity = Type.Object({
  start: Type.Integer({ minimum: 0 }),
  end: Type.Integer({ minimum: 0 }),
  entity: Type.String({ minLength: 1, maxLength: 200 }),
  value: Type.Optional(Type.String({ maxLength: 2000 })),
  role: Type.Optional(Type.String({ maxLength: 200 })),
  group: Type.Optional(Type.String({ maxLength: 200 })),
  field: Type.Optional(Type.String({ maxLength: 200 })),
})

// The naming rules are checked by the handlers (checkReviewName), whose error says what is wrong and how to fix it.
const IntentName = Type.String({ minLength: 1, maxLength: 200 })

/** A `from` or `to` query parameter; its description lists the forms the parser takes. */
const timeParam = (edge: string) =>
  Type.Optional(Type.String({ maxLength: 40, description: `${edge}: ${describeTimeForms()}.` }))

const InboxQuery = Type.Object({
  order: Type.Optional(
    Type.Union([Type.Literal('confidence'), Type.Literal('margin'), Type.Literal('fallback'), Type.Literal('newest')]),
  ),
  intent: Type.Optional(Type.String({ maxLength: 200 })),
  modelVersion: Type.Optional(Type.String({ maxLength: 200 })),
  channel: Type.Optional(Type.String({ maxLength: 200 })),
  from: timeParam('Start, inclusive'),
  to: timeParam('End, exclusive'),
  search: Type.Optional(Type.String({ maxLength: 500 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000 })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
})

const Decision = Type.Object({
  predictionIds: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 }),
  action: Type.Union(REVIEW_ACTIONS.map((a) => Type.Literal(a))),
  intent: Type.Optional(IntentName),
  newIntent: Type.Optional(Type.Boolean()),
  entities: Type.Optional(Type.Array(Entity, { maxItems: 100 })),
  note: Type.Optional(Type.String({ maxLength: 2000 })),
})

const AuditQuery = Type.Object({
  reviewer: Type.Optional(Type.String({ maxLength: 200 })),
  predictionId: Type.Optional(Type.String({ maxLength: 200 })),
  from: timeParam('Start, inclusive'),
  to: timeParam('End, exclusive'),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
})

const TryBody = Type.Object({ text: Type.String({ minLength: 1, maxLength: 5000 }) })

const ExampleBody = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 5000 }),
  intent: IntentName,
  newIntent: Type.Optional(Type.Boolean()),
  entities: Type.Optional(Type.Array(Entity, { maxItems: 100 })),
})

export const reviewRoutes: FastifyPluginAsync<ReviewRoutesOptions> = async (app, options) => {
  const { store, config } = options
  const now = options.now ?? Date.now
  const pre = { preHandler: options.authorize }

  // Training intents change only with the files; read them at most once a minute.
  let trainingIntents: { at: number; names: string[] } | undefined
  const intents = async (): Promise<string[]> => {
    if (!trainingIntents || now() - trainingIntents.at > 60_000) {
      const data = await loadTrainingData([...config.data], { root: options.root }).catch(() => undefined)
      trainingIntents = {
        at: now(),
        names: data ? [...new Set([...data.intents.map((i) => i.name), ...data.examples.map((e) => e.intent)])] : [],
      }
    }
    // exported reviews are in the training data already; the pending ones may name intents it does not have yet
    const pending = await store.listReviews({ exported: false, limit: 100_000 })
    const reviewed = pending.flatMap((r) => (r.intent ? [r.intent] : []))
    return [...new Set([...trainingIntents.names, ...(options.modelLabels?.() ?? []), ...reviewed])].sort()
  }
  const reviewer = async (request: FastifyRequest) => {
    const who = await options.identity(request)
    if (!who) throw createError('ERR_REVIEW_INVALID', { detail: 'the request carries no reviewer identity' })
    return who.name
  }

  app.get(
    '/v1/review/me',
    { ...pre, schema: { summary: 'Who the token belongs to', tags: ['review'] } },
    async (req) => {
      const who = await options.identity(req)
      return { name: who?.name ?? '', role: who?.role ?? '' }
    },
  )

  app.get<{ Querystring: Static<typeof InboxQuery> }>(
    '/v1/review/inbox',
    {
      ...pre,
      schema: { querystring: InboxQuery, summary: 'One page of unreviewed messages, grouped', tags: ['review'] },
    },
    async (req) => {
      const q = req.query
      const at = now()
      const from = parseTime(q.from, 'from', at)
      const to = parseTime(q.to, 'to', at)
      return listInbox(
        store,
        {
          ...(q.intent ? { intent: q.intent } : {}),
          ...(q.modelVersion ? { modelVersion: q.modelVersion } : {}),
          ...(q.channel ? { channel: q.channel } : {}),
          ...(q.search ? { search: q.search } : {}),
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(q.cursor ? { cursor: q.cursor } : {}),
        },
        {
          order: q.order ?? config.review.order,
          pageSize: q.pageSize ?? config.review.pageSize,
          nearDuplicateThreshold: config.review.nearDuplicateThreshold,
        },
      )
    },
  )

  app.get<{ Params: { id: string } }>(
    '/v1/review/groups/:id',
    {
      ...pre,
      schema: {
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        summary: 'Every unreviewed duplicate of one message, over the whole log',
        tags: ['review'],
      },
    },
    async (req) => {
      const group = await findGroup(store, req.params.id, {
        nearDuplicateThreshold: config.review.nearDuplicateThreshold,
      })
      if (!group) throw createError('ERR_REVIEW_NOT_FOUND', { id: req.params.id })
      return group
    },
  )

  app.post<{ Body: Static<typeof Decision> }>(
    '/v1/review/decisions',
    {
      ...pre,
      schema: { body: Decision, summary: 'Record one decision for a group of messages', tags: ['review'] },
    },
    async (req, reply) => {
      const b = req.body
      const result = await decide(
        store,
        {
          predictionIds: b.predictionIds,
          action: b.action,
          ...(b.intent !== undefined ? { intent: b.intent } : {}),
          ...(b.newIntent !== undefined ? { newIntent: b.newIntent } : {}),
          ...(b.entities !== undefined ? { entities: b.entities } : {}),
          ...(b.note !== undefined ? { note: b.note } : {}),
          reviewer: await reviewer(req),
        },
        {
          intents: new Set(b.action === 'relabel' && !b.newIntent ? await intents() : []),
          outOfScopeIntent: config.fallback.intent,
          now,
        },
      )
      reply.code(201)
      return result
    },
  )

  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/v1/review/audit',
    {
      ...pre,
      schema: { querystring: AuditQuery, summary: 'Reviews: who, when, what, previous label', tags: ['review'] },
    },
    async (req) => {
      const q = req.query
      const at = now()
      const from = parseTime(q.from, 'from', at)
      const to = parseTime(q.to, 'to', at)
      const items = await listAudit(store, {
        ...(q.reviewer ? { reviewer: q.reviewer } : {}),
        ...(q.predictionId ? { predictionId: q.predictionId } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        limit: q.limit ?? 200,
      })
      return { items }
    },
  )

  app.get(
    '/v1/review/intents',
    { ...pre, schema: { summary: 'Intents the picker offers', tags: ['review'] } },
    async () => ({
      intents: await intents(),
      outOfScope: config.fallback.intent,
    }),
  )

  app.post<{ Body: Static<typeof TryBody> }>(
    '/v1/review/try',
    { ...pre, schema: { body: TryBody, summary: 'Parse a message without logging it', tags: ['review'] } },
    async (req) => {
      const parsed = options.parse?.(req.body.text)
      if (!parsed) throw createError('ERR_REVIEW_INVALID', { detail: 'no model is loaded, so nothing can parse' })
      return { text: req.body.text, ...parsed }
    },
  )

  app.post<{ Body: Static<typeof ExampleBody> }>(
    '/v1/review/examples',
    {
      ...pre,
      schema: { body: ExampleBody, summary: 'Save a "Try it" message as a reviewed example', tags: ['review'] },
    },
    async (req, reply) => {
      const b = req.body
      const who = await reviewer(req)
      const text = b.text.trim()
      // everything is checked before the message is logged, so a refused decision leaves nothing behind
      const intent = checkReviewName('intent', b.intent)
      const parsed = options.parse?.(text)
      // the message enters the log like any other, from the `ui` channel, then takes the reviewer's label
      const record: PredictionRecord = {
        // Time-ordered like the server's request ids: the log's primary-key index appends.
        id: uuidv7(),
        ts: now(),
        text,
        intent: parsed?.intent ?? intent,
        confidence: parsed?.confidence ?? 0,
        margin: parsed?.margin ?? 0,
        fallback: parsed?.fallback ?? false,
        ranking: parsed?.ranking ?? [],
        entities: parsed?.entities ?? [],
        modelName: parsed?.modelName ?? '',
        modelVersion: parsed?.modelVersion ?? '',
        latencyMs: parsed?.latencyMs ?? 0,
        channel: 'ui',
      }
      const known = new Set(b.newIntent ? [] : await intents())
      if (!b.newIntent && !known.has(intent)) throw createError('ERR_REVIEW_UNKNOWN_INTENT', { intent })
      if (b.entities) checkEntitySpans(record, b.entities)
      await store.insertPredictions([record])
      const result = await decide(
        store,
        {
          predictionIds: [record.id],
          action: record.intent === intent ? 'confirm' : 'relabel',
          ...(record.intent === intent ? {} : { intent, newIntent: true }),
          ...(b.entities ? { entities: b.entities } : {}),
          reviewer: who,
          note: 'saved from Try it',
        },
        { intents: known, outOfScopeIntent: config.fallback.intent, now },
      )
      reply.code(201)
      return { prediction: record, review: result.reviews[0] }
    },
  )
}
