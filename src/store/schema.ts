/**
 * The store's tables and their migrations, written in code so the package needs no SQL files at run time. One schema
 * serves SQLite and PostgreSQL: times are epoch-ms integers, booleans 0/1 integers, JSON columns text.
 * @module
 */
import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  type RawBuilder,
  SqliteAdapter,
  sql,
} from 'kysely'
import { createRollupTable, type RebuildProgress, ROLLUP_TABLE } from './rollups.js'
import { searchText } from './search.js'

export interface PredictionsTable {
  id: string
  ts: number
  message_id: string | null
  sender_hash: string | null
  text: string
  /** The words of text and fields as search sees them (`searchText` in search.ts), indexed for text search. */
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

const BACKFILL_BATCH = 500

/**
 * A real text index (a word no message contains took 16.6 s on SQLite and 0.6 s on PostgreSQL at 1M rows as a
 * substring scan). `search_text` becomes the message's words (search.ts), rewritten here for existing rows. SQLite
 * gets an external-content FTS5 table over it, kept in step by triggers whichever connection writes (the server's
 * writer thread included); its rowids are the predictions' rowids, which the store never changes (no VACUUM).
 * `secure-delete` makes an erased message's words leave the index's pages at once, not at the next merge.
 * PostgreSQL gets a pg_trgm GIN index serving the equivalent `LIKE '% word%'`; the extension goes into `public`, so
 * dropping one store's schema never takes another store's index with it.
 */
const textSearch: Migration = {
  async up(db: AnyDb) {
    let after = ''
    for (;;) {
      const rows: Array<{ id: string; text: string; fields: string | null }> = await db
        .selectFrom('predictions')
        .select(['id', 'text', 'fields'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(BACKFILL_BATCH)
        .execute()
      if (rows.length === 0) break
      const values = rows.map((r) => sql`(${r.id}, ${searchText(r.text, r.fields ? JSON.parse(r.fields) : undefined)})`)
      await sql`with v(id, s) as (values ${sql.join(values)})
        update predictions set search_text = (select s from v where v.id = predictions.id)
        where id in (select id from v)`.execute(db)
      after = rows[rows.length - 1]!.id
    }
    if (db.getExecutor().adapter instanceof SqliteAdapter) {
      await recreateFts(db, '', undefined)
      return
    }
    const ext = await trigramSchema(db)
    await sql`create index predictions_search_trgm on predictions
      using gin (search_text ${sql.id(ext)}.gin_trgm_ops)`.execute(db)
  },
  async down(db: AnyDb) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) {
      await dropFts(db)
    } else {
      await db.schema.dropIndex('predictions_search_trgm').ifExists().execute()
    }
  },
}

/**
 * The FTS5 table of 0007 without its per-row size table (`columnsize=0`): one B-tree insert fewer per logged row, the
 * largest single cost of the log's write path (bench/log-cost.ts). Sizes serve only bm25 ranking, which search never
 * uses; matching, phrases and prefixes are unchanged. `automerge` 16 (FTS5's default is 4) merges index segments in
 * fewer, wider steps: ~31 → ~19 µs of FTS5 work per row at 140k rows with search queries no slower (a standalone
 * FTS5 measurement, same tokenizer and text shape). PostgreSQL is untouched.
 */
const leanTextIndex: Migration = {
  up: (db: AnyDb) => recreateFts(db, ', columnsize=0', 16),
  down: (db: AnyDb) => recreateFts(db, '', undefined),
}

/**
 * The log's writer inserts each row's words into the FTS5 table itself (sqlite.ts) instead of through an insert
 * trigger. A trigger makes every insert a statement over two tables, which SQLite must be able to undo alone, so it
 * copies each page the statement touches (a dozen index pages per row) into a statement journal: on 200,000 rows,
 * 185 µs of CPU per logged row with the trigger, 125 without, 113 with no text index at all (bench/log-cost.ts). The delete and update
 * triggers stay: those writes are rare. PostgreSQL is untouched.
 */
const textIndexByWriter: Migration = {
  async up(db: AnyDb) {
    if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return
    await sql`drop trigger if exists predictions_fts_insert`.execute(db)
  },
  async down(db: AnyDb) {
    if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return
    await sql`create trigger if not exists predictions_fts_insert after insert on predictions begin
      insert into predictions_fts(rowid, search_text) values (new.rowid, new.search_text); end`.execute(db)
  },
}

/**
 * The confidence order loses its own two indexes, (reviewed, confidence, id) and (intent, reviewed, confidence, id):
 * the fallback order's indexes hold (…, fallback desc, confidence, id), in which the fallback rows and the others are
 * each already in confidence order, and the store merges the two (`queryPredictions`). Every logged row lands at a
 * random place in each confidence-ordered index: on a 200,000-row log, dropping these two took the CPU per logged
 * row from 170–174 to 119–120 µs in-process, 196–219 to 130–142 through the queue and writer thread
 * (bench/log-cost.ts); inbox pages of 1M rows stay under 20 ms on both backends (bench/store.ts).
 */
const confidenceViaFallback: Migration = {
  async up(db: AnyDb) {
    await db.schema.dropIndex('predictions_inbox_confidence').ifExists().execute()
    await db.schema.dropIndex('predictions_intent_inbox').ifExists().execute()
  },
  async down(db: AnyDb) {
    const idx = (name: string, cols: string[]) => db.schema.createIndex(name).on('predictions').columns(cols).execute()
    await idx('predictions_inbox_confidence', ['reviewed', 'confidence', 'id'])
    await idx('predictions_intent_inbox', ['intent', 'reviewed', 'confidence', 'id'])
  },
}

/** The uncertainty orders' indexes: every logged row lands at a random place in each. */
const UNCERTAINTY_INDEXES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['predictions_inbox_margin', ['reviewed', 'margin', 'id']],
  ['predictions_inbox_fallback', ['reviewed', 'fallback desc', 'confidence', 'id']],
  ['predictions_intent_margin', ['intent', 'reviewed', 'margin', 'id']],
  ['predictions_intent_fallback', ['intent', 'reviewed', 'fallback desc', 'confidence', 'id']],
]

