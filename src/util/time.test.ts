import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseTime } from '../cli/commands/store.js'
import { IntentopsError } from '../errors.js'
import { parseInstant, parseReference } from '../monitor/window.js'
import { parseTimeQuery } from '../registry/history.js'
import { parseTime as parseReviewTime } from '../review/time.js'
import {
  calendarProblem,
  describeTimeForms,
  EARLIEST_TIME,
  inIsoYearRange,
  LATEST_TIME,
  parseTimeInput,
  parseTimeLength,
  TIME_UNIT_MS,
  TIME_UNITS_TEXT,
} from './time.js'

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
        /--before "2026-11-31" is not a date \(November 2026 has only 30 days\): use a date \(2026-01-31, midnight UTC\), an ISO date-time in UTC unless it has an offset \(2026-01-31T12:00, 2026-01-31T12:00:00Z, 2026-01-31T12:00\+02:00\), epoch milliseconds \(1769860800000\), or an age \(30d, 12h, 30m, 2w: that long before now; m is minutes, not months\)$/,
      ),
    })
    await expect(parseTime('2026-02-30T08:00:00Z', '--from', now)).rejects.toMatchObject({ code: 'ERR_CLI_USAGE' })
    await expect(parseTime('99999999d', '--before', now)).rejects.toMatchObject({
      code: 'ERR_CLI_USAGE',
      message: expect.stringContaining('--before "99999999d" is not a date (it lies before the year 0000)'),
    })
    expect(await parseTime('2026-11-30', '--before', now)).toBe(Date.UTC(2026, 10, 30))
    expect(await parseTime('2d', '--before', now)).toBe(now - 2 * 86_400_000)
    // A date in the future is a legitimate "purge everything".
    expect(await parseTime('9999-12-31', '--before', now)).toBe(Date.UTC(9999, 11, 31))
  })

  it('review, monitor and registry parsers', () => {
    expect(() => parseReviewTime('2026-02-30', 'from')).toThrow(/February 2026 has only 28 days/)
    expect(() => parseReviewTime('99999999999999999', 'from')).toThrow(
      /from "99999999999999999" is not a date \(it lies after the year 9999\): use .*, epoch milliseconds/,
    )
    expect(() => parseInstant('2026-04-31', '--from')).toThrow(/April 2026 has only 30 days/)
    expect(() => parseReference('2026-02-30..2026-03-05', { from: now, to: now, label: '' })).toThrow(
      /February 2026 has only 28 days/,
    )
    expect(() => parseTimeQuery('2026-02-30T10:00:00Z')).toThrow(
      /--at "2026-02-30T10:00:00Z" is not a date \(February 2026 has only 28 days\)/,
    )
    expect(parseInstant('2026-04-30', '--from')).toBe(Date.UTC(2026, 3, 30))
  })
})

describe('parseTimeLength, the one grammar of ages and durations', () => {
  it('reads a number and a unit: minutes, hours, days or weeks', () => {
    expect(parseTimeLength('30m')).toEqual({ ok: true, amount: 30, unit: 'm', ms: 30 * 60_000, fraction: false })
    expect(parseTimeLength(' 1.5h ')).toEqual({ ok: true, amount: 1.5, unit: 'h', ms: 5_400_000, fraction: true })
    expect(parseTimeLength('7d')).toMatchObject({ ok: true, ms: 7 * 86_400_000, fraction: false })
    expect(parseTimeLength('2w')).toMatchObject({ ok: true, ms: 14 * 86_400_000 })
    expect(parseTimeLength('1.0d')).toMatchObject({ ok: true, amount: 1, fraction: true })
    expect(parseTimeLength('0h')).toMatchObject({ ok: true, ms: 0 })
    expect(Object.keys(TIME_UNIT_MS)).toEqual(['m', 'h', 'd', 'w'])
  })

  it('reads m as minutes, never months, and takes units in lower case only', () => {
    expect(parseTimeLength('30m')).toMatchObject({ ms: 1_800_000 })
    for (const v of ['1M', '2mo', '1y'])
      expect(parseTimeLength(v), v).toMatchObject({
        ok: false,
        problem: expect.stringContaining('m (minutes, not months)'),
      })
  })

  it('leaves what is not digits and letters to the caller', () => {
    for (const v of ['', '30', 'd', '3 d', '.5d', '-3d', '1e3', '0x10', '3d ago', '2026-01-31'])
      expect(parseTimeLength(v), v).toBeUndefined()
  })
})

