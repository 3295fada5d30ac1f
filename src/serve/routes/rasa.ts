/**
 * Rasa-compatible routes, so Rasa clients, channels, test tools and deploy scripts work unchanged: `/model/parse`
 * with Rasa's request and `ParseResult`, `PUT /model`, `/status` and `/version`, and Rasa's error shape.
 * @module
 */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { createError } from '../../errors.js'
import { codePointLength } from '../../util/text.js'
import { VERSION } from '../../version.js'
import { requireRole } from '../auth.js'
import { predict, toRecord } from '../predict.js'
import {
  RasaErrorSchema,
  RasaParseRequestSchema,
  RasaParseResultSchema,
  RasaReplaceModelSchema,
  RasaStatusSchema,
  RasaVersionSchema,
} from '../schemas.js'
import { rasaParseResultJson, sendJson } from '../serialize.js'

const errors = { '4xx': RasaErrorSchema, '5xx': RasaErrorSchema }
/** The oldest Rasa server version whose clients this API answers correctly. */
const MINIMUM_COMPATIBLE_VERSION = '3.0.0'

export const rasaRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.intentops
  const { config } = ctx
  const guard = config.requireTokenForParse ? { preHandler: requireRole('client') } : {}

  app.post(
    '/model/parse',
    {
      ...guard,
      config: { rasa: true },
      schema: {
        summary: 'Parse a message (Rasa)',
        description:
          "Rasa's `/model/parse`: `{text, message_id}` in, Rasa's `ParseResult` out. `emulation_mode` is ignored.",
        tags: ['rasa'],
        querystring: Type.Object(
          { emulation_mode: Type.Optional(Type.String()), token: Type.Optional(Type.String()) },
          { additionalProperties: true },
        ),
        body: RasaParseRequestSchema,
        response: { 200: RasaParseResultSchema, ...errors },
      },
    },
    // Synchronous and serialised by hand, as /v1/parse is (serialize.ts; a test holds it to the schema serializer).
    (request, reply) => {
      const body = request.body
      if (body.text.length > config.maxTextLength) {
        const length = codePointLength(body.text)
        if (length > config.maxTextLength) {
          throw createError('ERR_SERVE_TEXT_TOO_LONG', { where: 'text', length, limit: config.maxTextLength })
        }
      }
      const s = ctx.holder.current
      if (!s) throw ctx.models.noModelError()
      const message = { text: body.text, ...(body.message_id !== undefined ? { message_id: body.message_id } : {}) }
      const p = predict(s, message, request.id, config.rankingLength > 0 ? config.rankingLength : undefined)
      ctx.metrics.observePrediction(p.result.intent.name, p.fallback)
      ctx.predictionLog?.push(toRecord(s, p, message, 'rasa'))
      sendJson(
        reply,
        rasaParseResultJson({
          text: p.result.text,
          intent: p.result.intent,
          intent_ranking:
            config.rankingLength > 0 ? p.result.intent_ranking.slice(0, config.rankingLength) : p.result.intent_ranking,
          entities: p.result.entities,
          message_id: body.message_id,
        }),
      )
    },
  )

  app.put(
    '/model',
    {
      preHandler: requireRole('admin'),
      config: { rasa: true },
      schema: {
        summary: 'Replace the model (Rasa)',
        description:
          '`model_file` names a registry version (`7`, `v7`, `latest`), an alias, or a model file in the project. The new model is verified before it serves; 204 once it does.',
        tags: ['rasa', 'admin'],
        body: RasaReplaceModelSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      if (request.body.model_file.trim() === '') {
        throw createError('ERR_SERVE_BAD_REQUEST', {
          detail: 'body.model_file is blank: name a registry version (`7`, `v7`, `latest`), an alias or a model file',
        })
      }
      await ctx.models.replace(request.body.model_file)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/status',
    {
      config: { rasa: true },
      schema: {
        summary: 'Server status (Rasa)',
        tags: ['rasa'],
        response: { 200: RasaStatusSchema, ...errors },
      },
    },
    async () => {
      const s = ctx.holder.current
      return {
        model_id: s ? `${s.name}@${s.version}` : null,
        model_file: s ? (s.source.kind === 'file' ? s.source.path : `${s.name} v${s.version}`) : null,
        num_active_training_jobs: 0,
      }
    },
  )

  app.get(
    '/version',
    {
      config: { rasa: true },
      schema: { summary: 'Version (Rasa)', tags: ['rasa'], response: { 200: RasaVersionSchema } },
    },
    async () => ({ version: VERSION, minimum_compatible_version: MINIMUM_COMPATIBLE_VERSION }),
  )
}
