import { describe, expect, it } from 'vitest'
import { parseTime } from '../cli/commands/store.js'
import { parseInstant, parseReference } from '../monitor/window.js'
import { parseTimeQuery } from '../registry/history.js'
import { parseTime as parseReviewTime } from '../review/time.js'
import { calendarProblem, EARLIEST_TIME, inIsoYearRange, LATEST_TIME } from './time.js'

describe('calendarProblem', () => {
  it('accepts the days that exist, leap days included', () => {
    for (const d of [
      '2026-01-31',
      '2026-11-30',
      '2024-02-29',
      '2000-02-29',
      '2026-12-31T23:59:59Z',
      '2026-06-01 10:00',
    ])
      expect(calendarProblem(d), d).toBeUndefined()
  })

  it('names the day, month or time that does not exist', () => {
    expect(calendarProblem('2026-11-31')).toBe('November 2026 has only 30 days')
    expect(calendarProblem('2026-02-29')).toBe('February 2026 has only 28 days')
    expect(calendarProblem('1900-02-29')).toBe('February 1900 has only 28 days')
    expect(calendarProblem('2026-02-30T00:00:00Z')).toBe('February 2026 has only 28 days')
    expect(calendarProblem('2026-00-10')).toBe('there is no month 00')
    expect(calendarProblem('2026-01-00')).toBe('there is no day 00')
    expect(calendarProblem('2026-01-01T24:00:00Z')).toBe('there is no hour 24')
  })

  it('keeps the range a four-digit year can write', () => {
    expect(new Date(EARLIEST_TIME).toISOString()).toBe('0000-01-01T00:00:00.000Z')
    expect(new Date(LATEST_TIME).toISOString()).toBe('9999-12-31T23:59:59.999Z')
    expect(inIsoYearRange(EARLIEST_TIME - 1)).toBe(false)
    expect(inIsoYearRange(Number.NaN)).toBe(false)
  })
})

describe('the date parsers refuse days that do not exist instead of rolling them over', () => {
  const now = Date.UTC(2026, 10, 24)

  it('parseTime (log purge, export, rollups)', async () => {
    await expect(parseTime('2026-11-31', '--before', now)).rejects.toMatchObject({
      code: 'ERR_CLI_USAGE',
      message: expect.stringMatching(
        /--before "2026-11-31" is not a date \(November 2026 has only 30 days\): use 2026-01-31, 2026-01-31T12/,
      ),
    })
    await expect(parseTime('2026-02-30T08:00:00Z', '--from', now)).rejects.toMatchObject({ code: 'ERR_CLI_USAGE' })
    await expect(parseTime('99999999d', '--before', now)).rejects.toMatchObject({
      code: 'ERR_CLI_USAGE',
      message: expect.stringContaining('--before "99999999d" lies outside the years 0000 to 9999'),
    })
    expect(await parseTime('2026-11-30', '--before', now)).toBe(Date.UTC(2026, 10, 30))
    expect(await parseTime('2d', '--before', now)).toBe(now - 2 * 86_400_000)
    // A date in the future is a legitimate "purge everything".
    expect(await parseTime('9999-12-31', '--before', now)).toBe(Date.UTC(9999, 11, 31))
  })

  it('review, monitor and registry parsers', () => {
    expect(() => parseReviewTime('2026-02-30', 'from')).toThrow(/February 2026 has only 28 days/)
    expect(() => parseReviewTime('99999999999999999', 'from')).toThrow(/ISO date or epoch/)
    expect(() => parseInstant('2026-04-31', '--from')).toThrow(/April 2026 has only 30 days/)
    expect(() => parseReference('2026-02-30..2026-03-05', { from: now, to: now, label: '' })).toThrow(
      /February 2026 has only 28 days/,
    )
    expect(() => parseTimeQuery('2026-02-30T10:00:00Z')).toThrow(/invalid date/)
    expect(parseInstant('2026-04-30', '--from')).toBe(Date.UTC(2026, 3, 30))
  })
})
