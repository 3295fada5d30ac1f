/**
 * The contract every `PredictionStore` must meet, as a vitest suite shared by the SQLite and PostgreSQL backends:
 *
 * ```ts
 * testPredictionStore('sqlite', () => openSqliteStore({ file: tmpFile() }), { dump: ... })
 * ```
 * Imported only by tests, so the library never loads vitest.
 * @module
 */
import { type Kysely, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { isIntentopsError } from '../errors.js'
import { exportPredictions } from './export.js'
import type { KyselyPredictionStore } from './kysely-store.js'
import { CONF_COLUMNS, HOUR_MS, LAT_COLUMNS, rebuildRollups } from './rollups.js'
import { BUCKET_SCALE, createMigrator } from './schema.js'
import type { InboxOrder, PredictionQuery, PredictionRecord, PredictionStore, ReviewRecord } from './types.js'

export interface PredictionStoreSuiteOptions {
  /** Every byte the backend holds for this store, as text: the tests search it for secrets that must not be there. */
  dump?: (store: PredictionStore) => Promise<string>
  /** A second, independent handle on the same storage, as another process would open it. */
  reopen?: (store: PredictionStore) => Promise<PredictionStore>
  /** Called after each test with the store it used (before `close`). */
  cleanup?: (store: PredictionStore) => Promise<void>
}

const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000

/** A deterministic prediction; `i` varies every sortable column, with deliberate ties on confidence and margin. */
export function samplePrediction(i: number, over: Partial<PredictionRecord> = {}): PredictionRecord {
  const intents = ['greet', 'refund', 'book_flight', 'nlu_fallback']
  const intent = intents[i % intents.length]!
  const confidence = Math.round(((i * 37) % 100) / 5) / 20 // 0, 0.05, …, 0.95: many ties
  return {
    id: `p-${String(i).padStart(5, '0')}`,
    ts: T0 + ((i * 7919) % 1000) * MIN + i,
    messageId: `m-${i}`,
    text: `Message number ${i} about ${intent}`,
    intent,
    confidence,
    margin: Math.round(((i * 13) % 50) / 5) / 10,
    fallback: intent === 'nlu_fallback',
    ranking: [
      { name: intent, confidence },
      { name: 'other', confidence: Math.max(0, confidence - 0.1) },
    ],
    entities: [],
    modelName: 'bot',
    modelVersion: i % 3 === 0 ? 'v1' : 'v2',
    latencyMs: 1 + (i % 5) / 10,
    channel: ['api', 'rasa', 'ui'][i % 3]!,
    ...over,
  }
}

/** The ids of `records` in an inbox order, as the stores must return them. */
export function expectedOrder(records: PredictionRecord[], order: InboxOrder): string[] {
  const cmp = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0)
  const sorted = [...records].sort((a, b) => {
    switch (order) {
      case 'confidence':
        return cmp(a.confidence, b.confidence) || cmp(a.id, b.id)
      case 'margin':
        return cmp(a.margin, b.margin) || cmp(a.id, b.id)
      case 'fallback':
        return cmp(Number(b.fallback), Number(a.fallback)) || cmp(a.confidence, b.confidence) || cmp(a.id, b.id)
      default:
        return cmp(b.ts, a.ts) || cmp(b.id, a.id)
    }
  })
  return sorted.map((r) => r.id)
}

