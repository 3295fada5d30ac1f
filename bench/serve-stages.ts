/**
 * What each stage of `/v1/parse` costs the server under load, in CPU time: `bench/serve-instructions.ts` counts the
 * same stages in instructions, which leaves out the kernel (the socket writes), cache misses and the CPU's speed,
 * and puts the model at most of what the route adds over the bare one. This bench measures what the throughput
 * targets feel: each stage's CPU a request, and the model's wall time in the server against the same model parsing
 * the same messages in a tight loop, hot and with its data evicted between parses.
 *
 * First, in this process, `model.parse` runs over the messages in a tight loop (`hot`), then with 4 MiB of other
 * data walked between parses (`data evicted`). Then one server process (`bench/serve-server.ts` with its stage
 * routes, no swap app) takes wrk's closed-loop load on the bare route, on `/v1/parse` (log off) and on that route cut
 * short after each stage, in turn, for `--rounds` rounds (the order reversed every other round). For each run: the
 * requests a second, the server's CPU a request (every thread, and its main thread, the event loop, alone), wrk's
 * own, and on `/stage/predict` the model's wall time a request as `predict` measures it. A stage's price is the
 * difference between its route's median event-loop CPU and the route before it's, and between their fewest.
 *
 * Prints the tables and writes bench/results/serve-stages-<date>.json. Takes about three minutes with the defaults;
 * needs wrk (`bash bench/setup.sh`).
 *
 *   npx tsx bench/serve-stages.ts [--seconds 3] [--rounds 8] [--connections 50] [--loop-calls 20000] [--texts FILE]
 *                                 [--out FILE]
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { defaultConfig } from '../src/config/defaults.js'
import type { NluModel } from '../src/nlu/model.js'
import { decodeModel } from '../src/nlu/model-file.js'
import { benchMessages, countOption, writeTemplateModel } from './lib/callgrind.js'
import { median } from './lib/metrics.js'
import { cpuUs } from './lib/proc.js'
import { type Route, stageRoutes } from './lib/stage-routes.js'
import { wrk, wrkVersion } from './lib/wrk.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    'loop-calls': { type: 'string', default: '20000' },
    texts: { type: 'string' },
    out: { type: 'string' },
  },
})
const SECONDS = countOption(values, 'seconds', 1)
const ROUNDS = countOption(values, 'rounds', 1)
const CONNECTIONS = countOption(values, 'connections', 1)
const LOOP_CALLS = countOption(values, 'loop-calls', 100)

const log = (s: string) => process.stderr.write(`${s}\n`)
const wrkFound = wrkVersion()
if (!wrkFound) {
  log('wrk not found: install it with `bash bench/setup.sh` (Debian package wrk)')
  process.exit(2)
}

const repo = path.resolve(import.meta.dirname, '..')
const { file: textsFile, texts: TEXTS } = await benchMessages(repo, values.texts)
const bodies = TEXTS.map((text) => JSON.stringify({ text }))
const work = mkdtempSync(path.join(os.tmpdir(), 'intentops-bench-stages-'))
const modelFile = path.join(work, 'model.iom')
await writeTemplateModel(repo, modelFile)

// ── the model alone, in this process, before any load ──
/** µs a `model.parse`, over `LOOP_CALLS` messages in turn, after as many of warm-up; `evictKiB` of data walked between. */
function loopParse(model: NluModel, evictKiB: number): number {
  const other = new Int32Array(evictKiB * 256)
  let sink = 0
  let spent = 0
  for (let pass = 0; pass < 2; pass++) {
    spent = 0
    for (let i = 0; i < LOOP_CALLS; i++) {
      // One int a 64-byte line: every line of `other` is read and written.
      for (let j = 0; j < other.length; j += 16) other[j]!++
      const t0 = performance.now()
      sink += model.parse({ text: TEXTS[i % TEXTS.length]! }, { topK: 10, fallback: false }).entities.length
      spent += performance.now() - t0
    }
  }
  if (Number.isNaN(sink)) log('NaN')
  return (spent * 1000) / LOOP_CALLS
}
const EVICT_KIB = 4096
const model = decodeModel(readFileSync(modelFile)) as NluModel
log(`model.parse in a tight loop, ${LOOP_CALLS} calls a pass ...`)
const loop = { hotUs: loopParse(model, 0), dataEvictedUs: loopParse(model, EVICT_KIB) }

