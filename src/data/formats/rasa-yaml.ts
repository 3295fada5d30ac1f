/**
 * Rasa NLU YAML (`version: "3.1"`), the native format of intentops: `- intent:` blocks with `examples: |` or a
 * list of `{text | fields, metadata}`, intent metadata, inline entities, `- synonym:`, `- regex:` and `- lookup:`.
 * Parsing walks the YAML tree so every example keeps its exact file:line:column, including lines inside a `|`
 * block scalar, and reports every problem as a diagnostic instead of stopping at the first.
 * @module
 */
import path from 'node:path'
import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type Scalar, stringify } from 'yaml'
import type { SourceLocation } from '../../errors.js'
import { nodeLocation, type ParsedYaml, parseYaml } from '../../util/yaml.js'
import { diagnosticFromError, errorDiagnostic, warningDiagnostic } from '../diagnostics.js'
import { formatAnnotatedText, type InlineIssue, parseAnnotatedText, sameAnnotation } from '../inline-entities.js'
import type { EntityAnnotation, Example, IntentInfo, SourceRef, TrainingData } from '../types.js'
import { emptyParsedFile, type ParsedDataFile } from './parsed-file.js'

/** Top-level keys of Rasa domain, story, rule and config files: allowed beside `nlu` and skipped. */
export const RASA_NON_NLU_KEYS: ReadonlySet<string> = new Set([
  'stories',
  'rules',
  'responses',
  'intents',
  'entities',
  'slots',
  'forms',
  'actions',
  'e2e_actions',
  'session_config',
  'config',
  'flows',
  'recipe',
  'language',
  'pipeline',
  'policies',
  'assistant_id',
])

const BLOCK_KEYS = ['intent', 'synonym', 'regex', 'lookup'] as const
type BlockKind = (typeof BLOCK_KEYS)[number]
const ALLOWED_KEYS: Record<BlockKind, ReadonlySet<string>> = {
  intent: new Set(['intent', 'examples', 'metadata']),
  synonym: new Set(['synonym', 'examples']),
  regex: new Set(['regex', 'examples']),
  lookup: new Set(['lookup', 'examples']),
}

/** One line of an `examples` string with where it starts in the file. */
interface LocatedLine {
  text: string
  line: number
  column: number
}

class Walker {
  readonly out = emptyParsedFile()
  private readonly lineStarts: number[]
  private readonly intentSeen = new Map<string, IntentInfo>()

  constructor(
    private readonly parsed: ParsedYaml,
    private readonly text: string,
  ) {
    this.lineStarts = (parsed.lineCounter as LineCounter & { lineStarts: number[] }).lineStarts
  }

  get file() {
    return this.parsed.file
  }

  loc(node: Node | null | undefined): SourceLocation {
    return nodeLocation(node, this.file, this.parsed.lineCounter)
  }

  error(
    code: Parameters<typeof errorDiagnostic>[0],
    params: Record<string, unknown>,
    at: SourceLocation,
    hint?: string,
  ) {
    this.out.diagnostics.push(errorDiagnostic(code, params, at, hint))
  }

  schema(detail: string, at: SourceLocation, hint?: string) {
    this.error('ERR_DATA_SCHEMA', { detail }, at, hint)
  }

