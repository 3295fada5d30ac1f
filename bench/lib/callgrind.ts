/**
 * What the instruction-count benches share: their options and messages, the template's model, a Node process
 * started under valgrind's callgrind with a count per thread, its counters zeroed and dumped by label around a
 * measured stretch, and the dumps read back.
 * @module
 */
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { loadTrainingData } from '../../src/data/load.js'
import { encodeModel } from '../../src/nlu/model-file.js'
import { trainModel } from '../../src/nlu/train.js'
import { loadConfig } from '../../src/project/config.js'
import { readTexts, sharedDatasets } from './dataset.js'

const log = (s: string) => process.stderr.write(`${s}\n`)

/** `values[name]` as an integer of at least `min`; any other value ends the process with a usage error. */
export function countOption(values: Readonly<Record<string, unknown>>, name: string, min: number): number {
  const n = Number(values[name])
  if (!Number.isInteger(n) || n < min) {
    log(`--${name} must be an integer of at least ${min}, got '${values[name]}'`)
    process.exit(2)
  }
  return n
}

/** Ends the process when valgrind or callgrind_control is missing. */
export function requireValgrind(): void {
  for (const tool of ['valgrind', 'callgrind_control']) {
    if (spawnSync(tool, ['--version'], { encoding: 'utf8' }).error) {
      log(`${tool} not found: install valgrind (bash bench/setup.sh does)`)
      process.exit(2)
    }
  }
}

/**
 * The messages to send or parse: those of `textsFile` (JSONL), else CLINC150's test split from the shared datasets,
 * else three fixed sentences. `file` is undefined for the sentences.
 */
export async function benchMessages(repo: string, textsFile?: string): Promise<{ file?: string; texts: string[] }> {
  const clincTest = path.join(sharedDatasets(repo), 'clinc150', 'test.jsonl')
  const file = textsFile ? path.resolve(textsFile) : existsSync(clincTest) ? clincTest : undefined
  const texts = file
    ? await readTexts(file)
    : ['hi there', 'I want to book a flight to Lisbon next Friday', 'cancel my reservation please']
  log(`messages: ${file ? path.relative(process.cwd(), file) : 'three fixed sentences'} (${texts.length})`)
  return file ? { file, texts } : { texts }
}

/** Train a model on `templates/default` (seed 1) and write it to `file`. */
export async function writeTemplateModel(repo: string, file: string): Promise<void> {
  log('training a model on templates/default ...')
  const { config, root } = await loadConfig({ dir: path.join(repo, 'templates/default') })
  const data = await loadTrainingData(
    config.data.map((p) => path.resolve(root, p)),
    { root },
  )
  const model = await trainModel(data, { config: { ...config, name: 'bench' }, seed: 1, workers: 0 })
  writeFileSync(file, encodeModel(model))
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

/**
 * A TypeScript script run by Node under callgrind, in a work directory of its own (removed at the end). The
 * script's first line of output is a JSON object with its `pid`, written when it is ready to be measured; then the
 * caller zeroes and dumps the counters around what it measures, and reads the dumps back once the script exited.
 * Any failure prints valgrind's last output and ends the process.
 */
export class CallgrindRun {
  readonly work: string
  private readonly dumps: string
  private proc: ChildProcessByStdio<Writable, Readable, Readable> | undefined
  private exited: Promise<number | null> = Promise.resolve(null)
  private lines: AsyncIterator<string> | undefined
  private tail = ''
  private pid = 0

  constructor(prefix: string) {
    this.work = mkdtempSync(path.join(os.tmpdir(), prefix))
    this.dumps = path.join(this.work, 'callgrind')
    mkdirSync(this.dumps)
  }

  /** Start `script` with `args`; resolves with its first line, parsed, once it is ready (`what` names the wait). */
  async start<T extends { pid: number }>(script: string, args: string[], what: string): Promise<T> {
    const proc = spawn('valgrind', callgrindCommand(this.dumps, script, args), {
      cwd: this.work,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.proc = proc
    proc.stderr.on('data', (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-4000)
    })
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)))
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]()
    const started = Date.now()
    const ticker = setInterval(() => log(`  ... ${Math.round((Date.now() - started) / 1000)} s`), 15_000)
    log(`${what} under callgrind (every instruction is simulated) ...`)
    const ready = JSON.parse(await this.nextLine()) as T
    clearInterval(ticker)
    log(`ready after ${Math.round((Date.now() - started) / 1000)} s`)
    this.pid = ready.pid
    return ready
  }

  /** The script's next line of output; its exit before one fails the run. */
  async nextLine(): Promise<string> {
    const r = await Promise.race([this.lines!.next(), this.exited.then((code) => ({ done: true as const, code }))])
    if (r.done) return this.fail(`the script exited (code ${'code' in r ? r.code : 'none'}) early`)
    return r.value as string
  }

  write(line: string): void {
    this.proc!.stdin.write(`${line}\n`)
  }

  /** `callgrind_control ARGS` on the script (`--zero`, `--dump=LABEL`). */
  control(...args: string[]): void {
    try {
      callgrindControl(this.pid, ...args)
    } catch (err) {
      this.fail((err as Error).message)
    }
  }

  /** Stop the script (`stop` asks it; by default SIGTERM), wait for it, and read the dumps labelled `prefix…`. */
  async finish(
    prefix: string,
    stop: () => void = () => this.proc!.kill('SIGTERM'),
  ): Promise<Map<string, ThreadCounts>> {
    stop()
    await this.exited
    const counts = readDumps(this.dumps, prefix)
    rmSync(this.work, { recursive: true, force: true })
    return counts
  }

  fail(message: string): never {
    log(`${message}\nvalgrind's last output:\n${this.tail}`)
    this.proc?.kill('SIGKILL')
    rmSync(this.work, { recursive: true, force: true })
    process.exit(1)
  }
}
