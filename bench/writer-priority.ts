/**
 * The prediction log under CPU contention: does the log keep every record when other work at the server's priority
 * takes every core? Spawns the server of `bench/serve.ts` (log on, SQLite) and, beside it, one busy loop per core at
 * nice 0 (the work of other replicas or processes on the machine), then offers /v1/parse a fixed rate for a while,
 * stops the loops, shuts the server down with SIGTERM and counts what the log wrote and dropped. Three settings, in
 * turn within each round, so they share the machine's mood:
 *   - `catch-up`: store.writerNice 10, and the writer runs level while the queue is behind (the default);
 *   - `fixed +10`: store.writerNice 10 whatever the backlog (the queue is not told it is behind);
 *   - `level`: store.writerNice 0;
 *   - `catch-up, unprivileged`: the default again, with the server run as user `nobody` through `setpriv` (run as
 *     root with setpriv at hand only), where the writer cannot be raised back: a second thread, started at the
 *     server's priority, takes the writes while the queue is behind.
 * Prints a table and writes bench/results/writer-priority-<date>.json.
 *
 *   npm run bench:writer-priority -- [--rate 3000] [--seconds 60] [--rounds 2] [--hogs N] [--queue-size 50000] [--out FILE]
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { defaultConfig } from '../src/config/defaults.js'
import { benchMessages, countOption, writeTemplateModel } from './lib/callgrind.js'
import { type OpenLoopResult, openLoop } from './lib/open-loop.js'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '2' },
    hogs: { type: 'string' },
    'queue-size': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write(
    'npm run bench:writer-priority -- [--rate R] [--seconds S] [--rounds N] [--hogs N] [--queue-size N] [--out FILE]\n' +
      '  --rate: offered /v1/parse requests a second (default 3000)\n' +
      '  --hogs: busy loops at nice 0 beside the server (default: one per core)\n' +
      "  --queue-size: store.queueSize of the server (default: the config's)\n",
  )
  process.exit(0)
}
const rate = countOption(values, 'rate', 1)
const seconds = countOption(values, 'seconds', 1)
const rounds = countOption(values, 'rounds', 1)
const hogs = values.hogs === undefined ? os.availableParallelism() : countOption(values, 'hogs', 0)
const queueSize =
  values['queue-size'] === undefined ? defaultConfig().store.queueSize : countOption(values, 'queue-size', 1)

const repo = path.resolve(import.meta.dirname, '..')
const log = (s: string) => process.stderr.write(`${s}\n`)
const work = mkdtempSync(path.join(os.tmpdir(), 'intentops-bench-writer-'))

const { texts } = await benchMessages(repo)
const bodies = texts.map((text) => JSON.stringify({ text }))
const modelFile = path.join(work, 'model.iom')
await writeTemplateModel(repo, modelFile)

interface Setting {
  name: string
  writerNice: number
  catchUp: boolean
  /** Run the server as `nobody`, which may lower a thread's priority but not raise it back. */
  unprivileged?: boolean
}
const SETTINGS: Setting[] = [
  { name: 'catch-up (+10, level while behind)', writerNice: 10, catchUp: true },
  { name: 'fixed +10', writerNice: 10, catchUp: false },
  { name: 'level (0)', writerNice: 0, catchUp: true },
]
const SETPRIV = '/usr/bin/setpriv'
if (process.getuid?.() === 0 && existsSync(SETPRIV)) {
  SETTINGS.push({
    name: 'catch-up, unprivileged (a second thread)',
    writerNice: 10,
    catchUp: true,
    unprivileged: true,
  })
  // The server, as nobody, reads the model and writes its store under the work directory.
  chmodSync(work, 0o755)
  chmodSync(modelFile, 0o644)
}

interface Closed {
  written: number
  dropped: number
  invalid: number
  failedWrites: number
  priority: { changes: number; failed: number; started: number }
}

interface RunResult {
  setting: string
  round: number
  answered: number
  logged: number
  dropped: number
  priorityChanges: number
  priorityFailures: number
  threadsStarted: number
  achievedRate: number
  p50: number
  p99: number
  p99FromScheduled: number
  errors: number
}

function startHogs(n: number): ChildProcess[] {
  return Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore', detached: false }),
  )
}

