import { createError } from '../errors.js'
import { calendarProblem, inIsoYearRange } from '../util/time.js'

/** A time filter: epoch ms, or an ISO date/time. */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  const problem = calendarProblem(value)
  if (!inIsoYearRange(ms) || problem) {
    throw createError('ERR_REVIEW_INVALID', {
      detail: `${name} must be an ISO date or epoch milliseconds, got "${value}"${problem ? ` (${problem})` : ''}`,
    })
  }
  return ms
}
