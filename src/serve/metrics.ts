/**
 * Prometheus metrics of one app instance, on its own prom-client registry (two apps in one process do not share
 * counters): requests and latency by route and status, predictions by intent, fallbacks, the served model, model
 * load failures, and the prediction log's queue depth, dropped and refused records and its writer thread's CPU time.
 * @module
 */
import { Counter, Gauge, type Metric, Registry } from 'prom-client'
import type { ModelHolder } from './model-holder.js'

export interface ServeMetrics {
  registry: Registry
  observeRequest(route: string, method: string, status: number, ms: number): void
  observePrediction(intent: string, fallback: boolean): void
}

export function createServeMetrics(options: {
  holder: ModelHolder
  predictionLog?: {
    readonly depth: number
    readonly dropped: number
    readonly invalid: number
    readonly written: number
    readonly behind?: boolean
  }
  logWriter?: { cpuSeconds?(): number | undefined }
}): ServeMetrics {
  const registry = new Registry()
  // Per-request counts live in plain numbers below and reach prom-client only when /metrics is read: prom-client
  // hashes and validates the labels on every inc/observe, even through a cached `labels()` child (~3 % of a parse
  // request's CPU in a profile).
  const requestStats = new Map<string, RequestStats>()
  const intentCounts = new Map<string, { intent: string; n: number; reported: number }>()
  let fallbackCount = 0
  let fallbacksReported = 0
  new Counter({
    name: 'intentops_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
    collect() {
      for (const r of requestStats.values()) {
        if (r.count > r.reported) this.inc(r.labels, r.count - r.reported)
        r.reported = r.count
      }
    },
  })
  registry.registerMetric(
    new LatencyHistogram(
      'intentops_http_request_duration_seconds',
      'HTTP request latency by route, method and status.',
      requestStats,
    ) as unknown as Metric,
  )
  new Counter({
    name: 'intentops_predictions_total',
    help: 'Predictions by predicted intent (the fallback intent when the fallback rule fired).',
    labelNames: ['intent'] as const,
    registers: [registry],
    collect() {
      for (const c of intentCounts.values()) {
        if (c.n > c.reported) this.inc({ intent: c.intent }, c.n - c.reported)
        c.reported = c.n
      }
    },
  })
  new Counter({
    name: 'intentops_fallbacks_total',
    help: 'Predictions where the fallback rule fired; divide by intentops_predictions_total for the rate.',
    registers: [registry],
    collect() {
      if (fallbackCount > fallbacksReported) this.inc(fallbackCount - fallbacksReported)
      fallbacksReported = fallbackCount
    },
  })
  const modelInfo = new Gauge({
    name: 'intentops_model_info',
    help: 'The served model: 1 for the current name and version.',
    labelNames: ['name', 'version', 'digest', 'source'] as const,
    registers: [registry],
  })
  const loads = new Counter({
    name: 'intentops_model_loads_total',
    help: 'Model loads by result (ok, failed); a failed load leaves the old model serving.',
    labelNames: ['result'] as const,
    registers: [registry],
  })
  loads.inc({ result: 'ok' }, 0)
  loads.inc({ result: 'failed' }, 0)
  options.holder.onLoad((event) => {
    loads.inc({ result: event.ok ? 'ok' : 'failed' })
    if (event.ok && event.served) {
      modelInfo.reset()
      const s = event.served
      modelInfo.set({ name: s.name, version: s.version, digest: s.digest, source: s.source.kind }, 1)
    }
  })
  const log = options.predictionLog
  new Gauge({
    name: 'intentops_prediction_log_queue_depth',
    help: 'Predictions waiting to be written to the store.',
    registers: [registry],
    collect() {
      this.set(log?.depth ?? 0)
    },
  })
  new Gauge({
    name: 'intentops_prediction_log_dropped_total',
    help: 'Predictions dropped because the log queue was full (the store was down too long).',
    registers: [registry],
    collect() {
      this.set(log?.dropped ?? 0)
    },
  })
  new Gauge({
    name: 'intentops_prediction_log_invalid_total',
    help: 'Predictions answered but not logged because their record could never be stored (the server logs warnings).',
    registers: [registry],
    collect() {
      this.set(log?.invalid ?? 0)
    },
  })
  new Gauge({
    name: 'intentops_prediction_log_written_total',
    help: 'Predictions the store confirmed.',
    registers: [registry],
    collect() {
      this.set(log?.written ?? 0)
    },
  })
  new Gauge({
    name: 'intentops_prediction_log_behind',
    help: "1 while the log queue is falling behind (from store.writerBehindAt of its size, until back under store.writerCaughtUpAt): its writer thread then runs at the server's priority.",
    registers: [registry],
    collect() {
      this.set(log?.behind ? 1 : 0)
    },
  })
  const writer = options.logWriter
  if (writer?.cpuSeconds) {
    new Gauge({
      name: 'intentops_prediction_log_writer_cpu_seconds_total',
      help: 'CPU time the prediction log writer thread has used (Linux); per written prediction, what logging costs.',
      registers: [registry],
      collect() {
        const s = writer.cpuSeconds?.()
        if (s !== undefined) this.set(s)
      },
    })
  }
  // The keys are bounded: routes × methods × statuses (unknown URLs are all "unmatched"), and the models' intents.
  return {
    registry,
    observeRequest(route, method, status, ms) {
      const key = `${route} ${method} ${status}`
      let r = requestStats.get(key)
      if (r === undefined) {
        r = {
          labels: { route, method, status: String(status) },
          buckets: new Float64Array(LATENCY_BUCKETS.length),
          sum: 0,
          count: 0,
          reported: 0,
        }
        requestStats.set(key, r)
      }
      const seconds = ms / 1000
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        if (seconds <= LATENCY_BUCKETS[i]!) {
          r.buckets[i]!++
          break
        }
      }
      r.sum += seconds
      r.count++
    },
    observePrediction(intent, fallback) {
      let c = intentCounts.get(intent)
      if (c === undefined) {
        c = { intent, n: 0, reported: 0 }
        intentCounts.set(intent, c)
      }
      c.n++
      if (fallback) fallbackCount++
    },
  }
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const

interface RequestStats {
  labels: { route: string; method: string; status: string }
  /** Observations per bucket (not cumulative); those above the last bound are only in `count`. */
  buckets: Float64Array
  sum: number
  count: number
  /** `count` already passed to the requests counter. */
  reported: number
}

interface ValuePair {
  labels: Record<string, string | number>
  sharedLabels: Record<string, string>
  value: number
  metricName: string
  exemplar?: null
}

/**
 * A histogram prom-client's registry prints like its own (`getForPromString` returns the same value pairs as
 * prom-client's Histogram: cumulative `_bucket` lines with `le` first, then `+Inf`, `_sum` and `_count`), fed from
 * plain counts.
 */
class LatencyHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly stats: ReadonlyMap<string, RequestStats>,
  ) {}

  async getForPromString() {
    const values: ValuePair[] = []
    const bucket = `${this.name}_bucket`
    for (const r of this.stats.values()) {
      let acc = 0
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        acc += r.buckets[i]!
        values.push({
          labels: { le: LATENCY_BUCKETS[i]! },
          sharedLabels: r.labels,
          value: acc,
          metricName: bucket,
          exemplar: null,
        })
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: r.labels, value: r.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels: r.labels, value: r.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: r.labels, value: r.count, metricName: `${this.name}_count` },
      )
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  async get() {
    const data = await this.getForPromString()
    return {
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })),
    }
  }

  reset(): void {
    // Request counts are cumulative for the life of the app, as with prom-client's own histogram without resets.
  }
}
