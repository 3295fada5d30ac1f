/**
 * Bad input on a real socket: oversized and chunked bodies, slow (slowloris) bodies and headers, invalid UTF-8, and a
 * fast-check fuzz of /v1/parse. Every bad request gets a 4xx JSON catalog error and the server stays healthy.
 */

import { rmSync } from 'node:fs'
import net from 'node:net'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServeApp } from '../src/serve/app.js'
import { type RunningServer, startServer } from '../src/serve/server.js'
import { readyApp, serveConfig, tempDir, writeModelFile } from './helpers/serve.js'

let dir: string
let app: ServeApp
let server: RunningServer
let port: number
/** The server's log lines at info and above, parsed. */
const logLines: Array<Record<string, unknown>> = []

beforeAll(async () => {
  dir = tempDir()
  const { file } = await writeModelFile(dir)
  app = await readyApp({
    config: serveConfig({ model: file, bodyLimitBytes: 64 * 1024, bodyTimeoutMs: 600, requestTimeoutMs: 2000 }),
    root: dir,
    logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line)) }),
  })
  server = await startServer(app, { port: 0, signals: [] })
  port = server.port
})
afterAll(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Send raw bytes on a fresh connection; resolves with everything the server wrote and whether it closed. */
function raw(chunks: Array<string | Buffer>, gapMs = 0, waitMs = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    let closed = false
    const done = () => resolve({ text, closed })
    const timer = setTimeout(() => {
      socket.destroy()
      done()
    }, waitMs)
    socket.on('data', (d) => {
      text += d.toString('latin1')
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      closed = true
      clearTimeout(timer)
      done()
    })
    void (async () => {
      for (const c of chunks) {
        if (socket.destroyed) return
        socket.write(c)
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs))
      }
    })()
  })
}

function statusAndJson(text: string): { status: number; body: Record<string, unknown> } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])
  const body = text.slice(text.indexOf('\r\n\r\n') + 4)
  return { status, body: JSON.parse(body) as Record<string, unknown> }
}

