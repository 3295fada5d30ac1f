import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../test/helpers/serve.js'
import { samplePrediction } from './contract.js'
import { type InvalidRecords, PredictionLogQueue, type RefusedRecords } from './log-queue.js'
import { openPostgresStore } from './postgres.js'
import { openSqliteStore } from './sqlite.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
function tmpFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'intentops-queue-'))
  dirs.push(dir)
  return path.join(dir, 'store.db')
}

const records = (from: number, n: number) => Array.from({ length: n }, (_, i) => samplePrediction(from + i))

describe('PredictionLogQueue on SQLite', () => {
  it('writes a full batch at once and a partial one at the interval or on flush', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    await store.migrate()
    const q = new PredictionLogQueue({ store, batchSize: 10, flushIntervalMs: 60_000 })
    try {
      for (const r of records(0, 5)) expect(q.push(r)).toBe(true)
      await new Promise((r) => setTimeout(r, 50))
      expect(q.written).toBe(0)
      expect(q.depth).toBe(5)
      for (const r of records(5, 5)) q.push(r)
      await waitFor(() => q.written === 10, 'the full batch')
      q.push(samplePrediction(10))
      expect(await q.flush()).toBe(0)
      // A record that could never be stored is refused at the door, not left to fail its batch forever.
      expect(q.push({ ...samplePrediction(11), confidence: Number.NaN })).toBe(false)
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      expect(q.push(samplePrediction(12, { metadata: cyclic }))).toBe(false)
      expect(await q.flush()).toBe(0)
      expect(q.stats()).toEqual({
        depth: 0,
        dropped: 0,
        invalid: 2,
        written: 11,
        failedWrites: 0,
        healthy: true,
        behind: false,
      })
      expect(await store.countPredictions()).toBe(11)
    } finally {
      await q.close()
      await store.close()
    }
  })

  it('reports the records push refuses: the first at once, later ones added up per interval and at close', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    await store.migrate()
    const reports: InvalidRecords[] = []
    const q = new PredictionLogQueue({
      store,
      flushIntervalMs: 60_000,
      refusedReportMs: 300,
      onInvalid: (report) => reports.push(report),
    })
    try {
      // Deep enough that encoding it runs out of stack.
      let deep: unknown = 'leaf'
      for (let i = 0; i < 100_000; i++) deep = [deep]
      expect(q.push(samplePrediction(1, { metadata: { deep } }))).toBe(false)
      expect(reports).toEqual([
        { records: 1, id: 'p-00001', detail: expect.stringMatching(/^it cannot be written as JSON: .*call stack/) },
      ])
      // Within the quiet time after a report, refusals are added up rather than reported one by one.
      expect(q.push({ ...samplePrediction(2), confidence: Number.NaN })).toBe(false)
      expect(q.push(samplePrediction(3))).toBe(true)
      expect(q.push({ ...samplePrediction(4), text: 4 as unknown as string })).toBe(false)
      expect(reports).toHaveLength(1)
      await waitFor(() => reports.length === 2, 'the added-up report')
      expect(reports[1]).toEqual({ records: 2, id: 'p-00004', detail: '`text` must be a string' })
      // A record without a usable id is reported without one.
      expect(q.push({ ...samplePrediction(5), id: 5 as unknown as string })).toBe(false)
      expect(reports).toHaveLength(2)
      expect(q.invalid).toBe(4)
      expect(await q.flush()).toBe(0)
      expect(await store.countPredictions()).toBe(1)
      // What is still added up when the queue closes is reported by `close`, not lost.
      await q.close()
      expect(reports[2]).toEqual({ records: 1, detail: '`id` must be a string of 1–200 characters' })
      expect(reports).toHaveLength(3)
    } finally {
      await q.close()
      await store.close()
    }
  })

  it('refuses metadata and fields that are not plain objects at push, as the store refuses them', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    await store.migrate()
    const q = new PredictionLogQueue({ store, flushIntervalMs: 60_000 })
    class Meta {
      tenant = 'x'
    }
    const notPlain: unknown[] = [
      new Date(Date.UTC(2026, 0, 1)),
      { tenant: 'x', toJSON: () => 'x' },
      new Map([['tenant', 'x']]),
      new Meta(),
    ]
    try {
      for (const [k, value] of notPlain.entries()) {
        const metadata = samplePrediction(k, { metadata: value as Record<string, unknown> })
        const fields = samplePrediction(10 + k, { fields: value as Record<string, string> })
        expect(q.push(metadata)).toBe(false)
        expect(q.push(fields)).toBe(false)
        // The store, and so the writer whichever thread it runs on, refuses the same records.
        await expect(store.insertPredictions([metadata])).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_RECORD' })
        await expect(store.insertPredictions([fields])).rejects.toMatchObject({ code: 'ERR_STORE_INVALID_RECORD' })
      }
      expect(q.invalid).toBe(8)
      const bare = Object.assign(Object.create(null) as Record<string, unknown>, { tenant: 'x' })
      expect(q.push(samplePrediction(20, { metadata: bare }))).toBe(true)
      expect(await q.flush()).toBe(0)
      expect((await store.getPrediction('p-00020'))?.metadata).toEqual({ tenant: 'x' })
      expect(await store.countPredictions()).toBe(1)
    } finally {
      await q.close()
      await store.close()
    }
  })

  it('keeps the good records of a batch the store refuses one of, and counts only the refused one', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    await store.migrate()
    const reports: RefusedRecords[] = []
    const q = new PredictionLogQueue({ store, flushIntervalMs: 60_000, onRefused: (r) => reports.push(r) })
    try {
      const batch = records(0, 5)
      for (const r of batch) expect(q.push(r)).toBe(true)
      // A caller that reuses its objects after push: the queue holds them as they are, and the store checks them.
      batch[2]!.confidence = Number.NaN
      expect(await q.flush()).toBe(0)
      expect(q.stats()).toEqual({
        depth: 0,
        dropped: 0,
        invalid: 1,
        written: 4,
        failedWrites: 0,
        healthy: true,
        behind: false,
      })
      expect(await store.countPredictions()).toBe(4)
      expect(await store.getPrediction('p-00002')).toBeUndefined()
      expect(reports).toEqual([
        {
          records: 1,
          error: expect.objectContaining({
            code: 'ERR_STORE_INVALID_RECORD',
            message: 'Prediction record "p-00002" cannot be logged: `confidence` must be a finite number',
          }),
        },
      ])
    } finally {
      await q.close()
      await store.close()
    }
  })

  it('writes on the interval without a flush', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    await store.migrate()
    const q = new PredictionLogQueue({ store, batchSize: 1000, flushIntervalMs: 20 })
    try {
      for (const r of records(0, 3)) q.push(r)
      await waitFor(() => q.written === 3, 'the interval write')
      expect(await store.countPredictions()).toBe(3)
    } finally {
      await q.close()
      await store.close()
    }
  })

  it('under steady load writes once per interval, not again as soon as a write ends, unless a batch is full', async () => {
    const writes: Array<{ start: number; end: number; size: number }> = []
    const store = {
      insertPredictions: async (batch: readonly unknown[]) => {
        const start = performance.now()
        await new Promise((r) => setTimeout(r, 30))
        writes.push({ start, end: performance.now(), size: batch.length })
      },
    }
    const q = new PredictionLogQueue({ store, batchSize: 40, flushIntervalMs: 80 })
    try {
      let i = 0
      // Under 200 records/s for 0.8 s (too few to fill a batch in an interval); then a burst of two full batches.
      const end = performance.now() + 800
      while (performance.now() < end) {
        q.push(samplePrediction(i++))
        await new Promise((r) => setTimeout(r, 5))
      }
      const steady = writes.length
      for (let k = 0; k < 80; k++) q.push(samplePrediction(i++))
      expect(await q.flush()).toBe(0)
      expect(writes.reduce((n, w) => n + w.size, 0)).toBe(i)
      // Without the pause the writer would go again after each 30 ms write, with a dozen records.
      expect(steady).toBeLessThanOrEqual(8)
      for (let k = 1; k < steady; k++) {
        if (writes[k - 1]!.size < 40) expect(writes[k]!.start - writes[k - 1]!.end).toBeGreaterThanOrEqual(75)
      }
      expect(writes.slice(steady).some((w) => w.size === 40)).toBe(true)
    } finally {
      await q.close()
    }
  })

  it("retries while another connection's exclusive transaction locks the file, then lands every record once", async () => {
    const file = tmpFile()
    const store = openSqliteStore({ file, busyTimeoutMs: 10 })
    await store.migrate()
    const errors: unknown[] = []
    const q = new PredictionLogQueue({
      store,
      batchSize: 25,
      flushIntervalMs: 5,
      retryBaseMs: 10,
      retryMaxMs: 50,
      onError: (e) => errors.push(e),
    })
    const other = new Database(file)
    try {
      for (const r of records(0, 30)) q.push(r)
      await q.flush()
      other.exec('BEGIN EXCLUSIVE')
      for (const r of records(30, 200)) expect(q.push(r)).toBe(true)
      await waitFor(() => q.stats().failedWrites >= 2, 'failed writes')
      expect(q.stats().healthy).toBe(false)
      expect(String(errors[0])).toMatch(/locked|busy/i)
      expect(q.depth).toBeGreaterThan(0)
      other.exec('COMMIT')
      expect(await q.flush()).toBe(0)
      const rows = other.prepare('select id from predictions order by id').all() as Array<{ id: string }>
      expect(rows.map((r) => r.id)).toEqual(records(0, 230).map((r) => r.id))
      expect(q.stats()).toMatchObject({ depth: 0, dropped: 0, written: 230, healthy: true })
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
      await q.close()
      await store.close()
    }
  })

  it('drops and counts records beyond the bound instead of blocking, and close drains the rest', async () => {
    const file = tmpFile()
    const store = openSqliteStore({ file, busyTimeoutMs: 5 })
    await store.migrate()
    const q = new PredictionLogQueue({ store, maxSize: 50, batchSize: 10, flushIntervalMs: 1, retryBaseMs: 5 })
    const other = new Database(file)
    try {
      other.exec('BEGIN EXCLUSIVE')
      const accepted = records(0, 80).map((r) => q.push(r))
      expect(accepted.filter(Boolean)).toHaveLength(50)
      expect(accepted.slice(50).every((a) => a === false)).toBe(true)
      expect(q.dropped).toBe(30)
      expect(q.depth).toBe(50)
      other.exec('COMMIT')
      expect(await q.close()).toBe(0)
      expect(q.push(samplePrediction(999))).toBe(false)
      expect(q.stats()).toMatchObject({ depth: 0, dropped: 31, written: 50 })
      const n = other.prepare('select count(*) as n from predictions').get() as { n: number }
      expect(n.n).toBe(50)
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
      await store.close()
    }
  })

  it('tells its writer when it falls behind (a quarter full) and when it has caught up (a twentieth), once each way', async () => {
    const sqlite = openSqliteStore({ file: tmpFile() })
    await sqlite.migrate()
    const told: boolean[] = []
    // The real store, told of the backlog as a writer thread would be.
    const store = Object.assign(Object.create(sqlite) as typeof sqlite, {
      setBehind: (behind: boolean) => told.push(behind),
    })
    const q = new PredictionLogQueue({ store, maxSize: 100, batchSize: 10, flushIntervalMs: 60_000 })
    try {
      // A batch being written stays queued until its write resolves, which takes a turn of the event loop at least:
      // the 25th record pushed in one go finds 25 queued.
      for (const r of records(0, 24)) q.push(r)
      expect(told).toEqual([])
      q.push(samplePrediction(24))
      expect(told).toEqual([true])
      expect(q.stats().behind).toBe(true)
      for (const r of records(25, 30)) q.push(r)
      expect(told).toEqual([true])
      // Written down to 5 (a twentieth of 100) and below, it has caught up: told once.
      expect(await q.flush()).toBe(0)
      expect(told).toEqual([true, false])
      expect(q.behind).toBe(false)
      for (const r of records(55, 24)) q.push(r)
      expect(await q.flush()).toBe(0)
      expect(told).toEqual([true, false])
      expect(await sqlite.countPredictions()).toBe(79)
    } finally {
      await q.close()
      await sqlite.close()
    }
  })

  it('falls behind and catches up at the shares of maxSize it is given, rounded outwards', async () => {
    const sqlite = openSqliteStore({ file: tmpFile() })
    await sqlite.migrate()
    // The queue's depth each time it tells the real store, as a writer thread would be told.
    let told: Array<[boolean, number]> = []
    let q: PredictionLogQueue | undefined
    const store = Object.assign(Object.create(sqlite) as typeof sqlite, {
      setBehind: (behind: boolean) => told.push([behind, q!.depth]),
    })
    try {
      // Half full and back at three tenths: batches of 10 take 50 queued down to 40, then 30, where it has caught up.
      q = new PredictionLogQueue({
        store,
        maxSize: 100,
        batchSize: 10,
        flushIntervalMs: 60_000,
        behindAt: 0.5,
        caughtUpAt: 0.3,
      })
      for (const r of records(0, 49)) q.push(r)
      expect(told).toEqual([])
      q.push(samplePrediction(49))
      expect(told).toEqual([[true, 50]])
      expect(q.stats().behind).toBe(true)
      expect(await q.flush()).toBe(0)
      expect(told).toEqual([
        [true, 50],
        [false, 30],
      ])
      await q.close()
      // 100 × 0.07 is 7.000000000000001 and 100 × 0.03 is 3 in floating point: behind at 7 (not 8), caught up at 3.
      told = []
      q = new PredictionLogQueue({
        store,
        maxSize: 100,
        batchSize: 2,
        flushIntervalMs: 60_000,
        behindAt: 0.07,
        caughtUpAt: 0.03,
      })
      for (const r of records(100, 6)) q.push(r)
      expect(told).toEqual([])
      q.push(samplePrediction(106))
      expect(told).toEqual([[true, 7]])
      expect(await q.flush()).toBe(0)
      // Written two at a time: 7, 5, then 3.
      expect(told).toEqual([
        [true, 7],
        [false, 3],
      ])
      await q.close()
      expect(await sqlite.countPredictions()).toBe(57)
    } finally {
      await q?.close()
      await sqlite.close()
    }
  })

  it('refuses shares out of range, or caught up not below behind, naming the option', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    try {
      const make = (o: { behindAt?: number; caughtUpAt?: number }) => () => new PredictionLogQueue({ store, ...o })
      for (const [options, detail] of [
        [{ behindAt: 0 }, 'log queue behindAt must be a share of maxSize above 0 and at most 1, got 0'],
        [{ behindAt: 1.5 }, 'log queue behindAt must be a share of maxSize above 0 and at most 1, got 1.5'],
        [{ caughtUpAt: Number.NaN }, 'log queue caughtUpAt must be a share of maxSize above 0 and at most 1, got NaN'],
        [{ behindAt: 0.04 }, 'log queue caughtUpAt (0.05) must be below behindAt (0.04)'],
        [{ behindAt: 0.5, caughtUpAt: 0.5 }, 'log queue caughtUpAt (0.5) must be below behindAt (0.5)'],
      ] as const) {
        expect(make(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
        expect(make(options)).toThrow(detail)
      }
      // At 1 the queue counts as behind only once full, and any share below it may be the caught-up one.
      const full = new PredictionLogQueue({ store, behindAt: 1, caughtUpAt: 0.99 })
      await full.close()
    } finally {
      await store.close()
    }
  })

  it('refuses sizes and times out of range with ERR_INVALID_ARGUMENT naming the option, value and range', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    try {
      for (const [options, detail] of [
        [{ maxSize: 0 }, 'log queue maxSize must be a finite number of at least 1, got 0'],
        [{ batchSize: Number.NaN }, 'log queue batchSize must be a finite number of at least 1, got NaN'],
        [{ flushIntervalMs: -1 }, 'log queue flushIntervalMs must be a finite number of at least 0, got -1'],
        [{ retryBaseMs: 0.5 }, 'log queue retryBaseMs must be a finite number of at least 1, got 0.5'],
        [
          { retryMaxMs: Number.POSITIVE_INFINITY },
          'log queue retryMaxMs must be a finite number of at least 1, got Infinity',
        ],
        [{ refusedReportMs: -5 }, 'log queue refusedReportMs must be a finite number of at least 0, got -5'],
      ] as const) {
        let err: unknown
        try {
          new PredictionLogQueue({ store, ...options })
        } catch (e) {
          err = e
        }
        expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: detail })
        expect(err).not.toBeInstanceOf(RangeError)
      }
      // The least values are allowed.
      const least = new PredictionLogQueue({
        store,
        maxSize: 1,
        batchSize: 1,
        flushIntervalMs: 0,
        retryBaseMs: 1,
        retryMaxMs: 1,
        refusedReportMs: 0,
      })
      await least.close()
    } finally {
      await store.close()
    }
  })

  it('close with a deadline abandons what the store could not take, and counts it', async () => {
    const file = tmpFile()
    const store = openSqliteStore({ file, busyTimeoutMs: 5 })
    await store.migrate()
    const q = new PredictionLogQueue({ store, batchSize: 10, flushIntervalMs: 1, retryBaseMs: 5, retryMaxMs: 20 })
    const other = new Database(file)
    try {
      other.exec('BEGIN EXCLUSIVE')
      for (const r of records(0, 40)) q.push(r)
      expect(await q.close({ timeoutMs: 150 })).toBe(40)
      expect(q.stats()).toMatchObject({ depth: 0, dropped: 40, written: 0 })
    } finally {
      other.exec('ROLLBACK')
      other.close()
      await store.close()
    }
  })
})