/**
 * SQLite writes every page a transaction dirtied to the WAL, two system calls each. A logged row lands at a random
 * place in each of the four uncertainty indexes, so a batch dirtied about a page per row and index, and committing
 * them was the largest part of the writer's CPU. New rows now wait outside them (`settled = 0`, listed by a small
 * append-only index) and are settled in bulk every `settleRows` rows, many to a page. On a 100,000-row log in
 * 2,000-row batches: 58.6 → 52 µs a row in-process, 80.3 → 64.7 in 1,000-row batches (bench/log-cost.ts, settling
 * included). Under serving load, whose batches are larger, the writer's CPU did not drop; on real messages, whose
 * margins all differ, settled and straight rows cost the same, 105 and 101 µs at 300,000 rows (bench/README.md). Inbox
 * pages sort the waiting rows, at most `settleRows` and a batch: 4–13 ms at 1M rows with 9,999 waiting
 * (bench/store.ts). Existing rows are settled. PostgreSQL is untouched: an update there writes a new tuple into
 * every index, so settling would double its index work.
 */
const settledTail: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .alterTable('predictions')
      .addColumn('settled', 'integer', (c) => c.notNull().defaultTo(1))
      .execute()
    if (db.getExecutor().adapter instanceof SqliteAdapter) await uncertaintyIndexes(db, true)
  },
  async down(db: AnyDb) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) await uncertaintyIndexes(db, false)
    await db.schema.alterTable('predictions').dropColumn('settled').execute()
  },
}

/** Recreates the four uncertainty indexes: partial, with the index of waiting rows, or whole, without it. */
async function uncertaintyIndexes(db: AnyDb, partial: boolean): Promise<void> {
  // Kysely runs SQLite migrations outside a transaction: one of our own keeps the swap all or nothing.
  if (!db.isTransaction) return db.transaction().execute((trx) => uncertaintyIndexes(trx, partial))
  if (!partial) await db.schema.dropIndex('predictions_unsettled').ifExists().execute()
  for (const [name, cols] of UNCERTAINTY_INDEXES) {
    await db.schema.dropIndex(name).ifExists().execute()
    const index = db.schema
      .createIndex(name)
      .on('predictions')
      .columns([...cols])
    await (partial ? index.where(sql.ref('settled'), '=', sql.lit(1)) : index).execute()
  }
  if (partial) {
    await db.schema
      .createIndex('predictions_unsettled')
      .on('predictions')
      .column('id')
      .where(sql.ref('settled'), '=', sql.lit(0))
      .execute()
  }
}

