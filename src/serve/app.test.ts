import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readyApp, serveConfig, tempDir, writeModelFile } from '../../test/helpers/serve.js'
import { defaultConfig } from '../config/defaults.js'
import { encodeModel } from '../nlu/model-file.js'
import { toyTrainingData } from '../nlu/testing.js'
import { trainModel } from '../nlu/train.js'
import { VERSION } from '../version.js'
import type { ServeApp } from './app.js'

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/rasa/model-parse.json', import.meta.url), 'utf8'),
) as {
  parse: { query: Record<string, string>; request: Record<string, unknown>; response: Record<string, unknown> }
  version: Record<string, unknown>
  status: Record<string, unknown>
  error: Record<string, unknown>
}

/** The JSON type of every key, recursively (arrays by their first element): the shape a Rasa client relies on. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : []
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]))
  }
  return value === null ? 'null' : typeof value
}

let dir: string
let file: string
let app: ServeApp

beforeAll(async () => {
  dir = tempDir()
  ;({ file } = await writeModelFile(dir))
  app = await readyApp({ config: serveConfig({ model: file }), root: dir })
})
afterAll(async () => {
  await app.close()
  rmSync(dir, { recursive: true, force: true })
})

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url,
    payload: payload as string,
    headers: { 'content-type': 'application/json', ...headers },
  })

describe('POST /v1/parse', () => {
  it('returns intent, confidence, ranking, entities, model version and request id', async () => {
    const res = await post('/v1/parse', { text: 'book a flight to Paris', message_id: 'm-1' })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.intent.name).toBe('book_flight')
    expect(body.intent.confidence).toBeGreaterThan(0.5)
    expect(body.intent_ranking[0]).toEqual(body.intent)
    expect(body.intent_ranking).toHaveLength(4)
    expect(body.entities).toContainEqual(
      expect.objectContaining({ entity: 'city', value: 'Paris', start: 17, end: 22 }),
    )
    expect(body.model).toEqual({ name: 'intentops-bot', version: expect.stringMatching(/^file:[0-9a-f]{12}$/) })
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers['x-request-id']).toBe(body.request_id)
    expect(body.message_id).toBe('m-1')
    expect(body.fallback).toBe(false)
  })

  it('parses multi-field messages and honours top_k', async () => {
    const res = await post('/v1/parse', { fields: { subject: 'weather', body: 'will it rain in Paris' }, top_k: 2 })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.intent.name).toBe('weather')
    expect(body.fields).toEqual({ subject: 'weather', body: 'will it rain in Paris' })
    expect(body.intent_ranking).toHaveLength(2)
  })

  it('reports the fallback when the model is unsure', async () => {
    const res = await post('/v1/parse', { text: 'zzzz qqqq' })
    const body = res.json()
    expect(body.fallback).toBe(body.intent.name === 'nlu_fallback')
  })

  it.each([
    ['malformed JSON', '{"text": "hi"', 400, 'ERR_SERVE_INVALID_JSON'],
    ['an empty body', '', 400, 'ERR_SERVE_INVALID_JSON'],
    ['a wrong type', { text: 5 }, 400, 'ERR_SERVE_BAD_REQUEST'],
    ['an unknown key', { text: 'hi', txet: 'hi' }, 400, 'ERR_SERVE_BAD_REQUEST'],
    ['neither text nor fields', { message_id: 'x' }, 400, 'ERR_SERVE_BAD_REQUEST'],
    ['both text and fields', { text: 'a', fields: { body: 'b' } }, 400, 'ERR_SERVE_BAD_REQUEST'],
    ['an array body', [1, 2], 400, 'ERR_SERVE_BAD_REQUEST'],
    ['a field name with a line break', { fields: { 'sub\nject': 'hi' } }, 400, 'ERR_SERVE_BAD_REQUEST'],
    ['an empty field name', { fields: { '': 'hi' } }, 400, 'ERR_SERVE_BAD_REQUEST'],
    ['a field name over 64 characters', { fields: { ['f'.repeat(65)]: 'hi' } }, 400, 'ERR_SERVE_BAD_REQUEST'],
    ['a text over the limit', { text: 'a'.repeat(10_001) }, 413, 'ERR_SERVE_TEXT_TOO_LONG'],
  ])('answers %s with a JSON catalog error', async (_what, payload, status, code) => {
    const res = await post('/v1/parse', payload)
    expect(res.statusCode).toBe(status)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const body = res.json()
    expect(body.code).toBe(code)
    expect(body.message.length).toBeGreaterThan(10)
    expect(body.hint).toBeTruthy()
    expect(body.request_id).toBe(res.headers['x-request-id'])
  })

  it('counts serve.maxTextLength in characters, so an emoji counts once', async () => {
    const emoji = '\u{1F600}'
    for (const [url, where] of [
      ['/v1/parse', 'text'],
      ['/model/parse', 'text'],
    ] as const) {
      expect((await post(url, { text: emoji.repeat(10_000) })).statusCode).toBe(200)
      const over = await post(url, { text: emoji.repeat(10_001) })
      expect(over.statusCode).toBe(413)
      expect(over.json().message).toContain(`${where} is 10001 characters, over the 10000-character limit`)
    }
    const fields = (n: number) => post('/v1/parse', { fields: { subject: emoji.repeat(n), body: 'a'.repeat(5000) } })
    expect((await fields(5000)).statusCode).toBe(200)
    expect((await fields(5001)).json().message).toContain('is 10001 characters')
  })

  it('names the offending key in validation errors', async () => {
    const res = await post('/v1/parse', { text: 'hi', txet: 'hi' })
    expect(res.json().message).toContain("unknown key 'txet'")
    const res2 = await post('/v1/parse', { fields: { subject: 3 } })
    expect(res2.json().message).toContain('body.fields.subject')
    const res3 = await post('/v1/parse', { fields: { 'sub\nject': 'hi' } })
    expect(res3.json().message).toContain('body.fields has the field name "sub\\nject": a field name has 1 to 64')
  })

  it('refuses other content types with 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/parse',
      payload: 'text=hi',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.statusCode).toBe(415)
    expect(res.json().code).toBe('ERR_SERVE_UNSUPPORTED_MEDIA_TYPE')
  })

  it('refuses invalid UTF-8 with the offset of the bad byte', async () => {
    const payload = Buffer.concat([Buffer.from('{"text": "caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])
    const res = await app.inject({
      method: 'POST',
      url: '/v1/parse',
      payload,
      headers: { 'content-type': 'application/json' },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'ERR_SERVE_INVALID_UTF8', message: expect.stringContaining('offset 13') })
  })

  it('keeps prototype pollution out of parsed bodies', async () => {
    const res = await post('/v1/parse', '{"text":"hi","__proto__":{"polluted":true}}')
    expect(res.statusCode).toBe(400)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('POST /v1/parse/batch and /v1/messages', () => {
  it('parses a batch in order with one model version', async () => {
    const res = await post('/v1/parse/batch', { messages: [{ text: 'hello there' }, { text: 'fly me to Tokyo' }] })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.results.map((r: { intent: { name: string } }) => r.intent.name)).toEqual(['greet', 'book_flight'])
    expect(new Set(body.results.map((r: { request_id: string }) => r.request_id)).size).toBe(2)
    expect(body.results.every((r: { model: unknown }) => JSON.stringify(r.model) === JSON.stringify(body.model))).toBe(
      true,
    )
  })

  it('refuses a 10k-entry batch with 413 and stays healthy', async () => {
    const messages = Array.from({ length: 10_000 }, (_, i) => ({ text: `hello ${i}` }))
    const res = await post('/v1/parse/batch', { messages })
    expect(res.statusCode).toBe(413)
    expect(res.json()).toMatchObject({ code: 'ERR_SERVE_BATCH_TOO_LARGE', message: expect.stringContaining('10000') })
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200)
  })

  it('names the bad message of a batch', async () => {
    const res = await post('/v1/parse/batch', { messages: [{ text: 'ok' }, { text: 'a'.repeat(10_001) }] })
    expect(res.statusCode).toBe(413)
    expect(res.json().message).toContain('messages[1].text')
  })

  it('classifies triage messages', async () => {
    const res = await post('/v1/messages', {
      messages: [
        { id: 't1', subject: 'weather', body: 'is it sunny today' },
        { id: 't2', body: 'book a flight to Berlin' },
      ],
    })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.classifications).toEqual([
      { id: 't1', category: 'weather', confidence: expect.any(Number), request_id: expect.any(String) },
      { id: 't2', category: 'book_flight', confidence: expect.any(Number), request_id: expect.any(String) },
    ])
    const empty = await post('/v1/messages', { messages: [{ id: 'x' }] })
    expect(empty.statusCode).toBe(400)
    expect(empty.json().message).toContain('messages[0]')
  })
})

describe('Rasa-compatible routes', () => {
  it("answers Rasa's documented /model/parse request with a ParseResult of the documented shape", async () => {
    const query = new URLSearchParams(fixture.parse.query).toString()
    const res = await post(`/model/parse?${query}`, fixture.parse.request)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.text).toBe(fixture.parse.request.text)
    const documented = shape(fixture.parse.response) as Record<string, unknown>
    const ours = shape(body) as Record<string, unknown>
    expect(ours.intent).toEqual(documented.intent)
    expect(ours.intent_ranking).toEqual(documented.intent_ranking)
    expect(body.intent.name).toBe('greet')
    const withEntity = await post('/model/parse', { text: 'book a flight to Paris' })
    const entity = shape(withEntity.json().entities) as Array<Record<string, unknown>>
    expect(entity[0]).toMatchObject((documented.entities as Array<Record<string, unknown>>)[0]!)
  })

  it('accepts emulation_mode in the body and ignores it', async () => {
    const res = await post('/model/parse', { text: 'hello', emulation_mode: 'WIT' })
    expect(res.statusCode).toBe(200)
    expect(res.json().intent.name).toBe('greet')
  })

  it("answers errors in Rasa's error shape", async () => {
    const res = await post('/model/parse', { message_id: 'x' })
    expect(res.statusCode).toBe(400)
    const body = res.json()
    expect(shape(body)).toMatchObject({ ...(shape(fixture.error) as object), help: 'string' })
    expect(body).toMatchObject({ status: 'failure', reason: 'ERR_SERVE_BAD_REQUEST', code: 400, version: VERSION })
    const bad = await post('/model/parse', '{nope')
    expect(bad.json()).toMatchObject({ status: 'failure', reason: 'ERR_SERVE_INVALID_JSON', code: 400 })
  })

  it('GET /version and /status have the documented shapes', async () => {
    const version = await app.inject({ url: '/version' })
    expect(shape(version.json())).toEqual(shape(fixture.version))
    expect(version.json().version).toBe(VERSION)
    const status = await app.inject({ url: '/status' })
    expect(shape(status.json())).toEqual(shape(fixture.status))
    expect(status.json().model_file).toBe(file)
  })

  it('PUT /model needs an admin token, in the Rasa error shape', async () => {
    const res = await app.inject({ method: 'PUT', url: '/model', payload: { model_file: 'x' } })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toMatchObject({ status: 'failure', reason: 'ERR_SERVE_UNAUTHORIZED', code: 401 })
  })
})

describe('status routes', () => {
  it('GET /health and /ready', async () => {
    expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' })
    const ready = await app.inject({ url: '/ready' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toMatchObject({ status: 'ready', store: 'none', model: { name: 'intentops-bot' } })
  })

  it('GET /v1/models describes the served file', async () => {
    const body = (await app.inject({ url: '/v1/models' })).json()
    expect(body.active).toMatchObject({
      source: 'file',
      path: file,
      labels: ['book_flight', 'goodbye', 'greet', 'weather'],
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    })
    expect(body.versions).toEqual([])
  })

  it('serves the OpenAPI document and its UI at /docs from local assets', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json()
    for (const p of ['/v1/parse', '/v1/parse/batch', '/v1/messages', '/model/parse', '/model', '/status', '/version']) {
      expect(doc.paths[p]).toBeDefined()
    }
    expect(doc.paths['/v1/parse'].post.requestBody.content['application/json'].schema.properties.text).toBeDefined()
    const html = await app.inject({ url: '/docs' })
    expect(html.statusCode).toBe(200)
    expect(html.body).toContain('swagger-ui-bundle.js')
    expect(html.body).not.toMatch(/src="https?:/)
    const bundle = await app.inject({ url: '/docs/static/swagger-ui-bundle.js' })
    expect(bundle.statusCode).toBe(200)
    expect(bundle.body.length).toBeGreaterThan(100_000)
  })

  it('answers unknown routes with a JSON 404', async () => {
    const res = await app.inject({ url: '/v2/nothing' })
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('ERR_SERVE_ROUTE_NOT_FOUND')
    expect(res.headers.allow).toBeUndefined()
  })

  it('answers a known path asked with another method with 405 and Allow, in Rasa shape on Rasa routes', async () => {
    const get = await app.inject({ method: 'GET', url: '/v1/parse?x=1' })
    expect([get.statusCode, get.headers.allow]).toEqual([405, 'POST'])
    expect(get.json()).toMatchObject({
      code: 'ERR_SERVE_METHOD_NOT_ALLOWED',
      message: 'POST /v1/parse only; this request used GET',
      hint: expect.stringContaining('Allow'),
      request_id: get.headers['x-request-id'],
    })
    const del = await app.inject({ method: 'DELETE', url: '/health' })
    expect([del.statusCode, del.headers.allow]).toEqual([405, 'GET, HEAD'])
    expect(del.json().message).toBe('GET or HEAD /health only; this request used DELETE')
    // Without CORS nothing answers OPTIONS: the path is known, the method is not.
    const options = await app.inject({ method: 'OPTIONS', url: '/v1/parse' })
    expect([options.statusCode, options.headers.allow]).toEqual([405, 'POST'])
    const rasa = await app.inject({ method: 'GET', url: '/model/parse' })
    expect([rasa.statusCode, rasa.headers.allow]).toEqual([405, 'POST'])
    expect(rasa.json()).toMatchObject({ status: 'failure', reason: 'ERR_SERVE_METHOD_NOT_ALLOWED', code: 405 })
    const model = await app.inject({ method: 'POST', url: '/model' })
    expect([model.statusCode, model.headers.allow]).toEqual([405, 'PUT'])
    // Parametric and wildcard routes count too; an unknown path stays a 404 whatever the method.
    const docs = await app.inject({ method: 'POST', url: '/docs/static/swagger-ui.css' })
    expect([docs.statusCode, docs.headers.allow]).toEqual([405, 'GET, HEAD'])
    expect((await app.inject({ method: 'DELETE', url: '/v1/parse/nothing' })).statusCode).toBe(404)
  })
})

describe('CORS and metrics', () => {
  it('answers preflights only for the configured origins', async () => {
    const cors = await readyApp({
      config: serveConfig({ model: file, corsOrigins: ['https://bot.example'] }),
      root: dir,
    })
    try {
      // The preflight route takes OPTIONS on every path, yet only a known path gets a 405 (which lists it).
      const wrong = await cors.inject({ method: 'GET', url: '/v1/parse' })
      expect([wrong.statusCode, wrong.headers.allow]).toEqual([405, 'OPTIONS, POST'])
      expect((await cors.inject({ method: 'GET', url: '/v2/nothing' })).statusCode).toBe(404)
      const preflight = (origin: string) =>
        cors.inject({
          method: 'OPTIONS',
          url: '/v1/parse',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        })
      const ok = await preflight('https://bot.example')
      expect(ok.statusCode).toBe(204)
      expect(ok.headers['access-control-allow-origin']).toBe('https://bot.example')
      const other = await preflight('https://evil.example')
      expect(other.headers['access-control-allow-origin']).toBeUndefined()
      // Without configured origins, no CORS headers at all.
      const none = await app.inject({
        method: 'POST',
        url: '/v1/parse',
        payload: { text: 'hi' },
        headers: { origin: 'https://bot.example' },
      })
      expect(none.headers['access-control-allow-origin']).toBeUndefined()
    } finally {
      await cors.close()
    }
  })

  it('exposes the rate-limit headers to browsers; a 429 resets when the bucket is full, retries when a token is back', async () => {
    const limited = await readyApp({
      config: serveConfig({
        model: file,
        corsOrigins: ['https://bot.example'],
        rateLimit: 2,
        rateLimitWindowMs: 60_000,
      }),
      root: dir,
    })
    try {
      const parse = () =>
        limited.inject({
          method: 'POST',
          url: '/v1/parse',
          payload: { text: 'hi' },
          headers: { origin: 'https://bot.example' },
        })
      const first = await parse()
      const exposed = String(first.headers['access-control-expose-headers']).split(/, */)
      expect(exposed).toEqual(
        expect.arrayContaining(['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']),
      )
      expect([first.headers['x-ratelimit-remaining'], first.headers['x-ratelimit-reset']]).toEqual(['1', '30'])
      await parse()
      const refused = await parse()
      expect(refused.statusCode).toBe(429)
      expect(refused.headers['retry-after']).toBe('30')
      expect([refused.headers['x-ratelimit-remaining'], refused.headers['x-ratelimit-reset']]).toEqual(['0', '60'])
    } finally {
      await limited.close()
    }
  })

  it('counts requests by route and status, predictions by intent, fallbacks and the served model', async () => {
    const fresh = await readyApp({ config: serveConfig({ model: file }), root: dir })
    try {
      for (const text of ['hello there', 'hi', 'fly me to Tokyo']) {
        await fresh.inject({ method: 'POST', url: '/v1/parse', payload: { text } })
      }
      await fresh.inject({ method: 'POST', url: '/v1/parse', payload: { nope: 1 } })
      await fresh.inject({ url: '/nowhere' })
      const res = await fresh.inject({ url: '/metrics' })
      expect(res.headers['content-type']).toMatch(/^text\/plain/)
      const m = res.body
      expect(m).toContain('intentops_http_requests_total{route="/v1/parse",method="POST",status="200"} 3')
      expect(m).toContain('intentops_http_requests_total{route="/v1/parse",method="POST",status="400"} 1')
      expect(m).toContain('intentops_http_requests_total{route="unmatched",method="GET",status="404"} 1')
      expect(m).toContain('intentops_predictions_total{intent="greet"} 2')
      expect(m).toContain('intentops_predictions_total{intent="book_flight"} 1')
      expect(m).toMatch(/intentops_fallbacks_total \d+/)
      expect(m).toMatch(
        /intentops_model_info\{name="intentops-bot",version="file:[0-9a-f]{12}",digest="sha256:[0-9a-f]{64}",source="file"\} 1/,
      )
      expect(m).toContain('intentops_model_loads_total{result="ok"} 1')
      expect(m).toContain('intentops_prediction_log_queue_depth 0')
      expect(m).toContain('intentops_prediction_log_dropped_total 0')
      expect(m).toContain('intentops_prediction_log_behind 0')
      // No writer thread here: nothing to time.
      expect(m).not.toContain('log_writer_cpu_seconds')
    } finally {
      await fresh.close()
    }
  })
})

