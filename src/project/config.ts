/**
 * Load `intentops.yml`: parse with positions, apply defaults, validate against the one schema and against the rules
 * of the modules its sections configure (pipeline components, intent names, the store's path, redaction), deep-freeze.
 * It sits above config/, which holds the schema every module reads and so may import none of them.
 * @module
 */
import path from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { allowedLiterals, CONFIG_FILE_NAME, deepFreeze, defaultConfig, schemaErrorText } from '../config/defaults.js'
import { type Config, ConfigSchema } from '../config/schema.js'
import { nameHint, nameProblem } from '../data/names.js'
import { createError, formatLocation, IntentopsError, type SourceLocation } from '../errors.js'
import { parseReference, recentWindow } from '../monitor/window.js'
import { buildPipeline } from '../nlu/pipeline.js'
import { sqliteLocationProblem } from '../store/location.js'
import { redactionRuleIssues } from '../store/redact.js'
import { pathExists, readTextFile } from '../util/fs.js'
import { keyLocation, type ParsedYaml, parseYaml, pointerLocation } from '../util/yaml.js'

export interface LoadedConfig {
  config: Readonly<Config>
  /** Absolute path of the config file, or undefined when defaults were used. */
  file: string | undefined
  /** The project root: the config's directory, or the working directory. */
  root: string
}

export interface ConfigIssue {
  message: string
  location: SourceLocation
}

/**
 * Find and load the config. `explicit` is a --config path; otherwise `dir/intentops.yml` is used when present and
 * defaults when not (unless `required`).
 */
export async function loadConfig(opts: { dir: string; explicit?: string; required?: boolean }): Promise<LoadedConfig> {
  const file = opts.explicit ? path.resolve(opts.dir, opts.explicit) : path.join(opts.dir, CONFIG_FILE_NAME)
  if (!opts.explicit && !(await pathExists(file))) {
    if (opts.required) throw createError('ERR_CONFIG_NOT_FOUND', { dir: opts.dir })
    return { config: defaultConfig(), file: undefined, root: path.resolve(opts.dir) }
  }
  const text = await readTextFile(file, { maxBytes: 1024 * 1024 })
  return { config: parseConfig(text, file), file, root: path.dirname(file) }
}

/** Parse and validate config text; throws ERR_CONFIG_INVALID listing every problem with its position. */
export function parseConfig(text: string, file: string): Readonly<Config> {
  const parsed = parseYaml(text, file)
  const raw = parsed.value ?? {}
  const issues = validateConfigValue(raw, parsed)
  const first = issues[0]
  if (first) {
    const detail =
      issues.length === 1
        ? first.message
        : `${issues.length} problems:\n${issues.map((i) => `  ${formatLocation(i.location)}: ${i.message}`).join('\n')}`
    throw createError('ERR_CONFIG_INVALID', { detail }, { location: first.location })
  }
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw)) as Config
  // Component types and params are checked here, at start-up, rather than by `train` minutes later.
  if (withDefaults.pipeline.length > 0) {
    buildPipeline(withDefaults.pipeline, (index, key) =>
      keyLocation(
        parsed.doc,
        ['pipeline', ...(index === undefined ? [] : [index]), ...(key === undefined ? [] : [key])],
        parsed.file,
        parsed.lineCounter,
      ),
    )
  }
  return deepFreeze(withDefaults)
}

/** Every schema problem of a parsed config, with positions and the fix in words. */
export function validateConfigValue(raw: unknown, parsed: ParsedYaml): ConfigIssue[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return [
      {
        message: 'the config must be a mapping of keys to values',
        location: { file: parsed.file, line: 1, column: 1 },
      },
    ]
  }
  const candidate = Value.Default(ConfigSchema, structuredClone(raw))
  const issues: ConfigIssue[] = []
  const seen = new Set<string>()
  for (const err of Value.Errors(ConfigSchema, candidate)) {
    const key = `${err.path}|${err.message}`
    if (seen.has(key) || (err.path === '/store/path' && sqliteStorePath(candidate) !== undefined)) continue
    seen.add(key)
    const parts = err.path.split('/').slice(1)
    const isUnknown = /unexpected property/i.test(err.message) || /additional/i.test(err.message)
    const location = isUnknown
      ? keyLocation(parsed.doc, parts, parsed.file, parsed.lineCounter)
      : pointerLocation(parsed, err.path)
    const where = err.path === '' ? 'the config' : `\`${parts.join('.')}\``
    const message = isUnknown
      ? `unknown key ${where}; check its spelling against docs/configuration.md`
      : `${where}: ${schemaErrorText(err)}${allowedLiterals(err.schema) ? `, got ${JSON.stringify(err.value)}` : ''}`
    issues.push({ message, location })
  }
  checkFallbackIntent(candidate, parsed, issues)
  checkWriterShares(candidate, parsed, issues)
  checkStorePath(candidate, parsed, issues)
  if (issues.length === 0) checkRedaction(candidate as Config, parsed, issues)
  if (issues.length === 0) checkMonitorWindows(candidate as Config, parsed, issues)
  return issues
}

