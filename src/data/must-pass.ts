/**
 * Must-pass sentences (`tests/*.yml`): messages with the intent, and optionally the entities, a model must return.
 * The format is fixed by the "Must-pass sentences" contract in docs/architecture.md.
 * @module
 */

import path from 'node:path'
import { isMap, isScalar, isSeq, type Node } from 'yaml'
import { CONFIG_FILE_NAME, defaultConfig } from '../config/defaults.js'
import { createError, type IntentopsError, isIntentopsError, type SourceLocation } from '../errors.js'
import { readTextFile } from '../util/fs.js'
import { nodeLocation, type ParsedYaml, parseYaml, pointerLocation } from '../util/yaml.js'
import {
  type Diagnostic,
  diagnosticFromError,
  diagnosticToError,
  errorDiagnostic,
  warningDiagnostic,
} from './diagnostics.js'
import { parseAnnotatedText } from './inline-entities.js'
import { defaultRoot } from './load.js'
import { type DataSource, fsSource } from './source.js'
import type { EntityAnnotation, MustPassCase, TrainingData } from './types.js'

export interface MustPassLoadOptions {
  /** Project root; relative paths resolve against it. Default: as for `loadTrainingData`. */
  root?: string
  source?: DataSource
}

export interface MustPassLoadResult {
  cases: MustPassCase[]
  diagnostics: Diagnostic[]
  /** Root-relative files that held a `must_pass` list. */
  files: string[]
}

const CASE_KEYS = new Set(['text', 'fields', 'intent', 'min_confidence', 'allow_failure'])

export interface ConfiguredTestsOptions {
  /** Project root; the paths resolve against it. */
  root: string
  /** The config file that lists them (default: intentops.yml in the root), for the error's location. */
  configFile?: string
  source?: DataSource
}

/**
 * The `tests` paths of the config that exist, and an ERR_FILE_NOT_FOUND at its place in the config for each that
 * does not. Only the default `tests` may be missing (a project without must-pass cases): a mistyped path would
 * otherwise turn the must-pass checks, and the pipeline's mustPass gate, off without a word.
 */
export async function configuredMustPassPaths(
  tests: readonly string[],
  options: ConfiguredTestsOptions,
): Promise<{ paths: string[]; missing: IntentopsError[] }> {
  const source = options.source ?? fsSource(options.root)
  const isDefault = JSON.stringify(tests) === JSON.stringify(defaultConfig().tests)
  const configFile = options.configFile ?? path.join(options.root, CONFIG_FILE_NAME)
  const out = { paths: [] as string[], missing: [] as IntentopsError[] }
  for (const [i, p] of tests.entries()) {
    try {
      await source.list(p)
      out.paths.push(p)
    } catch (err) {
      if (!isIntentopsError(err) || err.code !== 'ERR_FILE_NOT_FOUND') throw err
      if (isDefault) continue
      out.missing.push(
        createError(
          'ERR_FILE_NOT_FOUND',
          { path: path.resolve(options.root, p) },
          {
            cause: err,
            location: await configLocation(configFile, `/tests/${i}`),
            hint: `\`tests\` in ${path.basename(configFile)} lists "${p}": correct the path, create it, or remove it from the list.`,
          },
        ),
      )
    }
  }
  return out
}

async function configLocation(file: string, pointer: string): Promise<SourceLocation> {
  try {
    return pointerLocation(parseYaml(await readTextFile(file), file), pointer)
  } catch {
    return { file }
  }
}

/** Load every must-pass case under `paths` (files or directories); throws the first problem. */
export async function loadMustPass(paths: string[], options: MustPassLoadOptions = {}): Promise<MustPassCase[]> {
  const res = await loadMustPassDetailed(paths, options)
  const first = res.diagnostics.find((d) => d.severity === 'error')
  if (first) throw diagnosticToError(first)
  return res.cases
}

/** Load every must-pass case under `paths`, collecting problems as diagnostics. YAML files without `must_pass` are skipped. */
export async function loadMustPassDetailed(
  paths: string[],
  options: MustPassLoadOptions = {},
): Promise<MustPassLoadResult> {
  const source = options.source ?? fsSource(options.root ?? defaultRoot(paths))
  const out: MustPassLoadResult = { cases: [], diagnostics: [], files: [] }
  const files: string[] = []
  for (const p of paths) {
    try {
      for (const f of await source.list(p)) {
        if (/\.ya?ml$/i.test(f) && !files.includes(f)) files.push(f)
      }
    } catch (err) {
      out.diagnostics.push(diagnosticFromError(err, p))
    }
  }
  for (const file of files) {
    let text: string
    try {
      text = await source.read(file)
    } catch (err) {
      out.diagnostics.push(diagnosticFromError(err, file))
      continue
    }
    if (parseMustPass(text, file, out)) out.files.push(file)
  }
  return out
}