describe('ranking length', () => {
  it('cuts intent_ranking to serve.rankingLength on both APIs, and top_k overrides it', async () => {
    const short = await readyApp({ config: serveConfig({ model: file, rankingLength: 2 }), root: dir })
    try {
      const v1 = await short.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hello there' } })
      expect(v1.json().intent_ranking).toHaveLength(2)
      const k3 = await short.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hello there', top_k: 3 } })
      expect(k3.json().intent_ranking).toHaveLength(3)
      const rasa = await short.inject({ method: 'POST', url: '/model/parse', payload: { text: 'hello there' } })
      expect(rasa.json().intent_ranking).toHaveLength(2)
    } finally {
      await short.close()
    }
  })
})

describe('without a model', () => {
  it('answers 503 on parse and not ready, but stays live', async () => {
    const empty = await readyApp({ config: serveConfig(), root: path.join(dir, 'none') })
    try {
      const res = await empty.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hi' } })
      expect(res.statusCode).toBe(503)
      expect(res.json().code).toBe('ERR_SERVE_NO_MODEL')
      expect(res.json().message).toBe('No model is loaded yet: waiting for the alias bot@production to name a version')
      expect(res.headers['retry-after']).toBe('5')
      const rasa = await empty.inject({ method: 'POST', url: '/model/parse', payload: { text: 'hi' } })
      expect([rasa.statusCode, rasa.headers['retry-after']]).toEqual([503, '5'])
      expect(rasa.json().message).toBe(res.json().message)
      const ready = await empty.inject({ url: '/ready' })
      expect([ready.statusCode, ready.headers['retry-after']]).toEqual([503, '5'])
      expect(ready.json().message).toBe(res.json().message)
      expect((await empty.inject({ url: '/health' })).statusCode).toBe(200)
    } finally {
      await empty.close()
    }
  })

  it('says no model is served when a load fails before any model is, and that the current one keeps serving after', async () => {
    const empty = await readyApp({ config: serveConfig(), root: path.join(dir, 'none') })
    try {
      const holder = empty.intentops.holder
      const broken = async () => ({ bytes: new Uint8Array([1, 2, 3]), source: { kind: 'file' as const, path: 'x' } })
      await expect(holder.swap('broken.iom', broken)).rejects.toMatchObject({
        code: 'ERR_SERVE_MODEL_LOAD_FAILED',
        message: expect.stringMatching(/^Model broken\.iom was not loaded, and no model is served until one loads: /),
      })
      const good = async () => ({
        bytes: new Uint8Array(readFileSync(file)),
        source: { kind: 'file' as const, path: file },
      })
      await holder.swap('good.iom', good)
      await expect(holder.swap('broken.iom', broken)).rejects.toMatchObject({
        message: expect.stringMatching(/^Model broken\.iom was not loaded, the current model keeps serving: /),
      })
    } finally {
      await empty.close()
    }
  })

  it('logs 503s for no model and for shutting down at info without a stack, and says when to retry', async () => {
    const lines: Array<Record<string, unknown>> = []
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    const empty = await readyApp({ config: serveConfig(), root: path.join(dir, 'none'), logger })
    try {
      expect((await empty.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hi' } })).statusCode).toBe(503)
      empty.intentops.closing = true
      const res = await empty.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hi' } })
      expect(res.statusCode).toBe(503)
      expect(res.json().code).toBe('ERR_SERVE_SHUTTING_DOWN')
      expect(res.headers['retry-after']).toBe('1')
      expect(res.headers.connection).toBe('close')
      const refusals = lines.filter((l) => l.code === 'ERR_SERVE_NO_MODEL' || l.code === 'ERR_SERVE_SHUTTING_DOWN')
      expect(refusals.map((l) => [l.code, l.level, 'err' in l])).toEqual([
        ['ERR_SERVE_NO_MODEL', 30, false],
        ['ERR_SERVE_SHUTTING_DOWN', 30, false],
      ])
      expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([])
    } finally {
      empty.intentops.closing = false
      await empty.close()
    }
  })

  it('refuses to start on a corrupt model file', async () => {
    const bad = path.join(dir, 'bad.iom')
    const bytes = readFileSync(file)
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 40) ^ 0xff, bytes.length - 40)
    writeFileSync(bad, bytes)
    await expect(readyApp({ config: serveConfig({ model: bad }), root: dir })).rejects.toMatchObject({
      code: 'ERR_SERVE_MODEL_FILE_FAILED',
      message: expect.stringMatching(
        /^Model file bad\.iom could not be loaded, so the server did not start: ERR_MODEL_DIGEST/,
      ),
    })
  })

  it('keeps serving the started file when a reload of it fails', async () => {
    const copy = path.join(dir, 'reloaded.iom')
    writeFileSync(copy, readFileSync(file))
    const started = await readyApp({ config: serveConfig({ model: copy }), root: dir })
    try {
      const served = started.intentops.holder.current
      writeFileSync(copy, 'not a model')
      await expect(started.intentops.models.reload()).rejects.toMatchObject({
        code: 'ERR_SERVE_MODEL_LOAD_FAILED',
        message: expect.stringContaining('reloaded.iom was not loaded, the current model keeps serving'),
      })
      expect(started.intentops.holder.current).toBe(served)
    } finally {
      await started.close()
    }
  })
})

