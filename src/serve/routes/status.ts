/**
 * Liveness, readiness, metrics and the served model.
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { isIntentopsError } from '../../errors.js'
import { trainedFieldNames } from '../../nlu/model.js'
import type { ServedModel } from '../model-holder.js'
import { ErrorSchema, HealthSchema, ModelsResponseSchema, ReadySchema } from '../schemas.js'

export function describeServed(s: ServedModel) {
  return {
    name: s.name,
    version: s.version,
    digest: s.digest,
    source: s.source.kind,
    ...(s.source.kind === 'registry' && s.source.alias ? { alias: s.source.alias } : {}),
    ...(s.source.kind === 'file' ? { path: s.source.path } : {}),
    signed_by: s.source.kind === 'registry' ? s.source.signedBy : [],
    labels: [...s.model.labels],
    fields: [...trainedFieldNames(s.model.manifest)],
    trained_at: s.model.manifest.trainedAt,
    loaded_at: new Date(s.loadedAt).toISOString(),
  }
}

/**
 * Probes are not rate limited: behind a load balancer every client shares one address, and parse traffic would
 * otherwise fail the liveness and readiness checks and blind the scraper.
 */
const PROBE = { rateLimit: false } as const

export const statusRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.intentops

  app.get(
    '/health',
    { config: PROBE, schema: { summary: 'Liveness', tags: ['status'], response: { 200: HealthSchema } } },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/ready',
    {
      config: PROBE,
      schema: {
        summary: 'Readiness: a model is loaded and the store answers',
        tags: ['status'],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const s = ctx.holder.current
      let store: 'ok' | 'unreachable' | 'none' = 'none'
      let problem: { code: string; message: string } | undefined
      if (ctx.store) {
        try {
          await ctx.store.ping()
          store = 'ok'
        } catch (err) {
          store = 'unreachable'
          problem = {
            code: 'ERR_SERVE_STORE_UNAVAILABLE',
            message: `The store is not reachable: ${(err as Error).message}`,
          }
        }
      }
      if (!s) problem = { code: 'ERR_SERVE_NO_MODEL', message: ctx.models.noModelError().message }
      const ready = s !== undefined && store !== 'unreachable'
      if (!ready) reply.header('retry-after', '5')
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        model: s ? { name: s.name, version: s.version } : null,
        store,
        ...(problem ? problem : {}),
      })
    },
  )

  app.get(
    '/metrics',
    {
      config: PROBE,
      schema: { summary: 'Prometheus metrics', tags: ['status'], response: { 200: Type.String() } },
    },
    async (_request, reply) => {
      reply.type(ctx.metrics.registry.contentType)
      return ctx.metrics.registry.metrics()
    },
  )

  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'The served model and the versions of its name in the registry',
        tags: ['models'],
        response: { 200: ModelsResponseSchema, '4xx': ErrorSchema, '5xx': ErrorSchema },
      },
    },
    async (request) => {
      const s = ctx.holder.current
      const registry = ctx.models.registry
      const versions: Array<{ version: number; created_at: string; aliases: string[] }> = []
      if (registry) {
        try {
          const numbers = await registry.versionNumbers(ctx.models.name)
          const { aliases } = await registry.listAliases(ctx.models.name)
          for (const v of numbers.slice(-50).reverse()) {
            const signed = await registry.readVersion(ctx.models.name, v)
            versions.push({
              version: v,
              created_at: signed.record.createdAt,
              aliases: aliases.filter((a) => a.version === v).map((a) => a.alias),
            })
          }
        } catch (err) {
          // No versions yet (or an unreadable registry) still lets the route describe the served model.
          request.log.warn({ err }, 'cannot list registry versions')
        }
      }
      const last = ctx.holder.lastError
      return {
        active: s ? describeServed(s) : null,
        alias: ctx.models.alias ?? null,
        ...(last
          ? { last_error: { code: isIntentopsError(last) ? last.code : 'ERR_INTERNAL', message: last.message } }
          : {}),
        versions,
      }
    },
  )
}