async function run(setting: Setting, round: number): Promise<RunResult> {
  const dir = path.join(work, `${round}-${SETTINGS.indexOf(setting)}`)
  mkdirSync(dir)
  const server = [
    path.join(repo, 'node_modules/tsx/dist/cli.mjs'),
    path.join(repo, 'bench/serve-server.ts'),
    JSON.stringify({
      modelFile,
      dbPath: path.join(dir, 'store.db'),
      writerNice: setting.writerNice,
      catchUp: setting.catchUp,
      queueSize,
      swap: false,
    }),
  ]
  if (setting.unprivileged) chmodSync(dir, 0o777)
  const child = setting.unprivileged
    ? spawn(SETPRIV, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...server], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { PATH: process.env.PATH ?? '', HOME: dir },
      })
    : spawn(process.execPath, server, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })
  const nextLine = () => new Promise<string>((resolve) => lines.once('line', resolve))
  const ports = JSON.parse(await nextLine()) as { logOn: number }
  // Warm the model and the writer thread before the contention starts.
  const warm = await openLoop({
    host: '127.0.0.1',
    port: ports.logOn,
    path: '/v1/parse',
    bodies,
    connections: 10,
    rate: 500,
    seconds: 2,
  })
  const busy = startHogs(hogs)
  let result: OpenLoopResult
  try {
    result = await openLoop({
      host: '127.0.0.1',
      port: ports.logOn,
      path: '/v1/parse',
      bodies,
      connections: 50,
      rate,
      seconds,
    })
  } finally {
    for (const h of busy) h.kill('SIGKILL')
  }
  const closedLine = nextLine()
  child.kill('SIGTERM')
  const closed = JSON.parse(await closedLine) as Closed
  await new Promise((resolve) => child.once('exit', resolve))
  return {
    setting: setting.name,
    round,
    answered: warm.ok + result.ok,
    logged: closed.written,
    dropped: closed.dropped,
    priorityChanges: closed.priority.changes,
    priorityFailures: closed.priority.failed,
    threadsStarted: closed.priority.started,
    achievedRate: Math.round(result.achievedRate),
    p50: result.fromSend.p50,
    p99: result.fromSend.p99,
    p99FromScheduled: result.fromScheduled.p99,
    errors: result.errors + result.non2xx,
  }
}

const results: RunResult[] = []
for (let round = 1; round <= rounds; round++) {
  for (const setting of SETTINGS) {
    log(`round ${round}/${rounds}: ${setting.name}, ${rate} req/s for ${seconds} s beside ${hogs} busy loops ...`)
    results.push(await run(setting, round))
  }
}

const lines: string[] = []
lines.push(
  `log on (SQLite), ${rate} req/s offered for ${seconds} s at 50 connections, beside ${hogs} busy loops at nice 0 on ${os.availableParallelism()} CPUs; queue ${queueSize}; "answered" and "logged" count a 2 s warm-up at 500 req/s before it too`,
)
lines.push(
  '| setting | round | answered/s | p50 ms | p99 ms | p99 from schedule | answered | logged | dropped | priority changes (failed) | threads started | errors |',
)
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const r of results) {
  lines.push(
    `| ${r.setting} | ${r.round} | ${r.achievedRate} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.p99FromScheduled.toFixed(2)} | ${r.answered} | ${r.logged} | ${r.dropped} | ${r.priorityChanges} (${r.priorityFailures}) | ${r.threadsStarted} | ${r.errors} |`,
  )
}
process.stdout.write(`${lines.join('\n')}\n`)

const outFile =
  values.out ?? path.join(repo, 'bench/results', `writer-priority-${new Date().toISOString().slice(0, 10)}.json`)
mkdirSync(path.dirname(outFile), { recursive: true })
const tmp = `${outFile}.tmp-${process.pid}`
writeFileSync(
  tmp,
  `${JSON.stringify({ date: new Date().toISOString(), rate, seconds, hogs, queueSize, cpus: os.availableParallelism(), results }, null, 2)}\n`,
)
renameSync(tmp, outFile)
rmSync(work, { recursive: true, force: true })
log(`wrote ${path.relative(process.cwd(), outFile)}`)
