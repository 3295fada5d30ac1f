/**
 * The shared backend: PostgreSQL through a `pg` pool, optionally inside its own schema.
 * @module
 */
import { Kysely, PostgresDialect, sql } from 'kysely'
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
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) })
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
