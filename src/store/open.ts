/**
 * Open the store a project's `intentops.yml` describes.
 * @module
 */
import path from 'node:path'
import type { StoreConfig } from '../config/schema.js'
import { createError } from '../errors.js'
import type { KyselyPredictionStore } from './kysely-store.js'
import type { PredictionLogQueueOptions } from './log-queue.js'
import { openPostgresStore } from './postgres.js'
import { createRedactor } from './redact.js'
import { openSqliteStore } from './sqlite.js'
import { type LogWriter, SqliteWorkerWriter } from './sqlite-writer.js'

export interface OpenStoreOptions {
  /** The project root; a relative `store.path` resolves against it. */
  root: string
  env?: Readonly<Record<string, string | undefined>>
  /** Run the migrations before returning (default true). */
  migrate?: boolean
  /** The clock (epoch ms), for tests. */
  now?: () => number
  /** Reports a migration's data backfill (rows done of total), e.g. the analytics rollups on a large log. */
  onMigrationProgress?: (p: { done: number; total: number }) => void
}

/** `$VAR` / `${VAR}` from the environment, so secrets stay out of the config file. */
function expandEnv(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/\$\{?([A-Z0-9_]+)\}?/gi, (_, name: string) => env[name] ?? '')
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
  let store: KyselyPredictionStore
  if (config.backend === 'postgres') {
    const url = config.url ? expandEnv(config.url, env) : env.DATABASE_URL
    if (!url) throw createError('ERR_STORE_NO_URL')
    store = openPostgresStore({
      ...common,
      url,
      poolSize: config.poolSize,
      ...(config.schema ? { schema: config.schema } : {}),
    })
  } else {
    store = openSqliteStore({
      ...common,
      file: path.resolve(options.root, config.path),
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

function resolveSenderKey(config: Readonly<StoreConfig>, env: Readonly<Record<string, string | undefined>>) {
  return config.senderKey ? expandEnv(config.senderKey, env) : env.INTENTOPS_SENDER_KEY
}

/**
 * Where the prediction log queue should write. For SQLite, a writer thread with its own connection to the same file
 * (better-sqlite3 blocks the thread it runs on); for PostgreSQL, whose driver is asynchronous, `store` itself.
 * `store` must be the store opened (and migrated) from the same config. Closing the writer leaves `store` open.
 */
export function openLogWriter(
  config: Readonly<StoreConfig>,
  store: KyselyPredictionStore,
  options: { root: string; env?: Readonly<Record<string, string | undefined>> },
): LogWriter {
  if (config.backend === 'sqlite') {
    const senderKey = resolveSenderKey(config, options.env ?? {})
    return new SqliteWorkerWriter({
      file: path.resolve(options.root, config.path),
      busyTimeoutMs: config.busyTimeoutMs,
      redaction: config.redaction,
      ...(senderKey ? { senderKey } : {}),
    })
  }
  return { insertPredictions: (records) => store.insertPredictions(records), close: async () => {} }
}

/** The queue's sizes and timings from the `store` config section. */
export function logQueueOptions(config: Readonly<StoreConfig>): Omit<PredictionLogQueueOptions, 'store'> {
  return {
    maxSize: config.queueSize,
    batchSize: config.batchSize,
    flushIntervalMs: config.flushIntervalMs,
    retryMaxMs: config.retryMaxMs,
  }
}
