/**
 * The server with a real store: every prediction in the log with all its fields, tokens and roles, admin routes,
 * rate limiting, and PostgreSQL going away mid-run.
 */
import { randomBytes } from 'node:crypto'
import { copyFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { createFsBackend } from '../src/registry/backends/fs.js'
import { ModelRegistry } from '../src/registry/registry.js'
import type { ServeApp } from '../src/serve/app.js'
import { requireRole } from '../src/serve/auth.js'
import { startServer } from '../src/serve/server.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { PredictionLogQueue } from '../src/store/log-queue.js'
import { SqliteWorkerWriter } from '../src/store/log-writer.js'
import { openPostgresStore } from '../src/store/postgres.js'
import { createRedactor, DEFAULT_REDACTION_RULES } from '../src/store/redact.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { evalSummary, testSigner } from './helpers/registry.js'
import { readyApp, serveConfig, startRelay, tempDir, waitFor, writeModelFile } from './helpers/serve.js'

const gates = defaultConfig().gates
let dir: string
let registry: ModelRegistry
let store: KyselyPredictionStore
let unsignedFile: string
let signedFile: string
const tokens: Record<'admin' | 'annotator' | 'client', string> = { admin: '', annotator: '', client: '' }

beforeAll(async () => {
  dir = tempDir()
  const key = testSigner()
  registry = new ModelRegistry(createFsBackend({ root: path.join(dir, 'registry') }), {
    trust: { trustedKeys: [key.publicKey], allowUnsigned: false },
    signer: key.signer,
  })
  const a = await writeModelFile(dir, 'a.iom', { seed: 1, name: 'bot' })
  const b = await writeModelFile(dir, 'b.iom', { seed: 2, drop: 3, name: 'bot' })
  const c = await writeModelFile(dir, 'c.iom', { seed: 3, drop: 4, name: 'bot' })
  signedFile = b.file
  unsignedFile = c.file
  await registry.publish({ name: 'bot', bytes: a.bytes, author: 't', eval: evalSummary(0.8) })
  await registry.publish({ name: 'bot', bytes: b.bytes, author: 't', eval: evalSummary(0.9) })
  await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 't' })
  await registry.promote({ name: 'bot', version: 2, alias: 'staging', policy: gates, actor: 't' })
  store = openSqliteStore({
    file: path.join(dir, 'store.db'),
    senderKey: 'k',
    redact: createRedactor(DEFAULT_REDACTION_RULES),
  })
  await store.migrate()
  for (const role of ['admin', 'annotator', 'client'] as const) {
    tokens[role] = (await store.createToken({ name: role, role })).token
  }
})
afterAll(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const bearer = (role: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[role]}` })

async function appWith(overrides: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const predictionLog = new PredictionLogQueue({ store, flushIntervalMs: 10 })
  const app = await readyApp({
    config: serveConfig({ watchIntervalMs: 100, ...overrides }),
    root: dir,
    registry,
    modelName: 'bot',
    store,
    predictionLog,
    ...extra,
  })
  return { app, predictionLog }
}

describe('the prediction log', () => {
  let app: ServeApp
  let log: PredictionLogQueue
  beforeAll(async () => {
    ;({ app, predictionLog: log } = await appWith())
  })
  afterAll(() => app.close())

  it('records every prediction with all its fields, redacted, without the raw sender id', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/parse',
      payload: {
        text: 'book a flight to Paris, write to ann@example.com',
        message_id: 'msg-1',
        sender_id: 'user-42',
        channel: 'web',
        metadata: { locale: 'en-GB' },
      },
    })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    await log.flush()
    const rec = await store.getPrediction(body.request_id)
    expect(rec).toMatchObject({
      id: body.request_id,
      messageId: 'msg-1',
      text: 'book a flight to Paris, write to [email]',
      intent: body.intent.name,
      confidence: body.intent.confidence,
      fallback: false,
      modelName: 'bot',
      modelVersion: '1',
      channel: 'web',
      metadata: { locale: 'en-GB' },
    })
    expect(rec!.ts).toBeGreaterThan(Date.now() - 60_000)
    expect(rec!.senderHash).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(rec)).not.toContain('user-42')
    expect(rec!.ranking).toHaveLength(3)
    expect(rec!.ranking[0]).toEqual(body.intent_ranking[0])
    expect(rec!.margin).toBeCloseTo(body.intent_ranking[0].confidence - body.intent_ranking[1].confidence, 10)
    expect(rec!.entities).toEqual(body.entities)
    expect(rec!.latencyMs).toBeGreaterThan(0)
  })

  it('records batch, triage and Rasa predictions with their channel', async () => {
    const batch = (
      await app.inject({
        method: 'POST',
        url: '/v1/parse/batch',
        payload: { messages: [{ text: 'hi' }, { fields: { subject: 'weather', body: 'rain?' } }] },
      })
    ).json()
    const triage = (
      await app.inject({ method: 'POST', url: '/v1/messages', payload: { messages: [{ id: 't', body: 'bye' }] } })
    ).json()
    const rasa = await app.inject({
      method: 'POST',
      url: '/model/parse',
      payload: { text: 'hello there', message_id: 'r-1' },
    })
    await log.flush()
    const [b0, b1] = batch.results
    expect(await store.getPrediction(b0.request_id)).toMatchObject({ channel: 'api', text: 'hi' })
    expect(await store.getPrediction(b1.request_id)).toMatchObject({ fields: { subject: 'weather', body: 'rain?' } })
    expect(await store.getPrediction(triage.classifications[0].request_id)).toMatchObject({
      channel: 'triage',
      messageId: 't',
    })
    const rasaRec = await store.getPrediction(rasa.headers['x-request-id'] as string)
    expect(rasaRec).toMatchObject({ channel: 'rasa', messageId: 'r-1', text: 'hello there' })
  })

  it('records nothing when logging is off', async () => {
    const { app: quiet, predictionLog } = await appWith({ logPredictions: false })
    try {
      const res = await quiet.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hi' } })
      expect(res.statusCode).toBe(200)
      expect(predictionLog.depth).toBe(0)
      expect(await store.getPrediction(res.json().request_id)).toBeUndefined()
    } finally {
      await quiet.close()
    }
  })

  it('refuses metadata nested deeper than 32 levels with a 400 naming where, and logs metadata up to the limit', async () => {
    // `metadata` is level 1, so 31 arrays under one of its keys reach the limit and 32 pass it. The bodies are
    // written by hand: encoding 5000 levels with JSON.stringify is what runs out of stack.
    const nested = (levels: number) => `${'['.repeat(levels)}"leaf"${']'.repeat(levels)}`
    const post = (url: string, body: string) =>
      app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json' } })
    const parse = (metadata: string) => post('/v1/parse', `{"text":"hi","metadata":${metadata}}`)
    const atLimit = await parse(`{"a":${nested(31)}}`)
    expect(atLimit.statusCode).toBe(200)
    await log.flush()
    const logged = await store.getPrediction(atLimit.json().request_id)
    expect(logged?.metadata).toEqual(JSON.parse(`{"a":${nested(31)}}`))

    for (const levels of [32, 5000]) {
      const res = await parse(`{"ok":1,"a":${nested(levels)}}`)
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({
        code: 'ERR_SERVE_METADATA_TOO_DEEP',
        message: 'body.metadata.a nests deeper than 32 levels of objects and arrays',
        hint: expect.not.stringContaining('{'),
      })
    }
    const objects = await parse(`{"trace id":${'{"x":'.repeat(40)}1${'}'.repeat(40)}}`)
    expect(objects.json()).toMatchObject({ message: expect.stringContaining('body.metadata["trace id"] nests deeper') })
    const batch = await post(
      '/v1/parse/batch',
      `{"messages":[{"text":"hi","metadata":{"a":${nested(31)}}},{"text":"hi","metadata":{"b":${nested(5000)}}}]}`,
    )
    expect(batch.statusCode).toBe(400)
    expect(batch.json()).toMatchObject({
      code: 'ERR_SERVE_METADATA_TOO_DEEP',
      message: expect.stringContaining('messages[1].metadata.b nests deeper than 32 levels'),
    })
    // Rasa's route takes no metadata: whatever else the body holds is neither read nor logged.
    const rasa = await post('/model/parse', `{"text":"hi","metadata":{"a":${nested(5000)}}}`)
    expect(rasa.statusCode).toBe(200)
    await log.flush()
    expect((await store.getPrediction(rasa.headers['x-request-id'] as string))?.metadata).toBeUndefined()
  })

  it('counts a record the log refuses in /metrics', async () => {
    const metric = async () =>
      Number(/^intentops_prediction_log_invalid_total (\S+)$/m.exec((await app.inject({ url: '/metrics' })).body)?.[1])
    expect(await metric()).toBe(0)
    const res = await app.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hi' } })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    // What no request can send any more, but a plugin's record could carry.
    app.intentops.predictionLog!.push({
      ...(await store.getPrediction(res.json().request_id))!,
      id: 'p-cyclic',
      metadata: cyclic,
    })
    expect(await metric()).toBe(1)
  })

  it('reports the store in /ready and the log counters in /metrics', async () => {
    expect((await app.inject({ url: '/ready' })).json()).toMatchObject({ status: 'ready', store: 'ok' })
    const metrics = (await app.inject({ url: '/metrics' })).body
    expect(metrics).toMatch(/intentops_prediction_log_written_total [1-9]/)
    expect(metrics).toMatch(/intentops_predictions_total\{intent="greet"\} [1-9]/)
    expect(metrics).toMatch(/intentops_http_requests_total\{route="\/v1\/parse",method="POST",status="200"\} [1-9]/)
    expect(metrics).toMatch(/intentops_http_request_duration_seconds_bucket\{le="0.005",route="\/v1\/parse"/)
  })
})

describe('the prediction log through its writer thread', () => {
  it("reports the thread's CPU time in /metrics, and no such metric without a thread", async () => {
    const writer = new SqliteWorkerWriter({
      file: path.join(dir, 'store.db'),
      senderKey: 'k',
      redaction: DEFAULT_REDACTION_RULES,
    })
    const predictionLog = new PredictionLogQueue({ store: writer, flushIntervalMs: 10 })
    const app = await readyApp({
      config: serveConfig({ watchIntervalMs: 100 }),
      root: dir,
      registry,
      modelName: 'bot',
      store,
      predictionLog,
      logWriter: writer,
    })
    try {
      const value = async () =>
        /^intentops_prediction_log_writer_cpu_seconds_total (\S+)$/m.exec(
          (await app.inject({ url: '/metrics' })).body,
        )?.[1]
      // Nothing written yet: the thread has told nothing.
      expect(Number(await value())).toBe(0)
      for (let i = 0; i < 30; i++) await app.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hello' } })
      await predictionLog.flush()
      const seconds = Number(await value())
      expect(seconds).toBeGreaterThan(0)
      // The thread's own time, not the process's.
      const process_ = process.cpuUsage()
      expect(seconds).toBeLessThan((process_.user + process_.system) / 1e6)
      expect(writer.cpuSeconds()).toBeGreaterThanOrEqual(seconds)
    } finally {
      await app.close()
    }
    const { app: without } = await appWith()
    try {
      expect((await without.inject({ url: '/metrics' })).body).not.toContain('log_writer_cpu_seconds')
    } finally {
      await without.close()
    }
  })
})

describe('redaction rules on the longest text the server takes', () => {
  it('are judged as the app is built, from the store or its writer thread, without resolveServeConfig seeing them', async () => {
    // Fine on 10,000 characters and on 22,000 code units (11,000 characters), not on 100,000 characters.
    const slow = [{ pattern: '\\d+\\.\\d+', replacement: '[n]' }]
    const file = path.join(dir, 'slow.db')
    const slowStore = openSqliteStore({ file, senderKey: 'k', redact: createRedactor(slow) })
    await slowStore.migrate()
    const writer = new SqliteWorkerWriter({ file, senderKey: 'k', redaction: slow })
    // The app closes its queue: one each.
    const build = (overrides: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      readyApp({
        config: serveConfig(overrides),
        root: dir,
        registry,
        modelName: 'bot',
        store: slowStore,
        predictionLog: new PredictionLogQueue({ store: slowStore, flushIntervalMs: 10 }),
        ...extra,
      })
    const refusal = expect.objectContaining({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining(
        '`store.redaction.0.pattern` /\\d+\\.\\d+/ can take too long on the texts of up to 100,000 characters the server can log, which it reads as up to 200,000 code units',
      ),
    })
    try {
      expect(slowStore.redaction).toEqual(slow)
      await expect(build({ maxTextLength: 100_000 })).rejects.toEqual(refusal)
      await expect(build({ maxTextLength: 100_000 }, { logWriter: writer })).rejects.toEqual(refusal)
      // The writer thread's rules are those that redact what the queue writes through it.
      const safeWriter = new SqliteWorkerWriter({ file, senderKey: 'k', redaction: DEFAULT_REDACTION_RULES })
      const viaWriter = await build({ maxTextLength: 100_000 }, { logWriter: safeWriter })
      await viaWriter.close()
      // Nothing is redacted when nothing is logged; and the advice of the message passes.
      await (await build({ maxTextLength: 100_000, logPredictions: false })).close()
      const predictionLog = new PredictionLogQueue({ store: slowStore, flushIntervalMs: 10 })
      const fits = await build({ maxTextLength: 11_000 }, { predictionLog })
      try {
        const text = `${'1'.repeat(10_990)}.5`
        const res = await fits.inject({ method: 'POST', url: '/v1/parse', payload: { text } })
        expect(res.statusCode).toBe(200)
        await predictionLog.flush()
        expect((await slowStore.getPrediction(res.json().request_id))?.text).toBe('[n]')
      } finally {
        await fits.close()
      }
    } finally {
      await writer.close()
      await slowStore.close()
    }
  })
})

describe('tokens and roles', () => {
  let app: ServeApp
  beforeAll(async () => {
    const plugin: FastifyPluginAsync = async (instance) => {
      instance.get('/v1/review/ping', { preHandler: requireRole('annotator') }, async () => ({ ok: true }))
      instance.post(
        '/v1/review/echo',
        { preHandler: requireRole('annotator'), schema: { body: { type: 'object' } } },
        async (request) => ({ body: request.body }),
      )
    }
    ;({ app } = await appWith({}, { plugins: [plugin] }))
  })
  afterAll(() => app.close())

  it('admin routes: 401 without a token, 403 for weaker roles, 200 for admin', async () => {
    const put = (headers: Record<string, string>) =>
      app.inject({ method: 'PUT', url: '/v1/models/active', payload: { version: 1 }, headers })
    expect((await put({})).json().code).toBe('ERR_SERVE_UNAUTHORIZED')
    expect((await put({})).statusCode).toBe(401)
    expect((await put({ authorization: 'Bearer nope' })).statusCode).toBe(401)
    expect((await put({ authorization: 'Basic abc' })).statusCode).toBe(401)
    const client = await put(bearer('client'))
    expect(client.statusCode).toBe(403)
    expect(client.json()).toMatchObject({
      code: 'ERR_SERVE_FORBIDDEN',
      message: 'A token with the role client cannot use this route: it needs the role admin or higher',
    })
    const annotator = await put(bearer('annotator'))
    expect(annotator.statusCode).toBe(403)
    expect(annotator.json().message).toBe(
      'A token with the role annotator cannot use this route: it needs the role admin or higher',
    )
    expect((await put(bearer('admin'))).statusCode).toBe(200)
  })

  it('checks the token before the body: 401/403 whatever the body holds, 400 only for an admin', async () => {
    const put = (headers: Record<string, string>, payload = '{"version": ') =>
      app.inject({
        method: 'PUT',
        url: '/v1/models/active',
        payload,
        headers: { 'content-type': 'application/json', ...headers },
      })
    const none = await put({})
    expect([none.statusCode, none.json().code]).toEqual([401, 'ERR_SERVE_UNAUTHORIZED'])
    // The body was never read: the connection closes after the answer.
    expect(none.headers.connection).toBe('close')
    expect((await put({ authorization: 'Bearer nope' })).statusCode).toBe(401)
    const oversized = await put({ 'content-length': String(10 * 1024 * 1024) }, '{}')
    expect([oversized.statusCode, oversized.json().code]).toEqual([401, 'ERR_SERVE_UNAUTHORIZED'])
    const latin1 = await put({ 'content-type': 'application/json; charset=latin1' }, '{}')
    expect(latin1.statusCode).toBe(401)
    const annotator = await put(bearer('annotator'))
    expect([annotator.statusCode, annotator.json().code]).toEqual([403, 'ERR_SERVE_FORBIDDEN'])
    const admin = await put(bearer('admin'))
    expect([admin.statusCode, admin.json().code]).toEqual([400, 'ERR_SERVE_INVALID_JSON'])
    // Plugin routes with requireRole, and Rasa's PUT /model, check first too.
    const rasa = await app.inject({
      method: 'PUT',
      url: '/model',
      payload: 'not json',
      headers: { 'content-type': 'application/json' },
    })
    expect([rasa.statusCode, rasa.json().reason]).toEqual([401, 'ERR_SERVE_UNAUTHORIZED'])
    const plugin = await app.inject({
      method: 'POST',
      url: '/v1/review/echo',
      payload: 'not json',
      headers: { 'content-type': 'application/json', ...bearer('client') },
    })
    expect([plugin.statusCode, plugin.json().code]).toEqual([403, 'ERR_SERVE_FORBIDDEN'])
    // A request without a body keeps its connection.
    expect((await app.inject({ method: 'POST', url: '/v1/models/reload' })).headers.connection).not.toBe('close')
  })

  it('a keep-alive client gets its 401, then a fresh connection serves the retry with a token', async () => {
    const { app: own } = await appWith()
    const server = await startServer(own, { port: 0, signals: [] })
    const base = server.url
    try {
      const body = JSON.stringify({ version: 1 })
      const first = await fetch(`${base}/v1/models/active`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body,
      })
      expect([first.status, first.headers.get('connection')]).toEqual([401, 'close'])
      await first.text()
      const second = await fetch(`${base}/v1/models/active`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...bearer('admin') },
        body,
      })
      expect(second.status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('a revoked token is refused', async () => {
    const { token, record } = await store.createToken({ name: 'temp', role: 'admin' })
    await store.revokeToken(record.id)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/models/reload',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.statusCode).toBe(401)
  })

  it('requireRole protects routes mounted by plugins', async () => {
    expect((await app.inject({ url: '/v1/review/ping' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/v1/review/ping', headers: bearer('client') })).statusCode).toBe(403)
    expect((await app.inject({ url: '/v1/review/ping', headers: bearer('annotator') })).json()).toEqual({ ok: true })
    expect((await app.inject({ url: '/v1/review/ping', headers: bearer('admin') })).statusCode).toBe(200)
  })

  it('parse routes need a token when configured, and Rasa routes take ?token=', async () => {
    const { app: locked } = await appWith({ requireTokenForParse: true })
    try {
      const parse = (headers: Record<string, string>, url = '/v1/parse') =>
        locked.inject({ method: 'POST', url, payload: { text: 'hi' }, headers })
      expect((await parse({})).statusCode).toBe(401)
      expect((await parse(bearer('client'))).statusCode).toBe(200)
      expect((await parse({}, '/model/parse')).json()).toMatchObject({ status: 'failure', code: 401 })
      expect((await parse({}, `/model/parse?token=${tokens.client}`)).statusCode).toBe(200)
      // ?token= is Rasa's convention only.
      expect((await parse({}, `/v1/parse?token=${tokens.client}`)).statusCode).toBe(401)
    } finally {
      await locked.close()
    }
  })

  it('answers 503 when a token cannot be checked for lack of a store', async () => {
    const bare = await readyApp({ config: serveConfig(), root: dir, registry, modelName: 'bot' })
    try {
      const res = await bare.inject({ method: 'POST', url: '/v1/models/reload', headers: bearer('admin') })
      expect(res.statusCode).toBe(503)
      expect(res.json().code).toBe('ERR_SERVE_AUTH_UNAVAILABLE')
    } finally {
      await bare.close()
    }
  })
})

describe('admin routes', () => {
  let app: ServeApp
  beforeAll(async () => {
    ;({ app } = await appWith())
  })
  afterAll(() => app.close())
  const admin = () => bearer('admin')

  it('pins a version, switches the alias, reloads', async () => {
    const pin = await app.inject({
      method: 'PUT',
      url: '/v1/models/active',
      payload: { version: 'v2' },
      headers: admin(),
    })
    expect(pin.statusCode).toBe(200)
    expect(pin.json().active).toMatchObject({ version: '2', source: 'registry', signed_by: [expect.any(String)] })
    expect((await app.inject({ url: '/v1/models' })).json()).toMatchObject({ alias: null, active: { version: '2' } })
    const alias = await app.inject({
      method: 'PUT',
      url: '/v1/models/active',
      payload: { alias: 'production' },
      headers: admin(),
    })
    expect(alias.json().active).toMatchObject({ version: '1', alias: 'production' })
    const models = (await app.inject({ url: '/v1/models' })).json()
    expect(models.alias).toBe('production')
    expect(models.versions).toEqual([
      { version: 2, created_at: expect.any(String), aliases: ['staging'] },
      { version: 1, created_at: expect.any(String), aliases: ['production'] },
    ])
    const reload = await app.inject({ method: 'POST', url: '/v1/models/reload', headers: admin() })
    expect(reload.json().active.version).toBe('1')
    // A bodyless POST with a JSON content type, as many HTTP clients send it: the route takes no body.
    const empty = await app.inject({
      method: 'POST',
      url: '/v1/models/reload',
      payload: '',
      headers: { ...admin(), 'content-type': 'application/json' },
    })
    expect([empty.statusCode, empty.json().active?.version]).toEqual([200, '1'])
    // Routes that take a body still refuse an empty one.
    for (const url of ['/v1/models/active', '/v1/parse']) {
      const res = await app.inject({
        method: url === '/v1/parse' ? 'POST' : 'PUT',
        url,
        payload: '',
        headers: { ...admin(), 'content-type': 'application/json' },
      })
      expect([url, res.statusCode, res.json().code]).toEqual([url, 400, 'ERR_SERVE_INVALID_JSON'])
    }
    const missing = await app.inject({
      method: 'PUT',
      url: '/v1/models/active',
      payload: { version: 99 },
      headers: admin(),
    })
    expect(missing.statusCode).toBe(422)
    expect(missing.json().message).toContain('ERR_REGISTRY_VERSION_NOT_FOUND')
    expect(app.intentops.holder.current?.version).toBe('1')
    const bad = await app.inject({
      method: 'PUT',
      url: '/v1/models/active',
      payload: { version: 1, alias: 'x' },
      headers: admin(),
    })
    expect(bad.statusCode).toBe(400)
  })

  it("Rasa's PUT /model takes a version, an alias, or a signed model file; refuses unsigned and outside files", async () => {
    const put = (model_file: string) =>
      app.inject({ method: 'PUT', url: '/model', payload: { model_file }, headers: admin() })
    const v2 = await put('2')
    expect(v2.statusCode).toBe(204)
    expect(v2.body).toBe('')
    expect(app.intentops.holder.current?.version).toBe('2')
    expect((await put('production')).statusCode).toBe(204)
    expect(app.intentops.holder.current?.version).toBe('1')
    // A copy of version 2's file is recognised by its digest and served as the signed version.
    copyFileSync(signedFile, path.join(dir, 'copy-of-b.iom'))
    expect((await put('copy-of-b.iom')).statusCode).toBe(204)
    expect(app.intentops.holder.current).toMatchObject({ version: '2', source: { kind: 'registry' } })
    const unsigned = await put(path.basename(unsignedFile))
    expect(unsigned.statusCode).toBe(422)
    expect(unsigned.json()).toMatchObject({
      status: 'failure',
      reason: 'ERR_SERVE_MODEL_LOAD_FAILED',
      message: expect.stringContaining('ERR_SERVE_MODEL_UNTRUSTED_FILE'),
    })
    const outside = await put('/etc/passwd')
    expect(outside.statusCode).toBe(400)
    expect(outside.json().reason).toBe('ERR_PATH_OUTSIDE_PROJECT')
    expect(app.intentops.holder.current?.version).toBe('2')
  })
})

describe('bad model references', () => {
  let app: ServeApp
  beforeAll(async () => {
    ;({ app } = await appWith())
  })
  afterAll(() => app.close())

  it('answers 400 with the rule and a hint, naming no registry key or server path', async () => {
    const activate = (payload: unknown) =>
      app.inject({ method: 'PUT', url: '/v1/models/active', payload: payload as object, headers: bearer('admin') })
    const huge = await activate({ version: 1e300 })
    expect([huge.statusCode, huge.json().code]).toEqual([400, 'ERR_SERVE_BAD_REQUEST'])
    expect(huge.json().message).toContain('body.version')
    expect(huge.body).not.toContain('models/')
    const long = await activate({ version: '9999999999999' })
    expect([long.statusCode, long.json().code]).toEqual([400, 'ERR_REGISTRY_INVALID_REF'])
    expect(long.json().message).toBe('Invalid version "9999999999999": versions are integers from 1 to 999999999999')
    expect(long.json().hint).toContain('`3` or `v3`')

    const put = (model_file: string) =>
      app.inject({ method: 'PUT', url: '/model', payload: { model_file }, headers: bearer('admin') })
    const blank = await put('  ')
    expect([blank.statusCode, blank.json().reason]).toEqual([400, 'ERR_SERVE_BAD_REQUEST'])
    expect(blank.json().message).toContain('body.model_file is blank')
    expect(blank.body).not.toContain(dir)
    for (const ref of ['0', 'v0']) {
      const zero = await put(ref)
      expect([zero.statusCode, zero.json().reason]).toEqual([400, 'ERR_REGISTRY_INVALID_REF'])
      expect(zero.json().message).toBe(`Invalid version "${ref}": versions are integers from 1 to 999999999999`)
      expect(zero.json().help).toContain('an alias, which starts with a lowercase letter')
    }
    const alias = await activate({ version: 'Prod!' })
    expect([alias.statusCode, alias.json().code]).toEqual([400, 'ERR_REGISTRY_INVALID_REF'])
    expect(alias.json().hint).toContain('`3` or `v3`')
    expect(app.intentops.holder.current?.version).toBe('1')
  })

  it('answers 401 with WWW-Authenticate: Bearer', async () => {
    const none = await app.inject({ method: 'PUT', url: '/model', payload: { model_file: '2' } })
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer realm="intentops"')
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/models/reload',
      headers: { authorization: 'Bearer iop_not-a-token' },
    })
    expect(unknown.statusCode).toBe(401)
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="intentops", error="invalid_token"')
    const forbidden = await app.inject({ method: 'POST', url: '/v1/models/reload', headers: bearer('client') })
    expect(forbidden.statusCode).toBe(403)
    expect(forbidden.headers['www-authenticate']).toBeUndefined()
  })
})

describe('rate limiting', () => {
  it('limits each token (or address) to serve.rateLimit requests per window with a catalog 429', async () => {
    const { app } = await appWith({ rateLimit: 3, rateLimitWindowMs: 60_000 })
    try {
      const parse = (headers: Record<string, string> = {}) =>
        app.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hi' }, headers })
      for (let i = 0; i < 3; i++) expect((await parse()).statusCode).toBe(200)
      const limited = await parse()
      expect(limited.statusCode).toBe(429)
      expect(limited.json()).toMatchObject({ code: 'ERR_SERVE_RATE_LIMITED' })
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
      // Another key (a token) has its own budget.
      expect((await parse(bearer('client'))).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })
})

const DATABASE_URL = process.env.DATABASE_URL

describe('PostgreSQL going away mid-run', () => {
  const schema = `iops_serve_${process.pid}_${randomBytes(4).toString('hex')}`
  afterAll(async () => {
    const c = new pg.Client({ connectionString: DATABASE_URL })
    await c.connect()
    await c.query(`drop schema if exists ${schema} cascade`)
    await c.end()
  })

  it('keeps answering while the store is unreachable, and writes every queued prediction once it is back', async () => {
    const url = new URL(DATABASE_URL!)
    const relay = await startRelay({ host: url.hostname, port: Number(url.port || 5432) })
    const viaRelay = new URL(DATABASE_URL!)
    viaRelay.hostname = '127.0.0.1'
    viaRelay.port = String(relay.port)
    const pgStore = openPostgresStore({ url: viaRelay.toString(), schema, poolSize: 2, connectTimeoutMs: 500 })
    await pgStore.migrate()
    const predictionLog = new PredictionLogQueue({
      store: pgStore,
      flushIntervalMs: 10,
      retryBaseMs: 20,
      retryMaxMs: 200,
    })
    const app = await readyApp({
      config: serveConfig(),
      root: dir,
      registry,
      modelName: 'bot',
      store: pgStore,
      predictionLog,
    })
    const server = await startServer(app, { port: 0, signals: [] })
    const ids: string[] = []
    const send = async (i: number) => {
      const res = await fetch(`${server.url}/v1/parse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `hello number ${i}` }),
      })
      expect(res.status).toBe(200)
      ids.push(((await res.json()) as { request_id: string }).request_id)
    }
    try {
      for (let i = 0; i < 20; i++) await send(i)
      await predictionLog.flush()
      await relay.stop()
      for (let i = 20; i < 80; i++) await send(i)
      const ready = await fetch(`${server.url}/ready`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toMatchObject({ store: 'unreachable', code: 'ERR_SERVE_STORE_UNAVAILABLE' })
      await waitFor(() => predictionLog.stats().failedWrites > 0, 'a failed write')
      expect(predictionLog.depth).toBe(60)
      await relay.start()
      expect(await predictionLog.flush({ timeoutMs: 20_000 })).toBe(0)
      const c = new pg.Client({ connectionString: DATABASE_URL })
      await c.connect()
      const r = await c.query(`select id from ${schema}.predictions`)
      await c.end()
      expect(new Set(r.rows.map((row: { id: string }) => row.id))).toEqual(new Set(ids))
      expect((await fetch(`${server.url}/ready`)).status).toBe(200)
    } finally {
      await server.close()
      await relay.stop().catch(() => undefined)
    }
  })
})