/** A TCP relay in front of PostgreSQL that can go down and come back on the same port, like a restarted server. */
async function startRelay(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    sockets.add(client).add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve((server.address() as net.AddressInfo).port)
      })
    })
  const port = await listen(0)
  return {
    port,
    /** Refuse new connections and cut every open one. */
    stop: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()))
      for (const s of sockets) s.destroy()
      sockets.clear()
      await closed
    },
    start: async () => void (await listen(port)),
  }
}

const DATABASE_URL = process.env.DATABASE_URL

describe('PredictionLogQueue on PostgreSQL going away', () => {
  const schema = `iops_queue_${process.pid}_${randomBytes(4).toString('hex')}`
  const direct = () => new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5000 })

  afterAll(async () => {
    const c = direct()
    await c.connect()
    await c.query(`drop schema if exists ${schema} cascade`)
    await c.end()
  })

  async function countDirect(): Promise<{ n: number; distinct: number }> {
    const c = direct()
    await c.connect()
    try {
      const r = await c.query(`select count(*)::int as n, count(distinct id)::int as d from ${schema}.predictions`)
      return { n: r.rows[0].n, distinct: r.rows[0].d }
    } finally {
      await c.end()
    }
  }

  it('keeps answering pushes while the server is unreachable, and writes every queued record once it is back', async () => {
    const url = new URL(DATABASE_URL!)
    const relay = await startRelay({ host: url.hostname, port: Number(url.port || 5432) })
    const viaRelay = new URL(DATABASE_URL!)
    viaRelay.hostname = '127.0.0.1'
    viaRelay.port = String(relay.port)
    const store = openPostgresStore({ url: viaRelay.toString(), schema, poolSize: 2, connectTimeoutMs: 500 })
    await store.migrate()
    const errors: unknown[] = []
    const q = new PredictionLogQueue({
      store,
      batchSize: 40,
      flushIntervalMs: 5,
      retryBaseMs: 20,
      retryMaxMs: 200,
      onError: (e) => errors.push(e),
    })
    try {
      for (const r of records(0, 100)) q.push(r)
      await q.flush()
      expect(await countDirect()).toEqual({ n: 100, distinct: 100 })

      await relay.stop()
      for (const r of records(100, 150)) expect(q.push(r)).toBe(true)
      await waitFor(() => q.stats().failedWrites >= 2, 'failed writes while down')
      // More traffic during the outage: pushes still return at once.
      for (const r of records(250, 150)) expect(q.push(r)).toBe(true)
      expect(q.stats()).toMatchObject({ healthy: false, dropped: 0 })
      expect(q.depth).toBe(300)
      await expect(store.ping()).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' })
      expect(await countDirect()).toEqual({ n: 100, distinct: 100 })

      await relay.start()
      expect(await q.flush({ timeoutMs: 20_000 })).toBe(0)
      expect(await countDirect()).toEqual({ n: 400, distinct: 400 })
      expect(q.stats()).toMatchObject({ depth: 0, dropped: 0, written: 400, healthy: true })
      expect(errors.length).toBeGreaterThanOrEqual(2)
      // Every record is the one pushed, not a half-written or duplicated batch.
      const back = await store.getPrediction(samplePrediction(333).id)
      expect(back?.text).toBe(samplePrediction(333).text)
    } finally {
      await q.close({ timeoutMs: 1000 })
      await store.close()
      await relay.stop().catch(() => {})
    }
  })

  it('retries while the table is unavailable (renamed away) and lands every record once restored', async () => {
    const store = openPostgresStore({ url: DATABASE_URL!, schema, poolSize: 2 })
    await store.migrate()
    await sql`delete from predictions`.execute(store.db)
    const q = new PredictionLogQueue({ store, batchSize: 30, flushIntervalMs: 5, retryBaseMs: 10, retryMaxMs: 100 })
    const admin = direct()
    await admin.connect()
    try {
      await admin.query(`alter table ${schema}.predictions rename to predictions_away`)
      for (const r of records(0, 90)) q.push(r)
      await waitFor(() => q.stats().failedWrites >= 2, 'failed writes while renamed')
      expect(q.depth).toBe(90)
      await admin.query(`alter table ${schema}.predictions_away rename to predictions`)
      expect(await q.close({ timeoutMs: 20_000 })).toBe(0)
      expect(await countDirect()).toEqual({ n: 90, distinct: 90 })
      expect(q.written).toBe(90)
    } finally {
      await admin.query(`alter table if exists ${schema}.predictions_away rename to predictions`).catch(() => {})
      await admin.end()
      await store.close()
    }
  })
})
