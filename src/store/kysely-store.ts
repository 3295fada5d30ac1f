/**
 * The one `PredictionStore` implementation, on Kysely: SQLite and PostgreSQL differ only in the dialect they hand in.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  type ExpressionBuilder,
  type Kysely,
  type RawBuilder,
  type Selectable,
  type SelectQueryBuilder,
  sql,
} from 'kysely'
import { createError, isIntentopsError } from '../errors.js'
import type { RedactionRule, Redactor } from './redact.js'
import { hashSender } from './redact.js'
import {
  applyRollups,
  ceilHour,
  countedPrediction,
  deleteRollupsBefore,
  floorHour,
  HOUR_MS,
  type RebuildProgress,
  ROLLUP_TABLE,
  RollupAccumulator,
  rebuildRollups,
} from './rollups.js'
import {
  bucketOf,
  createMigrator,
  FALLBACK_BUCKET_INDEX,
  INTENT_INDEX,
  MARGIN_BUCKET_INDEX,
  type MigrationProgress,
  type PredictionsTable,
  type StoreDatabase,
  type TokensTable,
} from './schema.js'
import { ftsQuery, likePattern, parseSearch, searchText } from './search.js'
import type {
  InboxOrder,
  InsertOutcome,
  Page,
  PredictionQuery,
  PredictionRecord,
  PredictionStore,
  ReviewAction,
  ReviewRecord,
  TokenRecord,
  TokenRole,
} from './types.js'

export type StoreDialect = 'sqlite' | 'postgres'

export interface KyselyStoreOptions {
  db: Kysely<StoreDatabase>
  dialect: StoreDialect
  /** Applied to text, field values and entity values before writing. */
  redact?: Redactor
  /** HMAC key for sender ids; when absent a random key is created once and kept in the store itself. */
  senderKey?: string
  /** The clock (epoch ms), for tests. */
  now?: () => number
  /** Runs after the Kysely instance is destroyed (e.g. to drop a test schema). */
  onClose?: () => Promise<void>
  /** Where the store lives, for messages (a file path or a URL without password). */
  location?: string
  /** Runs before the migrations (e.g. to create the PostgreSQL schema). */
  beforeMigrate?: () => Promise<void>
  /** Runs after text was erased (a `delete` review, a purge), to push the old bytes out of journals. */
  afterErase?: () => Promise<void>
  /** Frees what the connection caches (`releaseMemory`); none: nothing to free. */
  releaseMemory?: () => void
  /**
   * Writes converted rows in one transaction, ignoring existing ids, instead of the generic multi-row insert (a
   * backend's faster path for the one hot write; it must keep the same semantics).
   */
  insertRows?: (rows: PredictionRow[]) => Promise<void>
}

export interface StoreStats {
  /** Every count but `deleted` and `reviews` leaves out predictions deleted by review (junk, PII). */
  predictions: number
  deleted: number
  reviewed: number
  unreviewed: number
  fallback: number
  reviews: number
  exportedReviews: number
  liveTokens: number
  oldest?: number
  newest?: number
  byChannel: Record<string, number>
  byModelVersion: Record<string, number>
}

export const DEFAULT_PAGE_SIZE = 50
export const MAX_PAGE_SIZE = 1000
const TOKEN_PREFIX = 'iop_'
/** Rows per multi-row insert (PostgreSQL); each chunk's rows are made, compiled and bound in one go. */
const INSERT_CHUNK = 200
/** Ids per `in (…)` list. */
const ID_CHUNK = 500
/**
 * Past this many FTS matches SQLite walks an order index and tests each row's words instead (same meaning, see
 * search.ts): with matches that dense a page is found after a few thousand rows, while fetching and sorting every
 * match grows with their number.
 */
