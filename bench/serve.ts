/**
 * Serving benchmark, one server process (spawned) on loopback, driven by wrk (or autocannon), all in one run:
 *   1. throughput and latency of a bare Fastify route returning a constant, `/v1/parse` with the prediction log off,
 *      and `/v1/parse` with the log on (SQLite, or PostgreSQL with `--store-url`), at 50 connections; then every
 *      logged prediction is counted;
 *   2. 20 model swaps (promotions and rollbacks of a watched alias) during a 30 s load: failed requests, and
 *      answers that do not match what the version they name predicts ("half-loaded");
 *   3. RSS of the server over a soak under load (5 minutes by default).
 * Prints a table and writes bench/results/serve-<date>.json. Models are trained from `templates/default`. The
 * requests carry CLINC150's test messages (../shared/datasets) when they are there, else six fixed sentences.
 * Closed-loop load comes from wrk (Debian's, installed by bench/setup.sh) when it is there: on a machine whose cores
 * the server shares with its load generator, wrk takes less of them than autocannon. The swap run always uses
 * autocannon, which hands the bench every answer to check.
 *
 *   npm run bench:serve -- [--driver wrk|autocannon] [--duration 5] [--rounds 5] [--connections 50] [--swap-seconds 30] [--swaps 20] [--soak-seconds 300] [--rate R] [--texts FILE | --six-sentences] [--store-url URL] [--writer-nice N] [--unpinned] [--out FILE]
 * @module
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs, promisify } from 'node:util'
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import pg from 'pg'
import { defaultConfig } from '../src/config/defaults.js'
import { loadTrainingData } from '../src/data/load.js'
import { decodeModel, encodeModel } from '../src/nlu/model-file.js'
import { trainModel } from '../src/nlu/train.js'
import { loadConfig } from '../src/project/config.js'
import { createFsBackend } from '../src/registry/backends/fs.js'
import { ModelRegistry } from '../src/registry/registry.js'
import { evalSummary, testSigner } from '../test/helpers/registry.js'
import { readTexts, sharedDatasets } from './lib/dataset.js'
import type { OpenLoopResult } from './lib/open-loop.js'
import { cpuAffinity, cpuList, cpuUs as procCpuUs, setCpuAffinity } from './lib/proc.js'
import { wrk, wrkVersion } from './lib/wrk.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    'swap-seconds': { type: 'string', default: '30' },
    swaps: { type: 'string', default: '20' },
    'soak-seconds': { type: 'string', default: '300' },
    rate: { type: 'string', default: '0' },
    driver: { type: 'string' },
    texts: { type: 'string' },
    'six-sentences': { type: 'boolean', default: false },
    'store-url': { type: 'string' },
    'writer-nice': { type: 'string' },
    unpinned: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write(
    'npm run bench:serve -- [--driver wrk|autocannon] [--duration S] [--rounds N] [--connections N] [--swap-seconds S] [--swaps N] [--soak-seconds S] [--rate R] [--texts FILE | --six-sentences] [--store-url URL] [--writer-nice N] [--unpinned] [--out FILE]\n' +
      '  --driver: the closed-loop load generator; wrk when it is installed (bash bench/setup.sh), else autocannon\n' +
      '  --rate: offered req/s of the fixed-rate (open-loop) latency runs; 0 (default) = half the measured /v1/parse capacity\n' +
      '  --texts: JSONL of messages ({"text": ...} a line) sent in turn across all connections; default\n' +
      '    ../shared/datasets/clinc150/test.jsonl when it is there\n' +
      '  --six-sentences: send six fixed sentences instead (six margins: runs of ties in the log indexes)\n' +
      '  --store-url: log into this PostgreSQL database (a schema of its own, dropped after) instead of SQLite\n' +
      "  --writer-nice: store.writerNice of the log-on server (default: the config's default)\n" +
      "  --unpinned: run the fixed-rate rows with the server and the generator on any CPU (default: the server's event\n" +
      '    loop on the last CPU, the generator on the others, when taskset is there and the machine has two or more)\n' +
      '  --out: the JSON file to write (default bench/results/serve-<date>.json)\n',
  )
  process.exit(0)
}
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const swapSeconds = Number(values['swap-seconds'])
const swapCount = Number(values.swaps)
const soakSeconds = Number(values['soak-seconds'])
const fixedRate = Number(values.rate)
const writerNice =
  values['writer-nice'] === undefined ? defaultConfig().store.writerNice : Number(values['writer-nice'])
if (!Number.isInteger(writerNice) || writerNice < 0 || writerNice > 19) {
  process.stderr.write(`--writer-nice must be an integer from 0 to 19, got ${JSON.stringify(values['writer-nice'])}\n`)
  process.exit(2)
}
const autocannonVersion = () =>
  (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version
const wrkFound = wrkVersion()
const driver = values.driver ?? (wrkFound ? 'wrk' : 'autocannon')
if (driver !== 'wrk' && driver !== 'autocannon') {
  process.stderr.write(`--driver must be wrk or autocannon, got ${JSON.stringify(driver)}\n`)
  process.exit(2)
}
if (driver === 'wrk' && !wrkFound) {
  process.stderr.write('--driver wrk: no `wrk` on PATH; install it with `bash bench/setup.sh` (Debian package wrk)\n')
  process.exit(2)
}
if (!wrkFound)
  process.stderr.write('wrk not found (bash bench/setup.sh installs it): closed-loop load from autocannon\n')
const driverVersion = driver === 'wrk' ? wrkFound! : `autocannon ${autocannonVersion()}`

const repo = path.resolve(import.meta.dirname, '..')
// Real messages by default: each has its own margin and confidence, and the log's uncertainty indexes cost what they
// cost in production. Six sentences give six margins, and hid a writer that fell behind (bench/README.md).
const clincTest = path.join(sharedDatasets(repo), 'clinc150', 'test.jsonl')
if (values.texts && values['six-sentences']) {
  process.stderr.write('--texts and --six-sentences exclude each other\n')
  process.exit(2)
}
const textsFile = values.texts
  ? path.resolve(values.texts)
  : !values['six-sentences'] && existsSync(clincTest)
    ? clincTest
    : undefined
if (!values.texts && !values['six-sentences']) {
  process.stderr.write(
    textsFile
      ? `messages: ${path.relative(process.cwd(), textsFile)} (--six-sentences for the fixed six)\n`
      : `messages: six fixed sentences (${path.relative(process.cwd(), clincTest)} not found; --texts FILE for real ones)\n`,
  )
}
// Read before anything is made, so a bad file fails at once.
const TEXTS = textsFile
  ? await readTexts(textsFile)
  : [
      'hi there',
      'I want to book a flight to Lisbon next Friday',
      'how much luggage can I take',
      'cancel my reservation please',
      'is flight BA117 on time',
      'can I get my money back',
    ]
const bodies = TEXTS.map((text) => JSON.stringify({ text }))
const work = mkdtempSync(path.join(os.tmpdir(), 'intentops-bench-serve-'))
// For the open-loop generator's process (bench/open-loop-run.ts).
const bodiesFile = path.join(work, 'bodies.txt')
writeFileSync(bodiesFile, `${bodies.join('\n')}\n`)
const execFileAsync = promisify(execFile)
const log = (s: string) => process.stderr.write(`${s}\n`)

// ── models from the default template ──
log('training two models on templates/default ...')
const template = path.join(repo, 'templates/default')
const { config, root } = await loadConfig({ dir: template })
const data = await loadTrainingData(
  config.data.map((p) => path.resolve(root, p)),
  { root },
)
const modelA = await trainModel(data, { config: { ...config, name: 'bench' }, seed: 1, workers: 0 })
const dataB = { ...data, examples: data.examples.filter((_, i) => i % 4 !== 0) }
const modelB = await trainModel(dataB, { config: { ...config, name: 'bench' }, seed: 2, workers: 0 })
const bytesA = encodeModel(modelA)
const bytesB = encodeModel(modelB)
const modelFile = path.join(work, 'model.iom')
writeFileSync(modelFile, bytesA)

/** version → text → "intent confidence" that version predicts, to catch answers from a half-loaded model. */
const expected: Record<string, Record<string, string>> = {
  '1': predictions(decodeModel(bytesA)),
  '2': predictions(decodeModel(bytesB)),
}
function predictions(model: ReturnType<typeof decodeModel>) {
  return Object.fromEntries(TEXTS.map((t) => [t, sig(model.parse(t).intent)]))
}
function sig(i: { name: string; confidence: number }) {
  return `${i.name} ${i.confidence}`
}

