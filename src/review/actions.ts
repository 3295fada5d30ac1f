/**
 * Review decisions: confirm, relabel (to an existing or a new intent), out of scope, fix entity spans, skip, delete
 * as junk or PII. A decision covers one group of messages; each message gets its own append-only review record with
 * the reviewer, the time and the previous label. Every call resolves only after the store has committed.
 * @module
 */
import { randomUUID } from 'node:crypto'
import { type NameKind, nameHint, nameProblem } from '../data/names.js'
import { createError } from '../errors.js'
import type { PredictionRecord, PredictionStore, ReviewAction, ReviewRecord } from '../store/types.js'

export const REVIEW_ACTIONS: readonly ReviewAction[] = [
  'confirm',
  'relabel',
  'out_of_scope',
  'entities',
  'skip',
  'delete',
]

/** A corrected entity span: UTF-16 offsets into the text (or into `fields[field]`), end exclusive. */
export type EntitySpan = NonNullable<ReviewRecord['entities']>[number]

export interface ReviewDecision {
  /** The messages the decision covers (an inbox group); the first one's text anchors entity spans. */
  predictionIds: readonly string[]
  action: ReviewAction
  /** The new label, for `relabel`. */
  intent?: string
  /** Allow `relabel` to an intent the training data does not have yet. */
  newIntent?: boolean
  /** Corrected entity spans, for `entities` (required) and optionally with `confirm` or `relabel`. */
  entities?: ReadonlyArray<Omit<EntitySpan, 'value'> & { value?: string }>
  reviewer: string
  note?: string
}

export interface ReviewContext {
  /** Intents a relabel may name without `newIntent`: the training data's, the model's and earlier reviews'. */
  intents: ReadonlySet<string>
  /** The label of out-of-scope messages (`fallback.intent` in intentops.yml). */
  outOfScopeIntent: string
  now?: () => number
}

export interface DecisionResult {
  reviews: ReviewRecord[]
  /** Messages of the group the decision did not apply to: entity spans fit only messages with the same text. */
  skipped: string[]
}

/** The current label of a prediction: its latest review's intent, else the model's. */
export async function currentLabel(store: PredictionStore, p: PredictionRecord): Promise<string> {
  const reviews = await store.listReviews({ predictionId: p.id })
  const latest = latestReview(reviews)
  return latest?.intent ?? p.intent
}

/** The latest of a prediction's reviews (by time; on a tie, the later in the list). */
export function latestReview(reviews: readonly ReviewRecord[]): ReviewRecord | undefined {
  let best: ReviewRecord | undefined
  for (const r of reviews) if (!best || r.ts >= best.ts) best = r
  return best
}

/**
 * The name a reviewer typed, trimmed (a picker or a paste easily adds spaces around it), or an error when the
 * training data validator would refuse it (data/names.ts), before anything is written: the export could not write
 * it, and training data holding it would fail validation. Every review path takes names through here.
 */
export function checkReviewName(kind: NameKind, typed: string): string {
  const name = typed.trim()
  const detail = nameProblem(kind, name)
  if (detail !== undefined)
    throw createError('ERR_REVIEW_BAD_NAME', { kind, name, detail, advice: nameHint(kind, name) })
  return name
}

/** Check corrected spans against a message; returns them with `value` filled from the covered text. */
export function checkEntitySpans(
  p: Pick<PredictionRecord, 'text' | 'fields'>,
  spans: NonNullable<ReviewDecision['entities']>,
): EntitySpan[] {
  const out: EntitySpan[] = []
  const bad = (s: (typeof spans)[number], detail: string) =>
    createError('ERR_REVIEW_BAD_ENTITY', { start: s.start, end: s.end, entity: s.entity, detail })
  for (const s of spans) {
    const text = s.field === undefined ? p.text : p.fields?.[s.field]
    if (text === undefined) throw bad(s, `the message has no field '${s.field}'`)
    if (!s.entity?.trim()) throw bad(s, 'the entity name is empty')
    const entity = checkReviewName('entity', s.entity)
    // Held to the same rules as entity names: `data validate` refuses a role or group that breaks them.
    const role = s.role ? checkReviewName('role', s.role) : undefined
    const group = s.group ? checkReviewName('group', s.group) : undefined
    if (!Number.isInteger(s.start) || !Number.isInteger(s.end) || s.start < 0 || s.end > text.length)
      throw bad(s, `offsets must be integers within 0-${text.length}`)
    if (s.end <= s.start) throw bad(s, 'the span is empty')
    const covered = text.slice(s.start, s.end)
    if (covered.trim() !== covered) throw bad(s, 'the span starts or ends with a space')
    out.push({
      start: s.start,
      end: s.end,
      entity,
      value: s.value ?? covered,
      ...(role !== undefined ? { role } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(s.field !== undefined ? { field: s.field } : {}),
    })
  }
  const sorted = [...out].sort((a, b) => (a.field ?? '').localeCompare(b.field ?? '') || a.start - b.start)
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!
    const b = sorted[i]!
    if ((a.field ?? '') === (b.field ?? '') && b.start < a.end) throw bad(b, `it overlaps ${a.entity} at ${a.start}`)
  }
  return out
}

