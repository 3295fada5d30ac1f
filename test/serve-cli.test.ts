import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { tempDir, writeModelFile } from './helpers/serve.js'

const repo = path.resolve(import.meta.dirname, '..')
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
function spawnServe(args: string[], env: Record<string, string> = {}, cwd = dir) {
  // tsx as a loader of this very process (not its wrapper process), so signals reach the server directly.
  const tsx = pathToFileURL(path.join(repo, 'node_modules/tsx/dist/esm/index.mjs')).href
  const child = spawn(process.execPath, ['--import', tsx, main, 'serve', ...args], {
    cwd,
    env: { ...process.env, ...env },
  })
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
    // The log it started holds the message: its files are for the owner alone, from the first byte.
    const log = path.join(dir, '.intentops', 'store.db')
    for (const f of [log, `${log}-wal`, `${log}-shm`]) expect([f, statSync(f).mode & 0o777]).toEqual([f, 0o600])
    server.child.kill('SIGTERM')
    expect(await server.exit).toBe(0)
    expect(server.output().stdout).not.toContain('other users may open')
  })

  it('warns at start when other users may open the log files, and leaves their mode alone', async () => {
    const own = tempDir()
    try {
      writeFileSync(path.join(own, 'intentops.yml'), 'name: bot\nserve:\n  logLevel: warn\n')
      const log = path.join(own, '.intentops', 'store.db')
      mkdirSync(path.dirname(log))
      // A log made before intentops created it 0600 (an empty file is a new SQLite database).
      writeFileSync(log, '')
      chmodSync(log, 0o644)
      const wide = spawnServe(['--model', file, '--port', '0'], {}, own)
      await wide.url
      wide.child.kill('SIGTERM')
      expect(await wide.exit).toBe(0)
      const warnings = wide
        .output()
        .stdout.split('\n')
        .filter((l) => l.includes('other users may open'))
        .map((l) => JSON.parse(l) as { level: number; files: string[]; msg: string })
      expect(warnings).toHaveLength(1)
      // SQLite gives the side files it makes the database file's mode; they exist while the server runs.
      const files = [log, `${log}-wal`, `${log}-shm`]
      expect(warnings[0]).toMatchObject({
        level: 40,
        files: files.map((f) => `${f} (0644)`),
        msg: `the prediction log holds message text, and other users may open these files of it: ${files.map((f) => `${f} (0644)`).join(', ')}; \`chmod 600 ${files.join(' ')}\` unless that is intended`,
      })
      expect(statSync(log).mode & 0o777).toBe(0o644)
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  }, 30_000)

  it('logs where INTENTOPS_STORE says, from its writer thread, and the other commands read that log', async () => {
    const own = tempDir()
    try {
      writeFileSync(path.join(own, 'intentops.yml'), 'name: bot\nserve:\n  logLevel: warn\n')
      const env = { INTENTOPS_STORE: 'elsewhere/log.db' }
      const served = spawnServe(['--model', file, '--port', '0'], env, own)
      const url = await served.url
      const res = await fetch(`${url}/v1/parse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'hello there' }),
      })
      expect(res.status).toBe(200)
      served.child.kill('SIGTERM')
      expect(await served.exit).toBe(0)
      expect(existsSync(path.join(own, '.intentops', 'store.db'))).toBe(false)
      for (const argv of [
        ['log', 'stats', '--json'],
        ['review', 'list', '--json'],
      ]) {
        const io = memoryIO(own, env)
        expect(await runCli(argv, io), io.err()).toBe(0)
        expect(io.out(), argv.join(' ')).toMatch(/"predictions": 1|"messages": 1/)
      }
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  }, 30_000)

  it('refuses store.path ":memory:" before it starts, and makes no file of that name', async () => {
    const own = tempDir()
    try {
      writeFileSync(path.join(own, 'intentops.yml'), 'name: bot\nstore:\n  path: ":memory:"\n')
      const io = memoryIO(own, {})
      expect(await runCli(['serve', '--model', file, '--port', '0'], io)).toBe(1)
      expect(io.err()).toContain(
        `ERR_CONFIG_INVALID: ${path.join(own, 'intentops.yml')}:3:9: Invalid config: \`store.path\` ":memory:" would be an in-memory`,
      )
      expect(io.err()).not.toContain('listening')
      expect(readdirSync(own)).toEqual(['intentops.yml'])
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  })

  it('refuses to start on bad config, naming the source', async () => {
    const io = memoryIO(dir, { INTENTOPS_SERVE_PORT: 'http' })
    const code = await runCli(['serve', '--model', file], io)
    expect(code).toBe(1)
    expect(io.err()).toMatch(/ERR_CONFIG_INVALID.*serve\.port.*INTENTOPS_SERVE_PORT/)
  })

  it('refuses to start when a redaction rule is too slow for the longest text it lets through, naming the fix', async () => {
    const own = tempDir()
    try {
      const rule = "store:\n  redaction:\n    - { pattern: '\\d+\\.\\d+', replacement: '[n]' }\n"
      writeFileSync(path.join(own, 'intentops.yml'), `name: bot\nserve:\n  maxTextLength: 100000\n${rule}`)
      const io = memoryIO(own, {})
      expect(await runCli(['serve', '--model', file, '--port', '0'], io)).toBe(1)
      expect(io.err()).toMatch(
        /^error ERR_CONFIG_INVALID: .*intentops\.yml:6:\d+: Invalid config: `store\.redaction\.0\.pattern`/,
      )
      expect(io.err()).toContain('can take too long on the texts of up to 100,000 characters the server can log')
      expect(io.err()).toContain('set `serve.maxTextLength` to 11,000 or less')
      // Fine on the default 10,000 characters, until the environment raises it.
      writeFileSync(path.join(own, 'intentops.yml'), `name: bot\n${rule}`)
      const env = memoryIO(own, { INTENTOPS_SERVE_MAX_TEXT_LENGTH: '100000' })
      expect(await runCli(['serve', '--model', file, '--port', '0'], env)).toBe(1)
      expect(env.err()).toContain(
        'with `serve.maxTextLength` 100000 (from $INTENTOPS_SERVE_MAX_TEXT_LENGTH), `store.redaction.0.pattern` /\\d+\\.\\d+/ can take too long',
      )
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  })

  it('serves texts longer than the default with the built-in redaction rules, and masks them in the log', async () => {
    const own = tempDir()
    try {
      writeFileSync(path.join(own, 'intentops.yml'), 'name: bot\nserve:\n  logLevel: warn\n  maxTextLength: 200000\n')
      const long = spawnServe(['--model', file, '--port', '0'], {}, own)
      const url = await long.url
      const text = `${'hello there '.repeat(10_000)}write to ann.lee@example.org or 0176 12345678`
      const res = await fetch(`${url}/v1/parse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      })
      expect(res.status).toBe(200)
      long.child.kill('SIGTERM')
      expect(await long.exit).toBe(0)
      const io = memoryIO(own, {})
      expect(await runCli(['log', 'export'], io)).toBe(0)
      const logged = JSON.parse(io.out().trim()) as { text: string }
      expect(logged.text).toBe(`${'hello there '.repeat(10_000)}write to [email] or [phone]`)
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  }, 30_000)

  it('exits 1 with ERR_SERVE_LISTEN_FAILED when its port is taken, closing the store and the alias watch', async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const port = (holder.address() as AddressInfo).port
    try {
      // Alias mode: the watch, the store and the log writer thread are open when the listen fails.
      const failed = spawnServe(['--port', String(port)])
      failed.url.catch(() => undefined)
      const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 20_000).unref())
      const exit = await Promise.race([failed.exit, timeout])
      if (exit === 'still running') failed.child.kill('SIGKILL')
      expect(exit).toBe(1)
      const { stderr } = failed.output()
      expect(stderr).toContain(
        `error ERR_SERVE_LISTEN_FAILED: Cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)\n`,
      )
      expect(stderr).toMatch(/hint: Choose another `--port`/)
      expect(stderr).not.toContain('ERR_INTERNAL')
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
  }, 30_000)

  it('refuses to start on a model file that does not load', async () => {
    const bad = path.join(dir, 'not-a-model.iom')
    writeFileSync(bad, 'hello')
    const io = memoryIO(dir, {})
    const code = await runCli(['serve', '--model', bad, '--port', '0'], io)
    expect(code).toBe(1)
    expect(io.err()).toMatch(
      /^error ERR_SERVE_MODEL_FILE_FAILED: Model file not-a-model\.iom could not be loaded, so the server did not start: ERR_MODEL_NOT_A_MODEL/,
    )
  })

  it('refuses to start on a model file that does not exist, with a hint about the path', async () => {
    const io = memoryIO(dir, {})
    const code = await runCli(['serve', '--model', 'nope.iom', '--port', '0'], io)
    expect(code).toBe(1)
    expect(io.err()).toBe(
      `error ERR_SERVE_MODEL_FILE_FAILED: Model file nope.iom could not be loaded, so the server did not start: ERR_FILE_NOT_FOUND: File not found: ${path.join(dir, 'nope.iom')}\n` +
        '  hint: Check the path given to `--model` (or `serve.model`); `intentops train --out FILE` writes a model file.\n',
    )
    expect(io.err()).not.toContain('keeps serving')
  })
})
