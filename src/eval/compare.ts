/**
 * The differential test between two models evaluated on the same test set (the one in production and a
 * candidate): metric deltas overall and per intent, regressions first; the predictions that changed; and
 * McNemar's paired test to tell a real difference from noise.
 * @module
 */
import { createError } from '../errors.js'
import { compareLabels } from './metrics.js'
import { type McNemarResult, mcnemar } from './significance.js'
import type { ClassMetrics, EvalReport, ModelInfo, Prediction } from './types.js'

/** `format` of a comparison JSON; readers check it with `formatVersion`. */
export const COMPARISON_FORMAT = 'intentops-comparison'
export const COMPARISON_VERSION = 1

export interface MetricDelta {
  metric: string
  a: number
  b: number
  /** b − a. */
  delta: number
  /** Whether a larger value is better (false for error rates and latency). */
  higherIsBetter: boolean
}

/**
 * - `broken`: A recognised the intent (recall > 0) and B never does;
 * - `regressed` / `improved`: F1 went down / up;
 * - `new` / `removed`: the intent appears in only one of the reports.
 */
export type IntentChange = 'broken' | 'regressed' | 'improved' | 'unchanged' | 'new' | 'removed'

export interface IntentDelta {
  intent: string
  status: IntentChange
  a?: ClassMetrics
  b?: ClassMetrics
  /** F1 of B minus F1 of A (a missing side counts as 0). */
  deltaF1: number
  /** Paired examples of this gold intent that B fixed / broke. */
  fixed: number
  broken: number
}

export interface ChangedPrediction {
  id: string
  text: string
  gold: string
  a: { intent: string; confidence: number }
  b: { intent: string; confidence: number }
}

export interface MustPassDelta {
  a: { passed: number; total: number }
  b: { passed: number; total: number }
  /** Cases A passed and B fails. */
  newlyFailing: string[]
  /** Cases A failed and B passes. */
  newlyPassing: string[]
}

export type Verdict = 'no significant difference' | 'B is significantly better' | 'B is significantly worse'

export interface ComparisonSide {
  /** How the side was named on the command line (file path) or by the caller. */
  label: string
  model?: ModelInfo
  createdAt: string
}

/** The result of `compareReports`: written as `comparison.json` and rendered to Markdown. */
export interface Comparison {
  format: typeof COMPARISON_FORMAT
  formatVersion: typeof COMPARISON_VERSION
  a: ComparisonSide
  b: ComparisonSide
  testSet: { fingerprint: string; examples: number }
  overall: MetricDelta[]
  /** Regressions first (broken, then by F1 drop), then new / removed, improvements, unchanged. */
  perIntent: IntentDelta[]
  changes: {
    /** A wrong, B right. */
    fixed: ChangedPrediction[]
    /** A right, B wrong. */
    broken: ChangedPrediction[]
    /** Both wrong, with different answers. */
    changedStillWrong: ChangedPrediction[]
    unchanged: number
  }
  mcnemar: McNemarResult
  verdict: Verdict
  mustPass?: MustPassDelta
  /** Predictions present in only one report (zero when fingerprints match). */
  unpaired: number
}

/** Options of `compareReports`. */
export interface CompareOptions {
  /** Significance level of McNemar's test. Default 0.05. */
  alpha?: number
  labelA?: string
  labelB?: string
  /** F1 changes smaller than this count as unchanged. Default 1e-9. */
  tolerance?: number
}

const STATUS_ORDER: Record<IntentChange, number> = {
  broken: 0,
  regressed: 1,
  removed: 2,
  new: 3,
  improved: 4,
  unchanged: 5,
}

/**
 * Compare two reports on the same test set. Throws ERR_EVAL_TEST_SET_MISMATCH when their test-set fingerprints
 * differ.
 * @example
 * const c = compareReports(productionReport, candidateReport)
 * if (c.verdict === 'B is significantly worse') ...
 */
