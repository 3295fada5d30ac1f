/**
 * Option parsing shared by the command modules: repeatable options and integer flags, with usage errors from the
 * catalog.
 * @module
 */
import type { IntentopsError } from '../errors.js'

/** commander reducer for a repeatable option. */
export const collect = (value: string, previous: string[] = []) => [...previous, value]

export async function usage(detail: string): Promise<IntentopsError> {
  const { createError } = await import('../errors.js')
  return createError('ERR_CLI_USAGE', { detail })
}

export async function intOption(flag: string, value: string | undefined, min: number): Promise<number | undefined> {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw await usage(`${flag} must be an integer ≥ ${min}, got "${value}"`)
  return n
}
