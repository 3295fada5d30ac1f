import { createError } from '../errors.js'

/** A time filter: epoch ms, or an ISO date/time. */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(ms)) {
    throw createError('ERR_REVIEW_INVALID', {
      detail: `${name} must be an ISO date or epoch milliseconds, got "${value}"`,
    })
  }
  return ms
}
