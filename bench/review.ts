/**
 * Review inbox benchmark: the first inbox page of a large prediction log, grouped into duplicates and near
 * duplicates as the UI shows it, next to the bare store query it is built on, on SQLite and PostgreSQL in one run.
 * Also a group lookup over the whole log (`findGroup`) and the second page by cursor. Prints a table and writes
 * bench/results/review-<date>.json. Target (issue 7): the first page of 1M predictions in under 200 ms.
 *
 *   npx tsx bench/review.ts [--rows 1000000] [--rounds 5] [--backends sqlite,postgres]
 *                           [--sqlite FILE] [--pg-schema NAME] [--out FILE]
 *
 * Without --sqlite / --pg-schema it seeds a temporary log of --rows synthetic predictions (a temporary SQLite file, a
 * temporary PostgreSQL database; both dropped afterwards); with
 * them it reads an already seeded log without writing to it (e.g. the one `bench/analytics.ts --keep` leaves:
 * /tmp/intentops-bench-analytics/sqlite-1000000.db and schema iops_bench_analytics_1000000).
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import { syntheticTraffic } from '../src/monitor/testing.js'
import { findGroup, type InboxOptions, listInbox } from '../src/review/inbox.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { openPostgresStore } from '../src/store/postgres.js'
import { searchWords } from '../src/store/search.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import type { InboxOrder } from '../src/store/types.js'
import { createTempDatabase } from '../test/helpers/pg-database.js'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    backends: { type: 'string', default: 'sqlite,postgres' },
    sqlite: { type: 'string' },
    'pg-schema': { type: 'string' },
    out: { type: 'string' },
  },
})
const ROWS = Number(values.rows)
const ROUNDS = Number(values.rounds)
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const PAGE = 50
const log = (s: string) => process.stderr.write(`${s}\n`)

interface Timing {
  backend: string
  case: string
  rows: number
  minMs: number
  medianMs: number
  groups?: number
  roundsMs: number[]
}

async function time(fn: () => Promise<unknown>): Promise<{ min: number; median: number; rounds: number[] }> {
  await fn() // warm the page cache and the statement cache once
  const rounds: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now()
    await fn()
    rounds.push(performance.now() - t)
  }
  const sorted = [...rounds].sort((a, b) => a - b)
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, rounds }
}

async function seed(store: KyselyPredictionStore, rows: number): Promise<void> {
  const batch = 10_000
  for (let done = 0; done < rows; done += batch) {
    const n = Math.min(batch, rows - done)
    const records = syntheticTraffic({
      count: n,
      seed: done + 1,
      start: Date.UTC(2026, 9, 1) + done * 2_000,
      stepMs: 2_000,
    })
    await store.insertPredictions(records.map((r, i) => ({ ...r, id: `b${done + i}` })))
    if ((done / batch) % 10 === 0) log(`  seeded ${done + n} of ${rows}`)
  }
}

async function measure(backend: string, store: KyselyPredictionStore, rows: number): Promise<Timing[]> {
  const out: Timing[] = []
  const options: InboxOptions = { order: 'confidence', pageSize: PAGE, nearDuplicateThreshold: 0.8 }
  const record = (name: string, t: Awaited<ReturnType<typeof time>>, groups?: number) => {
    out.push({
      backend,
      case: name,
      rows,
      minMs: Math.round(t.min * 10) / 10,
      medianMs: Math.round(t.median * 10) / 10,
      ...(groups !== undefined ? { groups } : {}),
      roundsMs: t.rounds.map((x) => Math.round(x * 10) / 10),
    })
    log(`  ${backend} ${name}: median ${t.median.toFixed(1)} ms`)
  }
  for (const order of ['confidence', 'margin', 'fallback', 'newest'] as InboxOrder[]) {
    record(`store page, ${order}`, await time(() => store.queryPredictions({ reviewed: false, order, limit: PAGE })))
    const page = await listInbox(store, {}, { ...options, order })
    record(
      `inbox page grouped, ${order}`,
      await time(() => listInbox(store, {}, { ...options, order })),
      page.groups.length,
    )
  }
  const first = await listInbox(store, {}, options)
  const intent = first.groups[0]?.intent
  if (intent) {
    record('inbox page grouped, intent filter', await time(() => listInbox(store, { intent }, options)))
  }
  record('inbox page grouped, search "refund"', await time(() => listInbox(store, { search: 'refund' }, options)))
  // a word of the first message: many matches, where SQLite walks the order index instead of the text index
  const common = searchWords(first.groups[0]?.text ?? '').sort((a, b) => b.length - a.length)[0]
  if (common) {
    const found = await listInbox(store, { search: common }, options)
    record(
      `inbox page grouped, search "${common}"`,
      await time(() => listInbox(store, { search: common }, options)),
      found.groups.length,
    )
  }
  if (first.nextCursor) {
    const cursor = first.nextCursor
    record('inbox second page (cursor)', await time(() => listInbox(store, { cursor }, options)))
  }
  const head = first.groups[0]?.id
  if (head) {
    const g = await findGroup(store, head, { nearDuplicateThreshold: 0.8 })
    record(
      'group of one message over the log (members)',
      await time(() => findGroup(store, head, { nearDuplicateThreshold: 0.8 })),
      g?.size,
    )
  }
  return out
}

async function withBackend(backend: string): Promise<Timing[]> {
  let store: KyselyPredictionStore
  let cleanup = async () => {}
  let seeded = false
  if (backend === 'sqlite') {
    if (values.sqlite) {
      if (!existsSync(values.sqlite)) throw new Error(`--sqlite ${values.sqlite} does not exist`)
      store = openSqliteStore({ file: values.sqlite, readonly: true })
    } else {
      const dir = mkdtempSync(path.join(tmpdir(), 'intentops-bench-review-'))
      store = openSqliteStore({ file: path.join(dir, 'store.db') })
      cleanup = async () => rmSync(dir, { recursive: true, force: true })
      seeded = true
    }
  } else if (values['pg-schema']) {
    store = openPostgresStore({ url: DATABASE_URL, schema: values['pg-schema'], poolSize: 2 })
  } else {
    // a database of its own: the run neither sees nor disturbs other schemas of the server
    const db = await createTempDatabase(DATABASE_URL, 'iops_bench_review')
    store = openPostgresStore({ url: db.url, poolSize: 2 })
    seeded = true
    cleanup = async () => {
      await store.close()
      await db.drop()
    }
  }
  try {
    if (seeded) {
      await store.migrate()
      log(`${backend}: seeding ${ROWS} predictions`)
      await seed(store, ROWS)
      if (backend === 'postgres') await sql`analyze`.execute(store.db)
    }
    const rows = Number(
      (
        await store.db
          .selectFrom('predictions')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
    log(`${backend}: ${rows} predictions`)
    return await measure(backend, store, rows)
  } finally {
    if (seeded && backend === 'postgres') await cleanup()
    else {
      await store.close()
      await cleanup()
    }
  }
}

const timings: Timing[] = []
for (const backend of values.backends.split(',')) timings.push(...(await withBackend(backend.trim())))

const cases = [...new Set(timings.map((t) => t.case))]
const backends = [...new Set(timings.map((t) => t.backend))]
const rows = new Map(timings.map((t) => [t.backend, t.rows]))
console.log(
  `\nReview inbox, ${PAGE} messages a page, median of ${ROUNDS} rounds (ms); in brackets: groups on the page\n`,
)
console.log(`| case | ${backends.map((b) => `${b} (${rows.get(b)} rows)`).join(' | ')} |`)
console.log(`|---|${backends.map(() => '---:').join('|')}|`)
for (const c of cases) {
  const cells = backends.map((b) => {
    const t = timings.find((x) => x.backend === b && x.case === c)
    return t ? `${t.medianMs.toFixed(1)}${t.groups !== undefined ? ` (${t.groups})` : ''}` : '—'
  })
  console.log(`| ${c} | ${cells.join(' | ')} |`)
}
// the target is the first page, as a reviewer opens the inbox or filters it by intent; text search is reported apart
const firstPages = timings.filter((t) => t.case.startsWith('inbox page grouped') && !t.case.includes('search'))
const worst = Math.max(...firstPages.map((t) => t.medianMs))
console.log(
  `\nslowest grouped first page: ${worst.toFixed(1)} ms (target < 200 ms): ${worst < 200 ? 'met' : 'NOT met'}`,
)
for (const t of timings.filter((x) => x.case.includes('search'))) {
  console.log(`text search, ${t.backend}: ${t.medianMs.toFixed(1)} ms${t.medianMs < 200 ? '' : ' (over 200 ms)'}`)
}

const file = path.resolve(
  values.out ?? path.join(import.meta.dirname, 'results', `review-${new Date().toISOString().slice(0, 10)}.json`),
)
mkdirSync(path.dirname(file), { recursive: true })
writeFileSync(
  `${file}.tmp`,
  `${JSON.stringify({ benchmark: 'review-inbox', date: new Date().toISOString(), pageSize: PAGE, rounds: ROUNDS, node: process.version, timings }, null, 2)}\n`,
)
renameSync(`${file}.tmp`, file)
console.log(`wrote ${path.relative(process.cwd(), file)}`)
