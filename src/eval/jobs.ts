/**
 * The jobs evaluation runs in worker threads, as plain serialisable data: train on some examples and predict
 * others (a cross-validation fold, a learning-curve point, the full model), or score one tuning trial by
 * cross-validation. `handleJob` runs one of them in whatever thread it is called from.
 * @module
 */
import type { Config } from '../config/schema.js'
import type { Example, TrainingData } from '../data/types.js'
import { encodeModel } from '../nlu/model-file.js'
import { trainModel } from '../nlu/train.js'
import { fallbackIntentOf, headlineScores, meanAndStd, predictExamples } from './evaluate.js'
import { foldIndices, stratifiedFolds } from './folds.js'
import type { JobHooks } from './pool.js'
import { deriveSeed } from './random.js'
import { type Assignment, applyAssignments } from './tune-space.js'
import type { HeadlineScores, Prediction } from './types.js'

/** Shared by every job of a run and cloned into each worker once. */
export interface JobContext {
  data: TrainingData
  /** A separate test set, when the run has one. */
  test?: Example[]
}

/** Train on `train` (indices into the context data) and predict `test` (indices, or the whole test set). */
export interface TrainEvalJob {
  kind: 'train-eval'
  config: Config
  seed: number
  train: number[]
  test: number[] | 'test-set'
  /** Tags the predictions with a fold number. */
  fold?: number
  /** Also return the trained model file, to run must-pass cases or save it. */
  keepModel?: boolean
  /**
   * Worker threads training may use. 0 when jobs already run in parallel workers, so that each fold keeps to one
   * thread instead of oversubscribing the cores; absent lets training choose.
   */
  trainWorkers?: number
}

export interface TrainEvalResult {
  kind: 'train-eval'
  predictions: Prediction[]
  trainExamples: number
  trainingMs: number
  fallbackIntent: string
  latenciesMs: number[]
  model?: Uint8Array
}

export type TuneMetric = 'macroF1' | 'weightedF1' | 'accuracy'

/**
 * One tuning trial: a full config (the trial's values already applied) scored by `folds`-fold cross-validation.
 * Self-contained, JSON-serialisable and reproducible: the same spec and data give the same score anywhere.
 */
export interface TrialSpec {
  kind: 'trial'
  /** 0-based position in the search. */
  trial: number
  assignments: Assignment[]
  config: Config
  folds: number
  /** Seed of the fold assignment and of training; equal for every trial so they are compared on the same folds. */
  seed: number
  metric: TuneMetric
  /** Fingerprint of the data the trial must run on, so a remote worker can check it has the right data. */
  dataFingerprint: string
  /** Worker threads training may use (0 when trials already run in parallel). */
  trainWorkers?: number
}

/** The outcome of one trial: its scores over the folds, or why it failed. */
export interface TrialResult {
  kind: 'trial'
  trial: number
  assignments: Assignment[]
  status: 'ok' | 'failed'
  /** Mean of the metric over folds; absent when the trial failed. */
  score?: number
  mean?: HeadlineScores
  std?: HeadlineScores
  perFold?: HeadlineScores[]
  trainingMs: number
  durationMs: number
  /** Why the trial failed (for example a parameter value the component refuses). */
  error?: { code?: string; message: string }
}

export type EvalJob = TrainEvalJob | TrialSpec
export type EvalJobResult = TrainEvalResult | TrialResult

/** The training data restricted to some examples; intents without examples left are dropped. */
export function subsetData(data: TrainingData, indices: readonly number[]): TrainingData {
  const examples = indices.map((i) => data.examples[i]!)
  const present = new Set(examples.map((e) => e.intent))
  return { ...data, examples, intents: data.intents.filter((i) => present.has(i.name)) }
}

async function trainEval(job: TrainEvalJob, ctx: JobContext, hooks: JobHooks): Promise<TrainEvalResult> {
  const train = subsetData(ctx.data, job.train)
  const test = job.test === 'test-set' ? (ctx.test ?? []) : job.test.map((i) => ctx.data.examples[i]!)
  const t0 = performance.now()
  const model = await trainModel(train, {
    config: job.config,
    seed: job.seed,
    onProgress: (p) => hooks.onProgress?.(0.9 * p.fraction),
    ...(job.trainWorkers !== undefined ? { workers: job.trainWorkers } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  })
  const trainingMs = performance.now() - t0
  const { predictions, latenciesMs } = await predictExamples(model, test, {
    ...(job.fold !== undefined ? { fold: job.fold } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    onProgress: (done, total) => hooks.onProgress?.(0.9 + (0.1 * done) / Math.max(1, total)),
  })
  const result: TrainEvalResult = {
    kind: 'train-eval',
    predictions,
    trainExamples: train.examples.length,
    trainingMs,
    fallbackIntent: fallbackIntentOf(model),
    latenciesMs: Array.from(latenciesMs),
  }
  if (job.keepModel) result.model = encodeModel(model)
  return result
}

/** Score one trial by cross-validation. A failure of the trial's own config is a result, not an exception. */
export async function runTrial(spec: TrialSpec, data: TrainingData, hooks: JobHooks = {}): Promise<TrialResult> {
  const t0 = performance.now()
  const labels = data.examples.map((e) => e.intent)
  const assignment = stratifiedFolds(labels, spec.folds, spec.seed)
  const perFold: HeadlineScores[] = []
  let trainingMs = 0
  try {
    for (let f = 0; f < spec.folds; f++) {
      const { train, test } = foldIndices(assignment, f)
      const r = await trainEval(
        {
          kind: 'train-eval',
          config: spec.config,
          seed: deriveSeed(spec.seed, 'fold', f),
          train,
          test,
          fold: f,
          ...(spec.trainWorkers !== undefined ? { trainWorkers: spec.trainWorkers } : {}),
        },
        { data },
        {
          onProgress: (x) => hooks.onProgress?.((f + x) / spec.folds),
          ...(hooks.signal ? { signal: hooks.signal } : {}),
        },
      )
      trainingMs += r.trainingMs
      perFold.push(headlineScores(r.predictions, r.fallbackIntent))
    }
  } catch (err) {
    const e = err as { code?: string; message?: string }
    if (e.code === 'ERR_EVAL_ABORTED') throw err
    return {
      kind: 'trial',
      trial: spec.trial,
      assignments: spec.assignments,
      status: 'failed',
      trainingMs,
      durationMs: performance.now() - t0,
      error: { ...(e.code ? { code: e.code } : {}), message: e.message ?? String(err) },
    }
  }
  const { mean, std } = meanAndStd(perFold)
  return {
    kind: 'trial',
    trial: spec.trial,
    assignments: spec.assignments,
    status: 'ok',
    score: mean[spec.metric],
    mean,
    std,
    perFold,
    trainingMs,
    durationMs: performance.now() - t0,
  }
}

/** The trial's config: the base config with the trial's values set on its pipeline. */
export function trialConfig(base: Config, pipeline: Config['pipeline'], assignments: readonly Assignment[]): Config {
  return { ...base, pipeline: applyAssignments(pipeline, assignments) }
}

/** Run one job; the worker host and the in-process runner both call this. */
export async function handleJob(job: EvalJob, ctx: JobContext, hooks: JobHooks): Promise<EvalJobResult> {
  return job.kind === 'trial' ? runTrial(job, ctx.data, hooks) : trainEval(job, ctx, hooks)
}

/** URL of this module, for `runJobs`. */
export const EVAL_JOBS_MODULE = new URL(import.meta.url)
