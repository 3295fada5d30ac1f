import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import type { KyselyPredictionStore } from '../store/kysely-store.js'
import { openSqliteStore } from '../store/sqlite.js'
import type { TokenRole } from '../store/types.js'
import { analyticsRoutes } from './routes.js'
import { syntheticTraffic, syntheticTrainingData } from './testing.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 22)
let dir: string
let store: KyselyPredictionStore
let app: FastifyInstance
const tokens: Partial<Record<TokenRole, string>> = {}

// The server passes its own role check; this one asks the same store the same question.
const RANK: Record<TokenRole, number> = { client: 1, annotator: 2, admin: 3 }
async function annotatorOrAdmin(request: FastifyRequest) {
  const m = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')
  const record = m ? await store.verifyToken(m[1]!) : undefined
  if (!record) throw Object.assign(new Error('send a token'), { statusCode: 401 })
  if (RANK[record.role] < RANK.annotator) throw Object.assign(new Error('annotator or admin only'), { statusCode: 403 })
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'intentops-analytics-http-'))
  store = openSqliteStore({ file: path.join(dir, 'store.db') })
  await store.migrate()
  await store.insertPredictions(
    syntheticTraffic({
      seed: 3,
      count: 400,
      start: NOW - 7 * DAY,
      stepMs: Math.floor((7 * DAY) / 400),
      shift: 'vocabulary',
    }),
  )
  for (const role of ['client', 'annotator', 'admin'] as const) {
    tokens[role] = (await store.createToken({ name: role, role })).token
  }
  app = Fastify()
  await app.register(analyticsRoutes, {
    source: store,
    monitor: defaultConfig().monitor,
    loadTraining: async () => syntheticTrainingData(1),
    auth: annotatorOrAdmin,
    now: () => NOW,
  })
  await app.ready()
})

