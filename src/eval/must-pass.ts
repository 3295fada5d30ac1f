/**
 * Must-pass behaviour tests: sentences from `tests/*.yml` the model must get right (intent, optional minimum
 * confidence, annotated entities). They are reported apart from the statistical metrics, and any failure not marked
 * `allow_failure` fails the command and the gate.
 * @module
 */
import type { MustPassCase } from '../data/types.js'
import { createError } from '../errors.js'
import type { EntityPrediction, IntentParser } from '../nlu/types.js'
import type { EntitySpan } from './entity-metrics.js'
import type { MustPassFailure, MustPassReport, MustPassResult } from './types.js'

function span(e: {
  start: number
  end: number
  entity: string
  value: string
  field?: string | undefined
}): EntitySpan {
  const s: EntitySpan = { start: e.start, end: e.end, entity: e.entity, value: e.value }
  if (e.field !== undefined) s.field = e.field
  return s
}

const sameSpan = (a: EntitySpan, b: EntitySpan) =>
  a.start === b.start && a.end === b.end && a.entity === b.entity && (a.field ?? '') === (b.field ?? '')

/** Check one case: intent (with the fallback rule, as production answers), confidence, then each entity. */
export function checkMustPass(parser: IntentParser, c: MustPassCase): MustPassResult {
  const res = parser.parse(c.fields ? { fields: c.fields } : { text: c.text }, { fallback: true })
  const failures: MustPassFailure[] = []
  if (res.intent.name !== c.intent) {
    failures.push({ kind: 'intent', expected: c.intent, actual: res.intent.name, confidence: res.intent.confidence })
  } else if (c.minConfidence !== undefined && res.intent.confidence < c.minConfidence) {
    failures.push({ kind: 'confidence', min: c.minConfidence, actual: res.intent.confidence })
  }
  const predicted = res.entities.map((e: EntityPrediction) => span(e))
  const used = new Set<number>()
  for (const g of (c.entities ?? []).map(span)) {
    const i = predicted.findIndex((p, k) => !used.has(k) && sameSpan(p, g))
    if (i === -1) {
      failures.push({ kind: 'entity-missing', expected: g })
      continue
    }
    used.add(i)
    if (predicted[i]!.value !== g.value) failures.push({ kind: 'entity-value', expected: g, actual: predicted[i]! })
  }
  const result: MustPassResult = {
    text: c.text,
    intent: c.intent,
    predicted: res.intent.name,
    confidence: res.intent.confidence,
    passed: failures.length === 0,
    allowFailure: c.allowFailure,
    failures,
    unexpectedEntities: c.entities ? predicted.filter((_, k) => !used.has(k)) : [],
  }
  if (c.fields) result.fields = c.fields
  if (c.source) result.source = c.source
  return result
}

/**
 * Run every must-pass case. `failedRequired` counts the failures that are not `allow_failure`: the command fails
 * when it is above zero.
 * @example
 * const r = runMustPass(model, await loadMustPass(['tests'], { root }))
 * if (r.failedRequired > 0) process.exitCode = 1
 */
export function runMustPass(
  parser: IntentParser,
  cases: readonly MustPassCase[],
  options: { signal?: AbortSignal } = {},
): MustPassReport {
  const results: MustPassResult[] = []
  for (const c of cases) {
    if (options.signal?.aborted) throw createError('ERR_EVAL_ABORTED', {})
    results.push(checkMustPass(parser, c))
  }
  const failed = results.filter((r) => !r.passed)
  const failedRequired = failed.filter((r) => !r.allowFailure).length
  return {
    total: results.length,
    passed: results.length - failed.length,
    failed: failed.length,
    failedRequired,
    allowedFailures: failed.length - failedRequired,
    results,
  }
}

/** One line per failure, for terminals and Markdown: what was expected and what came back. */
export function describeMustPassFailure(f: MustPassFailure): string {
  const fmt = (e: EntitySpan) => `${e.entity} "${e.value}" at ${e.field ? `${e.field}:` : ''}${e.start}-${e.end}`
  switch (f.kind) {
    case 'intent':
      return `expected intent ${f.expected}, got ${f.actual} (${f.confidence.toFixed(3)})`
    case 'confidence':
      return `confidence ${f.actual.toFixed(3)} is below the required ${f.min}`
    case 'entity-missing':
      return `missing entity ${fmt(f.expected)}`
    case 'entity-value':
      return `entity ${f.expected.entity} at ${f.expected.start}-${f.expected.end} has value "${f.actual.value}", expected "${f.expected.value}"`
  }
}
