/**
 * Store benchmark: load N synthetic predictions (default 1M) into SQLite and PostgreSQL side by side, then time the
 * first review-inbox page for every order (with and without filters), the next page by cursor, the page halfway
 * through a run of ties (every tenth message is the same greeting), and a few aggregate
 * queries. Target (issue 7): the first inbox page of 1M rows in under 200 ms on both backends. Prints a table and
 * writes bench/results/store-<date>.json.
 *
 *   npx tsx bench/store.ts [--rows 1000000] [--backends sqlite,postgres] [--batch 5000] [--repeat 5]
 *
 * PostgreSQL comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), in a schema of its own that
 * is dropped afterwards.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import type { CliIO } from '../src/cli/io.js'
import { createProgress } from '../src/cli/progress.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { PredictionLogQueue } from '../src/store/log-queue.js'
import { type LogWriter, SqliteWorkerWriter, WorkerLogWriter } from '../src/store/log-writer.js'
import { openPostgresStore } from '../src/store/postgres.js'
import { createRedactor, DEFAULT_REDACTION_RULES } from '../src/store/redact.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import type { InboxOrder, PredictionQuery, PredictionRecord } from '../src/store/types.js'
import { cpuUs } from './lib/proc.js'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    backends: { type: 'string', default: 'sqlite,postgres' },
    batch: { type: 'string', default: '5000' },
    repeat: { type: 'string', default: '5' },
    out: { type: 'string' },
    'queue-records': { type: 'string' },
  },
})
const ROWS = Number(values.rows)
const BATCH = Number(values.batch)
const REPEAT = Number(values.repeat)
const BACKENDS = values.backends.split(',').map((b) => b.trim())
const QUEUE_RECORDS = Number(values['queue-records'] ?? Math.min(100_000, Math.max(10_000, Math.floor(ROWS / 10))))
const TARGET_MS = 200
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const io: CliIO = {
  cwd: process.cwd(),
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
}

// ── synthetic traffic ──
const INTENTS = Array.from({ length: 30 }, (_, i) => `intent_${String(i).padStart(2, '0')}`)
const WORDS =
  'refund order card flight hotel cancel booking password reset account charge twice delivery late broken help please where when how my the a to for with on at today tomorrow invoice address change email'.split(
    ' ',
  )
const CHANNELS = ['api', 'rasa', 'triage', 'ui']
const VERSIONS = ['1', '2', '3']
const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)

/** A small, fast PRNG so every run loads the same data. */
function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function synthetic(i: number, rand: () => number): PredictionRecord {
  // Zipf-like intent popularity: a few intents carry most traffic, as in real bots.
  const intent = INTENTS[Math.min(INTENTS.length - 1, Math.floor(INTENTS.length * rand() ** 2))]!
  const confidence = Math.min(1, Math.max(0, 1 - rand() ** 3 * 0.9))
  const second = confidence * rand()
  const fallback = confidence < 0.3
  const n = 4 + Math.floor(rand() * 10)
  const words: string[] = []
  for (let w = 0; w < n; w++) words.push(WORDS[Math.floor(rand() * WORDS.length)]!)
  const record: PredictionRecord = {
    id: `bench-${i.toString(36).padStart(6, '0')}`,
    ts: T0 + Math.floor((i / ROWS) * 90 * DAY),
    messageId: `m${i}`,
    text: words.join(' '),
    intent: fallback ? 'nlu_fallback' : intent,
    confidence,
    margin: confidence - second,
    fallback,
    ranking: [
      { name: intent, confidence },
      { name: INTENTS[(INTENTS.indexOf(intent) + 1) % INTENTS.length]!, confidence: second },
    ],
    entities: [],
    modelName: 'bench-bot',
    modelVersion: VERSIONS[Math.min(2, Math.floor((i / ROWS) * 3))]!,
    latencyMs: 0.5 + rand() * 3,
    channel: CHANNELS[Math.floor(rand() * CHANNELS.length)]!,
  }
  // Every tenth message is the same greeting, as bots see: one long run of ties in every order of its intent.
  if (i % 10 !== 5) return record
  const ranking = [
    { name: 'greet', confidence: 0.93 },
    { name: 'intent_00', confidence: 0.12 },
  ]
  return { ...record, text: 'hi there', intent: 'greet', confidence: 0.93, margin: 0.81, fallback: false, ranking }
}

// ── measurements ──
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const r1 = (x: number) => Math.round(x * 10) / 10

async function time(fn: () => Promise<unknown>): Promise<{ first: number; median: number }> {
  const runs: number[] = []
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now()
    await fn()
    runs.push(performance.now() - t)
  }
  return { first: r1(runs[0]!), median: r1(median(runs)) }
}