const DENSE_MATCHES = 2000
const STREAM_BATCH = 1000
/** `lastUsedAt` is refreshed at most this often, so verifying a token is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000
const ROLES: readonly TokenRole[] = ['admin', 'annotator', 'client']
const ORDERS: readonly InboxOrder[] = ['confidence', 'margin', 'fallback', 'newest']
const ACTIONS: readonly ReviewAction[] = ['confirm', 'relabel', 'out_of_scope', 'entities', 'skip', 'delete']

export type PredictionRow = Selectable<PredictionsTable>
type Eb = ExpressionBuilder<StoreDatabase, 'predictions'>

export class KyselyPredictionStore implements PredictionStore {
  /** The query builder, for read-only analytics over the same tables. */
  readonly db: Kysely<StoreDatabase>
  readonly dialect: StoreDialect
  readonly location: string
  private readonly redact: Redactor
  /** The rules of `redact`, when it came from `createRedactor`. */
  readonly redaction?: readonly RedactionRule[]
  private readonly now: () => number
  private readonly onClose: (() => Promise<void>) | undefined
  private readonly beforeMigrate: (() => Promise<void>) | undefined
  private readonly afterErase: (() => Promise<void>) | undefined
  private readonly release: (() => void) | undefined
  private readonly insertRows: KyselyStoreOptions['insertRows']
  private senderKeyPromise: Promise<string> | undefined
  private closed = false

  constructor(options: KyselyStoreOptions) {
    this.db = options.db
    this.dialect = options.dialect
    this.location = options.location ?? options.dialect
    this.redact = options.redact ?? ((t) => t)
    if (this.redact.rules) this.redaction = this.redact.rules
    this.now = options.now ?? Date.now
    this.onClose = options.onClose
    this.beforeMigrate = options.beforeMigrate
    this.afterErase = options.afterErase
    this.release = options.releaseMemory
    this.insertRows = options.insertRows
    if (options.senderKey) this.senderKeyPromise = Promise.resolve(options.senderKey)
  }

  /** @param options.onProgress reports long migrations on a large log (the rollup backfill, index rebuilds) */
  async migrate(options: { onProgress?: (p: MigrationProgress) => void } = {}): Promise<void> {
    // Kysely's migrator holds a lock row, so replicas starting together on one PostgreSQL schema run each step once.
    await this.ping()
    try {
      await this.beforeMigrate?.()
    } catch (err) {
      throw this.migrationError(err)
    }
    let schema: string | undefined
    if (this.dialect === 'postgres') {
      const res = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(this.db)
      schema = res.rows[0]?.schema ?? undefined
      if (!schema) {
        throw this.migrationError(new Error('the connection has no current schema (check search_path / store.schema)'))
      }
    }
    const { error } = await createMigrator(this.db, schema, options.onProgress).migrateToLatest()
    if (error) throw this.migrationError(error)
  }

  private migrationError(error: unknown): Error {
    if (isIntentopsError(error)) return error
    return createError(
      'ERR_STORE_MIGRATION_FAILED',
      { location: this.location, detail: (error as Error)?.message ?? String(error) },
      { cause: error },
    )
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.db)
    } catch (err) {
      throw createError(
        'ERR_STORE_UNAVAILABLE',
        { backend: this.dialect, location: this.location, detail: (err as Error).message },
        { cause: err },
      )
    }
  }

  /** The sender HMAC key: configured, else the one persisted in the store (created on first use). */
  senderKey(): Promise<string> {
    this.senderKeyPromise ??= this.loadSenderKey().catch((err) => {
      this.senderKeyPromise = undefined
      throw err
    })
    return this.senderKeyPromise
  }

  private async loadSenderKey(): Promise<string> {
    const fresh = randomBytes(32).toString('base64url')
    await this.db
      .insertInto('store_meta')
      .values({ key: 'sender_key', value: fresh })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute()
    const row = await this.db
      .selectFrom('store_meta')
      .select('value')
      .where('key', '=', 'sender_key')
      .executeTakeFirstOrThrow()
    return row.value
  }

  async insertPredictions(records: readonly PredictionRecord[]): Promise<void> {
    const invalid = firstInvalidPrediction(records)
    if (invalid) throw invalid
    await this.insertChecked(records)
  }

  async insertValidPredictions(records: readonly PredictionRecord[]): Promise<InsertOutcome> {
    // A copy of the batch is made only from the first record left out.
    let valid: PredictionRecord[] | undefined
    let error: Error | undefined
    let refused = 0
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      const problem = checkPrediction(r)
      if (problem === undefined) {
        valid?.push(r)
        continue
      }
      if (refused++ === 0) {
        error = invalidRecordError(r, problem)
        valid = records.slice(0, i)
      }
    }
    await this.insertChecked(valid ?? records)
    return error ? { refused, error } : { refused }
  }

  /** Writes records that passed `checkPrediction`. */
  private async insertChecked(records: readonly PredictionRecord[]): Promise<void> {
    if (records.length === 0) return
    const needsKey = records.some((r) => r.senderHash === undefined && r.senderId !== undefined)
    const key = needsKey ? await this.senderKey() : ''
    if (this.insertRows) return this.insertRows(records.map((r) => this.toRow(r, key)))
    await this.db.transaction().execute(async (trx) => {
      // Only rows actually inserted count in the rollups: a retried batch must not count twice.
      const rollups = new RollupAccumulator()
      for (let i = 0; i < records.length; i += INSERT_CHUNK) {
        // Rows are made a chunk at a time: on a caller's event loop (the review UI's, a library user's; the server's
        // log goes through its writer thread), making a whole batch's rows at once held it for tens of milliseconds.
        const chunk = records.slice(i, i + INSERT_CHUNK).map((r) => this.toRow(r, key))
        const inserted = await trx
          .insertInto('predictions')
          .values(chunk)
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute()
        const ids = new Set(inserted.map((r) => r.id))
        for (const row of chunk) if (ids.delete(row.id)) rollups.add(row)
      }
      await applyRollups(trx, this.dialect, rollups)
    })
  }

  /** Recent senders' hashes: the same users write again and again, and an HMAC costs ~4 µs a record. */
  private senderHashes = { key: '', map: new Map<string, string>() }

  private hashSenderCached(key: string, senderId: string): string {
    let cache = this.senderHashes
    if (cache.key !== key) cache = this.senderHashes = { key, map: new Map() }
    let hash = cache.map.get(senderId)
    if (hash === undefined) {
      // Bounded: starting over is cheaper than tracking recency, and a miss only costs the HMAC.
      if (cache.map.size >= SENDER_CACHE_SIZE) cache.map.clear()
      hash = hashSender(key, senderId)
      cache.map.set(senderId, hash)
    }
    return hash
  }

  private toRow(r: PredictionRecord, senderKey: string): PredictionRow {
    const text = this.redact(r.text)
    const fields = r.fields
      ? Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [k, this.redact(v)]))
      : undefined
    const entities = r.entities.map((e) => (typeof e.value === 'string' ? { ...e, value: this.redact(e.value) } : e))
    const senderHash = r.senderHash ?? (r.senderId !== undefined ? this.hashSenderCached(senderKey, r.senderId) : null)
    return {
      id: r.id,
      ts: r.ts,
      message_id: r.messageId ?? null,
      sender_hash: senderHash,
      text,
      search_text: searchText(text, fields),
      fields: fields ? JSON.stringify(fields) : null,
      intent: r.intent,
      confidence: r.confidence,
      margin: r.margin,
      fallback: r.fallback ? 1 : 0,
      ranking: JSON.stringify(r.ranking),
      entities: JSON.stringify(entities),
      model_name: r.modelName,
      model_version: r.modelVersion,
      latency_ms: r.latencyMs,
      channel: r.channel,
      metadata: r.metadata ? JSON.stringify(r.metadata) : null,
      reviewed: 0,
      label: null,
      review_action: null,
      reviewed_at: null,
    }
  }

  async getPrediction(id: string): Promise<PredictionRecord | undefined> {
    const row = await this.db.selectFrom('predictions').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? fromRow(row) : undefined
  }

  async queryPredictions(query: PredictionQuery): Promise<Page<PredictionRecord>> {
    const order = query.order ?? 'newest'
    if (!ORDERS.includes(order)) {
      throw createError('ERR_INVALID_ARGUMENT', { detail: `unknown order "${order}"; use ${ORDERS.join(', ')}` })
    }
    const limit = pageSize(query.limit)
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, order)
    const search = await this.searchPlan(query.search)
    const keys = ORDER_KEYS[order]
    // The uncertainty orders read bucketed indexes (migrations 0012 to 0014), or one intent's index, sorted; text
    // matches drive a search whatever the order, and their rows are few enough to sort.
    const plan =
      order !== 'newest' && !(search && 'fts' in search) ? uncertaintyPlan(this.dialect, order, query) : undefined
    const from = plan?.index ? this.indexed(plan.index) : this.from(search)
    const selected = (plan ? from.select(pageKeys(keys, this.dialect)) : from.selectAll('predictions')) as ArmQuery
    const base = selected.where((eb) => eb.and(filters(eb, query, search)))
    // The confidence order has no index of its own (migration 0010): the fallback order's indexes hold (fallback,
    // confidence, id), so the fallback rows and the others are each already in confidence order, and a page is the
    // first `limit + 1` of the two merged.
    const parts = order === 'confidence' ? [base.where('fallback', '=', 1), base.where('fallback', '=', 0)] : [base]
    const bucket = plan?.bucketed ? this.bucketOf : undefined
    const arms = parts.flatMap((part) => this.keysetArms(part, keys, after, limit + 1, bucket))
    let rows: ArmQuery
    if (arms.length === 1) {
      rows = arms[0]!
    } else {
      // Each arm is a subquery because SQLite allows no ORDER BY or LIMIT on a compound's members.
      const [first, ...rest] = arms.map((arm, i) => this.db.selectFrom(arm.as(`arm${i}`)).selectAll() as ArmQuery)
      rows = orderedBy(
        this.db.selectFrom(rest.reduce((u, arm) => u.unionAll(arm), first!).as('merged')).selectAll() as ArmQuery,
        keys,
      ).limit(limit + 1)
    }
    // The indexes give the page's keys; only the page's own rows are read from the table. Selecting the whole row
    // there made SQLite read every row of each bucket it sorted, in index order, which is no order on disk.
    if (plan) {
      const handle = sql.ref(rowHandle(this.dialect))
      rows = orderedBy(
        this.db
          .selectFrom(rows.as('page'))
          .crossJoin('predictions')
          .where(sql<boolean>`${handle} = page.page_row`)
          .selectAll('predictions') as ArmQuery,
        keys,
        'page',
      )
    }
    return this.page(order, (await rows.execute()) as PredictionRow[], limit)
  }

  /**
   * The queries whose results, merged in order, are the next `limit` rows after `after` in the order `keys` + id. The
   * last key and the id are one row comparison, `(margin, id) > (m, t)`, which both backends seek on the order's
   * index. Keys before it, which may run the other way (`fallback desc, confidence, id`), get one query each: (fallback
   * = f and (confidence, id) > (c, t)), then (fallback < f). An `or` of the two in one query kept PostgreSQL from
   * seeking the row comparison: it walked a run of 100,000 identical messages, 2.2 s a page on 1M rows
   * (bench/store.ts). Splitting the last key from the id as well misled its planner the same way (1.2 s).
   * `bucket` (migrations 0012 to 0014): the index holds the last key's bucket before it, so rows come bucket by
   * bucket, each sorted, and a cursor seeks to its own bucket.
   */
  private keysetArms(
    part: ArmQuery,
    keys: readonly OrderKey[],
    after: CursorKey | undefined,
    limit: number,
    bucket: Bucket | undefined,
  ) {
    const ordered = (q: ArmQuery) => orderedBy(q, keys, undefined, bucket).limit(limit)
    if (!after) return [ordered(part)]
    const last = keys.length - 1
    const lastKey = keys[last]!
    const columns = keys.map((k) => sql`${sql.ref(k.column)}`)
    const values: unknown[] = after.slice(0, last)
    columns[last] = sql`(${sql.ref(lastKey.column)}, ${sql.ref('predictions.id')})`
    values[last] = sql`(${after[last]}, ${after[last + 1]})`
    const arms: ArmQuery[] = []
    for (let j = last; j >= 0; j--) {
      let q = part
      for (let i = 0; i < j; i++) q = q.where(sql<boolean>`${columns[i]} = ${values[i]}`)
      const op = sql.raw(keys[j]!.desc ? '<' : '>')
      // The bucket bound is implied by the row comparison; said out loud, it is what SQLite seeks on.
      if (bucket && j === last) {
        q = q.where(sql<boolean>`${bucket(sql.ref(lastKey.column))} ${op}= ${bucket(sql`${after[last]}`, true)}`)
      }
      arms.push(ordered(q.where(sql<boolean>`${columns[j]} ${op} ${values[j]}`)))
    }
    return arms
  }

  /** A page of `limit` from up to `limit + 1` rows in order: the extra row says whether another page follows. */
  private page(order: InboxOrder, rows: PredictionRow[], limit: number): Page<PredictionRecord> {
    const more = rows.length > limit
    const items = (more ? rows.slice(0, limit) : rows).map(fromRow)
    const last = more ? rows[limit - 1] : undefined
    if (!last) return { items }
    const key = [...ORDER_KEYS[order].map((k) => Number(last[k.column])), last.id]
    return { items, nextCursor: encodeCursor(order, key) }
  }

  async countPredictions(query: Omit<PredictionQuery, 'order' | 'limit' | 'cursor'> = {}): Promise<number> {
    const search = await this.searchPlan(query.search)
    const row = await this.from(search)
      .select((eb) => eb.fn.countAll().as('n'))
      .where((eb) => eb.and(filters(eb, query, search)))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  async *streamPredictions(
    query: Omit<PredictionQuery, 'order' | 'limit' | 'cursor'>,
  ): AsyncIterable<PredictionRecord> {
    let after: [number, string] | undefined
    const search = await this.searchPlan(query.search)
    for (;;) {
      let q = this.from(search)
        .selectAll()
        .where((eb) => eb.and(filters(eb, query, search)))
      if (after) {
        const [ts, id] = after
        q = q.where((eb) => eb(eb.refTuple('ts', 'id'), '>', eb.tuple(ts, id)))
      }
      const rows = await q.orderBy('ts', 'asc').orderBy('id', 'asc').limit(STREAM_BATCH).execute()
      for (const row of rows) yield fromRow(row)
      if (rows.length < STREAM_BATCH) return
      const last = rows[rows.length - 1]!
      after = [last.ts, last.id]
    }
  }

  /**
   * How to answer a query's text search, or undefined without one. PostgreSQL tests the words with `LIKE`, and its
   * planner picks the trigram index or an order index from its estimate. SQLite first counts the FTS5 matches, up
   * to `DENSE_MATCHES`: few, and the query starts from them; more, and it walks the order index testing `LIKE`
   * (same meaning, see search.ts), which finds a page after a few thousand rows.
   */
  private async searchPlan(search: string | undefined): Promise<SearchPlan | undefined> {
    if (search === undefined || search.trim() === '') return undefined
    const phrases = parseSearch(search)
    const like = { like: phrases.map((p) => sql<boolean>`${sql.ref('search_text')} like ${likePattern(p)}`) }
    if (this.dialect === 'postgres') return like
    const match = ftsQuery(phrases)
    const res = await sql<{ n: number }>`select count(*) as n from (select rowid from predictions_fts
      where predictions_fts match ${match} limit ${DENSE_MATCHES + 1})`.execute(this.db)
    return Number(res.rows[0]?.n ?? 0) > DENSE_MATCHES ? like : { fts: match }
  }

  /**
   * The predictions a query reads: all of them, or those an FTS5 match lists. SQLite keeps a CROSS JOIN's order, so
   * the matches drive the query; as `rowid in (…)`, a store without planner statistics walked an order index and
   * tested every row against the matches instead (a full inbox scan for a word no message holds).
   */
  private from(search: SearchPlan | undefined) {
    const all = this.db.selectFrom('predictions')
    if (search && 'fts' in search) {
      const matches = sql`(select rowid as fts_rowid from predictions_fts where predictions_fts match ${search.fts})`
      // the filters and orders name predictions' columns unqualified, and the match adds only `fts_rowid`
      return this.db
        .selectFrom(matches.as('fts'))
        .crossJoin('predictions')
        .where(sql<boolean>`predictions.rowid = fts.fts_rowid`) as unknown as typeof all
    }
    return all
  }

  /** A bucket of an uncertainty key, as this backend's bucketed indexes hold it. */
  private readonly bucketOf: Bucket = (value, parameter) => bucketOf(this.dialect === 'sqlite', value, parameter)

  /**
   * The predictions read through one index (SQLite's `INDEXED BY`). Left to itself, SQLite's planner priced a page of
   * the bucketed order as a sort of every unreviewed row, as it would any other index's, and took another: a
   * skip-scan of the intent index and a sort, 135 ms on 1M rows against 2.5 through the buckets (docs/store.md).
   */
  private indexed(index: string) {
    return this.db.selectFrom(sql`predictions`.as<'predictions'>(sql`predictions indexed by ${sql.id(index)}`))
  }

  async purgePredictions(before: number): Promise<number> {
    if (!Number.isFinite(before)) throw createError('ERR_INVALID_ARGUMENT', { detail: 'purge needs a finite time' })
    const n = await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('reviews')
        .where('prediction_id', 'in', (eb) => eb.selectFrom('predictions').select('id').where('ts', '<', before))
        .execute()
      const res = await trx.deleteFrom('predictions').where('ts', '<', before).executeTakeFirst()
      // Whole hours before the cut go; the hour the cut falls into is recounted from the rows it keeps.
      await deleteRollupsBefore(trx, floorHour(before))
      if (ceilHour(before) !== before) await rebuildRollups(trx, this.dialect, floorHour(before), ceilHour(before))
      return Number(res.numDeletedRows)
    })
    if (n > 0) await this.afterErase?.()
    return n
  }

  /**
   * Recomputes the hourly rollups from the raw rows, in one transaction: of the hours overlapping `[from, to)`, or
   * of every hour the log or the rollups hold. The store keeps them in step by itself; this is for a log changed
   * behind its back (a manual `DELETE`, a table restored from a backup). Returns the hours and rows it read.
   */
  async rebuildRollups(
    options: { from?: number; to?: number; onProgress?: (p: RebuildProgress) => void } = {},
  ): Promise<{ fromHour: number; toHour: number; predictions: number } | undefined> {
    for (const [name, v] of [
      ['from', options.from],
      ['to', options.to],
    ] as const) {
      if (v !== undefined && !Number.isFinite(v)) {
        throw createError('ERR_INVALID_ARGUMENT', { detail: `rollup rebuild: ${name} must be a finite time` })
      }
    }
    return this.db.transaction().execute(async (trx) => {
      let lo = options.from
      let hi = options.to
      if (lo === undefined || hi === undefined) {
        // Hours the rollups hold without rows count too: rows deleted behind the store's back leave them.
        const raw = await trx
          .selectFrom('predictions')
          .select((eb) => [eb.fn.min('ts').as('lo'), eb.fn.max('ts').as('hi')])
          .executeTakeFirst()
        // biome-ignore lint/suspicious/noExplicitAny: the rollup table is not in the typed schema
        const rolled = await (trx as unknown as Kysely<any>)
          .selectFrom(ROLLUP_TABLE)
          .select((eb) => [eb.fn.min('hour').as('lo'), eb.fn.max('hour').as('hi')])
          .executeTakeFirst()
        const ends = [raw, rolled].filter((r) => r?.lo !== null && r?.lo !== undefined)
        if (ends.length === 0) return undefined
        lo ??= Math.min(...ends.map((r) => Number(r!.lo)))
        hi ??= Math.max(...ends.map((r) => Number(r!.hi))) + 1
      }
      if (hi <= lo) return { fromHour: floorHour(lo), toHour: floorHour(lo), predictions: 0 }
      const fromHour = floorHour(lo)
      const toHour = ceilHour(hi)
      const predictions = await rebuildRollups(trx, this.dialect, fromHour, toHour, {
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      })
      return { fromHour, toHour, predictions }
    })
  }

  async addReview(review: ReviewRecord): Promise<void> {
    if (!ACTIONS.includes(review.action)) {
      throw createError('ERR_INVALID_ARGUMENT', {
        detail: `unknown review action "${review.action}"; use ${ACTIONS.join(', ')}`,
      })
    }
    const erased = await this.db.transaction().execute(async (trx) => {
      const prediction = await trx
        .selectFrom('predictions')
        .select(['id', 'intent', 'ts', 'model_version', 'channel', 'review_action'])
        .where('id', '=', review.predictionId)
        .executeTakeFirst()
      if (!prediction) throw createError('ERR_STORE_PREDICTION_NOT_FOUND', { id: review.predictionId })
      const intent = review.intent ?? (review.action === 'confirm' ? prediction.intent : undefined)
      const inserted = await trx
        .insertInto('reviews')
        .values({
          id: review.id,
          prediction_id: review.predictionId,
          action: review.action,
          intent: intent ?? null,
          previous_intent: review.previousIntent,
          entities: review.entities ? JSON.stringify(review.entities) : null,
          reviewer: review.reviewer,
          ts: review.ts,
          note: review.note ?? null,
          exported_at: review.exportedAt ?? null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst()
      // A retried review (same id) changes nothing; a skip is recorded but leaves the prediction in the inbox.
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0 || review.action === 'skip') return false
      const scrub =
        review.action === 'delete'
          ? { text: '', search_text: '', fields: null, entities: '[]', metadata: null, sender_hash: null }
          : {}
      const updated = await trx
        .updateTable('predictions')
        .set({
          reviewed: 1,
          label: review.action === 'delete' ? null : (intent ?? null),
          review_action: review.action,
          reviewed_at: review.ts,
          ...scrub,
        })
        .where('id', '=', review.predictionId)
        // Latest wins: an older review arriving late is kept in the audit but does not relabel.
        .where((eb) => eb.or([eb('reviewed_at', 'is', null), eb('reviewed_at', '<=', review.ts)]))
        .executeTakeFirst()
      // Deleted predictions leave the analytics; a later review that is not a delete brings one back.
      const applied = Number(updated.numUpdatedRows) > 0
      if (applied && (review.action === 'delete') !== (prediction.review_action === 'delete')) {
        const hour = floorHour(Number(prediction.ts))
        await rebuildRollups(trx, this.dialect, hour, hour + HOUR_MS, {
          key: { modelVersion: prediction.model_version, channel: prediction.channel, intent: prediction.intent },
        })
      }
      return review.action === 'delete'
    })
    if (erased) await this.afterErase?.()
  }

  async listReviews(query: {
    predictionId?: string
    reviewer?: string
    from?: number
    to?: number
    exported?: boolean
    limit?: number
  }): Promise<ReviewRecord[]> {
    let q = this.db.selectFrom('reviews').selectAll()
    if (query.predictionId !== undefined) q = q.where('prediction_id', '=', query.predictionId)
    if (query.reviewer !== undefined) q = q.where('reviewer', '=', query.reviewer)
    if (query.from !== undefined) q = q.where('ts', '>=', query.from)
    if (query.to !== undefined) q = q.where('ts', '<', query.to)
    if (query.exported === true) q = q.where('exported_at', 'is not', null)
    if (query.exported === false) q = q.where('exported_at', 'is', null)
    q = q.orderBy('ts', 'asc').orderBy('id', 'asc')
    if (query.limit !== undefined) q = q.limit(Math.max(0, Math.floor(query.limit)))
    const rows = await q.execute()
    return rows.map((r) => ({
      id: r.id,
      predictionId: r.prediction_id,
      action: r.action as ReviewAction,
      ...(r.intent !== null ? { intent: r.intent } : {}),
      previousIntent: r.previous_intent,
      ...(r.entities !== null ? { entities: JSON.parse(r.entities) } : {}),
      reviewer: r.reviewer,
      ts: r.ts,
      ...(r.note !== null ? { note: r.note } : {}),
      ...(r.exported_at !== null ? { exportedAt: r.exported_at } : {}),
    }))
  }

  async markReviewsExported(ids: readonly string[], at: number): Promise<void> {
    if (ids.length === 0) return
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        await trx
          .updateTable('reviews')
          .set({ exported_at: at })
          .where('id', 'in', ids.slice(i, i + ID_CHUNK))
          .execute()
      }
    })
  }

  async createToken(input: { name: string; role: TokenRole }): Promise<{ token: string; record: TokenRecord }> {
    const name = input.name?.trim()
    if (!name || name.length > 100 || /[\s]/.test(name)) {
      throw createError('ERR_INVALID_ARGUMENT', {
        detail: `token name "${input.name}" must be 1–100 characters without spaces`,
      })
    }
    if (!ROLES.includes(input.role)) {
      throw createError('ERR_INVALID_ARGUMENT', {
        detail: `unknown token role "${input.role}"; use ${ROLES.join(', ')}`,
      })
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
    const record: TokenRecord = {
      id: `tok_${randomBytes(8).toString('hex')}`,
      name,
      role: input.role,
      createdAt: this.now(),
    }
    await this.db.transaction().execute(async (trx) => {
      const live = await trx
        .selectFrom('tokens')
        .select('id')
        .where('name', '=', name)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      if (live) throw createError('ERR_STORE_TOKEN_EXISTS', { name })
      try {
        await trx
          .insertInto('tokens')
          .values({
            id: record.id,
            name,
            role: record.role,
            hash: hashToken(token),
            created_at: record.createdAt,
            revoked_at: null,
            last_used_at: null,
          })
          .execute()
      } catch (err) {
        // Two creators raced past the check: the partial unique index decides.
        if (/unique|duplicate/i.test((err as Error).message)) {
          throw createError('ERR_STORE_TOKEN_EXISTS', { name }, { cause: err })
        }
        throw err
      }
    })
    return { token, record }
  }

  async verifyToken(token: string): Promise<TokenRecord | undefined> {
    if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined
    const row = await this.db
      .selectFrom('tokens')
      .selectAll()
      .where('hash', '=', hashToken(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    if (!row) return undefined
    const now = this.now()
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      await this.db.updateTable('tokens').set({ last_used_at: now }).where('id', '=', row.id).execute()
      row.last_used_at = now
    }
    return tokenFromRow(row)
  }

  async listTokens(): Promise<TokenRecord[]> {
    const rows = await this.db.selectFrom('tokens').selectAll().orderBy('created_at').orderBy('id').execute()
    return rows.map(tokenFromRow)
  }

  async revokeToken(idOrName: string): Promise<boolean> {
    const res = await this.db
      .updateTable('tokens')
      .set({ revoked_at: this.now() })
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return Number(res.numUpdatedRows) > 0
  }

  async stats(): Promise<StoreStats> {
    const p = await this.db
      .selectFrom('predictions')
      .select((eb) => [
        eb.fn.countAll().as('n'),
        eb.fn.sum<number | string | null>('reviewed').as('reviewed'),
        eb.fn.sum<number | string | null>('fallback').as('fallback'),
        eb.fn.min('ts').as('oldest'),
        eb.fn.max('ts').as('newest'),
      ])
      .where(countedPrediction())
      .executeTakeFirstOrThrow()
    const d = await this.db
      .selectFrom('predictions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('review_action', '=', 'delete')
      .executeTakeFirstOrThrow()
    const r = await this.db
      .selectFrom('reviews')
      .select((eb) => [eb.fn.countAll().as('n'), eb.fn.count('exported_at').as('exported')])
      .executeTakeFirstOrThrow()
    const t = await this.db
      .selectFrom('tokens')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow()
    const group = async (col: 'channel' | 'model_version') => {
      const rows = await this.db
        .selectFrom('predictions')
        .select([col, (eb) => eb.fn.countAll().as('n')])
        .where(countedPrediction())
        .groupBy(col)
        .orderBy(col)
        .execute()
      return Object.fromEntries(rows.map((row) => [row[col] as string, Number(row.n)]))
    }
    const predictions = Number(p.n)
    const reviewed = Number(p.reviewed ?? 0)
    return {
      predictions,
      deleted: Number(d.n),
      reviewed,
      unreviewed: predictions - reviewed,
      fallback: Number(p.fallback ?? 0),
      reviews: Number(r.n),
      exportedReviews: Number(r.exported),
      liveTokens: Number(t.n),
      ...(p.oldest !== null && p.oldest !== undefined ? { oldest: Number(p.oldest) } : {}),
      ...(p.newest !== null && p.newest !== undefined ? { newest: Number(p.newest) } : {}),
      byChannel: await group('channel'),
      byModelVersion: await group('model_version'),
    }
  }

  /**
   * Refresh the planner's statistics after bulk loads or purges, so filtered inbox queries pick the right index.
   * PostgreSQL's autovacuum does this on its own eventually; SQLite never does. On PostgreSQL a vacuum also marks the
   * loaded pages all-visible, so that one intent's inbox reads its covering index alone: on 1M freshly loaded rows
   * those pages took 120–220 ms fetching every row of the intent from the table, 6–32 ms after (migration 0013).
   */
  async optimize(): Promise<void> {
    // A bare ANALYZE on PostgreSQL would visit every table of the database, not just ours.
    if (this.dialect === 'postgres')
      await sql`vacuum (analyze) predictions, prediction_rollups, reviews, tokens`.execute(this.db)
    else await sql`analyze`.execute(this.db)
  }

  /**
   * Frees the connection's page cache (SQLite), for a connection that will sit idle for a while: a log writer
   * thread kept in reserve (`WorkerLogWriter`). The cache grows back with use.
   */
  releaseMemory(): void {
    if (!this.closed) this.release?.()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.db.destroy()
    await this.onClose?.()
  }
}

const recordId = (r: unknown) => {
  const id = (r as { id?: unknown } | null)?.id
  return typeof id === 'string' ? JSON.stringify(id.slice(0, 100)) : '(without id)'
}

const invalidRecordError = (r: unknown, problem: string) =>
  createError('ERR_STORE_INVALID_RECORD', { id: recordId(r), detail: problem })

/** ERR_STORE_INVALID_RECORD for the first of `records` that `checkPrediction` refuses, or undefined. */
export function firstInvalidPrediction(records: readonly PredictionRecord[]): Error | undefined {
  for (const r of records) {
    const problem = checkPrediction(r)
    if (problem !== undefined) return invalidRecordError(r, problem)
  }
  return undefined
}

/**
 * What is wrong with a prediction record, or undefined when it can be stored. Cheap enough to run on every request,
 * so a bad record is refused at the door instead of failing (and blocking) a whole batch later.
 */
const SENDER_CACHE_SIZE = 10_000

export function checkPrediction(r: PredictionRecord): string | undefined {
  if (r === null || typeof r !== 'object') return 'not an object'
  if (typeof r.id !== 'string' || r.id.length === 0 || r.id.length > 200)
    return '`id` must be a string of 1–200 characters'
  for (const key of ['ts', 'confidence', 'margin', 'latencyMs'] as const) {
    if (typeof r[key] !== 'number' || !Number.isFinite(r[key])) return `\`${key}\` must be a finite number`
  }
  for (const key of ['text', 'intent', 'modelName', 'modelVersion', 'channel'] as const) {
    if (typeof r[key] !== 'string') return `\`${key}\` must be a string`
  }
  for (const key of ['messageId', 'senderHash', 'senderId'] as const) {
    if (r[key] !== undefined && typeof r[key] !== 'string') return `\`${key}\` must be a string when given`
  }
  if (typeof r.fallback !== 'boolean') return '`fallback` must be true or false'
  // A list with a `toJSON` of its own would be logged as whatever that returns, which the writer may refuse.
  if (!isPlainList(r.ranking)) return '`ranking` must be a list (without a `toJSON` method)'
  if (!isPlainList(r.entities)) return '`entities` must be a list (without a `toJSON` method)'
  if (r.fields !== undefined) {
    if (!isPlainObject(r.fields)) return `\`fields\` must be a plain object${notPlain}`
    for (const v of Object.values(r.fields)) if (typeof v !== 'string') return '`fields` values must be strings'
  }
  if (r.metadata !== undefined && !isPlainObject(r.metadata)) return `\`metadata\` must be a plain object${notPlain}`
  return undefined
}

const notPlain = ' (not a list, Date, Map or class instance, and without a `toJSON` method)'

/**
 * Whether `x` is an object whose JSON is an object of its own properties: one made by `{}`, `JSON.parse` or
 * `Object.create(null)`, without a `toJSON` method. The queue's `push` checks a record's objects and the log writer
 * their JSON, and the two must agree: a Date's JSON is a string, which the writer would refuse after `push` took it,
 * and a Map's is `{}`, which would log something other than what was pushed.
 */
function isPlainList(x: unknown): boolean {
  return Array.isArray(x) && typeof (x as { toJSON?: unknown }).toJSON !== 'function'
}

function isPlainObject(x: unknown): boolean {
  if (x === null || typeof x !== 'object') return false
  const proto = Object.getPrototypeOf(x)
  return (proto === Object.prototype || proto === null) && typeof (x as { toJSON?: unknown }).toJSON !== 'function'
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE
  if (!Number.isInteger(limit) || limit < 1) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: `page limit must be a positive integer, got ${limit}` })
  }
  return Math.min(limit, MAX_PAGE_SIZE)
}

