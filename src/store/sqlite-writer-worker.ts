/**
 * Entry point of the SQLite log-writer thread: owns its own connection to the store file and runs the same
 * `insertPredictions` as the main thread would, so redaction, hashing, query compilation and SQLite's synchronous
 * work never hold the server's event loop.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createRedactor, type RedactionRule } from './redact.js'
import { openSqliteStore } from './sqlite.js'
import type { PredictionRecord } from './types.js'

interface WriterData {
  file: string
  busyTimeoutMs: number
  redaction: RedactionRule[]
  senderKey?: string
}

const data = workerData as WriterData
const port = parentPort!
const store = openSqliteStore({
  file: data.file,
  busyTimeoutMs: data.busyTimeoutMs,
  redact: createRedactor(data.redaction),
  ...(data.senderKey ? { senderKey: data.senderKey } : {}),
})

type Request = { type: 'insert'; id: number; records: string } | { type: 'close' }

port.on('message', async (msg: Request) => {
  if (msg.type === 'close') {
    await store.close().catch(() => {})
    port.close()
    return
  }
  try {
    await store.insertPredictions(JSON.parse(msg.records) as PredictionRecord[])
    port.postMessage({ id: msg.id, ok: true })
  } catch (err) {
    const e = err as Error & { code?: string }
    port.postMessage({ id: msg.id, ok: false, message: e.message ?? String(err), code: e.code })
  }
})
