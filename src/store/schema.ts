/**
 * The store's tables and their migrations, written in code so the package needs no SQL files at run time. One schema
 * serves SQLite and PostgreSQL: times are epoch-ms integers, booleans 0/1 integers, JSON columns text.
 * @module
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely'
import { createRollupTable, type RebuildProgress, ROLLUP_TABLE } from './rollups.js'

export interface PredictionsTable {
  id: string
  ts: number
  message_id: string | null
  sender_hash: string | null
  text: string
  /** Lower-cased text, so substring search behaves the same on both backends. */
  search_text: string
  fields: string | null
  intent: string
  confidence: number
  margin: number
  fallback: number
  ranking: string
  entities: string
  model_name: string
  model_version: string
  latency_ms: number
  channel: string
  metadata: string | null
  /** 1 once a review other than `skip` exists: the inbox reads this column instead of anti-joining reviews. */
  reviewed: number
  /** The latest review's intent (its label) and action, kept in step with reviews by `addReview`. */
  label: string | null
  review_action: string | null
  reviewed_at: number | null
}

export interface ReviewsTable {
  id: string
  prediction_id: string
  action: string
  intent: string | null
  previous_intent: string
  entities: string | null
  reviewer: string
  ts: number
  note: string | null
  exported_at: number | null
}

export interface TokensTable {
  id: string
  name: string
  role: string
  /** SHA-256 (hex) of the token; the plaintext is never stored. */
  hash: string
  created_at: number
  revoked_at: number | null
  last_used_at: number | null
}

export interface MetaTable {
  key: string
  value: string
}

export interface StoreDatabase {
  predictions: PredictionsTable
  reviews: ReviewsTable
  tokens: TokensTable
  store_meta: MetaTable
}

/** Kysely's own bookkeeping tables, named for the store so they never clash with another app's in a shared schema. */
export const MIGRATION_TABLE = 'intentops_store_migration'
export const MIGRATION_LOCK_TABLE = 'intentops_store_migration_lock'

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current table types
type AnyDb = Kysely<any>