// ── registry with two signed versions ──
const key = testSigner()
const registryDir = path.join(work, 'registry')
mkdirSync(registryDir)
const registry = new ModelRegistry(createFsBackend({ root: registryDir }), {
  trust: { trustedKeys: [key.publicKey], allowUnsigned: false },
  signer: key.signer,
})
await registry.publish({ name: 'bench', bytes: bytesA, author: 'bench', eval: evalSummary(0.8) })
await registry.publish({ name: 'bench', bytes: bytesB, author: 'bench', eval: evalSummary(0.9) })
const gates = config.gates
const policy = { ...gates, minMacroF1: undefined, mustPass: false }
await registry.promote({ name: 'bench', version: 1, alias: 'production', policy, actor: 'bench' })

// ── the server process ──
const dbPath = path.join(work, 'store.db')
const storeUrl = values['store-url']
const storeSchema = `bench_serve_${process.pid}`
const LOG_ON = `/v1/parse, log on (${storeUrl ? 'PostgreSQL' : 'SQLite'})`
const child: ChildProcess = spawn(
  path.join(repo, 'node_modules/.bin/tsx'),
  [
    path.join(repo, 'bench/serve-server.ts'),
    JSON.stringify({
      modelFile,
      registryDir,
      publicKey: key.signer.publicKey,
      dbPath,
      writerNice,
      ...(storeUrl ? { storeUrl, storeSchema } : {}),
    }),
  ],
  { cwd: work, stdio: ['ignore', 'pipe', 'inherit'] },
)
const lines = createInterface({ input: child.stdout! })
const nextLine = () => new Promise<string>((resolve) => lines.once('line', resolve))
const ports = JSON.parse(await nextLine()) as { pid: number; bare: number; logOff: number; logOn: number; swap: number }
const url = (port: number) => `http://127.0.0.1:${port}`

