/**
 * Compare two versions: what changed in their lineage (data, config, code, toolkit, labels) and how their
 * evaluation metrics moved.
 * @module
 */
import type { VersionRecord } from './layout.js'

export interface FieldChange {
  field: string
  from: string | number | boolean | null
  to: string | number | boolean | null
}

export interface MetricDelta {
  metric: string
  from: number | null
  to: number | null
  /** `to - from`, when both exist. */
  delta: number | null
}

export interface VersionDiff {
  name: string
  from: number
  to: number
  /** Lineage fields that differ (unchanged ones are left out). */
  lineage: FieldChange[]
  labels: { added: string[]; removed: string[] }
  tags: FieldChange[]
  metrics: MetricDelta[]
  /** Per-intent F1 of intents that exist in either evaluation, sorted by the largest drop first. */
  intents: MetricDelta[]
  /** Whether both evaluations ran on the same test set: null when either has no evaluation or no fingerprint. */
  sameTestSet: boolean | null
}

type Scalar = string | number | boolean | null

function lineageFields(r: VersionRecord): Record<string, Scalar> {
  return {
    'blob.digest': r.blob.digest,
    'blob.size': r.blob.size,
    createdAt: r.createdAt,
    author: r.author,
    'git.commit': r.git?.commit ?? null,
    'git.dirty': r.git?.dirty ?? null,
    'git.branch': r.git?.branch ?? null,
    'training.dataFingerprint': r.training.dataFingerprint,
    'training.configFingerprint': r.training.configFingerprint,
    'training.trainedAt': r.training.trainedAt,
    'training.trainingMs': r.training.trainingMs,
    'training.examples': r.training.examples ?? null,
    'training.toolkitVersion': r.training.toolkitVersion,
    'training.nodeVersion': r.training.nodeVersion,
    'training.language': r.training.language ?? null,
    'publisher.toolkitVersion': r.publisher.toolkitVersion,
    'publisher.nodeVersion': r.publisher.nodeVersion,
    'publisher.os': r.publisher.os,
    'eval.testSetFingerprint': r.eval?.testSetFingerprint ?? null,
  }
}

function delta(metric: string, from: number | undefined | null, to: number | undefined | null): MetricDelta {
  const f = from ?? null
  const t = to ?? null
  return { metric, from: f, to: t, delta: f !== null && t !== null ? t - f : null }
}

/**
 * The differences between two version records.
 * @example
 * const d = diffVersions((await registry.readVersion('bot', 3)).record, (await registry.readVersion('bot', 4)).record)
 */
export function diffVersions(a: VersionRecord, b: VersionRecord): VersionDiff {
  const fa = lineageFields(a)
  const fb = lineageFields(b)
  const lineage: FieldChange[] = Object.keys(fa)
    .filter((k) => fa[k] !== fb[k])
    .map((k) => ({ field: k, from: fa[k]!, to: fb[k]! }))
  const la = new Set(a.training.labels ?? [])
  const lb = new Set(b.training.labels ?? [])
  const tagKeys = [...new Set([...Object.keys(a.tags), ...Object.keys(b.tags)])].sort()
  const tags = tagKeys
    .filter((k) => a.tags[k] !== b.tags[k])
    .map((k) => ({ field: k, from: a.tags[k] ?? null, to: b.tags[k] ?? null }))
  const ea = a.eval
  const eb = b.eval
  const metrics = [
    delta('accuracy', ea?.accuracy, eb?.accuracy),
    delta('macroF1', ea?.macroF1, eb?.macroF1),
    delta('weightedF1', ea?.weightedF1, eb?.weightedF1),
    delta('mustPass.failedRequired', ea?.mustPass?.failedRequired, eb?.mustPass?.failedRequired),
    delta('latencyP99Ms', ea?.latencyP99Ms, eb?.latencyP99Ms),
    delta('modelBytes', a.blob.size, b.blob.size),
  ]
  const intentNames = [...new Set([...Object.keys(ea?.perIntent ?? {}), ...Object.keys(eb?.perIntent ?? {})])]
  const intents = intentNames
    .map((i) => delta(i, ea?.perIntent[i]?.f1, eb?.perIntent[i]?.f1))
    .sort((x, y) => (x.delta ?? 0) - (y.delta ?? 0) || (x.metric < y.metric ? -1 : 1))
  const fpA = ea?.testSetFingerprint
  const fpB = eb?.testSetFingerprint
  return {
    name: a.name,
    from: a.version,
    to: b.version,
    lineage,
    labels: { added: [...lb].filter((l) => !la.has(l)).sort(), removed: [...la].filter((l) => !lb.has(l)).sort() },
    tags,
    metrics,
    intents,
    sameTestSet: fpA && fpB ? fpA === fpB : null,
  }
}
