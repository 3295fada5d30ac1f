/**
 * Evaluation of an intent parser on a test set: `predictExamples` runs the parser, `buildReport` turns predictions
 * into the structured `EvalReport`. Cross-validation pools the predictions of every fold into one report.
 * @module
 */
import { createHash } from 'node:crypto'
import { canonicalExample } from '../data/fingerprint.js'
import type { Example } from '../data/types.js'
import { createError } from '../errors.js'
import type { IntentParser, ParseResult, TrainedModel } from '../nlu/types.js'
import { VERSION } from '../version.js'
import { calibration, confidenceHistogram, quantile } from './calibration.js'
import { type EntitySpan, entityMetrics } from './entity-metrics.js'
import {
  type ClassificationReport,
  classificationReport,
  compareLabels,
  confusedWith,
  confusionMatrix,
  LabelIndex,
  type ZeroDivision,
} from './metrics.js'
import {
  type CrossValidationInfo,
  EVAL_REPORT_FORMAT,
  EVAL_REPORT_VERSION,
  type EvalReport,
  type FallbackReport,
  type HeadlineScores,
  type LatencyStats,
  type ModelInfo,
  type Prediction,
  type PredictionError,
} from './types.js'

/** The fallback intent Rasa and intentops use when a model file does not say otherwise. */
export const DEFAULT_FALLBACK_INTENT = 'nlu_fallback'

export interface PredictOptions {
  /** Called every few examples with the number done. */
  onProgress?: (done: number, total: number) => void
  signal?: AbortSignal
  /** Tag every prediction with this cross-validation fold. */
  fold?: number
}

export interface PredictResult {
  predictions: Prediction[]
  /** Milliseconds per `parse` call (with fallback), in example order. */
  latenciesMs: Float64Array
}

/** Stable ids for test examples: a digest of what the example is, plus an occurrence number for duplicates. */
export function exampleIds(examples: readonly Example[]): string[] {
  const seen = new Map<string, number>()
  return examples.map((ex) => {
    const digest = createHash('sha256').update(canonicalExample(ex)).digest('hex').slice(0, 16)
    const n = (seen.get(digest) ?? 0) + 1
    seen.set(digest, n)
    return n === 1 ? digest : `${digest}#${n}`
  })
}

/**
 * Digest of a test set: independent of example order and file layout. `plan` adds how it was used (for example
 * the fold count and seed of a cross-validation), since the same data split differently is not the same test.
 */
export function fingerprintTestSet(examples: readonly Example[], plan?: string): string {
  const h = createHash('sha256').update('intentops-test-set/1\n')
  if (plan) h.update(`plan:${plan}\n`)
  for (const line of examples.map(canonicalExample).sort(compareLabels)) h.update(line).update('\n')
  return `sha256:${h.digest('hex')}`
}

function toSpan(e: {
  start: number
  end: number
  entity: string
  value: string
  field?: string | undefined
}): EntitySpan {
  return e.field === undefined
    ? { start: e.start, end: e.end, entity: e.entity, value: e.value }
    : { start: e.start, end: e.end, entity: e.entity, value: e.value, field: e.field }
}

/** The fallback intent of a model file, or the default for a parser without a manifest. */
export function fallbackIntentOf(parser: IntentParser): string {
  const manifest = (parser as Partial<TrainedModel>).manifest
  return manifest?.fallback?.intent ?? DEFAULT_FALLBACK_INTENT
}

/**
 * Parse every example with the fallback rule, timing each call; the model's own top intent comes from the ranking.
 * Yields to the event loop every few examples so progress can be drawn and `signal` honoured.
 */