const initial: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('predictions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .addColumn('sender_hash', 'text')
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('search_text', 'text', (c) => c.notNull())
      .addColumn('fields', 'text')
      .addColumn('intent', 'text', (c) => c.notNull())
      .addColumn('confidence', 'double precision', (c) => c.notNull())
      .addColumn('margin', 'double precision', (c) => c.notNull())
      .addColumn('fallback', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('ranking', 'text', (c) => c.notNull())
      .addColumn('entities', 'text', (c) => c.notNull())
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('model_version', 'text', (c) => c.notNull())
      .addColumn('latency_ms', 'double precision', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text')
      .addColumn('reviewed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('label', 'text')
      .addColumn('review_action', 'text')
      .addColumn('reviewed_at', 'bigint')
      .execute()
    // The inbox orders: each starts with `reviewed` so the unreviewed slice is one contiguous index range, and ends
    // with `id` so keyset pagination has a unique key.
    const idx = (name: string, cols: string[]) => db.schema.createIndex(name).on('predictions').columns(cols).execute()
    await idx('predictions_inbox_confidence', ['reviewed', 'confidence', 'id'])
    await idx('predictions_inbox_margin', ['reviewed', 'margin', 'id'])
    await idx('predictions_inbox_fallback', ['reviewed', 'fallback desc', 'confidence', 'id'])
    await idx('predictions_inbox_newest', ['reviewed', 'ts', 'id'])
    await idx('predictions_ts', ['ts', 'id'])
    await idx('predictions_intent', ['intent', 'reviewed', 'confidence'])
    await idx('predictions_model_version', ['model_version', 'ts'])
    await idx('predictions_channel', ['channel', 'ts'])

    await db.schema
      .createTable('reviews')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('prediction_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('intent', 'text')
      .addColumn('previous_intent', 'text', (c) => c.notNull())
      .addColumn('entities', 'text')
      .addColumn('reviewer', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('exported_at', 'bigint')
      .execute()
    await db.schema.createIndex('reviews_prediction').on('reviews').columns(['prediction_id', 'ts']).execute()
    await db.schema.createIndex('reviews_ts').on('reviews').columns(['ts', 'id']).execute()
    await db.schema.createIndex('reviews_reviewer').on('reviews').columns(['reviewer', 'ts']).execute()

    await db.schema
      .createTable('tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .execute()
    // One live token per name; a revoked name may be reused.
    await db.schema
      .createIndex('tokens_live_name')
      .on('tokens')
      .column('name')
      .unique()
      .where(sql.ref('revoked_at'), 'is', null)
      .execute()

    await db.schema
      .createTable('store_meta')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute()
  },
  async down(db: AnyDb) {
    for (const t of ['store_meta', 'tokens', 'reviews', 'predictions'])
      await db.schema.dropTable(t).ifExists().execute()
  },
}

/** The intent-filtered inbox keeps its order inside the index, down to the `id` tie-break, so it needs no sort. */
const intentInbox: Migration = {
  async up(db: AnyDb) {
    await db.schema.dropIndex('predictions_intent').ifExists().execute()
    await db.schema
      .createIndex('predictions_intent_inbox')
      .on('predictions')
      .columns(['intent', 'reviewed', 'confidence', 'id'])
      .execute()
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('predictions_intent_inbox').ifExists().execute()
    await db.schema
      .createIndex('predictions_intent')
      .on('predictions')
      .columns(['intent', 'reviewed', 'confidence'])
      .execute()
  },
}

/**
 * Measured on 1M rows (bench/store.ts): with an intent filter, planners either sorted every row of the intent or
 * walked an order index past rows of other intents (all fallback rows belong to the fallback intent), 0.4–1.5 s.
 * One index per order behind `intent` serves the intent-filtered inbox directly. The (model_version, ts) and
 * (channel, ts) indexes tempted planners away from the order indexes and served nothing else that `ts` does not.
 */
const intentOrders: Migration = {
  async up(db: AnyDb) {
    await db.schema.dropIndex('predictions_model_version').ifExists().execute()
    await db.schema.dropIndex('predictions_channel').ifExists().execute()
    const idx = (name: string, cols: string[]) => db.schema.createIndex(name).on('predictions').columns(cols).execute()
    await idx('predictions_intent_margin', ['intent', 'reviewed', 'margin', 'id'])
    await idx('predictions_intent_fallback', ['intent', 'reviewed', 'fallback desc', 'confidence', 'id'])
    await idx('predictions_intent_newest', ['intent', 'reviewed', 'ts', 'id'])
  },
  async down(db: AnyDb) {
    for (const name of ['predictions_intent_margin', 'predictions_intent_fallback', 'predictions_intent_newest']) {
      await db.schema.dropIndex(name).ifExists().execute()
    }
    await db.schema
      .createIndex('predictions_model_version')
      .on('predictions')
      .columns(['model_version', 'ts'])
      .execute()
    await db.schema.createIndex('predictions_channel').on('predictions').columns(['channel', 'ts']).execute()
  },
}

/**
 * Model versions follow each other in time, so the newest-first inbox of an older version walked past every row of
 * the newer ones (0.4–0.8 s on 1M rows, bench/store.ts). Its own index serves it directly.
 */
const versionNewest: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createIndex('predictions_version_newest')
      .on('predictions')
      .columns(['model_version', 'reviewed', 'ts', 'id'])
      .execute()
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('predictions_version_newest').ifExists().execute()
  },
}

/**
 * Hourly rollups for analytics (see rollups.ts), backfilled from the rows already logged, in batches.
 * @param onProgress reports the backfill (rows read of rows to read) on large logs
 */
export function predictionRollups(onProgress?: (p: RebuildProgress) => void): Migration {
  return {
    up: (db: AnyDb) => createRollupTable(db, onProgress),
    down: async (db: AnyDb) => void (await db.schema.dropTable(ROLLUP_TABLE).ifExists().execute()),
  }
}

/** Every migration, in order. Names sort lexically; never rename or edit one that shipped, add a new one. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_initial': initial,
  '0002_intent_inbox_index': intentInbox,
  '0003_intent_order_indexes': intentOrders,
  '0004_version_newest_index': versionNewest,
  '0005_prediction_rollups': predictionRollups(),
})

/**
 * @param schema the PostgreSQL schema the store lives in. Without it Kysely looks for its bookkeeping tables in every
 * schema of the database, finds another store's, and then fails to use them unqualified.
 */
export function createMigrator(
  db: Kysely<StoreDatabase>,
  schema?: string,
  onProgress?: (p: RebuildProgress) => void,
): Migrator {
  const migrations = {
    ...MIGRATIONS,
    ...(onProgress ? { '0005_prediction_rollups': predictionRollups(onProgress) } : {}),
  }
  const provider: MigrationProvider = { getMigrations: async () => migrations }
  return new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    // Without a schema, Kysely takes a migration table in ANY schema of the database as ours, and then fails to
    // find it on the search_path: two stores in two schemas of one database would break each other.
    ...(schema ? { migrationTableSchema: schema } : {}),
  })
}
