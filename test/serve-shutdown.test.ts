/**
 * `intentops serve` as a real child process with a SQLite prediction log: SIGTERM drains in-flight requests and
 * flushes the queue (no answered prediction is lost); SIGKILL loses at most what was still queued.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../src/store/sqlite.js'
import { bundleScript } from './helpers/bundle.js'
import { tempDir, waitFor, writeModelFile } from './helpers/serve.js'

let dir: string
let file: string
let cli: string
const children: ChildProcess[] = []

beforeAll(async () => {
  dir = tempDir()
  ;({ file } = await writeModelFile(dir))
  cli = await bundleScript(path.resolve(import.meta.dirname, '../src/cli/main.ts'))
})
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
  try {
    unlinkSync(cli)
  } catch {
    // already gone
  }
})

function project(name: string, flushIntervalMs: number): string {
  const root = path.join(dir, name)
  rmSync(root, { recursive: true, force: true })
  mkdirSync(root, { recursive: true })
  writeFileSync(
    path.join(root, 'intentops.yml'),
    `name: bot\nserve:\n  logLevel: warn\nstore:\n  path: store.db\n  flushIntervalMs: ${flushIntervalMs}\n  batchSize: 10000\n`,
  )
  return root
}

function start(root: string) {
  const child = spawn(process.execPath, [cli, 'serve', '--model', file, '--port', '0'], { cwd: root })
  children.push(child)
  let stderr = ''
  const url = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      const m = /listening on (http:\/\/\S+),/.exec(stderr)
      if (m) resolve(m[1]!)
    })
    child.on('exit', (code, signal) => reject(new Error(`exited ${code ?? signal}: ${stderr}`)))
  })
  child.stdout.resume()
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, url, exit }
}

async function parse(url: string, i: number): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/v1/parse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `book a flight to Paris number ${i}` }),
    })
    if (res.status !== 200) return undefined
    return ((await res.json()) as { request_id: string }).request_id
  } catch {
    return undefined // refused once the server stopped accepting
  }
}

async function storedIds(root: string): Promise<Set<string>> {
  const store = openSqliteStore({ file: path.join(root, 'store.db') })
  try {
    const ids = new Set<string>()
    for await (const r of store.streamPredictions({})) ids.add(r.id)
    return ids
  } finally {
    await store.close()
  }
}

describe('shutdown', () => {
  it('SIGTERM drains in-flight requests and flushes every queued prediction', async () => {
    // A long flush interval keeps everything in the queue until shutdown.
    const root = project('term', 60_000)
    const server = start(root)
    const url = await server.url
    const answered: string[] = []
    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => parse(url, i)))
    answered.push(...first.filter((id): id is string => id !== undefined))
    expect(answered).toHaveLength(50)
    // SIGTERM with requests in flight: each either gets its answer (and is logged) or is refused.
    const inflight = Array.from({ length: 100 }, (_, i) => parse(url, 100 + i))
    await new Promise((r) => setTimeout(r, 5))
    server.child.kill('SIGTERM')
    answered.push(...(await Promise.all(inflight)).filter((id): id is string => id !== undefined))
    expect(await server.exit).toEqual({ code: 0, signal: null })
    const stored = await storedIds(root)
    expect(stored.size).toBe(answered.length)
    for (const id of answered) expect(stored.has(id)).toBe(true)
  })

  it('SIGKILL loses at most the predictions still queued', async () => {
    const root = project('kill', 100)
    const server = start(root)
    const url = await server.url
    const flushed = (await Promise.all(Array.from({ length: 60 }, (_, i) => parse(url, i)))).filter(Boolean) as string[]
    expect(flushed).toHaveLength(60)
    await waitFor(async () => (await storedIds(root)).size === 60, 'the first writes')
    const late = (await Promise.all(Array.from({ length: 40 }, (_, i) => parse(url, 60 + i)))).filter(
      Boolean,
    ) as string[]
    server.child.kill('SIGKILL')
    expect((await server.exit).signal).toBe('SIGKILL')
    const stored = await storedIds(root)
    for (const id of flushed) expect(stored.has(id)).toBe(true)
    // What is stored is exactly answered predictions; only the last, unflushed ones may be missing.
    for (const id of stored) expect(flushed.includes(id) || late.includes(id)).toBe(true)
    expect(stored.size).toBeLessThanOrEqual(100)
  })
})
