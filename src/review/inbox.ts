/**
 * The review inbox: logged predictions nobody has reviewed, most uncertain first, filtered, and grouped so that
 * duplicates and near duplicates take one decision.
 * @module
 */
import { searchWords } from '../store/search.js'
import type { InboxOrder, PredictionQuery, PredictionRecord, PredictionStore } from '../store/types.js'
import { groupNearDuplicates, jaccard, normalizeMessage, shingles } from './group.js'

/** Filters of the inbox; every one is optional. */
export type InboxFilter = Pick<PredictionQuery, 'intent' | 'modelVersion' | 'channel' | 'from' | 'to' | 'search'>

export interface InboxOptions {
  order: InboxOrder
  /** Predictions read for one page; they are grouped, so a page shows this many messages in fewer groups. */
  pageSize: number
  nearDuplicateThreshold: number
}

/** One message of a group: the log's fields a reviewer sees beside each duplicate. */
export type InboxMember = Pick<
  PredictionRecord,
  'id' | 'ts' | 'text' | 'fields' | 'channel' | 'modelVersion' | 'confidence'
>

/**
 * Messages that take one decision. The first (most uncertain) member speaks for the group: the prediction's fields
 * are its own, `id` included.
 */
export interface InboxGroup
  extends Pick<
    PredictionRecord,
    | 'id'
    | 'text'
    | 'fields'
    | 'intent'
    | 'confidence'
    | 'margin'
    | 'fallback'
    | 'ranking'
    | 'entities'
    | 'modelName'
    | 'modelVersion'
    | 'channel'
    | 'ts'
  > {
  /** How many messages the group holds (members.length). */
  size: number
  members: InboxMember[]
}

export interface InboxPage {
  order: InboxOrder
  groups: InboxGroup[]
  /** Messages on this page, over all groups. */
  messages: number
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string
}

function member(p: PredictionRecord): InboxMember {
  return {
    id: p.id,
    ts: p.ts,
    text: p.text,
    ...(p.fields ? { fields: p.fields } : {}),
    channel: p.channel,
    modelVersion: p.modelVersion,
    confidence: p.confidence,
  }
}

function toGroup(records: readonly PredictionRecord[]): InboxGroup {
  const first = records[0]!
  return {
    id: first.id,
    text: first.text,
    ...(first.fields ? { fields: first.fields } : {}),
    intent: first.intent,
    confidence: first.confidence,
    margin: first.margin,
    fallback: first.fallback,
    ranking: first.ranking,
    entities: first.entities,
    modelName: first.modelName,
    modelVersion: first.modelVersion,
    channel: first.channel,
    ts: first.ts,
    size: records.length,
    members: records.map(member),
  }
}

/** One page of the inbox, grouped. */
export async function listInbox(
  store: PredictionStore,
  filter: InboxFilter & { cursor?: string },
  options: InboxOptions,
): Promise<InboxPage> {
  const page = await store.queryPredictions({
    ...filter,
    reviewed: false,
    order: options.order,
    limit: options.pageSize,
  })
  const groups = groupNearDuplicates(page.items, (p) => p, { threshold: options.nearDuplicateThreshold })
  return {
    order: options.order,
    groups: groups.map(toGroup),
    messages: page.items.length,
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  }
}

/**
 * The text search that finds a message's duplicate candidates through the store's text index. A near duplicate of
 * a short message cannot lack any of its words: dropping one of `n` words takes at least 2 of its 2n − 1 shingles
 * (words and word pairs) away, so the Jaccard similarity falls to at most 1 − 2/(2n − 1); below the threshold every
 * candidate must hold every word, and asking for all of them is as selective as it gets. A longer message's near
 * duplicates may lack a word, and are looked for by its longest (most telling) word alone.
 */
function probe(message: { text: string; fields?: Record<string, string> }, threshold: number): string | undefined {
  const words = [...new Set(searchWords([message.text, ...Object.values(message.fields ?? {})].join(' ')))]
  if (words.length === 0) return undefined
  if (threshold >= 1 || 1 - 2 / (2 * words.length - 1) < threshold) return words.join(' ')
  return words.reduce((best, w) => (w.length > best.length ? w : best))
}

/**
 * The group of one prediction across the whole log, not just a page: every unreviewed message that is a duplicate
 * or near duplicate of it, the prediction itself first. At most `limit` members (default 1000).
 */
export async function findGroup(
  store: PredictionStore,
  id: string,
  options: Pick<InboxOptions, 'nearDuplicateThreshold'> & { limit?: number },
): Promise<InboxGroup | undefined> {
  const head = await store.getPrediction(id)
  if (!head) return undefined
  const limit = options.limit ?? 1000
  const key = normalizeMessage(head)
  const sh = shingles(key)
  const members: PredictionRecord[] = [head]
  let cursor: string | undefined
  // The store's text index finds the candidates; the exact test runs here, on normalised text. A message without
  // words has no duplicates the index could find.
  const search = probe(head, options.nearDuplicateThreshold)
  if (search === undefined) return toGroup(members)
  do {
    const page = await store.queryPredictions({
      search,
      reviewed: false,
      order: 'newest',
      limit: 500,
      ...(cursor ? { cursor } : {}),
    })
    for (const p of page.items) {
      if (p.id === head.id || members.length >= limit) continue
      const k = normalizeMessage(p)
      if (
        k === key ||
        (options.nearDuplicateThreshold < 1 && jaccard(sh, shingles(k)) >= options.nearDuplicateThreshold)
      )
        members.push(p)
    }
    cursor = page.nextCursor
  } while (cursor && members.length < limit)
  return toGroup(members)
}
