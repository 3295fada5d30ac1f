/**
 * Validation of component params against their TypeBox schemas, with messages that name the component, the
 * parameter, what was expected and what was given: "The 'ngramMax' parameter of tfidf must be an int in [1, 8].
 * Got 9 instead."
 * @module
 */
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { createError } from '../errors.js'

/** Apply defaults to `raw` and check it; throws ERR_NLU_PARAM_INVALID naming the first bad parameter. */
export function validateParams<S extends TObject>(component: string, schema: S, raw: unknown): Static<S> {
  if (raw === undefined || raw === null) raw = {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw paramError(component, `The params of ${component} must be a mapping of names to values.`)
  }
  const known = Object.keys(schema.properties)
  for (const key of Object.keys(raw as object)) {
    if (!known.includes(key)) {
      throw paramError(
        component,
        `${component} has no parameter '${key}'. Its parameters are: ${known.map((k) => `'${k}'`).join(', ')}.`,
        key,
      )
    }
  }
  const withDefaults = Value.Default(schema, structuredClone(raw)) as Record<string, unknown>
  for (const key of known) {
    const prop = schema.properties[key] as TSchema
    const value = withDefaults[key]
    if (value === undefined && !schema.required?.includes(key)) continue
    if (!Value.Check(prop, value)) {
      throw paramError(
        component,
        `The '${key}' parameter of ${component} must be ${describeSchema(prop)}. Got ${formatValue(value)} instead.`,
        key,
      )
    }
  }
  return withDefaults as Static<S>
}

/** An ERR_NLU_PARAM_INVALID error with a ready message; `param` names the offending parameter, for its position. */
export function paramError(component: string, detail: string, param?: string) {
  return createError('ERR_NLU_PARAM_INVALID', { component, detail, ...(param !== undefined ? { param } : {}) })
}

/** What a schema accepts, in words: "an int in [1, 8]", "one of 'word', 'char_wb'", "a list of strings". */
export function describeSchema(s: TSchema): string {
  const node = s as TSchema & {
    type?: string
    anyOf?: TSchema[]
    const?: unknown
    minimum?: number
    maximum?: number
    exclusiveMinimum?: number
    exclusiveMaximum?: number
    minLength?: number
    items?: TSchema
  }
  if (node.anyOf) {
    const literals = node.anyOf
      .filter((x) => 'const' in x)
      .map((x) => formatValue((x as unknown as { const: unknown }).const))
    const others = node.anyOf.filter((x) => !('const' in x)).map(describeSchema)
    if (others.length === 0 && literals.length > 1) return `one of ${literals.join(', ')}`
    const parts = [...literals, ...others]
    return parts.length > 1
      ? `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`
      : (parts[0] ?? 'a valid value')
  }
  if ('const' in node) return formatValue(node.const)
  switch (node.type) {
    case 'integer':
      return `an int${range(node)}`
    case 'number':
      return `a number${range(node)}`
    case 'boolean':
      return 'a boolean (true or false)'
    case 'null':
      return 'null'
    case 'string':
      return node.minLength ? 'a non-empty string' : 'a string'
    case 'array':
      return node.items ? `a list of ${plural(describeSchema(node.items))}` : 'a list'
    case 'object':
      return 'a mapping'
    default:
      return 'a valid value'
  }
}

function range(n: {
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
}): string {
  const lo = n.minimum ?? n.exclusiveMinimum
  const hi = n.maximum ?? n.exclusiveMaximum
  if (lo === undefined && hi === undefined) return ''
  if (hi === undefined) return n.exclusiveMinimum !== undefined ? ` > ${lo}` : ` >= ${lo}`
  if (lo === undefined) return n.exclusiveMaximum !== undefined ? ` < ${hi}` : ` <= ${hi}`
  const open = n.exclusiveMinimum !== undefined ? '(' : '['
  const close = n.exclusiveMaximum !== undefined ? ')' : ']'
  return ` in ${open}${lo}, ${hi}${close}`
}

function plural(desc: string): string {
  return desc
    .replace(/^an? non-empty string$/, 'non-empty strings')
    .replace(/^a string$/, 'strings')
    .replace(/^an int/, 'ints')
    .replace(/^a number/, 'numbers')
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`
  if (v === undefined) return 'nothing'
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/** Shorthand for an optional-with-default nullable value: `T | null`, default null. */
export function Nullable<T extends TSchema>(schema: T, description: string) {
  return Type.Union([schema, Type.Null()], { default: null, description })
}