describe('parseTimeInput, the one parser of every date option and query parameter', () => {
  const now = Date.UTC(2026, 10, 24, 12)

  it('reads the documented forms exactly', () => {
    expect(parseTimeInput('2026-02-28')).toEqual({ ok: true, ms: Date.UTC(2026, 1, 28), day: true })
    expect(parseTimeInput(' 2026-02-28T10:00:00Z ')).toEqual({ ok: true, ms: Date.UTC(2026, 1, 28, 10), day: false })
    expect(parseTimeInput('2026-02-28t10:00z')).toMatchObject({ ms: Date.UTC(2026, 1, 28, 10) })
    expect(parseTimeInput('2026-02-28 10:00:05.1234+05:30')).toMatchObject({
      ms: Date.UTC(2026, 1, 28, 4, 30, 5, 123),
    })
    expect(parseTimeInput('2026-02-28T10:00-0100')).toMatchObject({ ms: Date.UTC(2026, 1, 28, 11) })
    expect(parseTimeInput('1772236800000')).toEqual({ ok: true, ms: 1772236800000, day: false })
    expect(parseTimeInput('0')).toEqual({ ok: true, ms: 0, day: false })
    expect(parseTimeInput('2d', now)).toEqual({ ok: true, ms: now - 2 * 86_400_000, day: false })
    expect(parseTimeInput(' 1.5h ', now)).toEqual({ ok: true, ms: now - 5_400_000, day: false })
    expect(parseTimeInput('0d', now)).toEqual({ ok: true, ms: now, day: false })
  })

  it('reads a date-time without an offset as UTC, as it reads a date, whatever the zone of the process', () => {
    // This process's zone is whatever the machine's is; test/time-zone-cli.test.ts runs the CLI in zones far from UTC.
    expect(parseTimeInput('2026-02-28T10:00')).toEqual({ ok: true, ms: Date.UTC(2026, 1, 28, 10), day: false })
    expect(parseTimeInput('2026-02-28 10:00:05')).toMatchObject({ ms: Date.UTC(2026, 1, 28, 10, 0, 5) })
    expect(parseTimeInput('2026-02-28t10:00:05.25')).toMatchObject({ ms: Date.UTC(2026, 1, 28, 10, 0, 5, 250) })
    expect(parseTimeInput('2026-02-28T00:00')).toMatchObject({ ms: Date.UTC(2026, 1, 28), day: false })
    // the ends of the years 0000 to 9999 are inside them in every zone, not only where the offset is 0
    expect(parseTimeInput('0000-01-01T00:00')).toMatchObject({ ok: true, ms: EARLIEST_TIME })
    expect(parseTimeInput('9999-12-31 23:59:59.999')).toMatchObject({ ok: true, ms: LATEST_TIME })
  })

  it('says so wherever it lists the forms', () => {
    expect(describeTimeForms()).toBe(
      'a date (2026-01-31, midnight UTC), an ISO date-time in UTC unless it has an offset (2026-01-31T12:00, 2026-01-31T12:00:00Z, 2026-01-31T12:00+02:00), epoch milliseconds (1769860800000), or an age (30d, 12h, 30m, 2w: that long before now; m is minutes, not months)',
    )
    // each example it gives reads as the form it illustrates
    for (const example of ['2026-01-31', '2026-01-31T12:00', '2026-01-31T12:00:00Z', '2026-01-31T12:00+02:00'])
      expect(parseTimeInput(example), example).toMatchObject({ ok: true })
    expect(parseTimeInput('1769860800000')).toMatchObject({ ms: Date.UTC(2026, 0, 31, 12) })
    expect(parseTimeInput('30d', now)).toMatchObject({ ms: now - 30 * 86_400_000 })
    expect(parseTimeInput('12h', now)).toMatchObject({ ms: now - 12 * 3_600_000 })
    expect(parseTimeInput('30m', now)).toMatchObject({ ms: now - 30 * 60_000 })
    expect(parseTimeInput('2w', now)).toMatchObject({ ms: now - 14 * 86_400_000 })
  })

  it('refuses digits that are more likely a compact date or epoch seconds than epoch milliseconds', () => {
    expect(parseTimeInput('20260131')).toEqual({
      ok: false,
      problem: 'it looks like a date without dashes: write 2026-01-31',
    })
    expect(parseTimeInput('1769860800')).toEqual({
      ok: false,
      problem:
        'it looks like epoch seconds (as seconds, 2026-01-31T12:00:00.000Z), not milliseconds, which have 13 digits today: write 1769860800000',
    })
    expect(parseTimeInput('999999999')).toMatchObject({ ok: false, problem: expect.stringContaining('epoch seconds') })
    // Eight digits that name no day, and the lengths epoch milliseconds of any year from 1970 take, stay milliseconds.
    for (const v of ['20261331', '0', '86400000', '999999999999', '1769860800000'])
      expect(parseTimeInput(v), v).toEqual({ ok: true, ms: Number(v), day: false })
  })

  it('refuses what Date.parse would guess or roll over, naming why', () => {
    // Date.parse reads each of these, the first three as 2 March 2026
    for (const v of ['Feb 30 2026', '2026/02/30', 'February 30, 2026', 'March 3', 'Tue, 03 Mar 2026 10:00:00 GMT'])
      expect(parseTimeInput(v, now), v).toEqual({
        ok: false,
        problem: 'an unrecognised form',
      })
    expect(parseTimeInput('2026-02-30')).toEqual({ ok: false, problem: 'February 2026 has only 28 days' })
    expect(parseTimeInput('2026-02-28T10:61Z')).toEqual({ ok: false, problem: 'there is no minute 61' })
    expect(parseTimeInput('2026-02-28T10:00+24:00')).toEqual({ ok: false, problem: 'there is no offset +24:00' })
    expect(parseTimeInput('2026-2-28')).toEqual({ ok: false, problem: 'an unrecognised form' })
    expect(parseTimeInput('')).toEqual({ ok: false, problem: 'it is empty' })
    // units an age does not take are named, with the ones it does
    for (const [v, unit] of <Array<[string, string]>>[
      ['1y', 'y'],
      ['3mo', 'mo'],
      ['90s', 's'],
      ['30D', 'D'],
      ['1.5H', 'H'],
      ['30M', 'M'],
      ['5min', 'min'],
      ['2weeks', 'weeks'],
    ])
      expect(parseTimeInput(v, now), v).toEqual({
        ok: false,
        problem: `"${unit}" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks)`,
      })
    for (const v of ['1e3', '-3d', '3 d', '.5d', '3d ago', '0x10'])
      expect(parseTimeInput(v, now), v).toEqual({ ok: false, problem: 'an unrecognised form' })
    expect(parseTimeInput('99999999d', now)).toEqual({ ok: false, problem: 'it lies before the year 0000' })
    expect(parseTimeInput('253402300800000')).toEqual({ ok: false, problem: 'it lies after the year 9999' })
    expect(parseTimeInput('9999-12-31T23:59:59-01:00')).toEqual({
      ok: false,
      problem: 'it lies outside the years 0000 to 9999',
    })
  })

  it('is what every surface uses: Feb 30 2026 is refused everywhere, naming the option and the forms', async () => {
    const forms = /use a date \(2026-01-31, midnight UTC\), an ISO date-time in UTC unless it has an offset/
    await expect(parseTime('Feb 30 2026', '--from', now)).rejects.toMatchObject({
      code: 'ERR_CLI_USAGE',
      message: expect.stringMatching(/^--from "Feb 30 2026" is not a date \(an unrecognised form\): use a date/),
    })
    expect(() => parseReviewTime('Feb 30 2026', '--to')).toThrow(/--to "Feb 30 2026" is not a date/)
    expect(() => parseReviewTime('Feb 30 2026', '--to')).toThrow(forms)
    expect(() => parseInstant('Feb 30 2026', 'from')).toThrow(/^from "Feb 30 2026" is not a date .*epoch milliseconds/)
    expect(() => parseReference('2026-03-01..Feb 30 2026', { from: now, to: now, label: '' })).toThrow(
      /TO "Feb 30 2026" is not a date \(an unrecognised form\)/,
    )
    expect(() => parseTimeQuery('Feb 30 2026')).toThrow(/--at "Feb 30 2026" is not a date/)
    expect(parseTimeQuery('2026-03-01')).toEqual({
      start: new Date(Date.UTC(2026, 2, 1)),
      end: new Date(Date.UTC(2026, 2, 2)),
      day: true,
    })
  })

  it('reads every form the same way on every surface, ages counting back from the now it is given', async () => {
    const recent = { from: now - 7 * 86_400_000, to: now, label: 'last 7d' }
    const forms: Array<[string, number]> = [
      ['2026-01-31', Date.UTC(2026, 0, 31)],
      ['2026-01-31T12:00', Date.UTC(2026, 0, 31, 12)],
      ['2026-01-31T12:00+02:00', Date.UTC(2026, 0, 31, 10)],
      ['1769860800000', 1769860800000],
      ['30d', now - 30 * 86_400_000],
      ['1.5h', now - 5_400_000],
    ]
    for (const [v, ms] of forms) {
      const read = [
        await parseTime(v, '--before', now),
        parseReviewTime(v, 'from', now),
        parseInstant(v, '--from', now),
        parseTimeQuery(v, now).start.getTime(),
        (parseReference(`${v}..0h`, recent) as { from: number }).from,
        (parseReference(`2026-01-01..${v}`, recent) as { to: number }).to,
      ]
      expect([v, read]).toEqual([v, read.map(() => ms)])
    }
    // only a date names a whole day for --at; epoch ms and an age name an instant, as a date-time does
    expect(parseTimeQuery('3d', now)).toEqual({
      start: new Date(now - 3 * 86_400_000),
      end: new Date(now - 3 * 86_400_000),
      day: false,
    })
    expect(parseTimeQuery('1769860800000', now)).toMatchObject({ day: false, start: new Date(1769860800000) })
  })
})

