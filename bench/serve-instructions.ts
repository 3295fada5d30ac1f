/**
 * Instructions the server executes per request, counted by valgrind's callgrind: the same count for the same code
 * and requests however busy the machine is, where a wall-clock or CPU-time figure on a shared two-vCPU machine moved
 * by a third between rounds minutes apart (bench/README.md). It says whether a change makes the server do less work,
 * not how fast it runs: kernel time (the socket writes), cache misses and the CPU's speed are not in it.
 *
 * One server process (`bench/serve-server.ts`, without the swap app, whose alias polls would run between requests)
 * runs under callgrind with a count per thread. It hosts the bare Fastify route, the app with the log off, and with
 * it on (SQLite, through the writer thread). The log-off app also mounts `/v1/parse` cut short after each stage
 * (`stageRoutes` in serve-server.ts), so differences between routes price the stages: the app's request path, body
 * validation, the model, building and serialising the answer, sending it, and the log. Every route is warmed up
 * first (V8's optimizing compiler must have run), then for each pass and route the counters are zeroed, a fixed
 * number of requests sent, and the counters dumped. The parse routes' counts repeat within about 1 % between passes;
 * the bare and constant routes', which allocate least, move by up to a fifth with the garbage collection cycle an
 * earlier route left running (a full collection before each count made every route's count larger and less even).
 * Prints instructions per request, of the event loop (the main thread) and of every other thread (the log's writer,
 * V8's helpers), and writes bench/results/serve-instructions-<date>.json. Takes about ten minutes; needs valgrind
 * (`bash bench/setup.sh`).
 *
 *   npx tsx bench/serve-instructions.ts [--warmup 4000] [--requests 4000] [--passes 2] [--connections 10] [--texts FILE]
 * @module
 */
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { defaultConfig } from '../src/config/defaults.js'
import {
  benchMessages,
  CallgrindRun,
  countOption,
  requireValgrind,
  type ThreadCounts,
  valgrindVersion,
  writeTemplateModel,
} from './lib/callgrind.js'
import { type Route, stageRoutes } from './lib/stage-routes.js'

const { values } = parseArgs({
  options: {
    warmup: { type: 'string', default: '4000' },
    requests: { type: 'string', default: '4000' },
    passes: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    texts: { type: 'string' },
    out: { type: 'string' },
  },
})
const WARMUP = countOption(values, 'warmup', 0)
const REQUESTS = countOption(values, 'requests', 1)
const PASSES = countOption(values, 'passes', 1)
const CONNECTIONS = countOption(values, 'connections', 1)

const log = (s: string) => process.stderr.write(`${s}\n`)
requireValgrind()

const repo = path.resolve(import.meta.dirname, '..')
const { file: textsFile, texts: TEXTS } = await benchMessages(repo, values.texts)
const bodies = TEXTS.map((text) => JSON.stringify({ text }))

const run = new CallgrindRun('intentops-bench-instructions-')
const modelFile = path.join(run.work, 'model.iom')
await writeTemplateModel(repo, modelFile)

// ── the server, under callgrind ──
const serverArgs = {
  modelFile,
  dbPath: path.join(run.work, 'store.db'),
  writerNice: defaultConfig().store.writerNice,
  stages: true,
  swap: false,
}
const ports = await run.start<{ pid: number; bare: number; logOff: number; logOn: number }>(
  path.join(repo, 'bench/serve-server.ts'),
  [JSON.stringify(serverArgs)],
  'starting the server (a minute or two)',
)

const ROUTES: Route[] = [
  ...stageRoutes(ports),
  { key: 'logOn', name: '/v1/parse, log on (SQLite)', port: ports.logOn, path: '/v1/parse' },
]

