/**
 * Open the store a project's `intentops.yml` describes.
 * @module
 */
import { promises as fsp } from 'node:fs'
import type { StoreConfig } from '../config/schema.js'
import { createError } from '../errors.js'
import { expandEnv } from '../util/env.js'
import type { KyselyPredictionStore } from './kysely-store.js'
import { resolveStoreTarget, type StoreTarget } from './location.js'
import type { PredictionLogQueueOptions } from './log-queue.js'
import { type PriorityEvent, WorkerLogWriter } from './log-writer.js'
import { openPostgresStore } from './postgres.js'
import { createRedactor } from './redact.js'
import type { MigrationProgress } from './schema.js'
import { openSqliteStore } from './sqlite.js'

export { STORE_LOCATIONS, type StoreTarget, unsupportedStoreScheme } from './location.js'

export interface OpenStoreOptions {
  /** The project root; a relative `store.path` resolves against it. */
  root: string
  env?: Readonly<Record<string, string | undefined>>
  /** Run the migrations before returning (default true). */
  migrate?: boolean
  /** The clock (epoch ms), for tests. */
  now?: () => number
  /** Reports long migrations on a large log: the analytics rollups' backfill (rows), an index rebuild (steps). */
  onMigrationProgress?: (p: MigrationProgress) => void
  /**
   * Refuse a SQLite file that does not exist (ERR_STORE_NOT_FOUND) instead of creating it: for commands that only
   * read or tend a log, where a new empty one would hide a mistyped path.
   */
  mustExist?: boolean
  /**
   * Where the store is, when the caller resolved it (a location the command line gives in place of the config's);
   * default: `resolveStoreTarget(config, options)`. The config still gives the rest (schema, pool size, redaction).
   */
  target?: StoreTarget
}

/** The store for the `store` section of the config: SQLite under the project by default, or PostgreSQL. */
export async function openStore(
  config: Readonly<StoreConfig>,
  options: OpenStoreOptions,
): Promise<KyselyPredictionStore> {
  const env = options.env ?? {}
  const redact = createRedactor(config.redaction)
  const senderKey = resolveSenderKey(config, env)
  const common = {
    redact,
    ...(senderKey ? { senderKey } : {}),
    ...(options.now ? { now: options.now } : {}),
  }
  const target = options.target ?? resolveStoreTarget(config, options)
  let store: KyselyPredictionStore
  if (target.backend === 'postgres') {
    store = openPostgresStore({
      ...common,
      url: target.url,
      poolSize: config.poolSize,
      ...(config.schema ? { schema: config.schema } : {}),
    })
  } else {
    if (options.mustExist) await assertStoreFileExists(target.file)
    store = openSqliteStore({
      ...common,
      file: target.file,
      busyTimeoutMs: config.busyTimeoutMs,
    })
  }
  if (options.migrate !== false) {
    try {
      await store.migrate(options.onMigrationProgress ? { onProgress: options.onMigrationProgress } : {})
    } catch (err) {
      await store.close().catch(() => {})
      throw err
    }
  }
  return store
}

