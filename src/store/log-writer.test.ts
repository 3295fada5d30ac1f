import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os, { tmpdir } from 'node:os'
import path from 'node:path'
import type { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { sql } from 'kysely'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { runFileAs } from '../../test/helpers/as-user.js'
import { waitFor } from '../../test/helpers/serve.js'
import { defaultConfig } from '../config/defaults.js'
import type { StoreConfig } from '../config/schema.js'
import { allPages, expectRollupsMatchRaw, samplePrediction } from './contract.js'
import { resolveStoreTarget } from './location.js'
import { type JsonBatchWriter, PredictionLogQueue, type PredictionLogQueueOptions } from './log-queue.js'
import {
  type LogWriter,
  type PriorityEvent,
  SqliteWorkerWriter,
  startWriterThread,
  WorkerLogWriter,
} from './log-writer.js'
import { logQueueOptions, logQueueWarnings, openLogWriter, openStore } from './open.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

type Store = Awaited<ReturnType<typeof openStore>>

/**
 * A migrated SQLite store in a directory of its own, its writer thread and a queue writing through it. With
 * `keepThreads`, the writer keeps each thread it starts in `threads` (`writerKeepingThreads`); else it is
 * `openLogWriter`'s and `threads` stays empty.
 */
async function withWriter(
  queueOptions: Omit<PredictionLogQueueOptions, 'store'>,
  body: (ctx: { store: Store; queue: PredictionLogQueue; writer: WorkerLogWriter; threads: Worker[] }) => Promise<void>,
  storeOptions: Partial<StoreConfig> = {},
  { keepThreads = false } = {},
): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'intentops-writer-'))
  dirs.push(root)
  const config = { ...defaultConfig().store, ...storeOptions }
  const store = await openStore(config, { root })
  const { writer, threads } = keepThreads
    ? writerKeepingThreads(config, root)
    : { writer: openLogWriter(config, store, { root }), threads: [] }
  const queue = new PredictionLogQueue({ store: writer, ...logQueueOptions(config), ...queueOptions })
  try {
    await body({ store, queue, writer, threads })
  } finally {
    await queue.close()
    await writer.close()
    await store.close()
  }
}

/**
 * Logs record 0 of sender `alice` through the store itself, then records 1..n through the queue (record 1 from
 * `alice` too, each text with an email address to redact).
 */
async function pushSenders(store: Store, queue: PredictionLogQueue, n: number): Promise<void> {
  await store.insertPredictions([samplePrediction(0, { senderId: 'alice' })])
  for (let i = 1; i <= n; i++) {
    queue.push(samplePrediction(i, { senderId: i === 1 ? 'alice' : `s${i}`, text: `mail me at user${i}@example.com` }))
  }
}

/** The thread redacted as the store does, and hashed senders with the key the store made and keeps. */
async function expectRedactedWithStoreKey(store: Store): Promise<void> {
  const one = await store.getPrediction('p-00001')
  expect(one?.text).toBe('mail me at [email]')
  expect(one?.senderHash).toMatch(/^[0-9a-f]{64}$/)
  expect(one?.senderHash).toBe((await store.getPrediction('p-00000'))?.senderHash)
}

/**
 * The writer `openLogWriter` makes for the SQLite store `config` names under `root`, starting its threads as it
 * does, but keeping each one it starts in `threads`, oldest first, so that a test can end one under it.
 */
function writerKeepingThreads(
  config: StoreConfig,
  root: string,
  onPriority?: (e: PriorityEvent) => void,
): { writer: WorkerLogWriter; threads: Worker[] } {
  const target = resolveStoreTarget(config, { root })
  if (target.backend !== 'sqlite') throw new Error('a SQLite store was expected')
  const threads: Worker[] = []
  const writer = new WorkerLogWriter({
    target: { backend: 'sqlite', file: target.file, busyTimeoutMs: config.busyTimeoutMs },
    redaction: config.redaction,
    nice: config.writerNice,
    ...(onPriority ? { onPriority } : {}),
    startThread: (data) => {
      const thread = startWriterThread(data)
      threads.push(thread)
      return thread
    },
  })
  return { writer, threads }
}