type SearchPlan = { like: Array<RawBuilder<boolean>> } | { fts: string }

/** A key's bucket, SQL, of a column or of a bound value (`parameter`). */
type Bucket = (value: RawBuilder<unknown> | ReturnType<typeof sql.ref>, parameter?: boolean) => RawBuilder<unknown>

/**
 * How an uncertainty order is read (migrations 0012 to 0014): through one intent's index, whose rows are sorted, or
 * bucket by bucket through the order's bucketed index. SQLite names the index (`index`); PostgreSQL's planner
 * chooses. Without a `reviewed` filter neither index gives the order, and the query is left to the planner.
 */
function uncertaintyPlan(
  dialect: StoreDialect,
  order: InboxOrder,
  query: PredictionQuery,
): { index?: string; bucketed: boolean } | undefined {
  const sqlite = dialect === 'sqlite'
  if (query.intent !== undefined) return { ...(sqlite ? { index: INTENT_INDEX } : {}), bucketed: false }
  if (query.reviewed === undefined) return undefined
  const index = order === 'margin' ? MARGIN_BUCKET_INDEX : FALLBACK_BUCKET_INDEX
  return { ...(sqlite ? { index } : {}), bucketed: true }
}

/** What finds a row fastest: SQLite's rowid, PostgreSQL's primary key. */
const rowHandle = (dialect: StoreDialect) => (dialect === 'sqlite' ? 'predictions.rowid' : 'predictions.id')

