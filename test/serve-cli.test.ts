import { type ChildProcess, spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { tempDir, writeModelFile } from './helpers/serve.js'

const repo = path.resolve(import.meta.dirname, '..')
const tsx = path.join(repo, 'node_modules/.bin/tsx')
const main = path.join(repo, 'src/cli/main.ts')

let dir: string
let file: string

beforeAll(async () => {
  dir = tempDir()
  ;({ file } = await writeModelFile(dir))
  writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\nserve:\n  logLevel: warn\n')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Start `intentops serve` in a child process; resolves with its URL once it listens. */
function spawnServe(args: string[], env: Record<string, string> = {}) {
  const child = spawn(tsx, [main, 'serve', ...args], { cwd: dir, env: { ...process.env, ...env } })
  let stderr = ''
  let stdout = ''
  const url = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      const m = /listening on (http:\/\/\S+),/.exec(stderr)
      if (m) resolve(m[1]!)
    })
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)))
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, url, exit, output: () => ({ stdout, stderr }) }
}

describe('intentops serve', () => {
  let server: ReturnType<typeof spawnServe> | undefined
  afterAll(() => {
    if (server && server.child.exitCode === null) (server.child as ChildProcess).kill('SIGKILL')
  })

  it('serves --model FILE over HTTP and stops cleanly on SIGTERM', async () => {
    server = spawnServe(['--model', file, '--port', '0'])
    const url = await server.url
    const res = await fetch(`${url}/v1/parse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello there' }),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { intent: { name: string } }).intent.name).toBe('greet')
    const rasa = await fetch(`${url}/model/parse`, { method: 'POST', body: JSON.stringify({ text: 'bye for now' }) })
    expect(rasa.status).toBe(415)
    server.child.kill('SIGTERM')
    expect(await server.exit).toBe(0)
  })

  it('refuses to start on bad config, naming the source', async () => {
    const io = memoryIO(dir, { INTENTOPS_SERVE_PORT: 'http' })
    const code = await runCli(['serve', '--model', file], io)
    expect(code).toBe(1)
    expect(io.err()).toMatch(/ERR_CONFIG_INVALID.*serve\.port.*INTENTOPS_SERVE_PORT/)
  })

  it('refuses to start on a model file that does not load', async () => {
    const bad = path.join(dir, 'not-a-model.iom')
    writeFileSync(bad, 'hello')
    const io = memoryIO(dir, {})
    const code = await runCli(['serve', '--model', bad, '--port', '0'], io)
    expect(code).toBe(1)
    expect(io.err()).toMatch(/ERR_SERVE_MODEL_LOAD_FAILED.*not-a-model\.iom/)
  })
})
