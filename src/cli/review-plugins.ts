/**
 * The review API, the analytics API and the web UI as server plugins: what `intentops serve` mounts next to the
 * prediction routes. The review, monitor and UI modules take the server's auth, model and store through options;
 * this is where they meet.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../config/schema.js'
import { loadTrainingData } from '../data/load.js'
import type { TrainingData } from '../data/types.js'
import type { AnalyticsSource } from '../monitor/analytics.js'
import { runAnalytics } from '../monitor/analytics.js'
import { analyticsCharts } from '../monitor/charts.js'
import type { DriftCheckName } from '../monitor/drift.js'
import { monitorDrift } from '../monitor/monitor.js'
import { analyticsRoutes } from '../monitor/routes.js'
import type { ModelRegistry } from '../registry/registry.js'
import { reviewCharts, windowMs } from '../review/charts.js'
import { reviewRoutes, type TryParse } from '../review/http.js'
import type { ServePlugin } from '../serve/app.js'
import { requestToken, requireRole } from '../serve/auth.js'
import { predict } from '../serve/predict.js'
import { type UiChart, type UiDrift, uiPlugin } from '../serve/ui/plugin.js'
import type { PredictionStore } from '../store/types.js'

export interface ReviewPluginOptions {
  config: Pick<Config, 'data' | 'review' | 'fallback' | 'monitor'>
  root: string
  registry?: ModelRegistry
  now?: () => number
}

/** What the Analytics page shows, in order, with words for people. */
const CHARTS: ReadonlyArray<{ id: string; title: string; description: string }> = [
  { id: 'intents', title: 'Messages by intent', description: 'What people asked, by the intent the bot answered.' },
  { id: 'rates', title: 'Fallback and low confidence', description: 'How often the bot was unsure.' },
  { id: 'channels', title: 'Messages by channel', description: 'Where the messages came from.' },
  {
    id: 'corrections',
    title: 'Corrections by intent',
    description: 'How often reviewers changed the bot’s answer, per answered intent.',
  },
  {
    id: 'confusion',
    title: 'Reviewers against the bot',
    description: 'Rows are the reviewers’ labels, columns the bot’s answers; off the diagonal, the bot was corrected.',
  },
  {
    id: 'confidence',
    title: 'Confidence against reviews',
    description: 'How sure the bot was on reviewed messages, split by whether reviewers agreed.',
  },
  { id: 'ngrams', title: 'Top words and word pairs', description: 'The most frequent words, stop words removed.' },
  {
    id: 'emerging',
    title: 'New words',
    description: 'Frequent in recent messages, rare in the training data: topics the bot may not know.',
  },
  { id: 'latency', title: 'Response time', description: 'How long the bot took to answer (percentiles).' },
]

const DRIFT_TITLES: Record<DriftCheckName, string> = {
  intent_distribution: 'Mix of intents',
  oov_share: 'Unknown words',
  text_length: 'Message length',
  confidence: 'Bot confidence',
  domain_classifier: 'Traffic looks like training data',
}

function isAnalyticsSource(store: PredictionStore): store is PredictionStore & AnalyticsSource {
  return 'db' in store && 'dialect' in store
}

/**
 * Plugins for `buildApp({ plugins })`: `/v1/review/...`, `/v1/analytics/...`, `/v1/ui/...` and the pages at `/ui`.
 * They use the server's store (tokens, log, reviews); without a store only the pages are served.
 */
export function reviewPlugins(options: ReviewPluginOptions): ServePlugin[] {
  const { config } = options
  const now = options.now ?? Date.now
  // the training data changes only with the files: read it at most once a minute
  let training: { at: number; data: Promise<TrainingData> } | undefined
  const loadTraining = () => {
    if (!training || now() - training.at > 60_000) {
      training = { at: now(), data: loadTrainingData([...config.data], { root: options.root }) }
      training.data.catch(() => {
        training = undefined
      })
    }
    return training.data
  }

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
        config,
        root: options.root,
        authorize,
        identity: requestToken,
        parse,
        modelLabels: () => app.intentops.holder.current?.model.labels ?? [],
        now,
      })
    }
    const source = store && isAnalyticsSource(store) ? store : undefined
    if (source) {
      await app.register(analyticsRoutes, { source, monitor: config.monitor, loadTraining, auth: authorize, now })
    }

    const charts = async (window: string): Promise<{ charts: UiChart[]; message?: string }> => {
      if (!store) return { charts: [], message: 'This server has no prediction log.' }
      const to = now()
      const query = {
        from: to - windowMs(window),
        to,
        bucket: window.endsWith('h') ? ('hour' as const) : ('day' as const),
      }
      const specs: Record<string, unknown> = {}
      if (source) {
        const first = await runAnalytics(source, 'intents', query, {
          lowConfidence: config.monitor.lowConfidence,
          loadTraining,
          now: to,
        })
        if (first.kind === 'intents' && first.total === 0) {
          return { charts: [], message: `No messages were logged in the last ${window}.` }
        }
        Object.assign(specs, analyticsCharts(first))
        for (const what of ['rates', 'channels', 'corrections', 'ngrams', 'emerging', 'latency']) {
          const result = await runAnalytics(source, what, query, {
            lowConfidence: config.monitor.lowConfidence,
            loadTraining,
            now: to,
          })
          Object.assign(specs, analyticsCharts(result))
        }
      }
      // the review charts cover what the monitor does not draw, and everything when the store has no SQL source
      for (const c of await reviewCharts(store, { window, fallbackIntent: config.fallback.intent, now: to })) {
        if (!source || c.id === 'confidence') specs[c.id] ??= c.spec
      }
      if (Object.keys(specs).length === 0)
        return { charts: [], message: `No messages were logged in the last ${window}.` }
      return {
        charts: CHARTS.filter((c) => specs[c.id] !== undefined).map((c) => ({ ...c, spec: specs[c.id] })),
      }
    }

    const drift = async (): Promise<UiDrift> => {
      if (!source) return { checks: [], message: 'Drift checks need the prediction log.' }
      const report = await monitorDrift(source, await loadTraining(), config.monitor, { now: now() })
      return {
        passed: report.passed,
        window: `${report.recent.label} (${report.recent.size} messages) against ${report.reference.label} (${report.reference.size})`,
        checks: report.checks.map((c) => ({
          name: c.name,
          title: DRIFT_TITLES[c.name] ?? c.name,
          value: c.value,
          threshold: c.threshold,
          status: c.status,
          passed: c.status !== 'fail',
          detail: c.message,
        })),
      }
    }

    await app.register(uiPlugin, {
      authorize,
      ...(options.registry ? { registry: options.registry } : {}),
      charts,
      drift,
    })
  }
  return [plugin]
}
