/**
 * Load training data from files or directories, in any supported format, merged into one training set. The
 * detailed loader collects every problem of every file as a diagnostic; `loadTrainingData` throws the first.
 * @module
 */
import path from 'node:path'
import { isIntentopsError } from '../errors.js'
import {
  type Diagnostic,
  diagnosticFromError,
  diagnosticToError,
  errorDiagnostic,
  warningDiagnostic,
} from './diagnostics.js'
import { DATA_FORMATS, type DataFormat, detectFormat } from './formats/index.js'
import type { ParsedDataFile } from './formats/parsed-file.js'
import { type DataSource, fsSource } from './source.js'
import { emptyTrainingData, type SourceRef, type TrainingData } from './types.js'

export interface LoadOptions {
  /**
   * Project root: relative paths resolve against it and nothing outside it may be read. Default: the cwd, or,
   * when `paths` has absolute paths, the deepest directory that holds all of them (and the cwd for relative ones).
   */
  root?: string
  /** Read from here instead of the working tree under `root` (e.g. a git revision). */
  source?: DataSource
  /** Called after each file, for progress bars. */
  onProgress?: (done: number, total: number) => void
}

export interface LoadedFile {
  /** Root-relative path with `/` separators. */
  file: string
  format: DataFormat | undefined
  /** Whether the file held NLU data (domain, story and rule files do not). */
  isNlu: boolean
  examples: number
}

export interface LoadResult {
  data: TrainingData
  /** Every problem found while reading and parsing, in file order. */
  diagnostics: Diagnostic[]
  files: LoadedFile[]
}

/** Load and merge every supported file under `paths`; throws the first loading error. */
export async function loadTrainingData(paths: string[], options: LoadOptions = {}): Promise<TrainingData> {
  const res = await loadTrainingDataDetailed(paths, options)
  const first = res.diagnostics.find((d) => d.severity === 'error')
  if (first) throw diagnosticToError(first)
  return res.data
}

/** Load and merge every supported file under `paths`, collecting every problem instead of stopping. */
export async function loadTrainingDataDetailed(paths: string[], options: LoadOptions = {}): Promise<LoadResult> {
  const source = options.source ?? fsSource(options.root ?? defaultRoot(paths))
  const diagnostics: Diagnostic[] = []
  const fileSet: string[] = []
  for (const p of paths) {
    try {
      const listed = await source.list(p)
      if (listed.length === 0) {
        diagnostics.push(errorDiagnostic('ERR_DATA_NO_FILES', { path: p }, { file: p }))
      }
      for (const f of listed) if (!fileSet.includes(f)) fileSet.push(f)
    } catch (err) {
      diagnostics.push(diagnosticFromError(err, p))
    }
  }
  const parts: ParsedDataFile[] = []
  const files: LoadedFile[] = []
  let done = 0
  for (const file of fileSet) {
    const part = await loadFile(source, file)
    diagnostics.push(...part.parsed.diagnostics)
    parts.push(part.parsed)
    files.push({ file, format: part.format, isNlu: part.parsed.isNlu, examples: part.parsed.data.examples.length })
    options.onProgress?.(++done, fileSet.length)
  }
  return { data: mergeTrainingData(parts.map((p) => p.data)), diagnostics, files }
}

/** The deepest directory holding every path (absolute ones by their parent directory) and the cwd if needed. */
export function defaultRoot(paths: readonly string[]): string {
  const cwd = process.cwd()
  const dirs = paths.map((p) => (path.isAbsolute(p) ? path.dirname(path.resolve(p)) : cwd))
  if (dirs.length === 0) return cwd
  let common = dirs[0]!.split(path.sep)
  for (const d of dirs.slice(1)) {
    const parts = d.split(path.sep)
    let k = 0
    while (k < common.length && k < parts.length && common[k] === parts[k]) k++
    common = common.slice(0, k)
  }
  return common.join(path.sep) || path.sep
}

/** Read and parse one root-relative file, including the lookup files it names. */
export async function loadFile(
  source: DataSource,
  file: string,
): Promise<{ parsed: ParsedDataFile; format: DataFormat | undefined }> {
  let text: string
  try {
    text = await source.read(file)
  } catch (err) {
    return { parsed: failed(diagnosticFromError(err, file)), format: undefined }
  }
  const detected: ReturnType<typeof detectFormat> =
    text.trim() === '' ? { reason: 'the file is empty' } : detectFormat(file, text)
  if (!('format' in detected)) {
    const parsed = failed(
      warningDiagnostic('WARN_DATA_IGNORED_FILE', { path: file, reason: detected.reason }, { file }),
    )
    parsed.isNlu = false
    return { parsed, format: undefined }
  }
  const parsed = DATA_FORMATS[detected.format].parse(text, file)
  for (const ref of parsed.lookupFiles) await readLookupFile(source, file, ref, parsed.diagnostics)
  return { parsed, format: detected.format }
}

