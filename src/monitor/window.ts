/**
 * Time windows of `intentops monitor`: durations (`30m`, `24h`, `7d`, `2w`) and reference specs (`training`, a
 * duration meaning the window just before the recent one, or `FROM..TO` with ISO dates, date-times or epoch ms).
 * @module
 */
import { createError } from '../errors.js'
import { badTimeDetail, parseTimeInput, type TimeForms } from '../util/time.js'

/** The forms of `FROM..TO` and of `--from`/`--to`, for the parser and for the descriptions of the query parameters. */
export const MONITOR_TIME_FORMS: TimeForms = Object.freeze({ epochMs: true })

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

function parseTime(value: string, spec: string, end: 'FROM' | 'TO'): number {
  const t = parseTimeInput(value, MONITOR_TIME_FORMS)
  if (!t.ok) {
    throw createError('ERR_MONITOR_WINDOW', {
      what: 'reference',
      value: spec,
      detail: badTimeDetail(end, value, t.problem, MONITOR_TIME_FORMS),
    })
  }
  return t.ms
}

/** `training`, a duration (the window of that length just before `recent`), or `FROM..TO`. */
export function parseReference(spec: string, recent: TimeWindow): ReferenceSpec {
  const s = spec.trim()
  if (s === 'training') return { kind: 'training', label: 'training data' }
  if (s.includes('..')) {
    const [a = '', b = ''] = s.split('..')
    const from = parseTime(a.trim(), spec, 'FROM')
    const to = parseTime(b.trim(), spec, 'TO')
    if (from >= to)
      throw createError('ERR_MONITOR_WINDOW', { what: 'reference', value: spec, detail: 'FROM must be before TO' })
    return { kind: 'window', from, to, label: `${new Date(from).toISOString()} .. ${new Date(to).toISOString()}` }
  }
  const ms = parseDuration(s, 'reference')
  return { kind: 'window', from: recent.from - ms, to: recent.from, label: `the ${s} before` }
}

/**
 * An ISO date, an ISO date-time (UTC unless it has an offset) or epoch ms, from a CLI option or query parameter;
 * `what` names it in the error.
 */
export function parseInstant(value: string, what: string): number {
  const t = parseTimeInput(value, MONITOR_TIME_FORMS)
  if (!t.ok)
    throw createError('ERR_INVALID_ARGUMENT', { detail: badTimeDetail(what, value, t.problem, MONITOR_TIME_FORMS) })
  return t.ms
}
