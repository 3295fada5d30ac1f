import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readyApp, serveConfig, tempDir, writeModelFile } from '../../test/helpers/serve.js'
import { RateLimiter } from './rate-limit.js'
import { type RunningServer, startServer } from './server.js'

describe('RateLimiter', () => {
  it('lets a new key send `max` at once, then one per windowMs / max', () => {
    const l = new RateLimiter({ max: 3, windowMs: 3000 })
    expect([l.take('a', 0), l.take('a', 0), l.take('a', 0)]).toEqual([2, 1, 0])
    expect(l.take('a', 0)).toBe(-1)
    expect(l.retryAfterSeconds('a', 0)).toBe(1)
    expect(l.take('a', 999)).toBe(-1)
    expect(l.take('a', 1000)).toBe(0)
    expect(l.take('a', 1000)).toBe(-1)
    // Another key has its own bucket.
    expect(l.take('b', 1000)).toBe(2)
    // A long pause fills the bucket, never above max.
    expect(l.take('a', 1_000_000)).toBe(2)
  })

  it('tells how long until the next token and until the bucket is full', () => {
    const l = new RateLimiter({ max: 2, windowMs: 60_000 })
    l.take('a', 0)
    l.take('a', 0)
    expect(l.take('a', 0)).toBe(-1)
    expect(l.retryAfterSeconds('a', 0)).toBe(30)
    expect(l.retryAfterSeconds('a', 20_000)).toBe(10)
    expect(l.resetSeconds(0)).toBe(60)
    expect(l.resetSeconds(1)).toBe(30)
  })

  it('stays bounded: idle buckets go first, then the oldest, and an active key keeps its count', () => {
    const l = new RateLimiter({ max: 2, windowMs: 1000, maxKeys: 100 })
    for (let i = 0; i < 99; i++) l.take(`idle${i}`, 0)
    l.take('busy', 5000)
    l.take('busy', 5000)
    expect(l.take('busy', 5000)).toBe(-1)
    // The idle ones are full again by t=5000: the next new key sweeps them out, the busy one stays empty.
    l.take('new', 5000)
    expect(l.size).toBe(2)
    expect(l.take('busy', 5000)).toBe(-1)
    // Every key active: the map is cut back to three quarters, never above the bound.
    const m = new RateLimiter({ max: 5, windowMs: 60_000, maxKeys: 100 })
    for (let i = 0; i < 1000; i++) {
      m.take(`k${i}`, i)
      expect(m.size).toBeLessThanOrEqual(100)
    }
    expect(m.size).toBeGreaterThanOrEqual(75)
  })

  it('refuses a bad configuration', () => {
    expect(() => new RateLimiter({ max: 0, windowMs: 1000 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => new RateLimiter({ max: 1, windowMs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })
})

describe('rate limiting over HTTP', () => {
  let dir: string
  let server: RunningServer
  beforeAll(async () => {
    dir = tempDir()
    const { file } = await writeModelFile(dir)
    const app = await readyApp({
      config: serveConfig({ model: file, rateLimit: 2, rateLimitWindowMs: 4000, corsOrigins: ['https://a.example'] }),
      root: dir,
    })
    server = await startServer(app, { host: '127.0.0.1', port: 0, signals: [] })
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const parse = (url = '/v1/parse', body: unknown = { text: 'hi' }) =>
    fetch(`${server.url}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://a.example' },
      body: JSON.stringify(body),
    })

  it('answers 429 in the catalog shape with retry-after and the rate-limit headers, then lets the client back in', async () => {
    const first = await parse()
    expect(first.status).toBe(200)
    expect(first.headers.get('x-ratelimit-limit')).toBe('2')
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1')
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(1)
    expect((await parse()).status).toBe(200)
    const limited = await parse()
    expect(limited.status).toBe(429)
    const body = (await limited.json()) as Record<string, unknown>
    expect(body).toMatchObject({ code: 'ERR_SERVE_RATE_LIMITED', request_id: limited.headers.get('x-request-id') })
    // One token comes back every 2 s: retry-after is 2, or 1 if the first requests took over a second.
    expect(body.message).toMatch(/^Too many requests: 2 per 4 s allowed; retry in [12] s$/)
    expect(['1', '2']).toContain(limited.headers.get('retry-after'))
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    // A browser can read the 429: the CORS headers are on it.
    expect(limited.headers.get('access-control-allow-origin')).toBe('https://a.example')
    // Rasa routes answer in Rasa's error shape.
    const rasa = await parse('/model/parse', { text: 'hi' })
    expect(rasa.status).toBe(429)
    expect(await rasa.json()).toMatchObject({ status: 'failure', reason: 'ERR_SERVE_RATE_LIMITED', code: 429 })
    // Unknown routes are not counted or limited.
    expect((await parse('/nowhere')).status).toBe(404)
    await new Promise((r) => setTimeout(r, 2100))
    expect((await parse()).status).toBe(200)
    expect((await parse()).status).toBe(429)
    // The server is healthy throughout.
    expect((await fetch(`${server.url}/health`)).status).not.toBe(500)
  })

  it('neither counts nor limits the health, readiness and metrics probes', async () => {
    // Far over the budget of 2, from the one address parse requests also come from.
    for (let i = 0; i < 5; i++) {
      for (const [method, url] of [
        ['GET', '/health'],
        ['HEAD', '/health'],
        ['GET', '/ready'],
        ['GET', '/metrics'],
      ]) {
        const res = await fetch(`${server.url}${url}`, { method })
        expect(res.status, `${method} ${url}`).toBe(200)
        expect(res.headers.get('x-ratelimit-limit')).toBeNull()
      }
    }
    // Parse requests still are limited.
    const statuses = [(await parse()).status, (await parse()).status, (await parse()).status]
    expect(statuses).toContain(429)
  })
})
