/**
 * Entry point of every evaluation worker thread: loads the job module named by the pool, keeps the shared context,
 * and runs one job at a time on request, reporting progress, results and errors as messages.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { type HostMessage, type JobHandler, serializeError } from './pool.js'

const { module: moduleHref, context } = workerData as { module: string; context: unknown }
const port = parentPort!
const { handleJob } = (await import(moduleHref)) as { handleJob: JobHandler<unknown, unknown, unknown> }

const post = (msg: HostMessage) => port.postMessage(msg)

port.on('message', async (msg: { type: 'run'; index: number; job: unknown }) => {
  if (msg.type !== 'run') return
  const { index } = msg
  let last = 0
  try {
    const result = await handleJob(msg.job, context, {
      onProgress: (fraction) => {
        // throttle: the main thread only redraws a bar
        const now = Date.now()
        if (now - last < 100 && fraction < 1) return
        last = now
        post({ type: 'progress', index, fraction })
      },
    })
    post({ type: 'done', index, result })
  } catch (err) {
    post({ type: 'error', index, error: serializeError(err) })
  }
})
post({ type: 'ready' })
