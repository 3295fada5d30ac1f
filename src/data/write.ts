/**
 * Writing training data. Existing YAML files are edited in place, block by block: a block whose content did not
 * change keeps its bytes (comments, quoting, spacing); new examples are appended as lines to the intent's block;
 * removed examples lose only their own line. Other formats are rewritten whole when their content changed.
 * @module
 */
import path from 'node:path'
import { isMap, isScalar, isSeq, type Node, type Scalar } from 'yaml'
import { createError, isIntentopsError } from '../errors.js'
import { type FileAttributes, writeFileAtomic } from '../util/fs.js'
import { diagnosticToError } from './diagnostics.js'
import { canonicalExample, fingerprintTrainingData } from './fingerprint.js'
import { DATA_FORMATS, type DataFormat, type FormatOptions, formatForPath } from './formats/index.js'
import type { ParsedDataFile } from './formats/parsed-file.js'
import {
  exampleLine,
  fitsBlockLine,
  intentBlocks,
  nluItems,
  parseRasaYaml,
  parseRasaYamlDocument,
  renderIntentBlock,
  scalar,
} from './formats/rasa-yaml.js'
import { loadFile } from './load.js'
import { type NameKind, nameHint, nameProblem } from './names.js'
import { type DataSource, fsSource, toRootRelative } from './source.js'
import { type Example, emptyTrainingData, type MessageInput, type TrainingData } from './types.js'

/** Render training data in a format. */
export function formatTrainingData(data: TrainingData, format: DataFormat, options: FormatOptions = {}): string {
  return DATA_FORMATS[format].format(data, options)
}

interface TextEdit {
  start: number
  end: number
  text: string
}

function applyEdits(text: string, edits: TextEdit[]): string {
  let out = text
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end)
  }
  return out
}

type Kind = 'intent' | 'synonym' | 'regex' | 'lookup'

interface FileBlock {
  kind: Kind
  name: string
  /** Offset of the start of the line holding "- ". */
  start: number
  /** Offset just past the block. */
  end: number
  /** Column (0-based) of the "-" that opens the block. */
  indent: number
  examplesNode: Node | null
  metadata: unknown
  examples: Example[]
  entries: string[]
  /** For lookups that read a file: the path as written. */
  lookupPath?: string
}

interface FileModel {
  text: string
  blocks: FileBlock[]
  /** Where new items go (end of the nlu list), and their indentation; undefined when there is no `nlu:` list. */
  appendAt?: number
  itemIndent: number
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1
}

function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset)
  return i === -1 ? text.length : i + 1
}

/** 1-based line of an offset, by binary search over the line starts. */
function lineAt(offsets: readonly number[], offset: number): number {
  let lo = 0
  let hi = offsets.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (offsets[mid]! <= offset) lo = mid
    else hi = mid - 1
  }
  return lo + 1
}

/** Offsets of the start of each line (1-based line numbers index into it with line - 1). */
function lineOffsets(text: string): number[] {
  const out = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) out.push(i + 1)
  return out
}

