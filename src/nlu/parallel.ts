/**
 * A small pool of worker threads for training jobs. Inputs and outputs live in SharedArrayBuffers handed to every
 * worker once, so a job message is a few numbers. A job names its handler by a key of the frozen
 * `WORKER_HANDLERS` map; workers never import anything named in a message.
 *
 * Results never depend on how jobs are spread over workers: each job writes its own slots of the shared outputs
 * and draws its randomness from a seed derived from its own identity.
 * @module
 */
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createError } from '../errors.js'
import { WORKER_HANDLERS, type WorkerJob } from './worker-handlers.js'

export interface JobRunner {
  /** Run every job, up to `size` at a time; resolves when all are done. `onDone` fires after each job. */
  runAll(jobs: readonly WorkerJob[], onDone?: () => void): Promise<void>
  close(): Promise<void>
}

/** How many workers to use when the caller did not say: all cores, at most 4, and none for small problems. */
export function defaultWorkerCount(work: number, threshold = 200_000): number {
  if (work < threshold) return 0
  return Math.min(4, Math.max(1, availableParallelism()))
}

/**
 * Array makers for a job's inputs and outputs: over SharedArrayBuffers when workers will read them, plain otherwise
 * (a SharedArrayBuffer costs more to make and is not needed by the calling thread alone).
 */
export function jobArrays(useWorkers: boolean): {
  float64(n: number): Float64Array
  share<T extends Int32Array | Float32Array | Float64Array>(a: T): T
} {
  return {
    float64: (n) => (useWorkers ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n)),
    share: (a) => {
      if (!useWorkers) return a
      const b = new (a.constructor as { new (buf: SharedArrayBuffer): typeof a })(new SharedArrayBuffer(a.byteLength))
      b.set(a as never)
      return b
    },
  }
}

/** Runs jobs in the calling thread, one after another, yielding between jobs so an abort can land. */
export function inThreadRunner(shared: unknown, signal?: AbortSignal): JobRunner {
  return {
    async runAll(jobs, onDone) {
      for (const job of jobs) {
        signal?.throwIfAborted()
        WORKER_HANDLERS[job.kind](shared as never, job as never)
        onDone?.()
        await new Promise((r) => setImmediate(r))
      }
    },
    async close() {},
  }
}

/** Starts `size` workers sharing `shared` (typed arrays over SharedArrayBuffers). */
export function workerRunner(size: number, shared: unknown, signal?: AbortSignal): JobRunner {
  const workers: Worker[] = []
  for (let i = 0; i < size; i++) workers.push(spawnWorker(shared))
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await Promise.all(workers.map((w) => w.terminate()))
  }
  return {
    runAll(jobs, onDone) {
      return new Promise<void>((resolve, reject) => {
        let next = 0
        let finished = 0
        let failed = false
        const fail = (err: unknown) => {
          if (failed) return
          failed = true
          signal?.removeEventListener('abort', onAbort)
          for (const w of workers) w.removeAllListeners('message').removeAllListeners('error')
          void close()
          reject(err)
        }
        const onAbort = () => fail(signal?.reason ?? createError('ERR_TRAIN_ABORTED'))
        if (signal?.aborted) return onAbort()
        signal?.addEventListener('abort', onAbort, { once: true })
        if (jobs.length === 0) return resolve()
        const feed = (w: Worker) => {
          if (next >= jobs.length) return
          w.postMessage(jobs[next++])
        }
        for (const w of workers) {
          w.on('message', (msg: { ok: boolean; error?: string }) => {
            if (failed) return
            if (!msg.ok) return fail(createError('ERR_INTERNAL', { detail: `training worker failed: ${msg.error}` }))
            finished++
            onDone?.()
            if (finished === jobs.length) {
              signal?.removeEventListener('abort', onAbort)
              for (const x of workers) x.removeAllListeners('message').removeAllListeners('error')
              resolve()
            } else feed(w)
          })
          w.on('error', (err) =>
            fail(createError('ERR_INTERNAL', { detail: `training worker failed: ${err.message}` })),
          )
          feed(w)
        }
      })
    },
    close,
  }
}

function spawnWorker(shared: unknown): Worker {
  const self = import.meta.url
  if (self.endsWith('.ts')) {
    // Running from TypeScript sources (tests, tsx): register the loader inside the worker before importing.
    const url = new URL('./worker.ts', self).href
    const tsx = tsxEsmApi(self)
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url)}) })`
    return new Worker(code, { eval: true, workerData: shared })
  }
  return new Worker(new URL('./worker.js', self), { workerData: shared })
}

/** The file URL of tsx's ESM loader API, resolved from this package (an eval'd worker resolves from the cwd). */
function tsxEsmApi(from: string): string {
  const require = createRequire(from)
  const pkgFile = require.resolve('tsx/package.json')
  const pkg = require(pkgFile) as { exports: Record<string, { import: { default: string } }> }
  return pathToFileURL(path.join(path.dirname(pkgFile), pkg.exports['./esm/api']!.import.default)).href
}
