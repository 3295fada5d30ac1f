/**
 * The one index analytics add to the store: every column the SQL aggregations read, after `ts`, so a range of the
 * log is aggregated from the index alone (no row lookups). Created idempotently by the analytics entry points (CLI,
 * HTTP plugin, benchmark) rather than by a store migration, so the store's migration sequence stays its own.
 * @module
 */
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
