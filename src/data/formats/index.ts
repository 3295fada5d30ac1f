/**
 * The training-data formats intentops reads and writes, looked up by name through one frozen map.
 * @module
 */
import path from 'node:path'
import type { TrainingData } from '../types.js'
import { formatCsv, parseCsv } from './csv.js'
import { formatJsonl, parseJsonl } from './jsonl.js'
import { formatNlpjs, parseNlpjs } from './nlpjs.js'
import type { ParsedDataFile } from './parsed-file.js'
import { formatRasaJson, parseRasaJson } from './rasa-json.js'
import { formatRasaYaml, parseRasaYaml } from './rasa-yaml.js'

/** Names of the training-data formats. */
export type DataFormat = 'yaml' | 'rasa-json' | 'nlpjs' | 'csv' | 'jsonl'

export interface FormatOptions {
  /** Directory of the target file relative to the project root, for lookup file references (YAML only). */
  dir?: string
  /** NLP.js corpus locale (default `en-US`). */
  locale?: string
  /** NLP.js corpus name. */
  name?: string
}

export interface FormatSpec {
  /** File extension written by default. */
  extension: string
  /** What the format cannot hold, for a warning on conversion. */
  lossy: ReadonlyArray<'synonyms' | 'regexes' | 'lookups' | 'metadata' | 'intent metadata' | 'fields' | 'entities'>
  parse(text: string, file: string): ParsedDataFile
  format(data: TrainingData, options?: FormatOptions): string
}

/** Every format by name: how to parse it, render it, and what it cannot hold. */
export const DATA_FORMATS: Readonly<Record<DataFormat, FormatSpec>> = Object.freeze({
  yaml: { extension: '.yml', lossy: [], parse: parseRasaYaml, format: formatRasaYaml },
  'rasa-json': { extension: '.json', lossy: ['intent metadata'], parse: parseRasaJson, format: formatRasaJson },
  nlpjs: {
    extension: '.json',
    // a corpus marks entities only as @name placeholders that replace the words, so annotated spans cannot be kept
    lossy: ['metadata', 'intent metadata', 'fields', 'entities'],
    parse: parseNlpjs,
    format: formatNlpjs,
  },
  csv: {
    extension: '.csv',
    lossy: ['synonyms', 'regexes', 'lookups', 'intent metadata'],
    parse: parseCsv,
    format: formatCsv,
  },
  jsonl: {
    extension: '.jsonl',
    lossy: ['synonyms', 'regexes', 'lookups', 'intent metadata'],
    parse: parseJsonl,
    format: formatJsonl,
  },
})

/** The format names, for usage messages. */
export const DATA_FORMAT_NAMES = Object.keys(DATA_FORMATS) as DataFormat[]

/** File extensions a directory walk picks up as training data. */
export const DATA_EXTENSIONS: ReadonlySet<string> = new Set(['.yml', '.yaml', '.json', '.csv', '.jsonl', '.ndjson'])

/** Whether a name is one of `DATA_FORMATS`. */
export function isDataFormat(name: string): name is DataFormat {
  return Object.hasOwn(DATA_FORMATS, name)
}

/**
 * The format of a file from its extension and, for `.json`, its content. Returns a reason instead when the file is
 * not training data.
 */
export function detectFormat(file: string, text?: string): { format: DataFormat } | { reason: string } {
  const ext = path.extname(file).toLowerCase()
  if (ext === '.yml' || ext === '.yaml') return { format: 'yaml' }
  if (ext === '.csv') return { format: 'csv' }
  if (ext === '.jsonl' || ext === '.ndjson') return { format: 'jsonl' }
  if (ext === '.json') {
    if (text === undefined) return { format: 'rasa-json' }
    if (/"rasa_nlu_data"\s*:/.test(text)) return { format: 'rasa-json' }
    if (/"utterances"\s*:/.test(text) && /"data"\s*:/.test(text)) return { format: 'nlpjs' }
    return { reason: 'a .json file that is neither Rasa JSON ("rasa_nlu_data") nor an NLP.js corpus ("data")' }
  }
  return { reason: `unknown extension "${ext || '(none)'}"` }
}

/** Format name for a target file name, by extension (`.json` means Rasa JSON). */
export function formatForPath(file: string): DataFormat | undefined {
  const d = detectFormat(file)
  return 'format' in d ? d.format : undefined
}

export type { ParsedDataFile }