afterAll(async () => {
  await app.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const get = (url: string, role?: TokenRole) =>
  app.inject({ method: 'GET', url, headers: role ? { authorization: `Bearer ${tokens[role]}` } : {} })

describe('analyticsRoutes', () => {
  it('requires an annotator or admin token on every route', async () => {
    for (const url of ['/v1/analytics', '/v1/analytics/intents', '/v1/analytics/drift']) {
      expect((await get(url)).statusCode).toBe(401)
      expect((await get(url, 'client')).statusCode).toBe(403)
    }
    expect((await get('/v1/analytics', 'annotator')).json()).toEqual({
      analytics: ['intents', 'channels', 'rates', 'ngrams', 'emerging', 'corrections', 'latency'],
      drift: '/v1/analytics/drift',
    })
  })

  it('answers each analytics as JSON, with Vega-Lite specs on request', async () => {
    const res = await get('/v1/analytics/intents?bucket=day', 'annotator')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ kind: 'intents', total: 400 })
    expect(body.range.to).toBe(new Date(NOW).toISOString())
    expect(body.charts).toBeUndefined()
    const withCharts = (await get('/v1/analytics/rates?charts=true', 'admin')).json()
    expect(withCharts.fallbackRate).toBeGreaterThan(0.3)
    expect(withCharts.charts.rates.$schema).toContain('vega-lite')
    expect(withCharts.charts.rates.data.values.length).toBe(2 * withCharts.series.length)
    const emerging = (await get('/v1/analytics/emerging?limit=3', 'annotator')).json()
    expect(emerging.items).toHaveLength(3)
    const filtered = (await get('/v1/analytics/channels?channel=api&from=2026-11-15T00:00:00Z', 'annotator')).json()
    expect(filtered.channels.map((c: { channel: string }) => c.channel)).toEqual(['api'])
  })

  it('reads ages and epoch ms in from, to and a reference FROM..TO, counted back from the server clock', async () => {
    const aged = (await get('/v1/analytics/intents?from=3d&to=1.5d', 'annotator')).json()
    expect(aged.range).toMatchObject({
      from: new Date(NOW - 3 * DAY).toISOString(),
      to: new Date(NOW - 1.5 * DAY).toISOString(),
    })
    const all = (await get('/v1/analytics/intents', 'annotator')).json()
    expect(aged.total).toBeGreaterThan(0)
    expect(aged.total).toBeLessThan(all.total)
    const epoch = (await get(`/v1/analytics/intents?from=${NOW - 3 * DAY}&to=${NOW - 1.5 * DAY}`, 'annotator')).json()
    expect(epoch).toEqual(aged)
    const drift = (await get('/v1/analytics/drift?window=3d&reference=7d..3d', 'annotator')).json()
    expect(drift.reference).toMatchObject({
      kind: 'window',
      label: `${new Date(NOW - 7 * DAY).toISOString()} .. ${new Date(NOW - 3 * DAY).toISOString()}`,
    })
    expect(drift.reference.size).toBeGreaterThan(0)
    const lone = await get('/v1/analytics/drift?reference=2026-11-01', 'annotator')
    expect([lone.statusCode, lone.json().code, lone.json().message]).toEqual([
      400,
      'ERR_MONITOR_WINDOW',
      expect.stringContaining('expected `training`, a duration such as 14d'),
    ])
    // ages take the units of a duration: weeks and minutes too, m being minutes
    const weeks = (await get('/v1/analytics/intents?from=2w&to=2160m', 'annotator')).json()
    expect(weeks.range).toMatchObject({
      from: new Date(NOW - 14 * DAY).toISOString(),
      to: new Date(NOW - 1.5 * DAY).toISOString(),
    })
    expect(weeks).toEqual((await get('/v1/analytics/intents?from=14d&to=36h', 'annotator')).json())
    const weekDrift = (await get('/v1/analytics/drift?window=3d&reference=1w..4320m', 'annotator')).json()
    expect(weekDrift.reference).toEqual(drift.reference)
    const months = await get('/v1/analytics/intents?from=3mo', 'annotator')
    expect([months.statusCode, months.json().message]).toEqual([
      400,
      expect.stringContaining(
        'from "3mo" is not a date ("mo" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks))',
      ),
    ])
  })

  it('runs the drift checks', async () => {
    const body = (await get('/v1/analytics/drift?window=7d&charts=true', 'annotator')).json()
    expect(body.format).toBe('intentops-drift-report')
    expect(body.failed).toContain('oov_share')
    expect(body.charts.drift.layer).toHaveLength(2)
  })

  it('answers bad requests with 4xx and a catalog code', async () => {
    const unknown = await get('/v1/analytics/bogus', 'annotator')
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().code).toBe('ERR_ANALYTICS_UNKNOWN')
    expect((await get('/v1/analytics/intents?bucket=week', 'annotator')).statusCode).toBe(400)
    expect((await get('/v1/analytics/intents?limit=0', 'annotator')).statusCode).toBe(400)
    const range = await get('/v1/analytics/intents?from=2026-11-10&to=2026-11-01', 'annotator')
    expect(range.statusCode).toBe(400)
    expect(range.json().code).toBe('ERR_ANALYTICS_RANGE')
    // Date.parse would read this as 2 March 2026
    const rolled = await get(`/v1/analytics/intents?from=${encodeURIComponent('Feb 30 2026')}`, 'annotator')
    expect(rolled.statusCode).toBe(400)
    expect(rolled.json()).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('from "Feb 30 2026" is not a date (an unrecognised form): use a date'),
    })
    const impossible = await get('/v1/analytics/intents?to=2026-02-30', 'annotator')
    expect(impossible.json().message).toContain('to "2026-02-30" is not a date (February 2026 has only 28 days)')
    const window = await get('/v1/analytics/drift?window=forever', 'annotator')
    expect(window.statusCode).toBe(400)
    expect(window.json().code).toBe('ERR_MONITOR_WINDOW')
    // Still up.
    expect((await get('/v1/analytics/latency', 'annotator')).statusCode).toBe(200)
  })
})
