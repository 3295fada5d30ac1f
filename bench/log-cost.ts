/**
 * Per-record CPU cost of the SQLite prediction log, split by where it is spent. Loads `--existing` rows, then writes
 * `--records` more (a) in-process through `insertPredictions` (the writer thread's work, on this thread), (b) through
 * the server's path, PredictionLogQueue + the writer thread, reading each thread's CPU from /proc, then in-process
 * again (c) in batches of 1000, (d) with the text index filled by an insert trigger (as before migration 0009),
 * (e) without the text index, to price it, (f) with the four uncertainty indexes keyed on the uncertainty itself (as
 * before migrations 0011 and 0012), in batches of `--batch` and of 1000, (h) without the bucketed indexes and the
 * intent index's extra columns, to price them, (i) in 4 KiB pages, SQLite's default, against the store's 16 KiB, the
 * same batches to each in turn over several checkpoints, and (j) with the bucketed indexes in twentieths, as shipped,
 * against hundredths (before migration 0014), in turn as (i), in batches of `--batch` and of 500; each on its own copy
 * of the loaded log with the same new records. Also times handing a batch to a thread: structured clone, and the
 * text the queue hands over (copied into a fresh or a recycled buffer, parsed whole or in 64 KiB chunks). Prints µs of
 * CPU per record and writes bench/results/log-cost-<date>.json.
 *
 * `--texts FILE` (JSONL, `{"text": ...}` a line, as ../shared/datasets/clinc150/train.jsonl) logs those messages in
 * turn instead of sentences drawn from 40 words. Confidences and margins are drawn the same way either way.
 *
 *   npx tsx bench/log-cost.ts [--existing 200000] [--records 50000] [--batch 5000] [--texts FILE]
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { sql } from 'kysely'
import { JsonBacklog, parseJsonLines } from '../src/store/json-backlog.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { PredictionLogQueue } from '../src/store/log-queue.js'
import { SqliteWorkerWriter } from '../src/store/log-writer.js'
import { createRedactor, DEFAULT_REDACTION_RULES } from '../src/store/redact.js'
import { createMigrator, FALLBACK_BUCKET_INDEX, INTENT_INDEX, MARGIN_BUCKET_INDEX } from '../src/store/schema.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import type { PredictionRecord } from '../src/store/types.js'
import { readTexts } from './lib/dataset.js'
import { cpuUs as procCpuUs } from './lib/proc.js'

const { values } = parseArgs({
  options: {
    existing: { type: 'string', default: '200000' },
    records: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '5000' },
    texts: { type: 'string' },
    out: { type: 'string' },
  },
})
const EXISTING = Number(values.existing)
const RECORDS = Number(values.records)
const BATCH = Number(values.batch)
/** Batches of the page-size comparison (i), after its warm-up batches. */
const PAGE_BATCHES = 24
const PAGE_WARM_BATCHES = 4
/** Batches whose WAL is weighed after the timed ones of (i) and (j). */
const WAL_BATCHES = 5
const TEXTS = values.texts ? await readTexts(values.texts) : undefined

const INTENTS = Array.from({ length: 30 }, (_, i) => `intent_${String(i).padStart(2, '0')}`)
const WORDS =
  'refund order card flight hotel cancel booking password reset account charge twice delivery late broken help please where when how my the a to for with on at today tomorrow invoice address change email'.split(
    ' ',
  )
const CHANNELS = ['api', 'rasa', 'triage', 'ui']
const T0 = Date.UTC(2026, 0, 1)
let seed = 12345
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Shaped like the server's records (toRecord in src/serve/predict.ts): time-ordered ids, top-3 ranking, a sender. */
function record(i: number): PredictionRecord {
  const intent = INTENTS[Math.floor(INTENTS.length * rand() ** 2)]!
  const confidence = 1 - rand() ** 3 * 0.9
  const words: string[] = []
  for (let w = 4 + Math.floor(rand() * 10); w > 0; w--) words.push(WORDS[Math.floor(rand() * WORDS.length)]!)
  const ts = T0 + i * 50
  const text = TEXTS ? TEXTS[i % TEXTS.length]! : `${words.join(' ')} mail me at user${i % 97}@example.com`
  return {
    id: `${ts.toString(16).padStart(12, '0')}-7000-8000-${i.toString(16).padStart(12, '0')}`,
    ts,
    senderId: `user-${i % 1000}`,
    text,
    intent,
    confidence,
    margin: confidence / 2,
    fallback: false,
    ranking: [
      { name: intent, confidence },
      { name: INTENTS[(i + 1) % 30]!, confidence: confidence / 3 },
      { name: INTENTS[(i + 2) % 30]!, confidence: confidence / 5 },
    ],
    entities: [
      {
        entity: 'thing',
        value: words[0]!,
        start: 0,
        end: words[0]!.length,
        extractor: 'regex_entities',
        confidence_entity: 1,
      },
    ],
    modelName: 'bench-bot',
    modelVersion: '3',
    latencyMs: 0.2 + rand(),
    channel: CHANNELS[i % CHANNELS.length]!,
  }
}