/** The writing thread's id, once it told it. */
function tidOf(writer: WorkerLogWriter): number {
  const tid = writer.state().writing?.tid
  if (tid === undefined) throw new Error('the writer thread has not told its id')
  return tid
}

/** The nice value of each thread of this process, by thread id, from Linux's `/proc/self/task/<tid>/stat`. */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    } catch {
      continue // the thread ended meanwhile
    }
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, nice field 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    nices.set(Number(tid), Number(fields[19 - 3]))
  }
  return nices
}

/**
 * The thread writer with the records whose metadata says `poison` made invalid on their way to it (their confidence
 * turned to null), as a writer stricter than `push` would find them.
 */
function poisoning(writer: WorkerLogWriter): JsonBatchWriter & Pick<LogWriter, 'insertPredictions'> {
  return {
    insertPredictions: (records) => writer.insertPredictions(records),
    insertJson: (batch, count) => {
      let text = ''
      for (const line of new TextDecoder().decode(batch).split('\n').slice(0, -1)) {
        const record = JSON.parse(line)
        if (record.metadata?.poison) record.confidence = null
        text += `${JSON.stringify(record)}\n`
      }
      return writer.insertJson(new TextEncoder().encode(text), count)
    },
  }
}

describe('log writer thread', () => {
  it("judges its redaction rules on the server's lengths, and its thread applies them as judged", async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'intentops-writer-'))
    dirs.push(root)
    // Tried again from each digit of a run: n²/2 steps, within the limit on 10,000 characters, far over it on 1 MiB.
    // The lookbehind makes a search go through a run once: fine on any length.
    const searched = { pattern: '\\d+\\.\\d+', flags: 'u', replacement: '[n]' }
    const guarded = { pattern: '(?<!\\d)\\d+\\.\\d+', flags: 'u', replacement: '[n]' }
    const serve = { maxTextLength: 1_048_576, bodyLimitBytes: 2_097_152 }
    const config = { ...defaultConfig().store, redaction: [searched] }
    const store = await openStore(config, { root })
    try {
      expect(() => openLogWriter(config, store, { root })).not.toThrow()
      // Refused as the server refuses it (buildApp, config loading), before any thread starts.
      expect(() => openLogWriter(config, store, { root, serve })).toThrow(
        expect.objectContaining({
          code: 'ERR_CONFIG_INVALID',
          message: expect.stringContaining(
            '`store.redaction.0.pattern` /\\d+\\.\\d+/ can take too long on the texts of up to 1,048,576 characters',
          ),
        }),
      )
      // One the server takes at that length, the thread applies; one unsafe on any text is refused at once.
      const rules = [{ ...guarded }]
      const file = path.join(root, config.path)
      const writer = new SqliteWorkerWriter({ file, redaction: rules, serve })
      expect(() => new SqliteWorkerWriter({ file, redaction: [{ pattern: '(a+)+$', replacement: '' }] })).toThrow(
        expect.objectContaining({ code: 'ERR_STORE_REDACTION_UNSAFE' }),
      )
      try {
        // What the caller changes after the writer judged its rules never reaches the thread.
        rules[0]!.pattern = '(a+)+$'
        expect(writer.redaction).toEqual([guarded])
        await writer.insertPredictions([samplePrediction(1, { text: 'pi is 3.14, not aaaa' })])
        expect((await store.getPrediction('p-00001'))?.text).toBe('pi is [n], not aaaa')
      } finally {
        await writer.close()
      }
    } finally {
      await store.close()
    }
  })

  it('writes through its own connection with the same redaction and sender key as the store', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'intentops-writer-'))
    dirs.push(root)
    const config = { ...defaultConfig().store, busyTimeoutMs: 20 }
    const store = await openStore(config, { root })
    const writer = openLogWriter(config, store, { root })
    const queue = new PredictionLogQueue({ store: writer, ...logQueueOptions(config), retryBaseMs: 10, retryMaxMs: 50 })
    const other = new Database(path.join(root, config.path))
    try {
      await pushSenders(store, queue, 1500)
      expect(await queue.flush()).toBe(0)
      expect(await store.countPredictions()).toBe(1501)
      await expectRedactedWithStoreKey(store)

      // A lock held by another connection fails the thread's writes; the queue retries until it is released.
      other.exec('BEGIN EXCLUSIVE')
      for (let i = 2000; i < 2100; i++) queue.push(samplePrediction(i))
      const failedBefore = queue.stats().failedWrites
      const end = Date.now() + 10_000
      while (queue.stats().failedWrites < failedBefore + 2 && Date.now() < end)
        await new Promise((r) => setTimeout(r, 10))
      expect(queue.stats().failedWrites).toBeGreaterThanOrEqual(failedBefore + 2)
      other.exec('COMMIT')
      expect(await queue.close()).toBe(0)
      expect(await store.countPredictions()).toBe(1601)
      expect(queue.stats()).toMatchObject({ written: 1600, dropped: 0, healthy: true })
      // The thread keeps the hourly rollups in the same transactions, retried batches counted once.
      await expectRollupsMatchRaw(store)
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
      await writer.close()
      await store.close()
    }
  })

  it('lands every record intact across many batches whose buffers go back and forth, small and large', async () => {
    await withWriter({ batchSize: 37 }, async ({ store, queue }) => {
      // Texts from a few bytes to beyond a recycled buffer's size and a parse chunk, in several scripts.
      const text = (i: number) =>
        i % 61 === 0 ? `long ${i} ${'東京 ü 🚀 '.repeat(9000)}` : `message ${i} ${'naïve '.repeat(i % 23)}`
      for (let i = 0; i < 700; i++) {
        queue.push(samplePrediction(i, { text: text(i) }))
        // Interleaved with the writes, so buffers come back while new batches are made.
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5))
      }
      expect(await queue.flush()).toBe(0)
      expect(queue.stats()).toMatchObject({ written: 700, dropped: 0, failedWrites: 0 })
      expect(await store.countPredictions()).toBe(700)
      for (const i of [0, 1, 36, 37, 61, 62, 366, 427, 699]) {
        expect((await store.getPrediction(`p-${String(i).padStart(5, '0')}`))?.text).toBe(text(i))
      }
    })
  })

  it('survives its thread dying mid-write: the batch is retried on a new thread and every record lands once', async () => {
    await withWriter(
      { batchSize: 100, retryBaseMs: 10, retryMaxMs: 50 },
      async ({ store, queue, writer, threads }) => {
        expect(writer.state()).toEqual({ threads: 0, started: 0, inFlight: 0, behind: false, closed: false })
        for (let i = 0; i < 250; i++) queue.push(samplePrediction(i))
        // A full batch went to the thread as it was pushed; end the thread under it (its buffer goes with it).
        expect(threads).toHaveLength(1)
        expect(writer.state()).toMatchObject({ writing: { inFlight: 1 }, threads: 1, started: 1, inFlight: 1 })
        await threads[0]!.terminate()
        expect(writer.state()).toMatchObject({ threads: 0, started: 1, inFlight: 0 })
        expect(writer.state().writing).toBeUndefined()
        for (let i = 250; i < 400; i++) queue.push(samplePrediction(i))
        expect(await queue.close()).toBe(0)
        expect(threads).toHaveLength(2)
        expect(writer.state()).toMatchObject({ writing: { inFlight: 0 }, threads: 1, started: 2, inFlight: 0 })
        expect(queue.stats().failedWrites).toBeGreaterThanOrEqual(1)
        expect(queue.stats()).toMatchObject({ written: 400, dropped: 0, healthy: true })
        expect(await store.countPredictions()).toBe(400)
        await expectRollupsMatchRaw(store)
        await writer.close()
        expect(writer.state()).toEqual({ threads: 0, started: 2, inFlight: 0, behind: false, closed: true })
      },
      {},
      { keepThreads: true },
    )
  })

  it.runIf(process.platform === 'linux')(
    "runs below the server's priority by store.writerNice, that thread alone, and level at 0",
    async () => {
      const base = os.getPriority()
      const lowered = (nices: Map<number, number>) => [...nices].filter(([, nice]) => nice !== base)
      for (const writerNice of [7, 0]) {
        await withWriter(
          {},
          async ({ store, queue }) => {
            expect(lowered(threadNices())).toEqual([])
            for (let i = 0; i < 50; i++) queue.push(samplePrediction(i))
            await queue.flush()
            expect(await store.countPredictions()).toBe(50)
            const nices = threadNices()
            expect(nices.get(process.pid)).toBe(base)
            const expected = writerNice === 0 ? [] : [Math.min(19, base + writerNice)]
            expect(lowered(nices).map(([, nice]) => nice)).toEqual(expected)
          },
          { writerNice },
        )
      }
    },
  )

  it.runIf(process.platform === 'linux')(
    "runs at the server's priority while the queue is behind, and below it again once caught up, a new thread too",
    async () => {
      const base = os.getPriority()
      const root = mkdtempSync(path.join(tmpdir(), 'intentops-writer-'))
      dirs.push(root)
      const config = { ...defaultConfig().store, writerNice: 7 }
      const store = await openStore(config, { root })
      const events: PriorityEvent[] = []
      const { writer, threads } = writerKeepingThreads(config, root, (e) => events.push(e))
      // Behind from 10 queued, caught up at 2 or fewer; nothing is written before a flush.
      const queue = new PredictionLogQueue({ store: writer, maxSize: 40, batchSize: 1000, flushIntervalMs: 60_000 })
      const writerNice = () => threadNices().get(tidOf(writer))
      try {
        queue.push(samplePrediction(0))
        await queue.flush()
        await waitFor(() => writer.threadNice() !== undefined, 'the writer thread to tell its id')
        expect(writerNice()).toBe(Math.min(19, base + 7))
        for (let i = 1; i < 10; i++) queue.push(samplePrediction(i))
        expect(writerNice()).toBe(Math.min(19, base + 7))
        queue.push(samplePrediction(10))
        // Renice by thread id from this thread: in force at once, whatever the writer thread is doing.
        expect(writerNice()).toBe(base)
        expect(writer.threadNice()).toBe(base)
        expect(events).toEqual([{ behind: true, ok: true, nice: base }])
        await queue.flush()
        expect(writerNice()).toBe(Math.min(19, base + 7))
        expect(events.at(-1)).toEqual({ behind: false, ok: true, nice: Math.min(19, base + 7) })

        // A thread that dies while the queue is behind is replaced by one that starts level, and is lowered after.
        for (let i = 11; i < 25; i++) queue.push(samplePrediction(i))
        expect(queue.behind).toBe(true)
        const dead = tidOf(writer)
        expect(writer.state()).toMatchObject({ writing: { tid: dead, nice: base }, behind: true, started: 1 })
        await threads.at(-1)!.terminate()
        const flushed = queue.flush()
        await waitFor(() => writer.threadNice() !== undefined && tidOf(writer) !== dead, 'a new writer thread')
        await flushed
        expect(await store.countPredictions()).toBe(25)
        // Level for the old thread; the new one started level, and is lowered after the flush.
        expect(events.slice(2)).toEqual([
          { behind: true, ok: true, nice: base },
          { behind: false, ok: true, nice: Math.min(19, base + 7) },
        ])
        expect(writerNice()).toBe(Math.min(19, base + 7))
        expect(writer.state()).toMatchObject({
          writing: { tid: tidOf(writer), nice: Math.min(19, base + 7) },
          behind: false,
          threads: 1,
          started: 2,
        })
      } finally {
        await queue.close()
        await writer.close()
        await store.close()
      }
    },
  )

  it.runIf(process.platform === 'linux')(
    'changes priority at the shares store.writerBehindAt and store.writerCaughtUpAt give, through logQueueOptions',
    async () => {
      const base = os.getPriority()
      const lowered = Math.min(19, base + 7)
      const root = mkdtempSync(path.join(tmpdir(), 'intentops-writer-'))
      dirs.push(root)
      const config = {
        ...defaultConfig().store,
        writerNice: 7,
        queueSize: 100,
        batchSize: 10,
        flushIntervalMs: 60_000,
        writerBehindAt: 0.4,
        writerCaughtUpAt: 0.2,
      }
      const store = await openStore(config, { root })
      // Each change with the queue's depth when it was made.
      const changes: Array<{ behind: boolean; nice: number; depth: number }> = []
      let queue: PredictionLogQueue | undefined
      const writer = openLogWriter(config, store, {
        root,
        onPriority: (e) => changes.push({ behind: e.behind, nice: e.nice, depth: queue!.depth }),
      })
      queue = new PredictionLogQueue({ store: writer, ...logQueueOptions(config) })
      try {
        queue.push(samplePrediction(0))
        await queue.flush()
        await waitFor(() => writer.threadNice() !== undefined, 'the writer thread to tell its id')
        expect(writer.threadNice()).toBe(lowered)
        // 39 queued is under 0.4 of 100; the 40th makes it behind (the default would have been 25).
        for (let i = 1; i < 40; i++) queue.push(samplePrediction(i))
        expect(changes).toEqual([])
        expect(writer.threadNice()).toBe(lowered)
        queue.push(samplePrediction(40))
        expect(changes).toEqual([{ behind: true, nice: base, depth: 40 }])
        expect(threadNices().get(tidOf(writer))).toBe(base)
        // Written 10 at a time, it has caught up at 20 queued (the default would have waited for 5).
        expect(await queue.flush()).toBe(0)
        expect(changes).toEqual([
          { behind: true, nice: base, depth: 40 },
          { behind: false, nice: lowered, depth: 20 },
        ])
        expect(threadNices().get(tidOf(writer))).toBe(lowered)
        expect(await store.countPredictions()).toBe(41)
      } finally {
        await queue.close()
        await writer.close()
        await store.close()
      }
    },
  )

  it.runIf(process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/setpriv'))(
    'where a thread may not be raised back (an unprivileged user), a second thread kept level takes the writes while behind',
    async () => {
      const root = mkdtempSync(path.join(tmpdir(), 'intentops-writer-'))
      dirs.push(root)
      chmodSync(root, 0o777)
      const repo = path.resolve(import.meta.dirname, '../..')
      const { stdout } = await runFileAs(path.join(repo, 'test/fixtures/scripts/writer-priority.ts'), [root], {
        cwd: root,
      })
      const out = JSON.parse(stdout) as {
        events: Array<{ behind: boolean; ok: boolean; nice: number; thread?: string; error?: string }>
        logged: Array<{ level: string; msg: string }>
        written: number
        first: number
        threads: Array<{
          behind: { tid: number; nice: number; moved: boolean }
          caughtUp: { tid: number; nice: number }
        }>
        inFlight: {
          moved: boolean
          held: boolean
          alive: number
          started: number
          dropped: number
          failedWrites: number
        }
        base: number
      }
      const lowered = Math.min(19, out.base + 7)
      expect(out.written).toBe(36)
      // The first time the queue falls behind, raising the thread back fails, and a second thread, level from its
      // start, takes over. From then on the writes move between the two, each kept at its priority.
      const kept = (behind: boolean) => ({ behind, ok: true, nice: behind ? out.base : lowered, thread: 'kept' })
      expect(out.events).toEqual([
        { behind: true, ok: true, nice: out.base, thread: 'new' },
        kept(false),
        kept(true),
        kept(false),
        kept(true),
        kept(false),
      ])
      const level = out.threads[0]!.behind.tid
      expect(level).not.toBe(out.first)
      expect(out.threads).toEqual([
        { behind: { tid: level, nice: out.base, moved: true }, caughtUp: { tid: out.first, nice: lowered } },
        { behind: { tid: level, nice: out.base, moved: true }, caughtUp: { tid: out.first, nice: lowered } },
      ])
      // Behind with a batch in flight: the lowered thread wrote it, the level one the rest; nothing lost or retried.
      expect(out.inFlight).toEqual({ moved: true, held: true, alive: 2, started: 2, dropped: 0, failedWrites: 0 })
      expect(out.logged.filter((l) => l.level !== 'info')).toEqual([])
      expect(out.logged.filter((l) => /second writer thread/.test(l.msg))).toHaveLength(1)
      expect(out.logged.filter((l) => /thread kept/.test(l.msg))).toHaveLength(5)
    },
  )

  it("tells the CPU time its threads used, from the thread's own statistics, summed across a thread that died", async () => {
    await withWriter(
      { batchSize: 100, retryBaseMs: 10, retryMaxMs: 50 },
      async ({ queue, writer, threads }) => {
        expect(writer.cpuSeconds()).toBeUndefined()
        for (let i = 0; i < 300; i++) queue.push(samplePrediction(i))
        await queue.flush()
        const first = writer.cpuSeconds()
        expect(first).toBeGreaterThan(0)
        const own = process.cpuUsage()
        expect(first).toBeLessThan((own.user + own.system) / 1e6)
        await threads.at(-1)!.terminate()
        for (let i = 300; i < 600; i++) queue.push(samplePrediction(i))
        await queue.flush()
        expect(threads).toHaveLength(2)
        expect(writer.cpuSeconds()).toBeGreaterThan(first!)
      },
      {},
      { keepThreads: true },
    )
  })

  it('refuses a record JSON cannot hold at push, without throwing, and keeps writing the others', async () => {
    await withWriter({}, async ({ store, queue }) => {
      const cyclic: Record<string, unknown> = { note: 'loops' }
      cyclic.self = cyclic
      expect(queue.push(samplePrediction(1))).toBe(true)
      expect(queue.push(samplePrediction(2, { metadata: cyclic }))).toBe(false)
      expect(queue.push(samplePrediction(3, { metadata: { big: 10n } }))).toBe(false)
      expect(queue.push(samplePrediction(4))).toBe(true)
      // Metadata whose JSON is not the object pushed (a Date's is a string): the thread would read a record it must
      // refuse, so push refuses it.
      const dated = new Date(Date.UTC(2026, 0, 1)) as unknown as Record<string, unknown>
      expect(queue.push(samplePrediction(5, { metadata: dated }))).toBe(false)
      expect(queue.push(samplePrediction(6, { metadata: { toJSON: () => [1] } }))).toBe(false)
      // Likewise a list whose JSON is not a list.
      const entities = Object.assign([], { toJSON: () => 'none' })
      expect(queue.push(samplePrediction(7, { entities }))).toBe(false)
      expect(await queue.close()).toBe(0)
      expect(queue.stats()).toMatchObject({ written: 2, invalid: 5, dropped: 0, failedWrites: 0 })
      expect((await store.getPrediction('p-00004'))?.text).toBe(samplePrediction(4).text)
      expect(await store.countPredictions()).toBe(2)
    })
  })

  it('writes the good records of a batch the thread refuses some of, and warns about the refused ones in few lines', async () => {
    const lines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    const refusals = () => lines.filter((l) => typeof l.reason === 'string')
    await withWriter({}, async ({ store, writer }) => {
      const queue = new PredictionLogQueue({
        store: poisoning(writer),
        flushIntervalMs: 60_000,
        refusedReportMs: 400,
        ...logQueueWarnings(logger),
      })
      const poisoned = (i: number) => samplePrediction(i, { metadata: { poison: true } })
      try {
        for (const r of [samplePrediction(1), poisoned(2), samplePrediction(3)]) expect(queue.push(r)).toBe(true)
        expect(await queue.flush()).toBe(0)
        expect(queue.stats()).toMatchObject({ written: 2, invalid: 1, failedWrites: 0, healthy: true })
        expect(refusals()).toEqual([
          expect.objectContaining({
            level: 40,
            code: 'ERR_STORE_INVALID_RECORD',
            reason: 'Prediction record "p-00002" cannot be logged: `confidence` must be a finite number',
            records: 1,
            msg: '1 prediction not logged: the log writer refused its record as invalid',
          }),
        ])
        // Within the quiet time after a report, refusals are added up, not written one by one.
        for (const r of [poisoned(4), samplePrediction(5), poisoned(6)]) queue.push(r)
        await queue.flush()
        queue.push(poisoned(7))
        await queue.flush()
        expect(refusals()).toHaveLength(1)
        const t0 = Date.now()
        while (refusals().length < 2 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20))
        expect(refusals()[1]).toMatchObject({
          records: 3,
          reason: expect.stringContaining('"p-00007"'),
          msg: '3 predictions not logged: the log writer refused their records as invalid',
        })
        // What is still added up when the queue closes is reported by `close`, not lost.
        queue.push(poisoned(8))
        await queue.flush()
        expect(refusals()).toHaveLength(2)
        await queue.close()
        expect(refusals()[2]).toMatchObject({ records: 1, reason: expect.stringContaining('"p-00008"') })
        expect(queue.stats()).toMatchObject({ invalid: 5, written: 3, failedWrites: 0, healthy: true })
        expect((await allPages(store, {})).sort()).toEqual(['p-00001', 'p-00003', 'p-00005'])
        await expectRollupsMatchRaw(store)
      } finally {
        await queue.close()
      }
    })
  })

  it('warns about the records push refuses at once, then adds later ones up into one line', async () => {
    const lines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    await withWriter({ flushIntervalMs: 60_000, ...logQueueWarnings(logger) }, async ({ queue }) => {
      expect(queue.push({ ...samplePrediction(1), confidence: Number.NaN })).toBe(false)
      expect(lines).toEqual([
        expect.objectContaining({
          level: 40,
          id: 'p-00001',
          detail: '`confidence` must be a finite number',
          records: 1,
          msg: '1 prediction not logged: its record cannot be stored',
        }),
      ])
      // A client sending bad records does not get a line each: the default quiet time is a minute.
      for (let i = 2; i < 500; i++) queue.push({ ...samplePrediction(i), latencyMs: -Infinity })
      expect(lines).toHaveLength(1)
      await queue.close()
      expect(lines).toHaveLength(2)
      expect(lines[1]).toMatchObject({
        id: 'p-00499',
        detail: '`latencyMs` must be a finite number',
        records: 498,
        msg: '498 predictions not logged: their records cannot be stored',
      })
      expect(queue.invalid).toBe(499)
    })
  })

  it('as a store, refuses a batch holding an invalid record whole, as the store does', async () => {
    await withWriter({}, async ({ store, writer }) => {
      const bad = { ...samplePrediction(2), metadata: new Date(0) as unknown as Record<string, unknown> }
      await expect(writer.insertPredictions([samplePrediction(1), bad])).rejects.toMatchObject({
        code: 'ERR_STORE_INVALID_RECORD',
        message: expect.stringContaining('"p-00002"'),
      })
      await writer.insertPredictions([samplePrediction(1)])
      expect(await allPages(store, {})).toEqual(['p-00001'])
    })
  })

  it('takes each record as the queue received it: encoded at push, not when its batch is written', async () => {
    await withWriter({ flushIntervalMs: 60_000 }, async ({ store, queue }) => {
      const record = samplePrediction(1, { text: 'as answered', entities: [] })
      queue.push(record)
      // A caller reusing its objects after the answer must not change what the log says was answered.
      record.text = 'changed later'
      record.entities.push({
        entity: 'late',
        value: 'x',
        start: 0,
        end: 1,
        extractor: 'regex_entities',
        confidence_entity: 1,
      })
      expect(await queue.flush()).toBe(0)
      const stored = await store.getPrediction('p-00001')
      expect(stored?.text).toBe('as answered')
      expect(stored?.entities).toEqual([])
    })
  })

  it('writes PostgreSQL through a thread of its own, with the same redaction and sender key as the store', async () => {
    const url = process.env.DATABASE_URL
    // The suite runs with DATABASE_URL set (.ci/run sets it); without it this test has nothing to reach.
    expect(url, 'DATABASE_URL must point at the test PostgreSQL server').toBeTruthy()
    const root = mkdtempSync(path.join(tmpdir(), 'intentops-writer-'))
    dirs.push(root)
    const schema = `iops_writer_${process.pid}_${randomBytes(4).toString('hex')}`
    const config = { ...defaultConfig().store, backend: 'postgres' as const, schema }
    const env = { DATABASE_URL: url }
    const store = await openStore(config, { root, env })
    const writer = openLogWriter(config, store, { root, env })
    const queue = new PredictionLogQueue({ store: writer, ...logQueueOptions(config), flushIntervalMs: 60_000 })
    try {
      await pushSenders(store, queue, 600)
      expect(await queue.close()).toBe(0)
      expect(queue.stats()).toMatchObject({ written: 600, dropped: 0, failedWrites: 0, healthy: true })
      expect(await store.countPredictions()).toBe(601)
      await expectRedactedWithStoreKey(store)
      await expectRollupsMatchRaw(store)
    } finally {
      await writer.close()
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db)
      await store.close()
    }
  })
})
