/**
 * What the instruction-count benches share: a Node process started under valgrind's callgrind with a count per
 * thread, its counters zeroed and dumped by label around a measured stretch, and the dumps read back.
 * @module
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The first of valgrind's tools that is missing, or undefined when both are there. */
export function missingValgrindTool(): string | undefined {
  for (const tool of ['valgrind', 'callgrind_control']) {
    if (spawnSync(tool, ['--version'], { encoding: 'utf8' }).error) return tool
  }
  return undefined
}

export function valgrindVersion(): string {
  return spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout.trim()
}

/**
 * valgrind's command line for running `script` (TypeScript) with `args` under callgrind, dumps in `dumps`. Node
 * itself runs with tsx's loader: tsx's launcher would run the script in a child process valgrind does not follow.
 */
export function callgrindCommand(dumps: string, script: string, args: string[]): string[] {
  const tsx = fileURLToPath(import.meta.resolve('tsx'))
  return [
    '--tool=callgrind',
    '--separate-threads=yes',
    `--callgrind-out-file=${path.join(dumps, 'cg.%p')}`,
    process.execPath,
    '--import',
    tsx,
    script,
    ...args,
  ]
}

/** `callgrind_control ARGS PID` (`--zero`, `--dump=LABEL`); throws with its output when it fails. */
export function callgrindControl(pid: number, ...args: string[]): void {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${r.stderr || r.stdout}`)
}

export interface ThreadCounts {
  /** The main thread: Node's event loop. */
  eventLoop: number
  /** Every other thread: worker threads, V8's helpers, libuv's pool. */
  otherThreads: number
}

/**
 * The instructions of each dump in `dir` whose label starts with `prefix`, by label. callgrind writes one file per
 * dump and thread, `cg.<pid>.<dump>-<thread>`, each opening with its trigger and its total.
 */
export function readDumps(dir: string, prefix: string): Map<string, ThreadCounts> {
  const counts = new Map<string, ThreadCounts>()
  for (const file of readdirSync(dir)) {
    const m = /^cg\.\d+\.\d+-(\d+)$/.exec(file)
    if (!m) continue
    const head = readFileSync(path.join(dir, file), 'utf8').slice(0, 8192)
    const label = /^desc: Trigger: dump (\S+)$/m.exec(head)?.[1]
    const summary = /^summary: (\d+)$/m.exec(head)?.[1]
    if (!label?.startsWith(prefix) || summary === undefined) continue
    const c = counts.get(label) ?? { eventLoop: 0, otherThreads: 0 }
    if (Number(m[1]) === 1) c.eventLoop += Number(summary)
    else c.otherThreads += Number(summary)
    counts.set(label, c)
  }
  return counts
}