export async function predictExamples(
  parser: IntentParser,
  examples: readonly Example[],
  options: PredictOptions = {},
): Promise<PredictResult> {
  const ids = exampleIds(examples)
  const predictions: Prediction[] = []
  const latenciesMs = new Float64Array(examples.length)
  const withEntities = examples.some((ex) => ex.entities.length > 0)
  const fallbackIntent = fallbackIntentOf(parser)
  // The full ranking of a fallback answer still lists the model's own intents, so one parse gives both answers;
  // a model that learned the fallback intent as a class needs a second parse without the rule.
  const rankingIsEnough = !parser.labels.includes(fallbackIntent)
  for (let i = 0; i < examples.length; i++) {
    if (i % 64 === 0) {
      if (options.signal?.aborted) throw createError('ERR_EVAL_ABORTED', {})
      options.onProgress?.(i, examples.length)
      await new Promise<void>((r) => setImmediate(r))
    }
    const ex = examples[i]!
    const message = ex.fields ? { fields: ex.fields } : { text: ex.text }
    const t0 = performance.now()
    // three: the fallback intent may head the ranking, and the model's own best two follow
    const res: ParseResult = parser.parse(message, { fallback: true, topK: 3 })
    latenciesMs[i] = performance.now() - t0
    const ranking = rankingIsEnough
      ? res.intent_ranking.filter((r) => r.name !== fallbackIntent)
      : parser.parse(message, { fallback: false, topK: 2 }).intent_ranking
    const top = ranking[0] ?? res.intent
    const second = ranking[1]
    const p: Prediction = {
      id: ids[i]!,
      text: ex.text,
      gold: ex.intent,
      predicted: res.intent.name,
      confidence: res.intent.confidence,
      top: top.name,
      topConfidence: top.confidence,
    }
    if (ex.fields) p.fields = ex.fields
    if (second) p.second = { intent: second.name, confidence: second.confidence }
    if (withEntities || res.entities.length > 0) {
      p.goldEntities = ex.entities.map(toSpan)
      p.predictedEntities = res.entities.map(toSpan)
    }
    if (options.fold !== undefined) p.fold = options.fold
    if (ex.source) p.source = ex.source
    predictions.push(p)
  }
  options.onProgress?.(examples.length, examples.length)
  return { predictions, latenciesMs }
}

export interface BuildReportOptions {
  mode?: EvalReport['mode']
  fallbackIntent?: string
  zeroDivision?: ZeroDivision
  /** Confidence bins for the histogram and calibration. Default 10. */
  bins?: number
  testSetFingerprint: string
  testPaths?: string[]
  model?: ModelInfo
  crossValidation?: Omit<CrossValidationInfo, 'mean' | 'std'>
  latenciesMs?: ArrayLike<number>
  /** Fixed creation time, for reproducible reports. Default now. */
  createdAt?: string
}

/** Accuracy, macro-F1 and weighted-F1 of a set of predictions, with fallback applied (or not). */
export function headlineScores(
  predictions: readonly Prediction[],
  fallbackIntent = DEFAULT_FALLBACK_INTENT,
  withFallback = true,
  zeroDivision: ZeroDivision = 0,
): HeadlineScores {
  const r = intentReport(predictions, fallbackIntent, withFallback, zeroDivision)
  return { accuracy: r.accuracy, macroF1: r.macroAvg.f1, weightedF1: r.weightedAvg.f1 }
}

/**
 * The intent classification report. Labels are every gold and predicted intent, except the fallback intent when
 * no test message is labelled with it: a fallback is a wrong answer for its gold intent, not a class of its own.
 */
function intentReport(
  predictions: readonly Prediction[],
  fallbackIntent: string,
  withFallback: boolean,
  zeroDivision: ZeroDivision,
): ClassificationReport {
  const gold = predictions.map((p) => p.gold)
  const pred = predictions.map((p) => (withFallback ? p.predicted : p.top))
  const goldSet = new Set(gold)
  const labels = [...new Set([...gold, ...pred])]
    .filter((l) => l !== fallbackIntent || goldSet.has(l))
    .sort(compareLabels)
  return classificationReport(gold, pred, { labels, zeroDivision })
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length
}

function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return 0
  const m = mean(xs)
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) * (x - m), 0) / (xs.length - 1))
}

