/**
 * Admin routes: pin a version or switch the watched alias, and reload the current source. Both need an admin
 * token; the new model is verified before it serves, and a failure leaves the old one serving (422).
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { requireRole } from '../auth.js'
import { ActivateRequestSchema, ErrorSchema, ServedModelSchema } from '../schemas.js'
import { describeServed } from './status.js'

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema }

export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.intentops
  const admin = requireRole('admin')

  app.put(
    '/v1/models/active',
    {
      preHandler: admin,
      schema: {
        summary: 'Serve a version (pinned) or another alias (watched)',
        tags: ['models', 'admin'],
        body: ActivateRequestSchema,
        response: { 200: Type.Object({ active: ServedModelSchema }), ...errors },
      },
    },
    async (request) => {
      const body = request.body
      const served =
        'alias' in body ? await ctx.models.activateAlias(body.alias) : await ctx.models.activateVersion(body.version)
      request.log.info({ version: served.version }, 'model activated by an admin')
      return { active: describeServed(served) }
    },
  )

  app.post(
    '/v1/models/reload',
    {
      preHandler: admin,
      schema: {
        summary: 'Load the current source again (alias holder, pinned version or file)',
        tags: ['models', 'admin'],
        response: { 200: Type.Object({ active: ServedModelSchema }), ...errors },
      },
    },
    async () => ({ active: describeServed(await ctx.models.reload()) }),
  )
}
