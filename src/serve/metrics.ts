/**
 * Prometheus metrics of one app instance, on its own prom-client registry (two apps in one process do not share
 * counters): requests and latency by route and status, predictions by intent, fallbacks, the served model, model
 * load failures, and the prediction log's queue depth and dropped writes.
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ModelHolder } from './model-holder.js'

export interface ServeMetrics {
  registry: Registry
  observeRequest(route: string, method: string, status: number, ms: number): void
  observePrediction(intent: string, fallback: boolean): void
}

export function createServeMetrics(options: {
  holder: ModelHolder
  predictionLog?: { readonly depth: number; readonly dropped: number; readonly written: number }
}): ServeMetrics {
  const registry = new Registry()
  const requests = new Counter({
    name: 'intentops_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'intentops_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const predictions = new Counter({
    name: 'intentops_predictions_total',
    help: 'Predictions by predicted intent (the fallback intent when the fallback rule fired).',
    labelNames: ['intent'] as const,
    registers: [registry],
  })
  const fallbacks = new Counter({
    name: 'intentops_fallbacks_total',
    help: 'Predictions where the fallback rule fired; divide by intentops_predictions_total for the rate.',
    registers: [registry],
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
    name: 'intentops_prediction_log_written_total',
    help: 'Predictions the store confirmed.',
    registers: [registry],
    collect() {
      this.set(log?.written ?? 0)
    },
  })
  // Label children cached by key: prom-client hashes a label object on every call otherwise. The keys are bounded
  // (routes × methods × statuses, and the model's intents); a swap to a model with new intents only adds entries.
  const requestChildren = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>()
  const predictionChildren = new Map<string, { inc(): void }>()
  return {
    registry,
    observeRequest(route, method, status, ms) {
      const key = `${route} ${method} ${status}`
      let child = requestChildren.get(key)
      if (!child) {
        const labels = { route, method, status: String(status) }
        child = { count: requests.labels(labels), time: latency.labels(labels) }
        if (requestChildren.size < 10_000) requestChildren.set(key, child)
      }
      child.count.inc()
      child.time.observe(ms / 1000)
    },
    observePrediction(intent, fallback) {
      let child = predictionChildren.get(intent)
      if (!child) {
        child = predictions.labels({ intent })
        if (predictionChildren.size < 10_000) predictionChildren.set(intent, child)
      }
      child.inc()
      if (fallback) fallbacks.inc()
    },
  }
}
