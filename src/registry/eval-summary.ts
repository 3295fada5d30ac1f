/**
 * The schema of an `EvalSummary` as the registry stores it in version records, and reading one from a file given
 * with `--eval` (a `report.json` of `intentops test`, or a bare summary), checked against the model it claims to
 * evaluate.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { createError } from '../errors.js'
import { EVAL_REPORT_FORMAT, type EvalSummary } from '../eval/types.js'
import { readTextFile } from '../util/fs.js'
import type { TrainingLineage } from './layout.js'

const Rate = Type.Number({ minimum: 0, maximum: 1 })

export const IntentMetricsSchema = Type.Object({
  precision: Rate,
  recall: Rate,
  f1: Rate,
  support: Type.Integer({ minimum: 0 }),
})

export const MustPassSummarySchema = Type.Object({
  total: Type.Integer({ minimum: 0 }),
  passed: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  failedRequired: Type.Integer({ minimum: 0 }),
})

/** `EvalSummary` of `src/eval/types.ts` as a schema; unknown keys are kept for forward compatibility. */
export const EvalSummarySchema = Type.Object({
  testSetFingerprint: Type.Optional(Type.String()),
  accuracy: Rate,
  macroF1: Rate,
  weightedF1: Rate,
  perIntent: Type.Record(Type.String(), IntentMetricsSchema),
  mustPass: Type.Optional(MustPassSummarySchema),
  latencyP50Ms: Type.Optional(Type.Number({ minimum: 0 })),
  latencyP99Ms: Type.Optional(Type.Number({ minimum: 0 })),
  modelBytes: Type.Optional(Type.Integer({ minimum: 0 })),
})

// Compile-time check that the schema and the eval module's interface agree.
type SchemaSummary = Static<typeof EvalSummarySchema>
const _sameShape: (s: SchemaSummary) => EvalSummary = (s) => s
void _sameShape

/** The first problem of `value` against `schema`, as `path: message`, or undefined when it is valid. */
export function firstSchemaProblem(schema: Parameters<typeof Value.Check>[0], value: unknown): string | undefined {
  if (Value.Check(schema, value)) return undefined
  const first = Value.Errors(schema, value).First()
  if (!first) return 'does not match the schema'
  return `${first.path || '/'}: ${first.message.toLowerCase()}`
}

/** Turn parsed JSON into an `EvalSummary`: a bare summary, or an object with a `summary` member. */
export function toEvalSummary(value: unknown, source: string): EvalSummary {
  if (Value.Check(EvalSummarySchema, value)) return value
  const inner = (value as { summary?: unknown } | null)?.summary
  if (inner !== undefined && Value.Check(EvalSummarySchema, inner)) return inner
  const detail =
    firstSchemaProblem(EvalSummarySchema, inner !== undefined ? inner : value) ?? 'not an evaluation summary'
  throw createError('ERR_REGISTRY_EVAL_INVALID', { path: source, detail })
}

/** Evaluation reports keep every prediction, so they may be large; the evaluation module reads up to this. */
const MAX_EVAL_FILE_BYTES = 512 * 1024 * 1024

/** An evaluation read from a file, with the identity of the model it evaluated when the file records it. */
export interface Evaluation {
  summary: EvalSummary
  /** From a full report of a model file; null for bare summaries and cross-validation reports. */
  model: { dataFingerprint: string; configFingerprint: string; trainedAt: string } | null
  source: string
}

/**
 * Read `--eval`: a `report.json` of `intentops test` (summarized with the evaluation module's `summarize`), a bare
 * `EvalSummary`, or an object with a `summary` member.
 * @example
 * const evaluation = await readEvaluation('results/report.json')
 * assertEvaluates(evaluation, trainingLineage(manifest), 'models/bot.iom')
 */
export async function readEvaluation(file: string): Promise<Evaluation> {
  const text = await readTextFile(file, { maxBytes: MAX_EVAL_FILE_BYTES })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw createError('ERR_REGISTRY_EVAL_INVALID', { path: file, detail: 'not valid JSON' }, { cause: err })
  }
  if ((value as { format?: unknown } | null)?.format === EVAL_REPORT_FORMAT) {
    // Loaded on demand: the report reader brings the renderers along, which servers reading the registry never need.
    const [{ parseReport }, { summarize }] = await Promise.all([
      import('../eval/report-files.js'),
      import('../eval/summary.js'),
    ])
    const report = parseReport(text, file)
    const m = report.model
    return {
      summary: summarize(report),
      model: m
        ? { dataFingerprint: m.dataFingerprint, configFingerprint: m.configFingerprint, trainedAt: m.trainedAt }
        : null,
      source: file,
    }
  }
  return { summary: toEvalSummary(value, file), model: null, source: file }
}

/**
 * Throw `ERR_REGISTRY_EVAL_MISMATCH` when the evaluation names a model other than the one it is attached to (its
 * training data, config or training time differ), so no model is promoted on another model's scores.
 */
export function assertEvaluates(evaluation: Evaluation, training: TrainingLineage, what: string): void {
  const m = evaluation.model
  if (!m) return
  const differences: string[] = []
  const check = (label: string, reported: string, actual: string | null) => {
    if (actual !== null && reported !== actual) differences.push(`${label} ${reported}, not ${actual}`)
  }
  check('trained at', m.trainedAt, training.trainedAt)
  check('data', m.dataFingerprint, training.dataFingerprint)
  check('config', m.configFingerprint, training.configFingerprint)
  if (differences.length > 0) {
    throw createError('ERR_REGISTRY_EVAL_MISMATCH', {
      path: evaluation.source,
      what,
      detail: differences.join('; '),
    })
  }
}