/** Mean and sample standard deviation of headline scores (across folds or seeds). */
export function meanAndStd(scores: readonly HeadlineScores[]): { mean: HeadlineScores; std: HeadlineScores } {
  const pick = (k: keyof HeadlineScores) => scores.map((s) => s[k])
  return {
    mean: { accuracy: mean(pick('accuracy')), macroF1: mean(pick('macroF1')), weightedF1: mean(pick('weightedF1')) },
    std: {
      accuracy: sampleStd(pick('accuracy')),
      macroF1: sampleStd(pick('macroF1')),
      weightedF1: sampleStd(pick('weightedF1')),
    },
  }
}

/** Mean and p50 / p90 / p99 of per-message parse times. */
export function latencyStats(latenciesMs: ArrayLike<number>): LatencyStats {
  const sorted = Float64Array.from(latenciesMs).sort()
  return {
    meanMs: sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length,
    p50Ms: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
  }
}

/** Compute every metric from predictions. Pure: equal predictions and options give an equal report. */
export function buildReport(predictions: readonly Prediction[], options: BuildReportOptions): EvalReport {
  const fallbackIntent = options.fallbackIntent ?? DEFAULT_FALLBACK_INTENT
  const zeroDivision = options.zeroDivision ?? 0
  const bins = options.bins ?? 10
  const withFb = intentReport(predictions, fallbackIntent, true, zeroDivision)
  const withoutFb = intentReport(predictions, fallbackIntent, false, zeroDivision)

  const matrixIndex = new LabelIndex(withFb.labels)
  for (const p of predictions) matrixIndex.id(p.predicted)
  const k = matrixIndex.size
  const goldIdx = Int32Array.from(predictions, (p) => matrixIndex.id(p.gold))
  const predIdx = Int32Array.from(predictions, (p) => matrixIndex.id(p.predicted))
  const flat = confusionMatrix(goldIdx, predIdx, k)
  const matrix = Array.from({ length: k }, (_, r) => Array.from(flat.subarray(r * k, (r + 1) * k)))

  const topConf = Float64Array.from(predictions, (p) => p.topConfidence)
  const topRight = predictions.map((p) => p.top === p.gold)

  const errors: PredictionError[] = predictions
    .filter((p) => p.predicted !== p.gold)
    .map((p) => {
      const e: PredictionError = {
        id: p.id,
        text: p.text,
        gold: p.gold,
        predicted: p.predicted,
        confidence: p.confidence,
      }
      if (p.source) e.source = p.source
      return e
    })
    .sort((a, b) => b.confidence - a.confidence || compareLabels(a.id, b.id))

  const hasEntities = predictions.some((p) => p.goldEntities !== undefined)
  const report: EvalReport = {
    format: EVAL_REPORT_FORMAT,
    formatVersion: EVAL_REPORT_VERSION,
    createdAt: options.createdAt ?? new Date().toISOString(),
    toolkitVersion: VERSION,
    mode: options.mode ?? 'test-set',
    zeroDivision,
    testSet: {
      fingerprint: options.testSetFingerprint,
      examples: predictions.length,
      intents: new Set(predictions.map((p) => p.gold)).size,
      ...(options.testPaths ? { paths: options.testPaths } : {}),
    },
    intent: {
      ...withFb,
      confusion: { labels: matrixIndex.labels, matrix },
      confusedWith: confusedWith(matrixIndex.labels, flat, 5),
    },
    intentWithoutFallback: withoutFb,
    fallback: fallbackReport(predictions, fallbackIntent, withFb, withoutFb),
    confidence: confidenceHistogram(topConf, topRight, bins),
    calibration: calibration(topConf, topRight, bins),
    errors,
    predictions: [...predictions],
  }
  if (options.model) report.model = options.model
  if (options.crossValidation) {
    report.crossValidation = { ...options.crossValidation, ...meanAndStd(options.crossValidation.perFold) }
  }
  if (options.testPaths) report.testSet.paths = options.testPaths
  if (hasEntities) {
    report.entities = entityMetrics(
      predictions.map((p) => ({
        text: p.text,
        ...(p.fields ? { fields: p.fields } : {}),
        gold: p.goldEntities ?? [],
        predicted: p.predictedEntities ?? [],
      })),
      zeroDivision,
    )
  }
  if (options.latenciesMs && options.latenciesMs.length > 0) report.latency = latencyStats(options.latenciesMs)
  return report
}