interface Run {
  requestsPerSec: number
  p50: number
  p99: number
  ok: number
  non2xx: number
  errors: number
  timeouts: number
  /** Server CPU (every thread: the event loop, the SQLite writer, GC) per answered request, µs, from /proc. */
  cpuUsPerRequest: number
  /** Of which the main thread (the event loop and what runs on it); the rest is the log writer, GC helpers, libuv. */
  loopUsPerRequest: number
  /** The load generator's own CPU per request, µs: it shares the machine's cores with the server. */
  generatorUsPerRequest: number
  /** The server's garbage-collection pauses per request, µs (the event loop waits through them), and their count. */
  gcPauseUsPerRequest: number
  gcPauses: number
  /**
   * Log-on runs: CPU of the log's writer thread (its own metric, Linux) from the run's start until its records were
   * written, per answered request, µs. Part of `cpuUsPerRequest`, and more of it lands after the load stops.
   */
  writerUsPerRequest?: number
}

/** The server process's garbage-collection pauses so far (served by serve-server.ts). */
async function gcSoFar(): Promise<{ pauseMs: number; count: number; longestMs: number }> {
  const res = await fetch(`http://127.0.0.1:${ports.bare}/gc`)
  return (await res.json()) as { pauseMs: number; count: number; longestMs: number }
}

/** CPU time of the server process so far (user + system), µs: every thread, or the thread `thread` alone. */
const cpuUs = (thread?: number) => procCpuUs(ports.pid, thread)

const usOf = (u: NodeJS.CpuUsage) => u.user + u.system

let nextBody = 0
async function load(target: string, seconds: number, conns = connections, check?: (body: string) => void) {
  const gcBefore = await gcSoFar()
  const cpuBefore = cpuUs()
  const loopBefore = cpuUs(ports.pid)
  const selfBefore = process.cpuUsage()
  const gcOf = async (requests: number) => {
    const after = await gcSoFar()
    return {
      gcPauseUsPerRequest: ((after.pauseMs - gcBefore.pauseMs) * 1000) / Math.max(1, requests),
      gcPauses: after.count - gcBefore.count,
    }
  }
  if (driver === 'wrk' && !check) {
    const r = await wrk({ url: target, bodies, connections: conns, seconds })
    return {
      requestsPerSec: r.requestsPerSec,
      p50: r.p50,
      p99: r.p99,
      ok: r.requests - r.non2xx,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      cpuUsPerRequest: (cpuUs() - cpuBefore) / Math.max(1, r.requests),
      loopUsPerRequest: (cpuUs(ports.pid) - loopBefore) / Math.max(1, r.requests),
      generatorUsPerRequest: r.cpuUsPerRequest,
      ...(await gcOf(r.requests)),
    } satisfies Run
  }
  const result = await autocannon({
    url: target,
    connections: conns,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: textsFile
      ? // Every connection would walk a list from its start in step with the others; one shared turn spreads the
        // messages, so each is parsed once per pass rather than once per connection within a few milliseconds.
        [
          {
            method: 'POST' as const,
            setupRequest: (req: autocannon.Request) => ({ ...req, body: bodies[nextBody++ % bodies.length]! }),
            ...(check ? { onResponse: (_status: number, resBody: string) => check(resBody) } : {}),
          },
        ]
      : bodies.map((body) => ({
          method: 'POST' as const,
          body,
          ...(check ? { onResponse: (_status: number, resBody: string) => check(resBody) } : {}),
        })),
  })
  return {
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuUsPerRequest: (cpuUs() - cpuBefore) / Math.max(1, result.requests.total),
    loopUsPerRequest: (cpuUs(ports.pid) - loopBefore) / Math.max(1, result.requests.total),
    generatorUsPerRequest: usOf(process.cpuUsage(selfBefore)) / Math.max(1, result.requests.total),
    ...(await gcOf(result.requests.total)),
  } satisfies Run
}

/**
 * Open-loop requests at a fixed offered rate from a generator process (on `generatorCpus` when given), with the
 * server's CPU and GC pauses per request.
 */
