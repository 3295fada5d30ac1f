import { createError } from '../errors.js'
import { badTimeDetail, parseTimeInput, type TimeForms } from '../util/time.js'

const FORMS: TimeForms = { epochMs: true }

/** A time filter (`--from`, `?from=`): an ISO date or date-time, or epoch ms; `name` names the option in the error. */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const t = parseTimeInput(value, FORMS)
  if (!t.ok) throw createError('ERR_REVIEW_INVALID', { detail: badTimeDetail(name, value, t.problem, FORMS) })
  return t.ms
}