interface BackendResult {
  backend: string
  rows: number
  insert: { seconds: number; rowsPerSecond: number }
  reviews: { count: number; seconds: number }
  optimizeSeconds: number
  inbox: Array<{ query: string; first: number; median: number; items: number; underTarget: boolean }>
  aggregates: Array<{ query: string; first: number; median: number }>
}

async function run(backend: string): Promise<BackendResult> {
  let store: KyselyPredictionStore
  let cleanup: () => Promise<void>
  if (backend === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'intentops-bench-store-'))
    store = openSqliteStore({ file: path.join(dir, 'store.db') })
    cleanup = async () => rmSync(dir, { recursive: true, force: true })
  } else if (backend === 'postgres') {
    const schema = `iops_bench_${randomBytes(4).toString('hex')}`
    store = openPostgresStore({ url: DATABASE_URL, schema, poolSize: 4 })
    cleanup = async () => {
      const admin = openPostgresStore({ url: DATABASE_URL, poolSize: 1 })
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db)
      await admin.close()
    }
  } else {
    throw new Error(`unknown backend ${backend}; use sqlite or postgres`)
  }
  try {
    await store.migrate()
    const rand = rng(42)
    const bar = createProgress(io, `${backend}: inserting`, ROWS)
    const t0 = performance.now()
    const insertRange = async (from: number, to: number) => {
      for (let i = from; i < to; i += BATCH) {
        const batch: PredictionRecord[] = []
        for (let j = i; j < Math.min(to, i + BATCH); j++) batch.push(synthetic(j, rand))
        await store.insertPredictions(batch)
        bar.update(Math.min(to, i + BATCH), ROWS)
      }
    }
    await insertRange(0, ROWS)
    bar.stop()
    const insertSeconds = (performance.now() - t0) / 1000

    // Some of the log is already reviewed, as in a running deployment.
    const reviewCount = Math.min(2000, Math.floor(ROWS / 100))
    const tr = performance.now()
    for (let k = 0; k < reviewCount; k++) {
      const i = Math.floor((k * ROWS) / reviewCount)
      await store.addReview({
        id: `rev-${k}`,
        predictionId: `bench-${i.toString(36).padStart(6, '0')}`,
        action: k % 3 ? 'confirm' : 'relabel',
        ...(k % 3 ? {} : { intent: 'intent_00' }),
        previousIntent: 'intent_01',
        reviewer: 'bench',
        ts: T0 + 91 * DAY + k,
      })
    }
    const reviewSeconds = (performance.now() - tr) / 1000
    const to = performance.now()
    await store.optimize()
    const optimizeSeconds = (performance.now() - to) / 1000
    process.stderr.write(`${backend}: loaded, timing queries\n`)

    const inbox: BackendResult['inbox'] = []
    const page = async (label: string, q: PredictionQuery) => {
      let items = 0
      const t = await time(async () => {
        items = (await store.queryPredictions({ limit: 50, ...q })).items.length
      })
      inbox.push({ query: label, ...t, items, underTarget: t.median < TARGET_MS })
    }
    const mid = T0 + 45 * DAY
    for (const order of ['confidence', 'margin', 'fallback', 'newest'] as InboxOrder[]) {
      await page(`${order}`, { reviewed: false, order })
      await page(`${order} + intent`, { reviewed: false, order, intent: 'intent_07' })
      await page(`${order} + channel + version`, { reviewed: false, order, channel: 'ui', modelVersion: '2' })
      await page(`${order} + last 24 h`, { reviewed: false, order, from: mid, to: mid + DAY })
      // The worst case of a filter: nothing matches, so the page reads every unreviewed row the order's index holds.
      await page(`${order} + a channel no row has`, { reviewed: false, order, channel: 'nowhere' })
      const first = await store.queryPredictions({ reviewed: false, order, limit: 50 })
      await page(`${order}, page 2 (cursor)`, { reviewed: false, order, cursor: first.nextCursor! })
    }
    // Halfway through the greeting's run of ties (a tenth of the log), by cursor: a page must seek there, not walk
    // the run from its start.
    for (const order of ['confidence', 'margin', 'fallback'] as InboxOrder[]) {
      const q: PredictionQuery = { reviewed: false, order, intent: 'greet' }
      let cursor: string | undefined
      for (let seen = 0; seen < ROWS / 20; seen += 1000) {
        cursor = (await store.queryPredictions({ ...q, limit: 1000, ...(cursor ? { cursor } : {}) })).nextCursor
      }
      await page(`${order} + intent, halfway through a run of ties (cursor)`, { ...q, cursor: cursor! })
    }
    await page('newest + text search', { reviewed: false, order: 'newest', search: 'refund twice' })

    const aggregates: BackendResult['aggregates'] = []
    const agg = async (label: string, fn: () => Promise<unknown>) =>
      aggregates.push({ query: label, ...(await time(fn)) })
    await agg('count unreviewed', () => store.countPredictions({ reviewed: false }))
    await agg('count by intent', () =>
      store.db
        .selectFrom('predictions')
        .select(['intent', (eb) => eb.fn.countAll().as('n')])
        .groupBy('intent')
        .execute(),
    )
    await agg('fallback rate by day', () =>
      store.db
        .selectFrom('predictions')
        .select([
          sql<number>`(ts / ${sql.lit(DAY)})`.as('day'),
          (eb) => eb.fn.avg<number>('fallback').as('rate'),
          (eb) => eb.fn.countAll().as('n'),
        ])
        .groupBy(sql`(ts / ${sql.lit(DAY)})`)
        .execute(),
    )
    await agg('stats()', () => store.stats())

    return {
      backend,
      rows: ROWS,
      insert: { seconds: r1(insertSeconds), rowsPerSecond: Math.round(ROWS / insertSeconds) },
      reviews: { count: reviewCount, seconds: r1(reviewSeconds) },
      optimizeSeconds: r1(optimizeSeconds),
      inbox,
      aggregates,
    }
  } finally {
    await store.close()
    await cleanup()
  }
}