// ── the server ──
const child: ChildProcess = spawn(
  path.join(repo, 'node_modules/.bin/tsx'),
  [
    path.join(repo, 'bench/serve-server.ts'),
    JSON.stringify({
      modelFile,
      dbPath: path.join(work, 'store.db'),
      writerNice: defaultConfig().store.writerNice,
      stages: true,
      swap: false,
    }),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
)
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
const first = await lines.next()
if (first.done) {
  log('the server exited before it printed its ports')
  rmSync(work, { recursive: true, force: true })
  process.exit(1)
}
const ports = JSON.parse(first.value) as { pid: number; bare: number; logOff: number }

const ROUTES = stageRoutes(ports)

interface Run {
  reqPerSec: number
  /** Server CPU µs a request: every thread, and the main thread alone. */
  cpuUs: number
  eventLoopUs: number
  wrkUs: number
  /** `/stage/predict` only: the model's wall time a request, µs. */
  modelUs?: number
  non2xx: number
  errors: number
}

async function modelTime(): Promise<{ ms: number; calls: number }> {
  const res = await fetch(`http://127.0.0.1:${ports.bare}/stage/model-time`)
  return (await res.json()) as { ms: number; calls: number }
}

async function measure(route: Route, seconds: number): Promise<Run> {
  const url = `http://127.0.0.1:${route.port}${route.path}`
  await modelTime()
  const cpu0 = cpuUs(ports.pid)
  const main0 = cpuUs(ports.pid, ports.pid)
  const r = await wrk({ url, bodies, connections: CONNECTIONS, seconds })
  const cpu1 = cpuUs(ports.pid)
  const main1 = cpuUs(ports.pid, ports.pid)
  const m = await modelTime()
  const n = Math.max(1, r.requests)
  return {
    reqPerSec: r.requestsPerSec,
    cpuUs: (cpu1 - cpu0) / n,
    eventLoopUs: (main1 - main0) / n,
    wrkUs: r.cpuUsPerRequest,
    ...(m.calls > 0 ? { modelUs: (m.ms * 1000) / m.calls } : {}),
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  }
}

const runs: Record<string, Run[]> = Object.fromEntries(ROUTES.map((r) => [r.key, []]))
try {
  for (const route of ROUTES) {
    log(`warm-up: ${route.name} (2 s)`)
    await measure(route, 2)
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ROUTES : [...ROUTES].reverse()
    for (const route of order) {
      log(`round ${round + 1}/${ROUNDS}: ${route.name} (${SECONDS} s at ${CONNECTIONS} connections)`)
      const run = await measure(route, SECONDS)
      if (run.non2xx > 0 || run.errors > 0) {
        throw new Error(`${route.path}: ${run.non2xx} answers of 400 or more, ${run.errors} errors`)
      }
      runs[route.key]!.push(run)
    }
  }
} finally {
  child.kill('SIGTERM')
  rmSync(work, { recursive: true, force: true })
}

// ── report ──
const med = (key: string, field: keyof Run) => median(runs[key]!.map((r) => r[field] as number))
const f1 = (x: number) => x.toFixed(1)
const out: string[] = []
out.push(
  `CPU a request under load (wrk ${wrkFound.replace(/^wrk /, '')}, ${CONNECTIONS} connections, ${SECONDS} s a run, medians of ${ROUNDS} rounds; ${TEXTS.length} messages)`,
  '| route | req/s | server CPU µs/req | of which event loop | event loop, fewest–most of the rounds | stage: event loop µs/req over the route above (medians / fewest) | wrk CPU µs/req |',
  '|---|---:|---:|---:|---:|---:|---:|',
)
// The fewest too: time the host takes the vCPU away for counts as the guest's CPU (a VM may report no steal time), so
// noise only ever adds, and on a machine that drifts between fast and slow spells the least disturbed runs agree best.
let previous: { median: number; fewest: number } | undefined
for (const route of ROUTES) {
  const ev = med(route.key, 'eventLoopUs')
  const evs = runs[route.key]!.map((r) => r.eventLoopUs)
  const fewest = Math.min(...evs)
  const stage = previous === undefined ? '' : `${f1(ev - previous.median)} / ${f1(fewest - previous.fewest)}`
  out.push(
    `| ${route.name} | ${med(route.key, 'reqPerSec').toFixed(0)} | ${f1(med(route.key, 'cpuUs'))} | ${f1(ev)} | ${f1(fewest)}–${f1(Math.max(...evs))} | ${stage} | ${f1(med(route.key, 'wrkUs'))} |`,
  )
  previous = { median: ev, fewest }
}
const ratios = runs.logOff!.map((r, i) => r.reqPerSec / runs.bare![i]!.reqPerSec)
const modelInServer = med('predict', 'modelUs')
const added = med('logOff', 'eventLoopUs') - med('bare', 'eventLoopUs')
out.push(
  '',
  `/v1/parse to bare, requests a second, each round: ${ratios.map((x) => x.toFixed(3)).join(' / ')} (median ${median(ratios).toFixed(3)})`,
  `event loop CPU /v1/parse adds over the bare route: ${f1(added)} µs a request, of which the model's wall time in the server ${f1(modelInServer)} (${((100 * modelInServer) / added).toFixed(0)} %)`,
  `model.parse, µs a call: in the server (/stage/predict) ${f1(modelInServer)}; tight loop, hot ${loop.hotUs.toFixed(2)}; tight loop, ${EVICT_KIB / 1024} MiB of other data walked between parses ${loop.dataEvictedUs.toFixed(2)}`,
)
const report = out.join('\n')
process.stdout.write(`${report}\n`)

const date = new Date().toISOString().slice(0, 10)
const outFile = values.out ?? path.join(repo, 'bench/results', `serve-stages-${date}.json`)
const tmp = `${outFile}.tmp-${process.pid}`
writeFileSync(
  tmp,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg() },
      options: {
        seconds: SECONDS,
        rounds: ROUNDS,
        connections: CONNECTIONS,
        loopCalls: LOOP_CALLS,
        texts: textsFile ? path.relative(repo, textsFile) : 'three fixed sentences',
        wrk: wrkFound,
      },
      loop: { ...loop, evictKiB: EVICT_KIB },
      routes: ROUTES.map((r) => ({ key: r.key, name: r.name, runs: runs[r.key] })),
      medians: Object.fromEntries(
        ROUTES.map((r) => [
          r.key,
          {
            reqPerSec: med(r.key, 'reqPerSec'),
            cpuUs: med(r.key, 'cpuUs'),
            eventLoopUs: med(r.key, 'eventLoopUs'),
            wrkUs: med(r.key, 'wrkUs'),
          },
        ]),
      ),
      parseToBare: { rounds: ratios, median: median(ratios) },
      modelInServerUs: modelInServer,
      report,
    },
    null,
    2,
  )}\n`,
)
renameSync(tmp, outFile)
log(`wrote ${path.relative(process.cwd(), outFile)}`)
