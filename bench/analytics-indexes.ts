/**
 * Write cost of the analytics indexes earlier versions created (`predictions_analytics`, `predictions_analytics_intent`):
 * inserts the same kind of batches through the store's `insertPredictions` with and without them, alternating, on
 * SQLite and PostgreSQL, after a base log of `--base` rows so the indexes have depth.
 *
 *   npx tsx bench/analytics-indexes.ts [--base 100000] [--rows 20000] [--rounds 3] [--backends sqlite,postgres]
 *
 * Prints ms per 1000 predictions (median of the rounds) and writes `bench/results/analytics-indexes-<date>.json`.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import { syntheticTraffic } from '../src/monitor/testing.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { openPostgresStore } from '../src/store/postgres.js'
import { openSqliteStore } from '../src/store/sqlite.js'

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '100000' },
    rows: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    backends: { type: 'string', default: 'sqlite,postgres' },
  },
})
const BASE = Number(values.base)
const ROWS = Number(values.rows)
const ROUNDS = Number(values.rounds)
const BATCH = 500
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const INDEXES: Record<string, string[]> = {
  predictions_analytics: ['ts', 'intent', 'channel', 'confidence', 'fallback', 'latency_ms'],
  predictions_analytics_intent: ['intent', 'ts'],
}
const START = Date.UTC(2026, 9, 1)

let next = 0
async function insert(store: KyselyPredictionStore, n: number): Promise<number> {
  const t = performance.now()
  for (let i = 0; i < n; i += BATCH) {
    const records = syntheticTraffic({
      seed: next,
      count: Math.min(BATCH, n - i),
      start: START + next * 1000,
      stepMs: 1000,
    })
    for (const [k, r] of records.entries()) r.id = `w${next + k}`
    next += records.length
    await store.insertPredictions(records)
  }
  return performance.now() - t
}

async function setIndexes(store: KyselyPredictionStore, on: boolean) {
  for (const [name, columns] of Object.entries(INDEXES)) {
    if (on) await store.db.schema.createIndex(name).ifNotExists().on('predictions').columns(columns).execute()
    else await store.db.schema.dropIndex(name).ifExists().execute()
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const results: Array<{ backend: string; withIndexes: number[]; without: number[] }> = []
for (const backend of values.backends.split(',').map((b) => b.trim())) {
  let store: KyselyPredictionStore
  let dispose: () => Promise<void>
  if (backend === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'intentops-bench-idx-'))
    store = openSqliteStore({ file: path.join(dir, 'store.db') })
    dispose = async () => rmSync(dir, { recursive: true, force: true })
  } else {
    const schema = `iops_bench_idx_${process.pid}_${randomBytes(3).toString('hex')}`
    store = openPostgresStore({ url: DATABASE_URL, schema, poolSize: 2 })
    dispose = async () => {
      const admin = openPostgresStore({ url: DATABASE_URL, poolSize: 1 })
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db)
      await admin.close()
    }
  }
  try {
    await store.migrate()
    process.stderr.write(`${backend}: base log of ${BASE}\n`)
    await insert(store, BASE)
    const withIndexes: number[] = []
    const without: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      // alternate which goes first, so a drift of the machine's load does not favour one side
      for (const on of r % 2 ? [false, true] : [true, false]) {
        await setIndexes(store, on)
        const ms = await insert(store, ROWS)
        ;(on ? withIndexes : without).push((ms * 1000) / ROWS)
      }
    }
    results.push({ backend, withIndexes, without })
  } finally {
    await store.close()
    await dispose()
  }
}

console.log(
  `insertPredictions, batches of ${BATCH}, after a base log of ${BASE}; ms per 1000 predictions (median of ${ROUNDS})`,
)
console.log('backend    with analytics indexes  without  ratio')
for (const r of results) {
  const a = median(r.withIndexes)
  const b = median(r.without)
  console.log(
    `${r.backend.padEnd(9)}  ${a.toFixed(1).padStart(22)}  ${b.toFixed(1).padStart(7)}  ${(a / b).toFixed(2).padStart(5)}`,
  )
}
const date = new Date().toISOString().slice(0, 10)
writeFileSync(
  path.join(path.dirname(new URL(import.meta.url).pathname), 'results', `analytics-indexes-${date}.json`),
  `${JSON.stringify({ benchmark: 'analytics-indexes', date: new Date().toISOString(), base: BASE, rows: ROWS, batch: BATCH, node: process.version, results }, null, 2)}\n`,
)
