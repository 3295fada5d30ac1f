import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTempDatabase } from '../../test/helpers/pg-database.js'
import { type IntentopsError, isIntentopsError } from '../errors.js'
import type { KyselyPredictionStore } from '../store/kysely-store.js'
import { openPostgresStore } from '../store/postgres.js'
import { openSqliteStore } from '../store/sqlite.js'
import { decide, type ReviewContext } from './actions.js'
import { listAudit } from './audit.js'
import { findGroup, listInbox } from './inbox.js'
import { prediction } from './testing.js'

/** The same tests on both backends; PostgreSQL runs when DATABASE_URL is set (CI sets it), in a database of its own. */
const DATABASE_URL = process.env.DATABASE_URL
const BACKENDS: Array<{
  name: string
  open: () => { store: () => Promise<KyselyPredictionStore>; cleanup: () => Promise<void> }
}> = [
  {
    name: 'sqlite',
    open: () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'io-review-'))
      const store = openSqliteStore({ file: path.join(dir, 'store.db') })
      return {
        store: async () => store,
        cleanup: async () => {
          await store.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  },
  ...(DATABASE_URL
    ? [
        {
          name: 'postgres',
          open: () => {
            const db = createTempDatabase(DATABASE_URL, 'iops_review')
            let store: KyselyPredictionStore | undefined
            return {
              store: async () => {
                store = openPostgresStore({ url: (await db).url, poolSize: 2 })
                return store
              },
              cleanup: async () => {
                await store?.close()
                await (await db).drop()
              },
            }
          },
        },
      ]
    : []),
]

let store: KyselyPredictionStore
let cleanup: () => Promise<void>
let clock = 1_000
const ctx: ReviewContext = {
  intents: new Set(['greet', 'book_flight', 'cancel_flight', 'other']),
  outOfScopeIntent: 'nlu_fallback',
  now: () => ++clock,
}
const options = { order: 'confidence' as const, pageSize: 50, nearDuplicateThreshold: 0.8 }

