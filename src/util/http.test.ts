import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startRecordingServer } from '../../test/helpers/recording-server.js'
import { fetchWithRetry } from './http.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

describe('fetchWithRetry', () => {
  it('retries a 503 after a backoff, and a deadline ends the backoff at once instead of waiting it out', async () => {
    const srv = await startRecordingServer(() => ({ status: 503 }))
    closers.push(srv.close)
    // Without the deadline the backoff would wait 20 s before the second attempt.
    const t0 = Date.now()
    const res = await fetchWithRetry(
      `${srv.url}/comments`,
      {},
      { attempts: 4, baseDelayMs: 20_000, signal: AbortSignal.timeout(300) },
    )
    const took = Date.now() - t0
    expect(took).toBeGreaterThanOrEqual(250)
    expect(took).toBeLessThan(3000)
    expect(res).toMatchObject({ ok: false, status: 503, attempts: 1, error: 'HTTP 503; stopped: out of time' })
    expect(srv.requests).toHaveLength(1)
  })

  it('retries until the server answers, backing off between attempts', async () => {
    let n = 0
    const srv = await startRecordingServer(() => (++n < 3 ? { status: 503 } : { status: 201, body: { id: 7 } }))
    closers.push(srv.close)
    const res = await fetchWithRetry(`${srv.url}/x`, { method: 'POST' }, { attempts: 4, baseDelayMs: 20 })
    expect(res).toMatchObject({ ok: true, status: 201, attempts: 3, body: '{"id":7}' })
    expect(srv.requests).toHaveLength(3)
  })

  it('an interruption ends an attempt that hangs, and nothing is retried after it', async () => {
    let hits = 0
    const server: Server = createServer(() => {
      hits++ // never answers
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    closers.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections()
          server.close(() => r())
        }),
    )
    const { port } = server.address() as AddressInfo
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const t0 = Date.now()
    const res = await fetchWithRetry(
      `http://127.0.0.1:${port}/slow`,
      {},
      { attempts: 5, baseDelayMs: 10, timeoutMs: 60_000, signal: controller.signal },
    )
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(res.ok).toBe(false)
    expect(res.attempts).toBe(1)
    expect(res.error).toMatch(/stopped: interrupted$/)
    expect(hits).toBe(1)
  })
})
