import { describe, expect, it } from 'vitest'
import { entityMetrics } from './entity-metrics.js'

describe('entityMetrics', () => {
  // "fly from new york to paris": gold city "new york" (9–17) and city "paris" (21–26)
  const text = 'fly from new york to paris'
  const report = entityMetrics([
    {
      text,
      gold: [
        { start: 9, end: 17, entity: 'city', value: 'New York' },
        { start: 21, end: 26, entity: 'city', value: 'Paris' },
      ],
      // "york" only (partial span) and "paris" exact but with another value
      predicted: [
        { start: 13, end: 17, entity: 'city', value: 'york' },
        { start: 21, end: 26, entity: 'city', value: 'paris' },
      ],
    },
    {
      text: 'tomorrow at 5',
      gold: [{ start: 0, end: 8, entity: 'date', value: 'tomorrow' }],
      predicted: [{ start: 12, end: 13, entity: 'time', value: '5' }],
    },
  ])

  it('exact-span: only identical spans of the same type count', () => {
    expect(report.entities).toEqual(['city', 'date', 'time'])
    expect(report.exact.perEntity.city).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 })
    expect(report.exact.perEntity.date).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 })
    expect(report.exact.perEntity.time).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 })
    // micro: 1 tp of 3 predicted and 3 gold
    expect(report.exact.micro.precision).toBeCloseTo(1 / 3, 15)
    expect(report.exact.micro.recall).toBeCloseTo(1 / 3, 15)
    expect(report.exact.macro.f1).toBeCloseTo(0.5 / 3, 15)
    // the one matched span had a different value
    expect(report.exact.valueAccuracy).toBe(0)
    expect(report.goldSpans).toBe(3)
    expect(report.predictedSpans).toBe(3)
  })

  it('token-level: partial overlaps earn partial credit', () => {
    // city tokens: gold new, york, paris; predicted york, paris → P 1, R 2/3
    const city = report.token.perEntity.city!
    expect(city.precision).toBe(1)
    expect(city.recall).toBeCloseTo(2 / 3, 15)
    expect(city.support).toBe(3)
    expect(report.token.perEntity.date).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 })
    // micro over entity tokens: tp 2, predicted 3 (york, paris, 5), gold 4
    expect(report.token.micro.precision).toBeCloseTo(2 / 3, 15)
    expect(report.token.micro.recall).toBeCloseTo(0.5, 15)
  })

  it('matches spans per field in multi-field messages', () => {
    const r = entityMetrics([
      {
        text: 'Refund\nCharged twice at Acme',
        fields: { subject: 'Refund', body: 'Charged twice at Acme' },
        gold: [{ start: 17, end: 21, entity: 'merchant', value: 'Acme', field: 'body' }],
        predicted: [{ start: 17, end: 21, entity: 'merchant', value: 'Acme', field: 'subject' }],
      },
    ])
    expect(r.exact.perEntity.merchant!.f1).toBe(0)
  })

  it('uses the zero-division policy when nothing was annotated or predicted', () => {
    const r = entityMetrics([{ text: 'hi', gold: [], predicted: [] }], 1)
    expect(r.entities).toEqual([])
    expect(r.exact.micro).toEqual({ precision: 1, recall: 1, f1: 1, support: 0 })
  })
})