/** The buckets to a unit of key of 0012 and 0013; migrations build with the scale they shipped with. */
const HUNDREDTHS = 100
/**
 * The uncertainty orders read these (kysely-store.ts). An index entry's position is its row's bucket, the order key
 * times the backend's `BUCKET_SCALE` truncated, and then its id: ids grow with time (UUIDv7), so a logged row lands at
 * the end of its bucket, one of twenty or a hundred places in the index, where an index on the key itself took every
 * row at a random place. A batch then dirties a page per bucket rather than a page per row. A page of an order reads
 * its buckets in turn and sorts each (by key and id) until it has its rows. The filters' columns ride along, here
 * and in the newest order's index, so that a filtered page tests them in the index rather than in the table: a page
 * whose filter matched nothing read every unreviewed row from the table, 0.5 s for newest on 1M rows and 2.4–3 s
 * through the buckets, whose order is no order on disk; 70 ms in the index.
 */
/**
 * In hundredths, SQLite's writer rewrote the last page of nearly every bucket a batch, most holding a few of its rows;
 * in 0014's twentieths it writes 35–40 % fewer WAL bytes a row. PostgreSQL keeps hundredths: in twentieths its pages
 * sorted five times the rows, and its first inbox pages of 1M rows took 66–149 ms against 3–4 (bench/README.md).
 */
export const BUCKET_SCALE = { sqlite: 20, postgres: HUNDREDTHS } as const
export const MARGIN_BUCKET_INDEX = 'predictions_margin_bucket'
export const FALLBACK_BUCKET_INDEX = 'predictions_fallback_bucket'
/** Read, with the intent's rows sorted, by the uncertainty orders of one intent; also serves its newest order. */
export const INTENT_INDEX = 'predictions_intent_newest'
const NEWEST_INDEX = 'predictions_inbox_newest'
const FILTER_COLUMNS = 'ts, channel, model_version'

/**
 * A bucket of an uncertainty key, as the bucketed indexes hold it: the indexes and the queries (kysely-store.ts) both
 * build it here, since a planner uses an expression index only for the same expression. SQLite truncates with a cast;
 * PostgreSQL's cast rounds, which would order as well, but overflows past ±2^31/100, so it takes `floor`. A bound
 * value (`parameter`) needs its type on PostgreSQL: `$1 * 100` would make it an integer.
 */
export function bucketOf(
  sqlite: boolean,
  value: RawBuilder<unknown> | ReturnType<typeof sql.ref>,
  parameter = false,
  buckets: number = sqlite ? BUCKET_SCALE.sqlite : BUCKET_SCALE.postgres,
): RawBuilder<unknown> {
  const scale = sql.lit(buckets)
  if (sqlite) return sql`cast(${value} * ${scale} as integer)`
  return sql`floor(${parameter ? sql`cast(${value} as double precision)` : value} * ${scale})`
}

/**
 * The index steps of 0012 (SQLite) and 0013 (PostgreSQL), named for progress, each reading every row, with `buckets`
 * to a unit of key. The first two are the bucketed indexes, which 0014 rebuilds.
 */
