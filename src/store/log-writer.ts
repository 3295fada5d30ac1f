/**
 * A log writer that runs in a worker thread with a store connection of its own. better-sqlite3 is synchronous, so
 * writing the prediction log on the server's own thread would stall every request for the length of each batch; on
 * PostgreSQL the driver is asynchronous, but making, compiling and binding the rows still costs the event loop
 * ~55 µs a record (bench/store.ts). Here the main thread only hands over each record's JSON text.
 * @module
 */
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createError } from '../errors.js'
import { firstInvalidPrediction } from './kysely-store.js'
import type { JsonBatchWriter } from './log-queue.js'
import type { RedactionRule } from './redact.js'
import type { InsertOutcome, PredictionRecord } from './types.js'

export interface LogWriter {
  /** The store's `insertPredictions`: a batch holding an invalid record is refused whole. */
  insertPredictions(records: readonly PredictionRecord[]): Promise<void>
  close(): Promise<void>
  /** CPU seconds the writer has used, where it runs apart and can tell (a thread on Linux). */
  cpuSeconds?(): number | undefined
}

export interface SqliteWorkerWriterOptions {
  /** The store file; the main thread's store must have migrated it. */
  file: string
  busyTimeoutMs?: number
  redaction: readonly RedactionRule[]
  senderKey?: string
}

/** The store the thread connects to; the main thread's store must have migrated it. */
export type WorkerStoreTarget =
  | { backend: 'sqlite'; file: string; busyTimeoutMs: number }
  | { backend: 'postgres'; url: string; schema?: string; poolSize: number }

export interface WorkerLogWriterOptions {
  target: WorkerStoreTarget
  redaction: readonly RedactionRule[]
  senderKey?: string
  /** Added to the thread's nice value (Linux), so that requests come first on a core it shares; 0 or none: level. */
  nice?: number
  /** Told each time the thread's priority changes with `setBehind`, or fails to (for logs). */
  onPriority?: (event: PriorityEvent) => void
}

/** The writer thread's id and priorities (nice values), as it lowered itself at start. */
export interface ThreadPriority {
  tid: number
  /** The server's priority, which the thread started at. */
  base: number
  /** What the thread lowered itself to. */
  lowered: number
}

/** A change of the writer thread's priority: back to the server's while the log is behind, and down again after. */
export type PriorityEvent =
  | { behind: boolean; ok: true; nice: number }
  | { behind: boolean; ok: false; nice: number; error: Error }

/** What the thread receives as `workerData`. */
export interface WorkerData {
  target: WorkerStoreTarget
  redaction: RedactionRule[]
  senderKey?: string
  nice?: number
}

/**
 * The thread's answer; it hands the batch's buffer back for the next batch, and tells its CPU seconds so far. A
 * write that left records out says how many, and the error for the first of them.
 */
type Reply = { id: number; buffer?: ArrayBuffer; cpu?: number } & (
  | { ok: true; refused: number; message?: string; code?: string }
  | { ok: false; message: string; code?: string }
)

/** Sent once by a thread that lowered its priority at start. */
type PriorityMessage = { type: 'priority' } & ThreadPriority

/** Smallest batch buffer made; sizes are rounded up to a power of two so a recycled one usually fits. */
const MIN_BATCH_BUFFER = 64 * 1024

