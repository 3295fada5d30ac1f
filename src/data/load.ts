/**
 * Load training data from files or directories, in any supported format, merged into one training set.
 * @module
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { createError } from '../errors.js'
import { readTextFile } from '../util/fs.js'
import { type Example, emptyTrainingData, type TrainingData } from './types.js'

export interface LoadOptions {
  /** Project root: relative paths resolve against it and nothing outside it may be read. */
  root?: string
}

/** Load and merge every supported file under `paths` (files or directories, recursively). */
export async function loadTrainingData(paths: string[], options: LoadOptions = {}): Promise<TrainingData> {
  const root = options.root ?? process.cwd()
  const data = emptyTrainingData()
  for (const p of paths) {
    for (const file of await listDataFiles(path.resolve(root, p))) {
      const part = await loadFile(file)
      data.examples.push(...part.examples)
    }
  }
  const seen = new Set<string>()
  for (const ex of data.examples) {
    if (!seen.has(ex.intent)) {
      seen.add(ex.intent)
      data.intents.push({ name: ex.intent })
    }
  }
  return data
}

async function listDataFiles(p: string): Promise<string[]> {
  let stat: import('node:fs').Stats
  try {
    stat = await fsp.stat(p)
  } catch (err) {
    throw createError('ERR_FILE_NOT_FOUND', { path: p }, { cause: err })
  }
  if (!stat.isDirectory()) return [p]
  const entries = await fsp.readdir(p, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && /\.(jsonl)$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
}

async function loadFile(file: string): Promise<TrainingData> {
  const text = await readTextFile(file, { maxBytes: 200 * 1024 * 1024 })
  const data = emptyTrainingData()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line) continue
    let row: { text?: unknown; intent?: unknown }
    try {
      row = JSON.parse(line)
    } catch (err) {
      throw createError(
        'ERR_INVALID_ARGUMENT',
        { detail: `invalid JSON: ${(err as Error).message}` },
        {
          location: { file, line: i + 1, column: 1 },
        },
      )
    }
    if (typeof row.text !== 'string' || typeof row.intent !== 'string') {
      throw createError(
        'ERR_INVALID_ARGUMENT',
        { detail: 'each line needs string `text` and `intent`' },
        {
          location: { file, line: i + 1, column: 1 },
        },
      )
    }
    const ex: Example = { text: row.text, intent: row.intent, entities: [], source: { file, line: i + 1 } }
    data.examples.push(ex)
  }
  return data
}