function bucketedIndexSteps(
  sqlite: boolean,
  buckets: number,
): Array<readonly [string, (db: AnyDb) => Promise<unknown>]> {
  const bucket = (column: string) => bucketOf(sqlite, sql.ref(column), false, buckets)
  const create = (name: string, columns: RawBuilder<unknown>) => async (db: AnyDb) => {
    await db.schema.dropIndex(name).ifExists().execute()
    await sql`create index ${sql.id(name)} on predictions (${columns})`.execute(db)
  }
  const filters = sql.raw(FILTER_COLUMNS)
  return [
    [MARGIN_BUCKET_INDEX, create(MARGIN_BUCKET_INDEX, sql`reviewed, ${bucket('margin')}, id, margin, ${filters}`)],
    [
      FALLBACK_BUCKET_INDEX,
      create(FALLBACK_BUCKET_INDEX, sql`reviewed, fallback desc, ${bucket('confidence')}, id, confidence, ${filters}`),
    ],
    [
      INTENT_INDEX,
      create(INTENT_INDEX, sql`intent, reviewed, ts, id, margin, confidence, fallback, channel, model_version`),
    ],
    [NEWEST_INDEX, create(NEWEST_INDEX, sql`reviewed, ts, id, channel, model_version`)],
  ]
}

/** The steps of 0012 on SQLite, each a statement that reads every row on a large log. */
const BUCKETED_STEPS: ReadonlyArray<readonly [string, (db: AnyDb) => Promise<unknown>]> = [
  ['the settled column', (db) => db.schema.alterTable('predictions').dropColumn('settled').execute()],
  ...bucketedIndexSteps(true, HUNDREDTHS),
]

/** Logs smaller than this migrate in well under a second: no progress for them. */
const PROGRESS_ROWS = 100_000

/**
 * Replaces 0011's settling on SQLite. On real messages, whose margins all differ, every logged row landed at a random
 * place in each of the four uncertainty indexes, settled in bulk or not: at 7,000 requests a second the writer fell
 * behind as the log grew and a 300 s soak dropped 15 % of its records (bench/README.md). The bucketed indexes above
 * take the two global orders; the orders of one intent read the intent's index, made covering, and sort its rows.
 * The `settled` column goes on both backends. PostgreSQL keeps its indexes. About 10 s on a 1M-row SQLite log.
 * @param onProgress reports the steps on large logs
 */
export function bucketedUncertainty(onProgress?: (p: MigrationProgress) => void): Migration {
  const up = async (db: AnyDb): Promise<void> => {
    if (!(db.getExecutor().adapter instanceof SqliteAdapter)) {
      await db.schema.alterTable('predictions').dropColumn('settled').execute()
      return
    }
    // Kysely runs SQLite migrations outside a transaction: one of our own keeps the swap all or nothing.
    if (!db.isTransaction) return db.transaction().execute(up)
    await db.schema.dropIndex('predictions_unsettled').ifExists().execute()
    for (const [name] of UNCERTAINTY_INDEXES) await db.schema.dropIndex(name).ifExists().execute()
    const rows = onProgress ? await countRows(db) : 0
    const task = 'rebuilding the inbox indexes (steps)'
    const report = rows >= PROGRESS_ROWS ? onProgress : undefined
    for (const [i, [note, step]] of BUCKETED_STEPS.entries()) {
      report?.({ task, done: i, total: BUCKETED_STEPS.length, note })
      await step(db)
    }
    report?.({ task, done: BUCKETED_STEPS.length, total: BUCKETED_STEPS.length })
  }
  const down = async (db: AnyDb): Promise<void> => {
    const sqlite = db.getExecutor().adapter instanceof SqliteAdapter
    if (sqlite && !db.isTransaction) return db.transaction().execute(down)
    if (sqlite) {
      await db.schema.dropIndex(MARGIN_BUCKET_INDEX).execute()
      await db.schema.dropIndex(FALLBACK_BUCKET_INDEX).execute()
      await plainIndexes(db, NARROW_INDEXES)
    }
    await db.schema
      .alterTable('predictions')
      .addColumn('settled', 'integer', (c) => c.notNull().defaultTo(1))
      .execute()
    if (sqlite) await uncertaintyIndexes(db, true)
  }
  return { up, down }
}

/**
 * 0012's indexes on PostgreSQL, whose writer paid for the four per-key indexes as SQLite's did: on a 200,000-row log,
 * 12,600 rows/s without the text index, 17,300–18,900 without it and them (bench/README.md, 2026-11-24). A bucket is
 * `floor(key * 100)`: a cast to integer rounds there, which would do as well, but overflows on a key beyond ±2^31/100.
 */
