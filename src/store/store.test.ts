import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { CompiledQuery, sql } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { allPages, expectedOrder, samplePrediction, testPredictionStore } from './contract.js'
import type { KyselyPredictionStore } from './kysely-store.js'
import { openPostgresStore } from './postgres.js'
import { createMigrator, MIGRATION_TABLE, MIGRATIONS, type MigrationProgress } from './schema.js'
import { openSqliteStore, PAGE_SIZE } from './sqlite.js'
import type { InboxOrder, PredictionQuery, PredictionRecord, PredictionStore } from './types.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
function tmpFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'intentops-store-'))
  dirs.push(dir)
  return path.join(dir, '.intentops', 'store.db')
}

const files = new WeakMap<PredictionStore, string>()

testPredictionStore(
  'sqlite',
  () => {
    const file = tmpFile()
    const store = openSqliteStore({ file })
    files.set(store, file)
    return store
  },
  {
    // The raw bytes of the database and its WAL: a secret written anywhere would show up here.
    dump: async (s) => {
      const file = files.get(s)!
      const read = (f: string) => {
        try {
          return readFileSync(f).toString('latin1')
        } catch {
          return ''
        }
      }
      return read(file) + read(`${file}-wal`)
    },
    reopen: async (s) => openSqliteStore({ file: files.get(s)! }),
  },
)

// Always set: vitest.config.ts defaults it to the local server.
const DATABASE_URL = process.env.DATABASE_URL
const schemas = new WeakMap<PredictionStore, string>()

if (DATABASE_URL) {
  testPredictionStore(
    'postgres',
    () => {
      const schema = `iops_store_${process.pid}_${randomBytes(4).toString('hex')}`
      const store = openPostgresStore({ url: DATABASE_URL, schema, poolSize: 3 })
      schemas.set(store, schema)
      return store
    },
    {
      dump: async (s) => {
        const db = (s as KyselyPredictionStore).db
        const out: string[] = []
        for (const table of ['predictions', 'reviews', 'tokens', 'store_meta'] as const) {
          const rows = await db.selectFrom(table).selectAll().execute()
          out.push(JSON.stringify(rows))
        }
        return out.join('\n')
      },
      reopen: async (s) => openPostgresStore({ url: DATABASE_URL, schema: schemas.get(s)!, poolSize: 1 }),
      cleanup: async (s) => {
        await sql`drop schema if exists ${sql.id(schemas.get(s)!)} cascade`.execute((s as KyselyPredictionStore).db)
      },
    },
  )
}

/** A page of `query`, and the query the store ran for it (the one that orders). */
async function pageAndQuery(store: KyselyPredictionStore, query: PredictionQuery) {
  const executor = store.db.getExecutor()
  const run = executor.executeQuery.bind(executor)
  let seen: CompiledQuery | undefined
  executor.executeQuery = ((q: CompiledQuery) => {
    if (/order by/i.test(q.sql)) seen = q
    return run(q)
  }) as typeof executor.executeQuery
  try {
    const page = await store.queryPredictions(query)
    return { page, seen: seen! }
  } finally {
    executor.executeQuery = run
  }
}

/** A page of `query`, and SQLite's plan of the query the store ran for it. */
async function planOf(store: KyselyPredictionStore, query: PredictionQuery) {
  const { page, seen } = await pageAndQuery(store, query)
  const rows = await store.db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`explain query plan ${seen.sql}`, [...seen.parameters]),
  )
  return { page, steps: rows.rows.map((r) => r.detail) }
}

/** A plan node of PostgreSQL's EXPLAIN: its type, and the relation or index it reads. */
type PlanNode = { type: string; relation?: string; index?: string }

/** A page of `query`, and every node of PostgreSQL's plan of the query the store ran for it. */
async function postgresPlanOf(store: KyselyPredictionStore, query: PredictionQuery) {
  const { page, seen } = await pageAndQuery(store, query)
  const result = await store.db.executeQuery<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(
    CompiledQuery.raw(`explain (format json) ${seen.sql}`, [...seen.parameters]),
  )
  const nodes: PlanNode[] = []
  const walk = (n: Record<string, unknown>) => {
    nodes.push({
      type: n['Node Type'] as string,
      ...(n['Relation Name'] ? { relation: n['Relation Name'] as string } : {}),
      ...(n['Index Name'] ? { index: n['Index Name'] as string } : {}),
    })
    for (const child of (n.Plans as Array<Record<string, unknown>> | undefined) ?? []) walk(child)
  }
  walk(result.rows[0]!['QUERY PLAN'][0]!.Plan)
  return { page, nodes }
}

