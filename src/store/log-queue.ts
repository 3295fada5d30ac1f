/**
 * Gets predictions into the store without ever holding up a request: `push` only appends to a bounded in-memory
 * queue; one background writer takes batches off it, and retries with backoff while the store is down. When the queue
 * is full, new records are dropped and counted. Retries are safe because `insertPredictions` ignores ids it already
 * has, so a batch whose commit succeeded but whose answer was lost is not written twice.
 * @module
 */
import { createError } from '../errors.js'
import { JsonBacklog } from './json-backlog.js'
import { checkPrediction } from './kysely-store.js'
import { predictionJson } from './record-json.js'
import type { InsertOutcome, PredictionRecord, PredictionStore } from './types.js'

/**
 * A writer that takes a batch as newline-delimited JSON: each record's JSON text and a newline, UTF-8, in a buffer
 * the call owns (a thread writer transfers it rather than copying it). The queue then keeps each record as JSON text
 * from `push` on, outside the JavaScript heap (`JsonBacklog`): serializing a record as it is queued costs the event
 * loop what serializing it in its batch would, spread over the requests rather than in one stall of up to ~15 ms per
 * 5,000-record batch; held records cost the garbage collector nothing; and a record logged is the record as
 * answered.
 */
export interface JsonBatchWriter {
  /**
   * Writes `count` records; the same contract as `insertValidPredictions` (ids it has are ignored, invalid records
   * are left out and counted).
   */
  insertJson(batch: Uint8Array, count: number): Promise<InsertOutcome>
  /**
   * A buffer of exactly `bytes` for the next batch, when the writer recycles them (a thread hands each one back with
   * its answer: copying a batch into a fresh buffer of megabytes cost ~2 µs a record, into a recycled one ~0.1).
   */
  batchBuffer?(bytes: number): Uint8Array
}

/**
 * A writer told when the queue falls behind: from `behindAt` of its size queued (a quarter by default), until it is
 * back at `caughtUpAt` (a twentieth) or under. One that yields the CPU to requests stops yielding meanwhile, since a
 * queue that fills drops records.
 */
export interface BacklogAware {
  setBehind?(behind: boolean): void
}

/**
 * What the queue writes to. A store without `insertValidPredictions` (or `insertJson`) cannot say which records of a
 * batch it refuses as invalid: its refusal drops the whole batch.
 */
type QueueStore = Pick<PredictionStore, 'insertPredictions'> &
  Partial<Pick<PredictionStore, 'insertValidPredictions'>> &
  Partial<JsonBatchWriter> &
  BacklogAware

const NONE_REFUSED: InsertOutcome = { refused: 0 }

/** Where queued records wait: a FIFO the writer reads a leading run of, which stays until it is written. */
interface Backlog {
  readonly count: number
  append(record: PredictionRecord): void
  write(n: number): Promise<InsertOutcome>
  shift(n: number): void
  clear(): void
}

class RecordBacklog implements Backlog {
  private records: PredictionRecord[] = []
  constructor(private readonly store: QueueStore) {}
  get count(): number {
    return this.records.length
  }
  append(record: PredictionRecord): void {
    // The store serializes ranking, entities, fields and metadata when it writes: a record it cannot serialize would
    // fail its batch on every retry, so it is refused here, as the encoded backlog refuses it.
    JSON.stringify(record)
    this.records.push(record)
  }
  write(n: number): Promise<InsertOutcome> {
    const batch = this.records.slice(0, n)
    // The records were checked at push, but they are the caller's objects, which it may have changed since.
    if (this.store.insertValidPredictions) return this.store.insertValidPredictions(batch)
    return this.store.insertPredictions(batch).then(() => NONE_REFUSED)
  }
  shift(n: number): void {
    this.records.splice(0, n)
  }
  clear(): void {
    this.records = []
  }
}

