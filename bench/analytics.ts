/**
 * Analytics benchmark: every analytics query over a prediction log of 1M rows, on SQLite and PostgreSQL side by side
 * in one run. Seeds the log through the store's own `insertPredictions` (synthetic traffic over 30 days, a few
 * thousand reviews), then times each query several times. Prints a table and writes
 * bench/results/analytics-<date>.json.
 *
 *   npx tsx bench/analytics.ts [--rows 1000000] [--rounds 3] [--backends sqlite,postgres] [--keep]
 *
 * PostgreSQL comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). With --keep the seeded SQLite
 * file and PostgreSQL schema stay (named after the row count) and the next run reuses them.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
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

interface Timing {
  backend: string
  query: string
  rows: number
  minMs: number
  medianMs: number
  roundsMs: number[]
}

const QUERIES: Array<{ name: string; what: string; query: Record<string, unknown>; maxMessages?: number }> = [
  ...ANALYTICS_KINDS.map((what) => ({ name: what, what, query: {} })),
  { name: 'intents (hourly)', what: 'intents', query: { bucket: 'hour' } },
  { name: 'rates (one intent)', what: 'rates', query: { intent: 'track_order' } },
  { name: 'ngrams (all 1M texts)', what: 'ngrams', query: {}, maxMessages: ROWS },
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
          lowConfidence: 0.5,
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
    log(`  ${backend} ${q.name}: ${sorted[0]!.toFixed(0)} ms`)
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
    const schema = values.keep ? `iops_bench_analytics_${ROWS}` : `iops_bench_analytics_${process.pid}`
    store = openPostgresStore({ url: DATABASE_URL, schema, poolSize: 4 })
    drop = async () => {
      if (values.keep) return
      const admin = openPostgresStore({ url: DATABASE_URL, poolSize: 1 })
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db)
      await admin.close()
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
      if (backend === 'postgres') await sql`analyze`.execute(store.db)
    }
    const t = performance.now()
    await ensureAnalyticsIndexes(store)
    const indexSeconds = (performance.now() - t) / 1000
    log(`${backend}: analytics index ready in ${indexSeconds.toFixed(1)} s`)
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
  q.name,
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
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'results', `analytics-${date}.json`)
writeFileSync(
  out,
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
console.log(`wrote ${path.relative(process.cwd(), out)}`)