describe('postgres connection', () => {
  it('reaches the DATABASE_URL server (fails, never skips, when it is set but down)', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5000 })
    await client.connect()
    try {
      expect((await client.query('select 1 as one')).rows[0].one).toBe(1)
    } finally {
      await client.end()
    }
  })
})

describe('sqlite file settings', () => {
  const pragma = async (store: KyselyPredictionStore, name: string) =>
    Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as Record<string, unknown>)[0]

  it('gives a new file 16 KiB pages and a checkpoint every 80 MiB of WAL', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    try {
      await store.migrate()
      expect(await pragma(store, 'page_size')).toBe(PAGE_SIZE)
      expect(PAGE_SIZE).toBe(16384)
      expect(await pragma(store, 'wal_autocheckpoint')).toBe((80 * 1024 * 1024) / PAGE_SIZE)
      expect(await pragma(store, 'journal_mode')).toBe('wal')
    } finally {
      await store.close()
    }
  })

  it('keeps the pages of a file made before, and scales its checkpoint to them', async () => {
    const file = tmpFile()
    mkdirSync(path.dirname(file), { recursive: true })
    // A store file as every earlier release made it: SQLite's default 4 KiB pages, in WAL mode (switching to WAL
    // writes the header, which fixes the page size); the first open below gives it a row.
    const old = new Database(file)
    old.pragma('page_size = 4096')
    old.pragma('journal_mode = WAL')
    old.close()
    const first = openSqliteStore({ file })
    await first.migrate()
    await first.insertPredictions([samplePrediction(1, { text: 'parcel one' })])
    await first.close()
    // A later open's 16 KiB pragma must leave the file as it is.
    const store = openSqliteStore({ file })
    try {
      await store.migrate()
      await store.insertPredictions([samplePrediction(2, { text: 'parcel two' })])
      expect(await pragma(store, 'page_size')).toBe(4096)
      expect(await pragma(store, 'wal_autocheckpoint')).toBe((80 * 1024 * 1024) / 4096)
      expect(
        (await sql<{ integrity_check: string }>`pragma integrity_check`.execute(store.db)).rows[0]!.integrity_check,
      ).toBe('ok')
      const found = await store.queryPredictions({ search: 'parcel' })
      expect(found.items.map((p) => p.id).sort()).toEqual(['p-00001', 'p-00002'])
    } finally {
      await store.close()
    }
  })
})

