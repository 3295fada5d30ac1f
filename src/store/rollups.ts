/**
 * Hourly rollups of the prediction log: `prediction_rollups` holds, per UTC hour, model version, channel and intent,
 * the number of predictions, how many fell back, a confidence histogram (20 bins of 0.05) and a log-scale latency
 * histogram. Analytics read whole hours from it instead of scanning a million rows. Every write path keeps it exact
 * in the same transaction as the change to `predictions`: inserts add what was actually inserted (retried ids do not
 * count twice), `delete` reviews and purges rebuild the hours they touch from the raw rows. Deleted predictions
 * (`review_action = 'delete'`) are not counted. Bins are computed here in TypeScript on every path (inserts,
 * rebuilds, the backfill of migration 0005, raw edge hours in analytics), so both backends bin a value the same way.
 * @module
 */
import { type Kysely, PostgresAdapter, type RawBuilder, sql } from 'kysely'
import type { StoreDialect } from './kysely-store.js'

export const ROLLUP_TABLE = 'prediction_rollups'
export const HOUR_MS = 3_600_000

/** Confidence bins of width 0.05: bin k holds k/20 ≤ c < (k+1)/20; bin 0 also holds c < 0, bin 19 also c ≥ 1. */
export const CONFIDENCE_BINS = 20
const CONF_EDGES = Array.from({ length: CONFIDENCE_BINS - 1 }, (_, i) => (i + 1) / CONFIDENCE_BINS)

/** Latency bins: bin 0 is [0, 0.1) ms, bin b ≥ 1 is [0.1·2^((b−1)/4), 0.1·2^(b/4)) ms; the last one is open-ended. */
export const LATENCY_MIN_MS = 0.1
export const LATENCY_STEPS_PER_DOUBLING = 4
export const LATENCY_BINS = 81
const LAT_EDGES = Array.from(
  { length: LATENCY_BINS - 1 },
  (_, i) => LATENCY_MIN_MS * 2 ** (i / LATENCY_STEPS_PER_DOUBLING),
)
/**
 * Largest relative error of a latency percentile read from the histogram (between 0.1 ms and the last bin's lower
 * edge, 0.1·2^20 ms ≈ 105 s): the bin's geometric middle is at most 2^(1/8) from any value in it. Below 0.1 ms the
 * error is at most 0.05 ms; above 105 s the percentile is clamped to the maximum.
 */
export const LATENCY_RELATIVE_ERROR = 2 ** (1 / (2 * LATENCY_STEPS_PER_DOUBLING)) - 1

const pad = (k: number) => String(k).padStart(2, '0')
export const confColumn = (k: number) => `conf_${pad(k)}`
export const latColumn = (k: number) => `lat_${pad(k)}`
export const CONF_COLUMNS = Array.from({ length: CONFIDENCE_BINS }, (_, k) => confColumn(k))
export const LAT_COLUMNS = Array.from({ length: LATENCY_BINS }, (_, k) => latColumn(k))
const KEY_COLUMNS = ['hour', 'model_version', 'channel', 'intent'] as const
const COUNT_COLUMNS = ['n', 'fallback_n', ...CONF_COLUMNS, ...LAT_COLUMNS]
const ALL_COLUMNS = [...KEY_COLUMNS, ...COUNT_COLUMNS, 'lat_sum', 'lat_max']

export function confidenceBin(c: number): number {
  if (!(c >= CONF_EDGES[0]!)) return 0
  let k = Math.min(CONFIDENCE_BINS - 1, Math.floor(c * CONFIDENCE_BINS))
  // The float product can land one bin off next to an edge; the comparisons against the edges decide, as `<` would.
  if (k > 0 && c < CONF_EDGES[k - 1]!) k--
  else if (k < CONFIDENCE_BINS - 1 && c >= CONF_EDGES[k]!) k++
  return k
}

export function latencyBin(ms: number): number {
  if (!(ms >= LATENCY_MIN_MS)) return 0
  let b = Math.min(LATENCY_BINS - 1, 1 + Math.floor(LATENCY_STEPS_PER_DOUBLING * Math.log2(ms / LATENCY_MIN_MS)))
  if (b > 1 && ms < LAT_EDGES[b - 1]!) b--
  else if (b < LATENCY_BINS - 1 && ms >= LAT_EDGES[b]!) b++
  return b
}

/** The value a latency bin stands for: its geometric middle (bin 0: 0.05 ms; the open last bin: its lower edge). */
export function latencyBinValue(b: number): number {
  if (b <= 0) return LATENCY_MIN_MS / 2
  if (b >= LATENCY_BINS - 1) return LAT_EDGES[LATENCY_BINS - 2]!
  return LAT_EDGES[b - 1]! * 2 ** (1 / (2 * LATENCY_STEPS_PER_DOUBLING))
}

/** The columns of a prediction a rollup reads. */
export interface RollupSourceRow {
  ts: number
  model_version: string
  channel: string
  intent: string
  fallback: number
  confidence: number
  latency_ms: number
}