/** What a page's arms select when its rows are read afterwards: the row's handle, the order's keys and the id. */
const pageKeys = (keys: readonly OrderKey[], dialect: StoreDialect) => [
  sql.ref(rowHandle(dialect)).as('page_row'),
  sql.ref('predictions.id').as('id'),
  ...keys.map((k) => sql.ref(`predictions.${k.column}`).as(k.column)),
]

/** `q` ordered by `keys` and then the id (of `table` when given), the last key's `bucket` first when given. */
function orderedBy(q: ArmQuery, keys: readonly OrderKey[], table?: string, bucket?: Bucket): ArmQuery {
  const ref = (column: string) => sql.ref(table ? `${table}.${column}` : column)
  for (const [i, k] of keys.entries()) {
    const dir = k.desc ? 'desc' : 'asc'
    if (bucket && i === keys.length - 1) q = q.orderBy(bucket(ref(k.column)), dir)
    q = q.orderBy(ref(k.column), dir)
  }
  return q.orderBy(ref('id'), keys.at(-1)!.desc ? 'desc' : 'asc')
}

function filters(eb: Eb, query: Omit<PredictionQuery, 'order' | 'limit' | 'cursor'>, search?: SearchPlan) {
  const where = []
  if (query.intent !== undefined) where.push(eb('intent', '=', query.intent))
  if (query.modelVersion !== undefined) where.push(eb('model_version', '=', query.modelVersion))
  if (query.channel !== undefined) where.push(eb('channel', '=', query.channel))
  if (query.from !== undefined) where.push(eb('ts', '>=', query.from))
  if (query.to !== undefined) where.push(eb('ts', '<', query.to))
  if (query.reviewed !== undefined) where.push(eb('reviewed', '=', query.reviewed ? 1 : 0))
  if (query.deleted === false) where.push(countedPrediction())
  if (query.deleted === true) where.push(eb('review_action', '=', 'delete'))
  if (search && 'like' in search) where.push(...search.like)
  return where
}

