import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import type { KyselyPredictionStore } from '../store/kysely-store.js'
import { openSqliteStore } from '../store/sqlite.js'
import { alertDrift, monitorDrift } from './monitor.js'
import { syntheticTraffic, syntheticTrainingData } from './testing.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 22)
const config = defaultConfig().monitor
const training = syntheticTrainingData(1)

let dir: string
let store: KyselyPredictionStore
let server: Server
const received: Array<{ path: string; body: unknown }> = []
let webhookUrl: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'intentops-monitor-'))
  store = openSqliteStore({ file: path.join(dir, 'store.db') })
  await store.migrate()
  // Two calm weeks, then a week with half the traffic about things the bot was never trained on.
  const step = Math.floor((7 * DAY) / 700)
  await store.insertPredictions(syntheticTraffic({ seed: 5, count: 700, start: NOW - 21 * DAY, stepMs: step }))
  await store.insertPredictions(syntheticTraffic({ seed: 6, count: 700, start: NOW - 14 * DAY, stepMs: step }))
  await store.insertPredictions(
    syntheticTraffic({ seed: 7, count: 700, start: NOW - 7 * DAY, stepMs: step, shift: 'vocabulary' }),
  )
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(body) })
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/drift`
})

afterAll(async () => {
  await store.close()
  await new Promise((r) => server.close(r))
  rmSync(dir, { recursive: true, force: true })
})

describe('monitorDrift on a SQLite store', () => {
  it('does not fire on a window sampled from the training distribution', async () => {
    const reads: number[] = []
    const r = await monitorDrift(store, training, config, {
      now: NOW - 7 * DAY,
      onProgress: (n, total) => reads.push(n, total),
    })
    expect(r.recent).toEqual({ label: 'last 7d', size: 700 })
    expect(r.reference).toEqual({ label: 'training data', kind: 'training', size: training.examples.length })
    expect(r.failed).toEqual([])
    expect(reads.slice(-2)).toEqual([700, 700])
    expect(await alertDrift(r, [{ url: webhookUrl, format: 'slack' }])).toEqual([])
  })

  it('compares with the window before: calm weeks pass, confidence included', async () => {
    const r = await monitorDrift(store, training, config, { now: NOW - 7 * DAY, reference: '7d' })
    expect(r.reference).toMatchObject({ kind: 'window', size: 700, label: 'the 7d before' })
    expect(r.checks.find((c) => c.name === 'confidence')?.status).toBe('pass')
    expect(r.passed).toBe(true)
  })

  it('fires on shifted traffic and posts a Slack-shaped alert to the webhook', async () => {
    const r = await monitorDrift(store, training, config, { now: NOW, reference: '7d' })
    expect(r.failed).toEqual(
      expect.arrayContaining(['intent_distribution', 'oov_share', 'confidence', 'domain_classifier']),
    )
    const deliveries = await alertDrift(r, [{ url: webhookUrl, format: 'slack' }], { attempts: 1 })
    expect(deliveries).toHaveLength(1)
    expect(deliveries[0]).toMatchObject({ ok: true, status: 200 })
    expect(received).toHaveLength(1)
    expect(received[0]!.path).toBe('/hooks/drift')
    const body = received[0]!.body as { text: string }
    expect(Object.keys(body)).toEqual(['text'])
    expect(body.text).toContain('intentops drift alert')
    expect(body.text).toContain('oov_share: FAIL')
    expect(body.text).toMatch(/failed in last 7d \(700 messages\) against the 7d before/)
  })

  it('leaves predictions deleted by review (junk, PII) out of the windows', async () => {
    const week = await store.queryPredictions({ from: NOW - 21 * DAY, to: NOW - 14 * DAY, limit: 30 })
    for (const [i, p] of week.items.slice(0, 25).entries()) {
      const action = i < 20 ? 'delete' : 'confirm'
      await store.addReview({
        id: `d${i}`,
        predictionId: p.id,
        action,
        previousIntent: p.intent,
        reviewer: 'ann',
        ts: NOW,
      })
    }
    const reads: number[] = []
    const r = await monitorDrift(store, training, config, {
      now: NOW - 14 * DAY,
      onProgress: (n, total) => reads.push(n, total),
    })
    expect(r.recent).toEqual({ label: 'last 7d', size: 680 })
    expect(reads.slice(-2)).toEqual([680, 680])
  })

  it('refuses a bad window', async () => {
    await expect(monitorDrift(store, training, config, { window: 'week' })).rejects.toMatchObject({
      code: 'ERR_MONITOR_WINDOW',
    })
  })
})
