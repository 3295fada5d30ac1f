/**
 * Entry point of the log-writer thread: owns its own connection to the store (the SQLite file, or a small
 * PostgreSQL pool) and runs the same inserts as the main thread would, so redaction, hashing, query
 * compilation and SQLite's synchronous work never hold the server's event loop.
 * @module
 */
import { readFileSync, readlinkSync } from 'node:fs'
import os from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { parseJsonLines } from './json-backlog.js'
import type { ThreadPriority, WorkerData } from './log-writer.js'
import { openPostgresStore } from './postgres.js'
import { compileJudgedRedactor } from './redact.js'
import { openSqliteStore } from './sqlite.js'
import type { PredictionRecord } from './types.js'

const data = workerData as WorkerData
const port = parentPort!

/**
 * Lowers this thread's CPU priority by `nice`, as databases lower their compaction threads'. At an even priority,
 * a batch written on a core the event loop (or anything else serving requests) also wants takes turns with it of
 * milliseconds, and every request waiting meanwhile pays for them (bench/README.md, "The log writer's priority").
 * Linux only: there `setpriority` on a thread id renices that thread alone, where elsewhere it would renice the
 * whole process. A priority it cannot set leaves the thread level. Returns the thread id and both priorities, so
 * the server can put the thread back at its own priority while the log falls behind (`WorkerLogWriter.setBehind`).
 */
function lowerPriority(nice: number, startLevel: boolean): ThreadPriority | undefined {
  if (nice <= 0 || process.platform !== 'linux') return undefined
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1))
    if (!Number.isInteger(tid) || tid <= 0 || tid === process.pid) return undefined
    const base = os.getPriority(tid)
    const lowered = Math.min(19, base + nice)
    // Started to take over from a thread the process could not raise back: the server lowers it once caught up.
    if (!startLevel) os.setPriority(tid, lowered)
    return { tid, base, lowered }
  } catch {
    // No /proc, or a sandbox that refuses: the thread runs at the server's priority.
    return undefined
  }
}
const priority = lowerPriority(data.nice ?? 0, data.startLevel === true)
if (priority) port.postMessage({ type: 'priority', ...priority })
const common = {
  // The writer that started this thread judged the rules, on the lengths the server takes.
  redact: compileJudgedRedactor(data.redaction),
  ...(data.senderKey ? { senderKey: data.senderKey } : {}),
}
const { target } = data
const store =
  target.backend === 'postgres'
    ? openPostgresStore({
        ...common,
        url: target.url,
        poolSize: target.poolSize,
        ...(target.schema ? { schema: target.schema } : {}),
      })
    : openSqliteStore({ ...common, file: target.file, busyTimeoutMs: target.busyTimeoutMs })

/**
 * This thread's CPU time so far, seconds, from Linux's per-thread scheduler statistics (ns); undefined where there
 * are none. Read once a batch (~10 µs), so the server can report what the log costs it.
 */
function threadCpuSeconds(): number | undefined {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
    return Number.isFinite(ns) ? ns / 1e9 : undefined
  } catch {
    return undefined
  }
}

/**
 * A batch: newline-delimited JSON records in `buffer` (transferred), from `offset`, `length` bytes. `idle`: kept in
 * reserve for a while, the thread frees its connection's cache.
 */
type Request =
  | { type: 'insert'; id: number; buffer: ArrayBuffer; offset: number; length: number }
  | { type: 'close' }
  | { type: 'idle' }

port.on('message', async (msg: Request) => {
  if (msg.type === 'close') {
    await store.close().catch(() => {})
    port.close()
    return
  }
  if (msg.type === 'idle') {
    store.releaseMemory()
    return
  }
  const { buffer } = msg
  try {
    const records = parseJsonLines(new Uint8Array(buffer, msg.offset, msg.length)) as PredictionRecord[]
    // `push` checked each record's object; this checks its JSON form, which is what gets written. A record refused
    // here is left out and counted, and the rest of its batch written.
    const { refused, error } = await store.insertValidPredictions(records)
    const problem = error ? { message: error.message, code: (error as { code?: string }).code } : {}
    // The buffer goes back for the next batch.
    port.postMessage({ id: msg.id, ok: true, refused, ...problem, buffer, cpu: threadCpuSeconds() }, [buffer])
  } catch (err) {
    const e = err as Error & { code?: string }
    const reply = {
      id: msg.id,
      ok: false,
      message: e.message ?? String(err),
      code: e.code,
      buffer,
      cpu: threadCpuSeconds(),
    }
    port.postMessage(reply, [buffer])
  }
})