export class WorkerLogWriter implements LogWriter, JsonBatchWriter {
  private worker: Worker | undefined
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (o: InsertOutcome) => void; reject: (e: Error) => void }>()
  private closed = false
  /** A batch buffer the thread handed back, and every buffer this writer may transfer. */
  private spare: ArrayBuffer | undefined
  private readonly recyclable = new WeakSet<ArrayBuffer>()
  /** CPU seconds of the threads that ended, and the latest the current one told. */
  private cpuEnded = 0
  private cpuCurrent: number | undefined
  /** The live thread's priorities, once it told them (Linux, with `nice`). */
  private priority: ThreadPriority | undefined
  private behind = false

  constructor(private readonly options: WorkerLogWriterOptions) {}

  cpuSeconds(): number | undefined {
    if (this.cpuCurrent === undefined && this.cpuEnded === 0) return undefined
    return this.cpuEnded + (this.cpuCurrent ?? 0)
  }

  /**
   * The queue is falling behind (or has caught up): the thread runs at the server's priority until it catches up,
   * then below it again. A thread niced below everything else on a busy machine writes too slowly to keep up, and a
   * full queue drops records; a record lost costs more than the latency the writer adds to requests meanwhile.
   * The main thread renices the writer by its thread id, so the change holds at once, even during a batch. Raising
   * a priority back needs CAP_SYS_NICE or an RLIMIT_NICE that allows it (`LimitNICE=` in a systemd unit); without
   * them the thread stays lowered, and `onPriority` says why.
   */
  setBehind(behind: boolean): void {
    if (this.behind === behind) return
    this.behind = behind
    this.applyPriority()
  }

  /** The writer thread's current nice value, where it lowered itself (Linux); undefined otherwise. */
  threadNice(): number | undefined {
    const p = this.priority
    if (!p) return undefined
    try {
      return os.getPriority(p.tid)
    } catch {
      return undefined
    }
  }

  private applyPriority(): void {
    const p = this.priority
    if (!p || p.base === p.lowered) return
    const nice = this.behind ? p.base : p.lowered
    const behind = this.behind
    try {
      os.setPriority(p.tid, nice)
      this.options.onPriority?.({ behind, ok: true, nice })
    } catch (err) {
      this.options.onPriority?.({ behind, ok: false, nice, error: err as Error })
    }
  }

  async insertPredictions(records: readonly PredictionRecord[]): Promise<void> {
    // The thread leaves invalid records out; as a store, this refuses their batch before any of it is written.
    const invalid = firstInvalidPrediction(records)
    if (invalid) throw invalid
    let text = ''
    for (const r of records) text += `${JSON.stringify(r)}\n`
    // A buffer of its own (TextEncoder never hands out a pooled one), so it can be transferred.
    const { error } = await this.insertJson(new TextEncoder().encode(text), records.length)
    if (error) throw error
  }

  batchBuffer(bytes: number): Uint8Array {
    let buffer = this.spare
    if (buffer && buffer.byteLength >= bytes) {
      this.spare = undefined
    } else {
      buffer = new ArrayBuffer(Math.max(MIN_BATCH_BUFFER, 2 ** Math.ceil(Math.log2(Math.max(1, bytes)))))
      this.recyclable.add(buffer)
    }
    return new Uint8Array(buffer, 0, bytes)
  }

  /**
   * The thread takes a batch as JSON text, rather than as record objects: structured clone costs ~10 µs a record
   * across both threads, stringify + parse ~8.5 (bench/log-cost.ts). The buffer is transferred, not copied: it
   * belongs to the thread once this is called. The thread runs `checkPrediction` on each record as it reads it, and
   * leaves out (and counts) those it refuses.
   */
  insertJson(batch: Uint8Array, count: number): Promise<InsertOutcome> {
    if (this.closed) return Promise.reject(createError('ERR_INTERNAL', { detail: 'the log writer is closed' }))
    if (count === 0) return Promise.resolve({ refused: 0 })
    const worker = this.spawn()
    const id = this.nextId++
    return new Promise<InsertOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      // Held only while a write is in flight, so an idle writer never keeps the process alive.
      worker.ref()
      // Transferring detaches the whole ArrayBuffer: only one this writer made (or one wholly the batch's) may go.
      const buffer = batch.buffer
      const mine =
        buffer instanceof ArrayBuffer &&
        (this.recyclable.has(buffer) || (batch.byteOffset === 0 && batch.byteLength === buffer.byteLength))
      const own = mine ? batch : new Uint8Array(batch)
      worker.postMessage({ type: 'insert', id, buffer: own.buffer, offset: own.byteOffset, length: own.byteLength }, [
        own.buffer as ArrayBuffer,
      ])
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const worker = this.worker
    if (!worker) return
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve())
      // Keep the process alive until the thread has closed its connection.
      worker.ref()
      worker.postMessage({ type: 'close' })
    })
  }

  private spawn(): Worker {
    if (this.worker) return this.worker
    const { target, redaction, senderKey, nice } = this.options
    const data: WorkerData = {
      target,
      redaction: [...redaction],
      ...(senderKey ? { senderKey } : {}),
      ...(nice ? { nice } : {}),
    }
    const worker = startWorker(data)
    worker.on('message', (message: Reply | PriorityMessage) => {
      if ('type' in message) {
        if (this.worker !== worker) return
        const { tid, base, lowered } = message
        this.priority = { tid, base, lowered }
        // A queue already behind when this thread started (a thread that died is replaced mid-backlog).
        if (this.behind) this.applyPriority()
        return
      }
      const reply = message
      if (reply.cpu !== undefined && this.worker === worker) this.cpuCurrent = reply.cpu
      if (reply.buffer && reply.buffer.byteLength > (this.spare?.byteLength ?? 0)) {
        this.recyclable.add(reply.buffer)
        this.spare = reply.buffer
      }
      const p = this.pending.get(reply.id)
      if (!p) return
      this.pending.delete(reply.id)
      if (this.pending.size === 0) worker.unref()
      // Errors are rebuilt from their message and code: a thread's error does not cross as itself.
      const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {})
      if (!reply.ok) p.reject(error(reply.message, reply.code))
      else if (reply.refused > 0) p.resolve({ refused: reply.refused, error: error(reply.message ?? '', reply.code) })
      else p.resolve({ refused: 0 })
    })
    const fail = (err: Error) => {
      // A dead thread fails what it held; the next write starts a new one (the queue retries those batches).
      if (this.worker === worker) {
        this.worker = undefined
        this.priority = undefined
        this.cpuEnded += this.cpuCurrent ?? 0
        this.cpuCurrent = undefined
      }
      for (const [id, p] of this.pending) {
        this.pending.delete(id)
        p.reject(err)
      }
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the log writer thread exited (code ${code})`)))
    worker.unref()
    this.worker = worker
    return worker
  }
}

/** The SQLite writer thread, from the options it has always taken. */
export class SqliteWorkerWriter extends WorkerLogWriter {
  constructor(options: SqliteWorkerWriterOptions) {
    const { file, busyTimeoutMs = 5000, redaction, senderKey } = options
    super({ target: { backend: 'sqlite', file, busyTimeoutMs }, redaction, ...(senderKey ? { senderKey } : {}) })
  }
}

const SELF = import.meta.url
const WORKER_URL = new URL(SELF.endsWith('.ts') ? './log-writer-worker.ts' : './log-writer-worker.js', SELF)

function startWorker(workerData: WorkerData): Worker {
  if (WORKER_URL.pathname.endsWith('.ts')) {
    // Running from TypeScript sources (tests, tsx): register the tsx loader inside the worker before loading it.
    const require = createRequire(SELF)
    const pkgFile = require.resolve('tsx/package.json')
    const pkg = require(pkgFile) as { exports: Record<string, { import: { default: string } }> }
    const tsx = pathToFileURL(path.join(path.dirname(pkgFile), pkg.exports['./esm/api']!.import.default)).href
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
    return new Worker(code, { eval: true, workerData })
  }
  return new Worker(WORKER_URL, { workerData })
}