function failed(d: Diagnostic): ParsedDataFile {
  return { data: emptyTrainingData(), diagnostics: [d], lookupFiles: [], isNlu: true }
}

async function readLookupFile(
  source: DataSource,
  dataFile: string,
  ref: ParsedDataFile['lookupFiles'][number],
  diags: Diagnostic[],
): Promise<void> {
  const rel = path.posix.normalize(path.posix.join(path.posix.dirname(dataFile), ref.path.replace(/\\/g, '/')))
  if (rel.startsWith('../') || rel === '..' || path.posix.isAbsolute(ref.path) || path.win32.isAbsolute(ref.path)) {
    diags.push(errorDiagnostic('ERR_PATH_OUTSIDE_PROJECT', { path: ref.path, root: source.root }, ref.location))
    return
  }
  let text: string
  try {
    text = await source.read(rel)
  } catch (err) {
    if (isIntentopsError(err) && err.code === 'ERR_FILE_NOT_FOUND') {
      diags.push(errorDiagnostic('ERR_DATA_LOOKUP_NOT_FOUND', { name: ref.lookup.name, path: ref.path }, ref.location))
    } else {
      const d = diagnosticFromError(err, rel)
      diags.push({ ...d, location: ref.location, message: `lookup ${ref.lookup.name}: ${d.message}` })
    }
    return
  }
  ref.lookup.file = rel
  const elements: string[] = []
  const sources: SourceRef[] = []
  text.split('\n').forEach((raw, i) => {
    let t = raw.trim()
    if (t === '' || t.startsWith('#')) return
    if (t.startsWith('- ')) t = t.slice(2).trim()
    elements.push(t)
    sources.push({ file: rel, line: i + 1, column: raw.indexOf(t) + 1 })
  })
  ref.lookup.elements = elements
  ref.lookup.sources = sources
}

/**
 * Merge parts into one training set: intents by name (metadata merged, first source kept), examples in order,
 * synonyms by value, regexes and lookups by name.
 */
export function mergeTrainingData(parts: readonly TrainingData[]): TrainingData {
  const out = emptyTrainingData()
  const intents = new Map<string, TrainingData['intents'][number]>()
  const synonyms = new Map<string, TrainingData['synonyms'][number]>()
  const regexes = new Map<string, TrainingData['regexes'][number]>()
  const lookups = new Map<string, TrainingData['lookups'][number]>()
  for (const part of parts) {
    for (const i of part.intents) {
      const prev = intents.get(i.name)
      if (!prev) {
        const copy = { ...i }
        intents.set(i.name, copy)
        out.intents.push(copy)
      } else if (i.metadata) prev.metadata = { ...(prev.metadata ?? {}), ...i.metadata }
    }
    for (const ex of part.examples) {
      out.examples.push(ex)
      if (!intents.has(ex.intent)) {
        const info = { name: ex.intent, ...(ex.source ? { source: ex.source } : {}) }
        intents.set(ex.intent, info)
        out.intents.push(info)
      }
    }
    mergeLists(part.synonyms, synonyms, out.synonyms, (s) => s.value, 'examples')
    mergeLists(part.regexes, regexes, out.regexes, (r) => r.name, 'patterns')
    mergeLists(part.lookups, lookups, out.lookups, (l) => l.name, 'elements')
  }
  return out
}

function mergeLists<T extends { source?: SourceRef; sources?: SourceRef[]; file?: string }, K extends keyof T>(
  items: readonly T[],
  byKey: Map<string, T>,
  out: T[],
  key: (t: T) => string,
  listKey: K,
): void {
  for (const item of items) {
    const k = key(item)
    const prev = byKey.get(k)
    if (!prev) {
      const copy = {
        ...item,
        [listKey]: [...(item[listKey] as unknown as string[])],
        ...(item.sources ? { sources: [...item.sources] } : {}),
      }
      byKey.set(k, copy)
      out.push(copy)
      continue
    }
    const prevList = prev[listKey] as unknown as string[]
    const list = item[listKey] as unknown as string[]
    const prevSources = prev.sources ?? prevList.map(() => prev.source ?? { file: '' })
    prevList.push(...list)
    prev.sources = [...prevSources, ...(item.sources ?? list.map(() => item.source ?? { file: '' }))]
    delete prev.file
  }
}