class EncodedBacklog implements Backlog {
  private readonly json = new JsonBacklog()
  constructor(private readonly writer: JsonBatchWriter) {}
  get count(): number {
    return this.json.count
  }
  append(record: PredictionRecord): void {
    this.json.appendJson(predictionJson(record))
  }
  write(n: number): Promise<InsertOutcome> {
    const count = Math.min(n, this.json.count)
    const bytes = this.json.byteLengthOf(count)
    const batch = this.writer.batchBuffer?.(bytes) ?? new Uint8Array(bytes)
    this.json.copyTo(count, batch)
    return this.writer.insertJson(batch, count)
  }
  shift(n: number): void {
    this.json.shift(n)
  }
  clear(): void {
    this.json.clear()
  }
}

export interface PredictionLogQueueOptions {
  store: QueueStore
  /** Records held (queued plus being written) before new ones are dropped. */
  maxSize?: number
  /** Most records per write. A full batch is written at once, without waiting for the interval. */
  batchSize?: number
  /** Longest time a record waits before a write starts, ms. */
  flushIntervalMs?: number
  /** First retry pause after a failed write; it doubles per failure up to `retryMaxMs`. */
  retryBaseMs?: number
  retryMaxMs?: number
  /** Called on each failed write attempt (for logs); the batch is kept and retried. */
  onError?: (error: unknown, info: { attempt: number; batch: number; retryInMs: number }) => void
  /**
   * Called when `push` refuses records that could never be stored, for logs. The first refusal is reported at once;
   * more within `refusedReportMs` of a report are added up into one report at the end of that time (or at `close`),
   * so a client sending bad records cannot flood the log.
   */
  onInvalid?: (report: InvalidRecords) => void
  /**
   * Called when the writer refuses records as invalid (ERR_STORE_INVALID_RECORD, which a retry cannot mend), for
   * logs: those records are counted in `invalid` and dropped, and the rest of their batch written. Reported as
   * `onInvalid` is, apart from it, so a writer that refuses records in every batch cannot flood the log either.
   */
  onRefused?: (report: RefusedRecords) => void
  /** Least time between two `onInvalid` reports, and between two `onRefused` reports, ms (default 60,000). */
  refusedReportMs?: number
  /**
   * The share of `maxSize` queued from which the queue counts as behind and tells its writer (`setBehind(true)`),
   * in (0, 1]; default 0.25. At least one record.
   */
  behindAt?: number
  /**
   * The share of `maxSize` queued at or under which a queue that was behind counts as caught up again
   * (`setBehind(false)`), in (0, 1) and below `behindAt`; default 0.05. The gap between the two keeps the writer
   * from flapping.
   */
  caughtUpAt?: number
}

/** Records `push` refused since the last report. */
export interface InvalidRecords {
  /** How many. */
  records: number
  /** What is wrong with the latest of them. */
  detail: string
  /** The latest one's id, when it has one (cut to 200 characters). */
  id?: string
}

/** Records the writer refused since the last report. */
export interface RefusedRecords {
  /** The writer's error for the latest refusal: its message names a record and what is wrong with it. */
  error: unknown
  /** How many, all dropped. */
  records: number
}

export interface LogQueueStats {
  /** Records waiting or being written. */
  depth: number
  /** Records refused because the queue was full or closed, or abandoned by `close` at its deadline. */
  dropped: number
  /** Records refused because they could never be stored (see `checkPrediction`): by `push`, or by the writer. */
  invalid: number
  /** Records the store confirmed. */
  written: number
  /** Failed write attempts (each is retried). */
  failedWrites: number
  /** False from a failed write until the next successful one. */
  healthy: boolean
  /**
   * True from when the queue holds `behindAt` of `maxSize` (a quarter by default) until it is back at `caughtUpAt`
   * (a twentieth) or under.
   */
  behind: boolean
}

const DEFAULTS = { maxSize: 50_000, batchSize: 5_000, flushIntervalMs: 200, retryBaseMs: 100, retryMaxMs: 30_000 }
const REFUSED_REPORT_MS = 60_000
/** Shares of `maxSize` at which the queue falls behind and catches up (the config defaults to the same). */
const BEHIND_AT = 0.25
const CAUGHT_UP_AT = 0.05

