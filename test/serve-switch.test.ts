/**
 * Model switches that overlap: admin switches, reloads and shutdown run one at a time, so exactly one alias watch
 * is live and it is the one the server reports.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import type { RegistryBackend } from '../src/registry/backend.js'
import { createMemoryBackend } from '../src/registry/backends/memory.js'
import { keys } from '../src/registry/layout.js'
import { ModelRegistry } from '../src/registry/registry.js'
import type { ServeApp } from '../src/serve/app.js'
import { evalSummary, signedRegistry, trainedModelBytes } from './helpers/registry.js'
import { readyApp, serveConfig, tempDir, waitFor } from './helpers/serve.js'

const gates = defaultConfig().gates
const INTERVAL_MS = 50

let dir: string
let registry: ModelRegistry
/** The model files of versions 1 and 2. */
const files: Uint8Array[] = []

const point = (alias: string, version: number) =>
  registry.promote({ name: 'bot', version, alias, policy: gates, actor: 't', force: true, reason: 'test' })

beforeAll(async () => {
  dir = tempDir()
  ;({ registry } = signedRegistry())
  for (const [seed, f1] of [
    [1, 0.8],
    [2, 0.9],
  ] as const) {
    const { bytes } = await trainedModelBytes({ seed, drop: seed === 2 ? 3 : 0 })
    files.push(bytes)
    await registry.publish({ name: 'bot', bytes, author: 'test', eval: evalSummary(f1) })
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))
beforeEach(async () => {
  await point('production', 1)
  await point('canary', 1)
})

const serve = () =>
  readyApp({ config: serveConfig({ watchIntervalMs: INTERVAL_MS }), root: dir, registry, modelName: 'bot' })

async function reported(app: ServeApp): Promise<{ alias: string; active: { alias: string; version: string } }> {
  const res = await app.inject({ method: 'GET', url: '/v1/models' })
  expect(res.statusCode).toBe(200)
  return res.json()
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('overlapping model switches', () => {
  it('two concurrent alias switches leave one watch, on the alias the server reports', async () => {
    const app = await serve()
    let closed = false
    try {
      const models = app.intentops.models
      const [a, b] = await Promise.all([models.activateAlias('canary'), models.activateAlias('production')])
      expect([a.version, b.version]).toEqual(['1', '1'])
      const state = await reported(app)
      expect(state.active.alias).toBe(state.alias)
      expect(models.watching).toEqual([state.alias])

      // The alias the server does not report moves: a leftover watch on it would swap v2 in.
      const other = state.alias === 'canary' ? 'production' : 'canary'
      await point(other, 2)
      await pause(INTERVAL_MS * 15)
      expect(app.intentops.holder.current?.version).toBe('1')

      // The reported one still is watched.
      await point(state.alias, 2)
      await waitFor(() => app.intentops.holder.current?.version === '2', 'the watched alias to be picked up')
      expect((await reported(app)).active).toMatchObject({ alias: state.alias, version: '2' })

      await app.close()
      closed = true
      expect(models.watching).toEqual([])
    } finally {
      if (!closed) await app.close()
    }
  })

  it('switches, a pinned version and reloads in any overlap end with the last one queued', async () => {
    const app = await serve()
    try {
      const models = app.intentops.models
      await point('canary', 2)
      const results = await Promise.all([
        models.activateAlias('canary'),
        models.activateVersion(1),
        models.reload(),
        models.activateAlias('production'),
        models.activateAlias('canary'),
      ])
      expect(results.map((r) => r.version)).toEqual(['2', '1', '1', '1', '2'])
      expect(models.watching).toEqual(['canary'])
      expect((await reported(app)).active).toMatchObject({ alias: 'canary', version: '2' })
    } finally {
      await app.close()
    }
  })

  it('a stop during a switch leaves no watch behind', async () => {
    const app = await serve()
    try {
      const models = app.intentops.models
      const switching = models.activateAlias('canary')
      await models.stop()
      await switching
      expect(models.watching).toEqual([])
      await point('canary', 2)
      await pause(INTERVAL_MS * 10)
      expect(app.intentops.holder.current?.version).toBe('1')
    } finally {
      await app.close()
    }
  })

  it("a switch cancels the old alias's re-check poll at once: nothing reads the old alias afterwards", async () => {
    // The registry's own reads, counted per alias file: a real memory backend under a counting front.
    const backend = createMemoryBackend()
    const reads = new Map<string, number>()
    const counting: RegistryBackend = {
      ...backend,
      get: ((key: string, options?: { ifNoneMatch?: string }) => {
        reads.set(key, (reads.get(key) ?? 0) + 1)
        return backend.get(key, options ?? {})
      }) as RegistryBackend['get'],
    }
    const { registry: own } = signedRegistry(counting)
    await own.publish({ name: 'bot', bytes: files[0]!, author: 'test', eval: evalSummary(0.8) })
    const unsigned = new ModelRegistry(backend, { trust: { trustedKeys: [], allowUnsigned: true } })
    await unsigned.publish({ name: 'bot', bytes: files[1]!, author: 'rogue', eval: evalSummary(0.9) })
    for (const [alias, version] of [
      ['production', 1],
      ['canary', 1],
    ] as const) {
      await own.promote({ name: 'bot', version, alias, policy: gates, actor: 't', force: true, reason: 'test' })
    }
    const interval = 50
    const app = await readyApp({
      config: serveConfig({ watchIntervalMs: interval }),
      root: dir,
      registry: own,
      modelName: 'bot',
    })
    try {
      const models = app.intentops.models
      const production = keys.alias('bot', 'production')
      const readsOf = (key: string) => reads.get(key) ?? 0
      // An unsigned holder is refused: the failure stands, and the alias is re-checked every interval until it
      // comes back to the served version.
      await unsigned.promote({
        name: 'bot',
        version: 2,
        alias: 'production',
        policy: gates,
        actor: 'rogue',
        force: true,
        reason: 'test',
      })
      await waitFor(() => app.intentops.holder.lastError !== undefined, 'the unsigned holder to be refused')
      const refused = readsOf(production)
      await waitFor(() => readsOf(production) >= refused + 4, 'the alias to be polled and re-checked')

      const switching = models.activateAlias('canary')
      // Nothing has been read since the call: from here on, any read of production is a stale poll.
      const atSwitch = readsOf(production)
      expect((await switching).version).toBe('1')
      expect(models.watching).toEqual(['canary'])
      await pause(interval * 8)
      expect(readsOf(production)).toBe(atSwitch)
      // The new watch polls its own alias.
      const canary = readsOf(keys.alias('bot', 'canary'))
      await pause(interval * 4)
      expect(readsOf(keys.alias('bot', 'canary'))).toBeGreaterThan(canary)
    } finally {
      await app.close()
    }
  })
})
