/**
 * Analytics benchmark: every analytics query over a prediction log of 1M rows, on SQLite and PostgreSQL side by side
 * in one run. Seeds the log through the store's own `insertPredictions` (synthetic traffic over 30 days, a few
 * thousand reviews), then times each query several times. Prints a table and writes
 * bench/results/analytics-<date>.json.
 *
 *   npx tsx bench/analytics.ts [--rows 1000000] [--rounds 3] [--backends sqlite,postgres] [--keep] [--out FILE]
 *
 * PostgreSQL is the DATABASE_URL server (default postgres://postgres@127.0.0.1:5432/test), in a database of its own
 * (`intentops_bench_analytics`, dropped afterwards). With --keep the seeded SQLite file and that database stay and
 * the next run reuses them.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import pg from 'pg'
import { ANALYTICS_KINDS, runAnalytics } from '../src/monitor/analytics.js'
import { ensureAnalyticsIndexes } from '../src/monitor/indexes.js'
import { syntheticTraffic, syntheticTrainingData, type TrafficShift } from '../src/monitor/testing.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { openPostgresStore } from '../src/store/postgres.js'
import { openSqliteStore } from '../src/store/sqlite.js'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    backends: { type: 'string', default: 'sqlite,postgres' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})
const ROWS = Number(values.rows)
const ROUNDS = Number(values.rounds)
const DAY = 86_400_000
const END = Date.UTC(2026, 10, 22)
const START = END - 30 * DAY
const CHUNK = 5000
const REVIEWS = 5000
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const training = syntheticTrainingData(1)

function log(line: string) {
  process.stderr.write(`${line}\n`)
}

async function count(store: KyselyPredictionStore): Promise<number> {
  const row = await store.db
    .selectFrom('predictions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** 30 days of traffic; the last 3 days drift (half about unknown topics), so emerging n-grams have something to find. */
async function seed(store: KyselyPredictionStore, label: string): Promise<number> {
  const started = performance.now()
  const step = (END - START) / ROWS
  for (let i = 0; i < ROWS; i += CHUNK) {
    const n = Math.min(CHUNK, ROWS - i)
    const start = START + Math.floor(i * step)
    const shift: TrafficShift = start > END - 3 * DAY ? 'vocabulary' : 'none'
    const records = syntheticTraffic({ seed: 1000 + i / CHUNK, count: n, start, stepMs: step, shift })
    for (const [k, r] of records.entries()) r.id = `b${i + k}`
    await store.insertPredictions(records)
    if ((i / CHUNK) % 20 === 0) log(`  ${label}: seeded ${i + n} / ${ROWS}`)
  }
  // Reviews on every (ROWS / REVIEWS)-th prediction: a third relabelled.
  const every = Math.max(1, Math.floor(ROWS / REVIEWS))
  for (let k = 0; k < REVIEWS && k * every < ROWS; k++) {
    const relabel = k % 3 === 0
    await store.addReview({
      id: `r${k}`,
      predictionId: `b${k * every}`,
      action: relabel ? 'relabel' : 'confirm',
      ...(relabel ? { intent: 'order_food' } : {}),
      previousIntent: '',
      reviewer: 'bench',
      ts: END,
    })
  }
  return (performance.now() - started) / 1000
}

const BENCH_DB = 'intentops_bench_analytics'

/** The URL of the benchmark's own database on the DATABASE_URL server, created when missing. */
async function benchDatabase(url: string): Promise<string> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [BENCH_DB])
    if (exists.rowCount === 0) await admin.query(`create database ${BENCH_DB}`)
  } finally {
    await admin.end()
  }
  const u = new URL(url)
  u.pathname = `/${BENCH_DB}`
  return u.toString()
}

interface Timing {
  backend: string
  query: string
  rows: number
  minMs: number
  medianMs: number
  roundsMs: number[]
}

const QUERIES: Array<{
  /** The query's key in results files, stable across runs of any size. */
  name: string
  /** What the printed table calls it, when the key does not say it right. */
  label?: string
  what: string
  query: Record<string, unknown>
  maxMessages?: number
  lowConfidence?: number
}> = [
  ...ANALYTICS_KINDS.map((what) => ({ name: what, what, query: {} })),
  { name: 'intents (hourly)', what: 'intents', query: { bucket: 'hour' } },
  { name: 'rates (one intent)', what: 'rates', query: { intent: 'track_order' } },
  // Edges off the hour: the partial first and last hours are read raw, the rest from the rollups.
  { name: 'intents (edges off the hour)', what: 'intents', query: { from: START + 1_234_567, to: END - 987_654 } },
  // A threshold off the rollups' 0.05 grid: the bins below from the rollups, its own bin's band from raw rows.
  { name: 'rates (threshold 0.37, raw rows)', what: 'rates', query: {}, lowConfidence: 0.37 },
  // The synthetic confidences leave 0.35–0.75 empty; 0.87's band (0.85 ≤ c < 0.87) holds about a tenth of the rows.
  { name: 'rates (threshold 0.87, raw band)', what: 'rates', query: {}, lowConfidence: 0.87 },
  {
    name: 'ngrams (all 1M texts)',
    label: `ngrams (all ${ROWS.toLocaleString('en')} texts)`,
    what: 'ngrams',
    query: {},
    maxMessages: ROWS,
  },
]