/** CPU seconds of each thread of this process, by thread id. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(tid, procCpuUs('self', tid) / 1e6)
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out
}

const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}
const r1 = (x: number) => Math.round(x * 10) / 10
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const root = mkdtempSync(path.join(tmpdir(), 'intentops-logcost-'))
const base = path.join(root, 'base.sqlite')
const redact = createRedactor(DEFAULT_REDACTION_RULES)
const senderKey = 'bench-sender-key-0123456789abcdef'
const results: Record<string, number> = {}
const copies: KyselyPredictionStore[] = []
/** A store on a fresh copy of the loaded log, with `setup` run on it: every variant starts from the same rows. */
async function copyOf(name: string, setup?: (db: KyselyPredictionStore['db']) => Promise<void>, from = base) {
  const file = path.join(root, `${name}.sqlite`)
  copyFileSync(from, file)
  const s = openSqliteStore({ file, redact, senderKey })
  copies.push(s)
  await setup?.(s.db)
  return { s, file }
}
const chunks = <T>(xs: T[], n: number) =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n))
/** CPU µs per record of inserting `fresh` in batches of `size` into `s`, on this thread. */
async function inProcess(s: KyselyPredictionStore, size: number): Promise<number> {
  const c = cpuUs()
  for (const b of chunks(fresh, size)) await s.insertPredictions(b)
  return (cpuUs() - c) / RECORDS
}
let next = 0
/** The next `n` records: the load and every variant draw from one sequence. */
const take = (n: number) => Array.from({ length: n }, () => record(next++))
/**
 * CPU µs per record of the same `batches` new batches of `size` given to a copy of each loaded file in turn, the
 * first in each pair alternating, after `warm` batches: the mean over every batch, and the median batch's. Then the
 * WAL bytes a record of `WAL_BATCHES` more batches, the same to each copy, with no checkpoint among them: what the
 * CPU time, on a noisy machine, measures less steadily.
 */
