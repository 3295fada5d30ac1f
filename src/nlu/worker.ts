/**
 * Entry point of a training worker thread: runs jobs from the parent against the shared data it was started with.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { WORKER_HANDLERS, type WorkerJob } from './worker-handlers.js'

parentPort?.on('message', (job: WorkerJob) => {
  try {
    const handler = WORKER_HANDLERS[job.kind]
    if (!handler) throw new Error(`unknown job kind`)
    handler(workerData as never, job as never)
    parentPort?.postMessage({ ok: true })
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) })
  }
})
