/**
 * The server process of `bench/serve.ts`: one Node process hosting, on loopback ports, a bare Fastify route that
 * returns a constant, the intentops app with the prediction log off, the app with the log on (SQLite, or PostgreSQL
 * given `storeUrl` and `storeSchema`), and the app
 * serving a watched registry alias (for swaps). Prints the ports as one JSON line; SIGTERM closes everything,
 * flushing the log. For `bench/serve-instructions.ts` and `bench/serve-stages.ts`: `stages` mounts on the log-off
 * app the routes that stop `/v1/parse` after each of its stages (see `stageRoutes`), and `swap: false` leaves out
 * the watched alias, whose polls would run on the event loop while requests are measured.
 *
 *   npx tsx bench/serve-server.ts '{"modelFile": "...", "registryDir": "...", "publicKey": "ed25519:...", "dbPath": "...", "writerNice": 10}'
 * @module
 */
import { constants, PerformanceObserver } from 'node:perf_hooks'
import v8 from 'node:v8'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import { defaultConfig } from '../src/config/defaults.js'
import { createFsBackend } from '../src/registry/backends/fs.js'
import { ModelRegistry } from '../src/registry/registry.js'
import { parsePublicKey } from '../src/registry/signing.js'
import { buildApp } from '../src/serve/app.js'
import { resolveServeConfig } from '../src/serve/config.js'
import { checkMessage, predict, toResponse } from '../src/serve/predict.js'
import { ParseRequestSchema } from '../src/serve/schemas.js'
import { parseResponseJson, sendJson } from '../src/serve/serialize.js'
import { startServer, tuneHeapForServing } from '../src/serve/server.js'
import { PredictionLogQueue } from '../src/store/log-queue.js'
import { logQueueOptions, openLogWriter, openStore } from '../src/store/open.js'

const args = JSON.parse(process.argv[2] ?? '{}') as {
  modelFile: string
  /** The registry and its key, for the swap app. */
  registryDir?: string
  publicKey?: string
  dbPath: string
  writerNice: number
  storeUrl?: string
  storeSchema?: string
  stages?: boolean
  swap?: boolean
  /**
   * false: the queue is not told when it falls behind, so the writer thread stays at `writerNice` whatever the
   * backlog (the behaviour before the writer's priority followed the queue; `bench/writer-priority.ts` compares).
   */
  catchUp?: boolean
  /** store.queueSize of the log-on app (default: the config's). */
  queueSize?: number
}

// As `intentops serve` does.
tuneHeapForServing()

// Rate limiting stays on (its cost is part of every request) with a budget the benchmark cannot reach.
const config = (overrides: Record<string, unknown>) =>
  resolveServeConfig({ ...defaultConfig().serve, logLevel: 'silent', rateLimit: 1_000_000_000, ...overrides }, {})

// The process's garbage-collection pauses so far (the event loop waits through each), for the bench to difference
// around each run. `longestMs` is the longest single pause since the last `GET /gc?longest=reset`.
const gc = { pauseMs: 0, minorMs: 0, count: 0, longestMs: 0 }
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.pauseMs += e.duration
    gc.count++
    if (e.duration > gc.longestMs) gc.longestMs = e.duration
    const kind = (e as { detail?: { kind?: number } }).detail?.kind
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minorMs += e.duration
  }
}).observe({ entryTypes: ['gc'] })

/** The model's own wall time in `/stage/predict` (`predict`'s), summed until `GET /stage/model-time` reads it. */
const modelTime = { ms: 0, calls: 0 }

const bare = Fastify({ logger: false })
bare.post('/constant', async () => ({ ok: true }))
// Read and reset by bench/serve-stages.ts around each run of `/stage/predict`.
bare.get('/stage/model-time', async () => {
  const r = { ...modelTime }
  modelTime.ms = 0
  modelTime.calls = 0
  return r
})
bare.get<{ Querystring: { longest?: string } }>('/gc', async (request) => {
  const now = { ...gc }
  if (request.query.longest === 'reset') gc.longestMs = 0
  return now
})
// The process's memory by part, for bench/serve.ts to tell what an RSS step over the soak was: V8's heap (by space),
// memory outside it that V8 knows of (Buffers, typed arrays), or native memory it does not (malloc arenas, SQLite's
// page cache in the log writer thread).
bare.get('/memory', async () => {
  const m = process.memoryUsage()
  const spaces: Record<string, number> = {}
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = s.space_size
  return {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    spaces,
  }
})
await bare.listen({ host: '127.0.0.1', port: 0 })

