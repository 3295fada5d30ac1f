/**
 * Stratified k-fold cross-validation with the folds trained and evaluated in parallel worker threads. The
 * predictions of every fold are pooled into one report; per-fold scores give the spread.
 * @module
 */
import type { Config } from '../config/schema.js'
import { canonicalOrder } from '../data/fingerprint.js'
import type { TrainingData } from '../data/types.js'
import { createError } from '../errors.js'
import { buildReport, fingerprintTestSet, headlineScores } from './evaluate.js'
import { foldIndices, stratifiedFolds } from './folds.js'
import { EVAL_JOBS_MODULE, type JobContext, type TrainEvalJob, type TrainEvalResult } from './jobs.js'
import type { ZeroDivision } from './metrics.js'
import { defaultConcurrency, runJobs, trainWorkersFor } from './pool.js'
import { deriveSeed } from './random.js'
import type { EvalReport, FoldScore } from './types.js'

/** Options of `crossValidate`. */
export interface CrossValidateOptions {
  config: Readonly<Config>
  /** Number of folds. Default 5. */
  folds?: number
  /** Seed of the fold assignment and of training. Default 42. */
  seed?: number
  /** Worker threads. Default: every core, at most one per job. 1 runs in this thread. */
  concurrency?: number
  signal?: AbortSignal
  /** Overall progress in [0, 1]. */
  onProgress?: (fraction: number) => void
  zeroDivision?: ZeroDivision
  bins?: number
  /** Also train one model on all the data (in parallel with the folds) and return its file bytes. */
  fullModel?: boolean
  /** Data paths, recorded in the report. */
  dataPaths?: string[]
}

export interface CrossValidationRun {
  report: EvalReport
  /** The model trained on all the data, when `fullModel` was set. */
  model?: Uint8Array
}

/**
 * Cross-validate the pipeline of `config` on `data`.
 * @example
 * const { report } = await crossValidate(data, { config, folds: 5, seed: 1 })
 * report.crossValidation.mean.macroF1
 */
export async function crossValidate(input: TrainingData, options: CrossValidateOptions): Promise<CrossValidationRun> {
  // Folds are dealt in example order: taking the order the data fingerprint reads gives data with one fingerprint
  // one fold plan, and so one report, for a seed, however its examples and files are ordered.
  const data = canonicalOrder(input)
  const folds = options.folds ?? 5
  const seed = options.seed ?? 42
  if (data.examples.length === 0) throw createError('ERR_EVAL_NO_TEST_DATA', { detail: 'the training data is empty' })
  const labels = data.examples.map((e) => e.intent)
  const assignment = stratifiedFolds(labels, folds, seed)
  const config = options.config as Config
  const jobs: TrainEvalJob[] = []
  const count = folds + (options.fullModel ? 1 : 0)
  const concurrency = options.concurrency ?? defaultConcurrency(count)
  // folds in parallel workers train in one thread each, except in a last round that leaves cores idle
  const trainWorkers = (i: number) => {
    const w = trainWorkersFor(i, count, concurrency)
    return w === undefined ? {} : { trainWorkers: w }
  }
  // the full model goes first: it is the longest job, so it should not start last
  if (options.fullModel) {
    jobs.push({
      kind: 'train-eval',
      config,
      seed,
      train: data.examples.map((_, i) => i),
      test: [],
      keepModel: true,
      ...trainWorkers(0),
    })
  }
  for (let f = 0; f < folds; f++) {
    const { train, test } = foldIndices(assignment, f)
    const job: TrainEvalJob = { kind: 'train-eval', config, seed: deriveSeed(seed, 'fold', f), train, test, fold: f }
    jobs.push({ ...job, ...trainWorkers(jobs.length) })
  }
  const progress = new Float64Array(jobs.length)
  const weights = jobs.map((j) => j.train.length)
  const totalWeight = weights.reduce((a, b) => a + b, 0)
  const report = (i: number, x: number) => {
    progress[i] = x
    let done = 0
    for (let k = 0; k < jobs.length; k++) done += progress[k]! * weights[k]!
    options.onProgress?.(done / totalWeight)
  }
  const context: JobContext = { data }
  const results = await runJobs<TrainEvalJob, JobContext, TrainEvalResult>(jobs, {
    module: EVAL_JOBS_MODULE,
    context,
    kind: 'cross-validation',
    concurrency,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: report,
    onResult: (i) => report(i, 1),
  })
  const foldResults = options.fullModel ? results.slice(1) : results
  const fallbackIntent = foldResults[0]!.fallbackIntent
  const perFold: FoldScore[] = foldResults.map((r, f) => ({
    fold: f,
    trainExamples: r.trainExamples,
    testExamples: r.predictions.length,
    trainingMs: r.trainingMs,
    ...headlineScores(r.predictions, fallbackIntent, true, options.zeroDivision ?? 0),
  }))
  const out: CrossValidationRun = {
    report: buildReport(
      foldResults.flatMap((r) => r.predictions),
      {
        mode: 'cross-validation',
        fallbackIntent,
        zeroDivision: options.zeroDivision ?? 0,
        bins: options.bins ?? 10,
        testSetFingerprint: fingerprintTestSet(data.examples, `cross-validation:${folds}:${seed}`),
        crossValidation: { folds, seed, perFold },
        latenciesMs: foldResults.flatMap((r) => r.latenciesMs),
        ...(options.dataPaths ? { testPaths: options.dataPaths } : {}),
      },
    ),
  }
  if (options.fullModel && results[0]!.model) out.model = results[0]!.model
  return out
}