const postgresBuckets: Migration = {
  async up(db: AnyDb) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) return
    for (const [name] of UNCERTAINTY_INDEXES) await db.schema.dropIndex(name).ifExists().execute()
    for (const [, step] of bucketedIndexSteps(false, HUNDREDTHS)) await step(db)
    // One intent's orders read its covering index alone only where the table's pages are marked all-visible, which a
    // vacuum does; by default autovacuum visits an insert-only table after it grew by a fifth, and every row logged
    // since is fetched from the table. A twentieth keeps that tail short; each visit reads only the new pages.
    await sql`alter table predictions set (autovacuum_vacuum_insert_scale_factor = 0.05)`.execute(db)
  },
  async down(db: AnyDb) {
    if (db.getExecutor().adapter instanceof SqliteAdapter) return
    await sql`alter table predictions reset (autovacuum_vacuum_insert_scale_factor)`.execute(db)
    await db.schema.dropIndex(MARGIN_BUCKET_INDEX).execute()
    await db.schema.dropIndex(FALLBACK_BUCKET_INDEX).execute()
    await plainIndexes(db, [...NARROW_INDEXES, ...UNCERTAINTY_INDEXES])
  },
}

/**
 * SQLite's two bucketed indexes rebuilt in twentieths (`BUCKET_SCALE`); the way down rebuilds hundredths. Each reads
 * every row. PostgreSQL keeps hundredths (see `HUNDREDTHS`).
 * @param onProgress reports the two indexes on large logs
 */
export function coarserBuckets(onProgress?: (p: MigrationProgress) => void): Migration {
  const rebuild = (buckets: number) => {
    const run = async (db: AnyDb): Promise<void> => {
      if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return
      // Kysely runs SQLite migrations outside a transaction: one of our own keeps the swap all or nothing.
      if (!db.isTransaction) return db.transaction().execute(run)
      const steps = bucketedIndexSteps(true, buckets).filter(([name]) => BUCKETED.includes(name))
      const report = onProgress && (await countRows(db)) >= PROGRESS_ROWS ? onProgress : undefined
      const task = 'rebuilding the uncertainty indexes (indexes)'
      for (const [i, [note, step]] of steps.entries()) {
        report?.({ task, done: i, total: steps.length, note })
        await step(db)
      }
      report?.({ task, done: steps.length, total: steps.length })
    }
    return run
  }
  return { up: rebuild(BUCKET_SCALE.sqlite), down: rebuild(HUNDREDTHS) }
}
const BUCKETED: readonly string[] = [MARGIN_BUCKET_INDEX, FALLBACK_BUCKET_INDEX]

/** The intent and newest indexes as they were before 0012. */
const NARROW_INDEXES: ReadonlyArray<readonly [string, readonly string[]]> = [
  [INTENT_INDEX, ['intent', 'reviewed', 'ts', 'id']],
  [NEWEST_INDEX, ['reviewed', 'ts', 'id']],
]

/** (Re)creates each index on the plain columns listed. */
async function plainIndexes(db: AnyDb, indexes: ReadonlyArray<readonly [string, readonly string[]]>): Promise<void> {
  for (const [name, columns] of indexes) {
    await db.schema.dropIndex(name).ifExists().execute()
    await db.schema
      .createIndex(name)
      .on('predictions')
      .columns([...columns])
      .execute()
  }
}