/** Model an existing Rasa YAML file for editing; throws the first parse error (the file must be valid to edit). */
function modelFile(text: string, file: string): FileModel & { parsed: ParsedDataFile } {
  const both = parseRasaYamlDocument(text, file)
  const parsed = both.file
  const firstError = parsed.diagnostics.find((d) => d.severity === 'error')
  if (firstError) throw diagnosticToError(firstError)
  const root = both.yaml!.doc.contents
  const model: FileModel & { parsed: ParsedDataFile } = { text, blocks: [], itemIndent: 0, parsed }
  if (!isMap(root)) return model
  const nluPair = root.items.find((p) => isScalar(p.key) && p.key.value === 'nlu')
  if (!nluPair || !isSeq(nluPair.value)) return model
  const seq = nluPair.value
  const offsets = lineOffsets(text)
  for (const item of seq.items) {
    if (!isMap(item) || !item.range) continue
    const kind = (['intent', 'synonym', 'regex', 'lookup'] as const).find((k) =>
      item.items.some((p) => isScalar(p.key) && p.key.value === k),
    )!
    const get = (key: string) => item.items.find((p) => isScalar(p.key) && p.key.value === key)?.value as Node | null
    const nameNode = get(kind)
    const start = lineStart(text, item.range[0])
    const block: FileBlock = {
      kind,
      name: String((nameNode as Scalar).value).trim(),
      start,
      end: item.range[2],
      indent: item.range[0] - start - 2,
      examplesNode: get('examples') ?? null,
      metadata: get('metadata')?.toJSON(),
      examples: [],
      entries: [],
    }
    const en = block.examplesNode
    if (kind === 'lookup' && isScalar(en) && typeof en.value === 'string' && !en.value.includes('\n')) {
      block.lookupPath = en.value.trim()
    }
    model.blocks.push(block)
  }
  // Blocks are in file order: find an example's block by binary search on the blocks' first lines.
  const startLines = model.blocks.map((b) => lineAt(offsets, b.start))
  const blockAt = (line: number) => {
    let lo = 0
    let hi = model.blocks.length - 1
    if (hi < 0 || line < startLines[0]!) return undefined
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (startLines[mid]! <= line) lo = mid
      else hi = mid - 1
    }
    const b = model.blocks[lo]!
    return offsets[line - 1]! < b.end ? b : undefined
  }
  for (const ex of parsed.data.examples) {
    const b = blockAt(ex.source?.line ?? 0)
    if (b) b.examples.push(ex)
  }
  const byLine = <T extends { source?: { line?: number } }>(xs: T[]) => new Map(xs.map((x) => [x.source?.line, x]))
  const synonyms = byLine(parsed.data.synonyms)
  const regexes = byLine(parsed.data.regexes)
  const lookups = byLine(parsed.data.lookups)
  model.blocks.forEach((b, i) => {
    const line = startLines[i]
    if (b.kind === 'synonym') b.entries = synonyms.get(line)?.examples ?? []
    if (b.kind === 'regex') b.entries = regexes.get(line)?.patterns ?? []
    if (b.kind === 'lookup' && b.lookupPath === undefined) b.entries = lookups.get(line)?.elements ?? []
  })
  const first = seq.items[0]
  if (first && isMap(first) && first.range) model.itemIndent = first.range[0] - lineStart(text, first.range[0]) - 2
  model.appendAt = seq.range ? seq.range[2] : text.length
  return model
}

function reindent(lines: string[], by: number): string {
  const pad = ' '.repeat(Math.max(0, by))
  return lines
    .join('\n')
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n')
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
}

/**
 * Edit the text of a Rasa YAML file so it holds exactly `desired`, keeping the bytes of every block whose content
 * is unchanged. `dir` is the file's root-relative directory, for lookup file references.
 */
export function updateRasaYaml(text: string, file: string, desired: TrainingData, dir?: string): string {
  return editModel(modelFile(text, file), desired, dir)
}

