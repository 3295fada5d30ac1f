import { createError } from '../errors.js'
import { badTimeDetail, parseTimeInput, type TimeForms } from '../util/time.js'

/** The forms of a review time filter, for the parser and for the descriptions of the query parameters. */
export const REVIEW_TIME_FORMS: TimeForms = Object.freeze({ epochMs: true })

/**
 * A time filter (`--from`, `?from=`): an ISO date, an ISO date-time (UTC unless it has an offset) or epoch ms;
 * `name` names the option in the error.
 */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const t = parseTimeInput(value, REVIEW_TIME_FORMS)
  if (!t.ok)
    throw createError('ERR_REVIEW_INVALID', { detail: badTimeDetail(name, value, t.problem, REVIEW_TIME_FORMS) })
  return t.ms
}