async function countRows(db: AnyDb): Promise<number> {
  const row = await db
    .selectFrom('predictions')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/**
 * (Re)creates the SQLite FTS5 table over `search_text` with `options` appended to its definition, fills it from the
 * rows, and the triggers that keep it in step whichever connection writes; no-op on PostgreSQL.
 */
async function recreateFts(db: AnyDb, options: string, automerge: number | undefined): Promise<void> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return
  // Kysely runs SQLite migrations outside a transaction: one of our own keeps the swap all or nothing.
  if (!db.isTransaction) return db.transaction().execute((trx) => recreateFts(trx, options, automerge))
  await dropFts(db)
  await sql`create virtual table predictions_fts using fts5(search_text, content='predictions',
    content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'${sql.raw(options)})`.execute(db)
  await sql`insert into predictions_fts(predictions_fts, rank) values ('secure-delete', 1)`.execute(db)
  if (automerge !== undefined) {
    await sql`insert into predictions_fts(predictions_fts, rank) values ('automerge', ${sql.lit(automerge)})`.execute(
      db,
    )
  }
  await sql`insert into predictions_fts(predictions_fts) values ('rebuild')`.execute(db)
  await sql`create trigger predictions_fts_insert after insert on predictions begin
    insert into predictions_fts(rowid, search_text) values (new.rowid, new.search_text); end`.execute(db)
  await sql`create trigger predictions_fts_delete after delete on predictions begin
    insert into predictions_fts(predictions_fts, rowid, search_text) values ('delete', old.rowid, old.search_text);
    end`.execute(db)
  await sql`create trigger predictions_fts_update after update of search_text on predictions begin
    insert into predictions_fts(predictions_fts, rowid, search_text) values ('delete', old.rowid, old.search_text);
    insert into predictions_fts(rowid, search_text) values (new.rowid, new.search_text); end`.execute(db)
}

async function dropFts(db: AnyDb): Promise<void> {
  for (const t of ['insert', 'delete', 'update'])
    await sql`drop trigger if exists ${sql.id(`predictions_fts_${t}`)}`.execute(db)
  await sql`drop table if exists predictions_fts`.execute(db)
}

/** Where pg_trgm lives, installing it into `public` when the database lacks it (two stores may race to do so). */
async function trigramSchema(db: AnyDb): Promise<string> {
  const find = async () =>
    (
      await sql<{ schema: string }>`select extnamespace::regnamespace::text as schema from pg_extension
        where extname = 'pg_trgm'`.execute(db)
    ).rows[0]?.schema
  const found = await find()
  if (found) return found
  // the migration runs in a transaction: a lost race must not abort it
  await sql`savepoint create_trgm`.execute(db)
  try {
    await sql`create extension if not exists pg_trgm with schema public`.execute(db)
    await sql`release savepoint create_trgm`.execute(db)
  } catch (err) {
    await sql`rollback to savepoint create_trgm`.execute(db)
    const code = (err as { code?: string }).code
    // a concurrent creator won (unique violation on pg_extension); anything else, e.g. no privilege, is real
    if (code !== '23505' && code !== '42710') {
      throw new Error(
        `text search needs the pg_trgm extension; create it as a superuser (create extension pg_trgm with schema public): ${(err as Error).message}`,
      )
    }
  }
  const schema = await find()
  if (!schema) throw new Error('the pg_trgm extension is missing after creating it')
  return schema
}

/**
 * A long migration's progress: `done` of `total` units of `task`, which names its unit. Without a task it is the
 * rollup backfill's rows, reported whatever the log's size.
 */
export interface MigrationProgress {
  done: number
  total: number
  task?: string
  /** What the step under way is doing. */
  note?: string
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
  '0007_text_search': textSearch,
  '0008_lean_text_index': leanTextIndex,
  '0009_text_index_by_writer': textIndexByWriter,
  '0010_confidence_via_fallback': confidenceViaFallback,
  '0011_settled_tail': settledTail,
  '0012_bucketed_uncertainty': bucketedUncertainty(),
  '0013_postgres_buckets': postgresBuckets,
  '0014_coarser_buckets': coarserBuckets(),
})

/**
 * @param schema the PostgreSQL schema the store lives in. Without it Kysely looks for its bookkeeping tables in every
 * schema of the database, finds another store's, and then fails to use them unqualified.
 */
export function createMigrator(
  db: Kysely<StoreDatabase>,
  schema?: string,
  onProgress?: (p: MigrationProgress) => void,
): Migrator {
  const migrations = {
    ...MIGRATIONS,
    ...(onProgress
      ? {
          '0005_prediction_rollups': predictionRollups(onProgress),
          '0012_bucketed_uncertainty': bucketedUncertainty(onProgress),
          '0014_coarser_buckets': coarserBuckets(onProgress),
        }
      : {}),
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
