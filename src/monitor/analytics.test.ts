import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrainingData } from '../data/types.js'
import { randomPredictions, seededRandom } from '../store/contract.js'
import type { KyselyPredictionStore } from '../store/kysely-store.js'
import { openPostgresStore } from '../store/postgres.js'
import { LATENCY_BINS, LATENCY_RELATIVE_ERROR, latencyBin, latencyBinValue } from '../store/rollups.js'
import { openSqliteStore } from '../store/sqlite.js'
import type { PredictionRecord, ReviewRecord } from '../store/types.js'
import {
  type AnalyticsQuery,
  channelVolume,
  corrections,
  emergingNgrams,
  intentDistribution,
  latency,
  latencyStats,
  NgramCounter,
  rates,
  topNgrams,
} from './analytics.js'
import { ensureAnalyticsIndexes, hasAnalyticsIndex } from './indexes.js'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 1)
const RANGE = { from: T0, to: T0 + 2 * DAY }

function rec(
  i: number,
  ts: number,
  text: string,
  intent: string,
  channel: string,
  confidence: number,
  latencyMs: number,
  fallback = false,
): PredictionRecord {
  return {
    id: `a${i}`,
    ts,
    text,
    intent,
    confidence,
    margin: confidence / 2,
    fallback,
    ranking: [{ name: intent, confidence }],
    entities: [],
    modelName: 'bot',
    modelVersion: i < 4 ? '1' : '2',
    latencyMs,
    channel,
  }
}

const RECORDS: PredictionRecord[] = [
  rec(0, T0 + 1000, 'hello there', 'greet', 'api', 0.9, 1.0),
  rec(1, T0 + 2000, 'hi there my friend', 'greet', 'rasa', 0.4, 2.0),
  rec(2, T0 + 3000, 'reset my crypto wallet', 'nlu_fallback', 'api', 0.2, 3.0, true),
  rec(3, T0 + 4000, 'book a flight to paris', 'book_flight', 'api', 0.8, 10.0),
  rec(4, T0 + DAY + 5000, 'where is my crypto wallet', 'track_order', 'ui', 0.95, 1.5),
  rec(5, T0 + DAY + 6000, 'hello hello crypto wallet', 'greet', 'api', 0.3, 4.0),
  // Outside the range.
  rec(6, T0 + 2 * DAY, 'hello there', 'greet', 'api', 0.9, 100),
]

function review(
  id: string,
  predictionId: string,
  action: ReviewRecord['action'],
  intent: string | undefined,
  ts: number,
) {
  return { id, predictionId, action, previousIntent: '', reviewer: 'ann', ts, ...(intent ? { intent } : {}) }
}

const TRAINING: TrainingData = {
  intents: [{ name: 'greet' }, { name: 'book_flight' }],
  examples: [
    { text: 'hello there', intent: 'greet', entities: [] },
    { text: 'hi', intent: 'greet', entities: [] },
    { text: 'book a flight to paris', intent: 'book_flight', entities: [] },
  ],
  synonyms: [],
  regexes: [],
  lookups: [],
}