describe('the error codes of a bad time', () => {
  const now = Date.UTC(2026, 10, 24)
  const errorOf = async (f: () => unknown): Promise<IntentopsError> => {
    try {
      await f()
    } catch (err) {
      if (err instanceof IntentopsError) return err
      throw err
    }
    throw new Error('no error')
  }
  const reference = (spec: string) => parseReference(spec, { from: now, to: now, label: '' })
  // Every surface that reads a time.
  const surfaces = [
    { code: 'ERR_CLI_USAGE', read: () => parseTime('Feb 30 2026', '--before', now) },
    { code: 'ERR_REVIEW_INVALID', read: () => parseReviewTime('Feb 30 2026', 'from') },
    { code: 'ERR_INVALID_ARGUMENT', read: () => parseInstant('Feb 30 2026', '--from') },
    { code: 'ERR_INVALID_ARGUMENT', read: () => parseTimeQuery('Feb 30 2026') },
    { code: 'ERR_MONITOR_WINDOW', read: () => reference('2026-03-01..Feb 30 2026') },
  ] as const

  it('list in their messages the forms the parser takes', async () => {
    for (const s of surfaces) {
      const err = await errorOf(s.read)
      expect([err.code, err.message]).toEqual([s.code, expect.stringContaining(`: use ${describeTimeForms()}`)])
    }
  })

  it('are listed in docs/errors.md with those forms, and the monitor hint gives them too', async () => {
    const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
    const section = docs.slice(docs.indexOf('## Dates and times'), docs.indexOf('## General and files'))
    const rows = [...section.matchAll(/^\| `(ERR_\w+)` \| [^|]+ \|$/gm)].map((m) => m[1])
    expect(rows).toEqual(surfaces.map((s) => s.code))
    const text = section.replace(/\s+/g, ' ')
    expect(text).toContain(`takes ${describeTimeForms()}.`)
    expect(text).toContain('A date-time without `Z` or an offset is UTC')
    // the units the one grammar takes, ages and durations alike
    expect(text).toContain(`in ${TIME_UNITS_TEXT}, the units of a monitor duration`)
    const monitor = docs.slice(docs.indexOf('### ERR_MONITOR_WINDOW'), docs.indexOf('### ERR_ANALYTICS_UNKNOWN'))
    expect(monitor.replace(/\s+/g, ' ')).toContain(describeTimeForms())
    expect(monitor.replace(/\s+/g, ' ')).toContain(
      `a positive whole number and ${TIME_UNITS_TEXT}, the units of an age`,
    )
    expect((await errorOf(() => reference('7 days'))).hint).toContain(`\`FROM..TO\`, each ${describeTimeForms()}.`)
  })
})
