/**
 * Requests pipelined on one keep-alive connection ahead of one Node's HTTP parser refuses: their answers go out
 * first, whole and in order, then the catalog error, then the connection closes; the error waits for an answer in
 * progress, but not forever. Raw bytes over real loopback TCP.
 */

import { rmSync } from 'node:fs'
import net from 'node:net'
import type { FastifyPluginAsync } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServeApp } from '../src/serve/app.js'
import { type RunningServer, startServer } from '../src/serve/server.js'
import { readyApp, serveConfig, tempDir, waitFor, writeModelFile } from './helpers/serve.js'

const REQUEST_TIMEOUT_MS = 1500

let dir: string
let app: ServeApp
let server: RunningServer
const logLines: Array<Record<string, unknown>> = []

/**
 * A route that answers when the test opens its gate, as a plugin's route waiting on a store or a remote service
 * does; `entered` counts the requests that reached it.
 */
const slow = {
  entered: 0,
  open: (): void => undefined,
  gate: Promise.resolve(),
  close() {
    this.gate = new Promise<void>((r) => {
      this.open = r
    })
  },
}
const slowRoute: FastifyPluginAsync = async (instance) => {
  instance.get('/v1/slow', async () => {
    slow.entered++
    await slow.gate
    return { slow: true }
  })
}

beforeAll(async () => {
  dir = tempDir()
  const { file } = await writeModelFile(dir)
  app = await readyApp({
    config: serveConfig({ model: file, requestTimeoutMs: REQUEST_TIMEOUT_MS }),
    root: dir,
    plugins: [slowRoute],
    logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line)) }),
  })
  server = await startServer(app, { port: 0, signals: [] })
})
afterAll(async () => {
  slow.open()
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Connection {
  /** Everything the server wrote so far, as latin1 (one char a byte). */
  text(): string
  write(bytes: string): void
  /** Resolves with everything written once the server closes the connection (or after `waitMs`, then `closed` false). */
  done: Promise<{ text: string; closed: boolean; ms: number }>
}

function connect(waitMs = 10_000): Connection {
  const socket = net.connect(server.port, '127.0.0.1')
  const started = Date.now()
  let text = ''
  socket.on('data', (d) => {
    text += d.toString('latin1')
  })
  socket.on('error', () => undefined)
  const done = new Promise<{ text: string; closed: boolean; ms: number }>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ text, closed: false, ms: Date.now() - started })
    }, waitMs)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ text, closed: true, ms: Date.now() - started })
    })
  })
  return { text: () => text, write: (bytes) => socket.write(bytes), done }
}

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

/** The HTTP/1.1 answers in what a connection read, in order; whatever follows the last whole one is `rest`. */
function answers(text: string): { answers: Answer[]; rest: string } {
  const out: Answer[] = []
  let at = 0
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at)
    if (headEnd < 0) break
    const [statusLine, ...lines] = text.slice(at, headEnd).split('\r\n')
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)?.[1])
    const headers = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    )
    let body = ''
    let end = headEnd + 4
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const sizeEnd = text.indexOf('\r\n', end)
        if (sizeEnd < 0) return { answers: out, rest: text.slice(at) }
        const size = Number.parseInt(text.slice(end, sizeEnd), 16)
        if (sizeEnd + 2 + size + 2 > text.length) return { answers: out, rest: text.slice(at) }
        body += text.slice(sizeEnd + 2, sizeEnd + 2 + size)
        end = sizeEnd + 2 + size + 2
        if (size === 0) break
      }
    } else {
      const length = Number(headers['content-length'] ?? 0)
      if (end + length > text.length) break
      body = text.slice(end, end + length)
      end += length
    }
    out.push({ status, headers, body })
    at = end
  }
  return { answers: out, rest: text.slice(at) }
}

const parseBody = JSON.stringify({ text: 'hello there' })
const parse = `POST /v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${parseBody.length}\r\n\r\n${parseBody}`
const slowGet = 'GET /v1/slow HTTP/1.1\r\nHost: x\r\n\r\n'
const badVersion = 'GET /health HTTP/7.1\r\nHost: x\r\n\r\n'
const bigHeaders = `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`
/** A served file read from disk, so its answer starts only after the file opens: the Swagger UI's script. */
const staticFile = 'GET /docs/static/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\n\r\n'

