/**
 * Runs independent jobs (cross-validation folds, learning-curve points, tuning trials) in parallel in
 * `worker_threads`. A job is plain serialisable data; the code that runs it is a module exporting `handleJob`,
 * loaded by each worker. The shared context (the training data) is cloned into each worker once, not per job.
 * @module
 */
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createError, ERROR_CATALOG, type ErrorCode, IntentopsError } from '../errors.js'

/** What a job module exports: run one job against the shared context. */
export type JobHandler<J, C, R> = (job: J, context: C, hooks: JobHooks) => Promise<R>

export interface JobHooks {
  /** Progress of this job in [0, 1]. */
  onProgress?: (fraction: number) => void
  /** Set when the run is cancelled (in-process runs only; workers are terminated instead). */
  signal?: AbortSignal
}

export interface RunJobsOptions<C, R> {
  /** URL of the module exporting `handleJob`. */
  module: URL
  /** Cloned into every worker once. */
  context: C
  /** Parallel workers. Default: the available cores, at most the number of jobs. 1 runs in this thread. */
  concurrency?: number
  signal?: AbortSignal
  onProgress?: (jobIndex: number, fraction: number) => void
  /** Called as each job finishes, in completion order. */
  onResult?: (jobIndex: number, result: R) => void
  /** For messages: "fold", "trial". */
  kind?: string
}

/** Messages between the pool and a worker host. */
export type HostMessage =
  | { type: 'ready' }
  | { type: 'progress'; index: number; fraction: number }
  | { type: 'done'; index: number; result: unknown }
  | { type: 'error'; index: number; error: SerializedError }

export interface SerializedError {
  code?: string
  message: string
  params?: Record<string, unknown>
  hint?: string
  location?: { file: string; line?: number; column?: number }
  stack?: string
}

/** Default parallelism: every core, but never more workers than jobs. */
export function defaultConcurrency(jobs: number): number {
  return Math.max(1, Math.min(jobs, availableParallelism()))
}

/**
 * Worker threads a training job may use inside a pool of `concurrency` workers running `jobs` jobs: none while
 * every core has a job of its own, but the jobs of the last, partial round get the cores the others leave idle.
 * `undefined` lets training choose.
 */
export function trainWorkersFor(index: number, jobs: number, concurrency: number): number | undefined {
  if (concurrency <= 1) return undefined
  const tail = jobs % concurrency
  return tail > 0 && index >= jobs - tail ? undefined : 0
}

/** Turn an error into data that crosses a thread (or, later, a machine) boundary. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof IntentopsError) {
    const e: SerializedError = { code: err.code, message: err.message, params: { ...err.params } }
    if (err.hint) e.hint = err.hint
    if (err.location) e.location = err.location
    if (err.stack) e.stack = err.stack
    return e
  }
  const e = err as Error
  return { message: e?.message ?? String(err), ...(e?.stack ? { stack: e.stack } : {}) }
}

/** Rebuild a catalog error from a worker as itself; anything else becomes ERR_EVAL_WORKER_FAILED. */
export function deserializeError(e: SerializedError, kind: string): IntentopsError {
  if (e.code && e.code in ERROR_CATALOG) {
    const err = new IntentopsError(e.code as ErrorCode, e.params ?? {}, {
      ...(e.location ? { location: e.location } : {}),
      ...(e.hint ? { hint: e.hint } : {}),
    })
    if (e.stack) err.stack = e.stack
    return err
  }
  const cause = new Error(e.message)
  if (e.stack) cause.stack = e.stack
  return createError('ERR_EVAL_WORKER_FAILED', { kind, detail: e.message }, { cause })
}

const HOST_URL = new URL(import.meta.url.endsWith('.ts') ? './worker-host.ts' : './worker-host.js', import.meta.url)

/** The ESM entry of tsx's loader API, resolved from this package (not from the working directory). */
function tsxApiUrl(): string {
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api')
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json')
  return pathToFileURL(path.join(path.dirname(pkg), 'dist/esm/api/index.mjs')).href
}