  run(): ParsedDataFile {
    const root = this.parsed.doc.contents
    if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
      this.out.isNlu = false
      if (this.text.trim() !== '' && path.posix.basename(this.file) !== 'intentops.yml') {
        this.out.diagnostics.push(
          warningDiagnostic(
            'WARN_DATA_IGNORED_FILE',
            { path: this.file, reason: 'it is empty apart from comments' },
            this.loc(root),
          ),
        )
      }
      return this.out
    }
    if (!isMap(root)) {
      this.schema('the file must be a mapping with `version` and `nlu` keys', this.loc(root))
      return this.out
    }
    const keys = root.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''))
    const hasNlu = keys.includes('nlu')
    if (!hasNlu) {
      this.out.isNlu = false
      const base = path.posix.basename(this.file)
      const known = keys.some((k) => RASA_NON_NLU_KEYS.has(k) || k === 'must_pass' || k === 'version')
      if (!known && base !== 'intentops.yml') {
        this.out.diagnostics.push(
          warningDiagnostic(
            'WARN_DATA_IGNORED_FILE',
            { path: this.file, reason: 'no `nlu:` key, and not a Rasa domain, story or config file' },
            this.loc(root),
          ),
        )
      }
      return this.out
    }
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : ''
      if (key === 'version') this.version(pair)
      else if (key === 'nlu') this.nlu(pair)
      else if (!RASA_NON_NLU_KEYS.has(key)) {
        this.schema(
          `unknown top-level key \`${key}\`; an NLU file has \`version\` and \`nlu\``,
          this.loc(pair.key as Node),
        )
      }
    }
    return this.out
  }

  version(pair: Pair) {
    const v = pair.value
    if (isScalar(v) && typeof v.value === 'string') {
      if (!/^[23]\.\d+$/.test(v.value)) {
        this.schema(`unsupported version "${v.value}"; intentops reads Rasa format "2.0" to "3.1"`, this.loc(v))
      }
      return
    }
    this.schema('`version` must be a string', this.loc(v as Node), 'Quote it: version: "3.1"')
  }

  nlu(pair: Pair) {
    const seq = pair.value
    if (seq === null || (isScalar(seq) && seq.value === null)) return
    if (!isSeq(seq)) {
      this.schema(
        '`nlu` must be a list of `- intent:`, `- synonym:`, `- regex:` or `- lookup:` blocks',
        this.loc(seq as Node),
      )
      return
    }
    for (const item of seq.items) this.block(item as Node)
  }

  block(item: Node) {
    if (!isMap(item)) {
      this.schema(
        'each `nlu` item must be a mapping that starts with intent:, synonym:, regex: or lookup:',
        this.loc(item),
      )
      return
    }
    const keys = item.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''))
    const kinds = BLOCK_KEYS.filter((k) => keys.includes(k))
    if (kinds.length !== 1) {
      this.schema(
        kinds.length === 0
          ? `block has none of intent:, synonym:, regex: or lookup: (keys: ${keys.join(', ')})`
          : `block has both ${kinds.join(' and ')}; split it into one block each`,
        this.loc(item),
      )
      return
    }
    const kind = kinds[0]!
    for (const p of item.items) {
      const k = isScalar(p.key) ? String(p.key.value) : ''
      if (!ALLOWED_KEYS[kind].has(k)) {
        this.schema(
          `unknown key \`${k}\` in ${kind === 'intent' ? 'an' : 'a'} ${kind} block; allowed: ${[...ALLOWED_KEYS[kind]].join(', ')}`,
          this.loc(p.key as Node),
        )
      }
    }
    const namePair = item.items.find((p) => isScalar(p.key) && p.key.value === kind)!
    const name = this.name(namePair, kind)
    const examplesPair = item.items.find((p) => isScalar(p.key) && p.key.value === 'examples')
    if (name === undefined) return
    const source = this.loc(namePair.key as Node)
    if (!examplesPair) {
      if (kind !== 'intent') this.schema(`${kind} \`${name}\` has no \`examples\``, source)
      else this.intent(name, item, undefined, source)
      return
    }
    if (kind === 'intent') this.intent(name, item, examplesPair, source)
    else this.listBlock(kind, name, examplesPair, source)
  }

  name(pair: Pair, kind: BlockKind): string | undefined {
    const v = pair.value
    if (isScalar(v) && v.value !== null && typeof v.value !== 'object' && String(v.value).trim() !== '') {
      if (kind === 'intent' && typeof v.value !== 'string') {
        this.schema(`intent name must be a string, got ${JSON.stringify(v.value)}`, this.loc(v), 'Quote it.')
        return undefined
      }
      return String(v.value).trim()
    }
    this.schema(`\`${kind}\` needs a non-empty name`, this.loc((v as Node) ?? (pair.key as Node)))
    return undefined
  }

  intent(name: string, item: Node, examplesPair: Pair | undefined, source: SourceLocation) {
    const metaPair = isMap(item) ? item.items.find((p) => isScalar(p.key) && p.key.value === 'metadata') : undefined
    let info = this.intentSeen.get(name)
    if (!info) {
      info = { name, source }
      this.intentSeen.set(name, info)
      this.out.data.intents.push(info)
    }
    if (metaPair?.value) {
      const meta = (metaPair.value as Node).toJSON()
      if (meta !== null && meta !== undefined) info.metadata = { ...(info.metadata ?? {}), ...asRecord(meta) }
    }
    if (!examplesPair) {
      this.schema(`intent \`${name}\` has no \`examples\``, source, 'Add `examples: |` with one "- sentence" per line.')
      return
    }
    const v = examplesPair.value as Node | null
    // An intent block without a single example line is a mistake like a missing `examples:` key, not a small intent:
    // training would drop the intent without a word.
    const noExamples = () =>
      this.schema(
        `intent \`${name}\` has no examples`,
        source,
        `Add at least one example under \`examples: |\`, one "- sentence" per line, or remove the \`- intent: ${name}\` block.`,
      )
    if (isScalar(v) && typeof v.value === 'string') {
      let exampleLines = 0
      for (const line of this.lines(v)) {
        // index arithmetic instead of trim/slice chains: this runs once per example line
        const raw = line.text
        const first = leadingSpaces(raw)
        if (first === raw.length || raw.charCodeAt(first) === 35 /* # */) continue
        exampleLines++
        if (raw.charCodeAt(first) !== 45 /* - */) {
          this.schema(
            `example line must start with "- " in intent \`${name}\``,
            { file: this.file, line: line.line, column: line.column + first },
            'Begin each example with "- ", one example per line.',
          )
          continue
        }
        let b = first + 1
        while (b < raw.length && (raw.charCodeAt(b) === 32 || raw.charCodeAt(b) === 9)) b++
        let e = raw.length
        while (e > b && /\s/.test(raw[e - 1]!)) e--
        this.example(name, raw.slice(b, e), { file: this.file, line: line.line, column: line.column + b })
      }
      if (exampleLines === 0) noExamples()
      return
    }
    if (isSeq(v)) {
      if (v.items.length === 0) noExamples()
      for (const ex of v.items) this.listExample(name, ex as Node)
      return
    }
    this.schema(
      `\`examples\` of intent \`${name}\` must be a block (examples: |) or a list of {text: ...}`,
      this.loc(v ?? (examplesPair.key as Node)),
    )
  }

  listExample(intent: string, node: Node) {
    if (isScalar(node) && typeof node.value === 'string') {
      const at = this.textLocation(node)
      this.example(intent, node.value.trim(), at)
      return
    }
    if (!isMap(node)) {
      this.schema('a list example must be a mapping with `text` or `fields`', this.loc(node))
      return
    }
    let textNode: Scalar | undefined
    let fieldsNode: Node | undefined
    let metadata: Record<string, unknown> | undefined
    for (const p of node.items) {
      const k = isScalar(p.key) ? String(p.key.value) : ''
      if (k === 'text') {
        if (isScalar(p.value) && typeof p.value.value === 'string') textNode = p.value
        else this.schema('`text` must be a string', this.loc((p.value as Node) ?? (p.key as Node)))
      } else if (k === 'fields') fieldsNode = p.value as Node
      else if (k === 'metadata') {
        const m = (p.value as Node | null)?.toJSON()
        if (m !== null && m !== undefined) metadata = asRecord(m)
      } else {
        this.schema(`unknown key \`${k}\` in an example; allowed: text, fields, metadata`, this.loc(p.key as Node))
      }
    }
    if (textNode && fieldsNode) {
      this.schema('an example has `text` or `fields`, not both', this.loc(node))
      return
    }
    if (textNode) {
      this.example(intent, String(textNode.value).trim(), this.textLocation(textNode), metadata)
      return
    }
    if (fieldsNode) {
      this.fieldsExample(intent, fieldsNode, metadata, this.loc(node))
      return
    }
    this.schema('a list example needs `text` or `fields`', this.loc(node))
  }

  fieldsExample(intent: string, node: Node, metadata: Record<string, unknown> | undefined, at: SourceLocation) {
    if (!isMap(node) || node.items.length === 0) {
      this.schema('`fields` must be a non-empty mapping of field name to text, e.g. {subject: ..., body: ...}', at)
      return
    }
    const fields: Record<string, string> = {}
    const entities: EntityAnnotation[] = []
    let ok = true
    for (const p of node.items) {
      const k = isScalar(p.key) ? String(p.key.value) : ''
      const v = p.value
      if (!isScalar(v) || (typeof v.value !== 'string' && typeof v.value !== 'number')) {
        this.schema(`field \`${k}\` must be text`, this.loc((v as Node) ?? (p.key as Node)))
        ok = false
        continue
      }
      const where = this.textLocation(v)
      const parsed = parseAnnotatedText(String(v.value).trim())
      if (this.issues(parsed.issues, where)) ok = false
      fields[k] = parsed.text
      for (const e of parsed.entities) entities.push({ ...e, field: k })
    }
    if (!ok) return
    if (Object.values(fields).every((f) => f.trim() === '')) {
      this.error('ERR_DATA_EMPTY_EXAMPLE', { intent }, at)
      return
    }
    const ex: Example = {
      text: Object.values(fields).join('\n'),
      fields,
      intent,
      entities,
      source: at,
      ...(metadata ? { metadata } : {}),
    }
    this.out.data.examples.push(ex)
  }

  example(intent: string, annotated: string, at: SourceRef, metadata?: Record<string, unknown>) {
    if (annotated === '') {
      this.error('ERR_DATA_EMPTY_EXAMPLE', { intent }, at)
      return
    }
    const parsed = parseAnnotatedText(annotated)
    if (this.issues(parsed.issues, at)) return
    if (parsed.text.trim() === '') {
      this.error('ERR_DATA_EMPTY_EXAMPLE', { intent }, at)
      return
    }
    const ex: Example = { text: parsed.text, intent, entities: parsed.entities, source: at }
    if (metadata) ex.metadata = metadata
    this.out.data.examples.push(ex)
  }

  /** Report the inline-markup issues of a text that starts at `at`; returns whether any is an error. */
  issues(issues: readonly InlineIssue[], at: SourceRef): boolean {
    let failed = false
    for (const issue of issues) {
      if (issue.severity === 'warning') {
        this.out.diagnostics.push(warningDiagnostic('WARN_DATA_UNCLOSED_BRACKET', {}, shift(at, issue.offset)))
      } else {
        this.error('ERR_DATA_BAD_ANNOTATION', { detail: issue.message }, shift(at, issue.offset))
        failed = true
      }
    }
    return failed
  }

  listBlock(kind: Exclude<BlockKind, 'intent'>, name: string, examplesPair: Pair, source: SourceLocation) {
    const v = examplesPair.value as Node | null
    if (!isScalar(v) || typeof v.value !== 'string') {
      this.schema(
        `\`examples\` of ${kind} \`${name}\` must be a block (examples: |)`,
        this.loc(v ?? (examplesPair.key as Node)),
      )
      return
    }
    // `examples: path/to/file.txt` (one line, no "- ") names a lookup file.
    if (kind === 'lookup' && !v.value.includes('\n') && !v.value.trim().startsWith('-') && v.value.trim() !== '') {
      const lookup = { name, elements: [] as string[], source }
      this.out.data.lookups.push(lookup)
      this.out.lookupFiles.push({ lookup, path: v.value.trim(), location: this.loc(v) })
      return
    }
    const items: string[] = []
    const sources: SourceRef[] = []
    for (const line of this.lines(v)) {
      const t = line.text.trim()
      if (t === '' || t.startsWith('#')) continue
      const dash = line.text.indexOf('-')
      if (!t.startsWith('-')) {
        this.schema(`${kind} line must start with "- "`, {
          file: this.file,
          line: line.line,
          column: line.column + leadingSpaces(line.text),
        })
        continue
      }
      const rest = line.text.slice(dash + 1)
      const at = { file: this.file, line: line.line, column: line.column + dash + 1 + leadingSpaces(rest) }
      const body = rest.trim()
      if (body === '') {
        this.schema(`empty entry in ${kind} \`${name}\``, at, 'Write the entry after "- ", or delete the line.')
        continue
      }
      items.push(body)
      sources.push(at)
    }
    if (kind === 'synonym') this.out.data.synonyms.push({ value: name, examples: items, source, sources })
    else if (kind === 'regex') this.out.data.regexes.push({ name, patterns: items, source, sources })
    else this.out.data.lookups.push({ name, elements: items, source, sources })
  }

  /** Where the text of a scalar starts: inside the quotes, or on the first line of a block scalar. */
  textLocation(node: Scalar): SourceRef {
    if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') {
      const first = this.lines(node).find((l) => l.text.trim() !== '')
      if (first) return { file: this.file, line: first.line, column: first.column + leadingSpaces(first.text) }
    }
    const at = this.loc(node)
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE'
    return quoted && at.column !== undefined ? { ...at, column: at.column + 1 } : at
  }

  /**
   * The lines of a string scalar with their positions. A literal block (`|`) maps value line i to the i-th source
   * line after the header, so positions are exact; other styles point every line at the scalar's start.
   */
  lines(node: Scalar): LocatedLine[] {
    const value = String(node.value)
    const valueLines = value.split('\n')
    const start = this.parsed.lineCounter.linePos(node.range?.[0] ?? 0)
    if (node.type !== 'BLOCK_LITERAL') {
      return valueLines.map((text) => ({ text, line: start.line, column: start.col }))
    }
    return valueLines.map((text, i) => {
      const lineNo = start.line + 1 + i
      // The value line is the source line minus the block's indentation: the difference in length is the indent.
      const indent = text === '' ? 0 : Math.max(0, this.sourceLineLength(lineNo) - text.length)
      return { text, line: lineNo, column: indent + 1 }
    })
  }

  sourceLineLength(lineNo: number): number {
    const from = this.lineStarts[lineNo - 1]
    if (from === undefined) return 0
    const next = this.lineStarts[lineNo]
    let end = next === undefined ? this.text.length : next - 1
    if (end > from && this.text.charCodeAt(end - 1) === 13) end--
    return end - from
  }
}

