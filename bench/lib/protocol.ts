/**
 * The protocol between the benchmark orchestrator and each system under test. Every system runs in its own process:
 * it reads one `PeerRequest` as JSON on stdin, prints one `PeerResult` as JSON on stdout, and reports progress on
 * stderr as `progress {json}` lines. The Python peers implement the same protocol in `bench/peers/peer_common.py`.
 * @module
 */

export interface PeerRequest {
  /** System id, e.g. `sklearn-linearsvc`. */
  system: string
  /** Dataset name, for messages. */
  dataset: string
  /** Absolute paths of the JSONL splits. `valid` is null when the dataset has none. */
  train: string
  valid: string | null
  test: string
  /** A fresh directory the peer writes its model file (and any scratch files) into. */
  workDir: string
  seed: number
  /** Messages predicted untimed before the timed test pass, so every system is measured warm. */
  warmup: number
  /** The dataset's out-of-scope label, or null. A system with its own "none" answer maps it to this label. */
  oosLabel: string | null
  /** System-specific settings; empty means the defaults documented in the peer. */
  options: Record<string, unknown>
}

/** One entity span found by a system; offsets are UTF-16 code units into the message text, end exclusive. */
export interface PeerEntity {
  start: number
  end: number
  entity: string
  value: string
}

export interface PeerPrediction {
  label: string
  /** Confidence of the top label in [0, 1], or null for systems without probabilities. */
  confidence: number | null
  entities?: PeerEntity[]
}

export interface PeerResult {
  /** Library and version, e.g. `scikit-learn 1.2.1`. */
  version: string
  /** The settings the peer trained with, for the record. */
  settings: Record<string, unknown>
  /** Wall time of training alone (no data loading, no saving), in milliseconds. */
  trainMs: number
  /** Size of the saved model file in bytes. */
  modelBytes: number
  /** Peak resident set size of the peer process over its whole run. */
  peakRssBytes: number
  /** One in-process latency sample per test message, in test order, in milliseconds. */
  latencyMs: number[]
  /** Predictions for every test message, in file order. */
  test: PeerPrediction[]
  /** Predictions for every valid message, or null when the dataset has no valid split. */
  valid: PeerPrediction[] | null
}

/** A progress event a peer writes to stderr as `progress {json}`. */
export interface PeerProgress {
  phase: 'load' | 'train' | 'valid' | 'test' | string
  done?: number
  total?: number
}

export const PROGRESS_PREFIX = 'progress '

/** Check the shape of a peer's output, so a broken peer fails loudly instead of producing wrong metrics. */
export function validatePeerResult(value: unknown, testSize: number, validSize: number | null): string[] {
  const problems: string[] = []
  if (value === null || typeof value !== 'object') return ['the result is not a JSON object']
  const r = value as Record<string, unknown>
  for (const key of ['trainMs', 'modelBytes', 'peakRssBytes'] as const) {
    if (typeof r[key] !== 'number' || !Number.isFinite(r[key]) || (r[key] as number) < 0) {
      problems.push(`\`${key}\` must be a non-negative number`)
    }
  }
  if (typeof r.version !== 'string') problems.push('`version` must be a string')
  if (!Array.isArray(r.latencyMs) || r.latencyMs.length !== testSize) {
    problems.push(`\`latencyMs\` must hold one sample per test message (${testSize})`)
  }
  checkPredictions(r.test, testSize, 'test', problems)
  if (validSize !== null) checkPredictions(r.valid, validSize, 'valid', problems)
  return problems
}

function checkPredictions(value: unknown, size: number, name: string, problems: string[]): void {
  if (!Array.isArray(value) || value.length !== size) {
    problems.push(`\`${name}\` must hold one prediction per ${name} message (${size})`)
    return
  }
  const bad = value.findIndex(
    (p) =>
      p === null ||
      typeof p !== 'object' ||
      typeof p.label !== 'string' ||
      !(p.confidence === null || (typeof p.confidence === 'number' && Number.isFinite(p.confidence))),
  )
  if (bad !== -1) problems.push(`\`${name}[${bad}]\` needs a string \`label\` and a number or null \`confidence\``)
}
