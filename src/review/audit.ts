/**
 * The audit of reviews: who decided what, when, and what the label was before. Reviews are append-only, so the
 * audit is the review table itself, joined with the message text while the message still exists.
 * @module
 */
import type { PredictionStore, ReviewRecord } from '../store/types.js'

export interface AuditQuery {
  reviewer?: string
  predictionId?: string
  from?: number
  to?: number
  exported?: boolean
  limit?: number
}

export interface AuditEntry extends ReviewRecord {
  /** The message text; absent once the message was deleted or purged. */
  text?: string
  /** The model's own prediction for the message. */
  predictedIntent?: string
}

/** Reviews matching the query, newest first, each with its message's text. */
export async function listAudit(store: PredictionStore, query: AuditQuery = {}): Promise<AuditEntry[]> {
  const reviews = await store.listReviews({ ...query, limit: query.limit ?? 100 })
  const texts = new Map<string, { text: string; intent: string } | undefined>()
  const out: AuditEntry[] = []
  for (const r of [...reviews].sort((a, b) => b.ts - a.ts)) {
    if (!texts.has(r.predictionId)) {
      const p = await store.getPrediction(r.predictionId)
      texts.set(r.predictionId, p ? { text: p.text, intent: p.intent } : undefined)
    }
    const p = texts.get(r.predictionId)
    out.push({ ...r, ...(p ? { text: p.text, predictedIntent: p.intent } : {}) })
  }
  return out
}