function leadingSpaces(s: string): number {
  let i = 0
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
  return i
}

function shift(at: SourceRef, offset: number): SourceLocation {
  return { file: at.file, line: at.line, column: (at.column ?? 1) + offset }
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v }
}

/** Parse Rasa NLU YAML. Never throws: YAML syntax errors and schema problems come back as diagnostics. */
export function parseRasaYaml(text: string, file: string): ParsedDataFile {
  return parseRasaYamlDocument(text, file).file
}

/** `parseRasaYaml` plus the YAML document it walked (absent on a YAML error), for in-place editing. */
export function parseRasaYamlDocument(text: string, file: string): { file: ParsedDataFile; yaml?: ParsedYaml } {
  let parsed: ParsedYaml
  try {
    parsed = parseYaml(text, file)
  } catch (err) {
    const out = emptyParsedFile()
    out.diagnostics.push(diagnosticFromError(err, file))
    return { file: out }
  }
  return { file: new Walker(parsed, text).run(), yaml: parsed }
}

// ── writing ──────────────────────────────────────────────────────────────────

export interface FormatYamlOptions {
  /**
   * Directory (relative to the project root, `/`-separated) the file is written to, so lookup tables read from
   * files are referenced by a path relative to it. Without it, lookup elements are written inline.
   */
  dir?: string
}

