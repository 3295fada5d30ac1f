/**
 * The summary gates and lineage keep: headline scores, per-intent scores, must-pass counts, latency.
 * @module
 */
import type { EvalReport, EvalSummary, IntentMetrics } from './types.js'

/**
 * Reduce a full report to the `EvalSummary` the registry gates read.
 * @example
 * const summary = summarize(await evaluate(model, test.examples))
 * if (summary.macroF1 < 0.8) ...
 */
export function summarize(report: EvalReport): EvalSummary {
  const perIntent: Record<string, IntentMetrics> = {}
  for (const [label, m] of Object.entries(report.intent.perLabel)) {
    perIntent[label] = { precision: m.precision, recall: m.recall, f1: m.f1, support: m.support }
  }
  const summary: EvalSummary = {
    testSetFingerprint: report.testSet.fingerprint,
    accuracy: report.intent.accuracy,
    macroF1: report.intent.macroAvg.f1,
    weightedF1: report.intent.weightedAvg.f1,
    perIntent,
    ece: report.calibration.ece,
    fallbackRate: report.fallback.rate,
  }
  if (report.mustPass) {
    const { total, passed, failed, failedRequired } = report.mustPass
    summary.mustPass = { total, passed, failed, failedRequired }
  }
  if (report.latency) {
    summary.latencyP50Ms = report.latency.p50Ms
    summary.latencyP99Ms = report.latency.p99Ms
  }
  if (report.model?.fileBytes !== undefined) summary.modelBytes = report.model.fileBytes
  return summary
}
