/**
 * Learning curve: train on growing stratified fractions of the data (nested, seeded) and score each model on the
 * same test set, to see whether more data would still help. Points train in parallel worker threads.
 * @module
 */
import type { Config } from '../config/schema.js'
import { canonicalOrder } from '../data/fingerprint.js'
import type { Example, TrainingData } from '../data/types.js'
import { createError } from '../errors.js'
import { headlineScores } from './evaluate.js'
import { stratifiedHoldout, stratifiedSubset } from './folds.js'
import { EVAL_JOBS_MODULE, type JobContext, type TrainEvalJob, type TrainEvalResult } from './jobs.js'
import type { ZeroDivision } from './metrics.js'
import { defaultConcurrency, runJobs, trainWorkersFor } from './pool.js'
import type { LearningCurve } from './types.js'

export interface LearningCurveOptions {
  config: Readonly<Config>
  /** Percentages of the training data, e.g. [10, 25, 50, 100]. */
  percents: number[]
  seed?: number
  /** Score on this test set; without one, a stratified `holdoutFraction` of the data is held out. */
  test?: Example[]
  /** Default 0.2. */
  holdoutFraction?: number
  concurrency?: number
  signal?: AbortSignal
  onProgress?: (fraction: number) => void
  zeroDivision?: ZeroDivision
}

export interface LearningCurveRun {
  curve: LearningCurve
  /** Predictions and timing of the largest point: the report of the whole run when nothing else was evaluated. */
  largest: TrainEvalResult
  /** The examples scored: the test set or the hold-out. */
  testExamples: Example[]
}

/** Parse `10,25,50,100` into sorted unique percentages in (0, 100]. */
export function parsePercents(text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()))
  const bad = values.find((v) => !(v > 0 && v <= 100))
  if (bad !== undefined || values.length === 0) {
    throw createError('ERR_CLI_USAGE', {
      detail: `--learning-curve takes percentages in (0, 100] separated by commas, e.g. 10,25,50,100; got "${text}"`,
    })
  }
  return [...new Set(values)].sort((a, b) => a - b)
}

/**
 * Compute a learning curve.
 * @example
 * const { curve } = await learningCurve(data, { config, percents: [10, 25, 50, 100], test: testData.examples })
 */
export async function learningCurve(input: TrainingData, options: LearningCurveOptions): Promise<LearningCurveRun> {
  // The hold-out and the nested subsets are dealt in example order; see crossValidate.
  const data = canonicalOrder(input)
  const seed = options.seed ?? 42
  const percents = [...options.percents].sort((a, b) => a - b)
  if (percents.length === 0) throw createError('ERR_INVALID_ARGUMENT', { detail: 'no learning-curve points' })
  let pool: number[]
  let test: number[] | 'test-set'
  let testExamples: Example[]
  if (options.test && options.test.length > 0) {
    pool = data.examples.map((_, i) => i)
    test = 'test-set'
    testExamples = options.test
  } else {
    const split = stratifiedHoldout(
      data.examples.map((e) => e.intent),
      options.holdoutFraction ?? 0.2,
      seed,
    )
    if (split.test.length === 0) {
      throw createError('ERR_EVAL_NO_TEST_DATA', { detail: 'too few examples to hold out a test set' })
    }
    pool = split.train
    test = split.test
    testExamples = split.test.map((i) => data.examples[i]!)
  }
  const poolLabels = pool.map((i) => data.examples[i]!.intent)
  const config = options.config as Config
  const concurrency = options.concurrency ?? defaultConcurrency(percents.length)
  const jobs: TrainEvalJob[] = percents
    .map((percent) => ({
      kind: 'train-eval' as const,
      config,
      seed,
      train: stratifiedSubset(poolLabels, percent / 100, seed).map((k) => pool[k]!),
      test,
    }))
    .reverse() // largest first: the longest jobs should not start last
    .map((job, i, all) => {
      const w = trainWorkersFor(i, all.length, concurrency)
      return w === undefined ? job : { ...job, trainWorkers: w }
    })
  const progress = new Float64Array(jobs.length)
  const weights = jobs.map((j) => j.train.length)
  const totalWeight = weights.reduce((a, b) => a + b, 0)
  const update = (i: number, x: number) => {
    progress[i] = x
    let done = 0
    for (let k = 0; k < jobs.length; k++) done += progress[k]! * weights[k]!
    options.onProgress?.(done / totalWeight)
  }
  const context: JobContext = options.test ? { data, test: options.test } : { data }
  const results = (
    await runJobs<TrainEvalJob, JobContext, TrainEvalResult>(jobs, {
      module: EVAL_JOBS_MODULE,
      context,
      kind: 'learning-curve',
      concurrency,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: update,
      onResult: (i) => update(i, 1),
    })
  ).reverse()
  const curve: LearningCurve = {
    seed,
    evaluatedOn: options.test ? 'test-set' : 'holdout',
    testExamples: testExamples.length,
    points: results.map((r, k) => ({
      percent: percents[k]!,
      trainExamples: r.trainExamples,
      trainingMs: r.trainingMs,
      ...headlineScores(r.predictions, r.fallbackIntent, true, options.zeroDivision ?? 0),
    })),
  }
  return { curve, largest: results[results.length - 1]!, testExamples }
}
