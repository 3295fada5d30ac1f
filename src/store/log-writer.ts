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
import { assertRedactionRules, createRedactor, type RedactionRule } from './redact.js'
import type { InsertOutcome, PredictionRecord } from './types.js'

export interface LogWriter {
  /** The store's `insertPredictions`: a batch holding an invalid record is refused whole. */
  insertPredictions(records: readonly PredictionRecord[]): Promise<void>
  close(): Promise<void>
  /** CPU seconds the writer has used, where it runs apart and can tell (a thread on Linux). */
  cpuSeconds?(): number | undefined
  /** The redaction rules it applies before writing, for a server to judge on the longest text it takes. */
  readonly redaction?: readonly RedactionRule[]
}

/**
 * The longest texts the server hands the log (`serve.maxTextLength`, `serve.bodyLimitBytes`): a writer judges its
 * redaction rules on them, as `buildApp` does.
 */
export interface RedactedTextLimits {
  maxTextLength: number
  bodyLimitBytes: number
}

export interface SqliteWorkerWriterOptions {
  /** The store file; the main thread's store must have migrated it. */
  file: string
  busyTimeoutMs?: number
  redaction: readonly RedactionRule[]
  senderKey?: string
  /** Judge the rules on the texts the server takes, not on 10,000 characters alone. */
  serve?: RedactedTextLimits
}

/** The store the thread connects to; the main thread's store must have migrated it. */
export type WorkerStoreTarget =
  | { backend: 'sqlite'; file: string; busyTimeoutMs: number }
  | { backend: 'postgres'; url: string; schema?: string; poolSize: number }

export interface WorkerLogWriterOptions {
  target: WorkerStoreTarget
  /**
   * Judged here, on the calling thread, when the writer is made (ERR_STORE_REDACTION_INVALID or
   * ERR_STORE_REDACTION_UNSAFE as from `createRedactor`, and ERR_CONFIG_INVALID as from `buildApp` on the lengths of
   * `serve`); the thread applies them as judged.
   */
  redaction: readonly RedactionRule[]
  /** Judge the rules on the texts the server takes, not on 10,000 characters alone. */
  serve?: RedactedTextLimits
  senderKey?: string
  /** Added to the thread's nice value (Linux), so that requests come first on a core it shares; 0 or none: level. */
  nice?: number
  /** Told each time the thread's priority changes with `setBehind`, or fails to (for logs). */
  onPriority?: (event: PriorityEvent) => void
  /**
   * Starts one writer thread (default `startWriterThread`, the log-writer-worker module next to this one). A test
   * passes one that keeps each `Worker` it starts, to end it under the writer as a crash would.
   */
  startThread?: (data: WorkerData) => Worker
}

/** One writer thread as `WorkerLogWriter.state` tells it. */
export interface WriterThreadState {
  /** Its thread id, once it told it (Linux, with `nice`). */
  tid?: number
  /** Its nice value as the writer last set it, once it told its priorities (`threadNice` reads the thread's own). */
  nice?: number
  /** Writes it holds: sent to it and not yet answered. */
  inFlight: number
}

/**
 * What a `WorkerLogWriter` is doing, for logs, benchmarks and tests: a copy taken when asked, which changing it
 * does not affect.
 */
export interface LogWriterState {
  /** The thread new writes go to; none before the first write, after its thread died, or once closed. */
  writing?: WriterThreadState
  /** The thread kept at the other priority, where the process may not raise one back (see `setBehind`). */
  reserve?: WriterThreadState
  /** Threads alive: the writing one, the reserve, and any closing once it has answered what it holds. */
  threads: number
  /**
   * Threads started since the writer was made: the first, each that replaced one that died, and the one started to
   * take the writes where the writing one could not be raised back.
   */
  started: number
  /** Writes sent to any thread and not yet answered. */
  inFlight: number
  /** As the queue last said with `setBehind`. */
  behind: boolean
  closed: boolean
}

/** The writer thread's id and priorities (nice values), as it lowered itself at start. */
export interface ThreadPriority {
  tid: number
  /** The server's priority, which the thread started at. */
  base: number
  /** What the thread lowered itself to. */
  lowered: number
}

/**
 * A change of the writer's priority: back to the server's while the log is behind, and down again after. `thread`
 * says where the process may not raise a thread's priority back, and so the writes moved to another thread instead
 * (see `WorkerLogWriter.setBehind`): `new`, one started for it, at the server's priority; `kept`, the one kept at
 * the priority wanted since then.
 */
export type PriorityEvent =
  | { behind: boolean; ok: true; nice: number; thread?: 'new' | 'kept' }
  | { behind: boolean; ok: false; nice: number; error: Error }