async function atRate(port: number, urlPath: string, rate: number, seconds: number, generatorCpus?: string) {
  await fetch(`http://127.0.0.1:${ports.bare}/gc?longest=reset`)
  const gcBefore = await gcSoFar()
  const cpuBefore = cpuUs()
  const options = { host: '127.0.0.1', port, path: urlPath, bodiesFile, connections, rate, seconds }
  const generator = [path.join(repo, 'node_modules/.bin/tsx'), path.join(repo, 'bench/open-loop-run.ts')]
  const [command, ...args] = generatorCpus ? ['taskset', '-c', generatorCpus, ...generator] : generator
  const { stdout } = await execFileAsync(command!, [...args, JSON.stringify(options)], { maxBuffer: 1 << 20 })
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as OpenLoopResult
  const cpuAfter = cpuUs()
  const gcAfter = await gcSoFar()
  const answered = Math.max(1, r.ok + r.non2xx)
  return {
    ...r,
    cpuUsPerRequest: (cpuAfter - cpuBefore) / answered,
    gcPauseUsPerRequest: ((gcAfter.pauseMs - gcBefore.pauseMs) * 1000) / answered,
    gcPauses: gcAfter.count - gcBefore.count,
    gcLongestMs: gcAfter.longestMs,
  }
}

const rssMb = () => {
  const status = readFileSync(`/proc/${ports.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024
}

// ── 1. throughput: the three targets in turn, `rounds` times, so a busy moment of the machine hits all alike ──
const TARGETS = [
  ['bare Fastify (constant)', `${url(ports.bare)}/constant`],
  ['/v1/parse, log off', `${url(ports.logOff)}/v1/parse`],
  [LOG_ON, `${url(ports.logOn)}/v1/parse`],
] as const
const all: Record<string, Run[]> = Object.fromEntries(TARGETS.map(([name]) => [name, []]))
/**
 * Waits until the log-on server's queue is empty, so that its writer thread's backlog from one run is not written
 * during, and charged to, the next (the bare route's or the log-off app's), then until the kernel has written the
 * dirty pages out (`sync`), which it would otherwise do during a later run. Without the sync, a log-off row right
 * after a log-on one (the rounds run in reverse every other round) read up to 1.06 times the log-on throughput
 * (bench/README.md, 2026-11-24). Returns how long the queue took to drain, ms; the sync's time goes to `syncMs`.
 */
async function logDrained(): Promise<number> {
  const t = performance.now()
  for (;;) {
    const text = await (await fetch(`${url(ports.logOn)}/metrics`)).text()
    if (/^intentops_prediction_log_queue_depth 0$/m.test(text)) break
    if (performance.now() - t > 60_000) throw new Error('the prediction log did not drain within 60 s')
    await new Promise((r) => setTimeout(r, 20))
  }
  const drained = performance.now() - t
  await execFileAsync('sync')
  syncMs.push(performance.now() - t - drained)
  return drained
}
const drainMs: number[] = []
const syncMs: number[] = []
for (const [, target] of TARGETS) await load(target, 2)
await logDrained()
/** CPU seconds the log-on app's writer thread has used so far, from its /metrics. */
async function writerCpuSeconds(): Promise<number> {
  const text = await (await fetch(`${url(ports.logOn)}/metrics`)).text()
  return Number(/^intentops_prediction_log_writer_cpu_seconds_total (\S+)$/m.exec(text)?.[1] ?? Number.NaN)
}
// Every other round runs the targets in reverse, so that a machine slowing or speeding up through a round does not
// favour the target that runs first; each round's ratios then compare neighbours in time both ways.
for (let round = 1; round <= rounds; round++) {
  for (const [name, target] of round % 2 ? TARGETS : [...TARGETS].reverse()) {
    log(`load: ${name}, round ${round}/${rounds} (${duration} s at ${connections} connections) ...`)
    const logOn = target === TARGETS[2][1]
    const writerBefore = logOn ? await writerCpuSeconds() : 0
    const run: Run = await load(target, duration)
    if (logOn) {
      drainMs.push(await logDrained())
      run.writerUsPerRequest = (((await writerCpuSeconds()) - writerBefore) * 1e6) / Math.max(1, run.ok + run.non2xx)
    }
    all[name]!.push(run)
  }
}
/** The round with the median throughput of each target. */
const runs: Record<string, Run> = Object.fromEntries(
  Object.entries(all).map(([name, rs]) => [
    name,
    [...rs].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[rs.length >> 1]!,
  ]),
)
const logged = await loggedCounter()
const count = logged.count
/** Successful parses the server itself counted (autocannon stops counting answers still in flight at its deadline). */
const answered200 = async (port: number) => {
  await new Promise((r) => setTimeout(r, 500))
  const text = await (await fetch(`${url(port)}/metrics`)).text()
  return Number(
    /intentops_http_requests_total\{route="\/v1\/parse",method="POST",status="200"\} (\d+)/.exec(text)?.[1] ?? 0,
  )
}
const logOnOk = await answered200(ports.logOn)
const deadline = Date.now() + 30_000
while ((await count()) < logOnOk && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
const loggedAfterSaturation = await count()

// ── 1b. latency at a fixed offered rate (open loop), below saturation: what a latency SLO measures ──
const rate = Math.round(fixedRate > 0 ? fixedRate : runs['/v1/parse, log off']!.requestsPerSec / 2)
const RATE_TARGETS = [
  ['bare Fastify (constant)', ports.bare, '/constant'],
  ['/v1/parse, log off', ports.logOff, '/v1/parse'],
  [LOG_ON, ports.logOn, '/v1/parse'],
] as const
type RateRun = OpenLoopResult & {
  cpuUsPerRequest: number
  gcPauseUsPerRequest: number
  gcPauses: number
  /** The server's longest garbage-collection pause during the run, ms. */
  gcLongestMs: number
}
/**
 * The open-loop generator runs in a process of its own (bench/open-loop-run.ts). For these rows, the server's event
 * loop (its main thread) runs on the last CPU and the generator on the others: sharing a core, each waits for the
 * other's time slice, and the generator's turn lands in the server's latency. The server's other threads (the log
 * writer, which also fills the text index after its queue drained, GC helpers, libuv) stay free to run on any CPU, as
 * they do unpinned. The server's affinity is restored afterwards.
 */
const affinityBefore = cpuAffinity(ports.pid)
const cpusBefore = affinityBefore ? cpuList(affinityBefore) : []
const pinned =
  !values.unpinned && cpusBefore.length >= 2
    ? { eventLoop: String(cpusBefore.at(-1)), generator: cpusBefore.slice(0, -1).join(',') }
    : undefined
if (pinned) {
  setCpuAffinity(ports.pid, pinned.eventLoop, { mainThreadOnly: true })
  log(`fixed rate: the server's event loop on CPU ${pinned.eventLoop}, the generator on CPU ${pinned.generator}`)
}
// In rounds, like the saturation runs: one 5 s run's p99 is the ~200th worst answer, which a single pause of the
// machine (the bare route's too) decides. The round with the median p99 counts; every round is printed and kept.
const rateRounds: Record<string, RateRun[]> = Object.fromEntries(RATE_TARGETS.map(([name]) => [name, []]))
for (let round = 1; round <= rounds; round++) {
  for (const [name, port, p] of RATE_TARGETS) {
    log(
      `fixed rate: ${name}, round ${round}/${rounds}, ${rate} req/s for ${duration} s at ${connections} connections ...`,
    )
    rateRounds[name]!.push(await atRate(port, p, rate, duration, pinned?.generator))
    // As after the saturation rows: the writer thread's backlog is not left to the next row.
    if (port === ports.logOn) await logDrained()
  }
}
if (pinned) setCpuAffinity(ports.pid, affinityBefore!, { mainThreadOnly: true })
const rateRuns: Record<string, RateRun> = Object.fromEntries(
  Object.entries(rateRounds).map(([name, rs]) => [
    name,
    [...rs].sort((a, b) => a.fromSend.p99 - b.fromSend.p99)[rs.length >> 1]!,
  ]),
)
const logOnOkWithRate = await answered200(ports.logOn)
const rateDeadline = Date.now() + 30_000
while ((await count()) < logOnOkWithRate && Date.now() < rateDeadline) await new Promise((r) => setTimeout(r, 100))
const loggedWithRate = await count()

// ── 2. swaps under load ──
log(`swaps: ${swapCount} during ${swapSeconds} s of load ...`)
let halfLoaded = 0
const seenVersions = new Set<string>()
const checkAnswer = (body: string) => {
  try {
    const r = JSON.parse(body) as {
      text: string
      intent: { name: string; confidence: number }
      model: { version: string }
    }
    seenVersions.add(r.model.version)
    if (expected[r.model.version]?.[r.text] !== sig(r.intent)) halfLoaded++
  } catch {
    halfLoaded++
  }
}
const swapLoad = load(`${url(ports.swap)}/v1/parse`, swapSeconds, connections, checkAnswer)
const swapTimes: number[] = []
const gap = (swapSeconds * 1000 * 0.8) / swapCount
await new Promise((r) => setTimeout(r, gap / 2))
for (let i = 0; i < swapCount; i++) {
  const target = i % 2 === 0 ? 2 : 1
  const t = performance.now()
  if (target === 2) await registry.promote({ name: 'bench', version: 2, alias: 'production', policy, actor: 'bench' })
  else await registry.rollback({ name: 'bench', alias: 'production', actor: 'bench' })
  // Picked up when /v1/models reports it.
  for (;;) {
    const active = (await (await fetch(`${url(ports.swap)}/v1/models`)).json()) as {
      active: { version: string } | null
    }
    if (active.active?.version === String(target)) break
    await new Promise((r) => setTimeout(r, 10))
  }
  swapTimes.push(performance.now() - t)
  await new Promise((r) => setTimeout(r, Math.max(0, gap - (performance.now() - t))))
}
const swapRun = await swapLoad
const metrics = await (await fetch(`${url(ports.swap)}/metrics`)).text()
const loadsOk = Number(/intentops_model_loads_total\{result="ok"\} (\d+)/.exec(metrics)?.[1])
const loadsFailed = Number(/intentops_model_loads_total\{result="failed"\} (\d+)/.exec(metrics)?.[1])

// ── 3. soak ──
log(`soak: ${soakSeconds} s of load on the log-on server, sampling RSS ...`)
const samples: Array<{ t: number; rssMb: number }> = []
const started = Date.now()
const sampler = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, rssMb: rssMb() }), 1000)
// The process's memory by part every 5 s (one request to the bare server, which shares the process), to say what
// a change of RSS over the soak was made of.
interface MemorySample {
  t: number
  rss: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
  spaces: Record<string, number>
}
const memory: MemorySample[] = []
const memorySampler = setInterval(() => {
  const t = (Date.now() - started) / 1000
  fetch(`${url(ports.bare)}/memory`)
    .then((r) => r.json() as Promise<Omit<MemorySample, 't'>>)
    .then((m) => memory.push({ t, ...m }))
    .catch(() => {})
}, 5000)
const soakWriterBefore = await writerCpuSeconds()
const soakRun: Run = await load(`${url(ports.logOn)}/v1/parse`, soakSeconds, 10)
clearInterval(sampler)
clearInterval(memorySampler)
await logDrained()
// Over millions of rows the log's indexes outgrow a batch, which the saturation runs' small log does not show.
soakRun.writerUsPerRequest =
  (((await writerCpuSeconds()) - soakWriterBefore) * 1e6) / Math.max(1, soakRun.ok + soakRun.non2xx)
