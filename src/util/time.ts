/**
 * The one parser of the times people give the CLI, the review API and the monitor (`--from`, `--to`, `--before`,
 * `--at`, `?from=`, a monitor reference `FROM..TO`). Every one of them takes the same forms, so that a time that
 * works for one command works for the next. It reads only the forms it documents, strictly: `Date.parse` would also
 * take `Feb 30 2026` or `2026/02/30` and roll a day that does not exist over into the next month (2026-02-30 becomes
 * 2026-03-02), and an age far enough back leaves the years an ISO date can write. A time without
 * an offset is UTC, as a date is: JavaScript would read it in the zone of the process, so the same `--before` would
 * purge different rows on a laptop and in CI, and a server would read a remote caller's `?from=` in its own zone.
 * Ages (`30d`: that long before now) and the monitor's durations (`monitor.window: 2w`) are lengths of time written
 * in one grammar, `parseTimeLength`, so that a unit one takes the other takes too.
 * @module
 */

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the times a four-digit ISO year can write. */
export const EARLIEST_TIME = -62_167_219_200_000
export const LATEST_TIME = 253_402_300_799_999

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

/**
 * Why the date and time fields an ISO string starts with name no moment, or undefined when they do (or when the
 * string does not start with `YYYY-MM-DD`, which the caller's own parse then judges).
 */
export function calendarProblem(value: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(value.trim())
  if (!m) return undefined
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (month < 1 || month > 12) return `there is no month ${m[2]}`
  const days = daysInMonth(year, month)
  if (day < 1) return `there is no day ${m[3]}`
  if (day > days) return `${MONTHS[month - 1]} ${m[1]} has only ${days} days`
  if (m[4] !== undefined && Number(m[4]) > 23) return `there is no hour ${m[4]}`
  if (m[5] !== undefined && Number(m[5]) > 59) return `there is no minute ${m[5]}`
  if (m[6] !== undefined && Number(m[6]) > 59) return `there is no second ${m[6]}`
  return undefined
}

/** Whether epoch ms `ms` lies within the years 0000 to 9999. */
export function inIsoYearRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= EARLIEST_TIME && ms <= LATEST_TIME
}

/** What a time input read as. `day`: a date without a time, read as midnight UTC starting that whole day. */
export type TimeInput = { ok: true; ms: number; day: boolean } | { ok: false; problem: string }

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/

/**
 * The units of a length of time and their milliseconds. Lower case only, and `m` is minutes, never months: a month has no
 * one length, and `M`, which some tools read as months, is refused rather than guessed at.
 */
export type TimeUnit = 'm' | 'h' | 'd' | 'w'
export const TIME_UNIT_MS: Readonly<Record<TimeUnit, number>> = Object.freeze({
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
})

/** The units, for messages and docs. */
export const TIME_UNITS_TEXT = 'm (minutes, not months), h (hours), d (days) or w (weeks)'

/** A length of time as written: `amount` of `unit`, `ms` long; `fraction` when the amount has a decimal point. */
export type TimeLength =
  | { ok: true; amount: number; unit: TimeUnit; ms: number; fraction: boolean }
  | { ok: false; problem: string }

// Digits, an optional decimal fraction and letters, nothing between them: `30m`, `1.5h`, but also `3mo` or `30D`,
// which the unit check then names. Anything else (`3 d`, `.5d`, `1e3`, `-3d`) is not a length at all.
const LENGTH = /^(\d+(?:\.\d+)?)([A-Za-z]+)$/

/**
 * Read a length of time (`30m`, `1.5h`, `7d`, `2w`): the one grammar of ages and durations. Undefined when `value`
 * is not digits followed by letters; a problem naming the units when the letters are not one of them.
 */
export function parseTimeLength(value: string): TimeLength | undefined {
  const m = LENGTH.exec(value.trim())
  if (!m) return undefined
  const [, digits = '', unit = ''] = m
  if (!Object.hasOwn(TIME_UNIT_MS, unit))
    return { ok: false, problem: `"${unit}" is not a unit of time: use ${TIME_UNITS_TEXT}` }
  const amount = Number(digits)
  const ms = amount * TIME_UNIT_MS[unit as TimeUnit]
  return { ok: true, amount, unit: unit as TimeUnit, ms, fraction: digits.includes('.') }
}