async function inTurn(
  files: readonly string[],
  size: number,
  batches: number,
  warm: number,
  setups: ReadonlyArray<((db: KyselyPredictionStore['db']) => Promise<void>) | undefined> = [],
): Promise<Array<{ mean: number; median: number; walBytes: number }>> {
  const stores: KyselyPredictionStore[] = []
  const paths: string[] = []
  for (const [k, name] of files.entries()) {
    const { s, file } = await copyOf(`turn-${k}-${name}`, setups[k], path.join(root, `${name}.sqlite`))
    stores.push(s)
    paths.push(file)
  }
  const spent = files.map(() => 0)
  const perBatch: number[][] = files.map(() => [])
  for (let b = 0; b < warm + batches; b++) {
    const batch = take(size)
    const order = stores.map((_, k) => k)
    if (b % 2) order.reverse()
    for (const k of order) {
      const c0 = cpuUs()
      await stores[k]!.insertPredictions(batch)
      const us = cpuUs() - c0
      if (b < warm) continue
      spent[k]! += us
      perBatch[k]!.push(us / size)
    }
  }
  const walBatches = Array.from({ length: WAL_BATCHES }, () => take(size))
  const walBytes: number[] = []
  for (const [k, s] of stores.entries()) {
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(s.db)
    await sql`pragma wal_autocheckpoint = 0`.execute(s.db)
    for (const batch of walBatches) await s.insertPredictions(batch)
    // The WAL: a 32-byte header, then a 24-byte header and a page a frame.
    const { page_size } = (await sql<{ page_size: number }>`pragma page_size`.execute(s.db)).rows[0]!
    const frames = (statSync(`${paths[k]}-wal`).size - 32) / (page_size + 24)
    walBytes.push((frames * page_size) / (WAL_BATCHES * size))
    await s.close()
  }
  return spent.map((us, k) => ({ mean: us / (batches * size), median: median(perBatch[k]!), walBytes: walBytes[k]! }))
}
let fresh: PredictionRecord[] = []
try {
  /** The log of `EXISTING` rows in `file`, the same rows every time; `pageSize` makes the file first. */
  const load = async (file: string, pageSize?: number) => {
    seed = 12345
    next = 0
    if (pageSize !== undefined) {
      // Switching to WAL writes the header, which fixes the page size before the store's own pragma could change it.
      const d = new Database(file)
      d.pragma(`page_size = ${pageSize}`)
      d.pragma('journal_mode = WAL')
      d.close()
    }
    const store = openSqliteStore({ file, redact, senderKey })
    await store.migrate()
    const t0 = performance.now()
    for (let done = 0; done < EXISTING; done += BATCH)
      await store.insertPredictions(take(Math.min(BATCH, EXISTING - done)))
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(store.db)
    const size = (await sql<{ page_size: number }>`pragma page_size`.execute(store.db)).rows[0]!.page_size
    await store.close()
    console.log(`loaded ${EXISTING} rows (${size}-byte pages) in ${r1((performance.now() - t0) / 1000)} s`)
  }
  await load(path.join(root, 'base-4k.sqlite'), 4096)
  await load(base)
  // The same new records go into every copy.
  fresh = take(RECORDS)

  // Handing a batch to a thread: structured clone of the record objects.
  let c = cpuUs()
  for (let k = 0; k < 5; k++) structuredClone(fresh.slice(0, BATCH))
  results.cloneUsPerRecord = (cpuUs() - c) / (5 * BATCH)

  // Handing a batch over as text, as the queue does (JsonBacklog): its records copied into a fresh buffer or into one
  // the thread handed back, then parsed on the other side as one string or 64 KiB of lines at a time.
  {
    const backlog = new JsonBacklog()
    for (const r of fresh.slice(0, BATCH)) backlog.append(r)
    const bytes = backlog.byteLengthOf(BATCH)
    const recycled = new Uint8Array(bytes)
    const timed = (f: () => unknown) => {
      const c0 = cpuUs()
      for (let k = 0; k < 10; k++) f()
      return (cpuUs() - c0) / (10 * BATCH)
    }
    results.batchCopyFreshUsPerRecord = timed(() => backlog.batch(BATCH))
    results.batchCopyRecycledUsPerRecord = timed(() => backlog.copyTo(BATCH, recycled))
    const text = Buffer.from(recycled)
    results.batchParseWholeUsPerRecord = timed(() =>
      JSON.parse(`[${text.toString('utf8', 0, bytes - 1).replaceAll('\n', ',')}]`),
    )
    results.batchParseChunkedUsPerRecord = timed(() => parseJsonLines(recycled))
  }

  // (a) The writer's work on this thread: toRow (redaction, hashing, search text, JSON) + SQLite insert + rollups.
  results.inProcessUsPerRecord = await inProcess((await copyOf('a')).s, BATCH)

  // (i) Each page size on its own copy of the same rows: 4 KiB, SQLite's default and the store's before, and the
  // store's 16 KiB. Both take the same batches in turn, long enough to take several checkpoints each (a checkpoint
  // every 80 MiB of WAL, which one batch in 5–15 pays for): a few batches would price the page size by where the
  // checkpoints fell. Warm-up batches first, so both caches hold their working set.
  {
    const [small, large] = await inTurn(['base-4k', 'base'], BATCH, PAGE_BATCHES, PAGE_WARM_BATCHES)
    Object.assign(results, {
      pages4KiBUsPerRecord: small!.mean,
      pages4KiBMedianBatchUsPerRecord: small!.median,
      pages16KiBUsPerRecord: large!.mean,
      pages16KiBMedianBatchUsPerRecord: large!.median,
      pages16KiBOver4KiB: large!.mean / small!.mean,
      pages4KiBWalBytesPerRecord: small!.walBytes,
      pages16KiBWalBytesPerRecord: large!.walBytes,
    })
  }
  // (j) The bucketed indexes in twentieths, as shipped, against hundredths, in turn as (i): in batches of `--batch`,
  // and of 500, about what a server logging a few thousand requests a second writes. Both copies go back to 0013 and
  // one comes up again, so that each has its indexes freshly built by a migration: a built index's pages are full
  // and split at a bucket's first new rows, a grown one's are not.
  const migrated = async (db: KyselyPredictionStore['db'], name?: string) => {
    const migrator = createMigrator(db)
    const { error } = await (name ? migrator.migrateTo(name) : migrator.migrateToLatest())
    if (error) throw error
  }
  for (const [size, batches, warm, label] of [
    [BATCH, PAGE_BATCHES, PAGE_WARM_BATCHES, ''],
    [500, 10 * PAGE_BATCHES, 10 * PAGE_WARM_BATCHES, 'Batch500'],
  ] as const) {
    const [twentieths, hundredths] = await inTurn(['base', 'base'], size, batches, warm, [
      async (db) => {
        await migrated(db, '0013_postgres_buckets')
        await migrated(db)
      },
      (db) => migrated(db, '0013_postgres_buckets'),
    ])
    Object.assign(results, {
      [`buckets20${label}UsPerRecord`]: twentieths!.mean,
      [`buckets20${label}MedianBatchUsPerRecord`]: twentieths!.median,
      [`buckets100${label}UsPerRecord`]: hundredths!.mean,
      [`buckets100${label}MedianBatchUsPerRecord`]: hundredths!.median,
      [`buckets20Over100${label}`]: twentieths!.mean / hundredths!.mean,
      [`buckets20${label}WalBytesPerRecord`]: twentieths!.walBytes,
      [`buckets100${label}WalBytesPerRecord`]: hundredths!.walBytes,
    })
  }

  // (b) The server's path: push (checkPrediction) on the event loop, insert on the writer thread.
  const { file: fileB } = await copyOf('b')
  const writer = new SqliteWorkerWriter({ file: fileB, redaction: DEFAULT_REDACTION_RULES, senderKey })
  await writer.insertPredictions([{ ...fresh[0]!, id: 'warm-up' }]) // start the thread outside the measurement
  const queue = new PredictionLogQueue({ store: writer, batchSize: BATCH })
  const before = threadCpu()
  const main = String(process.pid)
  const w0 = performance.now()
  c = cpuUs()
  for (const r of fresh) queue.push(r)
  results.pushUsPerRecord = (cpuUs() - c) / RECORDS
  await queue.flush()
  const after = threadCpu()
  results.queueTotalUsPerRecord = (cpuUs() - c) / RECORDS
  results.queueWallUsPerRecord = ((performance.now() - w0) * 1000) / RECORDS
  let mainCpu = 0
  let otherCpu = 0
  for (const [tid, s] of after) {
    const d = s - (before.get(tid) ?? 0)
    if (tid === main) mainCpu += d
    else otherCpu += d
  }
  results.queueMainThreadUsPerRecord = (mainCpu * 1e6) / RECORDS
  results.queueOtherThreadsUsPerRecord = (otherCpu * 1e6) / RECORDS
  await writer.close()

  // (c) As (a) in batches of 1000: what smaller transactions cost per row (each dirties its own index pages).
  results.inProcessBatch1000UsPerRecord = await inProcess((await copyOf('c')).s, 1000)

  // (d) As (a) with the text index filled by an insert trigger, as before migration 0009.
  const trigger = await copyOf('d', async (db) => {
    await sql`create trigger predictions_fts_insert after insert on predictions begin
      insert into predictions_fts(rowid, search_text) values (new.rowid, new.search_text); end`.execute(db)
  })
  results.inProcessFtsTriggerUsPerRecord = await inProcess(trigger.s, BATCH)

  // (e) As (a) without the text index: what it costs per row.
  const noFts = await copyOf('e', async (db) => {
    for (const t of ['insert', 'delete', 'update'])
      await sql.raw(`drop trigger if exists predictions_fts_${t}`).execute(db)
    await sql`drop table predictions_fts`.execute(db)
  })
  results.inProcessNoFtsUsPerRecord = await inProcess(noFts.s, BATCH)

  // (f) As (a) and (c) with the uncertainty indexes of 0010, where every row lands at a random place in each: the log
  // migrated back to before 0011.
  const unbucketed = async (name: string) =>
    (
      await copyOf(name, async (db) => {
        const { error } = await createMigrator(db).migrateTo('0010_confidence_via_fallback')
        if (error) throw error
      })
    ).s
  results.inProcessUnbucketedUsPerRecord = await inProcess(await unbucketed('f'), BATCH)
  results.inProcessUnbucketedBatch1000UsPerRecord = await inProcess(await unbucketed('g'), 1000)

  // (h) As (a) without the bucketed indexes, and with the intent index as narrow as before 0012: what they cost.
  const noBuckets = await copyOf('h', async (db) => {
    await db.schema.dropIndex(MARGIN_BUCKET_INDEX).execute()
    await db.schema.dropIndex(FALLBACK_BUCKET_INDEX).execute()
    await db.schema.dropIndex(INTENT_INDEX).execute()
    await db.schema.createIndex(INTENT_INDEX).on('predictions').columns(['intent', 'reviewed', 'ts', 'id']).execute()
  })
  results.inProcessNoBucketsUsPerRecord = await inProcess(noBuckets.s, BATCH)

  console.log(
    `existing ${EXISTING}, records ${RECORDS}, batch ${BATCH}, texts ${values.texts ?? 'sentences of 40 words'}, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  )
  console.log('CPU µs per record (each variant on its own copy of the same loaded log, the same new records)')
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(36)} ${v < 10 ? v.toFixed(3) : r1(v)}`)
  const date = new Date().toISOString().slice(0, 10)
  const out = values.out ?? path.join('bench', 'results', `log-cost-${date}.json`)
  mkdirSync(path.dirname(out), { recursive: true })
  writeFileSync(
    `${out}.tmp`,
    `${JSON.stringify({ date: new Date().toISOString(), EXISTING, RECORDS, BATCH, texts: values.texts ?? null, results }, null, 2)}\n`,
  )
  renameSync(`${out}.tmp`, out)
} finally {
  for (const s of copies) await s.close().catch(() => {})
  rmSync(root, { recursive: true, force: true })
}
