/**
 * Time windows of `intentops monitor`: durations (`30m`, `24h`, `7d`, `2w`) and reference specs (`training`, a
 * duration meaning the window just before the recent one, or `FROM..TO`, each end a time as util/time.ts reads it:
 * a date, a date-time, epoch ms or an age). A duration is written as an age is (`parseTimeLength`), in whole units.
 * @module
 */
import { createError } from '../errors.js'
import {
  badTimeDetail,
  EARLIEST_TIME,
  LATEST_TIME,
  parseTimeInput,
  parseTimeLength,
  TIME_UNITS_TEXT,
} from '../util/time.js'

/** Milliseconds of a duration such as `7d`: a positive whole number of a unit; `what` names the option in the error. */
export function parseDuration(value: string, what = 'window'): number {
  const length = parseTimeLength(value)
  // No window may reach past what the years 0000 to 9999 hold: 99999999999w would be a number of milliseconds no
  // date can be taken from, and every time sum after it NaN or beyond the log.
  if (length?.ok && !length.fraction && length.amount > 0 && length.ms <= LATEST_TIME - EARLIEST_TIME) return length.ms
  const detail =
    length?.ok === false
      ? length.problem
      : length?.ok && length.ms > LATEST_TIME - EARLIEST_TIME
        ? 'it is longer than the years 0000 to 9999 hold; write at most 520000w'
        : `expected a positive whole number and ${TIME_UNITS_TEXT}`
  throw createError('ERR_MONITOR_WINDOW', { what, value, detail })
}

export interface TimeWindow {
  /** Inclusive, epoch ms. */
  from: number
  /** Exclusive, epoch ms. */
  to: number
  /** For people: `last 7d`, or the ISO range. */
  label: string
}

export type ReferenceSpec = { kind: 'training'; label: string } | ({ kind: 'window' } & TimeWindow)

/** The recent window: `duration` ending at `now`. */
export function recentWindow(spec: string, now: number): TimeWindow {
  const ms = parseDuration(spec, 'window')
  return { from: now - ms, to: now, label: `last ${spec.trim()}` }
}

function parseTime(value: string, spec: string, end: 'FROM' | 'TO', now: number): number {
  const t = parseTimeInput(value, now)
  if (!t.ok) {
    throw createError('ERR_MONITOR_WINDOW', {
      what: 'reference',
      value: spec,
      detail: badTimeDetail(end, value, t.problem),
    })
  }
  return t.ms
}

const REFERENCE_FORMS =
  'expected `training`, a duration such as 14d (the window of that length just before the recent one), or FROM..TO (30d..7d: from 30 days ago to 7 days ago)'

/**
 * `training`, a duration (the window of that length just before `recent`), or `FROM..TO`. A `..` is what makes two
 * times of `14d`: alone it is a length, on either side of `..` an age, counted back from `now` (the end of the
 * recent window).
 */
export function parseReference(spec: string, recent: TimeWindow, now = recent.to): ReferenceSpec {
  const s = spec.trim()
  if (s === 'training') return { kind: 'training', label: 'training data' }
  if (s.includes('..')) {
    const parts = s.split('..')
    if (parts.length > 2)
      throw createError('ERR_MONITOR_WINDOW', { what: 'reference', value: spec, detail: 'FROM..TO has one `..`' })
    const [a = '', b = ''] = parts
    const from = parseTime(a.trim(), spec, 'FROM', now)
    const to = parseTime(b.trim(), spec, 'TO', now)
    if (from >= to)
      throw createError('ERR_MONITOR_WINDOW', { what: 'reference', value: spec, detail: 'FROM must be before TO' })
    return { kind: 'window', from, to, label: `${new Date(from).toISOString()} .. ${new Date(to).toISOString()}` }
  }
  // An age alone (`1.5d`) would read as a length nobody meant; a length with a bad unit (`2mo`) is named as such.
  const length = parseTimeLength(s)
  if (length === undefined || (length.ok && length.fraction))
    throw createError('ERR_MONITOR_WINDOW', { what: 'reference', value: spec, detail: REFERENCE_FORMS })
  const ms = parseDuration(s, 'reference')
  return { kind: 'window', from: recent.from - ms, to: recent.from, label: `the ${s} before` }
}

/**
 * A date, an ISO date-time (UTC unless it has an offset), epoch ms or an age (that long before `now`), from a CLI
 * option or query parameter; `what` names it in the error.
 */
export function parseInstant(value: string, what: string, now = Date.now()): number {
  const t = parseTimeInput(value, now)
  if (!t.ok) throw createError('ERR_INVALID_ARGUMENT', { detail: badTimeDetail(what, value, t.problem) })
  return t.ms
}