export class PredictionLogQueue {
  private readonly backlog: Backlog
  private readonly options: typeof DEFAULTS
  private readonly onError: PredictionLogQueueOptions['onError']
  private readonly invalidReports: Reports<InvalidRecords>
  private readonly refusedReports: Reports<RefusedRecords>
  /** The first `inflight` records of the backlog are being written (or wait to be retried). */
  private inflight = 0
  private running: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined
  private closed = false
  private aborted = false
  private attempt = 0
  private counters = { dropped: 0, invalid: 0, written: 0, failedWrites: 0 }
  private healthy = true
  private readonly store: QueueStore
  /** Falling behind from `behindCount` records queued, caught up again at `caughtUpCount` (hysteresis). */
  private isBehind = false
  private readonly behindCount: number
  private readonly caughtUpCount: number

  constructor(options: PredictionLogQueueOptions) {
    const store = options.store
    this.backlog =
      typeof store.insertJson === 'function' ? new EncodedBacklog(store as JsonBatchWriter) : new RecordBacklog(store)
    this.onError = options.onError
    const reportMs = options.refusedReportMs ?? REFUSED_REPORT_MS
    atLeast('refusedReportMs', reportMs, 0)
    this.invalidReports = new Reports(options.onInvalid, reportMs)
    this.refusedReports = new Reports(options.onRefused, reportMs)
    const pick = (key: keyof typeof DEFAULTS, min: number) => {
      const v = options[key] ?? DEFAULTS[key]
      atLeast(key, v, min)
      return Math.floor(v)
    }
    this.options = {
      maxSize: pick('maxSize', 1),
      batchSize: pick('batchSize', 1),
      flushIntervalMs: pick('flushIntervalMs', 0),
      retryBaseMs: pick('retryBaseMs', 1),
      retryMaxMs: pick('retryMaxMs', 1),
    }
    this.store = store
    const { behindAt, caughtUpAt } = backlogShares(options)
    // Behind rounds up and caught up down, past floating-point noise (100 × 0.07 is 7.000000000000001); caught up
    // stays below behind, or a queue would count as behind and caught up at once.
    const count = (share: number) => Number((this.options.maxSize * share).toPrecision(12))
    this.behindCount = Math.max(1, Math.ceil(count(behindAt)))
    this.caughtUpCount = Math.min(this.behindCount - 1, Math.floor(count(caughtUpAt)))
  }

  /**
   * Queue one record; never blocks or throws. False when it was dropped (queue full or closed) or refused as
   * invalid (counted apart: a record that could never be stored is refused before it takes room in the queue).
   */
  push(record: PredictionRecord): boolean {
    const problem = checkPrediction(record)
    if (problem !== undefined) {
      this.refuse(problem, record)
      return false
    }
    if (this.closed || this.depth >= this.options.maxSize) {
      this.counters.dropped++
      return false
    }
    try {
      this.backlog.append(record)
    } catch (err) {
      // Not serializable (a cycle, a BigInt or nesting too deep for the stack in metadata, say): invalid like any
      // record the store could not take.
      this.refuse(`it cannot be written as JSON: ${(err as Error).message}`, record)
      return false
    }
    if (!this.isBehind && this.backlog.count >= this.behindCount) this.setBehind(true)
    if (this.waiting >= this.options.batchSize) this.kick()
    else this.schedule()
    return true
  }

  /** Whether the queue is behind: see {@link LogQueueStats.behind}. */
  get behind(): boolean {
    return this.isBehind
  }

  private setBehind(behind: boolean): void {
    this.isBehind = behind
    try {
      this.store.setBehind?.(behind)
    } catch {
      // The writer's priority is an optimisation: failing to change it must not fail a request or the writer.
    }
  }

  /** After records left the queue (written, refused or abandoned). */
  private shifted(): void {
    if (this.isBehind && this.backlog.count <= this.caughtUpCount) this.setBehind(false)
  }