/**
 * `/v1/parse` cut short after each of its stages, every one answering a constant: the app's request path with no
 * body schema; then the body validated; then the model run (`predict`); then the answer built and serialised (and
 * the prediction counted) but not sent. Each differs from the next by one stage of the handler in routes/parse.ts,
 * so differences between them price the stages.
 */
const stageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.intentops
  const ok = '{"ok":true}'
  const k = ctx.config.rankingLength > 0 ? ctx.config.rankingLength : undefined
  const body = { body: ParseRequestSchema }
  app.post('/stage/constant', (_request, reply) => sendJson(reply, ok))
  app.post('/stage/validated', { schema: body }, (_request, reply) => sendJson(reply, ok))
  app.post('/stage/predict', { schema: body }, (request, reply) => {
    checkMessage(request.body, ctx.config.maxTextLength, 'body')
    const p = predict(ctx.holder.current!, request.body, request.id, k)
    modelTime.ms += p.latencyMs
    modelTime.calls++
    sendJson(reply, ok)
  })
  app.post('/stage/answer', { schema: body }, (request, reply) => {
    checkMessage(request.body, ctx.config.maxTextLength, 'body')
    const s = ctx.holder.current!
    const p = predict(s, request.body, request.id, k)
    ctx.metrics.observePrediction(p.result.intent.name, p.fallback)
    parseResponseJson(toResponse(s, p, request.body, k))
    sendJson(reply, ok)
  })
}

const logOff = await buildApp({
  config: config({ model: args.modelFile, logPredictions: false }),
  root: process.cwd(),
  modelName: 'bench',
  logger: false,
  ...(args.stages ? { plugins: [stageRoutes] } : {}),
})
await logOff.ready()

// As `intentops serve` does: the store as configured (default redaction), the log written by its writer thread.
const storeDefaults = {
  ...defaultConfig().store,
  writerNice: args.writerNice,
  ...(args.queueSize ? { queueSize: args.queueSize } : {}),
}
const storeConfig = args.storeUrl
  ? { ...storeDefaults, backend: 'postgres' as const, url: args.storeUrl, schema: args.storeSchema }
  : { ...storeDefaults, path: args.dbPath }
const store = await openStore(storeConfig, { root: process.cwd() })
/**
 * The writer thread's priority changes as the queue falls behind and catches up, the failures among them, and the
 * threads started to take over where the writing one could not be raised back.
 */
const priority = { changes: 0, failed: 0, started: 0, lastNice: undefined as number | undefined }
const writer = openLogWriter(storeConfig, store, {
  root: process.cwd(),
  onPriority: (e) => {
    priority.changes++
    if (!e.ok) priority.failed++
    else if (e.thread === 'new') priority.started++
    priority.lastNice = e.nice
  },
})
let lastError = ''
const predictionLog = new PredictionLogQueue({
  ...logQueueOptions(storeConfig),
  // Without `setBehind` the queue has no one to tell.
  store:
    args.catchUp === false
      ? {
          insertPredictions: (r) => writer.insertPredictions(r),
          insertJson: (b: Uint8Array, n: number) => writer.insertJson(b, n),
          batchBuffer: (n: number) => writer.batchBuffer(n),
        }
      : writer,
  onError: (err) => {
    lastError = (err as Error).message
  },
})
const logOn = await buildApp({
  config: config({ model: args.modelFile, logPredictions: true }),
  root: process.cwd(),
  modelName: 'bench',
  store,
  ownsStore: true,
  predictionLog,
  logWriter: writer,
  logger: false,
})
await logOn.ready()

const apps = [logOff, logOn]
if (args.swap !== false) {
  if (!args.registryDir || !args.publicKey) throw new Error('the swap app needs registryDir and publicKey')
  const registry = new ModelRegistry(createFsBackend({ root: args.registryDir }), {
    trust: { trustedKeys: [parsePublicKey(args.publicKey, 'bench key')], allowUnsigned: false },
  })
  const swap = await buildApp({
    config: config({ logPredictions: false, watchIntervalMs: 200 }),
    root: process.cwd(),
    modelName: 'bench',
    registry,
    logger: false,
  })
  await swap.ready()
  apps.push(swap)
}

const servers = await Promise.all(apps.map((app) => startServer(app, { port: 0, signals: [] })))
const port = (a: typeof bare) => (a.server.address() as { port: number }).port
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, bare: port(bare), logOff: servers[0]!.port, logOn: servers[1]!.port, swap: servers[2]?.port })}\n`,
)

process.once('SIGTERM', () => {
  void (async () => {
    await bare.close()
    await Promise.all(servers.map((s) => s.close('SIGTERM')))
    process.stdout.write(`${JSON.stringify({ closed: true, ...predictionLog.stats(), priority, lastError })}\n`)
  })()
})
