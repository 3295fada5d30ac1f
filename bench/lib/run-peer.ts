/**
 * Run one system on one dataset in its own process: send the request, follow its progress, collect and check its
 * result. A peer that fails, hangs past the time limit or prints something off-protocol raises ERR_BENCH_PEER_FAILED
 * with the tail of its stderr.
 * @module
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { createError } from '../../src/errors.js'
import {
  type PeerProgress,
  type PeerRequest,
  type PeerResult,
  PROGRESS_PREFIX,
  validatePeerResult,
} from './protocol.js'
import type { SystemSpec } from './systems.js'

export interface PeerCommandOptions {
  /** Python interpreter for the python peers. */
  python: string
  /** Directory of the Python peer sources. */
  pythonPeersDir: string
  /** Directory of the compiled node peers. */
  nodePeersDir: string
}

export interface RunPeerOptions extends PeerCommandOptions {
  timeoutMs: number
  onProgress?: (event: PeerProgress) => void
}

/** The command line that starts a system's process. */
export function peerCommand(spec: SystemSpec, opts: PeerCommandOptions): { command: string; args: string[] } {
  if (spec.runtime === 'python') {
    return { command: opts.python, args: [path.join(opts.pythonPeersDir, spec.script), ...spec.args] }
  }
  return { command: process.execPath, args: [path.join(opts.nodePeersDir, spec.script), ...spec.args] }
}

const STDERR_TAIL_LINES = 25

export async function runPeer(
  spec: SystemSpec,
  request: PeerRequest,
  sizes: { test: number; valid: number | null },
  opts: RunPeerOptions,
): Promise<PeerResult> {
  const { command, args } = peerCommand(spec, opts)
  const fail = (detail: string, cause?: unknown) =>
    createError(
      'ERR_BENCH_PEER_FAILED',
      { system: spec.id, dataset: request.dataset, detail },
      cause === undefined ? {} : { cause },
    )
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONHASHSEED: '0', PYTHONUNBUFFERED: '1', NODE_ENV: 'production' },
  })
  const stdout: Buffer[] = []
  const tail: string[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line.startsWith(PROGRESS_PREFIX)) {
      try {
        opts.onProgress?.(JSON.parse(line.slice(PROGRESS_PREFIX.length)) as PeerProgress)
        return
      } catch {
        // Not a progress event after all: keep it for the error message.
      }
    }
    tail.push(line)
    if (tail.length > STDERR_TAIL_LINES) tail.shift()
  })
  child.stdin.on('error', () => {
    // A peer that dies before reading its request is reported by its exit code below.
  })
  child.stdin.end(JSON.stringify(request))

  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, opts.timeoutMs)
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }))
    child.once('close', (code, signal) => resolve({ code, signal }))
  }).finally(() => clearTimeout(timer))

  const stderrTail = tail.length ? `\n${tail.map((l) => `    ${l}`).join('\n')}` : ''
  if (exit.error) throw fail(`cannot start \`${command}\`: ${exit.error.message}`, exit.error)
  if (timedOut) throw fail(`no result within ${Math.round(opts.timeoutMs / 1000)} s${stderrTail}`)
  if (exit.code !== 0) {
    throw fail(`exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}${stderrTail}`)
  }
  const text = Buffer.concat(stdout).toString('utf8').trim()
  const lastLine = text.slice(text.lastIndexOf('\n') + 1)
  let parsed: unknown
  try {
    parsed = JSON.parse(lastLine)
  } catch (err) {
    throw fail(`its last stdout line is not JSON (${(err as Error).message})${stderrTail}`, err)
  }
  const problems = validatePeerResult(parsed, sizes.test, sizes.valid)
  if (problems.length) throw fail(`off-protocol result: ${problems.join('; ')}`)
  return parsed as PeerResult
}
