/**
 * Ctrl-C on a real `intentops` process (run from source through tsx): the command stops with its *_ABORTED error
 * and a hint, exits 130 and leaves no temporary file behind.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { samplePrediction } from '../src/store/contract.js'
import { openStore } from '../src/store/open.js'
import { removeTravelProjects, writeTravelProject } from './helpers/travel-data.js'

const repo = path.resolve(import.meta.dirname, '..')
const children: ChildProcess[] = []
const dirs: string[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  removeTravelProjects()
})

interface Exit {
  code: number | null
  signal: string | null
  err: string
}

function start(cwd: string, args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', path.join(repo, 'node_modules/tsx/dist/loader.mjs'), path.join(repo, 'src/cli/main.ts'), ...args],
    { cwd, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  children.push(child)
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, err })))
  return { child, exit, stderr: () => err }
}

/** Poll until `ready()` holds; fail if the child ends first (the job was too small to catch it running). */
async function until(child: ChildProcess, ready: () => boolean, what: string): Promise<void> {
  const t0 = Date.now()
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the command ended before ${what}`)
    if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const tempFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tmp')) : [])

describe('Ctrl-C', () => {
  it('during `log export --out` removes the partial export and exits 130 with ERR_CLI_ABORTED', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-interrupt-'))
    dirs.push(dir)
    const store = await openStore(defaultConfig().store, { root: dir })
    try {
      // enough rows that the export runs for a second or more after its temporary file appears
      await store.insertPredictions(Array.from({ length: 15_000 }, (_, i) => samplePrediction(i, { id: `p-${i}` })))
    } finally {
      await store.close()
    }
    const run = start(dir, ['log', 'export', '--out', 'exp.jsonl'])
    await until(run.child, () => tempFiles(dir).some((f) => f.startsWith('.exp.jsonl.')), 'the temporary file appeared')
    run.child.kill('SIGINT')
    const exit = await run.exit
    expect(exit.signal).toBeNull()
    expect(exit.code).toBe(130)
    expect(exit.err).toMatch(
      /error ERR_CLI_ABORTED: Interrupted by SIGINT\n {2}hint: Files it was writing were removed/,
    )
    expect(tempFiles(dir)).toEqual([])
    expect(existsSync(path.join(dir, 'exp.jsonl'))).toBe(false)
  })

  it('during `train` stops with ERR_TRAIN_ABORTED, exits 130 and writes no model', async () => {
    // a slow classifier: training lasts seconds, the first progress line comes at once
    const p = writeTravelProject({
      perIntent: 30,
      config:
        'pipeline:\n  - { type: tfidf, name: chars, analyzer: char_wb }\n' +
        '  - { type: linear_svm, name: classifier, C: 1000000, tol: 0.00001, maxIter: 100000, workers: 0 }\n',
    })
    const run = start(p.dir, ['train', '--out', 'models/m.iom'])
    await until(run.child, () => run.stderr().includes('train: 0/100'), 'training started')
    run.child.kill('SIGINT')
    const exit = await run.exit
    expect(exit.signal).toBeNull()
    expect(exit.code).toBe(130)
    expect(exit.err).toMatch(
      /error ERR_TRAIN_ABORTED: Training was interrupted\n {2}hint: No model file was written; run the command again\.\n$/,
    )
    const models = path.join(p.dir, 'models')
    expect(existsSync(models) ? readdirSync(models) : []).toEqual([])
  })
})
