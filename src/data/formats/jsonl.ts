/**
 * JSON Lines: one example per line, `{"text", "intent", "entities"?, "metadata"?, "fields"?}`; see
 * docs/data-format.md for how extra keys are read.
 * @module
 */
import { errorDiagnostic } from '../diagnostics.js'
import type { TrainingData } from '../types.js'
import { exampleFromRecord, exampleToRecord } from './common.js'
import { jsonSyntaxProblem, lineColumn } from './json-syntax.js'
import { emptyParsedFile, type ParsedDataFile } from './parsed-file.js'

/** Parse JSON Lines training data, one example per line. */
export function parseJsonl(text: string, file: string): ParsedDataFile {
  const out = emptyParsedFile()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (!line.trim()) continue
    const problem = jsonSyntaxProblem(line)
    if (problem) {
      const column = lineColumn(line, problem.offset).column
      const where = { file, line: i + 1, column }
      const hint = `${problem.hint} Each line holds one whole JSON object.`
      out.diagnostics.push(
        errorDiagnostic('ERR_DATA_SYNTAX', { format: 'JSON line', detail: problem.detail }, where, hint),
      )
      continue
    }
    const at = { file, line: i + 1, column: 1 + (line.length - line.trimStart().length) }
    const row: unknown = JSON.parse(line)
    if (!row || typeof row !== 'object' || Array.isArray(row)) {
      out.diagnostics.push(
        errorDiagnostic('ERR_DATA_SCHEMA', { detail: 'each line must be a JSON object {"text", "intent"}' }, at),
      )
      continue
    }
    const ex = exampleFromRecord(row as Record<string, unknown>, at, out.diagnostics)
    if (ex) out.data.examples.push(ex)
  }
  addIntents(out.data)
  return out
}

/** Declare every intent that examples use, in first-seen order. */
export function addIntents(data: TrainingData): void {
  const seen = new Set(data.intents.map((i) => i.name))
  for (const ex of data.examples) {
    if (!seen.has(ex.intent)) {
      seen.add(ex.intent)
      data.intents.push({ name: ex.intent, ...(ex.source ? { source: ex.source } : {}) })
    }
  }
}

/** Render examples as JSON Lines. */
export function formatJsonl(data: TrainingData): string {
  return data.examples.map((ex) => `${JSON.stringify(exampleToRecord(ex))}\n`).join('')
}
