/**
 * Benchmark datasets: a directory with `train.jsonl` and `test.jsonl` (and optionally `valid.jsonl`), one
 * `{"text", "intent", "entities"?}` object a line. Every line is validated here, once, with its position, so the
 * peers can read the files without checks of their own.
 * @module
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { EntityAnnotation } from '../../src/data/types.js'
import { createError, isIntentopsError } from '../../src/errors.js'
import { pathExists, readTextFile } from '../../src/util/fs.js'

export interface BenchExample {
  text: string
  intent: string
  /** Present when the line has an `entities` array. */
  entities?: EntityAnnotation[]
}

export interface BenchSplit {
  file: string
  examples: BenchExample[]
  /** Whether any line of the split carries an `entities` array (possibly empty). */
  hasEntities: boolean
}

export interface BenchDataset {
  /** The directory's base name, e.g. `clinc150`. */
  name: string
  dir: string
  train: BenchSplit
  valid: BenchSplit | null
  test: BenchSplit
  /** The out-of-scope label when the test split uses it, else null. */
  oosLabel: string | null
}

const MAX_SPLIT_BYTES = 500 * 1024 * 1024

/**
 * `$INTENTOPS_BENCH_DATASETS`, else the nearest `shared/datasets` directory at or above `from` (the repository),
 * else `shared/datasets` under `from`, which a caller then finds missing.
 */
export function sharedDatasets(from: string): string {
  const env = process.env.INTENTOPS_BENCH_DATASETS
  if (env) return path.resolve(env)
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'datasets')
    if (existsSync(candidate)) return candidate
    if (path.dirname(dir) === dir) return path.join(path.resolve(from), 'shared', 'datasets')
  }
}

/** Read and validate a dataset directory. `oosLabel` is the label that marks out-of-scope messages (`oos`). */
export async function readDataset(dir: string, options: { oosLabel: string }): Promise<BenchDataset> {
  const abs = path.resolve(dir)
  const train = await readRequiredSplit(path.join(abs, 'train.jsonl'))
  const test = await readRequiredSplit(path.join(abs, 'test.jsonl'))
  const validFile = path.join(abs, 'valid.jsonl')
  const valid = (await pathExists(validFile)) ? await readSplit(validFile) : null
  if (train.examples.length === 0) throw emptySplit(train.file)
  if (test.examples.length === 0) throw emptySplit(test.file)
  if (valid && valid.examples.length === 0) throw emptySplit(valid.file)
  const hasOos = test.examples.some((e) => e.intent === options.oosLabel)
  return { name: path.basename(abs), dir: abs, train, valid, test, oosLabel: hasOos ? options.oosLabel : null }
}

async function readRequiredSplit(file: string): Promise<BenchSplit> {
  if (!(await pathExists(file))) {
    throw createError(
      'ERR_FILE_NOT_FOUND',
      { path: file },
      { hint: 'A benchmark dataset is a directory with train.jsonl and test.jsonl (and optionally valid.jsonl).' },
    )
  }
  return readSplit(file)
}

function emptySplit(file: string) {
  return createError('ERR_INVALID_ARGUMENT', {
    detail: `${file} has no examples; a benchmark split needs at least one {"text", "intent"} line`,
  })
}

/** Read one JSONL split; every problem is reported with `file:line:column`. */
export async function readSplit(file: string): Promise<BenchSplit> {
  const text = await readTextFile(file, { maxBytes: MAX_SPLIT_BYTES })
  return parseSplit(text, file)
}

/** Parse the text of one JSONL split (exported for tests). */
export function parseSplit(text: string, file: string): BenchSplit {
  const examples: BenchExample[] = []
  let hasEntities = false
  for (const { row: r, fail } of jsonlObjects(text, file, SPLIT_LINE)) {
    if (typeof r.text !== 'string') throw fail('`text` must be a string')
    if (typeof r.intent !== 'string' || r.intent === '') throw fail('`intent` must be a non-empty string')
    const example: BenchExample = { text: r.text, intent: r.intent }
    if (r.entities !== undefined) {
      hasEntities = true
      example.entities = parseEntities(r.entities, r.text, fail)
    }
    examples.push(example)
  }
  return { file, examples, hasEntities }
}

/**
 * Messages to send or log, one `{"text": ...}` a line (other keys ignored, so a dataset split will do). A bad file
 * ends the bench script with its file:line:column and exit code 2, as a bad flag does.
 */
export async function readTexts(file: string): Promise<string[]> {
  try {
    return parseTexts(await readTextFile(file, { maxBytes: MAX_SPLIT_BYTES }), file)
  } catch (err) {
    if (!isIntentopsError(err)) throw err
    process.stderr.write(`--texts: error ${err.code}: ${err.describe()}\n${err.hint ? `  ${err.hint}\n` : ''}`)
    process.exit(2)
  }
}

/** Parse the text of a JSONL file of messages (exported for tests). */
export function parseTexts(text: string, file: string): string[] {
  const texts: string[] = []
  for (const { row, fail } of jsonlObjects(text, file, '{"text": "..."}')) {
    if (typeof row.text !== 'string') throw fail('`text` must be a string')
    texts.push(row.text)
  }
  if (texts.length === 0) {
    throw createError(
      'ERR_INVALID_ARGUMENT',
      { detail: 'no messages; each line must be {"text": "..."}' },
      {
        location: { file },
      },
    )
  }
  return texts
}

const SPLIT_LINE = '{"text": "...", "intent": "...", "entities"?: [...]}'

/** Each non-blank line's object, with a `fail` that names its file, line and column and the shape expected. */
function* jsonlObjects(text: string, file: string, shape: string) {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!
    if (raw.trim() === '') continue
    const line = i + 1
    const fail = (detail: string, column = 1) =>
      createError(
        'ERR_INVALID_ARGUMENT',
        { detail: `${detail}; each line must be ${shape}` },
        { location: { file, line, column } },
      )
    let row: unknown
    try {
      row = JSON.parse(raw)
    } catch (err) {
      const message = (err as Error).message
      const at = /position (\d+)/.exec(message)
      throw fail(`invalid JSON: ${message}`, at ? Number(at[1]) + 1 : 1)
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw fail('the line is not a JSON object')
    yield { row: row as Record<string, unknown>, fail }
  }
}

function parseEntities(value: unknown, text: string, fail: (detail: string) => Error): EntityAnnotation[] {
  if (!Array.isArray(value)) throw fail('`entities` must be an array')
  return value.map((e: unknown, k) => {
    if (e === null || typeof e !== 'object') throw fail(`entities[${k}] must be an object`)
    const ent = e as Record<string, unknown>
    const { start, end } = ent
    if (!Number.isInteger(start) || !Number.isInteger(end)) {
      throw fail(`entities[${k}] needs integer \`start\` and \`end\``)
    }
    const s = start as number
    const t = end as number
    if (s < 0 || t <= s || t > text.length) {
      throw fail(`entities[${k}] span ${s}..${t} is not inside the ${text.length}-character text`)
    }
    if (typeof ent.entity !== 'string' || ent.entity === '') {
      throw fail(`entities[${k}] needs a non-empty string \`entity\``)
    }
    if (ent.value !== undefined && typeof ent.value !== 'string') {
      throw fail(`entities[${k}].value must be a string`)
    }
    const out: EntityAnnotation = {
      start: s,
      end: t,
      entity: ent.entity,
      value: typeof ent.value === 'string' ? ent.value : text.slice(s, t),
    }
    if (typeof ent.role === 'string') out.role = ent.role
    if (typeof ent.group === 'string') out.group = ent.group
    return out
  })
}
