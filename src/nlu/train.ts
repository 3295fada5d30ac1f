/**
 * `trainModel`: training data and config in, a trained model with its manifest out.
 * @module
 */
import type { Config } from '../config/schema.js'
import { canonicalOrder, fingerprintConfig, fingerprintTrainingData } from '../data/fingerprint.js'
import type { TrainingData } from '../data/types.js'
import { createError, isIntentopsError } from '../errors.js'
import { VERSION } from '../version.js'
import { chooseThreshold, chooseThresholdForFallbackBudget, type ThresholdChoice } from './fallback.js'
import { NluModel } from './model.js'
import { MODEL_FORMAT_VERSION } from './model-file.js'
import { buildPipeline, type PipelineProgress } from './pipeline.js'
import type { ModelManifest, TrainedModel } from './types.js'

/** The config keys training reads: a loaded `Config` fits, and so does a hand-written subset. */
export type TrainConfig = Pick<Config, 'pipeline' | 'fields' | 'fallback'> & Partial<Pick<Config, 'name' | 'language'>>

export interface TrainOptions {
  config: Readonly<TrainConfig>
  /** Seed for every random choice. Default 0. */
  seed?: number
  onProgress?: (p: PipelineProgress) => void
  signal?: AbortSignal
  /** Worker threads for the classifier; default chosen by problem size and cores. */
  workers?: number
  /**
   * Choose the fallback threshold so that at least this fraction of held-out out-of-scope messages is caught
   * (predicted as `oosIntent` or as the fallback). Held-out data: the classifier's held-out folds, pooled with
   * `validation` when given.
   */
  targetOosRecall?: number
  /**
   * Instead of `targetOosRecall`: choose the highest fallback threshold that sends at most this fraction of
   * held-out in-scope messages to the fallback. Needs no out-of-scope examples, and is not misled when the held-out
   * out-of-scope messages are easier (or harder) than live ones. Same held-out data as `targetOosRecall`.
   */
  maxInScopeFallback?: number
  /** The out-of-scope intent. Default `oos`. */
  oosIntent?: string
  /** Held-out data for choosing the threshold. */
  validation?: TrainingData
}

/** What `trainModel` attaches to its result besides the model. */
export interface TrainReport {
  /** Present when a fallback threshold was chosen. */
  threshold?: ThresholdChoice & {
    source: 'validation' | 'held-out folds' | 'validation and held-out folds'
    /** What the threshold was chosen for. */
    goal: { targetOosRecall: number } | { maxInScopeFallback: number }
  }
}

/** A trained model with the report of how it was trained. */
export type TrainResult = TrainedModel & { readonly report: TrainReport }

/**
 * Train a model. Never mutates the data or the config.
 * @example
 * const data = await loadTrainingData(['data'])
 * const model = await trainModel(data, { config: (await loadConfig({ dir: '.' })).config })
 * await saveModel('models/model.iom', model)
 */
