/**
 * Hyper-parameter search: grid or seeded random points over pipeline params, each trial scored by stratified
 * cross-validation in a worker thread. Trials are independent, serialisable jobs; an interrupted search returns
 * the trials that finished, marked `interrupted`.
 * @module
 */
import type { Config, PipelineStepConfig } from '../config/schema.js'
import { canonicalOrder, fingerprintTrainingData } from '../data/fingerprint.js'
import type { TrainingData } from '../data/types.js'
import { createError, isIntentopsError } from '../errors.js'
import { DEFAULT_PIPELINE } from '../nlu/pipeline.js'
import { VERSION } from '../version.js'
import { stratifiedFolds } from './folds.js'
import {
  EVAL_JOBS_MODULE,
  type JobContext,
  type TrialResult,
  type TrialSpec,
  type TuneMetric,
  trialConfig,
} from './jobs.js'
import { defaultConcurrency, runJobs, trainWorkersFor } from './pool.js'
import { type Assignment, gridPoints, randomPoints, type TuneParam, validateSpace } from './tune-space.js'

export const TUNE_REPORT_FORMAT = 'intentops-tune'
export const TUNE_REPORT_VERSION = 1

export interface TuneReport {
  format: typeof TUNE_REPORT_FORMAT
  formatVersion: typeof TUNE_REPORT_VERSION
  toolkitVersion: string
  /** `interrupted` when the search was stopped: `trials` then holds only the ones that finished. */
  status: 'running' | 'complete' | 'interrupted'
  method: 'grid' | 'random'
  metric: TuneMetric
  folds: number
  seed: number
  space: TuneParam[]
  dataFingerprint: string
  examples: number
  plannedTrials: number
  startedAt: string
  finishedAt?: string
  /** The finished trial with the highest score (ties: the earlier trial). */
  best?: TrialResult
  /** Finished trials in trial order. */
  trials: TrialResult[]
}

export interface TuneOptions {
  config: Readonly<Config>
  /** The pipeline the space refers to: the config's own, or the default pipeline when the config has none. */
  pipeline: readonly PipelineStepConfig[]
  space: TuneParam[]
  method?: 'grid' | 'random'
  /** Trials of a random search. */
  trials?: number
  folds?: number
  seed?: number
  metric?: TuneMetric
  concurrency?: number
  signal?: AbortSignal
  /** Overall progress in [0, 1], with the best score so far. */
  onProgress?: (fraction: number, best: TrialResult | undefined, done: number, planned: number) => void
  /** After each finished trial, with the report so far: write partial results here. */
  onTrial?: (trial: TrialResult, report: TuneReport) => void | Promise<void>
  /** Locate a space parameter in intentops.yml, for errors. */
  locate?: (index: number) => import('../errors.js').SourceLocation | undefined
}

/** The pipeline a search space refers to: the config's own steps, or the default pipeline when it has none. */
export function effectivePipeline(config: Readonly<Config>): PipelineStepConfig[] {
  const steps = config.pipeline.length > 0 ? config.pipeline : DEFAULT_PIPELINE
  return steps.map((s) => ({ ...s }))
}

/** The trials a search will run, as serialisable specs. */
export function planTrials(data: TrainingData, options: TuneOptions): TrialSpec[] {
  const method = options.method ?? 'random'
  const seed = options.seed ?? 42
  validateSpace(options.space, options.pipeline, options.locate)
  const points: Assignment[][] =
    method === 'grid' ? gridPoints(options.space) : randomPoints(options.space, options.trials ?? 20, seed)
  const dataFingerprint = fingerprintTrainingData(data)
  const concurrency = options.concurrency ?? defaultConcurrency(points.length)
  return points.map((assignments, trial) => ({
    kind: 'trial',
    trial,
    assignments,
    config: trialConfig(options.config as Config, [...options.pipeline], assignments),
    folds: options.folds ?? 3,
    seed,
    metric: options.metric ?? 'macroF1',
    dataFingerprint,
    ...(trainWorkersFor(trial, points.length, concurrency) === 0 ? { trainWorkers: 0 } : {}),
  }))
}

/** Higher score wins; ties go to the earlier trial. */
function better(a: TrialResult, b: TrialResult | undefined): boolean {
  if (a.status !== 'ok' || a.score === undefined) return false
  if (!b || b.score === undefined) return true
  return a.score > b.score || (a.score === b.score && a.trial < b.trial)
}

/**
 * Run the search. Resolves with `status: 'interrupted'` (not an error) when `signal` fires, keeping every trial
 * that finished.
 * @example
 * const report = await tune(data, { config, pipeline, space, method: 'grid', folds: 3, seed: 1 })
 * report.best?.assignments
 */
export async function tune(input: TrainingData, options: TuneOptions): Promise<TuneReport> {
  // Every trial's folds are dealt in example order; see crossValidate.
  const data = canonicalOrder(input)
  const specs = planTrials(data, options)
  const concurrency = options.concurrency ?? defaultConcurrency(specs.length)
  const folds = options.folds ?? 3
  if (data.examples.length > 0)
    stratifiedFolds(
      data.examples.map((e) => e.intent),
      folds,
      0,
    ) // fail fast on bad folds
  else throw createError('ERR_EVAL_NO_TEST_DATA', { detail: 'the training data is empty' })
  const report: TuneReport = {
    format: TUNE_REPORT_FORMAT,
    formatVersion: TUNE_REPORT_VERSION,
    toolkitVersion: VERSION,
    status: 'running',
    method: options.method ?? 'random',
    metric: options.metric ?? 'macroF1',
    folds,
    seed: options.seed ?? 42,
    space: options.space,
    dataFingerprint: specs[0]?.dataFingerprint ?? fingerprintTrainingData(data),
    examples: data.examples.length,
    plannedTrials: specs.length,
    startedAt: new Date().toISOString(),
    trials: [],
  }
  const progress = new Float64Array(specs.length)
  const emit = () => {
    const sum = progress.reduce((a, b) => a + b, 0)
    options.onProgress?.(sum / Math.max(1, specs.length), report.best, report.trials.length, specs.length)
  }
  // trial callbacks may write files: run them one after another, in completion order
  let chain: Promise<void> = Promise.resolve()
  const finished = (r: TrialResult) => {
    progress[r.trial] = 1
    report.trials.push(r)
    report.trials.sort((a, b) => a.trial - b.trial)
    if (better(r, report.best)) report.best = r
    emit()
    const snapshot = structuredClone(report)
    chain = chain.then(() => options.onTrial?.(r, snapshot))
  }
  try {
    await runJobs<TrialSpec, JobContext, TrialResult>(specs, {
      module: EVAL_JOBS_MODULE,
      context: { data },
      kind: 'tuning trial',
      concurrency,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (i, x) => {
        progress[i] = x
        emit()
      },
      onResult: (_, r) => finished(r),
    })
    report.status = 'complete'
  } catch (err) {
    if (!(isIntentopsError(err) && err.code === 'ERR_EVAL_ABORTED')) {
      await chain
      throw err
    }
    report.status = 'interrupted'
  }
  await chain
  report.finishedAt = new Date().toISOString()
  return report
}