function fallbackReport(
  predictions: readonly Prediction[],
  intent: string,
  withFb: ClassificationReport,
  withoutFb: ClassificationReport,
): FallbackReport {
  let count = 0
  let caught = 0
  let lost = 0
  let wrongWithout = 0
  let oosTotal = 0
  let oosFellBack = 0
  for (const p of predictions) {
    const fellBack = p.predicted === intent && p.top !== intent
    const outOfScope = p.gold === intent
    const wrong = p.top !== p.gold
    if (wrong) wrongWithout++
    if (outOfScope) {
      oosTotal++
      if (p.predicted === intent) oosFellBack++
    }
    if (!fellBack) continue
    count++
    if (wrong) caught++
    else lost++
  }
  const n = predictions.length
  return {
    intent,
    count,
    rate: n === 0 ? 0 : count / n,
    caught,
    lost,
    precision: count === 0 ? 0 : caught / count,
    recall: wrongWithout === 0 ? 0 : caught / wrongWithout,
    outOfScope: { total: oosTotal, fellBack: oosFellBack },
    withFallback: { accuracy: withFb.accuracy, macroF1: withFb.macroAvg.f1, weightedF1: withFb.weightedAvg.f1 },
    withoutFallback: {
      accuracy: withoutFb.accuracy,
      macroF1: withoutFb.macroAvg.f1,
      weightedF1: withoutFb.weightedAvg.f1,
    },
  }
}

/** Model facts for the report, from a trained or loaded model. */
export function modelInfo(model: TrainedModel, file?: { path: string; bytes: number }): ModelInfo {
  const m = model.manifest
  const info: ModelInfo = {
    name: m.name,
    labels: m.labels.length,
    dataFingerprint: m.dataFingerprint,
    configFingerprint: m.configFingerprint,
    seed: m.seed,
    trainedAt: m.trainedAt,
  }
  if (file) {
    info.file = file.path
    info.fileBytes = file.bytes
  }
  return info
}

export interface EvaluateOptions extends PredictOptions {
  zeroDivision?: ZeroDivision
  bins?: number
  /** Default: the model's own fallback intent. */
  fallbackIntent?: string
  testPaths?: string[]
  /** The model file evaluated, recorded in the report. */
  modelFile?: { path: string; bytes: number }
}

/**
 * Evaluate a parser on test examples: every metric in one structured report.
 * @example
 * const report = await evaluate(model, testData.examples)
 * report.intent.macroAvg.f1
 */
export async function evaluate(
  parser: IntentParser,
  examples: readonly Example[],
  options: EvaluateOptions = {},
): Promise<EvalReport> {
  if (examples.length === 0) throw createError('ERR_EVAL_NO_TEST_DATA', { detail: 'the test set is empty' })
  const { predictions, latenciesMs } = await predictExamples(parser, examples, options)
  const manifest = (parser as Partial<TrainedModel>).manifest
  return buildReport(predictions, {
    mode: 'test-set',
    fallbackIntent: options.fallbackIntent ?? fallbackIntentOf(parser),
    zeroDivision: options.zeroDivision ?? 0,
    bins: options.bins ?? 10,
    testSetFingerprint: fingerprintTestSet(examples),
    latenciesMs,
    ...(options.testPaths ? { testPaths: options.testPaths } : {}),
    ...(manifest ? { model: modelInfo(parser as TrainedModel, options.modelFile) } : {}),
  })
}
