/**
 * What `intentops test` does, as a library call: evaluate a model file on a test set, or train from the config
 * and evaluate, or cross-validate; optionally add a learning curve; then run the must-pass sentences.
 * @module
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config/schema.js'
import { loadTrainingData } from '../data/load.js'
import { configuredMustPassPaths, loadMustPass } from '../data/must-pass.js'
import type { MustPassCase, TrainingData } from '../data/types.js'
import { createError } from '../errors.js'
import { decodeModel, loadModel } from '../nlu/model-file.js'
import { trainModel } from '../nlu/train.js'
import type { TrainedModel } from '../nlu/types.js'
import { pathExists } from '../util/fs.js'
import { crossValidate } from './cross-validate.js'
import { buildReport, evaluate, fallbackIntentOf, fingerprintTestSet, modelInfo } from './evaluate.js'
import { learningCurve } from './learning-curve.js'
import type { ZeroDivision } from './metrics.js'
import { runMustPass } from './must-pass.js'
import type { EvalReport } from './types.js'

export type TestStage = 'loading' | 'training' | 'evaluating' | 'cross-validation' | 'learning curve' | 'must-pass'

export interface TestRunOptions {
  /** Project root: relative paths resolve against it. */
  root: string
  config: Readonly<Config>
  /** Evaluate this model file instead of training one. */
  modelFile?: string
  /** Training data; default the config's `data`. */
  dataPaths?: string[]
  /** Labelled test data. */
  testPaths?: string[]
  crossValidation?: { folds: number }
  /** Learning-curve percentages. */
  learningCurve?: number[]
  /** Seed of training, folds and subsets. Default 42. */
  seed?: number
  /** Must-pass files; default the config's `tests` (skipped silently when the default directory is absent). */
  mustPassPaths?: string[]
  /** The config file, named by the error for a configured `tests` path that does not exist. */
  configFile?: string
  concurrency?: number
  zeroDivision?: ZeroDivision
  signal?: AbortSignal
  /** Progress of the current stage in [0, 1]. */
  onProgress?: (stage: TestStage, fraction: number) => void
}

export interface TestRun {
  report: EvalReport
  /** The model the must-pass sentences ran against, when there was one. */
  model?: TrainedModel
  /**
   * Intents of the test set that the scored model never learned (its fallback intent aside), most examples first:
   * every one of their examples counts as wrong. Empty when there are none or no test set was scored.
   */
  unknownIntents: UnknownIntent[]
}

export interface UnknownIntent {
  intent: string
  /** Test examples labelled with it. */
  examples: number
}

/** The test set's intents outside `known`, with their example counts, most examples first. */
export function unknownIntents(examples: readonly { intent: string }[], known: ReadonlySet<string>): UnknownIntent[] {
  const counts = new Map<string, number>()
  for (const e of examples) if (!known.has(e.intent)) counts.set(e.intent, (counts.get(e.intent) ?? 0) + 1)
  return [...counts]
    .map(([intent, n]) => ({ intent, examples: n }))
    .sort((a, b) => b.examples - a.examples || (a.intent < b.intent ? -1 : a.intent > b.intent ? 1 : 0))
}

async function mustPassCases(options: TestRunOptions): Promise<MustPassCase[]> {
  const present: string[] = []
  if (options.mustPassPaths) {
    for (const p of options.mustPassPaths) {
      if (await pathExists(path.resolve(options.root, p))) present.push(p)
      else throw createError('ERR_FILE_NOT_FOUND', { path: path.resolve(options.root, p) })
    }
  } else {
    const configured = await configuredMustPassPaths(options.config.tests, {
      root: options.root,
      ...(options.configFile ? { configFile: options.configFile } : {}),
    })
    if (configured.missing[0]) throw configured.missing[0]
    present.push(...configured.paths)
  }
  return present.length === 0 ? [] : loadMustPass(present, { root: options.root })
}

async function loadExamples(paths: string[], root: string, what: string): Promise<TrainingData> {
  const data = await loadTrainingData(paths, { root })
  if (data.examples.length === 0) {
    throw createError('ERR_EVAL_NO_TEST_DATA', { detail: `no labelled examples in the ${what} (${paths.join(', ')})` })
  }
  return data
}