interface QueueResult {
  writer: string
  records: number
  seconds: number
  recordsPerSecond: number
  loopDelayP99Ms: number
  loopDelayMaxMs: number
  /** CPU of the main thread (the event loop) per record, µs, making the records included (the same for every writer). */
  loopCpuUsPerRecord: number
  dropped: number
}

/** CPU of this process's main thread so far, µs (Linux: the thread whose id is the process id). */
const mainThreadCpuUs = () => cpuUs('self', process.pid)

/**
 * The log queue as the server drives it: records pushed from the event loop at full speed while the loop's delay is
 * sampled. A writer that runs on the loop's own thread (better-sqlite3 is synchronous) shows up as delay.
 */
async function queueRun(label: string, open: () => Promise<{ writer: LogWriter; close: () => Promise<void> }>) {
  const { writer, close } = await open()
  // Warm up (the writer thread starts, connections open) before the clock runs.
  await writer.insertPredictions([{ ...synthetic(0, rng(1)), id: 'q-warm-up' }])
  const rand = rng(7)
  // The queue's own batch size and interval (the config defaults); only its bound is raised, so that the measure is the
  // writer's speed rather than how much a full queue drops.
  const queue = new PredictionLogQueue({ store: writer, maxSize: 1_000_000 })
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  const loop0 = mainThreadCpuUs()
  const t0 = performance.now()
  for (let i = 0; i < QUEUE_RECORDS; i += 200) {
    for (let j = i; j < Math.min(QUEUE_RECORDS, i + 200); j++) queue.push({ ...synthetic(j, rand), id: `q-${j}` })
    // A server handles requests between pushes; yield like one would.
    await new Promise((r) => setImmediate(r))
  }
  await queue.close()
  const seconds = (performance.now() - t0) / 1000
  const loopUs = mainThreadCpuUs() - loop0
  h.disable()
  await writer.close()
  await close()
  return {
    writer: label,
    records: QUEUE_RECORDS,
    seconds: r1(seconds),
    recordsPerSecond: Math.round(QUEUE_RECORDS / seconds),
    loopDelayP99Ms: r1(h.percentile(99) / 1e6),
    loopDelayMaxMs: r1(h.max / 1e6),
    loopCpuUsPerRecord: r1(loopUs / QUEUE_RECORDS),
    dropped: queue.dropped,
  } satisfies QueueResult
}

const queueResults: QueueResult[] = []
for (const b of QUEUE_RECORDS > 0 ? BACKENDS : []) {
  if (b === 'sqlite') {
    for (const mode of ['same thread', 'writer thread'] as const) {
      queueResults.push(
        await queueRun(`sqlite, ${mode}`, async () => {
          const dir = mkdtempSync(path.join(tmpdir(), 'intentops-bench-queue-'))
          const file = path.join(dir, 'store.db')
          const store = openSqliteStore({ file, redact: createRedactor(DEFAULT_REDACTION_RULES) })
          await store.migrate()
          const writer: LogWriter =
            mode === 'writer thread'
              ? new SqliteWorkerWriter({ file, redaction: DEFAULT_REDACTION_RULES })
              : { insertPredictions: (r) => store.insertPredictions(r), close: async () => {} }
          return {
            writer,
            close: async () => {
              if ((await store.countPredictions()) !== QUEUE_RECORDS + 1) throw new Error('log queue lost records')
              await store.close()
              rmSync(dir, { recursive: true, force: true })
            },
          }
        }),
      )
    }
  } else {
    for (const mode of ['same thread', 'writer thread'] as const) {
      queueResults.push(
        await queueRun(`postgres, ${mode}`, async () => {
          const schema = `iops_bench_q_${randomBytes(4).toString('hex')}`
          const store = openPostgresStore({
            url: DATABASE_URL,
            schema,
            poolSize: 4,
            redact: createRedactor(DEFAULT_REDACTION_RULES),
          })
          await store.migrate()
          const writer: LogWriter =
            mode === 'writer thread'
              ? new WorkerLogWriter({
                  target: { backend: 'postgres', url: DATABASE_URL, schema, poolSize: 2 },
                  redaction: DEFAULT_REDACTION_RULES,
                })
              : { insertPredictions: (r) => store.insertPredictions(r), close: async () => {} }
          return {
            writer,
            close: async () => {
              if ((await store.countPredictions()) !== QUEUE_RECORDS + 1) throw new Error('log queue lost records')
              await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db)
              await store.close()
            },
          }
        }),
      )
    }
  }
  process.stderr.write(`log queue: ${queueResults.at(-1)!.writer} done\n`)
}