/** The accepted forms, for messages, `--help`, the OpenAPI descriptions and docs. */
export function describeTimeForms(): string {
  return (
    'a date (2026-01-31, midnight UTC), ' +
    'an ISO date-time in UTC unless it has an offset (2026-01-31T12:00, 2026-01-31T12:00:00Z, 2026-01-31T12:00+02:00), ' +
    'epoch milliseconds (1769860800000), or an age (30d, 12h, 30m, 2w: that long before now; m is minutes, not months)'
  )
}

/**
 * Read a time strictly: `YYYY-MM-DD` (midnight UTC), an ISO date-time `YYYY-MM-DDTHH:MM[:SS[.fff]]` in UTC, or at
 * the offset it ends with (`Z`, `+02:00`, `-0100`; a space may stand for the `T`), epoch milliseconds (digits only),
 * or an age (`30m`, `1.5h`, `7d`, `2w`: that long before `now`, in the units of `parseTimeLength`). A day, hour or
 * offset that does not exist, any other form, and a time outside the years 0000 to 9999 are refused with the reason.
 */
export function parseTimeInput(value: string, now = Date.now()): TimeInput {
  const text = value.trim()
  if (text === '') return { ok: false, problem: 'it is empty' }
  if (/^\d+$/.test(text)) {
    const misread = misreadDigits(text)
    if (misread) return { ok: false, problem: misread }
    const ms = Number(text)
    return inIsoYearRange(ms) ? { ok: true, ms, day: false } : { ok: false, problem: 'it lies after the year 9999' }
  }
  const age = parseTimeLength(text)
  if (age) {
    if (!age.ok) return age
    const ms = now - age.ms
    return inIsoYearRange(ms) ? { ok: true, ms, day: false } : { ok: false, problem: 'it lies before the year 0000' }
  }
  const m = ISO.exec(text)
  if (!m) return { ok: false, problem: 'an unrecognised form' }
  const problem = calendarProblem(text.replace(/t/, 'T'))
  if (problem) return { ok: false, problem }
  const [, y, mo, d, hh, mi, ss = '00', frac = '', , sign, oh, om] = m
  if (hh === undefined) {
    return { ok: true, ms: Date.parse(`${y}-${mo}-${d}T00:00:00.000Z`), day: true }
  }
  if (sign && (Number(oh) > 23 || Number(om) > 59))
    return { ok: false, problem: `there is no offset ${sign}${oh}:${om}` }
  const zone = sign ? `${sign}${oh}:${om}` : 'Z'
  // Every field was checked above, so this canonical form parses to exactly the moment written.
  const ms = Date.parse(`${y}-${mo}-${d}T${hh}:${mi}:${ss}.${frac.padEnd(3, '0').slice(0, 3)}${zone}`)
  return inIsoYearRange(ms)
    ? { ok: true, ms, day: false }
    : { ok: false, problem: 'it lies outside the years 0000 to 9999' }
}

/**
 * Why digits that epoch milliseconds could read are more likely something else, or undefined. Eight digits are a
 * compact date (`20260131`), nine to eleven epoch seconds (`1769860800`); as milliseconds both name a moment in
 * January 1970, and a purge or an export before or after it would do nothing or everything without a word.
 */
function misreadDigits(text: string): string | undefined {
  if (text.length === 8) {
    const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}`
    if (calendarProblem(iso) === undefined) return `it looks like a date without dashes: write ${iso}`
  }
  if (text.length >= 9 && text.length <= 11) {
    const asSeconds = Number(text) * 1000
    const as = inIsoYearRange(asSeconds) ? ` (as seconds, ${new Date(asSeconds).toISOString()})` : ''
    return `it looks like epoch seconds${as}, not milliseconds, which have 13 digits today: write ${text}000`
  }
  return undefined
}

/** `what "value" is not a date (why): use FORMS`, the detail of every caller's error. */
export function badTimeDetail(what: string, value: string, problem: string): string {
  return `${what} "${value}" is not a date (${problem}): use ${describeTimeForms()}`
}