function analyticsSuite(
  name: string,
  open: () => Promise<{ store: KyselyPredictionStore; cleanup: () => Promise<void> }>,
) {
  describe(`analytics on ${name}`, () => {
    let store: KyselyPredictionStore
    let cleanup: () => Promise<void>
    beforeAll(async () => {
      ;({ store, cleanup } = await open())
      await store.migrate()
      await store.insertPredictions(RECORDS)
      await store.addReview(review('r0', 'a0', 'confirm', undefined, T0 + 10))
      await store.addReview(review('r1', 'a1', 'relabel', 'goodbye', T0 + 11))
      await store.addReview(review('r2', 'a2', 'out_of_scope', 'nlu_fallback', T0 + 12))
      await store.addReview(review('r3', 'a3', 'relabel', 'track_order', T0 + 13))
      // The latest review is the label: a3 was relabelled twice.
      await store.addReview(review('r4', 'a3', 'relabel', 'greet', T0 + 14))
      await store.addReview(review('r5', 'a4', 'skip', undefined, T0 + 15))
      await store.addReview(review('r6', 'a6', 'relabel', 'book_flight', T0 + 16))
    })
    afterAll(async () => {
      await store.close()
      await cleanup()
    })

    it('counts intents per day in the database', async () => {
      const r = await intentDistribution(store, RANGE)
      expect(r.total).toBe(6)
      expect(r.range).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-03T00:00:00.000Z', bucket: 'day' })
      expect(r.intents[0]).toEqual({ intent: 'greet', count: 3, share: 0.5 })
      expect(r.series).toEqual([
        { bucket: '2026-11-01T00:00:00.000Z', intent: 'book_flight', count: 1 },
        { bucket: '2026-11-01T00:00:00.000Z', intent: 'greet', count: 2 },
        { bucket: '2026-11-01T00:00:00.000Z', intent: 'nlu_fallback', count: 1 },
        { bucket: '2026-11-02T00:00:00.000Z', intent: 'greet', count: 1 },
        { bucket: '2026-11-02T00:00:00.000Z', intent: 'track_order', count: 1 },
      ])
      const hourly = await intentDistribution(store, { ...RANGE, bucket: 'hour', intent: 'greet' })
      expect(hourly.series).toEqual([
        { bucket: '2026-11-01T00:00:00.000Z', intent: 'greet', count: 2 },
        { bucket: '2026-11-02T00:00:00.000Z', intent: 'greet', count: 1 },
      ])
    })

    it('counts volume by channel, with filters', async () => {
      const r = await channelVolume(store, RANGE)
      expect(r.channels).toEqual([
        { channel: 'api', count: 4, share: 4 / 6 },
        { channel: 'rasa', count: 1, share: 1 / 6 },
        { channel: 'ui', count: 1, share: 1 / 6 },
      ])
      const v2 = await channelVolume(store, { ...RANGE, modelVersion: '2' })
      expect(v2.total).toBe(2)
      const api = await channelVolume(store, { ...RANGE, channel: 'api' })
      expect(api.series.map((s) => s.count)).toEqual([3, 1])
    })

    it('computes fallback and low-confidence rates', async () => {
      const r = await rates(store, { ...RANGE, lowConfidence: 0.5 })
      expect(r).toMatchObject({ total: 6, fallback: 1, lowConfidence: 3, fallbackRate: 1 / 6, lowConfidenceRate: 0.5 })
      expect(r.series).toEqual([
        {
          bucket: '2026-11-01T00:00:00.000Z',
          total: 4,
          fallback: 1,
          lowConfidence: 2,
          fallbackRate: 0.25,
          lowConfidenceRate: 0.5,
        },
        {
          bucket: '2026-11-02T00:00:00.000Z',
          total: 2,
          fallback: 0,
          lowConfidence: 1,
          fallbackRate: 0,
          lowConfidenceRate: 0.5,
        },
      ])
    })

    it("computes latency percentiles from the rollups' log-scale histogram, within its relative error", async () => {
      const r = await latency(store, RANGE)
      const near = (got: number, exact: number) =>
        expect(Math.abs(got - exact), `${got} vs ${exact}`).toBeLessThanOrEqual(exact * r.relativeError + 1e-12)
      expect(r.relativeError).toBeCloseTo(2 ** (1 / 8) - 1, 12)
      // Latencies 1, 1.5, 2, 3, 4, 10: nearest rank; count, mean and max are exact.
      expect(r).toMatchObject({ count: 6, max: 10 })
      near(r.p50, 2)
      near(r.p90, 10)
      near(r.p99, 10)
      expect(r.mean).toBeCloseTo(21.5 / 6, 9)
      expect(r.series.map((s) => [s.bucket, s.count, s.max])).toEqual([
        ['2026-11-01T00:00:00.000Z', 4, 10],
        ['2026-11-02T00:00:00.000Z', 2, 4],
      ])
      near(r.series[0]!.p50, 2)
      near(r.series[1]!.p50, 1.5)
      // Ranks land in different bins: 2 and 3 are more than one bin apart.
      expect(r.series[0]!.p50).toBeLessThan(r.p90)
    })

    it('measures corrections and live accuracy from the latest review of each prediction', async () => {
      const r = await corrections(store, RANGE)
      // a0 confirmed, a1 greet→goodbye, a2 out of scope (as predicted), a3 book_flight→greet; a4 only skipped.
      expect(r).toMatchObject({ reviewed: 4, corrected: 2, correctionRate: 0.5, liveAccuracy: 0.5 })
      expect(r.byIntent).toEqual([
        { intent: 'book_flight', reviewed: 1, corrected: 1, correctionRate: 1 },
        { intent: 'greet', reviewed: 2, corrected: 1, correctionRate: 0.5 },
        { intent: 'nlu_fallback', reviewed: 1, corrected: 0, correctionRate: 0 },
      ])
      const { labels, matrix } = r.confusion
      expect(labels).toEqual(['book_flight', 'goodbye', 'greet', 'nlu_fallback'])
      const cell = (gold: string, predicted: string) => matrix[labels.indexOf(gold)]![labels.indexOf(predicted)]
      expect(cell('greet', 'greet')).toBe(1)
      expect(cell('goodbye', 'greet')).toBe(1)
      expect(cell('greet', 'book_flight')).toBe(1)
      expect(cell('nlu_fallback', 'nlu_fallback')).toBe(1)
      expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(4)
    })

    it('counts top words and bigrams without stop words, overall and per intent', async () => {
      const r = await topNgrams(store, RANGE)
      expect(r.messages).toBe(6)
      expect(r.sampled).toBe(false)
      expect(r.words.slice(0, 3)).toEqual([
        { ngram: 'crypto', count: 3 },
        { ngram: 'hello', count: 3 },
        { ngram: 'wallet', count: 3 },
      ])
      expect(r.words.map((w) => w.ngram)).not.toContain('my')
      expect(r.bigrams[0]).toEqual({ ngram: 'crypto wallet', count: 3 })
      // "where is my crypto": stop words break bigrams instead of gluing words together.
      expect(r.bigrams.map((b) => b.ngram)).not.toContain('where crypto')
      const greet = r.byIntent.find((x) => x.intent === 'greet')!
      expect(greet.messages).toBe(3)
      expect(greet.words[0]).toEqual({ ngram: 'hello', count: 3 })
      // Capped: a sample spread over the range (one message from each day's hour), counts scaled to the range.
      const capped = await topNgrams(store, { ...RANGE, maxMessages: 2 })
      expect(capped).toMatchObject({ messages: 6, sampleSize: 2, sampled: true })
      expect(capped.words).toEqual(['crypto', 'hello', 'wallet'].map((ngram) => ({ ngram, count: 3 })))
      expect(capped.byIntent.map((x) => [x.intent, x.messages])).toEqual([
        ['greet', 3],
        ['track_order', 3],
      ])
      const exact = await topNgrams(store, { ...RANGE, maxMessages: 6 })
      expect(exact).toMatchObject({ messages: 6, sampleSize: 6, sampled: false })
      expect(exact.words).toEqual(r.words)
      await expect(topNgrams(store, { ...RANGE, maxMessages: 0 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      })
    })

    it('samples word counts over the whole range when it holds more than the cap, and estimates the counts', async () => {
      // 30 days: four weeks of 200, 300, 400 and 600 messages, each week with its own topic, then 1500 messages in
      // the last two days about crypto. The newest 300 would all be about crypto.
      const S = T0 + 60 * DAY
      const weeks = [
        ['parcel', 200],
        ['refund', 300],
        ['voucher', 400],
        ['delivery', 600],
      ] as const
      const records: PredictionRecord[] = []
      const add = (from: number, span: number, n: number, word: string) => {
        for (let k = 0; k < n; k++) {
          const i = 10_000 + records.length
          const ts = from + Math.floor(((k + 0.5) * span) / n)
          records.push(rec(i, ts, `my account ${word} question`, i % 2 ? 'help' : 'ask', 'api', 0.5, 1))
        }
      }
      for (const [w, [word, n]] of weeks.entries()) add(S + 7 * w * DAY, 7 * DAY, n, word)
      add(S + 28 * DAY, 2 * DAY, 1500, 'crypto')
      await store.insertPredictions(records)
      const range = { from: S, to: S + 30 * DAY }
      const exact = await topNgrams(store, { ...range, maxMessages: 3000, limit: 6 })
      expect(exact).toMatchObject({ messages: 3000, sampleSize: 3000, sampled: false })
      expect(exact.words).toEqual([
        { ngram: 'account', count: 3000 },
        { ngram: 'question', count: 3000 },
        { ngram: 'crypto', count: 1500 },
        { ngram: 'delivery', count: 600 },
        { ngram: 'voucher', count: 400 },
        { ngram: 'refund', count: 300 },
      ])
      const sampled = await topNgrams(store, { ...range, maxMessages: 300, limit: 7 })
      expect(sampled).toMatchObject({ messages: 3000, sampled: true })
      expect(sampled.sampleSize).toBeGreaterThan(270)
      expect(sampled.sampleSize).toBeLessThanOrEqual(300)
      // Every week's topic is found, in the exact count's order, each count within 15% of the exact one.
      const exactAll = await topNgrams(store, { ...range, maxMessages: 3000, limit: 7 })
      expect(sampled.words.map((w) => w.ngram)).toEqual(exactAll.words.map((w) => w.ngram))
      for (const w of exactAll.words) {
        const got = sampled.words.find((x) => x.ngram === w.ngram)!.count
        expect(Math.abs(got - w.count), w.ngram).toBeLessThanOrEqual(0.15 * w.count)
      }
      const total = sampled.byIntent.reduce((a, x) => a + x.messages, 0)
      expect(Math.abs(total - 3000)).toBeLessThanOrEqual(2)
      // Filters apply to the sample too; emerging n-grams read the same sample.
      const ask = await topNgrams(store, { ...range, intent: 'ask', maxMessages: 100 })
      expect(ask).toMatchObject({ messages: 1500, sampled: true })
      expect(ask.byIntent.map((x) => x.intent)).toEqual(['ask'])
      expect(ask.words.map((w) => w.ngram)).toEqual(expect.arrayContaining(['parcel', 'refund', 'voucher', 'crypto']))
      const em = await emergingNgrams(store, TRAINING, { ...range, maxMessages: 300, minCount: 2 })
      expect(em).toMatchObject({ messages: 3000, sampled: true })
      // Against 3 training examples only words in more than a third of the messages have a lift above 1.
      expect(em.items.map((i) => i.ngram)).toEqual(expect.arrayContaining(['account', 'crypto']))
      const crypto = em.items.find((i) => i.ngram === 'crypto')!
      expect(Math.abs(crypto.count - 1500)).toBeLessThanOrEqual(150)
    })

    it('finds emerging n-grams: frequent now, rare in the training data', async () => {
      const r = await emergingNgrams(store, TRAINING, { ...RANGE, minCount: 2 })
      expect(r.trainingExamples).toBe(3)
      const names = r.items.map((i) => i.ngram)
      expect(names.slice(0, 3).sort()).toEqual(['crypto', 'crypto wallet', 'wallet'])
      expect(names).not.toContain('paris')
      const crypto = r.items.find((i) => i.ngram === 'crypto')!
      expect(crypto).toMatchObject({ n: 1, count: 3, trainingCount: 0 })
      expect(crypto.lift).toBeCloseTo(((3 + 1) / 6) * 3, 9)
    })

    it('drops the analytics indexes earlier versions created, and the results stay the same', async () => {
      const before = await rates(store, { ...RANGE, lowConfidence: 0.37 })
      await store.db.schema.createIndex('predictions_analytics').on('predictions').columns(['ts', 'intent']).execute()
      await store.db.schema
        .createIndex('predictions_analytics_intent')
        .on('predictions')
        .columns(['intent', 'ts'])
        .execute()
      expect(await hasAnalyticsIndex(store)).toBe(true)
      await ensureAnalyticsIndexes(store)
      await ensureAnalyticsIndexes(store)
      expect(await hasAnalyticsIndex(store)).toBe(false)
      expect(await rates(store, { ...RANGE, lowConfidence: 0.37 })).toEqual(before)
      await expect(rates(store, { ...RANGE, lowConfidence: Number.NaN })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      })
    })

    it('answers from the rollups exactly as a raw count, for random ranges, edges off the hour, filters and deletes', async () => {
      const random = randomPredictions(1500, 11, 60, 'z')
      await store.insertPredictions(random)
      const start = Math.min(...random.map((r) => r.ts))
      const all = await intentDistribution(store, { from: start, to: start + 3 * DAY })
      // A prediction deleted by review (junk, PII) leaves every analytics.
      await store.addReview(review('zdel', random[5]!.id, 'delete', undefined, T0 + 20))
      await store.addReview(review('zdel2', random[6]!.id, 'delete', undefined, T0 + 20))
      expect((await intentDistribution(store, { from: start, to: start + 3 * DAY })).total).toBe(all.total - 2)
      const rnd = seededRandom(5)
      const HOUR = 3_600_000
      const cases: AnalyticsQuery[] = [
        { from: start, to: start + 3 * DAY },
        { from: start + 10 * HOUR, to: start + 11 * HOUR },
        { from: start + 10 * HOUR + 5, to: start + 10 * HOUR + 1_800_000 },
      ]
      for (let i = 0; i < 14; i++) {
        const from = start + Math.floor(rnd() * 40 * HOUR)
        const filter = [{}, { intent: 'refund' }, { channel: 'ui' }, { modelVersion: 'v2' }][i % 4]!
        cases.push({ from, to: from + 1 + Math.floor(rnd() * 30 * HOUR), bucket: i % 3 ? 'hour' : 'day', ...filter })
      }
      const db = store.db
      for (const q of cases) {
        const bucketMs = q.bucket === 'hour' ? HOUR : DAY
        let sel = db
          .selectFrom('predictions')
          .select(['ts', 'intent', 'channel', 'fallback', 'confidence', 'latency_ms'])
          .where('ts', '>=', q.from!)
          .where('ts', '<', q.to!)
          .where((eb) => eb.or([eb('review_action', 'is', null), eb('review_action', '!=', 'delete')]))
        if (q.intent) sel = sel.where('intent', '=', q.intent)
        if (q.channel) sel = sel.where('channel', '=', q.channel)
        if (q.modelVersion) sel = sel.where('model_version', '=', q.modelVersion)
        const raw = (await sel.execute()).map((r) => ({ ...r, ts: Number(r.ts) }))
        const bucketOf = (ts: number) => new Date(ts - (ts % bucketMs)).toISOString()
        const countBy = (key: (r: (typeof raw)[number]) => string) => {
          const m = new Map<string, number>()
          for (const r of raw) m.set(key(r), (m.get(key(r)) ?? 0) + 1)
          return m
        }
        const label = JSON.stringify(q)
        const intents = await intentDistribution(store, q)
        expect(new Map(intents.series.map((x) => [`${x.bucket} ${x.intent}`, x.count])), label).toEqual(
          countBy((r) => `${bucketOf(r.ts)} ${r.intent}`),
        )
        expect(intents.total, label).toBe(raw.length)
        const channels = await channelVolume(store, q)
        expect(new Map(channels.series.map((x) => [`${x.bucket} ${x.channel}`, x.count])), label).toEqual(
          countBy((r) => `${bucketOf(r.ts)} ${r.channel}`),
        )
        // 0.5 is on the rollups' confidence grid, the others are not (a raw band adds to the bins below); all exact.
        for (const threshold of [0.5, 0.05, 0.95, 0.37, 0.01, 0, -0.5, 0.999, 1, 1.5]) {
          const got = await rates(store, { ...q, lowConfidence: threshold })
          const want = new Map<string, [number, number, number]>()
          for (const r of raw) {
            const w = want.get(bucketOf(r.ts)) ?? [0, 0, 0]
            want.set(bucketOf(r.ts), [w[0] + 1, w[1] + r.fallback, w[2] + (r.confidence < threshold ? 1 : 0)])
          }
          expect(
            new Map(got.series.map((x) => [x.bucket, [x.total, x.fallback, x.lowConfidence]])),
            `${label} ${threshold}`,
          ).toEqual(want)
        }
        const lat = await latency(store, q)
        const byBucket = new Map<string, number[]>()
        for (const r of raw) byBucket.set(bucketOf(r.ts), [...(byBucket.get(bucketOf(r.ts)) ?? []), r.latency_ms])
        expect(lat.series.map((x) => x.bucket)).toEqual([...byBucket.keys()].sort())
        for (const x of lat.series) {
          const values = byBucket.get(x.bucket)!.sort((a, b) => a - b)
          expect(x.count).toBe(values.length)
          expect(x.max).toBe(values.at(-1))
          expect(x.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6)
          for (const [p, got] of [
            [0.5, x.p50],
            [0.9, x.p90],
            [0.99, x.p99],
          ] as const) {
            const exact = values[Math.max(1, Math.ceil(p * values.length)) - 1]!
            // Below 0.1 ms the first bin's error is absolute (0.05 ms).
            expect(Math.abs(got - exact), `${label} p${p * 100}`).toBeLessThanOrEqual(
              Math.max(exact * lat.relativeError, 0.05) + 1e-9,
            )
          }
        }
      }
    })

    it('refuses an empty range', async () => {
      await expect(intentDistribution(store, { from: T0, to: T0 })).rejects.toMatchObject({
        code: 'ERR_ANALYTICS_RANGE',
      })
    })
  })
}

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