/** Every id a query's pages return, following cursors to the end. */
export async function allPages(store: PredictionStore, query: PredictionQuery): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.queryPredictions({ ...query, ...(cursor ? { cursor } : {}) })
    ids.push(...page.items.map((p) => p.id))
    if (!page.nextCursor) return ids
    expect(page.items.length).toBe(query.limit ?? 50)
    cursor = page.nextCursor
  }
  throw new Error('pagination does not end')
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected ${code}`).toBeDefined()
  expect(isIntentopsError(err) ? err.code : err).toBe(code)
}

function review(over: Partial<ReviewRecord> & Pick<ReviewRecord, 'id' | 'predictionId' | 'action'>): ReviewRecord {
  return { previousIntent: 'greet', reviewer: 'ann', ts: T0 + 10_000 * MIN, ...over }
}

/** A small deterministic generator, so randomised data is the same on every run and backend. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

/**
 * Random predictions over `hours` hours from T0: every filter dimension varies, confidences include the exact edges
 * of the rollups' bins and their neighbours, latencies span five orders of magnitude.
 */
export function randomPredictions(count: number, seed: number, hours = 30, prefix = 'q'): PredictionRecord[] {
  const rnd = seededRandom(seed)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!
  return Array.from({ length: count }, (_, i) => {
    const k = Math.floor(rnd() * 21)
    const confidence = pick([k / 20, Math.min(1, k / 20 + 1e-9), Math.max(0, k / 20 - 1e-12), rnd()])
    const intent = pick(['greet', 'refund', 'book_flight', 'nlu_fallback'])
    return samplePrediction(i, {
      id: `${prefix}-${String(i).padStart(5, '0')}`,
      ts: T0 + Math.floor(rnd() * hours * HOUR_MS),
      intent,
      confidence,
      fallback: intent === 'nlu_fallback' || rnd() < 0.05,
      latencyMs: pick([0.1, 1, 2 ** 0.25 / 10, 0.01 * 10 ** (rnd() * 5)]),
      modelVersion: pick(['v1', 'v2']),
      channel: pick(['api', 'rasa', 'ui']),
    })
  })
}

// biome-ignore lint/suspicious/noExplicitAny: the rollup table's columns are generated
type AnyDb = Kysely<any>
const dbOf = (s: PredictionStore) => (s as unknown as { db: AnyDb }).db
const dbDialect = (s: PredictionStore) => (s as unknown as { dialect: 'sqlite' | 'postgres' }).dialect

/**
 * The rollup table against the same numbers counted from the raw log by the database: per hour, model version,
 * channel and intent, the count, fallbacks, predictions below each confidence bin edge, and the latency maximum.
 */
export async function expectRollupsMatchRaw(s: PredictionStore): Promise<void> {
  const db = dbOf(s)
  const edges = Array.from({ length: CONF_COLUMNS.length - 1 }, (_, k) => k + 1)
  const rolled = await db
    .selectFrom('prediction_rollups')
    .select([
      'hour',
      'model_version',
      'channel',
      'intent',
      'n',
      'fallback_n',
      'lat_max',
      'lat_sum',
      ...edges.map((k) => sql.raw(CONF_COLUMNS.slice(0, k).join(' + ')).as(`below_${k}`)),
      sql.raw(LAT_COLUMNS.join(' + ')).as('lat_n'),
    ])
    .orderBy('hour')
    .orderBy('model_version')
    .orderBy('channel')
    .orderBy('intent')
    .execute()
  const raw = await db
    .selectFrom('predictions')
    .select([
      sql`ts - (ts % ${sql.lit(HOUR_MS)})`.as('hour'),
      'model_version',
      'channel',
      'intent',
      sql`count(*)`.as('n'),
      sql`sum(fallback)`.as('fallback_n'),
      sql`max(latency_ms)`.as('lat_max'),
      sql`sum(latency_ms)`.as('lat_sum'),
      ...edges.map((k) => sql`sum(case when confidence < ${k / 20} then 1 else 0 end)`.as(`below_${k}`)),
    ])
    .where((eb) => eb.or([eb('review_action', 'is', null), eb('review_action', '<>', 'delete')]))
    .groupBy([sql.ref('hour'), 'model_version', 'channel', 'intent'])
    .orderBy('hour')
    .orderBy('model_version')
    .orderBy('channel')
    .orderBy('intent')
    .execute()
  const shape = (rows: Array<Record<string, unknown>>) =>
    rows.map((r) => {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'string' && /^-?\d/.test(v) ? Number(v) : v
      out.lat_sum = Math.round(Number(out.lat_sum) * 1e6) / 1e6
      delete out.lat_n
      return out
    })
  expect(shape(rolled)).toEqual(shape(raw))
  for (const r of rolled) expect(Number(r.lat_n)).toBe(Number(r.n))
}

/**
 * Register the store contract tests in a `describe` block named `name`.
 * @param create returns a fresh, empty, not yet migrated store for each test
 */
export function testPredictionStore(
  name: string,
  create: () => PredictionStore | Promise<PredictionStore>,
  options: PredictionStoreSuiteOptions = {},
): void {
  const withStore = (fn: (s: PredictionStore) => Promise<void>) => async () => {
    const store = await create()
    try {
      await store.migrate()
      await fn(store)
    } finally {
      await options.cleanup?.(store)
      await store.close()
    }
  }

  describe(`PredictionStore contract: ${name}`, () => {
    it(
      'migrates twice without change and answers ping',
      withStore(async (s) => {
        await s.insertPredictions([samplePrediction(1)])
        await s.migrate()
        await s.ping()
        expect((await s.getPrediction('p-00001'))?.text).toBe('Message number 1 about refund')
      }),
    )

    it(
      'round-trips every field, and ignores records whose id exists (retries are safe)',
      withStore(async (s) => {
        const full = samplePrediction(7, {
          senderHash: 'abc123',
          fields: { subject: 'Refund', body: 'charged twice' },
          entities: [
            { start: 0, end: 6, entity: 'city', value: 'Paris', role: 'to', extractor: 'crf', confidence_entity: 0.9 },
          ],
          metadata: { tenant: 'x', n: 2, nested: { ok: true } },
          fallback: true,
          confidence: 0.123456789012345,
        })
        await s.insertPredictions([full])
        await s.insertPredictions([{ ...full, text: 'changed', intent: 'other' }, samplePrediction(8)])
        await s.insertPredictions([samplePrediction(9), samplePrediction(9)])
        expect(await s.getPrediction(full.id)).toEqual(full)
        expect((await s.getPrediction('p-00008'))?.id).toBe('p-00008')
        expect(await s.getPrediction('missing')).toBeUndefined()
        const page = await s.queryPredictions({ limit: 100 })
        expect(page.items.map((p) => p.id).sort()).toEqual(['p-00007', 'p-00008', 'p-00009'])
        await s.insertPredictions([])
      }),
    )

    it(
      'refuses a batch holding an invalid record, naming it, and writes none of the batch',
      withStore(async (s) => {
        const bad = [
          { ...samplePrediction(2), confidence: Number.NaN },
          { ...samplePrediction(2), text: undefined as unknown as string },
          { ...samplePrediction(2), fallback: 'yes' as unknown as boolean },
          { ...samplePrediction(2), fields: { a: 1 } as unknown as Record<string, string> },
          { ...samplePrediction(2), id: '' },
        ]
        for (const record of bad) {
          const err = await s.insertPredictions([samplePrediction(1), record]).catch((e: unknown) => e)
          expect(isIntentopsError(err) && err.code).toBe('ERR_STORE_INVALID_RECORD')
        }
        expect((await s.queryPredictions({})).items).toEqual([])
      }),
    )

    it(
      'writes the valid records of a batch and leaves out the invalid ones, counting them and naming the first',
      withStore(async (s) => {
        const bad2 = { ...samplePrediction(2), confidence: Number.NaN }
        const bad4 = { ...samplePrediction(4), text: undefined as unknown as string }
        const outcome = await s.insertValidPredictions([
          samplePrediction(1),
          bad2,
          samplePrediction(3),
          bad4,
          samplePrediction(5),
        ])
        expect(outcome.refused).toBe(2)
        expect(outcome.error).toMatchObject({
          code: 'ERR_STORE_INVALID_RECORD',
          message: 'Prediction record "p-00002" cannot be logged: `confidence` must be a finite number',
        })
        expect((await allPages(s, {})).sort()).toEqual(['p-00001', 'p-00003', 'p-00005'])
        await expectRollupsMatchRaw(s)
        expect(await s.insertValidPredictions([samplePrediction(6), samplePrediction(1)])).toEqual({ refused: 0 })
        expect(await s.insertValidPredictions([bad2, bad4])).toMatchObject({ refused: 2 })
        expect(await s.insertValidPredictions([])).toEqual({ refused: 0 })
        expect((await allPages(s, {})).sort()).toEqual(['p-00001', 'p-00003', 'p-00005', 'p-00006'])
      }),
    )

    it(
      'refuses metadata and fields that are not plain objects, whose JSON would read back as something else',
      withStore(async (s) => {
        class Meta {
          tenant = 'x'
        }
        const notPlain: unknown[] = [
          new Date(T0),
          { tenant: 'x', toJSON: () => 'x' },
          Object.assign(Object.create(null), { toJSON: () => ({ other: 1 }) }),
          new Map([['tenant', 'x']]),
          new Meta(),
        ]
        for (const [k, value] of notPlain.entries()) {
          for (const over of [{ metadata: value }, { fields: value }] as Array<Partial<PredictionRecord>>) {
            const err = await s.insertPredictions([samplePrediction(1, over)]).catch((e: unknown) => e)
            expect(isIntentopsError(err) && err.code, `${Object.keys(over)[0]} #${k}`).toBe('ERR_STORE_INVALID_RECORD')
          }
        }
        // Lists likewise: one with a `toJSON` of its own would be logged as what that returns.
        for (const key of ['ranking', 'entities'] as const) {
          const list = Object.assign([], { toJSON: () => 'x' })
          const err = await s.insertPredictions([samplePrediction(1, { [key]: list })]).catch((e: unknown) => e)
          expect(isIntentopsError(err) && err.code, key).toBe('ERR_STORE_INVALID_RECORD')
        }
        // An object without a prototype is plain: its JSON is its properties.
        const bare = () => Object.assign(Object.create(null) as Record<string, string>, { tenant: 'x' })
        await s.insertPredictions([samplePrediction(1, { metadata: bare(), fields: bare() })])
        expect(await s.getPrediction('p-00001')).toMatchObject({ metadata: { tenant: 'x' }, fields: { tenant: 'x' } })
        expect(await allPages(s, {})).toEqual(['p-00001'])
      }),
    )

    it(
      'hashes a raw sender id with a stable key and never stores the id',
      withStore(async (s) => {
        await s.insertPredictions([
          samplePrediction(1, { senderId: 'user-4711@example.org' }),
          samplePrediction(2, { senderId: 'user-4711@example.org' }),
          samplePrediction(3, { senderId: 'someone-else' }),
        ])
        const [a, b, c] = await Promise.all(['p-00001', 'p-00002', 'p-00003'].map((id) => s.getPrediction(id)))
        expect(a?.senderHash).toMatch(/^[0-9a-f]{64}$/)
        expect(a?.senderHash).toBe(b?.senderHash)
        expect(c?.senderHash).not.toBe(a?.senderHash)
        expect(a).not.toHaveProperty('senderId')
        if (options.dump) expect(await options.dump(s)).not.toContain('user-4711')
      }),
    )

    it(
      'filters by intent, model version, channel, time range, review state and text search',
      withStore(async (s) => {
        const records = Array.from({ length: 60 }, (_, i) => samplePrediction(i))
        records.push(samplePrediction(100, { text: 'Refund 100% of my MONEY_back please' }))
        await s.insertPredictions(records)
        const ids = async (q: PredictionQuery) => (await allPages(s, { ...q, limit: 1000 })).sort()
        const want = (f: (r: PredictionRecord) => boolean) =>
          records
            .filter(f)
            .map((r) => r.id)
            .sort()
        expect(await ids({ intent: 'refund' })).toEqual(want((r) => r.intent === 'refund'))
        expect(await ids({ modelVersion: 'v1' })).toEqual(want((r) => r.modelVersion === 'v1'))
        expect(await ids({ channel: 'ui' })).toEqual(want((r) => r.channel === 'ui'))
        const from = T0 + 200 * MIN
        const to = T0 + 600 * MIN
        expect(await ids({ from, to })).toEqual(want((r) => r.ts >= from && r.ts < to))
        expect(await ids({ from: records[5]!.ts, to: records[5]!.ts + 1 })).toEqual(['p-00005'])
        expect(await ids({ intent: 'greet', channel: 'api', modelVersion: 'v1' })).toEqual(
          want((r) => r.intent === 'greet' && r.channel === 'api' && r.modelVersion === 'v1'),
        )
        // Words match the start of a message's words, whatever the case; all words must match, in any order.
        const words = (r: PredictionRecord) => r.text.toLowerCase().split(/[^a-z0-9]+/)
        expect(await ids({ search: 'NUMBER 1' })).toEqual(
          want((r) => words(r).includes('number') && words(r).some((w) => w.startsWith('1'))),
        )
        expect(await ids({ search: '"number 1"' })).toEqual(want((r) => /number 1/i.test(r.text)))
        expect(await ids({ search: 'about 5' })).toEqual(want((r) => words(r).some((w) => w.startsWith('5'))))
        expect(await ids({ search: 'umber' })).toEqual([])
        // Punctuation separates words and is otherwise ignored; LIKE wildcards are not wildcards.
        expect(await ids({ search: '100%' })).toEqual(['p-00100'])
        expect(await ids({ search: 'money_back' })).toEqual(['p-00100'])
        expect(await ids({ search: 'MONEY-BA' })).toEqual(['p-00100'])
        expect(await ids({ search: 'back money' })).toEqual(['p-00100'])
        expect(await ids({ search: '"back money"' })).toEqual([])
        expect(await ids({ search: 'y_b' })).toEqual([])
        expect(await ids({ search: 'no such words' })).toEqual([])
        await expectCode(s.queryPredictions({ search: '%' }), 'ERR_INVALID_ARGUMENT')
        await expectCode(s.queryPredictions({ search: '?! …', intent: 'greet' }), 'ERR_INVALID_ARGUMENT')
        expect(await ids({ reviewed: false })).toEqual(want(() => true))
        expect(await ids({ reviewed: true })).toEqual([])
        await s.addReview(review({ id: 'r1', predictionId: 'p-00003', action: 'confirm' }))
        expect(await ids({ reviewed: true })).toEqual(['p-00003'])
        expect(await ids({ reviewed: false })).toEqual(want((r) => r.id !== 'p-00003'))
        expect(await ids({ reviewed: false, intent: 'book_flight' })).toEqual(
          want((r) => r.id !== 'p-00003' && r.intent === 'book_flight'),
        )
      }),
    )

    it(
      'searches words without case or accents, in text and fields, by index and by order walk alike',
      withStore(async (s) => {
        const base = Array.from({ length: 20 }, (_, i) => samplePrediction(i))
        const extra = [
          samplePrediction(201, { text: 'Ich möchte eine Rückerstattung für CAFÉ-Bestellungen' }),
          samplePrediction(202, {
            text: 'je veux un café',
            fields: { subject: 'Remboursement', body: 'je veux un café' },
          }),
          samplePrediction(203, { text: 'Zyxwvut code 42b', entities: [] }),
        ]
        await s.insertPredictions([...base, ...extra])
        const ids = async (q: PredictionQuery) => (await allPages(s, { ...q, limit: 1000 })).sort()
        expect(await ids({ search: 'cafe' })).toEqual(['p-00201', 'p-00202'])
        expect(await ids({ search: 'RUCKERST' })).toEqual(['p-00201'])
        expect(await ids({ search: 'remboursement' })).toEqual(['p-00202'])
        expect(await ids({ search: 'remb caf' })).toEqual(['p-00202'])
        expect(await ids({ search: '"cafe bestell"' })).toEqual(['p-00201'])
        expect(await ids({ search: '"veux un cafe"' })).toEqual(['p-00202'])
        expect(await ids({ search: '"un veux"' })).toEqual([])
        expect(await ids({ search: '42' })).toEqual(['p-00203'])
        expect(await ids({ search: 'zyxwvut', reviewed: false, order: 'confidence' })).toEqual(['p-00203'])
        // A delete review takes the message out of the index (and its words out of the stored bytes).
        await s.addReview(review({ id: 'del', predictionId: 'p-00203', action: 'delete' }))
        expect(await ids({ search: 'zyxwvut' })).toEqual([])
        expect(await ids({ search: 'code' })).toEqual([])
        if (options.dump) expect((await options.dump(s)).toLowerCase()).not.toContain('zyxwvut')
        // A purge too; and re-inserting a purged id indexes it afresh.
        expect(await s.purgePredictions(samplePrediction(202).ts + 1)).toBeGreaterThan(0)
        const left = new Set(await ids({}))
        expect(await ids({ search: 'cafe' })).toEqual(['p-00201', 'p-00202'].filter((id) => left.has(id)))
        await s.insertPredictions([samplePrediction(202, { text: 'un cafe encore' })])
        expect(await ids({ search: 'encore' })).toEqual(['p-00202'])

        // Over 2000 matches a page may be found by walking the order instead of the index: same answers, same order.
        const many = Array.from({ length: 2100 }, (_, i) =>
          samplePrediction(1000 + i, { text: `bulk word ${i % 7 === 0 ? 'seventh' : 'other'} ${i}` }),
        )
        await s.insertPredictions(many)
        for (const order of ['confidence', 'newest'] as const) {
          const want = expectedOrder(many, order)
          expect(await allPages(s, { search: 'bulk', order, limit: 500 })).toEqual(want)
          const sevenths = many.filter((_, i) => i % 7 === 0)
          expect(await allPages(s, { search: 'bulk seventh', order, limit: 100 })).toEqual(
            expectedOrder(sevenths, order),
          )
        }
      }),
    )

    for (const order of ['confidence', 'margin', 'fallback', 'newest'] as const) {
      it(
        `orders the inbox by ${order} and pages through it by keyset without duplicates or gaps`,
        withStore(async (s) => {
          const records = Array.from({ length: 103 }, (_, i) => samplePrediction(i))
          await s.insertPredictions(records.slice(0, 60))
          await s.insertPredictions(records.slice(60))
          const first = await s.queryPredictions({ order, limit: 10 })
          expect(first.items.map((r) => r.id)).toEqual(expectedOrder(records, order).slice(0, 10))
          expect(await allPages(s, { order, limit: 7 })).toEqual(expectedOrder(records, order))
          expect(await allPages(s, { order, limit: 7, reviewed: false })).toEqual(expectedOrder(records, order))
          expect(await allPages(s, { order, limit: 4, reviewed: false, channel: 'api' })).toEqual(
            expectedOrder(
              records.filter((r) => r.channel === 'api'),
              order,
            ),
          )
          // Rows inserted behind the cursor do not shift the next page; rows ahead of it appear in order.
          const page1 = await s.queryPredictions({ order, limit: 20 })
          await s.insertPredictions([samplePrediction(500), samplePrediction(501)])
          const rest = await allPages(s, { order, limit: 20, cursor: page1.nextCursor! })
          const all = expectedOrder([...records, samplePrediction(500), samplePrediction(501)], order)
          const lastSeen = all.indexOf(page1.items.at(-1)!.id)
          expect(rest).toEqual(all.slice(lastSeen + 1))
          // The last page carries no cursor.
          const whole = await s.queryPredictions({ order, limit: 1000 })
          expect(whole.items).toHaveLength(105)
          expect(whole.nextCursor).toBeUndefined()
        }),
      )
    }

    it(
      'pages through long runs of ties among rows logged out of id order: every row once, ties in id order',
      withStore(async (s) => {
        // Few distinct keys, and ids that do not follow the order of logging: a page must never repeat or skip a
        // row, and ties come in id order whatever order they were logged in.
        const records = Array.from({ length: 240 }, (_, i) =>
          samplePrediction(i, {
            id: `t-${String((i * 97) % 240).padStart(3, '0')}`,
            confidence: [0.3, 0.6, 0.9][i % 3]!,
            margin: [0.1, 0.2][i % 2]!,
            ts: T0 + (i % 4) * MIN,
          }),
        )
        for (let i = 0; i < records.length; i += 60) {
          await s.insertPredictions(records.slice(i, i + 60).reverse())
        }
        for (const order of ['confidence', 'margin', 'fallback', 'newest'] as const) {
          for (const query of [{}, { intent: 'refund' }, { reviewed: false }, { reviewed: false, intent: 'refund' }]) {
            const want = records.filter((r) => !('intent' in query) || r.intent === query.intent)
            const ids = await allPages(s, { ...query, order, limit: 7 })
            expect(new Set(ids).size).toBe(ids.length)
            expect([...ids].sort()).toEqual(want.map((r) => r.id).sort())
            expect(ids).toEqual(expectedOrder(want, order))
          }
        }
      }),
    )

    it(
      'orders keys on and around the edges of buckets, and beyond 0–1, as numbers',
      withStore(async (s) => {
        // An order may be read a bucket of keys at a time (the bucketed indexes): a key just under an edge, on it, or
        // far outside 0–1 (a library caller's own scores) still sorts as a number, and a cursor on any of them
        // resumes in the right place.
        const [w, h] = [1 / BUCKET_SCALE.sqlite, 1 / BUCKET_SCALE.postgres]
        const keys = [
          -1e300,
          -2.5,
          -w,
          -h,
          -h / 2,
          0,
          h / 2,
          h * (1 - 1e-6),
          h,
          w * (1 - 1e-6),
          w,
          0.3,
          0.57,
          0.999999,
          1,
          3,
          1e300,
        ]
        const records = keys.flatMap((k, i) =>
          [0, 1, 2].map((j) =>
            samplePrediction(i * 3 + j, {
              id: `edge-${String(keys.length * 3 - i * 3 - j).padStart(3, '0')}`,
              confidence: k,
              margin: keys[keys.length - 1 - i]!,
              fallback: j === 1,
            }),
          ),
        )
        await s.insertPredictions(records)
        for (const order of ['confidence', 'margin', 'fallback'] as const) {
          for (const limit of [1, 2, 5]) {
            expect(await allPages(s, { order, limit, reviewed: false })).toEqual(expectedOrder(records, order))
          }
        }
      }),
    )

    it(
      'refuses tampered cursors, cursors of another order and bad limits',
      withStore(async (s) => {
        await s.insertPredictions(Array.from({ length: 5 }, (_, i) => samplePrediction(i)))
        const page = await s.queryPredictions({ order: 'confidence', limit: 2 })
        expect(page.nextCursor).toBeDefined()
        await expectCode(s.queryPredictions({ order: 'margin', cursor: page.nextCursor! }), 'ERR_STORE_BAD_CURSOR')
        await expectCode(s.queryPredictions({ order: 'confidence', cursor: 'not a cursor!' }), 'ERR_STORE_BAD_CURSOR')
        const forged = Buffer.from(JSON.stringify({ o: 'confidence', k: ['x', 1] })).toString('base64url')
        await expectCode(s.queryPredictions({ order: 'confidence', cursor: forged }), 'ERR_STORE_BAD_CURSOR')
        await expectCode(s.queryPredictions({ limit: 0 }), 'ERR_INVALID_ARGUMENT')
        await expectCode(s.queryPredictions({ order: 'random' as InboxOrder }), 'ERR_INVALID_ARGUMENT')
        expect(
          (await s.queryPredictions({ order: 'confidence', cursor: page.nextCursor!, limit: 2 })).items,
        ).toHaveLength(2)
      }),
    )

    it(
      'streams every matching record in time order across batches',
      withStore(async (s) => {
        const records = Array.from({ length: 2300 }, (_, i) => samplePrediction(i))
        await s.insertPredictions(records)
        const seen: PredictionRecord[] = []
        for await (const r of s.streamPredictions({})) seen.push(r)
        const byTime = [...records].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1))
        expect(seen.map((r) => r.id)).toEqual(byTime.map((r) => r.id))
        const refunds: string[] = []
        for await (const r of s.streamPredictions({ intent: 'refund', from: T0 + 100 * MIN })) refunds.push(r.id)
        expect(refunds).toEqual(byTime.filter((r) => r.intent === 'refund' && r.ts >= T0 + 100 * MIN).map((r) => r.id))
      }),
    )

    it(
      'purges predictions older than a time together with their reviews',
      withStore(async (s) => {
        const records = Array.from({ length: 40 }, (_, i) => samplePrediction(i))
        await s.insertPredictions(records)
        const cut = T0 + 500 * MIN
        const old = records.filter((r) => r.ts < cut)
        const young = records.filter((r) => r.ts >= cut)
        await s.addReview(review({ id: 'r-old', predictionId: old[0]!.id, action: 'confirm' }))
        await s.addReview(review({ id: 'r-young', predictionId: young[0]!.id, action: 'confirm' }))
        expect(await s.purgePredictions(cut)).toBe(old.length)
        expect(await s.getPrediction(old[0]!.id)).toBeUndefined()
        expect(await s.getPrediction(young[0]!.id)).toBeDefined()
        expect((await s.listReviews({})).map((r) => r.id)).toEqual(['r-young'])
        expect(await s.purgePredictions(cut)).toBe(0)
        expect((await allPages(s, { limit: 1000 })).length).toBe(young.length)
      }),
    )

    it(
      'rebuilds the hourly rollups of a log changed behind its back, whole or by time range',
      withStore(async (s) => {
        const store = s as unknown as KyselyPredictionStore
        expect(await store.rebuildRollups()).toBeUndefined()
        const records = randomPredictions(500, 11)
        await s.insertPredictions(records)
        const db = dbOf(s)
        // Rows gone without the store knowing: the rollups still count them.
        await db
          .deleteFrom('predictions')
          .where('ts', '<', T0 + 3 * HOUR_MS)
          .execute()
        await db
          .deleteFrom('predictions')
          .where('ts', '>=', T0 + 20 * HOUR_MS)
          .execute()
        await expect(expectRollupsMatchRaw(s)).rejects.toThrow()
        // A range recounts only its hours.
        const part = await store.rebuildRollups({ from: T0 + 20 * HOUR_MS + 1, to: T0 + 40 * HOUR_MS })
        expect(part).toEqual({ fromHour: T0 + 20 * HOUR_MS, toHour: T0 + 40 * HOUR_MS, predictions: 0 })
        await expect(expectRollupsMatchRaw(s)).rejects.toThrow()
        const progress: number[] = []
        const whole = await store.rebuildRollups({ onProgress: (p) => progress.push(p.done) })
        const kept = records.filter((r) => r.ts >= T0 + 3 * HOUR_MS && r.ts < T0 + 20 * HOUR_MS).length
        expect(whole).toEqual({ fromHour: T0, toHour: T0 + 20 * HOUR_MS, predictions: kept })
        expect(progress.at(-1)).toBe(kept)
        await expectRollupsMatchRaw(s)
        await expect(store.rebuildRollups({ from: Number.NaN })).rejects.toThrow(/finite time/)
      }),
    )

    it(
      'keeps the hourly rollups equal to the raw log through inserts, retries, reviews, purges and a backfill',
      withStore(async (s) => {
        const records = randomPredictions(900, 7)
        await s.insertPredictions(records.slice(0, 400))
        await s.insertPredictions(records.slice(400, 800))
        await expectRollupsMatchRaw(s)
        // A retried batch, partly new, with changed content under existing ids (ignored) and an id twice.
        await s.insertPredictions([
          ...records.slice(350, 450).map((r) => ({ ...r, intent: 'other', latencyMs: 9999 })),
          ...records.slice(800),
          records[899]!,
        ])
        await expectRollupsMatchRaw(s)
        // Two writers at once (as two replicas would), over the same hours and partly the same ids.
        if (options.reopen) {
          const other = await options.reopen(s)
          try {
            const more = randomPredictions(600, 8, 30, 'w')
            await Promise.all([
              ...[0, 1, 2].map((k) => s.insertPredictions(more.slice(k * 150, k * 150 + 200))),
              ...[0, 1, 2].map((k) => other.insertPredictions(more.slice(600 - k * 150 - 200, 600 - k * 150))),
            ])
            await expectRollupsMatchRaw(s)
            await s.addReview(review({ id: 'w-del', predictionId: more[0]!.id, action: 'delete' }))
            await expectRollupsMatchRaw(s)
            await dbOf(s).deleteFrom('reviews').where('id', '=', 'w-del').execute()
            await dbOf(s).deleteFrom('predictions').where('id', 'like', 'w-%').execute()
            await rebuildRollups(dbOf(s), dbDialect(s), T0, T0 + 31 * HOUR_MS)
          } finally {
            await other.close()
          }
        }
        const ids = records.map((r) => r.id)
        const t = T0 + 20_000 * MIN
        // Deleted (junk, PII) predictions leave the rollups; other reviews do not change them.
        for (const [i, id] of [ids[3], ids[50], ids[51], ids[400]].entries()) {
          await s.addReview(review({ id: `d${i}`, predictionId: id!, action: 'delete', ts: t }))
        }
        await s.addReview(review({ id: 'd-again', predictionId: ids[3]!, action: 'delete', ts: t + 1 }))
        await s.addReview(review({ id: 'rl', predictionId: ids[7]!, action: 'relabel', intent: 'greet', ts: t }))
        await s.addReview(review({ id: 'sk', predictionId: ids[8]!, action: 'skip', ts: t }))
        // An older decision arriving late changes nothing; a newer one that is not a delete brings it back.
        await s.addReview(review({ id: 'late', predictionId: ids[50]!, action: 'confirm', ts: t - 1 }))
        await s.addReview(review({ id: 'back', predictionId: ids[51]!, action: 'confirm', ts: t + 1 }))
        await expectRollupsMatchRaw(s)
        const counted = async () =>
          Number(
            (await dbOf(s).selectFrom('prediction_rollups').select(sql`sum(n)`.as('n')).executeTakeFirstOrThrow()).n,
          )
        expect(await counted()).toBe(900 - 3)
        // A purge cut inside an hour: whole hours go, the boundary hour keeps what is after the cut.
        const cut = T0 + 7 * HOUR_MS + 1_234_567
        const purged = await s.purgePredictions(cut)
        expect(purged).toBe(records.filter((r) => r.ts < cut).length)
        await expectRollupsMatchRaw(s)
        await s.purgePredictions(T0 + 9 * HOUR_MS)
        await expectRollupsMatchRaw(s)
        // Migration 0005 backfills the rollups from the rows a log already holds.
        const db = dbOf(s)
        const before = await db.selectFrom('prediction_rollups').selectAll().orderBy('hour').orderBy('intent').execute()
        const schema = await sql<{ s: string | null }>`select current_schema() as s`.execute(db).then(
          (r) => r.rows[0]?.s ?? undefined,
          () => undefined,
        )
        // biome-ignore lint/suspicious/noExplicitAny: the migrator takes the store's own Kysely instance
        const migrator = createMigrator(db as any, schema ?? undefined)
        // Down to before 0005 (later migrations go down with it), then up again.
        expect((await migrator.migrateTo('0004_version_newest_index')).error).toBeUndefined()
        await expect(db.selectFrom('prediction_rollups').selectAll().execute()).rejects.toThrow()
        const progress: Array<[number, number]> = []
        // biome-ignore lint/suspicious/noExplicitAny: migrate's options are the Kysely store's
        await (s as any).migrate({
          onProgress: (p: { done: number; total: number }) => progress.push([p.done, p.total]),
        })
        await expectRollupsMatchRaw(s)
        const rebuilt = await db
          .selectFrom('prediction_rollups')
          .selectAll()
          .orderBy('hour')
          .orderBy('intent')
          .execute()
        expect(rebuilt.length).toBe(before.length)
        expect(progress.at(-1)).toEqual([await counted(), await counted()])
      }),
    )

    it(
      'keeps every review, and the latest one is the label',
      withStore(async (s) => {
        await s.insertPredictions([samplePrediction(1), samplePrediction(2), samplePrediction(3)])
        const t = T0 + 20_000 * MIN
        await s.addReview(
          review({ id: 'a', predictionId: 'p-00001', action: 'confirm', previousIntent: 'refund', ts: t }),
        )
        let p = await s.getPrediction('p-00001')
        expect(p).toMatchObject({ label: 'refund', reviewAction: 'confirm', reviewedAt: t })
        await s.addReview(
          review({
            id: 'b',
            predictionId: 'p-00001',
            action: 'relabel',
            intent: 'cancel',
            previousIntent: p!.label!,
            reviewer: 'bob',
            ts: t + 1000,
            note: 'user wants to cancel',
            entities: [{ start: 0, end: 7, entity: 'thing', value: 'Message' }],
          }),
        )
        // An older decision arriving late is kept in the audit but does not relabel.
        await s.addReview(
          review({
            id: 'c',
            predictionId: 'p-00001',
            action: 'relabel',
            intent: 'greet',
            previousIntent: 'refund',
            ts: t - 5,
          }),
        )
        p = await s.getPrediction('p-00001')
        expect(p).toMatchObject({ label: 'cancel', reviewAction: 'relabel', reviewedAt: t + 1000 })
        const audit = await s.listReviews({ predictionId: 'p-00001' })
        expect(audit.map((r) => r.id)).toEqual(['c', 'a', 'b'])
        expect(audit[1]).toEqual({
          id: 'a',
          predictionId: 'p-00001',
          action: 'confirm',
          intent: 'refund',
          previousIntent: 'refund',
          reviewer: 'ann',
          ts: t,
        })
        expect(audit[2]).toMatchObject({
          previousIntent: 'refund',
          intent: 'cancel',
          note: 'user wants to cancel',
          entities: [{ start: 0, end: 7, entity: 'thing', value: 'Message' }],
        })
        // A retried review (same id) is a no-op.
        await s.addReview(review({ id: 'b', predictionId: 'p-00001', action: 'out_of_scope', ts: t + 9999 }))
        expect((await s.getPrediction('p-00001'))?.label).toBe('cancel')
        expect(await s.listReviews({ predictionId: 'p-00001' })).toHaveLength(3)

        // Skip records the decision but leaves the prediction in the inbox.
        await s.addReview(review({ id: 'd', predictionId: 'p-00002', action: 'skip', ts: t }))
        expect((await s.getPrediction('p-00002'))?.label).toBeUndefined()
        expect((await s.queryPredictions({ reviewed: false, limit: 10 })).items.map((r) => r.id)).toContain('p-00002')

        // Delete (junk or PII) takes the text out of the log and out of the inbox.
        await s.addReview(review({ id: 'e', predictionId: 'p-00003', action: 'delete', ts: t }))
        const deleted = await s.getPrediction('p-00003')
        expect(deleted).toMatchObject({ text: '', reviewAction: 'delete' })
        expect(deleted?.label).toBeUndefined()
        expect((await s.queryPredictions({ search: 'number 3', limit: 10 })).items).toEqual([])
        if (options.dump) expect(await options.dump(s)).not.toContain('Message number 3 ')

        await expectCode(
          s.addReview(review({ id: 'x', predictionId: 'nope', action: 'confirm' })),
          'ERR_STORE_PREDICTION_NOT_FOUND',
        )
        await expectCode(
          s.addReview(review({ id: 'y', predictionId: 'p-00002', action: 'approve' as ReviewRecord['action'] })),
          'ERR_INVALID_ARGUMENT',
        )
      }),
    )

    it(
      'commits a review before addReview resolves',
      withStore(async (s) => {
        await s.insertPredictions([samplePrediction(1)])
        await s.addReview(review({ id: 'a', predictionId: 'p-00001', action: 'relabel', intent: 'cancel' }))
        const other = options.reopen ? await options.reopen(s) : s
        try {
          expect((await other.listReviews({ predictionId: 'p-00001' })).map((r) => r.id)).toEqual(['a'])
          expect((await other.getPrediction('p-00001'))?.label).toBe('cancel')
        } finally {
          if (other !== s) await other.close()
        }
      }),
    )

    it(
      'lists reviews by reviewer, time and export state, and marks them exported',
      withStore(async (s) => {
        await s.insertPredictions(Array.from({ length: 6 }, (_, i) => samplePrediction(i)))
        for (let i = 0; i < 6; i++) {
          await s.addReview(
            review({
              id: `r${i}`,
              predictionId: samplePrediction(i).id,
              action: 'confirm',
              reviewer: i % 2 ? 'bob' : 'ann',
              ts: T0 + i,
            }),
          )
        }
        const ids = (rs: ReviewRecord[]) => rs.map((r) => r.id)
        expect(ids(await s.listReviews({ reviewer: 'bob' }))).toEqual(['r1', 'r3', 'r5'])
        expect(ids(await s.listReviews({ from: T0 + 2, to: T0 + 4 }))).toEqual(['r2', 'r3'])
        expect(ids(await s.listReviews({ limit: 2 }))).toEqual(['r0', 'r1'])
        await s.markReviewsExported(['r1', 'r4', 'unknown'], T0 + 100)
        await s.markReviewsExported([], T0 + 200)
        expect(ids(await s.listReviews({ exported: true }))).toEqual(['r1', 'r4'])
        expect(ids(await s.listReviews({ exported: false }))).toEqual(['r0', 'r2', 'r3', 'r5'])
        expect((await s.listReviews({ exported: true }))[0]?.exportedAt).toBe(T0 + 100)
      }),
    )

    it(
      'creates tokens whose plaintext is returned once and only hashed in storage',
      withStore(async (s) => {
        const { token, record } = await s.createToken({ name: 'ci', role: 'admin' })
        expect(token.length).toBeGreaterThanOrEqual(40)
        expect(record).toMatchObject({ name: 'ci', role: 'admin' })
        expect(record.revokedAt).toBeUndefined()
        const verified = await s.verifyToken(token)
        expect(verified).toMatchObject({ id: record.id, name: 'ci', role: 'admin' })
        expect(verified?.lastUsedAt).toBeTypeOf('number')
        expect(await s.verifyToken(`${token}x`)).toBeUndefined()
        expect(await s.verifyToken(token.slice(0, -1))).toBeUndefined()
        expect(await s.verifyToken('')).toBeUndefined()
        const listed = await s.listTokens()
        expect(listed).toHaveLength(1)
        expect(JSON.stringify(listed)).not.toContain(token)
        if (options.dump) {
          const dump = await options.dump(s)
          expect(dump).not.toContain(token)
          expect(dump).not.toContain(token.slice(4, 30))
          expect(dump).toContain(record.id)
        }
      }),
    )

    it(
      'leaves predictions deleted by review out of exports (unless asked) and out of the stats',
      withStore(async (s) => {
        await s.insertPredictions(Array.from({ length: 6 }, (_, i) => samplePrediction(i)))
        const at = T0 + 2000 * MIN
        const rv = (id: string, predictionId: string, action: ReviewRecord['action'], ts = at) =>
          s.addReview({ id, predictionId, action, previousIntent: 'greet', reviewer: 'ann', ts })
        await rv('r1', 'p-00001', 'delete')
        await rv('r2', 'p-00002', 'delete')
        await rv('r3', 'p-00003', 'confirm')
        const lines: string[] = []
        const write = (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean))
        expect(await exportPredictions(s, {}, { format: 'jsonl', write })).toBe(4)
        const ids = () => lines.map((l) => (JSON.parse(l) as PredictionRecord).id).sort()
        expect(ids()).toEqual(['p-00000', 'p-00003', 'p-00004', 'p-00005'])
        lines.length = 0
        expect(await exportPredictions(s, {}, { format: 'jsonl', write, includeDeleted: true })).toBe(6)
        const deleted = lines
          .map((l) => JSON.parse(l) as PredictionRecord)
          .filter((r) => r.reviewAction === 'delete')
          .sort((a, b) => (a.id < b.id ? -1 : 1))
        expect(deleted).toEqual([
          expect.objectContaining({ id: 'p-00001', text: '' }),
          expect.objectContaining({ id: 'p-00002', text: '' }),
        ])
        lines.length = 0
        expect(await exportPredictions(s, { deleted: true }, { format: 'jsonl', write })).toBe(2)
        expect(await exportPredictions(s, { reviewed: true }, { format: 'jsonl', write: () => {} })).toBe(1)
        // A later review that is not a delete brings the prediction back.
        await rv('r4', 'p-00002', 'confirm', at + 1)
        expect(await exportPredictions(s, {}, { format: 'jsonl', write: () => {} })).toBe(5)
        if ('stats' in s) {
          const st = await (s as unknown as { stats(): Promise<Record<string, unknown>> }).stats()
          expect(st).toMatchObject({ predictions: 5, deleted: 1, reviewed: 2, unreviewed: 3, reviews: 4 })
          const byChannel = st.byChannel as Record<string, number>
          expect(Object.values(byChannel).reduce((a, b) => a + b, 0)).toBe(5)
          expect(byChannel.rasa).toBe(1) // p-00001 (rasa) deleted, p-00004 left
        }
      }),
    )

    it(
      'gives roles, refuses a second live token of one name, and revokes by id or name',
      withStore(async (s) => {
        const admin = await s.createToken({ name: 'ops', role: 'admin' })
        const ann = await s.createToken({ name: 'anna', role: 'annotator' })
        const client = await s.createToken({ name: 'web', role: 'client' })
        expect((await s.verifyToken(ann.token))?.role).toBe('annotator')
        expect((await s.verifyToken(client.token))?.role).toBe('client')
        await expectCode(s.createToken({ name: 'ops', role: 'client' }), 'ERR_STORE_TOKEN_EXISTS')
        await expectCode(s.createToken({ name: 'x', role: 'root' as 'admin' }), 'ERR_INVALID_ARGUMENT')
        await expectCode(s.createToken({ name: '', role: 'admin' }), 'ERR_INVALID_ARGUMENT')

        expect(await s.revokeToken(admin.record.id)).toBe(true)
        expect(await s.verifyToken(admin.token)).toBeUndefined()
        expect(await s.revokeToken(admin.record.id)).toBe(false)
        expect(await s.revokeToken('anna')).toBe(true)
        expect(await s.verifyToken(ann.token)).toBeUndefined()
        expect(await s.revokeToken('nobody')).toBe(false)
        expect((await s.verifyToken(client.token))?.name).toBe('web')

        // A revoked name may be reused; the old token stays dead.
        const again = await s.createToken({ name: 'ops', role: 'annotator' })
        expect((await s.verifyToken(again.token))?.role).toBe('annotator')
        expect(await s.verifyToken(admin.token)).toBeUndefined()
        const listed = await s.listTokens()
        expect(listed.map((t) => `${t.name}:${t.role}:${t.revokedAt !== undefined}`).sort()).toEqual([
          'anna:annotator:true',
          'ops:admin:true',
          'ops:annotator:false',
          'web:client:false',
        ])
      }),
    )
  })
}