/** What the thread receives as `workerData`. */
export interface WorkerData {
  target: WorkerStoreTarget
  /** Judged by the writer that starts the thread (see `WorkerLogWriterOptions.redaction`). */
  redaction: RedactionRule[]
  senderKey?: string
  nice?: number
  /** Starts at the server's priority and reports `nice` as the one to lower to (a thread started while behind). */
  startLevel?: boolean
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

/** One writer thread and what the writer knows of it. */
interface WriterThread {
  worker: Worker
  /** Ids of the writes it holds. */
  pending: Set<number>
  /** Its id and priorities, once it told them (Linux, with `nice`). */
  priority?: ThreadPriority
  /** Its nice value as last set (the one it started at until then). */
  nice?: number
  /** CPU seconds it told so far. */
  cpu?: number
  /** Closes once it has answered the writes it holds. */
  closing: boolean
  /** Kept in reserve: frees its connection's cache once it has answered the writes it holds. */
  resting: boolean
  exited: Promise<void>
}

export class WorkerLogWriter implements LogWriter, JsonBatchWriter {
  /** The thread new writes go to. */
  private current: WriterThread | undefined
  /** A thread kept at the other priority, where the process may not raise a thread back (see `setBehind`). */
  private reserve: WriterThread | undefined
  /** Every thread alive: the current one, the reserve, and any closing once it has answered. */
  private readonly threads = new Set<WriterThread>()
  private nextId = 1
  private readonly pending = new Map<
    number,
    { resolve: (o: InsertOutcome) => void; reject: (e: Error) => void; thread: WriterThread }
  >()
  private closed = false
  /** A batch buffer the thread handed back, and every buffer this writer may transfer. */
  private spare: ArrayBuffer | undefined
  private readonly recyclable = new WeakSet<ArrayBuffer>()
  /** CPU seconds of the threads that ended. */
  private cpuEnded = 0
  private behind = false
  private started = 0

  /** The rules as judged: a copy, so that what the caller changes later never reaches a thread unjudged. */
  private readonly rules: readonly RedactionRule[]

  constructor(private readonly options: WorkerLogWriterOptions) {
    const rules = Object.freeze(options.redaction.map((r) => Object.freeze({ ...r })))
    // Judged once, here, where the server (or config loading) judged them already, so that verdicts are remembered; the
    // thread trusts them. Judging them again there would take its own time on each thread started, up to seconds,
    // from verdicts of its own, and on 10,000 characters rather than the server's lengths.
    createRedactor(rules)
    if (options.serve) assertRedactionRules(rules, options.serve)
    this.rules = rules
  }

  get redaction(): readonly RedactionRule[] {
    return this.rules
  }

  cpuSeconds(): number | undefined {
    let live: number | undefined
    for (const t of this.threads) if (t.cpu !== undefined) live = (live ?? 0) + t.cpu
    if (live === undefined && this.cpuEnded === 0) return undefined
    return this.cpuEnded + (live ?? 0)
  }

  /**
   * The queue is falling behind (or has caught up): the thread runs at the server's priority until it catches up,
   * then below it again. A thread niced below everything else on a busy machine writes too slowly to keep up, and a
   * full queue drops records; a record lost costs more than the latency the writer adds to requests meanwhile.
   * The main thread renices the writer by its thread id, so the change holds at once, even during a batch.
   *
   * Raising a priority back needs CAP_SYS_NICE or an RLIMIT_NICE that allows it, which most services lack (a
   * container's root, a systemd unit without `LimitNICE=`). Lowering one never does, and a new thread starts at the
   * priority of the thread that made it, the server's. So where the raise is refused, a new thread takes over the
   * writes and the lowered one is kept: from then on the writes move between the two as the queue falls behind and
   * catches up, since starting a thread costs ~250 ms of CPU (its modules and connection), spent when the machine
   * has none to spare. The one not writing only frees its cache. `onPriority` says which happened.
   */
  setBehind(behind: boolean): void {
    if (this.behind === behind) return
    this.behind = behind
    this.applyPriority()
  }

  /** The current writer thread's nice value, where it told its priorities (Linux); undefined otherwise. */
  threadNice(): number | undefined {
    const p = this.current?.priority
    if (!p) return undefined
    try {
      return os.getPriority(p.tid)
    } catch {
      return undefined
    }
  }

  /** Which threads run, which one writes, and what they hold: a snapshot, read-only. */
  state(): LogWriterState {
    const of = (t: WriterThread | undefined): WriterThreadState | undefined =>
      t && {
        ...(t.priority ? { tid: t.priority.tid } : {}),
        ...(t.nice !== undefined ? { nice: t.nice } : {}),
        inFlight: t.pending.size,
      }
    const writing = of(this.current)
    const reserve = of(this.reserve)
    return {
      ...(writing ? { writing } : {}),
      ...(reserve ? { reserve } : {}),
      threads: this.threads.size,
      started: this.started,
      inFlight: this.pending.size,
      behind: this.behind,
      closed: this.closed,
    }
  }

  private applyPriority(): void {
    const thread = this.current
    const p = thread?.priority
    if (!thread || !p || p.base === p.lowered) return
    const nice = this.behind ? p.base : p.lowered
    if (thread.nice === nice) return
    const behind = this.behind
    const reserve = this.reserve
    if (reserve && reserve.nice === nice) {
      this.reserve = thread
      this.current = reserve
      reserve.resting = false
      this.rest(thread)
      this.options.onPriority?.({ behind, ok: true, nice, thread: 'kept' })
      return
    }
    try {
      os.setPriority(p.tid, nice)
      thread.nice = nice
      this.options.onPriority?.({ behind, ok: true, nice })
    } catch (err) {
      if (behind && !this.closed) {
        if (reserve) this.closeThread(reserve)
        this.reserve = thread
        this.current = undefined
        this.rest(thread)
        this.spawn()
        this.options.onPriority?.({ behind, ok: true, nice, thread: 'new' })
        return
      }
      this.options.onPriority?.({ behind, ok: false, nice, error: err as Error })
    }
  }

