/**
 * The one index analytics add to the store: every column the SQL aggregations read, after `ts`, so a range of the
 * log is aggregated from the index alone (no row lookups). Created idempotently by the analytics entry points (CLI,
 * HTTP plugin, benchmark) rather than by a store migration, so the store's migration sequence stays its own.
 * @module
 */
import { sql } from 'kysely'
import type { AnalyticsSource } from './analytics.js'

export const ANALYTICS_INDEX = 'predictions_analytics'
export const ANALYTICS_INDEX_COLUMNS = ['ts', 'intent', 'channel', 'confidence', 'fallback', 'latency_ms'] as const

/** Creates the analytics index when missing; a no-op afterwards. On a large log the first call takes seconds. */
export async function ensureAnalyticsIndexes(src: AnalyticsSource): Promise<void> {
  await src.db.schema
    .createIndex(ANALYTICS_INDEX)
    .ifNotExists()
    .on('predictions')
    .columns([...ANALYTICS_INDEX_COLUMNS])
    .execute()
}

/** Whether the analytics index exists already (so a caller can say that creating it may take a while). */
export async function hasAnalyticsIndex(src: AnalyticsSource): Promise<boolean> {
  const rows =
    src.dialect === 'postgres'
      ? await sql<{
          n: string
        }>`select indexname as n from pg_indexes where schemaname = current_schema() and indexname = ${ANALYTICS_INDEX}`.execute(
          src.db,
        )
      : await sql<{
          n: string
        }>`select name as n from sqlite_master where type = 'index' and name = ${ANALYTICS_INDEX}`.execute(src.db)
  return rows.rows.length > 0
}