function spawnWorker(workerData: unknown): Worker {
  const options = { workerData }
  if (HOST_URL.pathname.endsWith('.ts')) {
    // Running from TypeScript sources (tests, tsx): register the tsx loader inside the worker before loading it.
    const tsx = tsxApiUrl()
    const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(HOST_URL.href)}) })`
    return new Worker(code, { ...options, eval: true })
  }
  return new Worker(HOST_URL, options)
}

/**
 * Run every job and return the results in job order. Rejects with ERR_EVAL_ABORTED when `signal` fires (workers are
 * terminated at once; results already delivered through `onResult` stay with the caller), and with the job's own
 * error when one fails.
 */
export async function runJobs<J, C, R>(jobs: readonly J[], options: RunJobsOptions<C, R>): Promise<R[]> {
  const kind = options.kind ?? 'job'
  if (options.signal?.aborted) throw createError('ERR_EVAL_ABORTED', {})
  if (jobs.length === 0) return []
  const concurrency = Math.max(1, Math.min(jobs.length, options.concurrency ?? defaultConcurrency(jobs.length)))
  if (concurrency === 1) return runInProcess(jobs, options)

  const results = new Array<R>(jobs.length)
  let next = 0
  let finished = 0
  const workers: Worker[] = []
  // workers stopped because the queue ran dry: their exit code (1 after terminate) is not a failure
  const retired = new Set<Worker>()
  return new Promise<R[]>((resolve, reject) => {
    let settled = false
    const finish = (err?: unknown) => {
      if (settled) return
      settled = true
      options.signal?.removeEventListener('abort', onAbort)
      for (const w of workers) void w.terminate()
      if (err) reject(err)
      else resolve(results)
    }
    const onAbort = () => finish(createError('ERR_EVAL_ABORTED', {}))
    options.signal?.addEventListener('abort', onAbort, { once: true })

    const feed = (w: Worker) => {
      if (settled) return
      if (next >= jobs.length) {
        retired.add(w)
        void w.terminate()
        return
      }
      const index = next++
      w.postMessage({ type: 'run', index, job: jobs[index] })
    }
    for (let i = 0; i < concurrency; i++) {
      const w = spawnWorker({ module: options.module.href, context: options.context })
      workers.push(w)
      w.on('message', (msg: HostMessage) => {
        if (settled) return
        switch (msg.type) {
          case 'ready':
            feed(w)
            break
          case 'progress':
            options.onProgress?.(msg.index, msg.fraction)
            break
          case 'done':
            results[msg.index] = msg.result as R
            finished++
            options.onResult?.(msg.index, msg.result as R)
            if (finished === jobs.length) finish()
            else feed(w)
            break
          case 'error':
            finish(deserializeError(msg.error, kind))
            break
        }
      })
      w.on('error', (err) => finish(deserializeError(serializeError(err), kind)))
      w.on('exit', (code) => {
        if (!settled && code !== 0 && !retired.has(w)) {
          finish(createError('ERR_EVAL_WORKER_FAILED', { kind, detail: `the worker exited with code ${code}` }))
        }
      })
    }
  })
}

async function runInProcess<J, C, R>(jobs: readonly J[], options: RunJobsOptions<C, R>): Promise<R[]> {
  const mod = (await import(options.module.href)) as { handleJob: JobHandler<J, C, R> }
  const results: R[] = []
  for (let index = 0; index < jobs.length; index++) {
    if (options.signal?.aborted) throw createError('ERR_EVAL_ABORTED', {})
    const hooks: JobHooks = { onProgress: (f) => options.onProgress?.(index, f) }
    if (options.signal) hooks.signal = options.signal
    const result = await mod.handleJob(jobs[index]!, options.context, hooks)
    if (options.signal?.aborted) throw createError('ERR_EVAL_ABORTED', {})
    results.push(result)
    options.onResult?.(index, result)
  }
  return results
}