function editModel(model: FileModel, desired: TrainingData, dir?: string): string {
  const text = model.text
  const offsets = lineOffsets(text)
  if (model.appendAt === undefined) {
    const base = text.trim() === '' ? '' : `${text}${text.endsWith('\n') ? '' : '\n'}`
    const fresh = DATA_FORMATS.yaml.format(desired, dir === undefined ? {} : { dir })
    return base === '' ? fresh : `${base}${fresh.replace(/^version: "3.1"\n/, '')}`
  }
  const edits: TextEdit[] = []
  const wanted = new Map(intentBlocks(desired).map((b) => [b.intent, b]))
  const remaining = new Map<string, Map<string, Example[]>>()
  for (const [intent, b] of wanted) {
    const m = new Map<string, Example[]>()
    for (const ex of b.examples) {
      const k = canonicalExample(ex)
      const list = m.get(k)
      if (list) list.push(ex)
      else m.set(k, [ex])
    }
    remaining.set(intent, m)
  }
  const lastBlockOf = new Map<string, FileBlock>()
  for (const b of model.blocks) if (b.kind === 'intent' && wanted.has(b.name)) lastBlockOf.set(b.name, b)
  const appendItems: string[][] = []
  const handled = { synonym: new Set<string>(), regex: new Set<string>(), lookup: new Set<string>() }

  for (const b of model.blocks) {
    if (b.kind !== 'intent') {
      const want =
        b.kind === 'synonym'
          ? desired.synonyms.find((s) => s.value === b.name)?.examples
          : b.kind === 'regex'
            ? desired.regexes.find((r) => r.name === b.name)?.patterns
            : desired.lookups.find((l) => l.name === b.name)
      if (want === undefined || handled[b.kind].has(b.name)) {
        edits.push({ start: b.start, end: b.end, text: '' })
        continue
      }
      handled[b.kind].add(b.name)
      if (b.kind === 'lookup') {
        const l = want as TrainingData['lookups'][number]
        if (b.lookupPath !== undefined && l.file !== undefined) continue
        if (b.lookupPath === undefined && sameJson(b.entries, l.elements)) continue
      } else if (sameJson(b.entries, want)) continue
      const one = emptyTrainingData()
      if (b.kind === 'synonym') one.synonyms.push({ value: b.name, examples: want as string[] })
      if (b.kind === 'regex') one.regexes.push({ name: b.name, patterns: want as string[] })
      if (b.kind === 'lookup') one.lookups.push(want as TrainingData['lookups'][number])
      const lines = nluItems(one, dir === undefined ? {} : { dir })[0]!
      edits.push({ start: b.start, end: b.end, text: `${reindent(lines, b.indent)}\n` })
      continue
    }
    const want = wanted.get(b.name)
    const rem = remaining.get(b.name)
    if (!want || !rem) {
      edits.push({ start: b.start, end: b.end, text: '' })
      continue
    }
    const kept: Example[] = []
    const removed: Example[] = []
    for (const ex of b.examples) {
      const list = rem.get(canonicalExample(ex))
      if (list?.length) {
        list.shift()
        kept.push(ex)
      } else removed.push(ex)
    }
    const isLast = lastBlockOf.get(b.name) === b
    const added: Example[] = []
    if (isLast) {
      for (const list of rem.values()) added.push(...list.splice(0))
      // keep the desired order for additions
      added.sort((x, y) => want.examples.indexOf(x) - want.examples.indexOf(y))
    }
    const metaChanged = isLast && !sameJson(b.metadata, want.metadata)
    const literal = isScalar(b.examplesNode) && b.examplesNode.type === 'BLOCK_LITERAL'
    if (!removed.length && !added.length && !metaChanged) continue
    if (literal && !metaChanged && added.every(fitsBlockLine) && (kept.length > 0 || !added.length)) {
      for (const ex of removed) {
        const at = offsets[(ex.source?.line ?? 1) - 1]!
        edits.push({ start: at, end: lineEnd(text, at), text: '' })
      }
      if (added.length) {
        const lastLine = b.examples.reduce((m, e) => Math.max(m, e.source?.line ?? 0), 0)
        const lastAt = offsets[lastLine - 1]!
        const src = text.slice(lastAt, lineEnd(text, lastAt))
        const pad = ' '.repeat(src.length - src.trimStart().length)
        const insertAt = lineEnd(text, lastAt)
        const prefix = text[insertAt - 1] === '\n' ? '' : '\n'
        edits.push({
          start: insertAt,
          end: insertAt,
          text: prefix + added.map((ex) => `${pad}${exampleLine(ex)}\n`).join(''),
        })
      }
      continue
    }
    const lines = renderIntentBlock({
      intent: b.name,
      examples: [...kept, ...added],
      ...(isLast && want.metadata
        ? { metadata: want.metadata }
        : !isLast && b.metadata
          ? { metadata: b.metadata as Record<string, unknown> }
          : {}),
    })
    edits.push({ start: b.start, end: b.end, text: `${reindent(lines, b.indent)}\n` })
  }

  // Intents, synonyms, regexes and lookups the file does not have yet go to the end of the nlu list.
  const extra = emptyTrainingData()
  for (const [intent, b] of wanted) {
    if (lastBlockOf.has(intent)) continue
    extra.intents.push({ name: intent, ...(b.metadata ? { metadata: b.metadata } : {}) })
    extra.examples.push(...b.examples)
  }
  extra.synonyms = desired.synonyms.filter((s) => !handled.synonym.has(s.value))
  extra.regexes = desired.regexes.filter((r) => !handled.regex.has(r.name))
  extra.lookups = desired.lookups.filter((l) => !handled.lookup.has(l.name))
  appendItems.push(...nluItems(extra, dir === undefined ? {} : { dir }))
  if (appendItems.length) {
    const at = model.appendAt
    const prefix = at > 0 && text[at - 1] !== '\n' ? '\n' : ''
    edits.push({
      start: at,
      end: at,
      text: `${prefix}${appendItems.map((lines) => `\n${reindent(lines, model.itemIndent)}\n`).join('')}`,
    })
  }
  return applyEdits(text, edits)
}

export interface WriteOptions {
  /** Project root; files are given relative to it. Default: the cwd. */
  root?: string
  /** Force a format instead of choosing by extension. */
  format?: DataFormat
}

/**
 * Write `data` as the whole content of one file. An existing YAML file is edited in place (see `updateRasaYaml`);
 * lookup tables that read a file get that file rewritten when their elements changed.
 * Returns whether anything was written.
 */