export const ROLLUP_SOURCE_COLUMNS = [
  'ts',
  'model_version',
  'channel',
  'intent',
  'fallback',
  'confidence',
  'latency_ms',
] as const

export interface RollupCell {
  hour: number
  modelVersion: string
  channel: string
  intent: string
  n: number
  fallback: number
  conf: number[]
  lat: number[]
  latSum: number
  latMax: number
}

/** Sums rows into cells in memory, one per (hour, model version, channel, intent). */
export class RollupAccumulator {
  readonly cells = new Map<string, RollupCell>()

  add(row: RollupSourceRow): void {
    const ts = Number(row.ts)
    const hour = ts - (ts % HOUR_MS)
    const key = `${hour}\u0000${row.model_version}\u0000${row.channel}\u0000${row.intent}`
    let cell = this.cells.get(key)
    if (!cell) {
      cell = {
        hour,
        modelVersion: row.model_version,
        channel: row.channel,
        intent: row.intent,
        n: 0,
        fallback: 0,
        conf: new Array<number>(CONFIDENCE_BINS).fill(0),
        lat: new Array<number>(LATENCY_BINS).fill(0),
        latSum: 0,
        latMax: 0,
      }
      this.cells.set(key, cell)
    }
    cell.n++
    if (Number(row.fallback) === 1) cell.fallback++
    cell.conf[confidenceBin(row.confidence)]!++
    cell.lat[latencyBin(row.latency_ms)]!++
    cell.latSum += row.latency_ms
    if (cell.n === 1 || row.latency_ms > cell.latMax) cell.latMax = row.latency_ms
  }

  get size(): number {
    return this.cells.size
  }
}

/** A cell's values in `ALL_COLUMNS` order. */
function cellValues(c: RollupCell): Array<number | string> {
  return [c.hour, c.modelVersion, c.channel, c.intent, c.n, c.fallback, ...c.conf, ...c.lat, c.latSum, c.latMax]
}

/** `insert … on conflict do update` adding a cell to its row; `placeholders` renders one row of values. */
function upsertSql(dialect: StoreDialect, valuesSql: string): string {
  const add = COUNT_COLUMNS.map((c) => `${c} = ${ROLLUP_TABLE}.${c} + excluded.${c}`)
  const greatest = dialect === 'postgres' ? 'greatest' : 'max'
  return (
    `insert into ${ROLLUP_TABLE} (${ALL_COLUMNS.join(', ')}) values ${valuesSql} ` +
    `on conflict (${KEY_COLUMNS.join(', ')}) do update set ${add.join(', ')}, ` +
    `lat_sum = ${ROLLUP_TABLE}.lat_sum + excluded.lat_sum, ` +
    `lat_max = ${greatest}(${ROLLUP_TABLE}.lat_max, excluded.lat_max)`
  )
}

/**
 * Rows per upsert statement, 109 parameters each. On PostgreSQL the statement is bound on the caller's thread in one
 * go: 200 rows (21,800 parameters) held an event loop for ~15 ms, 50 take ~4 (bench/store.ts, the log queue's delay).
 */
const UPSERT_CHUNK = 50

/** Adds the accumulated cells to the rollup table, on the caller's connection or transaction. */
export async function applyRollups(
  // biome-ignore lint/suspicious/noExplicitAny: the rollup table is addressed by generated column names
  db: Kysely<any>,
  dialect: StoreDialect,
  acc: RollupAccumulator,
): Promise<void> {
  // One key order for every writer: PostgreSQL replicas upserting overlapping cells then lock them in the same order
  // and wait for each other instead of deadlocking.
  const cells = [...acc.cells.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1])
  for (let i = 0; i < cells.length; i += UPSERT_CHUNK) {
    const chunk = cells.slice(i, i + UPSERT_CHUNK)
    const values = sql.join(chunk.map((c) => sql`(${sql.join(cellValues(c))})`))
    const [head, tail] = upsertSql(dialect, '\u0000').split('\u0000') as [string, string]
    await sql`${sql.raw(head)}${values}${sql.raw(tail)}`.execute(db)
  }
}

/** The one-row upsert with `?` placeholders, for a prepared statement (SQLite's synchronous write path). */
export function sqliteUpsertStatement(): string {
  return upsertSql('sqlite', `(${ALL_COLUMNS.map(() => '?').join(', ')})`)
}

export function rollupCellValues(c: RollupCell): Array<number | string> {
  return cellValues(c)
}

/** SQL true for predictions that count in analytics: all but those deleted by review (junk, PII). */
export function countedPrediction(): RawBuilder<boolean> {
  return sql<boolean>`(review_action is null or review_action <> 'delete')`
}

export interface RollupKey {
  modelVersion: string
  channel: string
  intent: string
}

export interface RebuildProgress {
  /** Raw rows read so far, and how many the range holds (counted once up front). */
  done: number
  total: number
}

const REBUILD_BATCH = 20_000

