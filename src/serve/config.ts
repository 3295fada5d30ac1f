/**
 * The `serve` config merged from its three sources, in rising priority: `intentops.yml`, environment variables
 * (`INTENTOPS_SERVE_<KEY>`, e.g. `INTENTOPS_SERVE_PORT`, `INTENTOPS_SERVE_RATE_LIMIT_MAX`) and command-line flags.
 * Validated once against the schema; a bad value stops the server before it listens, naming where it came from.
 * @module
 */
import { Value } from '@sinclair/typebox/value'
import { schemaErrorText } from '../config/defaults.js'
import { type ServeConfig, ServeConfigSchema } from '../config/schema.js'
import { createError } from '../errors.js'
import { longestRedactedText, type RedactionRule, redactionRuleIssues } from '../store/redact.js'

interface Node {
  type?: string
  properties?: Record<string, Node>
  items?: Node
  anyOf?: Node[]
}

/** `rateLimit.max` → `INTENTOPS_SERVE_RATE_LIMIT_MAX`. */
export function envName(path: readonly string[]): string {
  return `INTENTOPS_SERVE_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`
}

/** Every environment variable the `serve` section reads, with its key path (for docs and errors). */
export function serveEnvVars(): Array<{ name: string; key: string }> {
  const out: Array<{ name: string; key: string }> = []
  const walk = (node: Node, path: string[]) => {
    for (const [k, child] of Object.entries(node.properties ?? {})) {
      if (child.properties) walk(child, [...path, k])
      else out.push({ name: envName([...path, k]), key: ['serve', ...path, k].join('.') })
    }
  }
  walk(ServeConfigSchema as unknown as Node, [])
  return out
}

function fromEnv(raw: string, node: Node): unknown {
  const type = node.type ?? (node.anyOf ? 'string' : undefined)
  if (type === 'integer' || type === 'number') {
    // Decimal only, as for the flags: `Number` alone reads 0x10 as 16 and 1e3 as 1000. Anything else stays a string,
    // which the schema then refuses, naming the variable.
    const v = raw.trim()
    const decimal = type === 'integer' ? /^[+-]?\d+$/ : /^[+-]?(\d+(\.\d*)?|\.\d+)$/
    return decimal.test(v) ? Number(v) : raw
  }
  if (type === 'boolean') {
    const v = raw.trim().toLowerCase()
    if (['1', 'true', 'yes', 'on'].includes(v)) return true
    if (['0', 'false', 'no', 'off'].includes(v)) return false
    return raw
  }
  if (type === 'array') {
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  }
  return raw
}

export interface ServeFlags {
  host?: string
  port?: number | string
  alias?: string
  model?: string
}

export interface ResolveServeOptions {
  /**
   * The config's `store.redaction`, which the config loader judged on the longest text `base` lets the server log:
   * judged again if the environment lets longer texts through.
   */
  redaction?: readonly RedactionRule[]
}

/**
 * Merge and validate. `base` is the `serve` section of the loaded config (defaults applied).
 * @example
 * const serve = resolveServeConfig(config.serve, process.env, { port: opts.port }, { redaction: config.store.redaction })
 */
export function resolveServeConfig(
  base: Readonly<ServeConfig>,
  env: Readonly<Record<string, string | undefined>>,
  flags: ServeFlags = {},
  options: ResolveServeOptions = {},
): Readonly<ServeConfig> {
  const merged = structuredClone(base) as unknown as Record<string, unknown>
  const sources = new Map<string, string>()
  const walk = (node: Node, target: Record<string, unknown>, path: string[]) => {
    for (const [k, child] of Object.entries(node.properties ?? {})) {
      if (child.properties) {
        const sub = (target[k] ?? {}) as Record<string, unknown>
        target[k] = sub
        walk(child, sub, [...path, k])
        continue
      }
      const name = envName([...path, k])
      const raw = env[name]
      if (raw === undefined || raw === '') continue
      target[k] = fromEnv(raw, child)
      sources.set(`/${[...path, k].join('/')}`, `$${name}`)
    }
  }
  walk(ServeConfigSchema as unknown as Node, merged, [])
  const flag = (key: keyof ServeFlags, value: unknown) => {
    if (value === undefined) return
    merged[key] = key === 'port' && typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
    sources.set(`/${key}`, `--${key}`)
  }
  flag('host', flags.host)
  flag('port', flags.port)
  flag('alias', flags.alias)
  flag('model', flags.model)

  const withDefaults = Value.Default(ServeConfigSchema, merged)
  const problems: string[] = []
  for (const err of Value.Errors(ServeConfigSchema, withDefaults)) {
    const key = `serve${err.path.replace(/\//g, '.')}`
    const source = sources.get(err.path) ?? 'intentops.yml'
    problems.push(`\`${key}\` (from ${source}): ${schemaErrorText(err)}, got ${JSON.stringify(err.value)}`)
    if (problems.length >= 5) break
  }
  if (problems.length === 0 && options.redaction) {
    problems.push(...redactionProblems(options.redaction, base, withDefaults as ServeConfig, sources))
  }
  if (problems.length > 0) {
    throw createError('ERR_CONFIG_INVALID', { detail: problems.join('; ') })
  }
  return deepFreeze(withDefaults as ServeConfig)
}

/** Redaction rules too slow for the longer texts the environment lets the server log, each naming where that came from. */
function redactionProblems(
  rules: readonly RedactionRule[],
  base: Readonly<ServeConfig>,
  resolved: ServeConfig,
  sources: ReadonlyMap<string, string>,
): string[] {
  const now = longestRedactedText(resolved)
  const before = longestRedactedText(base)
  if (now.characters <= before.characters && now.units <= before.units) return []
  const raised = (['maxTextLength', 'bodyLimitBytes'] as const)
    .filter((k) => sources.has(`/${k}`))
    .map((k) => `\`serve.${k}\` ${resolved[k]} (from ${sources.get(`/${k}`)})`)
    .join(' and ')
  return redactionRuleIssues(rules, resolved).map(({ index: i, kind, message }) =>
    kind === 'limit'
      ? `with ${raised}, \`store.redaction.${i}\` and the rules after it are not checked: there are too many redaction rules to check (${message}, see ERR_REGEX_CHECK_LIMIT)`
      : `with ${raised}, \`store.redaction.${i}.pattern\` ${message}`,
  )
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v)
  }
  return value
}