export async function writeTrainingDataFile(
  data: TrainingData,
  file: string,
  options: WriteOptions = {},
): Promise<boolean> {
  const root = path.resolve(options.root ?? process.cwd())
  const rel = toRootRelative(root, file)
  const abs = path.join(root, rel)
  const format = options.format ?? formatForPath(rel)
  if (!format) {
    throw createError('ERR_DATA_UNSUPPORTED_FORMAT', { path: rel, detail: 'unknown extension' })
  }
  const source = fsSource(root)
  const dir = path.posix.dirname(rel)
  const existing = await readIfExists(source, rel)
  let next: string
  if (format === 'yaml' && existing !== undefined) next = updateRasaYaml(existing, rel, data, dir)
  else next = formatTrainingData(data, format, { dir })
  let wrote = false
  if (next !== existing) {
    await writeFileAtomic(abs, next, { root })
    wrote = true
  }
  if (format === 'yaml') {
    for (const l of data.lookups) {
      if (l.file === undefined) continue
      const body = l.elements.map((e) => `${e}\n`).join('')
      const current = await readIfExists(source, l.file)
      const currentElements = current
        ?.split('\n')
        .map((x) => x.trim())
        .filter((x) => x && !x.startsWith('#'))
        .map((x) => (x.startsWith('- ') ? x.slice(2).trim() : x))
      if (!sameJson(currentElements, l.elements)) {
        await writeFileAtomic(path.join(root, toRootRelative(root, l.file)), body, { root })
        wrote = true
      }
    }
  }
  return wrote
}

async function readIfExists(source: DataSource, rel: string): Promise<string | undefined> {
  try {
    return await source.read(rel)
  } catch (err) {
    if (isIntentopsError(err) && err.code === 'ERR_FILE_NOT_FOUND') return undefined
    throw err
  }
}

export interface SaveOptions extends WriteOptions {
  /** Where elements without a source file go (root-relative). Default `data/nlu.yml`. */
  defaultFile?: string
  /** Files to rewrite even when no element of `data` comes from them (so removing all their content empties them). */
  files?: string[]
}

/**
 * Write `data` back to the files it came from (by each element's `source.file`); elements without a source go to
 * `defaultFile`. Files whose content is unchanged are not touched. Returns the files written.
 */
export async function saveTrainingData(data: TrainingData, options: SaveOptions = {}): Promise<string[]> {
  const defaultFile = options.defaultFile ?? 'data/nlu.yml'
  const parts = new Map<string, TrainingData>()
  const part = (file: string | undefined) => {
    const f = file && !file.startsWith('(') ? file : defaultFile
    let p = parts.get(f)
    if (!p) {
      p = emptyTrainingData()
      parts.set(f, p)
    }
    return p
  }
  for (const f of options.files ?? []) part(f)
  for (const ex of data.examples) part(ex.source?.file).examples.push(ex)
  for (const i of data.intents) {
    const file = i.source?.file ?? data.examples.find((e) => e.intent === i.name)?.source?.file
    const p = part(file)
    p.intents.push(i)
  }
  const split = <T extends { source?: { file: string }; sources?: Array<{ file: string }> }>(
    items: T[],
    listKey: keyof T,
    put: (p: TrainingData, item: T) => void,
  ) => {
    for (const item of items) {
      const list = item[listKey] as unknown as string[]
      const files = new Map<string, number[]>()
      list.forEach((_, i) => {
        const f = item.sources?.[i]?.file ?? item.source?.file ?? defaultFile
        // lookup elements live in their lookup file; the table itself belongs to the data file
        const owner = f.endsWith('.txt') ? (item.source?.file ?? defaultFile) : f
        const idx = files.get(owner)
        if (idx) idx.push(i)
        else files.set(owner, [i])
      })
      if (files.size <= 1) {
        put(part([...files.keys()][0] ?? item.source?.file), item)
        continue
      }
      for (const [f, idx] of files) {
        put(part(f), { ...item, [listKey]: idx.map((i) => list[i]!), sources: idx.map((i) => item.sources![i]!) })
      }
    }
  }
  split(data.synonyms, 'examples', (p, s) => p.synonyms.push(s))
  split(data.regexes, 'patterns', (p, r) => p.regexes.push(r))
  split(data.lookups, 'elements', (p, l) => p.lookups.push(l))
  const written: string[] = []
  for (const [file, p] of parts) {
    const format = options.format ?? formatForPath(file)
    const intents = new Set(p.examples.map((e) => e.intent))
    p.intents = p.intents.filter((i) => intents.has(i.name) || i.metadata || (i.source?.file ?? defaultFile) === file)
    if (format !== 'yaml') {
      // Whole-file formats: rewrite only when the content differs.
      const source = fsSource(path.resolve(options.root ?? process.cwd()))
      const current = await loadFile(source, file).catch(() => undefined)
      if (current && fingerprintTrainingData(current.parsed.data) === fingerprintTrainingData(p)) continue
    }
    if (await writeTrainingDataFile(p, file, options)) written.push(file)
  }
  return written
}

