/**
 * The one reference every request reads. A new model is decoded, verified and smoke-tested before it replaces the
 * old one in a single assignment, so a request that picked up the old model finishes on it, and a model that fails
 * any check never serves.
 * @module
 */
import { createHash } from 'node:crypto'
import { createError, type IntentopsError, isIntentopsError } from '../errors.js'
import { decodeModel } from '../nlu/model-file.js'
import type { TrainedModel } from '../nlu/types.js'

/** Where a served model came from. */
export type ModelSource =
  | { kind: 'registry'; name: string; version: number; alias?: string; signedBy: string[] }
  | { kind: 'file'; path: string }

/** A loaded, verified model with what a response or a log record says about it. */
export interface ServedModel {
  readonly model: TrainedModel
  /** Model name (the manifest's, or the registry's). */
  readonly name: string
  /** Registry version number as a string, or `file:<first 12 hex of the SHA-256>`. */
  readonly version: string
  /** `sha256:<hex>` of the model file. */
  readonly digest: string
  readonly source: ModelSource
  readonly loadedAt: number
}

export interface ModelLoadEvent {
  ok: boolean
  source: string
  served?: ServedModel
  error?: Error
  ms: number
}

/** Text that every model must parse before it serves: a plain word, an empty string, and a long odd one. */
const SMOKE_TEXTS = ['hello', '', 'ünïcödé 🙂 1234 '.repeat(16)]

/** Decode bytes into a model and check it parses. Throws a catalog error naming `label` on any failure. */
export function prepareModel(bytes: Uint8Array, source: ModelSource, label: string): ServedModel {
  let model: TrainedModel
  try {
    model = decodeModel(bytes, { source: label })
  } catch (err) {
    throw createError(
      'ERR_SERVE_MODEL_LOAD_FAILED',
      {
        source: label,
        outcome: KEEPS_SERVING,
        detail: isIntentopsError(err) ? `${err.code}: ${err.message}` : (err as Error).message,
      },
      { cause: err },
    )
  }
  smokeTest(model, label)
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  return Object.freeze({
    model,
    name: source.kind === 'registry' ? source.name : model.manifest.name,
    version: source.kind === 'registry' ? String(source.version) : `file:${digest.slice(7, 19)}`,
    digest,
    source,
    loadedAt: Date.now(),
  })
}

function smokeTest(model: TrainedModel, label: string): void {
  const known = new Set([...model.labels, model.manifest.fallback.intent])
  for (const text of SMOKE_TEXTS) {
    let detail: string | undefined
    try {
      const r = model.parse({ text })
      if (!known.has(r.intent.name)) detail = `predicted unknown intent '${r.intent.name}'`
      else if (!Number.isFinite(r.intent.confidence) || r.intent.confidence < 0 || r.intent.confidence > 1) {
        detail = `confidence ${r.intent.confidence} is not in [0, 1]`
      } else if (r.intent_ranking.some((s) => !Number.isFinite(s.confidence))) detail = 'the ranking has NaN scores'
    } catch (err) {
      detail = (err as Error).message
    }
    if (detail) {
      throw createError('ERR_SERVE_MODEL_LOAD_FAILED', {
        source: label,
        outcome: KEEPS_SERVING,
        detail: `smoke prediction of ${JSON.stringify(text.slice(0, 20))} failed: ${detail}`,
      })
    }
  }
}

/**
 * Holds the served model. `swap` takes a loader that returns verified bytes; loads run one at a time (a later call
 * waits for an earlier one), and only a model that passed every check replaces the current one.
 */
export class ModelHolder {
  #current: ServedModel | undefined
  #chain: Promise<unknown> = Promise.resolve()
  #listeners = new Set<(event: ModelLoadEvent) => void>()
  /** The last load failure, for /ready and /v1/models. */
  lastError: Error | undefined

  /** The model requests should use; read it once per request and keep the value. */
  get current(): ServedModel | undefined {
    return this.#current
  }

  onLoad(listener: (event: ModelLoadEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Load a model through `load` and serve it. Resolves with the served model; rejects with
   * ERR_SERVE_MODEL_LOAD_FAILED (the old model keeps serving), or the code `options.failure` names.
   */
  swap(
    label: string,
    load: () => Promise<{ bytes: Uint8Array; source: ModelSource }>,
    options: { failure?: LoadFailureCode } = {},
  ): Promise<ServedModel> {
    const run = async (): Promise<ServedModel> => {
      const started = performance.now()
      try {
        const { bytes, source } = await load()
        const served = prepareModel(bytes, source, label)
        this.#current = served
        this.lastError = undefined
        this.#emit({ ok: true, source: label, served, ms: performance.now() - started })
        return served
      } catch (err) {
        const error = loadError(label, err, this.#current !== undefined, options.failure)
        this.lastError = error
        this.#emit({ ok: false, source: label, error, ms: performance.now() - started })
        throw error
      }
    }
    const next = this.#chain.then(run, run)
    this.#chain = next.catch(() => undefined)
    return next
  }

  /** Record a failure that happened before a load could start (a watch that could not read the alias). */
  fail(label: string, err: Error): void {
    const error = loadError(label, err, this.#current !== undefined)
    this.lastError = error
    this.#emit({ ok: false, source: label, error, ms: 0 })
  }

  #emit(event: ModelLoadEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event)
      } catch {
        // A failing listener (a metric, a log line) must not undo a swap.
      }
    }
  }
}

/**
 * How a failed load is reported: ERR_SERVE_MODEL_LOAD_FAILED while another model (or none, waiting) keeps the
 * server up; ERR_SERVE_MODEL_FILE_FAILED for the model file a server must load to start.
 */
export type LoadFailureCode = 'ERR_SERVE_MODEL_LOAD_FAILED' | 'ERR_SERVE_MODEL_FILE_FAILED'

/** What ERR_SERVE_MODEL_LOAD_FAILED says of the server after a failed load, with and without a model served. */
const KEEPS_SERVING = 'the current model keeps serving'
const NONE_SERVED = 'and no model is served until one loads'

function loadError(
  label: string,
  err: unknown,
  serving: boolean,
  code: LoadFailureCode = 'ERR_SERVE_MODEL_LOAD_FAILED',
): IntentopsError {
  const outcome = serving ? KEEPS_SERVING : NONE_SERVED
  if (isIntentopsError(err) && err.code === code && (code !== 'ERR_SERVE_MODEL_LOAD_FAILED' || serving)) return err
  // prepareModel's own failures already carry the cause in words.
  if (isIntentopsError(err) && err.code === 'ERR_SERVE_MODEL_LOAD_FAILED') {
    return createError(code, { source: label, outcome, detail: err.params.detail }, { cause: err.cause ?? err })
  }
  const detail = isIntentopsError(err) ? `${err.code}: ${err.message}` : (err as Error).message
  return createError(code, { source: label, outcome, detail }, { cause: err })
}