async function assertStoreFileExists(file: string): Promise<void> {
  try {
    await fsp.stat(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw createError('ERR_STORE_NOT_FOUND', { location: file })
    // Anything else (permission, a loop) is for the open to report.
  }
}

function resolveSenderKey(config: Readonly<StoreConfig>, env: Readonly<Record<string, string | undefined>>) {
  return config.senderKey ? expandEnv(config.senderKey, env, 'store.senderKey') : env.INTENTOPS_SENDER_KEY
}

/**
 * Where the prediction log queue should write: a writer thread with its own connection to the same store, which
 * applies the same redaction and sender key. For SQLite, better-sqlite3 blocks the thread it runs on (WAL lets the
 * writer write while the main thread reads); for PostgreSQL, making, compiling and binding the rows cost the event
 * loop ~55 µs a record (bench/store.ts). `store` must be the store opened (and migrated) from the same config;
 * closing the writer leaves it open.
 */
export function openLogWriter(
  config: Readonly<StoreConfig>,
  // Taken so that the store is opened and migrated before a thread writes to it; the thread connects on its own.
  _store: KyselyPredictionStore,
  options: {
    root: string
    env?: Readonly<Record<string, string | undefined>>
    /** Told when the writer thread's priority changes as the log falls behind and catches up (`writerPriorityLog`). */
    onPriority?: (event: PriorityEvent) => void
    /** The `target` the store was opened with, if it was given one. */
    target?: StoreTarget
    /**
     * The server's text limits (its `serve` config): the redaction rules are judged on the longest text it takes, as
     * `buildApp` judges them (ERR_CONFIG_INVALID), rather than on 10,000 characters alone.
     */
    serve?: { maxTextLength: number; bodyLimitBytes: number }
  },
): WorkerLogWriter {
  const env = options.env ?? {}
  const target = options.target ?? resolveStoreTarget(config, options)
  const senderKey = resolveSenderKey(config, env)
  const common = {
    redaction: config.redaction,
    ...(options.serve ? { serve: options.serve } : {}),
    nice: config.writerNice,
    ...(senderKey ? { senderKey } : {}),
    ...(options.onPriority ? { onPriority: options.onPriority } : {}),
  }
  if (target.backend === 'postgres') {
    return new WorkerLogWriter({
      ...common,
      // One write at a time (the queue's): one connection, and a spare for a retry while the first is torn down.
      target: {
        backend: 'postgres',
        url: target.url,
        poolSize: 2,
        ...(config.schema ? { schema: config.schema } : {}),
      },
    })
  }
  return new WorkerLogWriter({
    ...common,
    target: { backend: 'sqlite', file: target.file, busyTimeoutMs: config.busyTimeoutMs },
  })
}

/** What the queue's warnings need of a logger (pino's or Fastify's). */
export interface WarnLogger {
  warn(obj: object, msg: string): void
}

function priorityMessage(behind: boolean, thread: 'new' | 'kept' | undefined): string {
  if (thread === 'new') {
    return "the prediction log is falling behind: a second writer thread, at the server's priority, takes over until it catches up (this process may not raise a thread's priority back; the lowered one is kept for after)"
  }
  if (thread === 'kept') {
    return behind
      ? "the prediction log is falling behind: the writer thread kept at the server's priority takes over until it catches up"
      : 'the prediction log caught up: the writer thread kept below the server takes over again'
  }
  return behind
    ? "the prediction log is falling behind: its writer runs at the server's priority until it catches up"
    : 'the prediction log caught up: its writer runs below the server again'
}

/**
 * The writer thread's priority changes, for a server's log: each change at info (they come with the queue falling
 * behind and catching up, `store.writerBehindAt` and `store.writerCaughtUpAt` apart, so rarely), and the first
 * failure as a warning with the fix; later failures, which say the same, at debug.
 */
export function writerPriorityLog(
  log: WarnLogger & { info(obj: object, msg: string): void; debug(obj: object, msg: string): void },
): (event: PriorityEvent) => void {
  let warned = false
  return (event) => {
    if (event.ok) {
      log.info({ nice: event.nice }, priorityMessage(event.behind, event.thread))
      return
    }
    const fields = { nice: event.nice, err: event.error }
    if (warned) {
      log.debug(fields, 'the prediction log writer could not change its priority')
      return
    }
    warned = true
    log.warn(
      fields,
      event.behind
        ? "the prediction log is falling behind and its writer could not return to the server's priority, so a full queue may drop records; set store.writerNice to 0 to keep it level"
        : "the prediction log caught up but its writer could not go back below the server's priority, so it takes turns with requests; set store.writerNice to 0 to make that the rule",
    )
  }
}

/**
 * The queue's callbacks that tell a server's log what went wrong: a failed write (retried), and records `push` or
 * the writer refused, each kind added up to at most one line a minute (`refusedReportMs`).
 */
export function logQueueWarnings(
  log: WarnLogger,
): Pick<PredictionLogQueueOptions, 'onError' | 'onInvalid' | 'onRefused'> {
  return {
    onError: (err, info) => log.warn({ err, ...info }, 'prediction log write failed; retrying'),
    onInvalid: ({ records, detail, id }) =>
      log.warn(
        { id, detail, records },
        records === 1
          ? '1 prediction not logged: its record cannot be stored'
          : `${records} predictions not logged: their records cannot be stored`,
      ),
    onRefused: ({ error, records }) => {
      // From the writer thread the error is a plain one rebuilt here: its stack says nothing, its message all.
      const e = error as { message?: unknown; code?: unknown } | null
      log.warn(
        {
          code: typeof e?.code === 'string' ? e.code : undefined,
          reason: typeof e?.message === 'string' ? e.message : String(error),
          records,
        },
        records === 1
          ? '1 prediction not logged: the log writer refused its record as invalid'
          : `${records} predictions not logged: the log writer refused their records as invalid`,
      )
    },
  }
}

/** The queue's sizes and timings from the `store` config section. */
export function logQueueOptions(config: Readonly<StoreConfig>): Omit<PredictionLogQueueOptions, 'store'> {
  return {
    maxSize: config.queueSize,
    batchSize: config.batchSize,
    flushIntervalMs: config.flushIntervalMs,
    retryMaxMs: config.retryMaxMs,
    behindAt: config.writerBehindAt,
    caughtUpAt: config.writerCaughtUpAt,
  }
}
