/**
 * CSV with a header row: `text,intent` plus optional `entities` (a JSON list with character offsets) and `metadata`
 * (a JSON object). Other columns are message fields when there is no `text` column, metadata otherwise.
 * @module
 */
import { parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import { type Diagnostic, errorDiagnostic } from '../diagnostics.js'
import type { TrainingData } from '../types.js'
import { entitiesToJson, exampleFromRecord } from './common.js'
import { addIntents } from './jsonl.js'
import { emptyParsedFile, type ParsedDataFile } from './parsed-file.js'

interface CsvRow {
  record: Record<string, string>
  info: { lines: number }
}

/** Parse CSV training data; every problem comes back as a diagnostic with its line. */
export function parseCsv(text: string, file: string): ParsedDataFile {
  const out = emptyParsedFile()
  let rows: CsvRow[]
  try {
    rows = parse(text, { columns: true, info: true, bom: true, skip_empty_lines: true }) as unknown as CsvRow[]
  } catch (err) {
    const e = err as Error & { lines?: number; column?: number }
    out.diagnostics.push(
      errorDiagnostic(
        'ERR_DATA_SYNTAX',
        { format: 'CSV', detail: e.message.replace(/^Invalid Record Length: /, '') },
        { file, ...(e.lines ? { line: e.lines } : {}) },
      ),
    )
    return out
  }
  const header = text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n'))
  if (!/(^|,)\s*"?intent"?\s*(,|$)/.test(header.trim())) {
    out.diagnostics.push(
      errorDiagnostic(
        'ERR_DATA_SCHEMA',
        { detail: 'the CSV header needs an `intent` column' },
        { file, line: 1, column: 1 },
      ),
    )
    return out
  }
  for (const { record, info } of rows) {
    const at = { file, line: info.lines, column: 1 }
    const rec: Record<string, unknown> = { ...record }
    for (const key of ['entities', 'metadata'] as const) {
      const raw = record[key]
      if (raw === undefined || raw.trim() === '') {
        delete rec[key]
        continue
      }
      rec[key] = parseJsonCell(raw, key, at, out.diagnostics)
      if (rec[key] === undefined) rec[key] = Symbol.for('bad')
    }
    if (typeof rec.entities === 'symbol' || typeof rec.metadata === 'symbol') continue
    const ex = exampleFromRecord(rec, at, out.diagnostics)
    if (ex) out.data.examples.push(ex)
  }
  addIntents(out.data)
  return out
}

function parseJsonCell(raw: string, column: string, at: { file: string; line: number }, diags: Diagnostic[]) {
  try {
    return JSON.parse(raw) as unknown
  } catch (err) {
    diags.push(
      errorDiagnostic('ERR_DATA_SYNTAX', { format: `JSON in column ${column}`, detail: (err as Error).message }, at),
    )
    return undefined
  }
}

/** Render examples as CSV: field columns when every example has fields, `text` otherwise. */
export function formatCsv(data: TrainingData): string {
  const fieldNames: string[] = []
  for (const ex of data.examples)
    for (const k of Object.keys(ex.fields ?? {})) if (!fieldNames.includes(k)) fieldNames.push(k)
  const multi = fieldNames.length > 0 && data.examples.every((ex) => ex.fields)
  const hasEntities = data.examples.some((ex) => ex.entities.length)
  const hasMeta = data.examples.some((ex) => ex.metadata)
  const columns = [
    ...(multi ? fieldNames : ['text']),
    'intent',
    ...(hasEntities ? ['entities'] : []),
    ...(hasMeta ? ['metadata'] : []),
  ]
  const rows = data.examples.map((ex) => {
    const row: Record<string, string> = { intent: ex.intent }
    if (multi) for (const k of fieldNames) row[k] = ex.fields?.[k] ?? ''
    else row.text = ex.text
    if (hasEntities) row.entities = ex.entities.length ? JSON.stringify(entitiesToJson(ex.entities)) : ''
    if (hasMeta) row.metadata = ex.metadata ? JSON.stringify(ex.metadata) : ''
    return row
  })
  return stringify(rows, { header: true, columns })
}
