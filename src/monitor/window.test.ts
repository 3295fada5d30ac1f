import { describe, expect, it } from 'vitest'
import { parseDuration, parseInstant, parseReference, recentWindow } from './window.js'

const NOW = Date.UTC(2026, 10, 22, 12)

describe('windows', () => {
  it('parse durations', () => {
    expect(parseDuration('30m')).toBe(30 * 60_000)
    expect(parseDuration('24h')).toBe(86_400_000)
    expect(parseDuration('7d')).toBe(7 * 86_400_000)
    expect(parseDuration('2w')).toBe(14 * 86_400_000)
    expect(parseDuration(' 90m ')).toBe(90 * 60_000)
    for (const bad of ['7', 'd', '0d', '-1d', '7y', '1.5d', '1.0d', '7 d', '30M', '']) {
      expect(() => parseDuration(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_MONITOR_WINDOW' }))
    }
    expect(() => parseDuration('1.5d')).toThrow(
      'Cannot read the window "1.5d": expected a positive whole number and m (minutes, not months), h (hours), d (days) or w (weeks)',
    )
    expect(() => parseDuration('3mo')).toThrow(
      'Cannot read the window "3mo": "mo" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks)',
    )
    // as long as ten thousand years, and no longer: past that, no date can be taken from a window's start
    expect(parseDuration('520000w')).toBe(520_000 * 7 * 86_400_000)
    for (const huge of ['99999999999w', '530000w', `${'9'.repeat(400)}d`]) {
      expect(() => parseDuration(huge), huge).toThrow(
        `Cannot read the window "${huge}": it is longer than the years 0000 to 9999 hold; write at most 520000w`,
      )
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

  it('read ages on either side of FROM..TO, counted back from now, while a duration alone keeps its meaning', () => {
    const DAY = 86_400_000
    const recent = recentWindow('7d', NOW)
    expect(parseReference('30d..7d', recent)).toEqual({
      kind: 'window',
      from: NOW - 30 * DAY,
      to: NOW - 7 * DAY,
      label: `${new Date(NOW - 30 * DAY).toISOString()} .. ${new Date(NOW - 7 * DAY).toISOString()}`,
    })
    // the same 14d: alone the 14 days just before the recent window, as FROM the instant 14 days before now
    expect(parseReference('14d', recent)).toMatchObject({ from: NOW - 21 * DAY, to: NOW - 7 * DAY })
    expect(parseReference('14d..7d', recent)).toMatchObject({ from: NOW - 14 * DAY, to: NOW - 7 * DAY })
    expect(parseReference(' 1.5d .. 12h ', recent)).toMatchObject({
      from: NOW - 36 * 3_600_000,
      to: NOW - 12 * 3_600_000,
    })
    // ages count from the now the monitor runs at, given or the end of the recent window
    expect(parseReference('3d..1d', recent, NOW + DAY)).toMatchObject({ from: NOW - 2 * DAY, to: NOW })
    // mixed with the other forms
    expect(parseReference(`2026-11-01..${NOW - DAY}`, recent)).toMatchObject({
      from: Date.UTC(2026, 10, 1),
      to: NOW - DAY,
    })
    expect(parseReference('2026-11-01..7d', recent)).toMatchObject({ from: Date.UTC(2026, 10, 1), to: NOW - 7 * DAY })
    expect(() => parseReference('7d..30d', recent)).toThrow(/FROM must be before TO/)
  })

  it('read ages in every unit of a duration on either side of FROM..TO, while each alone is still a length', () => {
    const DAY = 86_400_000
    const recent = recentWindow('7d', NOW)
    expect(parseReference('2w..1w', recent)).toMatchObject({ from: NOW - 14 * DAY, to: NOW - 7 * DAY })
    expect(parseReference('90m..30m', recent)).toMatchObject({ from: NOW - 90 * 60_000, to: NOW - 30 * 60_000 })
    expect(parseReference('1.5w..36h', recent)).toMatchObject({ from: NOW - 10.5 * DAY, to: NOW - 1.5 * DAY })
    // alone, each is the window of that length just before the recent one: 14d, 2w and 20160m alike
    for (const spec of ['14d', '2w', '336h', '20160m'])
      expect(parseReference(spec, recent), spec).toMatchObject({
        kind: 'window',
        from: NOW - 21 * DAY,
        to: NOW - 7 * DAY,
        label: `the ${spec} before`,
      })
    expect(recentWindow('30m', NOW)).toEqual({ from: NOW - 30 * 60_000, to: NOW, label: 'last 30m' })
  })

  it('say what a reference may be when it is none of them', () => {
    const recent = recentWindow('7d', NOW)
    const refused = (spec: string) => {
      try {
        parseReference(spec, recent)
      } catch (err) {
        return (err as Error & { code: string }).code === 'ERR_MONITOR_WINDOW' ? (err as Error).message : `${err}`
      }
      return 'accepted'
    }
    // an age alone would read as a length; a time alone is neither
    for (const spec of ['2026-11-01', '1.5d', String(NOW), 'last week'])
      expect(refused(spec)).toBe(
        `Cannot read the reference "${spec}": expected \`training\`, a duration such as 14d (the window of that length just before the recent one), or FROM..TO (30d..7d: from 30 days ago to 7 days ago)`,
      )
    expect(refused('0d')).toBe(
      'Cannot read the reference "0d": expected a positive whole number and m (minutes, not months), h (hours), d (days) or w (weeks)',
    )
    expect(refused('30d..14d..7d')).toBe('Cannot read the reference "30d..14d..7d": FROM..TO has one `..`')
    // a unit neither an age nor a duration takes is named, alone or on either side of the `..`
    expect(refused('2mo')).toBe(
      'Cannot read the reference "2mo": "mo" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks)',
    )
    expect(refused('2mo..1mo')).toMatch(
      /^Cannot read the reference "2mo\.\.1mo": FROM "2mo" is not a date \("mo" is not a unit of time: use m \(minutes, not months\), h \(hours\), d \(days\) or w \(weeks\)\): use a date/,
    )
    expect(refused('7d..30M')).toMatch(
      /TO "30M" is not a date \("M" is not a unit of time: use m \(minutes, not months\)/,
    )
    expect(refused('30d..')).toMatch(/TO "" is not a date \(it is empty\)/)
  })

  it('parse instants as ISO dates, date-times (UTC without an offset), epoch ms or ages', () => {
    expect(parseInstant('2026-11-01T00:00:00Z', '--from')).toBe(Date.UTC(2026, 10, 1))
    expect(parseInstant('2026-11-01T09:30', '--from')).toBe(Date.UTC(2026, 10, 1, 9, 30))
    expect(parseInstant(String(NOW), '--to')).toBe(NOW)
    expect(parseInstant('7d', '--from', NOW)).toBe(NOW - 7 * 86_400_000)
    expect(() => parseInstant('soon', '--from')).toThrow(/--from "soon"/)
  })
})
