/**
 * Checks shared by the date parsers of the CLI, the review API and the monitor: `Date.parse` rolls days that do not
 * exist over into the next month (2026-02-30 becomes 2026-03-02), and an age far enough back leaves the years an ISO
 * date can write.
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