  /** A thread kept in reserve frees its connection's cache, once it has answered what it holds. */
  private rest(thread: WriterThread): void {
    thread.resting = true
    this.whenIdle(thread)
  }

  /** Closes the thread once it has answered what it holds. */
  private closeThread(thread: WriterThread): void {
    if (thread.closing) return
    thread.closing = true
    if (this.reserve === thread) this.reserve = undefined
    if (this.current === thread) this.current = undefined
    this.whenIdle(thread)
  }

  /** What a thread does once it holds no write: close, free its cache (kept in reserve), or wait unreferenced. */
  private whenIdle(thread: WriterThread): void {
    if (thread.pending.size > 0) return
    const { worker } = thread
    if (thread.closing) {
      // Keep the process alive until the thread has closed its connection.
      worker.ref()
      worker.postMessage({ type: 'close' })
      return
    }
    // An idle writer never keeps the process alive.
    worker.unref()
    if (thread.resting) worker.postMessage({ type: 'idle' })
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
    const thread = this.current ?? this.spawn()
    const { worker } = thread
    const id = this.nextId++
    return new Promise<InsertOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, thread })
      thread.pending.add(id)
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
    const threads = [...this.threads]
    for (const thread of threads) this.closeThread(thread)
    await Promise.all(threads.map((t) => t.exited))
  }

  /** A new current thread: at the server's priority from the start while the queue is behind. */
  private spawn(): WriterThread {
    const { target, senderKey, nice } = this.options
    const data: WorkerData = {
      target,
      redaction: [...this.rules],
      ...(senderKey ? { senderKey } : {}),
      ...(nice ? { nice } : {}),
      ...(nice && this.behind ? { startLevel: true } : {}),
    }
    const worker = (this.options.startThread ?? startWriterThread)(data)
    this.started++
    let exited!: () => void
    const thread: WriterThread = {
      worker,
      pending: new Set(),
      closing: false,
      resting: false,
      exited: new Promise<void>((resolve) => {
        exited = resolve
      }),
    }
    worker.on('message', (message: Reply | PriorityMessage) => {
      if ('type' in message) {
        const { tid, base, lowered } = message
        thread.priority = { tid, base, lowered }
        thread.nice = data.startLevel ? base : lowered
        // The queue may have fallen behind, or caught up, while the thread started.
        if (this.current === thread) this.applyPriority()
        return
      }
      const reply = message
      if (reply.cpu !== undefined) thread.cpu = reply.cpu
      if (reply.buffer && reply.buffer.byteLength > (this.spare?.byteLength ?? 0)) {
        this.recyclable.add(reply.buffer)
        this.spare = reply.buffer
      }
      const p = this.pending.get(reply.id)
      if (!p) return
      this.pending.delete(reply.id)
      thread.pending.delete(reply.id)
      this.whenIdle(thread)
      // Errors are rebuilt from their message and code: a thread's error does not cross as itself.
      const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {})
      if (!reply.ok) p.reject(error(reply.message, reply.code))
      else if (reply.refused > 0) p.resolve({ refused: reply.refused, error: error(reply.message ?? '', reply.code) })
      else p.resolve({ refused: 0 })
    })
    const fail = (err: Error) => {
      // A dead thread fails what it held; the next write starts a new one (the queue retries those batches).
      if (this.threads.delete(thread)) {
        this.cpuEnded += thread.cpu ?? 0
        exited()
      }
      if (this.current === thread) this.current = undefined
      if (this.reserve === thread) this.reserve = undefined
      for (const id of thread.pending) {
        const p = this.pending.get(id)
        this.pending.delete(id)
        p?.reject(err)
      }
      thread.pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the log writer thread exited (code ${code})`)))
    worker.unref()
    this.threads.add(thread)
    this.current = thread
    return thread
  }
}

/** The SQLite writer thread, from the options it has always taken. */
export class SqliteWorkerWriter extends WorkerLogWriter {
  constructor(options: SqliteWorkerWriterOptions) {
    const { file, busyTimeoutMs = 5000, redaction, senderKey, serve } = options
    super({
      target: { backend: 'sqlite', file, busyTimeoutMs },
      redaction,
      ...(senderKey ? { senderKey } : {}),
      ...(serve ? { serve } : {}),
    })
  }
}

const SELF = import.meta.url
const WORKER_URL = new URL(SELF.endsWith('.ts') ? './log-writer-worker.ts' : './log-writer-worker.js', SELF)

/** Starts a writer thread on `workerData`: the log-writer-worker module next to this one (through tsx from sources). */
export function startWriterThread(workerData: WorkerData): Worker {
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
