/**
 * The store contract: the prediction log, human reviews and API tokens, behind one interface with two real
 * backends (SQLite, embedded default; PostgreSQL, shared deployments), both on one Kysely query layer. Serving writes
 * predictions; the review inbox, analytics and drift read them; review export turns reviews into training data.
 * @module
 */
import type { EntityPrediction, IntentScore } from '../data/types.js'
import type { RedactionRule } from './redact.js'

/** One logged prediction. Times are epoch milliseconds (UTC) so both backends sort and bucket them the same way. */
export interface PredictionRecord {
  /** Request id, unique; also the review key. */
  id: string
  ts: number
  messageId?: string
  /** Keyed hash of the sender id: the raw id is never stored. */
  senderHash?: string
  /** The message text after redaction; for multi-field messages, the fields joined by newlines. */
  text: string
  /** Multi-field messages, after redaction. */
  fields?: Record<string, string>
  intent: string
  confidence: number
  /** Top-1 minus top-2 confidence (1 when there is only one intent): small means ambiguous. */
  margin: number
  /** True when the fallback rule replaced the classifier's intent. */
  fallback: boolean
  /** The best three intents, best first. */
  ranking: IntentScore[]
  entities: EntityPrediction[]
  modelName: string
  modelVersion: string
  latencyMs: number
  /** Where the message came from: `api`, `rasa`, `triage`, `ui`, or a client-given channel. */
  channel: string
  metadata?: Record<string, unknown>
  /**
   * The raw sender id, on input only: the store replaces it with `senderHash` (keyed HMAC) and never stores it.
   * Ignored when `senderHash` is set.
   */
  senderId?: string
  /** Read back only: the latest review's label, action and time (`label` is absent for `delete`). */
  label?: string
  reviewAction?: ReviewAction
  reviewedAt?: number
}

export type ReviewAction = 'confirm' | 'relabel' | 'out_of_scope' | 'entities' | 'skip' | 'delete'

/** One human decision on one prediction. Reviews are append-only: the latest review of a prediction is its label. */
export interface ReviewRecord {
  id: string
  predictionId: string
  action: ReviewAction
  /** The label after the decision (for confirm: the predicted intent; for out_of_scope: the fallback intent). */
  intent?: string
  /** The label before the decision: the model's intent, or the previous review's. */
  previousIntent: string
  /** Corrected entity spans (for `entities`, and optionally with confirm or relabel). */
  entities?: Array<Pick<EntityPrediction, 'start' | 'end' | 'entity' | 'value' | 'role' | 'group' | 'field'>>
  reviewer: string
  ts: number
  note?: string
  /** Set by review export once the example was written into the training data. */
  exportedAt?: number
}

export type InboxOrder = 'confidence' | 'margin' | 'fallback' | 'newest'

export interface PredictionQuery {
  intent?: string
  modelVersion?: string
  channel?: string
  /** Inclusive lower and exclusive upper bound on `ts`. */
  from?: number
  to?: number
  /** Words the text or fields must hold (each matches a word start; quoted words as a phrase): see search.ts. */
  search?: string
  /** `false`: only predictions nobody reviewed (the inbox); `true`: only reviewed ones. */
  reviewed?: boolean
  /**
   * `false`: leave out predictions deleted by review (junk, PII); `true`: only those; absent: both. Exports default
   * to `false` (store/export.ts).
   */
  deleted?: boolean
  order?: InboxOrder
  limit?: number
  /** Opaque keyset cursor from the previous page. */
  cursor?: string
}

export interface Page<T> {
  items: T[]
  nextCursor?: string
}

export type TokenRole = 'admin' | 'annotator' | 'client'

export interface TokenRecord {
  id: string
  name: string
  role: TokenRole
  createdAt: number
  revokedAt?: number
  lastUsedAt?: number
}

/** What `insertValidPredictions` left out; it wrote every other record. */
export interface InsertOutcome {
  /** Records refused as invalid. */
  refused: number
  /** ERR_STORE_INVALID_RECORD for the first of them, when there are any: its message names it and what is wrong. */
  error?: Error
}

export interface PredictionStore {
  /**
   * The redaction rules applied before writing, when the store knows them, for a server to judge on the longest
   * text it takes (see `buildApp`).
   */
  readonly redaction?: readonly RedactionRule[]
  /** Brings the schema up to date; safe to call on every start. */
  migrate(): Promise<void>
  /** Throws when the backend is unreachable (readiness). */
  ping(): Promise<void>
  /**
   * Writes a batch in one transaction; records whose id exists are ignored, so retries are safe. A batch holding a
   * record `checkPrediction` refuses is refused whole (ERR_STORE_INVALID_RECORD, naming it).
   */
  insertPredictions(records: readonly PredictionRecord[]): Promise<void>
  /**
   * `insertPredictions` for the prediction log's writer: the records `checkPrediction` refuses are left out and
   * counted, and the others written, so that one bad record never costs its batch.
   */
  insertValidPredictions(records: readonly PredictionRecord[]): Promise<InsertOutcome>
  getPrediction(id: string): Promise<PredictionRecord | undefined>
  queryPredictions(query: PredictionQuery): Promise<Page<PredictionRecord>>
  /** Streams matching records in time order, for export and analytics jobs. */
  streamPredictions(query: Omit<PredictionQuery, 'order' | 'limit' | 'cursor'>): AsyncIterable<PredictionRecord>
  /** Deletes predictions (and their reviews) older than `before`; returns how many predictions went. */
  purgePredictions(before: number): Promise<number>

  /** Commits the review before resolving: a UI may show success only after this resolves. */
  addReview(review: ReviewRecord): Promise<void>
  listReviews(query: {
    predictionId?: string
    reviewer?: string
    from?: number
    to?: number
    exported?: boolean
    limit?: number
  }): Promise<ReviewRecord[]>
  markReviewsExported(ids: readonly string[], at: number): Promise<void>

  /** Returns the plaintext token once; only its hash is stored. */
  createToken(input: { name: string; role: TokenRole }): Promise<{ token: string; record: TokenRecord }>
  /** The record of a live (not revoked) token, or undefined. */
  verifyToken(token: string): Promise<TokenRecord | undefined>
  listTokens(): Promise<TokenRecord[]>
  revokeToken(idOrName: string): Promise<boolean>

  close(): Promise<void>
}
