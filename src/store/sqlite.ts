/**
 * The embedded backend: one SQLite file (better-sqlite3) in WAL mode, so the server's writer and the CLI's or the
 * review UI's readers do not block each other.
 * @module
 */
import { statSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { CompiledQuery, type DatabaseConnection, Kysely, SqliteDialect, SqliteDriver, sql } from 'kysely'
import { createError } from '../errors.js'
import { createEmptyFileSync, ensureDirSync } from '../util/fs.js'
import { KyselyPredictionStore, type KyselyStoreOptions, type PredictionRow } from './kysely-store.js'
import { RollupAccumulator, rollupCellValues, sqliteUpsertStatement } from './rollups.js'
import type { StoreDatabase } from './schema.js'

export interface SqliteStoreOptions
  extends Omit<KyselyStoreOptions, 'db' | 'dialect' | 'location' | 'beforeMigrate' | 'afterErase' | 'insertRows'> {
  /** The database file (its directory is created), or `:memory:`. */
  file: string
  /** How long a writer waits for another connection's lock before failing, ms. */
  busyTimeoutMs?: number
  readonly?: boolean
}

const SCHEMA_STATE = `select
  count(*) filter (where type = 'table' and name = 'predictions_fts') as fts,
  count(*) filter (where type = 'trigger' and name = 'predictions_fts_insert') as "trigger"
  from sqlite_master where name in ('predictions_fts', 'predictions_fts_insert')`
/** The page size a new database file gets (SQLite's default is 4096). */
export const PAGE_SIZE = 16384
/** WAL bytes between automatic checkpoints, whatever the file's page size. */
const CHECKPOINT_BYTES = 80 * 1024 * 1024
const INSERT_TEXT = 'insert into predictions_fts(rowid, search_text) values (?, ?)'

/**
 * Every transaction this store opens writes, and SQLite's default `begin` (deferred) takes the write lock only at
 * the first write: if another connection (the server's log writer, a second process) commits after the
 * transaction's first read, the upgrade fails at once with SQLITE_BUSY ("database is locked") without waiting on
 * `busy_timeout`. `begin immediate` takes the write lock first, so a concurrent writer is waited for instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0]
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config)
    this.#config = config
  }
  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#config)
  }
}

/** The permission bits of a log file this store creates: the log holds message text, for the owner alone. */
export const STORE_FILE_MODE = 0o600

/**
 * Creates the database file empty with STORE_FILE_MODE when it does not exist yet, before SQLite opens it: a file
 * SQLite created would take the umask's mode (0644 as a rule) and be readable by every local user from its first
 * write. SQLite gives the files it adds beside a database (`-wal`, `-shm`, a `-journal`) the database file's mode,
 * so they follow. In another user's directory root gives the new file that user (`createEmptyFileSync`), so the
 * project's owner can open a log that root's cron or a `serve` run as root started; SQLite running as root gives
 * the files it adds beside a database the database file's owner, so they follow that too. An existing file keeps
 * its mode and owner: an operator may have widened it on purpose (a group that runs the review UI or the backups),
 * and `exposedStoreFiles` lets the server warn about it instead.
 */
function createPrivateFile(file: string): void {
  try {
    createEmptyFileSync(file, STORE_FILE_MODE)
  } catch {
    // Whatever kept it from being made, SQLite's own open reports with its reason.
  }
}

/** Suffixes of the files SQLite keeps beside a database in WAL mode (and briefly a rollback journal). */
const SIDE_FILES = ['', '-wal', '-shm', '-journal'] as const

/**
 * The database file and the files beside it that exist and that the group or others may read or write, with their
 * permission bits: logs made before intentops created them 0600, or widened by hand.
 */
export function exposedStoreFiles(file: string): Array<{ path: string; mode: number }> {
  if (file === ':memory:' || file === '') return []
  const exposed: Array<{ path: string; mode: number }> = []
  for (const suffix of SIDE_FILES) {
    try {
      const mode = statSync(`${file}${suffix}`).mode & 0o777
      if (mode & 0o077) exposed.push({ path: `${file}${suffix}`, mode })
    } catch {
      // Absent: nothing to expose.
    }
  }
  return exposed
}

export function openSqliteStore(options: SqliteStoreOptions): KyselyPredictionStore {
  const { file, busyTimeoutMs = 5000, readonly = false, ...rest } = options
  // Outside the try: a directory that cannot be made is a write failure with its reason, not an unreachable store.
  if (file !== ':memory:' && file !== '' && !readonly) {
    ensureDirSync(path.dirname(file))
    createPrivateFile(file)
  }
  let database: Database.Database
  try {
    database = new Database(file, { readonly, fileMustExist: readonly })
    database.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`)
    // Only a new, empty file takes it; an existing file keeps its pages (WAL mode cannot change them). A batch's rows
    // share the pages they dirty, so larger pages carry the same bytes in a quarter of the WAL frames, writes and
    // checkpoint copies: 10–13 % less writer CPU per row on a 300,000-row log in batches of 5,000, nearly all of it in
    // the checkpoints, and the same in batches of 500 (bench/log-cost.ts, bench/README.md).
    if (!readonly) database.pragma(`page_size = ${PAGE_SIZE}`)
    if (!readonly) database.pragma('journal_mode = WAL')
    // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the last commits.
    database.pragma('synchronous = NORMAL')
    // Erased text (delete reviews, purges) is zeroed in the file rather than left in free pages.
    if (!readonly) database.pragma('secure_delete = ON')
    // When each logged row landed at a random place in several inbox indexes (before migration 0012), a batch
    // dirtied hundreds of pages per index. SQLite's 2 MiB default cache spilled them to the WAL mid-transaction and
    // the 1000-page auto-checkpoint copied them back every few batches: 4,400 rows/s at 100k rows, against 19,000
    // with these (bench/store.ts). A batch still dirties a page per bucket and intent, and the indexes grow with the
    // log.
    // The cache grows only as pages are used; the WAL is truncated back to 64 MiB after a checkpoint.
    database.pragma('cache_size = -65536')
    if (!readonly) {
      const pageSize = database.pragma('page_size', { simple: true }) as number
      database.pragma(`wal_autocheckpoint = ${Math.round(CHECKPOINT_BYTES / pageSize)}`)
      database.pragma('journal_size_limit = 67108864')
    }
  } catch (err) {
    throw createError(
      'ERR_STORE_UNAVAILABLE',
      { backend: 'sqlite', location: file, detail: (err as Error).message },
      { cause: err },
    )
  }
  const db = new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database }) })
  // The prediction log's hot write: Kysely compiles the one-row insert once, better-sqlite3 prepares it once and
  // runs it per row inside one transaction. Measured ~1.6× the multi-row insert, whose compile and prepare dominate.
  let insertOne: Database.Statement | undefined
  let upsertRollup: Database.Statement | undefined
  let insertText: Database.Statement | undefined
  let schemaState: Database.Statement | undefined
  let columns: Array<keyof PredictionRow> = []
  const insertMany = database.transaction((rows: PredictionRow[]) => {
    // Checked per batch: another process may migrate the file while this one runs. The text index is written here
    // rather than by a trigger since migration 0009 (see there); a store not yet migrated that far still has the
    // trigger, and the text index must not get a row twice.
    schemaState ??= database.prepare(SCHEMA_STATE)
    const state = schemaState.get() as { fts: number; trigger: number }
    const indexText = state.fts > 0 && state.trigger === 0
    if (indexText) insertText ??= database.prepare(INSERT_TEXT)
    const values: unknown[] = new Array(columns.length).fill(0)
    // The hourly rollups count what this transaction inserted (an existing id changes nothing).
    const rollups = new RollupAccumulator()
    for (const row of rows) {
      for (let i = 0; i < columns.length; i++) values[i] = row[columns[i]!]
      const result = insertOne!.run(values)
      if (result.changes === 0) continue
      rollups.add(row)
      if (indexText) insertText!.run(result.lastInsertRowid, row.search_text)
    }
    upsertRollup ??= database.prepare(sqliteUpsertStatement())
    for (const cell of rollups.cells.values()) upsertRollup.run(rollupCellValues(cell))
  })
  const insertRows = async (rows: PredictionRow[]) => {
    if (!insertOne) {
      columns = Object.keys(rows[0]!) as Array<keyof PredictionRow>
      insertOne = database.prepare(
        db
          .insertInto('predictions')
          .values(rows[0]!)
          .onConflict((oc) => oc.column('id').doNothing())
          .compile().sql,
      )
    }
    // Holding Kysely's connection keeps this transaction apart from any other query on the same connection.
    await db.connection().execute(async () => insertMany(rows))
  }
  return new KyselyPredictionStore({
    ...rest,
    db,
    dialect: 'sqlite',
    location: file,
    // The WAL still holds the pre-erase page images until a checkpoint; truncating it drops them (best effort: a
    // long-running reader can hold the checkpoint back, and the next one then clears it).
    afterErase: async () => void (await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db)),
    releaseMemory: () => void database.pragma('shrink_memory'),
    insertRows,
  })
}