  get depth(): number {
    return this.backlog.count
  }
  /** Records queued and not yet being written. */
  private get waiting(): number {
    return this.backlog.count - this.inflight
  }
  get dropped(): number {
    return this.counters.dropped
  }
  get invalid(): number {
    return this.counters.invalid
  }

  private refuse(detail: string, record: PredictionRecord): void {
    this.counters.invalid++
    const id = (record as { id?: unknown } | null)?.id
    this.invalidReports.add(
      typeof id === 'string' ? { records: 1, detail, id: id.slice(0, 200) } : { records: 1, detail },
    )
  }
  get written(): number {
    return this.counters.written
  }

  stats(): LogQueueStats {
    return { depth: this.depth, ...this.counters, healthy: this.healthy, behind: this.isBehind }
  }

  /**
   * Resolves once every record queued so far is written, retrying through outages. With `timeoutMs`, gives up
   * waiting after that long (the writer keeps going) and resolves with the records still unwritten.
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<number> {
    this.clearTimer()
    // Cut a backoff pause short: a flush is a good moment to try again.
    this.sleeping?.wake()
    this.kick()
    const run = this.running
    if (!run) return this.depth
    if (options.timeoutMs === undefined) {
      await this.until(() => this.depth === 0)
      return 0
    }
    let timeout: NodeJS.Timeout | undefined
    const timedOut = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, options.timeoutMs)
    })
    await Promise.race([this.until(() => this.depth === 0), timedOut])
    clearTimeout(timeout)
    return this.depth
  }

  /**
   * Stops accepting records and writes what is queued. Resolves with the number of records that could not be
   * written before `timeoutMs` (default: wait as long as it takes); those are abandoned.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<number> {
    this.closed = true
    const left = await this.flush(options)
    this.clearTimer()
    if (left === 0) {
      this.closeReports()
      return 0
    }
    this.aborted = true
    this.sleeping?.wake()
    await this.running
    // A write in progress at the deadline may still have landed; count only what is left after it.
    const abandoned = this.depth
    this.counters.dropped += abandoned
    this.inflight = 0
    this.backlog.clear()
    this.shifted()
    this.closeReports()
    return abandoned
  }

  private refused(error: unknown, records: number): void {
    this.counters.invalid += records
    this.refusedReports.add({ error, records })
  }

  private closeReports(): void {
    this.invalidReports.close()
    this.refusedReports.close()
  }

  private schedule(): void {
    if (this.timer || this.running) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.kick()
    }, this.options.flushIntervalMs)
    this.timer.unref?.()
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private kick(): void {
    if (this.running || this.aborted || this.depth === 0) return
    this.clearTimer()
    this.running = this.drain().finally(() => {
      this.running = undefined
      // Records that arrived while the last write finished wait for the next interval.
      if (this.waiting > 0 && !this.aborted) this.schedule()
    })
  }

  private async until(done: () => boolean): Promise<void> {
    while (!done() && !this.aborted) {
      this.kick()
      if (this.running) await this.running
      else if (!done()) await new Promise((r) => setImmediate(r))
    }
  }

  /** The one writer: takes batches until the queue is empty, keeping a failed batch to retry it first. */
  private async drain(): Promise<void> {
    while (!this.aborted && this.backlog.count > 0) {
      if (this.inflight === 0) this.inflight = Math.min(this.options.batchSize, this.backlog.count)
      try {
        const { refused, error } = await this.backlog.write(this.inflight)
        this.counters.written += this.inflight - refused
        if (refused > 0) this.refused(error, refused)
        this.backlog.shift(this.inflight)
        this.inflight = 0
        this.shifted()
        this.attempt = 0
        this.healthy = true
        // What arrived during the write waits for the next interval unless it fills a batch (a flush keeps
        // kicking). A write's cost is mostly the index pages it dirties, which rows of one batch share: on a
        // 200,000-row SQLite log, 1000-row batches cost 21% more per row than 5000-row ones (bench/log-cost.ts).
        if (this.waiting < this.options.batchSize) return
      } catch (err) {
        // By code, not class: errors from a writer thread arrive as plain errors carrying the code.
        if ((err as { code?: unknown } | null)?.code === 'ERR_STORE_INVALID_RECORD') {
          // Retrying cannot help, and a writer that throws rather than leaving the records out cannot say which of
          // the batch it refuses: all of them go.
          this.refused(err, this.inflight)
          this.backlog.shift(this.inflight)
          this.inflight = 0
          this.shifted()
          continue
        }
        this.counters.failedWrites++
        this.healthy = false
        this.attempt++
        const base = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (this.attempt - 1))
        const retryInMs = Math.round(base / 2 + (Math.random() * base) / 2)
        try {
          this.onError?.(err, { attempt: this.attempt, batch: this.inflight, retryInMs })
        } catch {
          // A failing logger must not stop the writer.
        }
        await this.sleep(retryInMs)
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.sleeping = undefined
        resolve()
      }
      const timer = setTimeout(wake, ms)
      // While open, a retry pause must not keep a finished process alive; while closing, it must.
      if (!this.closed) timer.unref?.()
      this.sleeping = { timer, wake }
    })
  }
}

