/**
 * The review API and the web UI as server plugins: what `intentops serve` mounts next to the prediction routes.
 * The review and UI modules take the server's auth, model and store through options; this is where they meet.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../config/schema.js'
import type { ModelRegistry } from '../registry/registry.js'
import { reviewCharts } from '../review/charts.js'
import { reviewRoutes, type TryParse } from '../review/http.js'
import type { ServePlugin } from '../serve/app.js'
import { requestToken, requireRole } from '../serve/auth.js'
import { predict } from '../serve/predict.js'
import { type UiOptions, uiPlugin } from '../serve/ui/plugin.js'

export interface ReviewPluginOptions {
  config: Pick<Config, 'data' | 'review' | 'fallback'>
  root: string
  registry?: ModelRegistry
  /** Drift checks for the Drift page. */
  drift?: UiOptions['drift']
}

/**
 * Plugins for `buildApp({ plugins })`: `/v1/review/...`, `/v1/ui/...` and the pages at `/ui`. They use the
 * server's store (tokens, log, reviews); without a store only the pages are served and every data route answers
 * that the store is missing.
 */
export function reviewPlugins(options: ReviewPluginOptions): ServePlugin[] {
  const plugin: FastifyPluginAsync = async (app) => {
    const authorize = requireRole('annotator')
    const store = app.intentops.store
    const parse = (text: string): TryParse | undefined => {
      const served = app.intentops.holder.current
      if (!served) return undefined
      const p = predict(served, { text })
      return {
        intent: p.result.intent.name,
        confidence: p.result.intent.confidence,
        margin: p.margin,
        fallback: p.fallback,
        ranking: p.scores.slice(0, 3),
        entities: p.result.entities,
        modelName: served.name,
        modelVersion: served.version,
        latencyMs: p.latencyMs,
      }
    }
    if (store) {
      await app.register(reviewRoutes, {
        store,
        config: options.config,
        root: options.root,
        authorize,
        identity: requestToken,
        parse,
        modelLabels: () => app.intentops.holder.current?.model.labels ?? [],
      })
    }
    await app.register(uiPlugin, {
      authorize,
      ...(options.registry ? { registry: options.registry } : {}),
      ...(store
        ? {
            charts: async (window: string) => {
              const charts = await reviewCharts(store, { window, fallbackIntent: options.config.fallback.intent })
              return charts.length ? { charts } : { charts, message: `No messages were logged in the last ${window}.` }
            },
          }
        : {}),
      ...(options.drift ? { drift: options.drift } : {}),
    })
  }
  return [plugin]
}