export async function trainModel(input: TrainingData, options: TrainOptions): Promise<TrainResult> {
  const started = performance.now()
  const config = options.config
  const seed = options.seed ?? 0
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: `the seed must be an integer in [0, 4294967295], got ${seed}` })
  }
  checkData(input)
  // One fingerprint, one model: the order of examples and files does not reach the classifiers' folds and passes.
  const data = canonicalOrder(input)
  const pipeline = buildPipeline(config.pipeline)
  const oosIntent = options.oosIntent ?? 'oos'
  const target = options.targetOosRecall
  const budget = options.maxInScopeFallback
  if (target !== undefined && !(target >= 0 && target <= 1)) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `the target out-of-scope recall must be in [0, 1], got ${target}`,
    })
  }
  if (budget !== undefined && !(budget >= 0 && budget <= 1)) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `the largest in-scope fallback share must be in [0, 1], got ${budget}`,
    })
  }
  if (target !== undefined && budget !== undefined) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail:
        'choose the fallback threshold for a target out-of-scope recall or for an in-scope fallback share, not both',
    })
  }
  const choosing = target !== undefined || budget !== undefined
  let heldOut: Float32Array | undefined
  const fitted = await pipeline
    .fit(data, {
      seed,
      fields: config.fields,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      // Held-out folds always take part: with validation data they add the training set's own variety.
      ...(choosing
        ? {
            onHeldOut: (p: Float32Array) => {
              heldOut = p
            },
          }
        : {}),
    })
    .catch((err: unknown) => {
      if (options.signal?.aborted && !isIntentopsError(err)) throw createError('ERR_TRAIN_ABORTED', {}, { cause: err })
      throw err
    })

  const fallback = { ...config.fallback }
  const report: TrainReport = {}
  if (choosing) {
    const labels = fitted.labels
    const oos = labels.indexOf(oosIntent)
    const K = labels.length
    const parts: Array<{ proba: Float32Array; y: Int32Array }> = []
    if (heldOut) parts.push({ proba: heldOut, y: Int32Array.from(data.examples, (e) => labels.indexOf(e.intent)) })
    let nValidOos = 0
    if (options.validation) {
      const rows = options.validation.examples.filter((e) => labels.includes(e.intent))
      const proba = new Float32Array(rows.length * K)
      const y = new Int32Array(rows.length)
      rows.forEach((ex, i) => {
        proba.set(fitted.classify(ex.fields ? { fields: ex.fields } : { text: ex.text }), i * K)
        y[i] = labels.indexOf(ex.intent)
        if (y[i] === oos) nValidOos++
      })
      parts.push({ proba, y })
    }
    if (parts.length === 0) {
      throw createError('ERR_NLU_NO_HELD_OUT', {
        detail: 'no --validation data, and the classifier computed no held-out confidences (calibration is off)',
      })
    }
    const source = !options.validation ? 'held-out folds' : heldOut ? 'validation and held-out folds' : 'validation'
    const n = parts.reduce((a, p) => a + p.y.length, 0)
    const proba = new Float32Array(n * K)
    const y = new Int32Array(n)
    let at = 0
    for (const p of parts) {
      proba.set(p.proba, at * K)
      y.set(p.y, at)
      at += p.y.length
    }
    if (target !== undefined && (oos === -1 || !y.includes(oos))) {
      throw createError('ERR_NLU_OOS_INTENT_MISSING', {
        intent: oosIntent,
        where:
          oos === -1 ? 'the training data' : nValidOos === 0 && !heldOut ? 'the validation data' : 'the held-out folds',
      })
    }
    const choice =
      target !== undefined
        ? chooseThreshold(proba, y, K, oos, target, fallback.ambiguityThreshold)
        : chooseThresholdForFallbackBudget(proba, y, K, oos, budget!, fallback.ambiguityThreshold)
    fallback.threshold = choice.threshold
    report.threshold = {
      ...choice,
      source,
      goal: target !== undefined ? { targetOosRecall: target } : { maxInScopeFallback: budget! },
    }
  }

  const manifest: ModelManifest = {
    format: 'intentops-model',
    formatVersion: { ...MODEL_FORMAT_VERSION },
    name: config.name ?? 'intentops-bot',
    labels: [...fitted.labels],
    entities: fitted.entityTypes,
    steps: pipeline.getParams(),
    fields: { ...config.fields },
    trainedFields: fieldNames(data),
    fallback,
    language: config.language ?? 'en',
    dataFingerprint: fingerprintTrainingData(data),
    configFingerprint: fingerprintConfig({
      language: config.language ?? 'en',
      pipeline: config.pipeline as Config['pipeline'],
      fields: config.fields,
      fallback: config.fallback,
    }),
    seed,
    toolkitVersion: VERSION,
    nodeVersion: process.versions.node,
    trainedAt: new Date().toISOString(),
    trainingMs: Math.round(performance.now() - started),
    examples: data.examples.length,
  }
  return Object.assign(new NluModel(manifest, fitted), { report })
}

/** The names of the examples' fields, sorted: what a multi-field message to this model may name. */
function fieldNames(data: TrainingData): string[] {
  const names = new Set<string>()
  for (const e of data.examples) if (e.fields) for (const f of Object.keys(e.fields)) names.add(f)
  return [...names].sort()
}

function checkData(data: TrainingData): void {
  if (data.examples.length === 0) {
    throw createError('ERR_NLU_NO_TRAINING_DATA', { detail: 'the training data has no examples' })
  }
  const bad = data.examples.find((e) => typeof e.intent !== 'string' || e.intent === '')
  if (bad) {
    throw createError(
      'ERR_NLU_NO_TRAINING_DATA',
      { detail: `an example has no intent: ${JSON.stringify(bad.text.slice(0, 60))}` },
      bad.source ? { location: bad.source } : {},
    )
  }
}
