/**
 * The schema of an `EvalSummary` as the registry stores it in version records, and reading one from a file given
 * with `--eval` (a `report.json` of `intentops test`, or a bare summary).
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { createError } from '../errors.js'
import type { EvalSummary } from '../eval/types.js'

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

/**
 * Turn parsed JSON into an `EvalSummary`: a bare summary, or a report with a `summary` member. `summarize`, when
 * given, converts a full evaluation report that has no ready summary.
 */
export function toEvalSummary(
  value: unknown,
  source: string,
  summarize?: (report: unknown) => EvalSummary,
): EvalSummary {
  if (Value.Check(EvalSummarySchema, value)) return value
  const inner = (value as { summary?: unknown } | null)?.summary
  if (inner !== undefined && Value.Check(EvalSummarySchema, inner)) return inner
  if (summarize && value && typeof value === 'object') {
    try {
      const summary = summarize(value)
      const problem = firstSchemaProblem(EvalSummarySchema, summary)
      if (!problem) return summary
    } catch (err) {
      throw createError(
        'ERR_REGISTRY_EVAL_INVALID',
        { path: source, detail: (err as Error).message ?? String(err) },
        { cause: err },
      )
    }
  }
  const detail =
    firstSchemaProblem(EvalSummarySchema, inner !== undefined ? inner : value) ?? 'not an evaluation summary'
  throw createError('ERR_REGISTRY_EVAL_INVALID', { path: source, detail })
}
