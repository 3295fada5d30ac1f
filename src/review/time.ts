import { createError } from '../errors.js'
import { badTimeDetail, parseTimeInput } from '../util/time.js'

/**
 * A time filter (`--from`, `?from=`): a date, an ISO date-time (UTC unless it has an offset), epoch ms or an age
 * (that long before `now`); `name` names the option in the error.
 */
export function parseTime(value: string | undefined, name: string, now = Date.now()): number | undefined {
  if (value === undefined || value === '') return undefined
  const t = parseTimeInput(value, now)
  if (!t.ok) throw createError('ERR_REVIEW_INVALID', { detail: badTimeDetail(name, value, t.problem) })
  return t.ms
}