async function healthy() {
  const res = await fetch(`${server.url}/health`)
  expect(res.status).toBe(200)
  const parse = await fetch(`${server.url}/v1/parse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'hello there' }),
  })
  expect(parse.status).toBe(200)
}

describe('oversized bodies', () => {
  it('refuses a body whose Content-Length is over the limit before reading it, and closes', async () => {
    const body = JSON.stringify({ text: 'a'.repeat(200 * 1024) })
    const res = await fetch(`${server.url}/v1/parse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({
      code: 'ERR_SERVE_BODY_TOO_LARGE',
      message: expect.stringContaining('65536'),
    })
    await healthy()
  })

  it('refuses a chunked body once it grows over the limit', async () => {
    const head =
      'POST /v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'
    const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`
    const parts = [head, chunk('{"text": "'), ...Array.from({ length: 20 }, () => chunk('a'.repeat(8192)))]
    const { text, closed } = await raw(parts, 5)
    const { status, body } = statusAndJson(text)
    expect(status).toBe(413)
    expect(body.code).toBe('ERR_SERVE_BODY_TOO_LARGE')
    expect(closed).toBe(true)
    await healthy()
  })

  it('refuses a body shorter than its Content-Length once it stalls', async () => {
    const head = 'POST /v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n'
    const { text } = await raw([head, '{"text": "hi"}'])
    const { status, body } = statusAndJson(text)
    expect(status).toBe(408)
    expect(body.code).toBe('ERR_SERVE_BODY_TIMEOUT')
  })
})

/** One request on its own connection, sent as written (no path normalisation); the headers and the JSON body. */
async function request(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body: Buffer | string = '',
) {
  const lines = Object.entries({ Host: 'x', Connection: 'close', 'Content-Length': String(body.length), ...headers })
  const head = `${method} ${target} HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
  const { text } = await raw([head, body])
  const end = text.indexOf('\r\n\r\n')
  const headerLines = text.slice(0, end).split('\r\n').slice(1)
  const responseHeaders = Object.fromEntries(
    headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  )
  return { ...statusAndJson(text), headers: responseHeaders }
}

describe('content types and encodings', () => {
  it('names the content type it refuses, or none', async () => {
    const json = { 'Content-Type': 'application/json' }
    for (const [type, named] of [
      ['text/plain', 'text/plain'],
      ['multipart/form-data; boundary=xyz', 'multipart/form-data'],
      [undefined, 'none'],
    ] as const) {
      const res = await request('POST', '/v1/parse', type ? { 'Content-Type': type } : {}, 'text=hi')
      expect([res.status, res.body.code, res.body.message]).toEqual([
        415,
        'ERR_SERVE_UNSUPPORTED_MEDIA_TYPE',
        `Unsupported content type ${named}`,
      ])
    }
    expect((await request('POST', '/v1/parse', json, '{"text":"hi"}')).status).toBe(200)
  })

  it('refuses a charset other than UTF-8 with 415 naming it, and takes utf-8 in any spelling', async () => {
    const body = JSON.stringify({ text: 'café' })
    for (const charset of ['latin1', 'ISO-8859-1', '"utf-16"', '']) {
      const res = await request(
        'POST',
        '/v1/parse',
        { 'Content-Type': `application/json; charset=${charset}` },
        Buffer.from(body),
      )
      const named = charset === '' ? '""' : charset.replace(/"/g, '')
      expect([charset, res.status, res.body.code, res.body.message]).toEqual([
        charset,
        415,
        'ERR_SERVE_UNSUPPORTED_CHARSET',
        `Unsupported charset ${named}: a JSON body is UTF-8`,
      ])
      expect(res.body.hint).toContain('RFC 8259')
    }
    const rasa = await request(
      'POST',
      '/model/parse',
      { 'Content-Type': 'application/json;charset=latin1' },
      Buffer.from(body),
    )
    expect([rasa.status, rasa.body.reason]).toEqual([415, 'ERR_SERVE_UNSUPPORTED_CHARSET'])
    for (const type of [
      'application/json; charset=utf-8',
      'application/json;CHARSET="UTF8"',
      'application/json; q=1',
    ]) {
      const res = await request('POST', '/v1/parse', { 'Content-Type': type }, Buffer.from(body))
      // `raw` reads the answer as latin1: decode the text's bytes as the UTF-8 they are.
      expect([type, res.status, Buffer.from(String(res.body.text), 'latin1').toString('utf8')]).toEqual([
        type,
        200,
        'café',
      ])
    }
    await healthy()
  })

  it('refuses compressed bodies with 415 and says to send them uncompressed', async () => {
    const body = JSON.stringify({ text: 'hello there' })
    const gzip = await request(
      'POST',
      '/v1/parse',
      { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      gzipSync(body),
    )
    expect(gzip.status).toBe(415)
    expect(gzip.body).toMatchObject({
      code: 'ERR_SERVE_UNSUPPORTED_ENCODING',
      message: 'Unsupported content encoding gzip',
      hint: expect.stringContaining('uncompressed'),
    })
    // A plain body that claims another encoding is refused too, not read as if it were plain.
    const br = await request(
      'POST',
      '/v1/parse',
      { 'Content-Type': 'application/json', 'Content-Encoding': 'br' },
      body,
    )
    expect([br.status, br.body.code]).toEqual([415, 'ERR_SERVE_UNSUPPORTED_ENCODING'])
    const rasa = await request(
      'POST',
      '/model/parse',
      { 'Content-Type': 'application/json', 'Content-Encoding': 'br' },
      body,
    )
    expect([rasa.status, rasa.body.reason]).toEqual([415, 'ERR_SERVE_UNSUPPORTED_ENCODING'])
    const identity = await request(
      'POST',
      '/v1/parse',
      { 'Content-Type': 'application/json', 'Content-Encoding': 'identity' },
      body,
    )
    expect(identity.status).toBe(200)
    await healthy()
  })
})

describe('errors outside the routes', () => {
  it('answers a malformed percent-encoding with a catalog 400 and a request id, in Rasa shape on Rasa paths', async () => {
    const res = await request('POST', '/v1/parse%ZZ', { 'Content-Type': 'application/json' }, '{"text":"hi"}')
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      code: 'ERR_SERVE_BAD_REQUEST',
      message: 'Invalid request: the URL path /v1/parse%ZZ is not valid percent-encoding',
      hint: expect.stringContaining('%25'),
    })
    expect(res.headers['x-request-id']).toBe(res.body.request_id)
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const rasa = await request('POST', '/model/parse%ZZ', { 'Content-Type': 'application/json' }, '{"text":"hi"}')
    expect(rasa.status).toBe(400)
    expect(rasa.body).toMatchObject({ status: 'failure', reason: 'ERR_SERVE_BAD_REQUEST', code: 400 })
    await healthy()
  })

  it("keeps the static files' 403 and 404 with catalog codes", async () => {
    for (const target of ['/docs/static/../../../package.json', '/docs/static/%2e%2e/%2e%2e/package.json']) {
      const res = await request('GET', target)
      expect([target, res.status, res.body.code]).toEqual([target, 403, 'ERR_SERVE_PATH_FORBIDDEN'])
      expect(res.body.message).toBe(`The path ${target} is not allowed`)
    }
    const missing = await request('GET', '/docs/static/nope.js')
    expect([missing.status, missing.body.code]).toEqual([404, 'ERR_SERVE_ROUTE_NOT_FOUND'])
    const range = await request('GET', '/docs/static/swagger-ui.css', { Range: 'bytes=99999999-' })
    expect([range.status, range.body.code]).toEqual([416, 'ERR_SERVE_RANGE_NOT_SATISFIABLE'])
  })
})

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/**
 * The request id of an answer the parser's handler wrote: a uuid v7 as Fastify's are, the same in `x-request-id` and
 * `request_id`, and on the one log line (at info) that tells of the error.
 */
function expectRequestId(text: string, body: Record<string, unknown>): string {
  const header = /\r\nx-request-id: ([^\r]*)\r\n/i.exec(text)?.[1]
  expect(header).toMatch(UUID_V7)
  expect(body.request_id).toBe(header)
  expect(logLines.filter((l) => l.reqId === header)).toEqual([
    expect.objectContaining({ level: 30, code: body.code, msg: body.message }),
  ])
  return header!
}

describe("what Node's HTTP parser refuses", () => {
  const post = (headers: string, body = '') =>
    `POST /v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n${body}`

  it('answers malformed HTTP with a catalog 400 and closes', async () => {
    const cases: Array<[string, string, string]> = [
      [
        'Content-Length with Transfer-Encoding',
        post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
        'comes with Content-Length',
      ],
      ['two Content-Lengths', post('Content-Length: 2\r\nContent-Length: 3\r\n', '{}'), 'appears twice'],
      ['a bad chunk size', post('Transfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n'), 'not a hex number'],
      ['an unknown method', 'FETCH /v1/parse HTTP/1.1\r\nHost: x\r\n\r\n', 'the method is not one HTTP defines'],
      ['a bad version', 'GET /health HTTP/7.1\r\nHost: x\r\n\r\n', 'Invalid HTTP version'],
    ]
    const ids = new Set<string>()
    for (const [what, bytes, detail] of cases) {
      const { text, closed } = await raw([bytes])
      const { status, body } = statusAndJson(text)
      expect([what, status, body.code, closed]).toEqual([what, 400, 'ERR_SERVE_MALFORMED_HTTP', true])
      ids.add(expectRequestId(text, body))
      expect(body.message).toContain(`The request is not valid HTTP/1.1: `)
      expect(body.message).toContain(detail)
      expect(body.hint).toEqual(expect.any(String))
      expect(text).toMatch(/\r\nconnection: close\r\n/i)
      expect(text).toMatch(/\r\ncontent-type: application\/json; charset=utf-8\r\n/i)
    }
    expect(ids.size).toBe(cases.length)
    await healthy()
  })

  it('answers headers over the size limit with a catalog 431', async () => {
    const { text, closed } = await raw([`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`])
    const { status, body } = statusAndJson(text)
    expect([status, body.code, closed]).toEqual([431, 'ERR_SERVE_HEADERS_TOO_LARGE', true])
    expect(body.message).toBe('The request line and headers are over the 16384-byte limit')
    expectRequestId(text, body)
    await healthy()
  })
})

describe("what Node's HTTP parser refuses on the Rasa paths", () => {
  /** Rasa's error shape for a catalog error, with the answer's id only in `x-request-id` and on the log line. */
  function expectRasaError(text: string, status: number, reason: string): Record<string, unknown> {
    const { status: got, body } = statusAndJson(text)
    expect([got, body]).toEqual([
      status,
      {
        version: expect.any(String),
        status: 'failure',
        reason,
        message: expect.any(String),
        details: {},
        help: expect.any(String),
        code: status,
      },
    ])
    const id = /\r\nx-request-id: ([^\r]*)\r\n/i.exec(text)?.[1]
    expect(id).toMatch(UUID_V7)
    expect(logLines.filter((l) => l.reqId === id)).toEqual([
      expect.objectContaining({ level: 30, code: reason, msg: body.message }),
    ])
    expect(text).toMatch(/\r\nconnection: close\r\n/i)
    return body
  }

  it('answers malformed HTTP in Rasa shape when the request line names a Rasa path', async () => {
    const cases: Array<[string, string]> = [
      [
        'two Content-Lengths',
        'POST /model/parse HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      ],
      ['a bad version', 'GET /status HTTP/7.1\r\nHost: x\r\n\r\n'],
      ['an unknown method', 'FETCH /version HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a query', 'GET /model?token=t HTTP/7.1\r\nHost: x\r\n\r\n'],
    ]
    for (const [what, bytes] of cases) {
      const { text, closed } = await raw([bytes])
      const body = expectRasaError(text, 400, 'ERR_SERVE_MALFORMED_HTTP')
      expect([what, body.message, closed]).toEqual([what, expect.stringContaining('not valid HTTP/1.1'), true])
    }
    // a bad chunk in the body of a request whose head was read and routed
    const chunked = await raw(
      [
        'POST /model/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        'zz\r\n{}\r\n0\r\n\r\n',
      ],
      50,
    )
    expect(expectRasaError(chunked.text, 400, 'ERR_SERVE_MALFORMED_HTTP').message).toContain('not a hex number')
    // pipelined after a good request, in one read: the good one's answer comes first, then the error, whose shape
    // follows the line of the request that failed
    const pipelined = await raw(['GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\nGET /status HTTP/7.1\r\nHost: x\r\n\r\n'])
    const second = pipelined.text.indexOf('HTTP/1.1 400 ')
    expect(pipelined.text.slice(0, 13)).toBe('HTTP/1.1 200 ')
    expect(second).toBeGreaterThan(0)
    expect(statusAndJson(pipelined.text.slice(0, second)).body).toMatchObject({ active: expect.any(Object) })
    expectRasaError(pipelined.text.slice(second), 400, 'ERR_SERVE_MALFORMED_HTTP')
    // a path that only starts like a Rasa one keeps the catalog shape
    const other = statusAndJson((await raw(['GET /statusx HTTP/7.1\r\nHost: x\r\n\r\n'])).text)
    expect([other.status, other.body.code, other.body.status]).toEqual([400, 'ERR_SERVE_MALFORMED_HTTP', undefined])
    await healthy()
  })

  it('answers headers over the size limit on a Rasa path in Rasa shape', async () => {
    const { text, closed } = await raw([`GET /version HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`])
    const body = expectRasaError(text, 431, 'ERR_SERVE_HEADERS_TOO_LARGE')
    expect([body.message, closed]).toEqual(['The request line and headers are over the 16384-byte limit', true])
    // many headers over several reads: Node hands the URL over once 32 headers are in
    const many = await raw(
      [
        'GET /model/parse HTTP/1.1\r\nHost: x\r\n',
        ...Array.from({ length: 80 }, (_, i) => `X-Many-${i}: ${'b'.repeat(300)}\r\n`),
      ],
      10,
    )
    expectRasaError(many.text, 431, 'ERR_SERVE_HEADERS_TOO_LARGE')
    await healthy()
  })
})

describe('slow clients', () => {
  it('cuts a slowloris body with 408 JSON and closes the connection', async () => {
    const payload = JSON.stringify({ text: 'hello there, this body arrives one byte at a time' })
    const head = `POST /v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`
    const started = Date.now()
    const { text, closed } = await raw([head, ...payload.split('')], 100)
    const { status, body } = statusAndJson(text)
    expect(status).toBe(408)
    expect(body).toMatchObject({ code: 'ERR_SERVE_BODY_TIMEOUT', message: expect.stringContaining('600 ms') })
    expect(closed).toBe(true)
    expect(Date.now() - started).toBeLessThan(3000)
    await healthy()
  })

  it('cuts slow headers at the request timeout', async () => {
    const started = Date.now()
    const lines = [
      'POST /v1/parse HTTP/1.1\r\n',
      'Host: x\r\n',
      ...Array.from({ length: 50 }, (_, i) => `X-Slow-${i}: 1\r\n`),
    ]
    const { text, closed } = await raw(lines, 200, 10_000)
    expect(closed).toBe(true)
    const { status, body } = statusAndJson(text)
    expect([status, body.code, body.message]).toEqual([
      408,
      'ERR_SERVE_HEADERS_TIMEOUT',
      'The request headers were not received within 2000 ms',
    ])
    expectRequestId(text, body)
    expect(Date.now() - started).toBeLessThan(5000)
    await healthy()
  })

  it('serves other clients while slow ones hang', async () => {
    const slow = Array.from({ length: 20 }, () =>
      raw(
        ['POST /v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"te'],
        0,
        3000,
      ),
    )
    await healthy()
    const results = await Promise.all(slow)
    expect(results.every((r) => r.text.startsWith('HTTP/1.1 408'))).toBe(true)
  })
})

describe('fuzzing /v1/parse', () => {
  it('answers any JSON value with 200 or a 4xx catalog error, never a 5xx', async () => {
    const messages = fc.oneof(
      fc.record({ text: fc.string({ unit: 'binary', maxLength: 300 }) }, { requiredKeys: [] }),
      fc.record({
        fields: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ unit: 'grapheme', maxLength: 50 })),
      }),
      fc.record({ text: fc.anything(), top_k: fc.anything(), message_id: fc.anything() }, { requiredKeys: [] }),
      fc.jsonValue(),
    )
    await fc.assert(
      fc.asyncProperty(messages, async (payload) => {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/parse',
          payload: JSON.stringify(payload),
          headers: { 'content-type': 'application/json' },
        })
        expect(res.statusCode === 200 || (res.statusCode >= 400 && res.statusCode < 500)).toBe(true)
        const body = res.json()
        if (res.statusCode === 200) {
          expect(typeof body.intent.name).toBe('string')
          expect(body.intent.confidence).toBeGreaterThanOrEqual(0)
        } else expect(body.code).toMatch(/^ERR_SERVE_/)
      }),
      { numRuns: 300, seed: 42 },
    )
  })

  it('answers arbitrary bytes with a 4xx catalog error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/parse',
          payload: Buffer.from(bytes),
          headers: { 'content-type': 'application/json' },
        })
        expect(res.statusCode).toBeLessThan(500)
        if (res.statusCode !== 200) expect(res.json().code).toMatch(/^ERR_SERVE_/)
      }),
      { numRuns: 200, seed: 7 },
    )
    await healthy()
  })
})