const logOnAnsweredTotal = await answered200(ports.logOn)
// Warm-up: the first fifth of the soak (caches, JIT, SQLite page cache), at most 60 s.
const warmup = Math.min(60, soakSeconds / 5)
const steady = samples.filter((s) => s.t >= warmup).map((s) => s.rssMb)
// Under load the V8 heap rises in a sawtooth, up to ~90 MB above its floor between full collections, one every
// 20–60 s. A window's mean says where that sawtooth stood; what a leak raises is the floor the collections return to.
// Drift compares the floors (10th percentile) of the first and last fifth of the steady samples, each long enough to
// hold a full collection; the mean-based figure of a tenth is printed beside it.
const fifth = Math.max(1, Math.floor(steady.length / 5))
const tenth = Math.max(1, Math.floor(steady.length / 10))
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const floor = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 10)]!
const firstFloor = floor(steady.slice(0, fifth))
const lastFloor = floor(steady.slice(-fifth))
const firstMean = mean(steady.slice(0, tenth))
const lastMean = mean(steady.slice(-tenth))
const rss = {
  warmupSeconds: warmup,
  startMb: firstFloor,
  endMb: lastFloor,
  minMb: Math.min(...steady),
  maxMb: Math.max(...steady),
  driftPct: ((lastFloor - firstFloor) / firstFloor) * 100,
  meanDriftPct: ((lastMean - firstMean) / firstMean) * 100,
  rangePct: ((Math.max(...steady) - Math.min(...steady)) / Math.min(...steady)) * 100,
}

