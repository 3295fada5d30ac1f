/**
 * Analytics need no index of their own any more. Counts, rates and latency read the hourly rollups; what still reads
 * raw rows is served by the store's own indexes: the partial edge hours of a range and the word-count sample are
 * `ts` ranges (`predictions_ts`), and a low-confidence threshold off the rollups' grid counts one confidence band of
 * at most 0.05 through the fallback-order index `(reviewed, fallback desc, confidence, id)` (or its `intent` twin). The two
 * indexes earlier versions created here, `predictions_analytics` (ts, intent, channel, confidence, fallback,
 * latency_ms) and `predictions_analytics_intent` (intent, ts), cost every logged prediction two more index writes
 * for queries that now take milliseconds without them, so they are dropped (docs/monitor.md has the measurements).
 * Done by the analytics entry points (CLI, HTTP plugin, benchmark) that used to create them, not by a migration: the
 * store never knew them.
 * @module
 */
import { sql } from 'kysely'
import type { AnalyticsSource } from './analytics.js'

/** The indexes earlier versions created for analytics, dropped by {@link ensureAnalyticsIndexes}. */
export const RETIRED_ANALYTICS_INDEXES: readonly string[] = Object.freeze([
  'predictions_analytics',
  'predictions_analytics_intent',
])

/** Drops the retired analytics indexes when a store still has them; a cheap catalog lookup afterwards. */
export async function ensureAnalyticsIndexes(src: AnalyticsSource): Promise<void> {
  if (!(await hasAnalyticsIndex(src))) return
  for (const name of RETIRED_ANALYTICS_INDEXES) await src.db.schema.dropIndex(name).ifExists().execute()
}

/** Whether a retired analytics index is still there (dropping one is quick; the CLI says nothing either way). */
export async function hasAnalyticsIndex(src: AnalyticsSource): Promise<boolean> {
  const names = [...RETIRED_ANALYTICS_INDEXES]
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
  return rows.rows.length > 0
}