/**
 * Run an evaluation as `intentops test` does.
 * @example
 * const { report } = await runTest({ root, config, modelFile: 'models/bot.iom', testPaths: ['data/test.yml'] })
 */
export async function runTest(options: TestRunOptions): Promise<TestRun> {
  const { root, config } = options
  const seed = options.seed ?? 42
  const zeroDivision = options.zeroDivision ?? 0
  const progress = (stage: TestStage) => (f: number) => options.onProgress?.(stage, f)
  const common = {
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  }
  if (options.modelFile && options.crossValidation) {
    throw createError('ERR_CLI_USAGE', {
      detail: '--model evaluates a trained model and --cross-validation trains from the config; pick one',
    })
  }
  options.onProgress?.('loading', 0)
  const cases = await mustPassCases(options)
  const dataPaths = options.dataPaths ?? [...config.data]
  const testData = options.testPaths?.length ? await loadExamples(options.testPaths, root, 'test data') : undefined
  const needsTraining = !options.modelFile || options.crossValidation || options.learningCurve
  const data = needsTraining ? await loadExamples(dataPaths, root, 'training data') : undefined

  let report: EvalReport | undefined
  let model: TrainedModel | undefined
  if (options.modelFile) {
    const file = path.resolve(root, options.modelFile)
    model = await loadModel(file)
    if (!testData) {
      throw createError('ERR_EVAL_NO_TEST_DATA', { detail: 'a model file needs a labelled test set to be scored on' })
    }
    const bytes = (await fsp.stat(file)).size
    report = await evaluate(model, testData.examples, {
      zeroDivision,
      testPaths: options.testPaths!,
      modelFile: { path: file, bytes },
      onProgress: (d, t) => options.onProgress?.('evaluating', d / t),
      ...(options.signal ? { signal: options.signal } : {}),
    })
  } else if (options.crossValidation) {
    const cv = await crossValidate(data!, {
      config,
      folds: options.crossValidation.folds,
      seed,
      zeroDivision,
      fullModel: cases.length > 0,
      dataPaths,
      onProgress: progress('cross-validation'),
      ...common,
    })
    report = cv.report
    if (cv.model) {
      model = await decodeModel(cv.model)
      report.model = modelInfo(model)
    }
  } else if (testData) {
    model = await trainModel(data!, {
      config,
      seed,
      onProgress: (p) => options.onProgress?.('training', p.fraction),
      ...(options.signal ? { signal: options.signal } : {}),
    })
    report = await evaluate(model, testData.examples, {
      zeroDivision,
      testPaths: options.testPaths!,
      onProgress: (d, t) => options.onProgress?.('evaluating', d / t),
      ...(options.signal ? { signal: options.signal } : {}),
    })
  } else if (!options.learningCurve) {
    throw createError('ERR_EVAL_NO_TEST_DATA', {
      detail: 'nothing to evaluate on: no --test data, no --cross-validation and no --learning-curve',
    })
  }

  if (options.learningCurve) {
    const run = await learningCurve(data!, {
      config,
      percents: options.learningCurve,
      seed,
      zeroDivision,
      onProgress: progress('learning curve'),
      ...(testData ? { test: testData.examples } : {}),
      ...common,
    })
    if (!report) {
      // the largest point scored on the hold-out is the evaluation of this run
      report = buildReport(run.largest.predictions, {
        fallbackIntent: run.largest.fallbackIntent,
        zeroDivision,
        testSetFingerprint: fingerprintTestSet(run.testExamples, `holdout:${seed}`),
        latenciesMs: run.largest.latenciesMs,
      })
    }
    report.learningCurve = run.curve
  }

  if (cases.length > 0 && model) {
    options.onProgress?.('must-pass', 0)
    report!.mustPass = runMustPass(model, cases, options.signal ? { signal: options.signal } : {})
    options.onProgress?.('must-pass', 1)
  }
  // Cross-validation scores its own folds, not the test set.
  const run: TestRun = {
    report: report!,
    unknownIntents:
      testData && model && !options.crossValidation
        ? unknownIntents(testData.examples, new Set([...model.labels, fallbackIntentOf(model)]))
        : [],
  }
  if (model) run.model = model
  return run
}