describe('migrations', () => {
  const check = async (store: KyselyPredictionStore) => {
    await store.migrate()
    await store.migrate()
    const rows = await store.db
      .selectFrom(MIGRATION_TABLE as 'store_meta')
      .select(sql<string>`name`.as('name'))
      .orderBy(sql`name`)
      .execute()
    expect(rows.map((r) => r.name)).toEqual(Object.keys(MIGRATIONS))
    await store.insertPredictions([samplePrediction(1)])
    await store.optimize()
    expect(
      (await store.queryPredictions({ intent: 'refund', reviewed: false, order: 'confidence' })).items,
    ).toHaveLength(1)
  }

  it('records each migration once on SQLite', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    try {
      await check(store)
    } finally {
      await store.close()
    }
  })

  it('records each migration once on PostgreSQL, also when replicas start together', async () => {
    const schema = `iops_mig_${process.pid}_${randomBytes(4).toString('hex')}`
    const stores = [0, 1, 2].map(() => openPostgresStore({ url: DATABASE_URL!, schema, poolSize: 2 }))
    try {
      await Promise.all(stores.map((s) => s.migrate()))
      await check(stores[0]!)
    } finally {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(stores[0]!.db)
      await Promise.all(stores.map((s) => s.close()))
    }
  })

  // Kysely's stock introspector read every schema of the database by name; one dropped meanwhile failed our migration.
  it('migrates on PostgreSQL while other schemas of the database come and go', async () => {
    const admin = openPostgresStore({ url: DATABASE_URL!, poolSize: 1 })
    let stop = false
    let churned = 0
    const churn = (async () => {
      while (!stop) {
        const other = `iops_churn_${process.pid}_${churned++}`
        await sql`create schema ${sql.id(other)}`.execute(admin.db)
        await sql`create table ${sql.id(other)}.t (id serial primary key)`.execute(admin.db)
        await sql`drop schema ${sql.id(other)} cascade`.execute(admin.db)
      }
    })()
    const names: string[] = []
    try {
      for (let round = 0; round < 4; round++) {
        const schema = `iops_mig_${process.pid}_${randomBytes(4).toString('hex')}`
        names.push(schema)
        const stores = [0, 1].map(() => openPostgresStore({ url: DATABASE_URL!, schema, poolSize: 2 }))
        try {
          await Promise.all(stores.map((s) => s.migrate()))
          await check(stores[0]!)
        } finally {
          await Promise.all(stores.map((s) => s.close()))
        }
      }
    } finally {
      stop = true
      await churn
      for (const schema of names) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db)
      await admin.close()
    }
    expect(churned).toBeGreaterThan(0)
  })

  it('0008 rebuilds the SQLite text index without its size table, finding rows logged before it', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    const tables = async () =>
      (
        await sql<{ name: string }>`select name from sqlite_master where name like 'predictions_fts%'`.execute(store.db)
      ).rows
        .map((r) => r.name)
        .sort()
    try {
      const migrator = createMigrator(store.db)
      expect((await migrator.migrateTo('0007_text_search')).error).toBeUndefined()
      expect(await tables()).toContain('predictions_fts_docsize')
      await store.insertPredictions([samplePrediction(1, { text: 'Where is my parcel' }), samplePrediction(2)])
      await store.migrate()
      expect(await tables()).not.toContain('predictions_fts_docsize')
      const automerge = await sql<{ v: number }>`select v from predictions_fts_config where k = 'automerge'`.execute(
        store.db,
      )
      expect(automerge.rows[0]?.v).toBe(16)
      await store.insertPredictions([samplePrediction(3, { text: 'my parcel is late' })])
      const ids = async (search: string) => (await store.queryPredictions({ search })).items.map((p) => p.id).sort()
      expect(await ids('"my parc"')).toEqual(['p-00001', 'p-00003'])
      expect(await ids('"is my"')).toEqual(['p-00001'])
      expect((await migrator.migrateTo('0007_text_search')).error).toBeUndefined()
      expect(await tables()).toContain('predictions_fts_docsize')
      expect(await ids('"is my"')).toEqual(['p-00001'])
    } finally {
      await store.close()
    }
  })

  it('0009 moves the text index insert from a trigger to the writer, each row indexed once across a migration by another connection', async () => {
    const file = tmpFile()
    const store = openSqliteStore({ file })
    const other = openSqliteStore({ file })
    const hasTrigger = async () =>
      (
        await sql<{ n: number }>`select count(*) as n from sqlite_master
          where type = 'trigger' and name = 'predictions_fts_insert'`.execute(store.db)
      ).rows[0]!.n === 1
    // FTS5 compares its index with the rows: a row indexed twice, or not at all, fails the check.
    const integrity = () =>
      sql`insert into predictions_fts(predictions_fts, rank) values ('integrity-check', 1)`.execute(store.db)
    const ids = async (search: string) => (await store.queryPredictions({ search })).items.map((p) => p.id).sort()
    try {
      const migrator = createMigrator(store.db)
      expect((await migrator.migrateTo('0008_lean_text_index')).error).toBeUndefined()
      expect(await hasTrigger()).toBe(true)
      await store.insertPredictions([samplePrediction(1, { text: 'parcel one' })])
      // Another process upgrades the file while this store keeps writing.
      await other.migrate()
      expect(await hasTrigger()).toBe(false)
      await store.insertPredictions([samplePrediction(2, { text: 'parcel two' }), samplePrediction(1)])
      await other.insertPredictions([samplePrediction(3, { text: 'parcel three' })])
      await integrity()
      expect(await ids('parcel')).toEqual(['p-00001', 'p-00002', 'p-00003'])
      expect(await ids('two')).toEqual(['p-00002'])
      await store.purgePredictions(Date.now() + 86_400_000)
      await integrity()
      expect(await ids('parcel')).toEqual([])
      // Back down: the trigger returns and the writer stops indexing by itself.
      expect((await migrator.migrateTo('0008_lean_text_index')).error).toBeUndefined()
      expect(await hasTrigger()).toBe(true)
      await store.insertPredictions([samplePrediction(4, { text: 'parcel four' })])
      await integrity()
      expect(await ids('parcel')).toEqual(['p-00004'])
    } finally {
      await other.close()
      await store.close()
    }
  })

  it('0010 drops the confidence indexes; the confidence order then reads the fallback index twice, not the log', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    const indexes = async () =>
      (
        await sql<{ name: string }>`select name from sqlite_master
          where type = 'index' and name in ('predictions_inbox_confidence', 'predictions_intent_inbox')`.execute(
          store.db,
        )
      ).rows
        .map((r) => r.name)
        .sort()
    try {
      const migrator = createMigrator(store.db)
      expect((await migrator.migrateTo('0009_text_index_by_writer')).error).toBeUndefined()
      expect(await indexes()).toEqual(['predictions_inbox_confidence', 'predictions_intent_inbox'])
      const records = Array.from({ length: 40 }, (_, i) => samplePrediction(i))
      await store.insertPredictions(records)
      await store.migrate()
      expect(await indexes()).toEqual([])
      const order = (rs: PredictionRecord[]) =>
        [...rs].sort((a, b) => a.confidence - b.confidence || (a.id < b.id ? -1 : 1)).map((r) => r.id)
      const page = await store.queryPredictions({ order: 'confidence', reviewed: false, limit: 40 })
      expect(page.items.map((r) => r.id)).toEqual(order(records))
      expect(records.some((r) => r.fallback) && records.some((r) => !r.fallback)).toBe(true)
      for (const [query, index] of [
        [{}, 'predictions_fallback_bucket'],
        [{ intent: 'nlu_fallback' }, 'predictions_intent_newest'],
      ] as const) {
        const { steps } = await planOf(store, { order: 'confidence', reviewed: false, ...query })
        // Two index searches, one per arm, and never a walk through the whole log.
        expect(steps.filter((d) => d.includes(`COVERING INDEX ${index} `))).toHaveLength(2)
        expect(steps.filter((d) => /^SCAN predictions\b/.test(d))).toEqual([])
      }
      expect((await migrator.migrateTo('0009_text_index_by_writer')).error).toBeUndefined()
      expect(await indexes()).toEqual(['predictions_inbox_confidence', 'predictions_intent_inbox'])
    } finally {
      await store.close()
    }
  })

  it('0012 drops the settling and buckets the uncertainty indexes, keeping every row, and the way down restores 0011', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    const state = async () => {
      const indexes = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master
        where type = 'index' and tbl_name = 'predictions' and sql is not null order by name`.execute(store.db)
      const columns = await sql<{ name: string }>`select name from pragma_table_info('predictions')`.execute(store.db)
      const keys = (name: string) =>
        indexes.rows
          .find((r) => r.name === name)
          ?.sql.replace(/^[^(]*/, '')
          .replace(/\s+/g, ' ')
      return {
        partial: indexes.rows.filter((r) => /where "settled" = [01]$/.test(r.sql)).map((r) => r.name),
        bucketed: indexes.rows.flatMap((r) => {
          const scale = /cast\("?\w+"? \* (\d+) as integer\)/.exec(r.sql)?.[1]
          return scale ? [`${r.name} × ${scale}`] : []
        }),
        intent: keys('predictions_intent_newest'),
        newest: keys('predictions_inbox_newest'),
        settled: columns.rows.some((c) => c.name === 'settled'),
      }
    }
    const at0011 = {
      partial: [
        'predictions_inbox_fallback',
        'predictions_inbox_margin',
        'predictions_intent_fallback',
        'predictions_intent_margin',
        'predictions_unsettled',
      ],
      bucketed: [],
      intent: '("intent", "reviewed", "ts", "id")',
      newest: '("reviewed", "ts", "id")',
      settled: true,
    }
    try {
      const migrator = createMigrator(store.db)
      expect((await migrator.migrateTo('0011_settled_tail')).error).toBeUndefined()
      const records = Array.from({ length: 30 }, (_, i) => samplePrediction(i, { text: `parcel number ${i}` }))
      await store.insertPredictions(records)
      // Some rows still waiting to be settled, as a server running 0011 leaves them.
      await sql`update predictions set settled = 0 where id > 'p-00019'`.execute(store.db)
      expect(await state()).toEqual(at0011)
      const at0012 = {
        partial: [],
        bucketed: ['predictions_fallback_bucket × 100', 'predictions_margin_bucket × 100'],
        intent: '(intent, reviewed, ts, id, margin, confidence, fallback, channel, model_version)',
        newest: '(reviewed, ts, id, channel, model_version)',
        settled: false,
      }
      expect((await migrator.migrateTo('0012_bucketed_uncertainty')).error).toBeUndefined()
      expect(await state()).toEqual(at0012)
      // 0014 then makes the buckets coarser, which the queries below read.
      await store.migrate()
      expect(await state()).toEqual({
        ...at0012,
        bucketed: ['predictions_fallback_bucket × 20', 'predictions_margin_bucket × 20'],
      })
      for (const order of ['margin', 'fallback', 'confidence'] as const) {
        const page = await store.queryPredictions({ order, reviewed: false, limit: 100 })
        const byKey = [...records].sort((a, b) =>
          order === 'margin'
            ? a.margin - b.margin || (a.id < b.id ? -1 : 1)
            : (order === 'fallback' ? Number(b.fallback) - Number(a.fallback) : 0) ||
              a.confidence - b.confidence ||
              (a.id < b.id ? -1 : 1),
        )
        expect(page.items.map((r) => r.id)).toEqual(byKey.map((r) => r.id))
      }
      // The column went by rewriting the table: its rowids, which the text index points at, stayed.
      const found = await store.queryPredictions({ search: 'parcel 27', limit: 10 })
      expect(found.items.map((r) => r.id)).toEqual(['p-00027'])
      expect(
        (await sql<{ integrity_check: string }>`pragma integrity_check`.execute(store.db)).rows[0]!.integrity_check,
      ).toBe('ok')
      await store.insertPredictions([samplePrediction(100)])
      expect((await migrator.migrateTo('0011_settled_tail')).error).toBeUndefined()
      expect(await state()).toEqual(at0011)
      const settled = await sql<{ settled: number; n: number }>`select settled, count(*) as n from predictions
        group by settled`.execute(store.db)
      expect(settled.rows).toEqual([{ settled: 1, n: 31 }])
      // The writer follows the schema down: rows go in, settled by the column's default.
      await store.insertPredictions([samplePrediction(101)])
      expect((await migrator.migrateToLatest()).error).toBeUndefined()
      expect((await store.queryPredictions({ order: 'margin', reviewed: false, limit: 100 })).items).toHaveLength(32)
    } finally {
      await store.close()
    }
  })

  it('0012 reports its steps on a large log, and none on a small one', async () => {
    for (const rows of [1000, 100_000]) {
      const store = openSqliteStore({ file: tmpFile() })
      try {
        expect((await createMigrator(store.db).migrateTo('0011_settled_tail')).error).toBeUndefined()
        // Rows made in SQL: a hundred thousand through the store would take the test seconds.
        await sql`with recursive n(i) as (select 0 union all select i + 1 from n where i + 1 < ${rows})
          insert into predictions (id, ts, text, search_text, intent, confidence, margin, fallback, ranking,
            entities, model_name, model_version, latency_ms, channel)
          select printf('r-%06d', i), i, 'x', 'x', 'greet', (i % 97) / 97.0, (i % 89) / 89.0, 0, '[]', '[]', 'bot',
            '1', 1, 'api' from n`.execute(store.db)
        const seen: MigrationProgress[] = []
        const { error } = await createMigrator(store.db, undefined, (p) => seen.push(p)).migrateToLatest()
        expect(error).toBeUndefined()
        const steps = seen.filter((p) => p.task === 'rebuilding the inbox indexes (steps)')
        if (rows < 100_000) {
          expect(steps).toEqual([])
        } else {
          expect(steps.map((p) => `${p.done}/${p.total}`)).toEqual(['0/5', '1/5', '2/5', '3/5', '4/5', '5/5'])
          expect(steps[1]!.note).toBe('predictions_margin_bucket')
        }
        // 0014 rebuilds two of those indexes, and reports them on the same terms.
        const rebuilt = seen.filter((p) => p.task === 'rebuilding the uncertainty indexes (indexes)')
        expect(rebuilt.map((p) => `${p.done}/${p.total} ${p.note ?? ''}`)).toEqual(
          rows < 100_000 ? [] : ['0/2 predictions_margin_bucket', '1/2 predictions_fallback_bucket', '2/2 '],
        )
        const page = await store.queryPredictions({ order: 'margin', reviewed: false, limit: 3 })
        expect(page.items.map((r) => r.margin)).toEqual([0, 0, 0])
      } finally {
        await store.close()
      }
    }
  })

  it("0014 rebuilds SQLite's bucketed indexes in twentieths, keeping every row and order, and the way down restores hundredths", async () => {
    const store = openSqliteStore({ file: tmpFile() })
    const scales = async () =>
      (
        await sql<{ name: string; sql: string }>`select name, sql from sqlite_master
          where type = 'index' and name like 'predictions_%_bucket' order by name`.execute(store.db)
      ).rows.map((r) => `${r.name} × ${/ \* (\d+) as integer/.exec(r.sql)?.[1]}`)
    try {
      await store.migrate()
      expect(await scales()).toEqual(['predictions_fallback_bucket × 20', 'predictions_margin_bucket × 20'])
      // Keys on both sides of twentieths and hundredths, and ties across them.
      const records = Array.from({ length: 60 }, (_, i) =>
        samplePrediction(i, { confidence: [0.049, 0.05, 0.051, 0.5, 0.01, 0.0999][i % 6]!, margin: (i % 7) / 20 }),
      )
      await store.insertPredictions(records)
      const pages = async () => {
        const out: Record<string, string[]> = {}
        for (const order of ['confidence', 'margin', 'fallback'] as const)
          out[order] = await allPages(store, { order, limit: 7, reviewed: false })
        return out
      }
      const before = await pages()
      expect(before.confidence).toEqual(expectedOrder(records, 'confidence'))
      expect(before.margin).toEqual(expectedOrder(records, 'margin'))
      const migrator = createMigrator(store.db)
      expect((await migrator.migrateTo('0013_postgres_buckets')).error).toBeUndefined()
      expect(await scales()).toEqual(['predictions_fallback_bucket × 100', 'predictions_margin_bucket × 100'])
      expect((await migrator.migrateToLatest()).error).toBeUndefined()
      expect(await scales()).toEqual(['predictions_fallback_bucket × 20', 'predictions_margin_bucket × 20'])
      expect(await pages()).toEqual(before)
      expect(
        (await sql<{ integrity_check: string }>`pragma integrity_check`.execute(store.db)).rows[0]!.integrity_check,
      ).toBe('ok')
    } finally {
      await store.close()
    }
  })

  it('reads a page after a cursor from the index: a bucket on for the uncertainty orders, the key itself for newest', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    try {
      await store.migrate()
      // Two messages repeated: long runs of ties in every order, in two buckets of the uncertainty indexes.
      const records = Array.from({ length: 300 }, (_, i) =>
        samplePrediction(i, {
          confidence: i % 3 ? 0.5 : 0.75,
          margin: i % 3 ? 0.25 : 0.5,
          ts: Date.UTC(2026, 0, 1),
          fallback: i % 2 === 0,
        }),
      )
      await store.insertPredictions(records)
      const indexOf: Record<InboxOrder, string> = {
        confidence: 'COVERING INDEX predictions_fallback_bucket',
        margin: 'COVERING INDEX predictions_margin_bucket',
        fallback: 'COVERING INDEX predictions_fallback_bucket',
        newest: 'INDEX predictions_inbox_newest',
      }
      // The cursor's bucket is sought (`<expr>` is the bucket); newest seeks the cursor's own key.
      const seek: Record<InboxOrder, RegExp> = {
        confidence: /\(reviewed=\? AND fallback=\? AND <expr>>\?\)/,
        margin: /\(reviewed=\? AND <expr>>\?\)/,
        fallback: /\(reviewed=\? AND fallback=\? AND <expr>>\?\)/,
        newest: /\(ts,id\)<\(\?,\?\)/,
      }
      for (const order of ['confidence', 'margin', 'fallback', 'newest'] as const) {
        const first = await store.queryPredictions({ order, reviewed: false, limit: 100 })
        const { page, steps } = await planOf(store, { order, reviewed: false, limit: 100, cursor: first.nextCursor! })
        expect(page.items).toHaveLength(100)
        expect(new Set([...first.items, ...page.items].map((r) => r.id)).size).toBe(200)
        // The page's rows are then read by rowid; every other search reads the order's index, and nothing scans.
        const searches = steps.filter((d) => d.startsWith('SEARCH predictions') && !d.includes('(rowid=?)'))
        expect(searches.length, steps.join('\n')).toBeGreaterThanOrEqual(1)
        for (const d of searches) expect(d).toContain(`USING ${indexOf[order]} `)
        expect(
          searches.some((d) => seek[order].test(d)),
          steps.join('\n'),
        ).toBe(true)
        expect(steps.filter((d) => /^SCAN predictions\b/.test(d))).toEqual([])
      }
      // One intent's uncertainty orders read its own index, whatever the other filters, and sort its rows there.
      for (const order of ['confidence', 'margin', 'fallback'] as const) {
        const query = { order, reviewed: false, intent: 'refund', channel: 'rasa', modelVersion: 'v2', from: 0 }
        const { page, steps } = await planOf(store, query)
        expect(page.items.length).toBeGreaterThan(0)
        const searches = steps.filter((d) => d.startsWith('SEARCH predictions') && !d.includes('(rowid=?)'))
        expect(searches.length).toBeGreaterThanOrEqual(1)
        for (const d of searches)
          expect(d).toMatch(/USING COVERING INDEX predictions_intent_newest \(intent=\? AND reviewed=\? AND ts>\?\)/)
      }
    } finally {
      await store.close()
    }
  })

  it("reads each inbox page on PostgreSQL through its order's index, and never scans the log", async () => {
    const schema = `iops_plan_${process.pid}_${randomBytes(4).toString('hex')}`
    const store = openPostgresStore({ url: DATABASE_URL!, schema, poolSize: 2 })
    try {
      await store.migrate()
      // Enough rows that reading the whole log costs the planner more than an index; keys spread over the buckets.
      for (let start = 0; start < 20_000; start += 5000) {
        await store.insertPredictions(
          Array.from({ length: 5000 }, (_, k) => {
            const i = start + k
            const keys = { confidence: ((i * 7919) % 1000) / 1000, margin: ((i * 104729) % 997) / 997 }
            // One intent in a hundred rows: where an intent is rare, only its own index finds its rows fast.
            return samplePrediction(i, i % 100 === 0 ? { ...keys, intent: 'cancel', fallback: false } : keys)
          }),
        )
      }
      await store.optimize()
      const indexOf: Record<InboxOrder, string> = {
        confidence: 'predictions_fallback_bucket',
        margin: 'predictions_margin_bucket',
        fallback: 'predictions_fallback_bucket',
        newest: 'predictions_inbox_newest',
      }
      const check = async (query: PredictionQuery, index: string) => {
        const { page, nodes } = await postgresPlanOf(store, query)
        const plan = `${JSON.stringify(query)}: ${JSON.stringify(nodes)}`
        expect(page.items.length, plan).toBeGreaterThan(0)
        const reads = nodes.filter((n) => n.relation === 'predictions' || n.index !== undefined)
        expect(reads.length, plan).toBeGreaterThan(0)
        for (const n of reads) {
          expect(n.type, plan).not.toBe('Seq Scan')
          // A page's own rows may be fetched by id afterwards; everything else reads the order's index.
          if (n.index !== undefined && n.index !== 'predictions_pkey') expect(n.index, plan).toBe(index)
        }
        expect(
          reads.some((n) => n.index === index),
          plan,
        ).toBe(true)
        return page
      }
      for (const order of ['confidence', 'margin', 'fallback', 'newest'] as const) {
        const first = await check({ order, reviewed: false, limit: 50 }, indexOf[order])
        await check({ order, reviewed: false, limit: 50, cursor: first.nextCursor! }, indexOf[order])
      }
      for (const order of ['confidence', 'margin', 'fallback', 'newest'] as const)
        await check({ order, reviewed: false, intent: 'cancel', limit: 50 }, 'predictions_intent_newest')
    } finally {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db)
      await store.close()
    }
  })

  // Rows logged before 0007 (after 0005, which the insert path needs) hold lower-cased raw text in search_text; the migration rewrites and indexes them.
  const backfill = async (store: KyselyPredictionStore, schema?: string) => {
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(store.db)
    const { error } = await createMigrator(store.db, schema).migrateTo('0005_prediction_rollups')
    expect(error).toBeUndefined()
    const records = Array.from({ length: 1203 }, (_, i) => samplePrediction(i))
    records[7] = samplePrediction(7, { text: 'Où est ma Crème brûlée?', fields: { subject: 'Dessert' } })
    await store.insertPredictions(records)
    await store.db.updateTable('predictions').set({ search_text: sql`lower(text)` }).execute()
    await store.migrate()
    expect((await store.queryPredictions({ search: 'creme brul' })).items.map((p) => p.id)).toEqual(['p-00007'])
    expect((await store.queryPredictions({ search: 'dessert' })).items.map((p) => p.id)).toEqual(['p-00007'])
    expect((await store.queryPredictions({ search: '"number 1202"' })).items.map((p) => p.id)).toEqual(['p-01202'])
    expect(await store.countPredictions({ search: 'message' })).toBe(1202)
  }

  it('backfills the text index of rows logged before it on SQLite', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    try {
      await backfill(store)
    } finally {
      await store.close()
    }
  })

  it('backfills the text index of rows logged before it on PostgreSQL', async () => {
    const schema = `iops_mig_${process.pid}_${randomBytes(4).toString('hex')}`
    const store = openPostgresStore({ url: DATABASE_URL!, schema, poolSize: 2 })
    try {
      await backfill(store, schema)
    } finally {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db)
      await store.close()
    }
  })

  it('0013 buckets the uncertainty indexes on PostgreSQL, keeping every row, and the way down restores them', async () => {
    const schema = `iops_mig_${process.pid}_${randomBytes(4).toString('hex')}`
    const store = openPostgresStore({ url: DATABASE_URL!, schema, poolSize: 2 })
    const state = async () => {
      const indexes = await sql<{ name: string; def: string }>`select indexname as name, indexdef as def
        from pg_indexes where schemaname = ${schema} and tablename = 'predictions' order by indexname`.execute(store.db)
      const options = await sql<{ options: string[] | null }>`select reloptions as options from pg_class
        where oid = ${`${schema}.predictions`}::regclass`.execute(store.db)
      const def = (name: string) => indexes.rows.find((r) => r.name === name)?.def.replace(/^.*USING btree /, '')
      return {
        margin: def('predictions_inbox_margin') ?? def('predictions_margin_bucket'),
        intentMargin: def('predictions_intent_margin'),
        intent: def('predictions_intent_newest'),
        options: options.rows[0]!.options,
      }
    }
    try {
      await store.migrate()
      expect(await state()).toEqual({
        margin: '(reviewed, floor((margin * (100)::double precision)), id, margin, ts, channel, model_version)',
        intentMargin: undefined,
        intent: '(intent, reviewed, ts, id, margin, confidence, fallback, channel, model_version)',
        options: ['autovacuum_vacuum_insert_scale_factor=0.05'],
      })
      const records = Array.from({ length: 40 }, (_, i) => samplePrediction(i))
      await store.insertPredictions(records)
      const ids = async () =>
        (await store.queryPredictions({ order: 'margin', reviewed: false, limit: 100 })).items.map((r) => r.id)
      const before = await ids()
      expect(before).toHaveLength(40)
      const migrator = createMigrator(store.db, schema)
      // 0014 leaves PostgreSQL's hundredths as they were, both ways.
      expect((await migrator.migrateTo('0013_postgres_buckets')).error).toBeUndefined()
      expect((await state()).margin).toBe(
        '(reviewed, floor((margin * (100)::double precision)), id, margin, ts, channel, model_version)',
      )
      expect((await migrator.migrateTo('0012_bucketed_uncertainty')).error).toBeUndefined()
      expect(await state()).toEqual({
        margin: '(reviewed, margin, id)',
        intentMargin: '(intent, reviewed, margin, id)',
        intent: '(intent, reviewed, ts, id)',
        options: null,
      })
      expect((await migrator.migrateToLatest()).error).toBeUndefined()
      expect(await ids()).toEqual(before)
    } finally {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db)
      await store.close()
    }
  })

  it('keeps stores in different schemas of one database apart, migrating side by side', async () => {
    const names = [0, 1, 2, 3].map((i) => `iops_mig_${process.pid}_${i}_${randomBytes(3).toString('hex')}`)
    const stores = names.map((schema) => openPostgresStore({ url: DATABASE_URL!, schema, poolSize: 1 }))
    try {
      await stores[0]!.migrate()
      await Promise.all(stores.map((s) => s.migrate()))
      for (const [i, s] of stores.entries()) await s.insertPredictions([samplePrediction(i)])
      for (const [i, s] of stores.entries())
        expect((await s.queryPredictions({})).items.map((p) => p.id)).toEqual([samplePrediction(i).id])
    } finally {
      for (const schema of names) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(stores[0]!.db)
      await Promise.all(stores.map((s) => s.close()))
    }
  })
})