async function measure(backend: string, store: KyselyPredictionStore): Promise<Timing[]> {
  const out: Timing[] = []
  for (const q of QUERIES) {
    const rounds: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now()
      await runAnalytics(
        store,
        q.what,
        { from: START, to: END, ...q.query },
        {
          lowConfidence: q.lowConfidence ?? 0.5,
          loadTraining: async () => training,
          now: END,
          ...(q.maxMessages ? { maxMessages: q.maxMessages } : {}),
        },
      )
      rounds.push(performance.now() - t)
    }
    const sorted = [...rounds].sort((a, b) => a - b)
    out.push({
      backend,
      query: q.name,
      rows: ROWS,
      minMs: sorted[0]!,
      medianMs: sorted[Math.floor(sorted.length / 2)]!,
      roundsMs: rounds.map((x) => Math.round(x * 10) / 10),
    })
    log(`  ${backend} ${q.label ?? q.name}: ${sorted[0]!.toFixed(0)} ms`)
  }
  return out
}

async function withBackend(
  backend: string,
): Promise<{ timings: Timing[]; seedSeconds: number | null; indexSeconds: number; reused: boolean } | undefined> {
  let store: KyselyPredictionStore
  let drop: () => Promise<void>
  if (backend === 'sqlite') {
    const dir = path.join(tmpdir(), 'intentops-bench-analytics')
    mkdirSync(dir, { recursive: true })
    const file = path.join(dir, `sqlite-${ROWS}.db`)
    if (!values.keep) for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) rmSync(f)
    store = openSqliteStore({ file })
    drop = async () => {
      if (!values.keep) for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
    }
  } else {
    // A database of its own, not a schema in the shared one: the store's migrator looks for its bookkeeping tables in
    // every schema of a database, so a long-lived bench schema would confuse other test runs there.
    const url = await benchDatabase(DATABASE_URL)
    store = openPostgresStore({ url, poolSize: 4 })
    drop = async () => {
      if (values.keep) return
      const admin = new pg.Client({ connectionString: DATABASE_URL })
      await admin.connect()
      await admin.query(`drop database if exists ${BENCH_DB}`)
      await admin.end()
    }
  }
  try {
    await store.migrate()
    const existing = await count(store)
    let seedSeconds: number | null = null
    const reused = existing === ROWS
    if (!reused) {
      if (existing > 0) throw new Error(`${backend} holds ${existing} rows, not ${ROWS}; drop it or run without --keep`)
      log(`${backend}: seeding ${ROWS} predictions`)
      seedSeconds = await seed(store, backend)
    }
    const t = performance.now()
    await ensureAnalyticsIndexes(store)
    // Steady state of a live log: fresh planner statistics (the store's `optimize`) and, on PostgreSQL, the
    // visibility map autovacuum keeps, without which index-only scans still visit the table.
    if (backend === 'postgres') await sql`vacuum (analyze) predictions`.execute(store.db)
    else await store.optimize()
    const indexSeconds = (performance.now() - t) / 1000
    log(`${backend}: retired analytics indexes dropped, statistics refreshed in ${indexSeconds.toFixed(1)} s`)
    log(`${backend}: timing ${QUERIES.length} queries × ${ROUNDS} rounds`)
    return { timings: await measure(backend, store), seedSeconds, indexSeconds, reused }
  } finally {
    await store.close()
    await drop()
  }
}

const results: Timing[] = []
const seeding: Record<string, { seconds: number | null; indexSeconds: number; reused: boolean }> = {}
for (const backend of values.backends.split(',')) {
  const r = await withBackend(backend.trim())
  if (!r) continue
  results.push(...r.timings)
  seeding[backend] = {
    seconds: r.seedSeconds === null ? null : Math.round(r.seedSeconds),
    indexSeconds: Math.round(r.indexSeconds * 10) / 10,
    reused: r.reused,
  }
}

const backends = [...new Set(results.map((r) => r.backend))]
const header = ['query', ...backends.map((b) => `${b} ms (min of ${ROUNDS})`)]
const rows = QUERIES.map((q) => [
  q.label ?? q.name,
  ...backends.map((b) => {
    const t = results.find((r) => r.backend === b && r.query === q.name)
    return t ? t.minMs.toFixed(0) : '-'
  }),
])
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
console.log(`analytics over ${ROWS} predictions (30 days), ${REVIEWS} reviews; target < 1000 ms`)
console.log(line(header))
for (const r of rows) console.log(line(r))

const date = new Date().toISOString().slice(0, 10)
const out = values.out
  ? path.resolve(values.out)
  : path.join(path.dirname(new URL(import.meta.url).pathname), 'results', `analytics-${date}.json`)
mkdirSync(path.dirname(out), { recursive: true })
// Written beside and renamed, so an interrupted run never leaves half a file.
writeFileSync(
  `${out}.tmp`,
  `${JSON.stringify(
    {
      benchmark: 'analytics',
      date: new Date().toISOString(),
      rows: ROWS,
      reviews: REVIEWS,
      rounds: ROUNDS,
      node: process.version,
      seeding,
      results: results.map((r) => ({
        ...r,
        minMs: Math.round(r.minMs * 10) / 10,
        medianMs: Math.round(r.medianMs * 10) / 10,
      })),
    },
    null,
    2,
  )}\n`,
)
renameSync(`${out}.tmp`, out)
console.log(`wrote ${path.relative(process.cwd(), out)}`)