const results: BackendResult[] = []
for (const b of BACKENDS) results.push(await run(b))

// ── report ──
const pad = (s: string | number, n: number) => String(s).padEnd(n)
const lpad = (s: string | number, n: number) => String(s).padStart(n)
const lines: string[] = []
lines.push(`store benchmark: ${ROWS.toLocaleString('en')} predictions, ${REPEAT} runs per query (ms: first / median)`)
lines.push('')
lines.push(`${pad('load', 34)}${results.map((r) => lpad(r.backend, 22)).join('')}`)
lines.push(
  `${pad('insert rows/s', 34)}${results.map((r) => lpad(r.insert.rowsPerSecond.toLocaleString('en'), 22)).join('')}`,
)
lines.push(`${pad('insert seconds', 34)}${results.map((r) => lpad(r.insert.seconds, 22)).join('')}`)
lines.push(
  `${pad('reviews (addReview) seconds', 34)}${results.map((r) => lpad(`${r.reviews.count} in ${r.reviews.seconds}`, 22)).join('')}`,
)
lines.push('')
lines.push(
  `${pad(`inbox first page (target < ${TARGET_MS} ms)`, 34)}${results.map((r) => lpad(r.backend, 22)).join('')}`,
)
for (const [i, q] of results[0]!.inbox.entries()) {
  const cells = results.map((r) => {
    const x = r.inbox[i]!
    return lpad(`${x.first} / ${x.median}${x.underTarget ? '' : ' !'}`, 22)
  })
  lines.push(`${pad(q.query, 34)}${cells.join('')}`)
}
lines.push('')
lines.push(`${pad('aggregates', 34)}${results.map((r) => lpad(r.backend, 22)).join('')}`)
for (const [i, q] of results[0]!.aggregates.entries()) {
  lines.push(
    `${pad(q.query, 34)}${results.map((r) => lpad(`${r.aggregates[i]!.first} / ${r.aggregates[i]!.median}`, 22)).join('')}`,
  )
}
if (queueResults.length > 0) {
  lines.push('')
  lines.push(`log queue: ${QUEUE_RECORDS.toLocaleString('en')} records pushed from the event loop, redaction on`)
  lines.push(
    `${pad('writer', 34)}${lpad('records/s', 12)}${lpad('loop p99 ms', 14)}${lpad('loop max ms', 14)}${lpad('loop CPU µs/rec', 17)}${lpad('dropped', 10)}`,
  )
}
for (const q of queueResults) {
  lines.push(
    `${pad(q.writer, 34)}${lpad(q.recordsPerSecond.toLocaleString('en'), 12)}${lpad(q.loopDelayP99Ms, 14)}${lpad(q.loopDelayMaxMs, 14)}${lpad(q.loopCpuUsPerRecord, 17)}${lpad(q.dropped, 10)}`,
  )
}
const allUnder = results.every((r) => r.inbox.filter((q) => !q.query.includes('search')).every((q) => q.underTarget))
lines.push('')
lines.push(
  `inbox target (< ${TARGET_MS} ms median, every order and filter, text search excluded): ${allUnder ? 'met' : 'MISSED'} on ${results.map((r) => r.backend).join(' and ')}`,
)
process.stdout.write(`${lines.join('\n')}\n`)

const date = new Date().toISOString().slice(0, 10)
const outFile = values.out ?? path.join(import.meta.dirname, 'results', `store-${date}.json`)
mkdirSync(path.dirname(outFile), { recursive: true })
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      benchmark: 'store',
      date: new Date().toISOString(),
      rows: ROWS,
      batch: BATCH,
      repeat: REPEAT,
      targetMs: TARGET_MS,
      targetMet: allUnder,
      node: process.version,
      results,
      logQueue: queueResults,
    },
    null,
    2,
  )}\n`,
)
process.stdout.write(`wrote ${path.relative(process.cwd(), outFile)}\n`)
