/**
 * The schema's defaults and what loading `intentops.yml` needs from the schema alone: the file's name, a config of
 * defaults only, schema errors in words and deep-freezing. It loads nothing: `loadConfig` (src/project/config.ts)
 * reads and validates the file, against the schema and against the rules of the modules the config's sections
 * configure, which this module may not import.
 * @module
 */
import { Value, type ValueError } from '@sinclair/typebox/value'
import { type Config, ConfigSchema } from './schema.js'

export const CONFIG_FILE_NAME = 'intentops.yml'

/** A deep-frozen config holding only defaults: what a plain Rasa project without intentops.yml gets. */
export function defaultConfig(): Readonly<Config> {
  return deepFreeze(Value.Default(ConfigSchema, {}) as Config)
}

/**
 * The values a union of literals allows, for messages: TypeBox reports only "Expected union value", which does not
 * tell the reader what to write. Undefined for any other schema.
 */
export function allowedLiterals(schema: unknown): string[] | undefined {
  const branches = (schema as { anyOf?: unknown[] } | undefined)?.anyOf
  if (!Array.isArray(branches) || branches.length === 0) return undefined
  if (!branches.every((b) => typeof b === 'object' && b !== null && 'const' in b)) return undefined
  return branches.map((b) => String((b as { const: unknown }).const))
}

/** A schema error in words: the allowed values of a union of literals, or TypeBox's message. */
export function schemaErrorText(err: ValueError): string {
  const allowed = allowedLiterals(err.schema)
  return allowed ? `must be one of: ${allowed.join(', ')}` : err.message.toLowerCase()
}

/** Freeze `value` and everything it holds. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v)
  }
  return value
}
