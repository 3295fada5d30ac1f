import { describe, expect, it } from 'vitest'
import { parseDuration, parseInstant, parseReference, recentWindow } from './window.js'

const NOW = Date.UTC(2026, 10, 22, 12)

describe('windows', () => {
  it('parse durations', () => {
    expect(parseDuration('30m')).toBe(30 * 60_000)
    expect(parseDuration('24h')).toBe(86_400_000)
    expect(parseDuration('7d')).toBe(7 * 86_400_000)
    expect(parseDuration('2w')).toBe(14 * 86_400_000)
    for (const bad of ['7', 'd', '0d', '-1d', '7y', '1.5d']) {
      expect(() => parseDuration(bad)).toThrow(expect.objectContaining({ code: 'ERR_MONITOR_WINDOW' }))
    }
  })

  it('resolve references: training, the window just before, or an explicit range', () => {
    const recent = recentWindow('7d', NOW)
    expect(recent).toEqual({ from: NOW - 7 * 86_400_000, to: NOW, label: 'last 7d' })
    expect(parseReference('training', recent)).toEqual({ kind: 'training', label: 'training data' })
    const before = parseReference('14d', recent)
    expect(before).toMatchObject({ kind: 'window', from: recent.from - 14 * 86_400_000, to: recent.from })
    const range = parseReference('2026-11-01..2026-11-08', recent)
    expect(range).toMatchObject({ kind: 'window', from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 8) })
    expect(parseReference('2026-11-01T06:00..2026-11-08 06:00+01:00', recent)).toMatchObject({
      from: Date.UTC(2026, 10, 1, 6),
      to: Date.UTC(2026, 10, 8, 5),
      label: '2026-11-01T06:00:00.000Z .. 2026-11-08T05:00:00.000Z',
    })
    expect(() => parseReference('2026-11-08..2026-11-01', recent)).toThrow(/FROM must be before TO/)
    expect(() => parseReference('yesterday..today', recent)).toThrow(
      expect.objectContaining({ code: 'ERR_MONITOR_WINDOW' }),
    )
  })

  it('parse instants as ISO dates, date-times (UTC without an offset) or epoch ms', () => {
    expect(parseInstant('2026-11-01T00:00:00Z', '--from')).toBe(Date.UTC(2026, 10, 1))
    expect(parseInstant('2026-11-01T09:30', '--from')).toBe(Date.UTC(2026, 10, 1, 9, 30))
    expect(parseInstant(String(NOW), '--to')).toBe(NOW)
    expect(() => parseInstant('soon', '--from')).toThrow(/--from "soon"/)
  })
})
