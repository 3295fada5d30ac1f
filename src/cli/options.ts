/**
 * Option parsing shared by the command modules: repeatable options and integer flags, with usage errors from the
 * catalog.
 * @module
 */
import type { IntentopsError } from '../errors.js'

/**
 * The time forms every `--from`, `--to`, `--before` and `--at` takes, for their help (one parser reads them all,
 * util/time.ts, whose `describeTimeForms` says the same at length).
 */
export const TIME_FORMS_HELP =
  'a date, ISO time (UTC unless it has an offset), epoch ms or age in m (minutes), h, d or w'

/** commander reducer for a repeatable option. */
export const collect = (value: string, previous: string[] = []) => [...previous, value]

export async function usage(detail: string): Promise<IntentopsError> {
  const { createError } = await import('../errors.js')
  return createError('ERR_CLI_USAGE', { detail })
}

/**
 * An integer flag in [min, max], written in decimal digits: `Number` alone would also take `0x10`, `1e3` and ` 5 `.
 */
export async function intOption(flag: string, value: string, min: number, max?: number): Promise<number>
export async function intOption(
  flag: string,
  value: string | undefined,
  min: number,
  max?: number,
): Promise<number | undefined>
export async function intOption(
  flag: string,
  value: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): Promise<number | undefined> {
  if (value === undefined) return undefined
  const n = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`
    throw await usage(`${flag} must be an integer ${range}, got "${value}"`)
  }
  return n
}

/**
 * A decimal number flag (`0.05`, `2`, `.5`) in a range, open at both ends when `open` is set: `Number` alone would
 * also take `0x10`, `1e3`, ` 5 ` and `Infinity`.
 */
export async function floatOption(
  flag: string,
  value: string,
  range: { min: number; max?: number; open?: boolean },
): Promise<number> {
  const { min, max = Number.POSITIVE_INFINITY, open = false } = range
  const n = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(value) ? Number(value) : Number.NaN
  const inside = open ? n > min && n < max : n >= min && n <= max
  if (!Number.isFinite(n) || !inside) {
    const bounds =
      max === Number.POSITIVE_INFINITY
        ? `${open ? '>' : '≥'} ${min}`
        : `in ${open ? '(' : '['}${min}, ${max}${open ? ')' : ']'}`
    throw await usage(`${flag} must be a number ${bounds}, got "${value}"`)
  }
  return n
}
