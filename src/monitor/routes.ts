/**
 * The analytics and drift HTTP API, a Fastify plugin: `GET /v1/analytics` lists the analytics, `GET
 * /v1/analytics/<what>` answers one (with its Vega-Lite specs when `charts=true`), `GET /v1/analytics/drift` runs the
 * drift checks. Every route runs the `auth` preHandler the server hands in (serve's `requireRole('annotator')`), so
 * this module does not depend on the server's code.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import type { FastifyPluginAsync, preHandlerAsyncHookHandler } from 'fastify'
import type { MonitorConfig } from '../config/schema.js'
import type { TrainingData } from '../data/types.js'
import { describeTimeForms } from '../util/time.js'
import { ANALYTICS_KINDS, type AnalyticsQuery, type AnalyticsSource, runAnalytics } from './analytics.js'
import { analyticsCharts, driftSpec } from './charts.js'
import { ensureAnalyticsIndexes } from './indexes.js'
import { monitorDrift } from './monitor.js'
import { parseInstant } from './window.js'

export interface AnalyticsRoutesOptions {
  /** The store (a `KyselyPredictionStore`). */
  source: AnalyticsSource
  /** The `monitor` config section: low-confidence threshold, drift thresholds, default windows. */
  monitor: Readonly<MonitorConfig>
  /** Loads the training data (emerging n-grams, drift against training); called per request, so cache it there. */
  loadTraining: () => Promise<TrainingData>
  /** Runs before every route; analytics show what users typed, so it must check a token (annotator or admin). */
  auth: preHandlerAsyncHookHandler
  /** The clock (epoch ms), for tests. */
  now?: () => number
}

export const AnalyticsQuerySchema = Type.Object(
  {
    from: Type.Optional(Type.String({ maxLength: 40, description: `Start, inclusive: ${describeTimeForms()}.` })),
    to: Type.Optional(Type.String({ maxLength: 40, description: `End, exclusive: ${describeTimeForms()}.` })),
    bucket: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('hour')])),
    intent: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    modelVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    maxMessages: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    charts: Type.Optional(Type.Boolean({ description: 'Add the Vega-Lite specs of the result as `charts`.' })),
  },
  { additionalProperties: false },
)

export const DriftQuerySchema = Type.Object(
  {
    window: Type.Optional(Type.String({ maxLength: 20 })),
    reference: Type.Optional(
      Type.String({
        maxLength: 100,
        description: `\`training\`, a duration such as \`14d\` (the window of that length just before the recent one), or FROM..TO, each ${describeTimeForms()}: \`30d..7d\` runs from 30 days ago to 7 days ago.`,
      }),
    ),
    charts: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

function toQuery(q: Static<typeof AnalyticsQuerySchema>, now: number): AnalyticsQuery {
  return {
    ...(q.from !== undefined ? { from: parseInstant(q.from, 'from', now) } : {}),
    ...(q.to !== undefined ? { to: parseInstant(q.to, 'to', now) } : {}),
    ...(q.bucket !== undefined ? { bucket: q.bucket } : {}),
    ...(q.intent !== undefined ? { intent: q.intent } : {}),
    ...(q.channel !== undefined ? { channel: q.channel } : {}),
    ...(q.modelVersion !== undefined ? { modelVersion: q.modelVersion } : {}),
  }
}

/**
 * @example
 * app.register(analyticsRoutes, { source: store, monitor: config.monitor, loadTraining, auth: requireRole('annotator') })
 */
export const analyticsRoutes: FastifyPluginAsync<AnalyticsRoutesOptions> = async (app, options) => {
  const now = options.now ?? Date.now
  await ensureAnalyticsIndexes(options.source)
  // On each route, not as a plugin-wide hook: the server runs a route's role check before the body is read.
  const pre = { preHandler: options.auth }

  app.get('/v1/analytics', pre, async () => ({ analytics: [...ANALYTICS_KINDS], drift: '/v1/analytics/drift' }))

  app.get<{ Querystring: Static<typeof DriftQuerySchema> }>(
    '/v1/analytics/drift',
    { ...pre, schema: { querystring: DriftQuerySchema } },
    async (request) => {
      const q = request.query
      const report = await monitorDrift(options.source, await options.loadTraining(), options.monitor, {
        now: now(),
        ...(q.window !== undefined ? { window: q.window } : {}),
        ...(q.reference !== undefined ? { reference: q.reference } : {}),
      })
      return q.charts ? { ...report, charts: { drift: driftSpec(report) } } : report
    },
  )

  app.get<{ Params: { what: string }; Querystring: Static<typeof AnalyticsQuerySchema> }>(
    '/v1/analytics/:what',
    { ...pre, schema: { querystring: AnalyticsQuerySchema } },
    async (request) => {
      const q = request.query
      const at = now()
      const result = await runAnalytics(options.source, request.params.what, toQuery(q, at), {
        lowConfidence: options.monitor.lowConfidence,
        loadTraining: options.loadTraining,
        now: at,
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.maxMessages !== undefined ? { maxMessages: q.maxMessages } : {}),
      })
      return q.charts ? { ...result, charts: analyticsCharts(result) } : result
    },
  )
}
