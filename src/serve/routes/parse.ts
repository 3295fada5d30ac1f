/**
 * The intentops parse routes: one message, a batch, and the triage shape. Each request reads the served model once,
 * so a swap during the request does not change its answer.
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { createError } from '../../errors.js'
import { requireRole } from '../auth.js'
import type { ServedModel } from '../model-holder.js'
import {
  checkFieldNames,
  checkMessage,
  type MessageIn,
  type Prediction,
  predict,
  toRecord,
  toResponse,
} from '../predict.js'
import {
  BatchRequestSchema,
  BatchResponseSchema,
  ErrorSchema,
  ParseRequestSchema,
  ParseResponseSchema,
  TriageRequestSchema,
  TriageResponseSchema,
} from '../schemas.js'
import { batchResponseJson, parseResponseJson, sendJson, triageResponseJson } from '../serialize.js'

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema }

export const parseRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.intentops
  const { config } = ctx
  const guard = config.requireTokenForParse ? { preHandler: requireRole('client') } : {}

  const served = (): ServedModel => {
    const s = ctx.holder.current
    if (!s) throw ctx.models.noModelError()
    return s
  }
  const record = (s: ServedModel, p: Prediction, m: MessageIn, channel: string) => {
    ctx.metrics.observePrediction(p.result.intent.name, p.fallback)
    ctx.predictionLog?.push(toRecord(s, p, m, channel))
  }
  const topK = (requested: number | undefined) =>
    requested ?? (config.rankingLength > 0 ? config.rankingLength : undefined)
  const checkBatch = (size: number) => {
    if (size > config.maxBatchSize) {
      throw createError('ERR_SERVE_BATCH_TOO_LARGE', { size, limit: config.maxBatchSize })
    }
  }

  app.post(
    '/v1/parse',
    {
      ...guard,
      schema: {
        summary: 'Parse one message',
        description: 'Classify `text` (or multi-field `fields`) and extract entities; the prediction is logged.',
        tags: ['parse'],
        body: ParseRequestSchema,
        response: { 200: ParseResponseSchema, ...errors },
      },
    },
    // Synchronous, where a promise costs a microtask hop per request; the answer is serialised by hand (serialize.ts),
    // which the schema still describes and a test holds to the schema serializer's bytes.
    (request, reply) => {
      const body = request.body
      checkMessage(body, config.maxTextLength, 'body')
      const s = served()
      if (body.fields !== undefined) checkFieldNames(s, body.fields, 'body.fields')
      const k = topK(body.top_k)
      const p = predict(s, body, request.id, k)
      record(s, p, body, 'api')
      sendJson(reply, parseResponseJson(toResponse(s, p, body, k)))
    },
  )

  app.post(
    '/v1/parse/batch',
    {
      ...guard,
      schema: {
        summary: 'Parse several messages',
        description: 'Up to `serve.maxBatchSize` messages, all parsed by the same model.',
        tags: ['parse'],
        body: BatchRequestSchema,
        response: { 200: BatchResponseSchema, ...errors },
      },
      // The size is checked before validation so a huge batch is refused without validating every entry.
      preValidation: async (request: FastifyRequest) => {
        const msgs = (request.body as { messages?: unknown } | undefined)?.messages
        if (Array.isArray(msgs)) checkBatch(msgs.length)
      },
    },
    (request, reply) => {
      const { messages, top_k } = request.body
      checkBatch(messages.length)
      for (const [i, m] of messages.entries()) checkMessage(m, config.maxTextLength, `messages[${i}]`)
      const s = served()
      for (const [i, m] of messages.entries()) {
        if (m.fields !== undefined) checkFieldNames(s, m.fields, `messages[${i}].fields`)
      }
      const k = topK(top_k)
      const results = messages.map((m) => {
        const p = predict(s, m, undefined, k)
        record(s, p, m, 'api')
        return toResponse(s, p, m, k)
      })
      sendJson(reply, batchResponseJson({ name: s.name, version: s.version }, results))
    },
  )

  app.post(
    '/v1/messages',
    {
      ...guard,
      schema: {
        summary: 'Triage messages',
        description: 'Classify `{id, subject, body}` messages into categories (intents).',
        tags: ['parse'],
        body: TriageRequestSchema,
        response: { 200: TriageResponseSchema, ...errors },
      },
      preValidation: async (request: FastifyRequest) => {
        const msgs = (request.body as { messages?: unknown } | undefined)?.messages
        if (Array.isArray(msgs)) checkBatch(msgs.length)
      },
    },
    // Synchronous and serialised by hand, as /v1/parse is.
    (request, reply) => {
      const { messages } = request.body
      checkBatch(messages.length)
      const inputs: MessageIn[] = messages.map((m, i) => {
        const fields: Record<string, string> = {}
        if (m.subject !== undefined) fields.subject = m.subject
        if (m.body !== undefined) fields.body = m.body
        if (Object.keys(fields).length === 0) {
          throw createError('ERR_SERVE_BAD_REQUEST', { detail: `messages[${i}] needs \`subject\` or \`body\`` })
        }
        const input = { fields, message_id: m.id }
        checkMessage(input, config.maxTextLength, `messages[${i}]`)
        return input
      })
      const s = served()
      for (const [i, m] of inputs.entries()) checkFieldNames(s, m.fields!, `messages[${i}]`)
      const classifications = inputs.map((m) => {
        // The answer names one category; the log keeps the best three.
        const p = predict(s, m, undefined, 1)
        record(s, p, m, 'triage')
        return {
          id: m.message_id!,
          category: p.result.intent.name,
          confidence: p.result.intent.confidence,
          request_id: p.id,
        }
      })
      sendJson(reply, triageResponseJson({ classifications, model: { name: s.name, version: s.version } }))
    },
  )
}