function validate(d: ReviewDecision, ctx: ReviewContext): void {
  const invalid = (detail: string) => createError('ERR_REVIEW_INVALID', { detail })
  if (!REVIEW_ACTIONS.includes(d.action)) {
    throw invalid(`unknown action '${String(d.action)}' (one of ${REVIEW_ACTIONS.join(', ')})`)
  }
  if (!d.predictionIds.length) throw invalid('no prediction ids')
  if (!d.reviewer?.trim()) throw invalid('the reviewer is missing')
  if (d.action === 'relabel') {
    if (!d.intent?.trim()) throw invalid('relabel needs the new intent')
    const intent = checkReviewName('intent', d.intent)
    if (!d.newIntent && !ctx.intents.has(intent)) throw createError('ERR_REVIEW_UNKNOWN_INTENT', { intent })
  } else if (d.intent !== undefined && d.action !== 'entities') {
    throw invalid(`only relabel takes an intent, not ${d.action}`)
  }
  if (d.action === 'entities' && !d.entities)
    throw invalid('entities needs the corrected spans (an empty list clears them)')
  if (d.entities && !['entities', 'confirm', 'relabel'].includes(d.action))
    throw invalid(`${d.action} takes no entity spans`)
}

/**
 * Record one decision for a group. All predictions are checked before anything is written, so a bad id or span
 * writes nothing; each review is committed before the next is written, and the call resolves after the last.
 * `delete` removes the messages (and their reviews) from the store once its audit record is written.
 */
export async function decide(
  store: PredictionStore,
  decision: ReviewDecision,
  ctx: ReviewContext,
): Promise<DecisionResult> {
  validate(decision, ctx)
  const now = ctx.now ?? Date.now
  const ids = [...new Set(decision.predictionIds)]
  const records: PredictionRecord[] = []
  for (const id of ids) {
    const p = await store.getPrediction(id)
    if (!p) throw createError('ERR_REVIEW_NOT_FOUND', { id })
    records.push(p)
  }
  const anchor = records[0]!
  const spans = decision.entities ? checkEntitySpans(anchor, decision.entities) : undefined
  const reviews: ReviewRecord[] = []
  const skipped: string[] = []
  for (const p of records) {
    // offsets are only meaningful in messages with the anchor's exact text
    const sameText =
      p.text === anchor.text && JSON.stringify(p.fields ?? null) === JSON.stringify(anchor.fields ?? null)
    if (decision.action === 'entities' && !sameText) {
      skipped.push(p.id)
      continue
    }
    const previousIntent = await currentLabel(store, p)
    const intent =
      decision.action === 'relabel'
        ? checkReviewName('intent', decision.intent!)
        : decision.action === 'confirm'
          ? previousIntent
          : decision.action === 'out_of_scope'
            ? ctx.outOfScopeIntent
            : decision.action === 'entities'
              ? previousIntent
              : undefined
    const review: ReviewRecord = {
      id: randomUUID(),
      predictionId: p.id,
      action: decision.action,
      ...(intent !== undefined ? { intent } : {}),
      previousIntent,
      ...(spans && sameText ? { entities: spans } : {}),
      reviewer: decision.reviewer.trim(),
      ts: now(),
      ...(decision.note ? { note: decision.note } : {}),
    }
    await store.addReview(review)
    reviews.push(review)
  }
  return { reviews, skipped }
}
