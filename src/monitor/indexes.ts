/**
 * The indexes analytics add to the store. `predictions_analytics` holds every column the aggregations read, after
 * `ts`, so a range of the log is aggregated from the index alone (no row lookups); `predictions_analytics_intent`
 * leads with the intent, so SQLite counts intents per bucket by skip-scan without sorting (channels use the store's
 * `(channel, ts)` index the same way). Created idempotently by the analytics entry points (CLI, HTTP plugin,
 * benchmark) rather than by a store migration, so the store's migration sequence stays its own. Since the hourly
 * rollups answer counts, rates and latency, they serve only what still reads raw rows (partial edge hours, a
 * low-confidence threshold off the rollups' grid).
 * @module
 */
import { sql } from 'kysely'
import type { AnalyticsSource } from './analytics.js'

export const ANALYTICS_INDEX = 'predictions_analytics'
export const ANALYTICS_INDEXES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  predictions_analytics: ['ts', 'intent', 'channel', 'confidence', 'fallback', 'latency_ms'],
  predictions_analytics_intent: ['intent', 'ts'],
})

/**
 * Creates the analytics indexes when missing, then refreshes the planner statistics the skip-scans depend on; a
 * no-op afterwards. On a large log the first call takes seconds.
 */
export async function ensureAnalyticsIndexes(src: AnalyticsSource): Promise<void> {
  if (await hasAnalyticsIndex(src)) return
  for (const [name, columns] of Object.entries(ANALYTICS_INDEXES)) {
    await src.db.schema
      .createIndex(name)
      .ifNotExists()
      .on('predictions')
      .columns([...columns])
      .execute()
  }
  // `analyze predictions` is the same statement on both: it reads only this table's indexes.
  await sql`analyze predictions`.execute(src.db)
}

/** Whether the analytics indexes exist already (so a caller can say that creating them may take a while). */
export async function hasAnalyticsIndex(src: AnalyticsSource): Promise<boolean> {
  const names = Object.keys(ANALYTICS_INDEXES)
  const rows =
    src.dialect === 'postgres'
      ? await sql<{
          n: string
        }>`select indexname as n from pg_indexes where schemaname = current_schema() and indexname in (${sql.join(names)})`.execute(
          src.db,
        )
      : await sql<{
          n: string
        }>`select name as n from sqlite_master where type = 'index' and name in (${sql.join(names)})`.execute(src.db)
  return rows.rows.length === names.length
}