/** Parse one must-pass file into `out`; returns whether it was a must-pass file. */
export function parseMustPass(
  text: string,
  file: string,
  out: Pick<MustPassLoadResult, 'cases' | 'diagnostics'>,
): boolean {
  let parsed: ParsedYaml
  try {
    parsed = parseYaml(text, file)
  } catch (err) {
    out.diagnostics.push(diagnosticFromError(err, file))
    return true
  }
  const loc = (n: Node | null | undefined) => nodeLocation(n, file, parsed.lineCounter)
  const schema = (detail: string, at: SourceLocation) =>
    out.diagnostics.push(errorDiagnostic('ERR_DATA_SCHEMA', { detail }, at))
  const root = parsed.doc.contents
  if (!isMap(root)) return false
  const listPair = root.items.find((p) => isScalar(p.key) && p.key.value === 'must_pass')
  if (!listPair) return false
  for (const p of root.items) {
    const k = isScalar(p.key) ? String(p.key.value) : ''
    if (k === 'version') {
      if (!isScalar(p.value) || String(p.value.value) !== '1') {
        schema('must-pass files have `version: "1"`', loc(p.value as Node))
      }
    } else if (k !== 'must_pass')
      schema(`unknown key \`${k}\`; a must-pass file has \`version\` and \`must_pass\``, loc(p.key as Node))
  }
  const list = listPair.value as Node | null
  if (!isSeq(list)) {
    schema('`must_pass` must be a list of {text, intent}', loc(list ?? (listPair.key as Node)))
    return true
  }
  for (const item of list.items as Node[]) {
    const at = loc(item)
    if (!isMap(item)) {
      schema('each must-pass case is a mapping with `text` (or `fields`) and `intent`', at)
      continue
    }
    let ok = true
    const get = (key: string) => item.items.find((p) => isScalar(p.key) && p.key.value === key)
    for (const p of item.items) {
      const k = isScalar(p.key) ? String(p.key.value) : ''
      if (!CASE_KEYS.has(k)) {
        schema(`unknown key \`${k}\` in a must-pass case; allowed: ${[...CASE_KEYS].join(', ')}`, loc(p.key as Node))
        ok = false
      }
    }
    const intentNode = get('intent')?.value
    if (!isScalar(intentNode) || typeof intentNode.value !== 'string' || intentNode.value.trim() === '') {
      schema('a must-pass case needs a string `intent`', intentNode ? loc(intentNode as Node) : at)
      ok = false
    }
    const textNode = get('text')?.value
    const fieldsNode = get('fields')?.value
    const entities: EntityAnnotation[] = []
    let text = ''
    let fields: Record<string, string> | undefined
    const annotated = (raw: string, node: Node, field?: string): string => {
      const r = parseAnnotatedText(raw.trim())
      const start = loc(node)
      const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')
      if (quoted && start.column !== undefined) start.column++
      for (const issue of r.issues) {
        const at = { ...start, column: (start.column ?? 1) + issue.offset }
        if (issue.severity === 'warning') {
          out.diagnostics.push(warningDiagnostic('WARN_DATA_UNCLOSED_BRACKET', {}, at))
          continue
        }
        out.diagnostics.push(errorDiagnostic('ERR_DATA_BAD_ANNOTATION', { detail: issue.message }, at))
        ok = false
      }
      for (const e of r.entities) entities.push(field === undefined ? e : { ...e, field })
      return r.text
    }
    if (textNode && fieldsNode) {
      schema('a must-pass case has `text` or `fields`, not both', at)
      ok = false
    } else if (isScalar(textNode) && typeof textNode.value === 'string') {
      text = annotated(textNode.value, textNode)
    } else if (isMap(fieldsNode) && fieldsNode.items.length) {
      fields = {}
      for (const p of fieldsNode.items) {
        const k = isScalar(p.key) ? String(p.key.value) : ''
        if (!isScalar(p.value) || typeof p.value.value !== 'string') {
          schema(`field \`${k}\` must be text`, loc((p.value as Node) ?? (p.key as Node)))
          ok = false
          continue
        }
        fields[k] = annotated(p.value.value, p.value, k)
      }
      text = Object.values(fields).join('\n')
    } else {
      schema('a must-pass case needs `text` (a string) or `fields` (a mapping)', textNode ? loc(textNode as Node) : at)
      ok = false
    }
    if (ok && text.trim() === '') {
      out.diagnostics.push(
        errorDiagnostic('ERR_DATA_EMPTY_EXAMPLE', { intent: String((intentNode as { value: unknown }).value) }, at),
      )
      ok = false
    }
    const minNode = get('min_confidence')?.value
    let minConfidence: number | undefined
    if (minNode !== undefined) {
      if (isScalar(minNode) && typeof minNode.value === 'number' && minNode.value >= 0 && minNode.value <= 1)
        minConfidence = minNode.value
      else {
        schema('`min_confidence` must be a number from 0 to 1', loc(minNode as Node))
        ok = false
      }
    }
    const allowNode = get('allow_failure')?.value
    let allowFailure = false
    if (allowNode !== undefined) {
      if (isScalar(allowNode) && typeof allowNode.value === 'boolean') allowFailure = allowNode.value
      else {
        schema('`allow_failure` must be true or false', loc(allowNode as Node))
        ok = false
      }
    }
    if (!ok) continue
    const c: MustPassCase = {
      text,
      intent: String((intentNode as { value: unknown }).value).trim(),
      allowFailure,
      source: at,
    }
    if (fields) c.fields = fields
    if (entities.length) c.entities = entities
    if (minConfidence !== undefined) c.minConfidence = minConfidence
    out.cases.push(c)
  }
  return true
}

/** Check must-pass cases against the training data: unknown intents are errors, unknown entities warnings. */
export function validateMustPass(cases: readonly MustPassCase[], data: TrainingData): Diagnostic[] {
  const intents = new Set(data.examples.map((e) => e.intent))
  const entities = new Set(data.examples.flatMap((e) => e.entities.map((x) => x.entity)))
  const out: Diagnostic[] = []
  for (const c of cases) {
    const at = c.source ?? { file: '(must-pass)' }
    if (!intents.has(c.intent)) out.push(errorDiagnostic('ERR_MUST_PASS_UNKNOWN_INTENT', { intent: c.intent }, at))
    for (const e of c.entities ?? []) {
      if (!entities.has(e.entity))
        out.push(warningDiagnostic('WARN_MUST_PASS_UNKNOWN_ENTITY', { entity: e.entity }, at))
    }
  }
  return out
}