/** An example to append: annotated text (`book [Paris](city)`), or fields, with optional metadata. */
export type NewExample = string | (MessageInput & { metadata?: Record<string, unknown> })

/**
 * Append examples to an intent in a YAML file, creating the file or the intent block when absent. Existing bytes
 * are kept: the new lines go after the intent's last example. Examples the intent already has in the file are
 * skipped, so appending twice changes nothing. Returns the number of examples appended. A file created here gets
 * the permission bits, owner and group of `newFileLike` when given (see `WriteFileAtomicOptions`), else the umask's.
 */
export async function addExamples(
  file: string,
  intent: string,
  examples: readonly NewExample[],
  options: { root?: string; newFileLike?: FileAttributes } = {},
): Promise<number> {
  const root = path.resolve(options.root ?? process.cwd())
  const rel = toRootRelative(root, file)
  if (formatForPath(rel) !== 'yaml') {
    throw createError('ERR_DATA_UNSUPPORTED_FORMAT', { path: rel, detail: 'addExamples writes YAML files (.yml)' })
  }
  if (!intent.trim()) throw createError('ERR_INVALID_ARGUMENT', { detail: 'intent must be a non-empty name' })
  // a name validation would refuse never reaches a file: the writer checks what its callers should have
  assertName('intent', intent)
  const source = fsSource(root)
  const existing = (await readIfExists(source, rel)) ?? ''
  // one parse serves both the current content and the edit
  const model = modelFile(existing, rel)
  const current = existing.trim() ? model.parsed : undefined
  // Appending is idempotent: an example the intent already has in this file (or earlier in the batch) is skipped.
  const have = new Set((current?.data.examples ?? []).filter((e) => e.intent === intent).map(canonicalExample))
  const parsedNew = toExamples(intent, examples, rel).filter((ex) => {
    const key = canonicalExample(ex)
    if (have.has(key)) return false
    have.add(key)
    return true
  })
  for (const ex of parsedNew) for (const e of ex.entities) assertName('entity', e.entity)
  if (parsedNew.length === 0) return 0
  const data = current?.data ?? emptyTrainingData()
  // lookups that read files: keep the reference as written
  for (const ref of current?.lookupFiles ?? []) {
    ref.lookup.file = path.posix.normalize(path.posix.join(path.posix.dirname(rel), ref.path))
  }
  data.examples.push(...parsedNew)
  if (!data.intents.some((i) => i.name === intent)) data.intents.push({ name: intent })
  const next = editModel(model, data, path.posix.dirname(rel))
  if (next !== existing) {
    await writeFileAtomic(path.join(root, rel), next, {
      root,
      ...(options.newFileLike ? { newFileLike: options.newFileLike } : {}),
    })
  }
  return parsedNew.length
}

function assertName(kind: NameKind, name: string): void {
  const detail = nameProblem(kind, name)
  if (detail !== undefined) throw createError('ERR_DATA_BAD_NAME', { kind, name, detail, advice: nameHint(kind, name) })
}

function toExamples(intent: string, examples: readonly NewExample[], file: string): Example[] {
  const out: Example[] = []
  for (const e of examples) {
    const text = typeof e === 'string' ? e : e.text
    const fields = typeof e === 'string' ? undefined : e.fields
    const metadata = typeof e === 'string' ? undefined : e.metadata
    const body =
      fields !== undefined
        ? `version: "3.1"\nnlu:\n- intent: ${scalar(intent)}\n  examples:\n  - fields: ${JSON.stringify(fields)}\n`
        : `version: "3.1"\nnlu:\n- intent: ${scalar(intent)}\n  examples:\n  - text: ${JSON.stringify((text ?? '').trim())}\n`
    const parsed = parseRasaYaml(body, file)
    const err = parsed.diagnostics.find((d) => d.severity === 'error')
    if (err)
      throw createError('ERR_INVALID_ARGUMENT', { detail: `example ${JSON.stringify(text ?? fields)}: ${err.message}` })
    for (const ex of parsed.data.examples) {
      delete ex.source
      if (metadata) ex.metadata = metadata
      out.push(ex)
    }
  }
  return out
}