type CursorKey = Array<number | string>
// biome-ignore lint/suspicious/noExplicitAny: the arms are one select over predictions, merged untyped
type ArmQuery = SelectQueryBuilder<StoreDatabase, 'predictions', any>
interface OrderKey {
  column: 'confidence' | 'margin' | 'fallback' | 'ts'
  desc: boolean
}
/** Each inbox order's sort keys; the id, which breaks ties, runs the way of the last one. */
const ORDER_KEYS: Record<InboxOrder, readonly OrderKey[]> = {
  confidence: [{ column: 'confidence', desc: false }],
  margin: [{ column: 'margin', desc: false }],
  fallback: [
    { column: 'fallback', desc: true },
    { column: 'confidence', desc: false },
  ],
  newest: [{ column: 'ts', desc: true }],
}

function encodeCursor(order: InboxOrder, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ o: order, k: key }), 'utf8').toString('base64url')
}

function decodeCursor(cursor: string, order: InboxOrder): CursorKey {
  const bad = (detail: string) => createError('ERR_STORE_BAD_CURSOR', { detail })
  if (typeof cursor !== 'string' || cursor.length > 2000 || !/^[A-Za-z0-9_-]*$/.test(cursor)) {
    throw bad('it is not a cursor this store issued')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw bad('it is not a cursor this store issued')
  }
  const c = parsed as { o?: unknown; k?: unknown }
  if (!c || typeof c !== 'object' || !Array.isArray(c.k)) throw bad('it is not a cursor this store issued')
  if (c.o !== order) throw bad(`it belongs to order "${String(c.o)}", not "${order}"`)
  const key = c.k as unknown[]
  const keys = ORDER_KEYS[order]
  const valid =
    key.length === keys.length + 1 &&
    keys.every((_, i) => typeof key[i] === 'number' && Number.isFinite(key[i])) &&
    typeof key[keys.length] === 'string'
  if (!valid) throw bad('its key does not match the order')
  return key as CursorKey
}