describe('a model trained on named fields', () => {
  let fielded: ServeApp
  beforeAll(async () => {
    const data = toyTrainingData()
    data.examples = data.examples.map((e) => ({ ...e, fields: { subject: e.text, body: 'hello team' } }))
    const model = await trainModel(data, {
      config: { ...defaultConfig(), fields: { subject: 2, body: 1 } },
      seed: 1,
      workers: 0,
    })
    const fieldedFile = path.join(dir, 'fielded.iom')
    writeFileSync(fieldedFile, encodeModel(model))
    fielded = await readyApp({ config: serveConfig({ model: fieldedFile }), root: dir })
  })
  afterAll(() => fielded.close())

  const send = (url: string, payload: unknown) =>
    fielded.inject({ method: 'POST', url, payload: payload as string, headers: { 'content-type': 'application/json' } })

  it('refuses a field it does not know with 400 naming the field and the ones it knows', async () => {
    expect((await send('/v1/parse', { fields: { subject: 'weather', body: 'rain?' } })).statusCode).toBe(200)
    expect((await send('/v1/parse', { fields: { body: 'rain?' } })).statusCode).toBe(200)
    for (const name of ['other', 'SUBJECT', 'constructor', '__proto__x']) {
      const res = await send('/v1/parse', { fields: { subject: 'weather', [name]: 'rain?' } })
      expect([name, res.statusCode]).toEqual([name, 400])
      expect(res.json()).toMatchObject({
        code: 'ERR_SERVE_UNKNOWN_FIELD',
        message: `body.fields has the field "${name}", which the served model does not know; it knows "body", "subject"`,
        hint: expect.stringContaining('case-sensitive'),
      })
    }
    const batch = await send('/v1/parse/batch', {
      messages: [{ fields: { subject: 'hi' } }, { fields: { Body: 'hi' } }],
    })
    expect([batch.statusCode, batch.json().message]).toEqual([
      400,
      'messages[1].fields has the field "Body", which the served model does not know; it knows "body", "subject"',
    ])
    expect((await send('/v1/messages', { messages: [{ id: '1', subject: 'hi', body: 'weather' }] })).statusCode).toBe(
      200,
    )
    // Rasa's route takes text only, as before.
    expect((await send('/model/parse', { text: 'hello' })).statusCode).toBe(200)
  })

  it('takes any field when the model was trained on plain text', async () => {
    expect((await post('/v1/parse', { fields: { other: 'weather', SUBJECT: 'rain' } })).statusCode).toBe(200)
  })
})