export function compareReports(a: EvalReport, b: EvalReport, options: CompareOptions = {}): Comparison {
  const labelA = options.labelA ?? 'A'
  const labelB = options.labelB ?? 'B'
  if (a.testSet.fingerprint !== b.testSet.fingerprint) {
    throw createError('ERR_EVAL_TEST_SET_MISMATCH', {
      a: labelA,
      b: labelB,
      fa: a.testSet.fingerprint.slice(0, 19),
      fb: b.testSet.fingerprint.slice(0, 19),
    })
  }
  const tolerance = options.tolerance ?? 1e-9
  const byId = new Map<string, Prediction>(b.predictions.map((p) => [p.id, p]))
  const fixed: ChangedPrediction[] = []
  const broken: ChangedPrediction[] = []
  const still: ChangedPrediction[] = []
  let unchanged = 0
  let paired = 0
  const fixedBy = new Map<string, number>()
  const brokenBy = new Map<string, number>()
  for (const pa of a.predictions) {
    const pb = byId.get(pa.id)
    if (!pb) continue
    paired++
    if (pa.predicted === pb.predicted) {
      unchanged++
      continue
    }
    const change: ChangedPrediction = {
      id: pa.id,
      text: pa.text,
      gold: pa.gold,
      a: { intent: pa.predicted, confidence: pa.confidence },
      b: { intent: pb.predicted, confidence: pb.confidence },
    }
    const aRight = pa.predicted === pa.gold
    const bRight = pb.predicted === pb.gold
    if (!aRight && bRight) {
      fixed.push(change)
      fixedBy.set(pa.gold, (fixedBy.get(pa.gold) ?? 0) + 1)
    } else if (aRight && !bRight) {
      broken.push(change)
      brokenBy.set(pa.gold, (brokenBy.get(pa.gold) ?? 0) + 1)
    } else still.push(change)
  }
  const byConfidence = (x: ChangedPrediction, y: ChangedPrediction) =>
    y.b.confidence - x.b.confidence || compareLabels(x.id, y.id)
  fixed.sort(byConfidence)
  broken.sort(byConfidence)
  still.sort(byConfidence)

  const test = mcnemar(broken.length, fixed.length, options.alpha === undefined ? {} : { alpha: options.alpha })
  const verdict: Verdict = !test.significant
    ? 'no significant difference'
    : fixed.length > broken.length
      ? 'B is significantly better'
      : 'B is significantly worse'

  const comparison: Comparison = {
    format: COMPARISON_FORMAT,
    formatVersion: COMPARISON_VERSION,
    a: side(a, labelA),
    b: side(b, labelB),
    testSet: { fingerprint: a.testSet.fingerprint, examples: a.testSet.examples },
    overall: overallDeltas(a, b),
    perIntent: intentDeltas(a, b, fixedBy, brokenBy, tolerance),
    changes: { fixed, broken, changedStillWrong: still, unchanged },
    mcnemar: test,
    verdict,
    unpaired: a.predictions.length + b.predictions.length - 2 * paired,
  }
  const mp = mustPassDelta(a, b)
  if (mp) comparison.mustPass = mp
  return comparison
}

function side(r: EvalReport, label: string): ComparisonSide {
  const s: ComparisonSide = { label, createdAt: r.createdAt }
  if (r.model) s.model = r.model
  return s
}

function overallDeltas(a: EvalReport, b: EvalReport): MetricDelta[] {
  const rows: MetricDelta[] = []
  const add = (metric: string, x: number | undefined, y: number | undefined, higherIsBetter = true) => {
    if (x === undefined || y === undefined) return
    rows.push({ metric, a: x, b: y, delta: y - x, higherIsBetter })
  }
  add('accuracy', a.intent.accuracy, b.intent.accuracy)
  add('macro F1', a.intent.macroAvg.f1, b.intent.macroAvg.f1)
  add('weighted F1', a.intent.weightedAvg.f1, b.intent.weightedAvg.f1)
  add('macro precision', a.intent.macroAvg.precision, b.intent.macroAvg.precision)
  add('macro recall', a.intent.macroAvg.recall, b.intent.macroAvg.recall)
  add('accuracy without fallback', a.intentWithoutFallback.accuracy, b.intentWithoutFallback.accuracy)
  add('fallback rate', a.fallback.rate, b.fallback.rate, false)
  add('ECE', a.calibration.ece, b.calibration.ece, false)
  add('entity F1 (exact span, micro)', a.entities?.exact.micro.f1, b.entities?.exact.micro.f1)
  add('latency p99 (ms)', a.latency?.p99Ms, b.latency?.p99Ms, false)
  return rows
}

function intentDeltas(
  a: EvalReport,
  b: EvalReport,
  fixedBy: Map<string, number>,
  brokenBy: Map<string, number>,
  tolerance: number,
): IntentDelta[] {
  const intents = [...new Set([...Object.keys(a.intent.perLabel), ...Object.keys(b.intent.perLabel)])]
  const rows = intents.map((intent): IntentDelta => {
    const ma = a.intent.perLabel[intent]
    const mb = b.intent.perLabel[intent]
    const deltaF1 = (mb?.f1 ?? 0) - (ma?.f1 ?? 0)
    let status: IntentChange
    if (!ma) status = 'new'
    else if (!mb) status = 'removed'
    else if (ma.support > 0 && ma.recall > 0 && mb.recall === 0) status = 'broken'
    else if (deltaF1 < -tolerance) status = 'regressed'
    else if (deltaF1 > tolerance) status = 'improved'
    else status = 'unchanged'
    const row: IntentDelta = {
      intent,
      status,
      deltaF1,
      fixed: fixedBy.get(intent) ?? 0,
      broken: brokenBy.get(intent) ?? 0,
    }
    if (ma) row.a = ma
    if (mb) row.b = mb
    return row
  })
  return rows.sort(
    (x, y) =>
      STATUS_ORDER[x.status] - STATUS_ORDER[y.status] ||
      (x.status === 'improved' ? y.deltaF1 - x.deltaF1 : x.deltaF1 - y.deltaF1) ||
      compareLabels(x.intent, y.intent),
  )
}

function mustPassDelta(a: EvalReport, b: EvalReport): MustPassDelta | undefined {
  if (!a.mustPass || !b.mustPass) return undefined
  const key = (r: { text: string; intent: string }) => `${r.intent}\u0000${r.text}`
  const passedA = new Map(a.mustPass.results.map((r) => [key(r), r.passed]))
  const newlyFailing: string[] = []
  const newlyPassing: string[] = []
  for (const r of b.mustPass.results) {
    const before = passedA.get(key(r))
    if (before === true && !r.passed) newlyFailing.push(r.text)
    if (before === false && r.passed) newlyPassing.push(r.text)
  }
  return {
    a: { passed: a.mustPass.passed, total: a.mustPass.total },
    b: { passed: b.mustPass.passed, total: b.mustPass.total },
    newlyFailing,
    newlyPassing,
  }
}
