/**
 * Reading and writing report files: `report.json`, `report.md` and `report.html`, each written atomically.
 * @module
 */
import path from 'node:path'
import { createError, isIntentopsError } from '../errors.js'
import { readTextFile, writeFileAtomic } from '../util/fs.js'
import { renderHtml } from './render/html.js'
import { renderMarkdown } from './render/markdown.js'
import { EVAL_REPORT_FORMAT, EVAL_REPORT_VERSION, type EvalReport } from './types.js'

/** Report files can be large (every prediction is kept for `compare`), but not unbounded. */
const MAX_REPORT_BYTES = 512 * 1024 * 1024

export interface WrittenReports {
  json: string
  markdown: string
  html: string
}

/** Write the three report files into `dir` (created when missing). */
export async function writeReports(report: EvalReport, dir: string): Promise<WrittenReports> {
  const files: WrittenReports = {
    json: path.join(dir, 'report.json'),
    markdown: path.join(dir, 'report.md'),
    html: path.join(dir, 'report.html'),
  }
  const html = await renderHtml(report)
  await writeFileAtomic(files.json, `${JSON.stringify(report)}\n`)
  await writeFileAtomic(files.markdown, renderMarkdown(report))
  await writeFileAtomic(files.html, html)
  return files
}

/** Parse and check a report; throws ERR_EVAL_BAD_REPORT naming `file` when it is not one. */
export function parseReport(text: string, file: string): EvalReport {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw createError('ERR_EVAL_BAD_REPORT', { path: file, detail: (err as Error).message }, { cause: err })
  }
  const r = value as Partial<EvalReport> | null
  const bad = (detail: string) => createError('ERR_EVAL_BAD_REPORT', { path: file, detail })
  if (!r || typeof r !== 'object' || r.format !== EVAL_REPORT_FORMAT)
    throw bad(`\`format\` is not "${EVAL_REPORT_FORMAT}"`)
  if (r.formatVersion !== EVAL_REPORT_VERSION) {
    throw bad(`report format version ${String(r.formatVersion)}, this version reads ${EVAL_REPORT_VERSION}`)
  }
  if (typeof r.testSet?.fingerprint !== 'string') throw bad('`testSet.fingerprint` is missing')
  if (!Array.isArray(r.predictions)) throw bad('`predictions` is missing')
  if (!r.intent || typeof r.intent.perLabel !== 'object') throw bad('`intent.perLabel` is missing')
  for (const [i, p] of r.predictions.entries()) {
    if (typeof p?.id !== 'string' || typeof p.gold !== 'string' || typeof p.predicted !== 'string') {
      throw bad(`prediction ${i} lacks id, gold or predicted`)
    }
  }
  return r as EvalReport
}

/** Read a `report.json`. */
export async function readReport(file: string): Promise<EvalReport> {
  try {
    return parseReport(await readTextFile(file, { maxBytes: MAX_REPORT_BYTES }), file)
  } catch (err) {
    if (isIntentopsError(err)) throw err
    throw createError('ERR_EVAL_BAD_REPORT', { path: file, detail: (err as Error).message }, { cause: err })
  }
}
