/**
 * `intentops deploy` against the real server: a pipeline publishes two versions, `intentops serve`'s app listens on
 * loopback with an admin token in its store, and deploy's `PUT /model` swaps the served version.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { loadConfig } from '../src/project/config.js'
import { openRegistry } from '../src/registry/open.js'
import { buildApp, type ServeApp } from '../src/serve/app.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { serveConfig } from './helpers/serve.js'

const cleanup: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const f of cleanup.reverse()) await f()
})

const yaml = (intents: Record<string, string[]>) =>
  `version: "3.1"\nnlu:\n${Object.entries(intents)
    .map(([i, xs]) => `- intent: ${i}\n  examples: |\n${xs.map((x) => `    - ${x}`).join('\n')}\n`)
    .join('')}`
const DATA = {
  greet: ['hello', 'hi there', 'good morning', 'hey', 'hello friend', 'good evening'],
  goodbye: ['bye', 'goodbye', 'see you later', 'bye bye', 'farewell', 'see you soon'],
}

async function cli(dir: string, args: string[], env: Record<string, string> = {}) {
  const io = memoryIO(dir, { INTENTOPS_AUTHOR: 'test', ...env })
  const code = await runCli(args, io)
  return { code, out: io.out(), err: io.err() }
}

describe('intentops deploy against intentops serve', () => {
  it('swaps the served version through PUT /model, and an annotator token is refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-deploy-serve-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    mkdirSync(path.join(dir, 'data'))
    writeFileSync(path.join(dir, 'data', 'nlu.yml'), yaml(DATA))
    writeFileSync(
      path.join(dir, 'intentops.yml'),
      'version: 1\nname: hello\nregistry:\n  allowUnsigned: true\ngates:\n  minMacroF1: 0\n  minDelta: -1\nstages:\n  holdout: 0.34\n',
    )
    expect((await cli(dir, ['pipeline', 'run'])).code).toBe(0)
    // a second version, published but not promoted
    writeFileSync(path.join(dir, 'data', 'nlu.yml'), yaml({ ...DATA, greet: [...DATA.greet, 'greetings'] }))
    const second = await cli(dir, ['pipeline', 'run', '--no-promote'])
    expect(second.code, second.err).toBe(0)
    expect(second.out).toContain('published hello v2')

    const { config, root } = await loadConfig({ dir })
    const registry = await openRegistry({ config: config.registry, root })
    const store = openSqliteStore({ file: path.join(dir, '.intentops', 'serve.db') })
    await store.migrate()
    const admin = await store.createToken({ name: 'deployer', role: 'admin' })
    const annotator = await store.createToken({ name: 'ann', role: 'annotator' })
    const app: ServeApp = await buildApp({
      config: serveConfig({ alias: 'production', watchIntervalMs: 60_000 }),
      root,
      modelName: 'hello',
      registry,
      allowUnsigned: true,
      store,
      ownsStore: true,
      logger: false,
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    cleanup.push(() => app.close())
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const status = async () => (await (await fetch(`${url}/status`)).json()) as { model_file: string | null }
    expect((await status()).model_file).toMatch(/v1/)

    const denied = await cli(dir, ['deploy', '--server', url, '--token', annotator.token, '--version', 'v2'])
    expect(denied.code).toBe(1)
    expect(denied.err).toMatch(/error ERR_DEPLOY_FAILED: .* did not load v2: HTTP 403/)
    expect((await status()).model_file).toMatch(/v1/)

    const ok = await cli(dir, ['deploy', '--server', url, '--token', admin.token, '--version', 'v2'])
    expect(ok.code, ok.err).toBe(0)
    expect(ok.out).toContain(`${url} now serves v2`)
    expect((await status()).model_file).toMatch(/v2/)
  })
})