let nextBody = 0
/** Sends `n` requests over `CONNECTIONS` keep-alive connections, the bodies in turn; fails on any non-200. */
async function fire(route: Route, n: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const t0 = performance.now()
  let sent = 0
  let done = 0
  await new Promise<void>((resolve, reject) => {
    const one = () => {
      if (sent >= n) return
      sent++
      const body = bodies[nextBody++ % bodies.length]!
      const req = http.request(
        {
          port: route.port,
          host: '127.0.0.1',
          path: route.path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume()
          res.on('end', () => {
            if (res.statusCode !== 200) {
              reject(new Error(`${route.path} answered ${res.statusCode} to ${body}`))
              return
            }
            if (++done === n) resolve()
            else one()
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    }
    for (let i = 0; i < Math.min(CONNECTIONS, n); i++) one()
  }).catch((err: Error) => run.fail(err.message))
  agent.destroy()
  return n / ((performance.now() - t0) / 1000)
}

if (WARMUP > 0) {
  for (const [i, route] of ROUTES.entries()) {
    const rate = await fire(route, WARMUP)
    log(
      `warm-up ${i + 1}/${ROUTES.length}: ${route.name}, ${WARMUP} requests (${rate.toFixed(0)} req/s under callgrind)`,
    )
  }
}
for (let pass = 1; pass <= PASSES; pass++) {
  for (const [i, route] of ROUTES.entries()) {
    run.control('--zero')
    const rate = await fire(route, REQUESTS)
    run.control(`--dump=pass${pass}-${route.key}`)
    log(`pass ${pass}/${PASSES}, ${i + 1}/${ROUTES.length}: ${route.name} (${rate.toFixed(0)} req/s under callgrind)`)
  }
}
const counts = await run.finish('pass')

const perRequest = (pass: number, key: string): ThreadCounts => {
  const c = counts.get(`pass${pass}-${key}`)
  if (!c) throw new Error(`no callgrind dump for pass ${pass}, ${key}`)
  return { eventLoop: c.eventLoop / REQUESTS, otherThreads: c.otherThreads / REQUESTS }
}
const passes = Array.from({ length: PASSES }, (_, i) => i + 1)
const k = (n: number) => `${(n / 1000).toFixed(1)}k`
const rows = ROUTES.map((r) => ({ ...r, passes: passes.map((p) => perRequest(p, r.key)) }))

console.log(
  `\ninstructions a request (callgrind, user space; ${REQUESTS} requests a route and pass over ${CONNECTIONS} connections, after ${WARMUP} of warm-up)`,
)
console.log('| route | event loop | other threads |')
console.log('|---|---:|---:|')
for (const r of rows) {
  const el = r.passes.map((c) => k(c.eventLoop)).join(' / ')
  const other = r.passes.map((c) => k(c.otherThreads)).join(' / ')
  console.log(`| ${r.name} | ${el} | ${other} |`)
}

// The stages from the last pass: the one furthest from the warm-up.
const last = (key: string) => perRequest(PASSES, key)
const stage = (a: string, b: string) => last(b).eventLoop - last(a).eventLoop
const added = stage('bare', 'logOff')
const stages = [
  { stage: "the app's request path against the bare route", instructions: stage('bare', 'appConstant') },
  { stage: 'body validation', instructions: stage('appConstant', 'validated') },
  { stage: 'the model (predict)', instructions: stage('validated', 'predict') },
  { stage: 'the answer built and serialised, the prediction counted', instructions: stage('predict', 'answer') },
  { stage: 'the answer sent', instructions: stage('answer', 'logOff') },
]
console.log(`\nwhere /v1/parse's event loop instructions go, against the bare route (pass ${PASSES})`)
console.log('| stage | instructions a request | share of what /v1/parse adds |')
console.log('|---|---:|---:|')
for (const s of stages)
  console.log(`| ${s.stage} | ${k(s.instructions)} | ${((100 * s.instructions) / added).toFixed(1)} % |`)
console.log(`| all | ${k(added)} | 100 % |`)
const logEventLoop = stage('logOff', 'logOn')
const logWriter = last('logOn').otherThreads - last('logOff').otherThreads
console.log(
  `the log: ${k(logEventLoop)} on the event loop, ${k(logWriter)} on other threads (the writer) a logged request`,
)

const ratios = {
  parseVsBare: last('bare').eventLoop / last('logOff').eventLoop,
  logOnVsLogOffEventLoop: last('logOff').eventLoop / last('logOn').eventLoop,
  logOnVsLogOffAllThreads:
    (last('logOff').eventLoop + last('logOff').otherThreads) / (last('logOn').eventLoop + last('logOn').otherThreads),
}
console.log(
  `ratios of event loop instructions (the throughput targets' measures, were instructions all that counted): /v1/parse to bare ${ratios.parseVsBare.toFixed(3)}; log on to log off ${ratios.logOnVsLogOffEventLoop.toFixed(3)} (all threads ${ratios.logOnVsLogOffAllThreads.toFixed(3)})`,
)
const spread = rows.map((r) => {
  const v = r.passes.map((c) => c.eventLoop)
  return (Math.max(...v) - Math.min(...v)) / Math.min(...v)
})
if (PASSES > 1) {
  console.log(
    `largest spread between passes of a route's event loop count: ${(100 * Math.max(...spread)).toFixed(2)} %`,
  )
}

const date = new Date().toISOString().slice(0, 10)
const out = values.out ?? path.join(repo, 'bench/results', `serve-instructions-${date}.json`)
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      valgrind: valgrindVersion(),
      messages: textsFile ? { file: path.relative(repo, textsFile), count: TEXTS.length } : TEXTS,
      warmup: WARMUP,
      requests: REQUESTS,
      connections: CONNECTIONS,
      routes: rows.map((r) => ({ key: r.key, name: r.name, path: r.path, passes: r.passes })),
      stages: stages.map((s) => ({ ...s, share: s.instructions / added })),
      log: { eventLoop: logEventLoop, otherThreads: logWriter },
      ratios,
    },
    null,
    2,
  )}\n`,
)
log(`wrote ${path.relative(process.cwd(), out)}`)
