/**
 * The shared backend: PostgreSQL through a `pg` pool, optionally inside its own schema.
 * @module
 */
import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  Kysely,
  PostgresDialect,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely'
import pg from 'pg'
import { createError } from '../errors.js'
import { KyselyPredictionStore, type KyselyStoreOptions } from './kysely-store.js'
import type { StoreDatabase } from './schema.js'

export interface PostgresStoreOptions
  extends Omit<KyselyStoreOptions, 'db' | 'dialect' | 'location' | 'beforeMigrate' | 'afterErase' | 'insertRows'> {
  url: string
  /** A schema of its own (created by `migrate`); default: the connection's search_path. */
  schema?: string
  poolSize?: number
  /** How long to wait for a connection before failing, ms. */
  connectTimeoutMs?: number
}

const INT8_OID = 20
/** Times are epoch ms (well inside 2^53), so int8 columns and counts come back as numbers, not strings. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
}

export function isValidSchemaName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)
}

/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://…'
  }
}

export function openPostgresStore(options: PostgresStoreOptions): KyselyPredictionStore {
  const { url, schema, poolSize = 10, connectTimeoutMs = 5000, ...rest } = options
  if (schema !== undefined && !isValidSchemaName(schema)) {
    throw createError('ERR_CONFIG_INVALID', {
      detail: `store.schema "${schema}" must be a plain identifier (letters, digits, _; at most 63)`,
    })
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    types,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  })
  // A connection losing its server (restart, failover) must not crash the process: pg emits 'error' on the client,
  // and a client checked out by a query has no listener of the pool's. The query itself still fails (and is
  // retried by the caller); the pool drops the broken client on release and connects afresh.
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', () => {})
  })
  const db = new Kysely<StoreDatabase>({ dialect: new StorePostgresDialect({ pool }) })
  return new KyselyPredictionStore({
    ...rest,
    db,
    dialect: 'postgres',
    location: redactUrl(url),
    ...(schema ? { beforeMigrate: () => createSchema(db, schema) } : {}),
  })
}

/** `if not exists` still races when replicas start together; losing that race is fine. */
async function createSchema(db: Kysely<StoreDatabase>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code !== '23505' && code !== '42P06') throw err
  }
}

/**
 * Kysely's migrator asks the introspector whether its tables exist. The stock PostgreSQL introspector lists the
 * tables of every schema of the database and calls `has_schema_privilege` and `pg_get_serial_sequence` on each by
 * name: another store's schema dropped meanwhile (another service, a test) then fails our migration with `schema
 * "theirs" does not exist`. The store only ever introspects its own schema, so only that one is read.
 */
class StorePostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db)
  }
}

class CurrentSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<unknown>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const res = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db)
    return res.rows.map((r) => ({ name: r.name }))
  }

  /** Tables and views of the connection's current schema (the migrator's own tables included). */
  async getTables(): Promise<TableMetadata[]> {
    const res = await sql<{
      table: string
      kind: string
      schema: string
      column: string
      type: string
      type_schema: string
      not_null: boolean
      has_default: boolean
    }>`select c.relname as table, c.relkind as kind, ns.nspname as schema, a.attname as column,
        typ.typname as type, tns.nspname as type_schema, a.attnotnull as not_null, a.atthasdef as has_default
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid
      join pg_catalog.pg_type typ on typ.oid = a.atttypid
      join pg_catalog.pg_namespace tns on tns.oid = typ.typnamespace
      where ns.nspname = current_schema() and c.relkind in ('r', 'v', 'p') and a.attnum >= 0 and not a.attisdropped
      order by c.relname, a.attnum`.execute(this.db)
    const tables = new Map<string, TableMetadata>()
    for (const r of res.rows) {
      let t = tables.get(r.table)
      if (!t) {
        t = { name: r.table, isView: r.kind === 'v', schema: r.schema, columns: [] }
        tables.set(r.table, t)
      }
      t.columns.push({
        name: r.column,
        dataType: r.type,
        dataTypeSchema: r.type_schema,
        isNullable: !r.not_null,
        isAutoIncrementing: false,
        hasDefaultValue: r.has_default,
      })
    }
    return [...tables.values()]
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() }
  }
}