/** The examples of one intent as it appears in a file. */
export interface IntentBlock {
  intent: string
  metadata?: Record<string, unknown>
  examples: Example[]
}

/** Render training data as a complete Rasa NLU YAML file. */
export function formatRasaYaml(data: TrainingData, options: FormatYamlOptions = {}): string {
  const items = nluItems(data, options).map((lines) => lines.join('\n'))
  return `version: "3.1"\nnlu:\n${items.join('\n\n')}${items.length ? '\n' : ''}`
}

/** Every `nlu` item of `data`, each as lines starting at column 0 with "- ". */
export function nluItems(data: TrainingData, options: FormatYamlOptions = {}): string[][] {
  const items: string[][] = []
  for (const block of intentBlocks(data)) items.push(renderIntentBlock(block))
  for (const s of data.synonyms) items.push(renderListBlock('synonym', s.value, s.examples))
  for (const r of data.regexes) items.push(renderListBlock('regex', r.name, r.patterns))
  for (const l of data.lookups) {
    if (l.file !== undefined && options.dir !== undefined) {
      const rel = path.posix.relative(options.dir || '.', l.file)
      items.push([`- lookup: ${scalar(l.name)}`, `  examples: ${scalar(rel)}`])
    } else items.push(renderListBlock('lookup', l.name, l.elements))
  }
  return items
}

