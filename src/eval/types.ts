/**
 * The evaluation summary that gates and the registry read. Full reports carry more; this is what lineage keeps.
 * @module
 */
export interface IntentMetrics {
  precision: number
  recall: number
  f1: number
  support: number
}

export interface MustPassSummary {
  total: number
  passed: number
  failed: number
  /** Failures not marked `allow_failure`: any of these fails the gate. */
  failedRequired: number
}

export interface EvalSummary {
  /** Fingerprint of the test set, so two summaries are compared only on the same data. */
  testSetFingerprint?: string
  accuracy: number
  macroF1: number
  weightedF1: number
  perIntent: Record<string, IntentMetrics>
  mustPass?: MustPassSummary
  /** In-process prediction latency, milliseconds. */
  latencyP50Ms?: number
  latencyP99Ms?: number
  modelBytes?: number
}
