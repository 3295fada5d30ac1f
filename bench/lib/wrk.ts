/**
 * Closed-loop saturation with wrk (Debian's `wrk`, installed by bench/setup.sh). wrk is C on epoll: on a machine
 * whose cores the server shares with its load generator, it takes less of them than autocannon's JavaScript client
 * (10–14 µs of CPU a request against 16–21 in bench/serve.ts on a 2-vCPU machine), and what it takes is printed.
 * POST bodies are sent in turn across all connections from a file, one body a line, read by a Lua script.
 * @module
 */
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

export interface WrkOptions {
  url: string
  bodies: readonly string[]
  connections: number
  seconds: number
  /** wrk's threads (event loops); one keeps its share of the CPU smallest. */
  threads?: number
}

export interface WrkResult {
  requestsPerSec: number
  requests: number
  /** Answers with a status of 400 or more. */
  non2xx: number
  /** Connect, read and write errors. */
  errors: number
  timeouts: number
  /** Closed-loop latency, ms. */
  p50: number
  p99: number
  /** wrk's own CPU (user + system) per request, µs. */
  cpuUsPerRequest: number
}

/** `1m2.345s` → 62.345 */
function seconds(t: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(t)
  return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN
}

/** Lua for wrk: every request takes the next body; `done` prints one JSON line wrk's own summary does not. */
const SCRIPT = `
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
local formatted, n, i = {}, 0, 0
-- Formatted once, after wrk.init has set the Host header: building each request in Lua would cost wrk a good part
-- of the CPU it leaves the server.
function init(args)
  for line in io.lines(os.getenv("WRK_BODIES")) do formatted[#formatted + 1] = wrk.format(nil, nil, nil, line) end
  n = #formatted
end
function request()
  i = i % n + 1
  return formatted[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`

const run = promisify(execFile)

/** wrk's version line, or undefined when there is no `wrk` on PATH. */
export function wrkVersion(): string | undefined {
  // `wrk -v` prints its version and usage, and exits 1.
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' })
  if (r.error) return undefined
  return /^wrk \S+/.exec(`${r.stdout}${r.stderr}`)?.[0]
}

export async function wrk(options: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'intentops-wrk-'))
  try {
    const bodiesFile = path.join(dir, 'bodies.txt')
    const scriptFile = path.join(dir, 'bodies.lua')
    if (options.bodies.some((b) => b.includes('\n'))) throw new Error('wrk: a body holds a newline')
    writeFileSync(bodiesFile, `${options.bodies.join('\n')}\n`)
    writeFileSync(scriptFile, SCRIPT)
    const threads = options.threads ?? 1
    const args = [
      `-t${threads}`,
      `-c${Math.max(threads, options.connections)}`,
      `-d${options.seconds}s`,
      '--timeout',
      '10s',
      '-s',
      scriptFile,
      options.url,
    ]
    // bash's `times` prints the CPU its children used (user, then system): wrk's own share of the machine.
    const { stdout, stderr } = await run('bash', ['-c', 'wrk "$@" && times >&2', 'wrk', ...args], {
      env: { ...process.env, WRK_BODIES: bodiesFile },
      maxBuffer: 1 << 20,
    })
    const times = stderr.trim().split('\n').at(-1)?.split(' ').map(seconds) ?? []
    const line = stdout
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{"requests"'))
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}`)
    const s = JSON.parse(line) as Record<string, number>
    return {
      requestsPerSec: s.requests! / (s.durationUs! / 1e6),
      requests: s.requests!,
      non2xx: s.status!,
      errors: s.connect! + s.read! + s.write!,
      timeouts: s.timeout!,
      p50: s.p50! / 1000,
      p99: s.p99! / 1000,
      cpuUsPerRequest: (((times[0] ?? Number.NaN) + (times[1] ?? Number.NaN)) * 1e6) / Math.max(1, s.requests!),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
