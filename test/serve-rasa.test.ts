/**
 * Rasa's routes on a real socket: every error under `/model`, `/status` and `/version` (an unknown path there, a
 * model change that names nothing, a request during shutdown) answers in Rasa's error shape, and every other path
 * in intentops' own.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { createFsBackend } from '../src/registry/backends/fs.js'
import type { ModelRegistry } from '../src/registry/registry.js'
import { type RunningServer, startServer } from '../src/serve/server.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { VERSION } from '../src/version.js'
import { evalSummary, signedRegistry } from './helpers/registry.js'
import { readyApp, serveConfig, tempDir, writeModelFile } from './helpers/serve.js'

let dir: string
let registry: ModelRegistry
let store: KyselyPredictionStore
let admin: string
let server: RunningServer

beforeAll(async () => {
  dir = tempDir()
  registry = signedRegistry(createFsBackend({ root: path.join(dir, 'registry') })).registry
  const { bytes } = await writeModelFile(dir, 'a.iom', { seed: 1, name: 'bot' })
  await registry.publish({ name: 'bot', bytes, author: 't', eval: evalSummary(0.8) })
  await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: defaultConfig().gates, actor: 't' })
  store = openSqliteStore({ file: path.join(dir, 'store.db') })
  await store.migrate()
  admin = (await store.createToken({ name: 'deployer', role: 'admin' })).token
  server = await serve('bot')
})
afterAll(async () => {
  await server.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

async function serve(modelName: string): Promise<RunningServer> {
  const app = await readyApp({
    config: serveConfig({ watchIntervalMs: 60_000 }),
    root: dir,
    registry,
    modelName,
    store,
  })
  return startServer(app, { port: 0, signals: [] })
}

async function call(base: string, method: string, url: string, body?: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${admin}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
}

/** Rasa's error shape, as its HTTP API specifies it (with our catalog code as the reason). */
function rasaError(status: number, reason: string, message: string | RegExp) {
  return {
    version: VERSION,
    status: 'failure',
    reason,
    message: typeof message === 'string' ? message : expect.stringMatching(message),
    details: {},
    help: expect.any(String),
    code: status,
  }
}

describe("errors under Rasa's paths", () => {
  it('answers an unknown path under /model, /status or /version with a 404 in Rasa shape', async () => {
    for (const [method, url] of [
      ['GET', '/model/nothing'],
      ['POST', '/model/parse/extra'],
      ['POST', '/model/parse/'],
      ['DELETE', '/model/x'],
      ['GET', '/status/x'],
      ['GET', '/version/'],
      ['GET', '/model%2Fparse'],
    ] as const) {
      const res = await call(server.url, method, url)
      expect([method, url, res.status]).toEqual([method, url, 404])
      expect(res.body).toEqual(rasaError(404, 'ERR_SERVE_ROUTE_NOT_FOUND', `No route ${method} ${url}`))
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    }
    // Paths that only begin like a Rasa route are ours, in our shape.
    for (const url of ['/models', '/statusx', '/v2/model']) {
      const res = await call(server.url, 'GET', url)
      expect([url, res.status]).toEqual([url, 404])
      expect(res.body).toEqual({
        code: 'ERR_SERVE_ROUTE_NOT_FOUND',
        message: `No route GET ${url}`,
        hint: expect.any(String),
        request_id: res.headers.get('x-request-id'),
      })
    }
  })

  it('answers PUT /model naming a version, alias or file that does not exist with 422 in Rasa shape', async () => {
    for (const [ref, cause] of [
      ['99', 'ERR_REGISTRY_VERSION_NOT_FOUND: Model bot has no version 99'],
      ['v99', 'ERR_REGISTRY_VERSION_NOT_FOUND'],
      ['staging', 'ERR_REGISTRY_ALIAS_NOT_SET: Alias staging of model bot points to no version'],
      ['missing.iom', 'ERR_FILE_NOT_FOUND'],
      ['models/missing.iom', 'ERR_FILE_NOT_FOUND'],
    ]) {
      const res = await call(server.url, 'PUT', '/model', { model_file: ref })
      expect([ref, res.status]).toEqual([ref, 422])
      expect(res.body).toEqual(
        rasaError(422, 'ERR_SERVE_MODEL_LOAD_FAILED', new RegExp(`the current model keeps serving: ${cause}`)),
      )
    }
    expect((await call(server.url, 'GET', '/status')).body).toMatchObject({ model_id: 'bot@1' })
  })

  it('refuses `latest` before any version, and an unset alias named as a version, as a missing version: 422', async () => {
    const empty = await serve('empty')
    try {
      const latest = await call(empty.url, 'PUT', '/model', { model_file: 'latest' })
      expect(latest.status).toBe(422)
      expect(latest.body).toEqual(
        rasaError(
          422,
          'ERR_SERVE_MODEL_LOAD_FAILED',
          /^Model empty latest was not loaded.*ERR_REGISTRY_MODEL_NOT_FOUND/,
        ),
      )
    } finally {
      await empty.close()
    }
    // The admin route resolves the same way, in intentops' shape; the watch and the served model stay.
    const pinned = await call(server.url, 'PUT', '/v1/models/active', { version: 'staging' })
    expect([pinned.status, pinned.body.code]).toEqual([422, 'ERR_SERVE_MODEL_LOAD_FAILED'])
    expect(pinned.body.message).toMatch(/^Model bot@staging was not loaded.*ERR_REGISTRY_ALIAS_NOT_SET/)
    expect(server.app.intentops.models.watching).toEqual(['production'])
    expect(server.app.intentops.holder.current?.version).toBe('1')
    // A reference that is no version at all stays the client's 400.
    const zero = await call(server.url, 'PUT', '/model', { model_file: 'v0' })
    expect([zero.status, zero.body.reason]).toEqual([400, 'ERR_REGISTRY_INVALID_REF'])
  })

  it('answers on an unknown Rasa path in Rasa shape while the server shuts down', async () => {
    const closing = await serve('bot')
    try {
      closing.app.intentops.closing = true
      const rasa = await call(closing.url, 'GET', '/model/nothing')
      expect([rasa.status, rasa.headers.get('connection')]).toEqual([503, 'close'])
      expect(rasa.body).toEqual(rasaError(503, 'ERR_SERVE_SHUTTING_DOWN', 'The server is shutting down'))
      const ours = await call(closing.url, 'GET', '/v2/nothing')
      expect([ours.status, ours.body.code]).toEqual([503, 'ERR_SERVE_SHUTTING_DOWN'])
    } finally {
      closing.app.intentops.closing = false
      await closing.close()
    }
  })
})
