/**
 * Time windows of `intentops monitor`: durations (`30m`, `24h`, `7d`, `2w`) and reference specs (`training`, a
 * duration meaning the window just before the recent one, or `FROM..TO` with ISO dates).
 * @module
 */
import { createError } from '../errors.js'
import { calendarProblem, inIsoYearRange } from '../util/time.js'

const UNIT_MS: Readonly<Record<string, number>> = Object.freeze({
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
})

/** Milliseconds of a duration such as `7d`; `what` names the option in the error. */
export function parseDuration(value: string, what = 'window'): number {
  const m = /^\s*(\d+)\s*([mhdw])\s*$/.exec(value)
  if (!m || Number(m[1]) <= 0) {
    throw createError('ERR_MONITOR_WINDOW', { what, value, detail: 'expected a positive number and m, h, d or w' })
  }
  return Number(m[1]) * UNIT_MS[m[2]!]!
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

function parseTime(value: string, spec: string): number {
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  const problem = calendarProblem(value)
  if (!inIsoYearRange(t) || problem) {
    const why = problem ? ` (${problem})` : ''
    throw createError('ERR_MONITOR_WINDOW', {
      what: 'reference',
      value: spec,
      detail: `"${value}" is not a date${why}`,
    })
  }
  return t
}

/** `training`, a duration (the window of that length just before `recent`), or `FROM..TO`. */
export function parseReference(spec: string, recent: TimeWindow): ReferenceSpec {
  const s = spec.trim()
  if (s === 'training') return { kind: 'training', label: 'training data' }
  if (s.includes('..')) {
    const [a = '', b = ''] = s.split('..')
    const from = parseTime(a.trim(), spec)
    const to = parseTime(b.trim(), spec)
    if (from >= to)
      throw createError('ERR_MONITOR_WINDOW', { what: 'reference', value: spec, detail: 'FROM must be before TO' })
    return { kind: 'window', from, to, label: `${new Date(from).toISOString()} .. ${new Date(to).toISOString()}` }
  }
  const ms = parseDuration(s, 'reference')
  return { kind: 'window', from: recent.from - ms, to: recent.from, label: `the ${s} before` }
}

/** An ISO date or epoch ms from a CLI option or query parameter. */
export function parseInstant(value: string, what: string): number {
  const t = /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value)
  const problem = calendarProblem(value)
  if (!inIsoYearRange(t) || problem) {
    const why = problem ? ` (${problem})` : ''
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `${what} "${value}" is not an ISO date or epoch milliseconds${why}`,
    })
  }
  return t
}
