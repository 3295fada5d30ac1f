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
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { defaultConfig, loadConfig } from '../src/config/load.js'
import { loadTrainingData } from '../src/data/load.js'
import { encodeModel } from '../src/nlu/model-file.js'
import { trainModel } from '../src/nlu/train.js'
import {
  callgrindCommand,
  callgrindControl,
  missingValgrindTool,
  readDumps,
  type ThreadCounts,
  valgrindVersion,
} from './lib/callgrind.js'
import { readTexts, sharedDatasets } from './lib/dataset.js'

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
const count = (name: 'warmup' | 'requests' | 'passes' | 'connections', min: number) => {
  const v = Number(values[name])
  if (!Number.isInteger(v) || v < min) {
    process.stderr.write(`--${name} must be an integer of at least ${min}, got '${values[name]}'\n`)
    process.exit(2)
  }
  return v
}
const WARMUP = count('warmup', 0)
const REQUESTS = count('requests', 1)
const PASSES = count('passes', 1)
const CONNECTIONS = count('connections', 1)

const log = (s: string) => process.stderr.write(`${s}\n`)
const missing = missingValgrindTool()
if (missing) {
  log(`${missing} not found: install valgrind (bash bench/setup.sh does)`)
  process.exit(2)
}

const repo = path.resolve(import.meta.dirname, '..')
const clincTest = path.join(sharedDatasets(repo), 'clinc150', 'test.jsonl')
const textsFile = values.texts ? path.resolve(values.texts) : existsSync(clincTest) ? clincTest : undefined
const TEXTS = textsFile
  ? await readTexts(textsFile)
  : ['hi there', 'I want to book a flight to Lisbon next Friday', 'cancel my reservation please']
log(`messages: ${textsFile ? path.relative(process.cwd(), textsFile) : 'three fixed sentences'} (${TEXTS.length})`)
const bodies = TEXTS.map((text) => JSON.stringify({ text }))

log('training a model on templates/default ...')
const { config, root } = await loadConfig({ dir: path.join(repo, 'templates/default') })
const data = await loadTrainingData(
  config.data.map((p) => path.resolve(root, p)),
  { root },
)
const model = await trainModel(data, { config: { ...config, name: 'bench' }, seed: 1, workers: 0 })
const work = mkdtempSync(path.join(os.tmpdir(), 'intentops-bench-instructions-'))
const modelFile = path.join(work, 'model.iom')
writeFileSync(modelFile, encodeModel(model))
const dumps = path.join(work, 'callgrind')
mkdirSync(dumps)

// ── the server, under callgrind ──
const serverArgs = {
  modelFile,
  dbPath: path.join(work, 'store.db'),
  writerNice: defaultConfig().store.writerNice,
  stages: true,
  swap: false,
}
const started = Date.now()
const child: ChildProcess = spawn(
  'valgrind',
  callgrindCommand(dumps, path.join(repo, 'bench/serve-server.ts'), [JSON.stringify(serverArgs)]),
  { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
)
let valgrindLog = ''
child.stderr!.on('data', (chunk: Buffer) => {
  valgrindLog = (valgrindLog + chunk.toString()).slice(-4000)
})
const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
const fail = (message: string): never => {
  log(`${message}\nvalgrind's last output:\n${valgrindLog}`)
  child.kill('SIGKILL')
  rmSync(work, { recursive: true, force: true })
  process.exit(1)
}
const ticker = setInterval(() => log(`  ... ${Math.round((Date.now() - started) / 1000)} s`), 15_000)
log('starting the server under callgrind (a minute or two: every instruction is simulated) ...')
let listening = false
const firstLine = await Promise.race([
  new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)),
  // The race's loser still runs: once the server listened, its exit at the end is expected.
  exited.then((code) => (listening ? '' : fail(`the server exited (code ${code}) before it listened`))),
])
listening = true
clearInterval(ticker)
const ports = JSON.parse(firstLine) as { pid: number; bare: number; logOff: number; logOn: number }
log(`server up after ${Math.round((Date.now() - started) / 1000)} s`)

interface Route {
  key: string
  name: string
  port: number
  path: string
}
const ROUTES: Route[] = [
  { key: 'bare', name: 'bare Fastify (constant)', port: ports.bare, path: '/constant' },
  { key: 'appConstant', name: 'app: request path, constant answer', port: ports.logOff, path: '/stage/constant' },
  { key: 'validated', name: 'app: + body validated', port: ports.logOff, path: '/stage/validated' },
  { key: 'predict', name: 'app: + model (predict)', port: ports.logOff, path: '/stage/predict' },
  { key: 'answer', name: 'app: + answer built and serialised', port: ports.logOff, path: '/stage/answer' },
  { key: 'logOff', name: '/v1/parse, log off', port: ports.logOff, path: '/v1/parse' },
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
  }).catch((err: Error) => fail(err.message))
  agent.destroy()
  return n / ((performance.now() - t0) / 1000)
}

function control(...args: string[]): void {
  try {
    callgrindControl(ports.pid, ...args)
  } catch (err) {
    fail((err as Error).message)
  }
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
    control('--zero')
    const rate = await fire(route, REQUESTS)
    control(`--dump=pass${pass}-${route.key}`)
    log(`pass ${pass}/${PASSES}, ${i + 1}/${ROUTES.length}: ${route.name} (${rate.toFixed(0)} req/s under callgrind)`)
  }
}
child.kill('SIGTERM')
await exited

const counts = readDumps(dumps, 'pass')
rmSync(work, { recursive: true, force: true })

const perRequest = (pass: number, key: string): ThreadCounts => {
  const c = counts.get(`pass${pass}-${key}`)
  if (!c) fail(`no callgrind dump for pass ${pass}, ${key}`)
  return { eventLoop: c!.eventLoop / REQUESTS, otherThreads: c!.otherThreads / REQUESTS }
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
