import { describe, expect, it } from 'vitest'
import { samplePrediction } from '../store/contract.js'
import { openSqliteStore } from '../store/sqlite.js'
import { reviewCharts, windowMs } from './charts.js'

describe('review charts', () => {
  it('count every logged message of the window but the deleted ones', async () => {
    const store = openSqliteStore({ file: ':memory:' })
    await store.migrate()
    try {
      const now = Date.UTC(2026, 5, 1, 12)
      const at = (i: number, intent: string, channel: string) =>
        samplePrediction(i, { ts: now - (i + 1) * 60_000, intent, channel, fallback: false, confidence: 0.9 })
      await store.insertPredictions([
        at(1, 'greet', 'web'),
        at(2, 'greet', 'web'),
        at(3, 'refund', 'email'),
        at(4, 'refund', 'email'),
      ])
      await store.addReview({
        id: 'r1',
        predictionId: 'p-00004',
        action: 'delete',
        previousIntent: 'refund',
        reviewer: 'ann',
        ts: now,
      })
      const charts = await reviewCharts(store, { window: '24h', fallbackIntent: 'nlu_fallback', now })
      const values = (id: string) =>
        (charts.find((c) => c.id === id)!.spec as { data: { values: Array<Record<string, unknown>> } }).data.values
      const byIntent = new Map<string, number>()
      for (const v of values('intents'))
        byIntent.set(v.intent as string, (byIntent.get(v.intent as string) ?? 0) + (v.count as number))
      expect(Object.fromEntries(byIntent)).toEqual({ greet: 2, refund: 1 })
      expect(Object.fromEntries(values('channels').map((v) => [v.channel, v.count]))).toEqual({ web: 2, email: 1 })
    } finally {
      await store.close()
    }
  })
})

describe('windowMs', () => {
  it('reads hours and days, and refuses anything else with a catalog error', () => {
    expect(windowMs('24h')).toBe(86_400_000)
    expect(windowMs('7d')).toBe(7 * 86_400_000)
    for (const bad of ['0d', '7w', '10000h', '7 d', '']) {
      expect(() => windowMs(bad)).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringContaining('such as 24h or 7d'),
        }),
      )
    }
  })
})