/**
 * The fallback intent is an intent name like any other: predictions carry it, and the review export files
 * out-of-scope messages under it, so a name the data validator would refuse is refused here, once, at start-up.
 */
function checkFallbackIntent(candidate: unknown, parsed: ParsedYaml, issues: ConfigIssue[]): void {
  // Listed with the schema's problems, so one run shows them all; a fallback.intent that is not text is one of those.
  const name = (candidate as { fallback?: { intent?: unknown } }).fallback?.intent
  if (typeof name !== 'string' || name === '') return
  const problem = nameProblem('intent', name)
  if (problem === undefined) return
  issues.push({
    message: `\`fallback.intent\` '${name}' is not a valid intent name: ${problem}. ${nameHint('intent', name)}`,
    location: pointerLocation(parsed, '/fallback/intent'),
  })
}

/**
 * The log queue counts as behind from `store.writerBehindAt` and as caught up at `store.writerCaughtUpAt`: a
 * caught-up share at or above the behind one would have it both at once. The schema holds each in range; the pair is
 * checked here, at the key the file sets (caught up, when it sets both).
 */
function checkWriterShares(candidate: unknown, parsed: ParsedYaml, issues: ConfigIssue[]): void {
  const store = (candidate as { store?: { writerBehindAt?: unknown; writerCaughtUpAt?: unknown } }).store
  const behind = store?.writerBehindAt
  const caughtUp = store?.writerCaughtUpAt
  if (typeof behind !== 'number' || typeof caughtUp !== 'number' || caughtUp < behind) return
  const raw = (parsed.value as { store?: Record<string, unknown> } | null)?.store
  const key = raw && 'writerCaughtUpAt' in raw ? 'writerCaughtUpAt' : 'writerBehindAt'
  issues.push({
    message: `\`store.writerCaughtUpAt\` (${caughtUp}) must be below \`store.writerBehindAt\` (${behind}): the log counts as behind from the first share of store.queueSize and as caught up again at the second, so lower writerCaughtUpAt or raise writerBehindAt`,
    location: pointerLocation(parsed, `/store/${key}`),
  })
}

/**
 * A SQLite `store.path` that names no file (`:memory:`, a URL of another scheme) is refused here, at start-up, with
 * the reason, rather than opened as a file of that name by one command and not found by the next.
 */
function checkStorePath(candidate: unknown, parsed: ParsedYaml, issues: ConfigIssue[]): void {
  const file = sqliteStorePath(candidate)
  const problem = file === undefined ? undefined : sqliteLocationProblem('`store.path`', file)
  if (problem) issues.push({ message: problem, location: pointerLocation(parsed, '/store/path') })
}

/** The `store.path` of a SQLite store, when it is text: its problems, an empty one's too, are `checkStorePath`'s. */
function sqliteStorePath(candidate: unknown): string | undefined {
  const store = (candidate as { store?: { backend?: unknown; path?: unknown } }).store
  return store?.backend === 'sqlite' && typeof store.path === 'string' ? store.path : undefined
}

/**
 * `monitor.window` and `monitor.reference` as `intentops monitor` reads them, so a reference that names no window
 * (`2026-02-30..3d`, `7d..30d`, a time alone) fails when the config loads rather than when monitoring first runs.
 * Ages are read against the time of loading; which window they give is the run's business, whether they give one is
 * not.
 */
function checkMonitorWindows(config: Config, parsed: ParsedYaml, issues: ConfigIssue[]): void {
  let key = 'window'
  try {
    const recent = recentWindow(config.monitor.window, Date.now())
    key = 'reference'
    parseReference(config.monitor.reference, recent)
  } catch (err) {
    if (!(err instanceof IntentopsError)) throw err
    issues.push({ message: `\`monitor.${key}\`: ${err.message}`, location: pointerLocation(parsed, `/monitor/${key}`) })
  }
}

/**
 * Redaction rules the schema accepts but that would not compile, or could freeze the log writer on the longest text
 * the server takes with this config (`serve` options from the environment are judged again as the server starts).
 */
function checkRedaction(config: Config, parsed: ParsedYaml, issues: ConfigIssue[]): void {
  for (const { index: i, kind, message } of redactionRuleIssues(config.store.redaction, config.serve)) {
    issues.push(
      kind === 'limit'
        ? {
            message: `\`store.redaction.${i}\` and the rules after it are not checked: there are too many redaction rules to check (${message}, see ERR_REGEX_CHECK_LIMIT); keep fewer rules, each matching more`,
            location: pointerLocation(parsed, `/store/redaction/${i}`),
          }
        : {
            message: `\`store.redaction.${i}.pattern\` ${message}`,
            location: pointerLocation(parsed, `/store/redaction/${i}/pattern`),
          },
    )
  }
}