/** ERR_INVALID_ARGUMENT naming the option, its value and its range, unless `v` is a finite number of at least `min`. */
function atLeast(name: string, v: number, min: number): void {
  if (!(Number.isFinite(v) && v >= min)) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `log queue ${name} must be a finite number of at least ${min}, got ${v}`,
    })
  }
}

/**
 * The queue's `behindAt` and `caughtUpAt`, defaults applied; ERR_INVALID_ARGUMENT naming the option when either is
 * outside its range or caught up is not below behind (the config checks `store.writerBehindAt` and
 * `store.writerCaughtUpAt` the same way at load, with their positions).
 */
function backlogShares(options: Pick<PredictionLogQueueOptions, 'behindAt' | 'caughtUpAt'>): {
  behindAt: number
  caughtUpAt: number
} {
  const behindAt = options.behindAt ?? BEHIND_AT
  const caughtUpAt = options.caughtUpAt ?? CAUGHT_UP_AT
  const share = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v > 0 && v <= 1)) {
      throw createError('ERR_INVALID_ARGUMENT', {
        detail: `log queue ${name} must be a share of maxSize above 0 and at most 1, got ${v}`,
      })
    }
  }
  share('behindAt', behindAt)
  share('caughtUpAt', caughtUpAt)
  if (caughtUpAt >= behindAt) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `log queue caughtUpAt (${caughtUpAt}) must be below behindAt (${behindAt}): a queue that fell behind counts as caught up only once it holds less than it did then`,
    })
  }
  return { behindAt, caughtUpAt }
}

/**
 * Reports of refused records, for logs: the first at once; those within `quietMs` of a report added up into one at
 * the end of that time (the latest one's details, the records summed), so a flood of refusals cannot flood a log.
 */
class Reports<R extends { records: number }> {
  private quiet: NodeJS.Timeout | undefined
  private pending: R | undefined
  private closed = false

  constructor(
    private readonly report: ((r: R) => void) | undefined,
    private readonly quietMs: number,
  ) {}

  add(latest: R): void {
    if (!this.report) return
    this.pending = this.pending ? { ...latest, records: this.pending.records + latest.records } : latest
    if (!this.quiet) this.now()
  }

  /** Reports what was added up, if anything, and starts a quiet time after it (none once closed). */
  now(): void {
    if (this.quiet) clearTimeout(this.quiet)
    this.quiet = undefined
    const report = this.pending
    if (!report) return
    this.pending = undefined
    try {
      this.report?.(report)
    } catch {
      // A failing logger must not make push throw or stop the writer.
    }
    if (this.closed) return
    this.quiet = setTimeout(() => this.now(), this.quietMs)
    // A report still due must not keep a finished process alive; `close` makes it at once.
    this.quiet.unref?.()
  }

  /** Makes the report still due; from now on each refusal is reported at once. */
  close(): void {
    this.closed = true
    this.now()
  }
}
