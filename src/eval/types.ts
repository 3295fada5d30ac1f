/**
 * Evaluation types. `EvalSummary` is what gates and the registry read and what lineage keeps; `EvalReport` is the
 * full structured result of `intentops test`, written as `report.json` and rendered to Markdown and HTML.
 * @module
 */
import type { SourceRef } from '../data/types.js'
import type { Calibration, ConfidenceHistogram } from './calibration.js'
import type { EntityReport, EntitySpan } from './entity-metrics.js'
import type { ClassificationReport, ClassMetrics, ZeroDivision } from './metrics.js'

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
  /** Expected calibration error of the top confidence. */
  ece?: number
  /** Share of test messages answered with the fallback intent. */
  fallbackRate?: number
}

export const EVAL_REPORT_FORMAT = 'intentops-eval-report'
/** Bumped when a field changes meaning or disappears; readers refuse other versions. */
export const EVAL_REPORT_VERSION = 1

/** One test message and what the model answered, with and without the fallback rule. */
export interface Prediction {
  /** Stable id: equal text, fields and gold intent give equal ids (duplicates get `#2`, `#3`, ...). */
  id: string
  text: string
  fields?: Record<string, string>
  gold: string
  /** The answer with the fallback rule applied: what production returns. */
  predicted: string
  /** Confidence reported for `predicted`. */
  confidence: number
  /** The model's best intent without the fallback rule. */
  top: string
  topConfidence: number
  /** The runner-up intent without fallback, when the model knows more than one. */
  second?: { intent: string; confidence: number }
  /** Present when the test set has entity annotations or the model predicted entities. */
  goldEntities?: EntitySpan[]
  predictedEntities?: EntitySpan[]
  /** Cross-validation fold the prediction came from. */
  fold?: number
  source?: SourceRef
}

/** A wrong answer, for the error list: most confident first, since those hurt most. */
export interface PredictionError {
  id: string
  text: string
  gold: string
  predicted: string
  confidence: number
  source?: SourceRef
}

export interface ConfusionMatrix {
  /** Row and column labels: every gold and predicted intent, the fallback intent included when predicted. */
  labels: string[]
  /** `matrix[gold][predicted]` counts. */
  matrix: number[][]
}

export interface IntentEvaluation extends ClassificationReport {
  confusion: ConfusionMatrix
  /** For each gold intent, the intents it was mistaken for, most often first (at most 5). */
  confusedWith: Record<string, Array<{ intent: string; count: number }>>
}

export interface HeadlineScores {
  accuracy: number
  macroF1: number
  weightedF1: number
}

/** How the fallback rule changes the answers, and whether it catches the right ones. */
export interface FallbackReport {
  intent: string
  /** Messages answered with the fallback intent. */
  count: number
  rate: number
  /** Fallbacks on messages the model would have got wrong, or that are out of scope: mistakes caught. */
  caught: number
  /** Fallbacks on messages the model would have got right: answers lost. */
  lost: number
  /** caught / count: how many fallbacks were truly wrong or out of scope. */
  precision: number
  /** caught / (messages wrong without fallback): how many mistakes the rule catches. */
  recall: number
  /** Test messages whose gold intent is the fallback intent, and how many of them fell back. */
  outOfScope: { total: number; fellBack: number }
  withFallback: HeadlineScores
  withoutFallback: HeadlineScores
}

export interface FoldScore extends HeadlineScores {
  fold: number
  trainExamples: number
  testExamples: number
  trainingMs: number
}

export interface CrossValidationInfo {
  folds: number
  seed: number
  perFold: FoldScore[]
  mean: HeadlineScores
  /** Sample standard deviation across folds. */
  std: HeadlineScores
}

export interface LearningCurvePoint extends HeadlineScores {
  /** Percentage of the training data used. */
  percent: number
  trainExamples: number
  trainingMs: number
}

export interface LearningCurve {
  seed: number
  /** Where the scores come from: the given test set, or a stratified hold-out of the data. */
  evaluatedOn: 'test-set' | 'holdout'
  testExamples: number
  points: LearningCurvePoint[]
}

export type MustPassFailure =
  | { kind: 'intent'; expected: string; actual: string; confidence: number }
  | { kind: 'confidence'; min: number; actual: number }
  | { kind: 'entity-missing'; expected: EntitySpan }
  | { kind: 'entity-value'; expected: EntitySpan; actual: EntitySpan }

export interface MustPassResult {
  text: string
  fields?: Record<string, string>
  intent: string
  predicted: string
  confidence: number
  passed: boolean
  allowFailure: boolean
  failures: MustPassFailure[]
  /** Entities predicted that the case did not annotate; informative, never a failure. */
  unexpectedEntities: EntitySpan[]
  source?: SourceRef
}

export interface MustPassReport extends MustPassSummary {
  /** Failures marked `allow_failure`. */
  allowedFailures: number
  results: MustPassResult[]
}

/** What the model was; absent for a parser without a manifest. */
export interface ModelInfo {
  name: string
  labels: number
  dataFingerprint: string
  configFingerprint: string
  seed: number
  trainedAt: string
  /** The model file, when one was read. */
  file?: string
  fileBytes?: number
}

export interface LatencyStats {
  meanMs: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
}

/** The full, unrounded result of an evaluation. Rendering (Markdown, HTML, charts) reads only this. */
export interface EvalReport {
  format: typeof EVAL_REPORT_FORMAT
  formatVersion: typeof EVAL_REPORT_VERSION
  createdAt: string
  toolkitVersion: string
  mode: 'test-set' | 'cross-validation'
  zeroDivision: ZeroDivision
  model?: ModelInfo
  testSet: {
    /** Digest of the test examples (and, for cross-validation, of the fold plan). */
    fingerprint: string
    examples: number
    intents: number
    paths?: string[]
  }
  crossValidation?: CrossValidationInfo
  /** Intent metrics with the fallback rule applied. */
  intent: IntentEvaluation
  /** Intent metrics of the model's top intent, without the fallback rule. */
  intentWithoutFallback: ClassificationReport
  fallback: FallbackReport
  /** Top confidence without fallback, split by whether the top intent was right. */
  confidence: ConfidenceHistogram
  calibration: Calibration
  entities?: EntityReport
  errors: PredictionError[]
  predictions: Prediction[]
  latency?: LatencyStats
  mustPass?: MustPassReport
  learningCurve?: LearningCurve
}

export type { ClassMetrics }