/**
 * Recomputes the rollup rows of the hours in `[fromHour, toHour)` (hour-aligned), optionally of one key only, from
 * the raw predictions: deletes them, then reads the raw rows in batches (keyset on `(ts, id)`) and adds them up.
 * Runs on the caller's transaction so readers never see the hours half rebuilt.
 */
export async function rebuildRollups(
  // biome-ignore lint/suspicious/noExplicitAny: runs inside migrations, which must not depend on the table types
  db: Kysely<any>,
  dialect: StoreDialect,
  fromHour: number,
  toHour: number,
  options: { key?: RollupKey; onProgress?: (p: RebuildProgress) => void } = {},
): Promise<number> {
  const { key, onProgress } = options
  let del = db.deleteFrom(ROLLUP_TABLE).where('hour', '>=', fromHour).where('hour', '<', toHour)
  if (key) {
    del = del
      .where('model_version', '=', key.modelVersion)
      .where('channel', '=', key.channel)
      .where('intent', '=', key.intent)
  }
  await del.execute()
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const base = (q: any) => {
    let out = q.where('ts', '>=', fromHour).where('ts', '<', toHour).where(countedPrediction())
    if (key) {
      out = out
        .where('model_version', '=', key.modelVersion)
        .where('channel', '=', key.channel)
        .where('intent', '=', key.intent)
    }
    return out
  }
  let total = 0
  if (onProgress) {
    const row = await base(db.selectFrom('predictions').select((eb) => eb.fn.countAll().as('n'))).executeTakeFirst()
    total = Number(row?.n ?? 0)
    onProgress({ done: 0, total })
  }
  let done = 0
  let after: [number, string] | undefined
  for (;;) {
    let q = base(db.selectFrom('predictions').select([...ROLLUP_SOURCE_COLUMNS, 'id']))
    if (after) {
      const [ts, id] = after
      // biome-ignore lint/suspicious/noExplicitAny: see above
      q = q.where((eb: any) => eb(eb.refTuple('ts', 'id'), '>', eb.tuple(ts, id)))
    }
    const rows = (await q.orderBy('ts').orderBy('id').limit(REBUILD_BATCH).execute()) as Array<
      RollupSourceRow & { id: string }
    >
    if (rows.length === 0) break
    const acc = new RollupAccumulator()
    for (const row of rows) acc.add(row)
    await applyRollups(db, dialect, acc)
    done += rows.length
    onProgress?.({ done, total: Math.max(total, done) })
    if (rows.length < REBUILD_BATCH) break
    const last = rows[rows.length - 1]!
    after = [Number(last.ts), last.id]
  }
  return done
}

/** Drops the rollup rows of every hour before `hour` (a purge removed all their predictions). */
// biome-ignore lint/suspicious/noExplicitAny: see above
export async function deleteRollupsBefore(db: Kysely<any>, hour: number): Promise<void> {
  await db.deleteFrom(ROLLUP_TABLE).where('hour', '<', hour).execute()
}

export const floorHour = (ms: number) => ms - (ms % HOUR_MS)
export const ceilHour = (ms: number) => (ms % HOUR_MS === 0 ? ms : ms - (ms % HOUR_MS) + HOUR_MS)

/** Migration 0005: the rollup table, filled from the rows the log already holds. */
export async function createRollupTable(
  // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current table types
  db: Kysely<any>,
  onProgress?: (p: RebuildProgress) => void,
): Promise<void> {
  // Kysely runs SQLite migrations outside a transaction: one of our own keeps the backfill all or nothing, and the
  // `if not exists` plus the rebuild's delete-first make a re-run after a crash (before the migration was recorded)
  // safe.
  if (!db.isTransaction) return db.transaction().execute((trx) => createRollupTable(trx, onProgress))
  let t = db.schema
    .createTable(ROLLUP_TABLE)
    .ifNotExists()
    .addColumn('hour', 'bigint', (c) => c.notNull())
    .addColumn('model_version', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('intent', 'text', (c) => c.notNull())
  for (const c of COUNT_COLUMNS) t = t.addColumn(c, 'integer', (col) => col.notNull().defaultTo(0))
  t = t
    .addColumn('lat_sum', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('lat_max', 'double precision', (c) => c.notNull().defaultTo(0))
    // Leads with the hour: every analytics reads a range of hours.
    .addPrimaryKeyConstraint('prediction_rollups_pk', [...KEY_COLUMNS])
  await t.execute()
  const dialect = detectDialect(db)
  const span = await db
    .selectFrom('predictions')
    .select((eb) => [eb.fn.min('ts').as('lo'), eb.fn.max('ts').as('hi')])
    .executeTakeFirst()
  if (span?.lo === null || span?.lo === undefined) return
  await rebuildRollups(db, dialect, floorHour(Number(span.lo)), floorHour(Number(span.hi)) + HOUR_MS, {
    ...(onProgress ? { onProgress } : {}),
  })
}

// biome-ignore lint/suspicious/noExplicitAny: see above
function detectDialect(db: Kysely<any>): StoreDialect {
  // A probing query would abort PostgreSQL's migration transaction when it fails; the adapter says it without one.
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite'
}