function fromRow(row: PredictionRow): PredictionRecord {
  return {
    id: row.id,
    ts: Number(row.ts),
    ...(row.message_id !== null ? { messageId: row.message_id } : {}),
    ...(row.sender_hash !== null ? { senderHash: row.sender_hash } : {}),
    text: row.text,
    ...(row.fields !== null ? { fields: JSON.parse(row.fields) } : {}),
    intent: row.intent,
    confidence: row.confidence,
    margin: row.margin,
    fallback: row.fallback === 1,
    ranking: JSON.parse(row.ranking),
    entities: JSON.parse(row.entities),
    modelName: row.model_name,
    modelVersion: row.model_version,
    latencyMs: row.latency_ms,
    channel: row.channel,
    ...(row.metadata !== null ? { metadata: JSON.parse(row.metadata) } : {}),
    ...(row.label !== null ? { label: row.label } : {}),
    ...(row.review_action !== null ? { reviewAction: row.review_action as ReviewAction } : {}),
    ...(row.reviewed_at !== null ? { reviewedAt: Number(row.reviewed_at) } : {}),
  }
}

function tokenFromRow(row: Selectable<TokensTable>): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role as TokenRole,
    createdAt: Number(row.created_at),
    ...(row.revoked_at !== null ? { revokedAt: Number(row.revoked_at) } : {}),
    ...(row.last_used_at !== null ? { lastUsedAt: Number(row.last_used_at) } : {}),
  }
}