/** Whether the server logged a parser error with `code` after its first `from` log lines. */
const errorLogged = (code: string, from: number) => () => logLines.slice(from).some((l) => l.code === code)

/** The catalog error the connection ends with, its id on the one log line that tells of it. */
function expectCatalogError(a: Answer | undefined, status: number, code: string) {
  expect([a?.status, a?.headers.connection, a?.headers['content-type']]).toEqual([
    status,
    'close',
    'application/json; charset=utf-8',
  ])
  const body = JSON.parse(a!.body) as Record<string, unknown>
  expect(body).toMatchObject({ code, request_id: a!.headers['x-request-id'] })
  expect(logLines.filter((l) => l.reqId === body.request_id)).toEqual([
    expect.objectContaining({ level: 30, code, msg: body.message }),
  ])
}

function expectParsed(a: Answer | undefined) {
  expect([a?.status, a?.headers.connection]).toEqual([200, 'keep-alive'])
  expect(JSON.parse(a!.body)).toMatchObject({ text: 'hello there', intent: { name: 'greet' } })
}

describe('answers pipelined before a request the parser refuses', () => {
  it('sends a quick answer, then the 400, then closes', async () => {
    const c = connect()
    c.write(parse + badVersion)
    const { text, closed } = await c.done
    const got = answers(text)
    expect([got.answers.length, got.rest, closed]).toEqual([2, '', true])
    expectParsed(got.answers[0])
    expectCatalogError(got.answers[1], 400, 'ERR_SERVE_MALFORMED_HTTP')
  })

  it('sends a whole static file whose answer had not begun, then the 400', async () => {
    const c = connect()
    c.write(staticFile + badVersion)
    const { text, closed } = await c.done
    const got = answers(text)
    expect([got.answers.length, got.rest, closed]).toEqual([2, '', true])
    expect(got.answers[0]!.status).toBe(200)
    expect(got.answers[0]!.headers['content-type']).toContain('javascript')
    expect(got.answers[0]!.body.length).toBeGreaterThan(100_000)
    expectCatalogError(got.answers[1], 400, 'ERR_SERVE_MALFORMED_HTTP')
  })

  it('waits for a route still running, then for the answers queued behind it, in request order', async () => {
    slow.close()
    const entered = slow.entered
    const logged = logLines.length
    const c = connect()
    c.write(slowGet + parse + badVersion)
    await waitFor(() => slow.entered > entered && errorLogged('ERR_SERVE_MALFORMED_HTTP', logged)(), 'the error')
    // The route is still running when the error is known, and nothing is written ahead of its answer.
    await new Promise((r) => setTimeout(r, 100))
    expect(c.text()).toBe('')
    slow.open()
    const { text, closed } = await c.done
    const got = answers(text)
    expect([got.answers.length, got.rest, closed]).toEqual([3, '', true])
    expect([got.answers[0]!.status, JSON.parse(got.answers[0]!.body)]).toEqual([200, { slow: true }])
    expectParsed(got.answers[1])
    expectCatalogError(got.answers[2], 400, 'ERR_SERVE_MALFORMED_HTTP')
  })

  it('waits when the malformed bytes come in a later write, and answers the error once however much follows', async () => {
    slow.close()
    const entered = slow.entered
    const logged = logLines.length
    const c = connect()
    c.write(slowGet)
    await waitFor(() => slow.entered > entered, 'the route to run')
    c.write(badVersion)
    await waitFor(errorLogged('ERR_SERVE_MALFORMED_HTTP', logged), 'the error')
    // The parser repeats its error on every read after it.
    c.write('more bytes\r\n\r\n')
    await new Promise((r) => setTimeout(r, 50))
    c.write(badVersion)
    await new Promise((r) => setTimeout(r, 50))
    expect(c.text()).toBe('')
    slow.open()
    const { text, closed } = await c.done
    const got = answers(text)
    expect([got.answers.map((a) => a.status), got.rest, closed]).toEqual([[200, 400], '', true])
    expectCatalogError(got.answers[1], 400, 'ERR_SERVE_MALFORMED_HTTP')
    expect(logLines.slice(logged).filter((l) => l.code === 'ERR_SERVE_MALFORMED_HTTP')).toHaveLength(1)
  })

  it('sends headers over the size limit their 431 after the answer before them', async () => {
    slow.close()
    const logged = logLines.length
    const c = connect()
    c.write(slowGet + bigHeaders)
    await waitFor(errorLogged('ERR_SERVE_HEADERS_TOO_LARGE', logged), 'the error')
    expect(c.text()).toBe('')
    slow.open()
    const { text, closed } = await c.done
    const got = answers(text)
    expect([got.answers.length, got.rest, closed]).toEqual([2, '', true])
    expect(JSON.parse(got.answers[0]!.body)).toEqual({ slow: true })
    expectCatalogError(got.answers[1], 431, 'ERR_SERVE_HEADERS_TOO_LARGE')
  })

  it('answers a bad chunk in a later request once the answers before it are out, without waiting on its own', async () => {
    slow.close()
    const logged = logLines.length
    const c = connect()
    c.write(
      `${slowGet}POST /v1/parse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    )
    await waitFor(errorLogged('ERR_SERVE_MALFORMED_HTTP', logged), 'the error')
    const opened = Date.now()
    slow.open()
    const { text, closed } = await c.done
    expect(Date.now() - opened).toBeLessThan(REQUEST_TIMEOUT_MS / 2)
    const got = answers(text)
    expect([got.answers.length, got.rest, closed]).toEqual([2, '', true])
    expect(JSON.parse(got.answers[0]!.body)).toEqual({ slow: true })
    expectCatalogError(got.answers[1], 400, 'ERR_SERVE_MALFORMED_HTTP')
    expect(JSON.parse(got.answers[1]!.body).message).toContain('not a hex number')
  })

  it('names the headers in the 408 for a head that never finishes behind a route still running', async () => {
    slow.close()
    const logged = logLines.length
    const c = connect()
    c.write(`${slowGet}GET /health HTTP/1.1\r\nHost: x\r\n`)
    await waitFor(errorLogged('ERR_SERVE_HEADERS_TIMEOUT', logged), 'the error', REQUEST_TIMEOUT_MS * 3)
    expect(c.text()).toBe('')
    slow.open()
    const { text, closed } = await c.done
    const got = answers(text)
    expect([got.answers.length, got.rest, closed]).toEqual([2, '', true])
    expect(JSON.parse(got.answers[0]!.body)).toEqual({ slow: true })
    expectCatalogError(got.answers[1], 408, 'ERR_SERVE_HEADERS_TIMEOUT')
  })

  it('closes without the error when the answer before it is still unfinished after the request timeout', async () => {
    slow.close()
    const logged = logLines.length
    const c = connect()
    c.write(slowGet + badVersion)
    const { text, closed, ms } = await c.done
    slow.open()
    // Nothing: a 400 alone would read as the answer to the first request.
    expect([text, closed]).toEqual(['', true])
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50)
    expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2000)
    const error = logLines.slice(logged).find((l) => l.code === 'ERR_SERVE_MALFORMED_HTTP')
    expect(logLines.filter((l) => l.reqId === error?.reqId)).toEqual([
      expect.objectContaining({ code: 'ERR_SERVE_MALFORMED_HTTP' }),
      expect.objectContaining({
        msg: `Not answered: an earlier answer on the connection was unfinished after ${REQUEST_TIMEOUT_MS} ms`,
      }),
    ])
    const health = await fetch(`${server.url}/health`)
    expect(health.status).toBe(200)
  })

  it('writes nothing after an answer that closes the connection', async () => {
    slow.close()
    const logged = logLines.length
    const c = connect()
    c.write(`GET /v1/slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n${badVersion}`)
    await waitFor(errorLogged('ERR_SERVE_MALFORMED_HTTP', logged), 'the error')
    slow.open()
    const { text, closed } = await c.done
    const got = answers(text)
    expect([got.answers.map((a) => [a.status, a.headers.connection]), got.rest, closed]).toEqual([
      [[200, 'close']],
      '',
      true,
    ])
  })
})
