/**
 * The canonical JSON that signatures and digests cover. It is part of the registry format: once records are signed
 * with it, it must never change (a new form would need a new signing domain). Object keys are sorted by UTF-16
 * code units at every level, `undefined` members are dropped, and numbers and strings are written as
 * `JSON.stringify` writes them, with no whitespace.
 * @module
 */
import { createError } from '../errors.js'

/** Canonical JSON text of a JSON value. */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw createError('ERR_INVALID_ARGUMENT', { detail: `cannot sign the number ${value}` })
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalize(v))).join(',')}]`
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>
    const members = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalize(obj[k])}`)
    return `{${members.join(',')}}`
  }
  throw createError('ERR_INVALID_ARGUMENT', { detail: `cannot sign a value of type ${typeof value}` })
}