/** Group examples by intent, in the order intents are declared (then first seen). */
export function intentBlocks(data: TrainingData): IntentBlock[] {
  const blocks = new Map<string, IntentBlock>()
  for (const i of data.intents) {
    blocks.set(i.name, { intent: i.name, examples: [], ...(i.metadata ? { metadata: i.metadata } : {}) })
  }
  for (const ex of data.examples) {
    let b = blocks.get(ex.intent)
    if (!b) {
      b = { intent: ex.intent, examples: [] }
      blocks.set(ex.intent, b)
    }
    b.examples.push(ex)
  }
  return [...blocks.values()]
}

/** A YAML scalar on one line, quoted only when it has to be. */
export function scalar(value: string): string {
  return stringify(value, { lineWidth: 0, blockQuote: false }).trimEnd()
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n')
}

/** Whether an example can be one `- line` of an `examples: |` block and read back identically. */
export function fitsBlockLine(ex: Example): boolean {
  if (ex.fields || ex.metadata) return false
  const line = formatAnnotatedText(ex.text, ex.entities, ex.source)
  if (line.includes('\n') || line !== line.trim() || line === '') return false
  const back = parseAnnotatedText(line)
  if (
    back.issues.some((i) => i.severity !== 'warning') ||
    back.text !== ex.text ||
    back.entities.length !== ex.entities.length
  )
    return false
  return back.entities.every((e, i) => sameAnnotation(e, ex.entities[i]!))
}