// What the RSS between the first and last fifth of the steady part was made of: medians of each part's samples in
// those windows, MB. V8's heap by space; memory outside the heap that V8 knows of (Buffers, typed arrays); and the
// rest of RSS, native memory V8 does not see (malloc arenas, SQLite's page cache in the log writer thread, code).
const MB = 1024 * 1024
const steadyMemory = memory.filter((m) => m.t >= warmup)
const memFifth = Math.max(1, Math.floor(steadyMemory.length / 5))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const memoryParts = (ms: MemorySample[]) => {
  const parts: Record<string, number> = {
    rss: median(ms.map((m) => m.rss)) / MB,
    'V8 heap': median(ms.map((m) => m.heapTotal)) / MB,
    external: median(ms.map((m) => m.external)) / MB,
    'native (rest of RSS)': median(ms.map((m) => m.rss - m.heapTotal - m.external)) / MB,
  }
  for (const space of Object.keys(ms[0]?.spaces ?? {})) parts[space] = median(ms.map((m) => m.spaces[space] ?? 0)) / MB
  return parts
}
const memoryFirst = steadyMemory.length > 0 ? memoryParts(steadyMemory.slice(0, memFifth)) : {}
const memoryLast = steadyMemory.length > 0 ? memoryParts(steadyMemory.slice(-memFifth)) : {}

// ── shutdown: the log-on server flushes everything it answered ──
child.kill('SIGTERM')
const closed = JSON.parse(await nextLine()) as {
  written: number
  dropped: number
  failedWrites: number
  lastError: string
}
const totalLogged = await count()
await logged.close()

// ── report ──
const bare = runs['bare Fastify (constant)']!
const off = runs['/v1/parse, log off']!
const on = runs[LOG_ON]!
/**
 * The median over rounds of one round's throughput ratio. A round's runs follow each other, so their ratio shares the
 * machine's speed at that moment; the ratio of two medians picked from different rounds does not.
 */