analyticsSuite('sqlite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'intentops-analytics-'))
  dirs.push(dir)
  return { store: openSqliteStore({ file: path.join(dir, 'store.db') }), cleanup: async () => {} }
})

const DATABASE_URL = process.env.DATABASE_URL
if (DATABASE_URL) {
  // A database of its own rather than a schema: the store's migrator looks for its bookkeeping tables in every schema
  // of a database, so another run's schema in the shared one could make it skip creating ours.
  analyticsSuite('postgres', async () => {
    const name = `iops_analytics_${process.pid}_${randomBytes(4).toString('hex')}`
    const admin = new pg.Client({ connectionString: DATABASE_URL })
    await admin.connect()
    await admin.query(`create database ${name}`)
    await admin.end()
    const url = new URL(DATABASE_URL)
    url.pathname = `/${name}`
    return {
      store: openPostgresStore({ url: url.toString(), poolSize: 2 }),
      cleanup: async () => {
        const c = new pg.Client({ connectionString: DATABASE_URL })
        await c.connect()
        await c.query(`drop database if exists ${name}`)
        await c.end()
      },
    }
  })
}

describe('latencyStats', () => {
  it('merges bins and takes nearest-rank percentiles', () => {
    const bins = new Array<number>(LATENCY_BINS).fill(0)
    bins[latencyBin(1)] = 99
    bins[latencyBin(50)] = 1
    const s = latencyStats({ count: 100, sum: 149, max: 50, bins })
    expect(s).toMatchObject({ count: 100, mean: 1.49, max: 50 })
    expect(s.p99).toBe(latencyBinValue(latencyBin(1)))
    expect(Math.abs(s.p99 - 1)).toBeLessThanOrEqual(LATENCY_RELATIVE_ERROR)
    // A bin's middle above the exact maximum is clamped to it.
    const one = new Array<number>(LATENCY_BINS).fill(0)
    one[latencyBin(50)] = 1
    expect(latencyStats({ count: 1, sum: 50, max: 50, bins: one }).p50).toBeLessThanOrEqual(50)
    expect(latencyStats({ count: 0, sum: 0, max: 0, bins: one.map(() => 0) }).p50).toBe(0)
  })
})

describe('NgramCounter', () => {
  it('skips stop words and tokens without letters', () => {
    const c = new NgramCounter()
    c.add('Call me at [phone] on 12, not about the refund refund')
    expect([...c.words.keys()].sort()).toEqual(['call', 'phone', 'refund'])
    expect([...c.bigrams]).toEqual([['refund refund', 1]])
  })
})