describe.each(BACKENDS)('review on $name', ({ open }) => {
  beforeAll(async () => {
    const opened = open()
    cleanup = opened.cleanup
    store = await opened.store()
    await store.migrate()
  })
  afterAll(async () => {
    await cleanup()
  })
  beforeEach(async () => {
    // every test starts from the same log
    await store.db.deleteFrom('reviews').execute()
    await store.db.deleteFrom('predictions').execute()
    const day = Date.UTC(2026, 10, 1)
    await store.insertPredictions([
      prediction('p1', 'book a flight to Paris', 'book_flight', 0.55, { ts: day + 1, channel: 'web' }),
      prediction('p2', 'hello there', 'greet', 0.9, { ts: day + 2 }),
      prediction('p3', 'Book a flight to Paris!', 'book_flight', 0.6, { ts: day + 3 }),
      prediction('p4', 'cancel it', 'cancel_flight', 0.3, { ts: day + 86_400_000, fallback: true, channel: 'web' }),
      prediction('p5', 'book a flight to Paris please', 'book_flight', 0.7, { ts: day + 5, modelVersion: '2' }),
      prediction('p6', 'what is the weather', 'other', 0.4, { ts: day + 6 }),
    ])
  })

  const ids = (page: Awaited<ReturnType<typeof listInbox>>) => page.groups.map((g) => g.members.map((m) => m.id))

  describe('inbox', () => {
    it('orders by confidence and groups duplicates and near duplicates under the most uncertain message', async () => {
      const page = await listInbox(store, {}, options)
      expect(ids(page)).toEqual([['p4'], ['p6'], ['p1', 'p3', 'p5'], ['p2']])
      expect(page.messages).toBe(6)
      const g = page.groups[2]!
      expect(g).toMatchObject({ id: 'p1', text: 'book a flight to Paris', intent: 'book_flight', size: 3 })
    })

    it('groups only exact normalised duplicates at threshold 1', async () => {
      const page = await listInbox(store, {}, { ...options, nearDuplicateThreshold: 1 })
      expect(ids(page)).toEqual([['p4'], ['p6'], ['p1', 'p3'], ['p5'], ['p2']])
    })

    it('orders fallback first, by margin, or newest first', async () => {
      expect(ids(await listInbox(store, {}, { ...options, order: 'fallback' }))[0]).toEqual(['p4'])
      expect(ids(await listInbox(store, {}, { ...options, order: 'newest' }))[0]).toEqual(['p4'])
      const byMargin = await listInbox(store, {}, { ...options, order: 'margin', nearDuplicateThreshold: 1 })
      const margins = byMargin.groups.map((g) => g.margin)
      expect(margins).toEqual([...margins].sort((a, b) => a - b))
    })

    it('filters by intent, model version, channel, date range and text', async () => {
      expect(ids(await listInbox(store, { intent: 'book_flight' }, options))).toEqual([['p1', 'p3', 'p5']])
      expect(ids(await listInbox(store, { modelVersion: '2' }, options))).toEqual([['p5']])
      expect(ids(await listInbox(store, { channel: 'web' }, options))).toEqual([['p4'], ['p1']])
      const day = Date.UTC(2026, 10, 1)
      expect(ids(await listInbox(store, { from: day + 86_400_000 }, options))).toEqual([['p4']])
      expect(ids(await listInbox(store, { to: day + 4 }, options))).toEqual([['p1', 'p3'], ['p2']])
      expect(ids(await listInbox(store, { search: 'WEATHER' }, options))).toEqual([['p6']])
    })

    it('pages with a cursor without losing or repeating messages', async () => {
      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await listInbox(store, cursor ? { cursor } : {}, { ...options, pageSize: 4 })
        seen.push(...page.groups.flatMap((g) => g.members.map((m) => m.id)))
        cursor = page.nextCursor
        pages++
      } while (cursor && pages < 10)
      expect(pages).toBe(2)
      expect(seen.sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'])
    })

    it('finds a group over the whole log, not just one page', async () => {
      const g = await findGroup(store, 'p3', { nearDuplicateThreshold: 0.8 })
      expect(g?.members.map((m) => m.id)).toEqual(['p3', 'p5', 'p1'])
      expect(await findGroup(store, 'nope', { nearDuplicateThreshold: 0.8 })).toBeUndefined()
    })

    it('finds near duplicates of a long message that lack one of its words, and none among other messages', async () => {
      const long = 'please tell me the status of my order number 42 today'
      await store.insertPredictions([
        prediction('q1', long, 'order_status', 0.4),
        // the last word dropped: 19 of 21 shingles shared, Jaccard 0.9
        prediction('q2', 'please tell me the status of my order number 42', 'order_status', 0.5),
        prediction('q3', 'Please tell me the STATUS of my order number 42 today!', 'order_status', 0.6),
        prediction('q4', 'tell me a joke about my order', 'chitchat', 0.6),
        prediction('q5', '???', 'nlu_fallback', 0.1),
      ])
      const g = await findGroup(store, 'q1', { nearDuplicateThreshold: 0.8 })
      expect(g?.members.map((m) => m.id).sort()).toEqual(['q1', 'q2', 'q3'])
      expect((await findGroup(store, 'q1', { nearDuplicateThreshold: 1 }))?.members.map((m) => m.id)).toEqual([
        'q1',
        'q3',
      ])
      // a message without words groups alone
      expect((await findGroup(store, 'q5', { nearDuplicateThreshold: 0.8 }))?.members.map((m) => m.id)).toEqual(['q5'])
    })
  })

  async function code(p: Promise<unknown>): Promise<string> {
    try {
      await p
    } catch (err) {
      if (isIntentopsError(err)) return err.code
      throw err
    }
    return 'no error'
  }

  describe('decisions', () => {
    it('confirm labels the whole group, records reviewer, time and previous label, and empties the inbox of it', async () => {
      const res = await decide(store, { predictionIds: ['p1', 'p3', 'p5'], action: 'confirm', reviewer: 'ann' }, ctx)
      expect(res.reviews).toHaveLength(3)
      const audit = await listAudit(store, { reviewer: 'ann' })
      expect(audit.map((a) => [a.predictionId, a.action, a.intent, a.previousIntent, a.reviewer])).toEqual([
        ['p5', 'confirm', 'book_flight', 'book_flight', 'ann'],
        ['p3', 'confirm', 'book_flight', 'book_flight', 'ann'],
        ['p1', 'confirm', 'book_flight', 'book_flight', 'ann'],
      ])
      expect(audit[0]!.text).toBe('book a flight to Paris please')
      expect(audit.every((a) => a.ts > 1000)).toBe(true)
      expect(ids(await listInbox(store, {}, options))).toEqual([['p4'], ['p6'], ['p2']])
    })

    it('relabel refuses an unknown intent unless it is new on purpose, and writes nothing when refused', async () => {
      expect(
        await code(
          decide(store, { predictionIds: ['p6'], action: 'relabel', intent: 'weather', reviewer: 'ann' }, ctx),
        ),
      ).toBe('ERR_REVIEW_UNKNOWN_INTENT')
      expect(await store.listReviews({})).toEqual([])
      await decide(
        store,
        { predictionIds: ['p6'], action: 'relabel', intent: 'weather', newIntent: true, reviewer: 'ann' },
        ctx,
      )
      // a second reviewer changes it again: the previous label is the first reviewer's, not the model's
      await decide(store, { predictionIds: ['p6'], action: 'relabel', intent: 'other', reviewer: 'bob' }, ctx)
      const audit = await listAudit(store, { predictionId: 'p6' })
      expect(audit.map((a) => [a.reviewer, a.intent, a.previousIntent])).toEqual([
        ['bob', 'other', 'weather'],
        ['ann', 'weather', 'other'],
      ])
      expect((await store.getPrediction('p6'))?.label).toBe('other')
    })

    it('refuses intent and entity names the data validator refuses, saying why and how to fix it, writing nothing', async () => {
      const refused = (d: Partial<Parameters<typeof decide>[1]>) =>
        decide(store, { predictionIds: ['p1'], action: 'relabel', reviewer: 'ann', newIntent: true, ...d }, ctx).then(
          () => undefined,
          (e: IntentopsError) => [e.code, e.statusCode, e.message, e.hint],
        )
      for (const [intent, detail] of [
        ['a:b', "it contains ':'"],
        ['null', 'YAML reads it as null, not as a name, wherever it is unquoted'],
        ['#c', "it contains '#'"],
        ['book flight', 'it contains a space'],
      ]) {
        expect(await refused({ intent })).toEqual([
          'ERR_REVIEW_BAD_NAME',
          400,
          `The intent name '${intent}' cannot be used: ${detail}`,
          expect.stringMatching(/^Intent names are letters, digits/),
        ])
      }
      expect(
        await refused({
          action: 'entities',
          intent: undefined,
          entities: [{ start: 17, end: 22, entity: 'Bad Name' }],
        }),
      ).toEqual([
        'ERR_REVIEW_BAD_NAME',
        400,
        "The entity name 'Bad Name' cannot be used: it contains a space",
        expect.stringMatching(/Rename it, e\.g\. to Bad_Name\.$/),
      ])
      // roles and groups follow the entity rules, numbers allowed (Rasa numbers groups), and are trimmed as names are
      const span = { start: 17, end: 22, entity: 'city' }
      expect(await refused({ action: 'entities', intent: undefined, entities: [{ ...span, role: '#to' }] })).toEqual([
        'ERR_REVIEW_BAD_NAME',
        400,
        "The role name '#to' cannot be used: it contains '#'",
        expect.stringMatching(/^Entity roles follow the rules of entity names: .* Rename it, e\.g\. to to\.$/),
      ])
      expect(await refused({ action: 'entities', intent: undefined, entities: [{ ...span, group: '01' }] })).toEqual([
        'ERR_REVIEW_BAD_NAME',
        400,
        "The group name '01' cannot be used: YAML reads it as 1, not as a name, wherever it is unquoted",
        expect.stringMatching(/^Entity groups follow the rules of entity names: /),
      ])
      expect(await store.listReviews({})).toEqual([])
      const { reviews } = await decide(
        store,
        {
          predictionIds: ['p1'],
          action: 'entities',
          entities: [{ ...span, role: ' destination ', group: '1' }],
          reviewer: 'ann',
        },
        ctx,
      )
      expect(reviews[0]!.entities).toEqual([{ ...span, value: 'Paris', role: 'destination', group: '1' }])
      // a retrieval intent is a name
      await decide(
        store,
        { predictionIds: ['p1'], action: 'relabel', intent: 'faq/hours', newIntent: true, reviewer: 'ann' },
        ctx,
      )
      expect((await store.getPrediction('p1'))?.label).toBe('faq/hours')
    })

    it('out of scope takes the fallback intent; skip leaves the message in the inbox', async () => {
      await decide(store, { predictionIds: ['p6'], action: 'out_of_scope', reviewer: 'ann' }, ctx)
      await decide(store, { predictionIds: ['p2'], action: 'skip', reviewer: 'ann' }, ctx)
      const [oos] = await store.listReviews({ predictionId: 'p6' })
      expect(oos).toMatchObject({ action: 'out_of_scope', intent: 'nlu_fallback', previousIntent: 'other' })
      expect(ids(await listInbox(store, {}, options))).toEqual([['p4'], ['p1', 'p3', 'p5'], ['p2']])
    })

    it('fixes entity spans on the messages with the same text, and checks the spans', async () => {
      const res = await decide(
        store,
        {
          predictionIds: ['p1', 'p3'],
          action: 'entities',
          entities: [{ start: 17, end: 22, entity: 'city' }],
          reviewer: 'ann',
        },
        ctx,
      )
      expect(res.skipped).toEqual(['p3'])
      expect(res.reviews[0]).toMatchObject({
        predictionId: 'p1',
        intent: 'book_flight',
        entities: [{ start: 17, end: 22, entity: 'city', value: 'Paris' }],
      })
      const bad = (entities: Array<{ start: number; end: number; entity: string }>) =>
        code(decide(store, { predictionIds: ['p2'], action: 'entities', entities, reviewer: 'ann' }, ctx))
      expect(await bad([{ start: 3, end: 40, entity: 'x' }])).toBe('ERR_REVIEW_BAD_ENTITY')
      expect(await bad([{ start: 3, end: 3, entity: 'x' }])).toBe('ERR_REVIEW_BAD_ENTITY')
      expect(await bad([{ start: 5, end: 7, entity: 'x' }])).toBe('ERR_REVIEW_BAD_ENTITY') // " t": starts with a space
      expect(
        await bad([
          { start: 0, end: 5, entity: 'a' },
          { start: 2, end: 4, entity: 'b' },
        ]),
      ).toBe('ERR_REVIEW_BAD_ENTITY')
      expect(await store.listReviews({ predictionId: 'p2' })).toEqual([])
    })

    it('delete erases the text from the store and keeps the audit record', async () => {
      await decide(store, { predictionIds: ['p6'], action: 'delete', reviewer: 'ann', note: 'PII' }, ctx)
      expect((await store.getPrediction('p6'))?.text).toBe('')
      const [a] = await listAudit(store, { predictionId: 'p6' })
      expect(a).toMatchObject({ action: 'delete', reviewer: 'ann', previousIntent: 'other', note: 'PII' })
      expect(a!.text).toBe('')
    })

    it('refuses malformed decisions and unknown messages before writing anything', async () => {
      expect(
        await code(decide(store, { predictionIds: ['p1', 'nope'], action: 'confirm', reviewer: 'ann' }, ctx)),
      ).toBe('ERR_REVIEW_NOT_FOUND')
      expect(await code(decide(store, { predictionIds: [], action: 'confirm', reviewer: 'ann' }, ctx))).toBe(
        'ERR_REVIEW_INVALID',
      )
      expect(await code(decide(store, { predictionIds: ['p1'], action: 'confirm', reviewer: ' ' }, ctx))).toBe(
        'ERR_REVIEW_INVALID',
      )
      expect(await code(decide(store, { predictionIds: ['p1'], action: 'relabel', reviewer: 'ann' }, ctx))).toBe(
        'ERR_REVIEW_INVALID',
      )
      expect(
        await code(decide(store, { predictionIds: ['p1'], action: 'bogus' as 'confirm', reviewer: 'ann' }, ctx)),
      ).toBe('ERR_REVIEW_INVALID')
      expect(await store.listReviews({})).toEqual([])
    })
  })
})