const pairedRatio = (a: string, b: string) => {
  const ratios = all[a]!.map((r, i) => r.requestsPerSec / all[b]![i]!.requestsPerSec).sort((x, y) => x - y)
  return ratios[ratios.length >> 1]!
}
const targets = {
  parseVsBare: { value: pairedRatio('/v1/parse, log off', 'bare Fastify (constant)'), target: '>= 0.60' },
  parseP99MsAtRate: { value: rateRuns['/v1/parse, log off']!.fromSend.p99, target: '< 5' },
  logOnVsLogOff: { value: pairedRatio(LOG_ON, '/v1/parse, log off'), target: '>= 0.85' },
  recordsLost: { value: logOnOkWithRate - loggedWithRate, target: '0' },
  recordsLostAfterSoakAndShutdown: { value: logOnAnsweredTotal - totalLogged, target: '0' },
  swapFailedRequests: { value: swapRun.non2xx + swapRun.errors + swapRun.timeouts, target: '0' },
  swapHalfLoaded: { value: halfLoaded, target: '0' },
  rssDriftPct: { value: rss.driftPct, target: '|x| <= 10' },
}
const pass = {
  parseVsBare: targets.parseVsBare.value >= 0.6,
  parseP99MsAtRate: targets.parseP99MsAtRate.value < 5,
  logOnVsLogOff: targets.logOnVsLogOff.value >= 0.85,
  recordsLost: targets.recordsLost.value === 0,
  recordsLostAfterSoakAndShutdown: targets.recordsLostAfterSoakAndShutdown.value === 0,
  swapFailedRequests: targets.swapFailedRequests.value === 0,
  swapHalfLoaded: targets.swapHalfLoaded.value === 0,
  rssDriftPct: Math.abs(targets.rssDriftPct.value) <= 10,
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a')
/**
 * Each throughput ratio within one round, whose runs followed each other within seconds. The targets divide each
 * route's median round, which may come from different rounds; on a machine whose speed drifts over a minute, the
 * spread of the paired ratios shows how much of a ratio is the machine.
 */
const roundRatios = (a: string, b: string) =>
  all[a]!.map((r, i) => f(r.requestsPerSec / all[b]![i]!.requestsPerSec, 3)).join(' / ')
const table = [
  `saturation (closed loop, ${driverVersion}, ${connections} connections; p50/p99 here are queueing at full load; the swap run: autocannon)`,
  `| run | req/s | p50 ms | p99 ms | CPU µs/req | of which event loop | of which log writer | GC pause µs/req (pauses) | generator CPU µs/req | 2xx | non-2xx | errors |`,
  `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ...(
    [
      ...Object.entries(runs),
      [`swaps (${swapCount} in ${swapSeconds} s)`, swapRun],
      [`soak (${soakSeconds} s, 10 connections, log on)`, soakRun],
    ] as Array<[string, Run]>
  ).map(
    ([name, r]) =>
      `| ${name} | ${f(r.requestsPerSec, 0)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.cpuUsPerRequest, 0)} | ${f(r.loopUsPerRequest, 0)} | ${r.writerUsPerRequest === undefined ? '' : f(r.writerUsPerRequest, 0)} | ${f(r.gcPauseUsPerRequest)} (${r.gcPauses}) | ${f(r.generatorUsPerRequest, 0)} | ${r.ok} | ${r.non2xx} | ${r.errors + r.timeouts} |`,
  ),
  `throughput ratios within each round (the targets take their medians): /v1/parse to bare ${roundRatios('/v1/parse, log off', 'bare Fastify (constant)')}; log on to log off ${roundRatios(LOG_ON, '/v1/parse, log off')}`,
  `ratios of the rows above (the targets' measure until 2026-11-24): /v1/parse to bare ${f(off.requestsPerSec / bare.requestsPerSec, 3)}; log on to log off ${f(on.requestsPerSec / off.requestsPerSec, 3)}`,
  '',
  `fixed offered rate (open loop, ${rate} req/s, ${connections} connections, ${duration} s, ${pinned ? `event loop on CPU ${pinned.eventLoop}, generator on CPU ${pinned.generator}` : 'unpinned'}, the round with the median p99 of ${rounds}; latency from send / from schedule)`,
  `| run | answered/s | p50 ms | p90 ms | p99 ms | max ms | p99 from schedule | CPU µs/req | GC pauses (longest ms) | generator late p99 / max ms | 2xx | non-2xx | errors | unfinished |`,
  `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ...Object.entries(rateRuns).map(
    ([name, r]) =>
      `| ${name} | ${f(r.achievedRate, 0)} | ${f(r.fromSend.p50, 2)} | ${f(r.fromSend.p90, 2)} | ${f(r.fromSend.p99, 2)} | ${f(r.fromSend.max, 1)} | ${f(r.fromScheduled.p99, 2)} | ${f(r.cpuUsPerRequest, 0)} | ${r.gcPauses} (${f(r.gcLongestMs, 1)}) | ${f(r.generatorLoopDelay.p99, 1)} / ${f(r.generatorLoopDelay.max, 1)} | ${r.ok} | ${r.non2xx} | ${r.errors} | ${r.unfinished} |`,
  ),
  `p99 ms of every round: ${Object.entries(rateRounds)
    .map(([name, rs]) => `${name} ${rs.map((r) => f(r.fromSend.p99, 2)).join(' / ')}`)
    .join('; ')}`,
]
const summary = [
  `| target | value | goal | |`,
  `|---|---:|---|---|`,
  ...Object.entries(targets).map(
    ([k, t]) =>
      `| ${k} | ${f(t.value, k.endsWith('Pct') || k.includes('Ms') ? 2 : 3)} | ${t.target} | ${pass[k as keyof typeof pass] ? 'pass' : 'FAIL'} |`,
  ),
]
process.stdout.write(`\n${table.join('\n')}\n\n${summary.join('\n')}\n\n`)
process.stdout.write(
  `logged with the log on (its writer thread at nice +${writerNice}): ${loggedAfterSaturation} of ${logOnOk} answered after the saturation runs, ${loggedWithRate} of ${logOnOkWithRate} after the fixed-rate ones; after the soak and SIGTERM: ${totalLogged} of ${logOnAnsweredTotal} (written ${closed.written}, dropped ${closed.dropped}, failed writes ${closed.failedWrites}${closed.lastError ? `: ${closed.lastError}` : ''})\n` +
    `the log-on runs' queues drained ${drainMs.map((ms) => f(ms, 0)).join(' / ')} ms after their load stopped; each sync then took ${syncMs.map((ms) => f(ms, 0)).join(' / ')} ms\n` +
    `swaps: ${swapCount}, picked up in p50 ${f(percentile(swapTimes, 50), 0)} ms / max ${f(Math.max(...swapTimes), 0)} ms; versions answered ${[...seenVersions].sort().join(', ')}; model loads ok ${loadsOk}, failed ${loadsFailed}\n` +
    `RSS after ${f(rss.warmupSeconds, 0)} s warm-up, floor (10th percentile) of the first and last fifth: ${f(rss.startMb)} → ${f(rss.endMb)} MB, drift ${f(rss.driftPct, 2)}% (min ${f(rss.minMb)}, max ${f(rss.maxMb)}; means of the first and last tenth: drift ${f(rss.meanDriftPct, 2)}%)\n` +
    `memory by part, medians of the first and last fifth after warm-up (MB, ${steadyMemory.length} samples): ${Object.keys(
      memoryFirst,
    )
      .filter((k) => (memoryFirst[k] ?? 0) > 0.05 || (memoryLast[k] ?? 0) > 0.05)
      .map((k) => `${k} ${f(memoryFirst[k]!)} → ${f(memoryLast[k]!)}`)
      .join('; ')}\n`,
)

const date = new Date().toISOString().slice(0, 10)
const out = path.resolve(values.out ?? path.join(repo, 'bench/results', `serve-${date}.json`))
mkdirSync(path.dirname(out), { recursive: true })
writeFileSync(
  `${out}.tmp`,
  `${JSON.stringify(
    {
      benchmark: 'serve',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, platform: process.platform },
      settings: {
        driver: driverVersion,
        duration,
        connections,
        fixedRate: rate,
        fixedRatePinned: pinned ?? false,
        swapSeconds,
        swaps: swapCount,
        soakSeconds,
        texts: textsFile ? { file: textsFile, count: TEXTS.length } : TEXTS,
        model: 'templates/default',
      },
      runs,
      fixedRate: rateRuns,
      fixedRateRounds: rateRounds,
      swap: { run: swapRun, halfLoaded, pickupMs: swapTimes, versionsSeen: [...seenVersions], loadsOk, loadsFailed },
      soak: { run: soakRun, rss, samples, memory: { first: memoryFirst, last: memoryLast, samples: memory } },
      log: {
        drainMsAfterRounds: drainMs,
        syncMsAfterDrains: syncMs,
        store: storeUrl ? 'postgres' : 'sqlite',
        writerNice,
        answered: logOnOk,
        logged: loggedAfterSaturation,
        answeredWithRate: logOnOkWithRate,
        loggedWithRate,
        answeredWithSoak: logOnAnsweredTotal,
        afterShutdown: totalLogged,
        closed,
      },
      rounds: all,
      targets,
      pass,
    },
    null,
    2,
  )}\n`,
)
renameSync(`${out}.tmp`, out)
process.stdout.write(`wrote ${path.relative(repo, out)}\n`)
rmSync(work, { recursive: true, force: true })

/** Counts the rows logged so far, in the SQLite file or the PostgreSQL schema (dropped by `close`). */
async function loggedCounter(): Promise<{ count: () => Promise<number>; close: () => Promise<void> }> {
  if (!storeUrl) {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true })
    return {
      count: async () => (db.prepare('select count(*) as n from predictions').get() as { n: number }).n,
      close: async () => void db.close(),
    }
  }
  const client = new pg.Client({ connectionString: storeUrl })
  await client.connect()
  const table = `${client.escapeIdentifier(storeSchema)}.predictions`
  return {
    count: async () => Number((await client.query(`select count(*) as n from ${table}`)).rows[0].n),
    close: async () => {
      await client.query(`drop schema if exists ${client.escapeIdentifier(storeSchema)} cascade`)
      await client.end()
    },
  }
}

function percentile(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN
}