/** The lines of one example inside an `examples: |` block, without indentation. */
export function exampleLine(ex: Example): string {
  return `- ${formatAnnotatedText(ex.text, ex.entities, ex.source)}`
}

/** Render one example as a list item (`- text: ...` / `- fields: ...`), without indentation. */
export function exampleListItem(ex: Example): string {
  const obj: Record<string, unknown> = {}
  if (ex.fields) {
    const fields: Record<string, string> = {}
    for (const [k, v] of Object.entries(ex.fields)) {
      fields[k] = formatAnnotatedText(
        v,
        ex.entities.filter((e) => e.field === k),
        ex.source,
      )
    }
    obj.fields = fields
  } else obj.text = formatAnnotatedText(ex.text, ex.entities, ex.source)
  if (ex.metadata) obj.metadata = ex.metadata
  return stringify([obj], { lineWidth: 0 }).trimEnd()
}

/** One `- intent:` item as lines at column 0: a `|` block when every example fits on a line, else the list form. */
export function renderIntentBlock(block: IntentBlock): string[] {
  const lines = [`- intent: ${scalar(block.intent)}`]
  if (block.metadata) lines.push('  metadata:', indent(stringify(block.metadata, { lineWidth: 0 }).trimEnd(), '    '))
  if (block.examples.length === 0) {
    lines.push('  examples: |')
    return lines
  }
  if (block.examples.every(fitsBlockLine)) {
    lines.push('  examples: |')
    for (const ex of block.examples) lines.push(`    ${exampleLine(ex)}`)
  } else {
    lines.push('  examples:')
    for (const ex of block.examples) lines.push(indent(exampleListItem(ex), '  '))
  }
  return lines
}

function renderListBlock(kind: 'synonym' | 'regex' | 'lookup', name: string, entries: string[]): string[] {
  return [`- ${kind}: ${scalar(name)}`, '  examples: |', ...entries.map((e) => `    - ${e}`)]
}
