/**
 * Export of the prediction log as JSONL or CSV, streamed record by record so a million rows never sit in memory, and
 * written atomically when it goes to a file.
 * @module
 */
import { promises as fsp } from 'node:fs'
import { stringify } from 'csv-stringify/sync'
import { createError } from '../errors.js'
import { openTempFile, PRIVATE_FILE_MODE, releaseTempPath, writeError } from '../util/fs.js'
import type { PredictionQuery, PredictionRecord, PredictionStore } from './types.js'

export type ExportFormat = 'jsonl' | 'csv'
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv']

export const CSV_COLUMNS = [
  'id',
  'time',
  'intent',
  'confidence',
  'margin',
  'fallback',
  'text',
  'fields',
  'ranking',
  'entities',
  'model_name',
  'model_version',
  'latency_ms',
  'channel',
  'message_id',
  'sender_hash',
  'label',
  'review_action',
  'metadata',
] as const

function csvRow(r: PredictionRecord): string {
  const json = (v: unknown) => (v === undefined ? '' : JSON.stringify(v))
  return stringify([
    [
      r.id,
      new Date(r.ts).toISOString(),
      r.intent,
      r.confidence,
      r.margin,
      r.fallback ? 'true' : 'false',
      r.text,
      json(r.fields),
      json(r.ranking),
      json(r.entities),
      r.modelName,
      r.modelVersion,
      r.latencyMs,
      r.channel,
      r.messageId ?? '',
      r.senderHash ?? '',
      r.label ?? '',
      r.reviewAction ?? '',
      json(r.metadata),
    ],
  ])
}

/**
 * Write every matching prediction, in time order, through `write` (which may return a promise to apply
 * backpressure). Returns how many were written. Predictions deleted by review (junk, PII) are left out unless
 * `includeDeleted` (an audit of what was deleted; their text and fields are already erased) or `query.deleted` says
 * otherwise.
 */
export async function exportPredictions(
  store: Pick<PredictionStore, 'streamPredictions'>,
  query: Omit<PredictionQuery, 'order' | 'limit' | 'cursor'>,
  options: {
    format: ExportFormat
    write: (chunk: string) => void | Promise<void>
    onProgress?: (n: number) => void
    includeDeleted?: boolean
  },
): Promise<number> {
  const q = exportQuery(query, options.includeDeleted)
  if (!EXPORT_FORMATS.includes(options.format)) {
    throw createError('ERR_CLI_USAGE', { detail: `unknown export format "${options.format}"; use jsonl or csv` })
  }
  if (options.format === 'csv') await options.write(stringify([[...CSV_COLUMNS]]))
  let n = 0
  let buffer = ''
  for await (const r of store.streamPredictions(q)) {
    buffer += options.format === 'csv' ? csvRow(r) : `${JSON.stringify(r)}\n`
    n++
    if (buffer.length >= 64 * 1024) {
      await options.write(buffer)
      buffer = ''
      options.onProgress?.(n)
    }
  }
  if (buffer) await options.write(buffer)
  options.onProgress?.(n)
  return n
}

/** The query an export runs: deleted predictions left out unless asked for. */
export function exportQuery<Q extends Omit<PredictionQuery, 'order' | 'limit' | 'cursor'>>(
  query: Q,
  includeDeleted = false,
): Q {
  return includeDeleted || query.deleted !== undefined ? query : { ...query, deleted: false }
}

/** The permission bits of an export file: it holds message text, for the owner alone. */
export const EXPORT_FILE_MODE = PRIVATE_FILE_MODE

/**
 * Stream into a temporary file beside `file`, fsync, then rename over it: readers see the old file or the complete
 * new one, never a partial export. On failure the temporary file is removed and the old file kept. The temporary
 * file is created with `mode` (default 0600, whatever the umask) before its first byte, and the rename keeps it, so
 * the export is never readable more widely; a file it replaces passes on none of its bits but those it lacks (a 0644
 * file becomes 0600, a 0400 one stays 0400), and its owner and group as `writeFileAtomic` does. A symbolic link at
 * `file` is kept and the file it leads to replaced.
 */
export async function writeStreamAtomic<T>(
  file: string,
  produce: (write: (chunk: string) => Promise<void>) => Promise<T>,
  options: { mode?: number } = {},
): Promise<T> {
  const { tmp, fh, target } = await openTempFile(file, { mode: options.mode ?? EXPORT_FILE_MODE })
  let open = true
  try {
    // Each chunk is written whole before the next is asked for: the handle's own backpressure.
    const result = await produce((chunk) => fh.writeFile(chunk))
    // Synced through the handle that wrote it: a file the mode leaves unwritable (0400) cannot be opened again.
    await fh.sync()
    open = false
    await fh.close()
    await fsp.rename(tmp, target)
    return result
  } catch (err) {
    if (open) await fh.close().catch(() => {})
    await fsp.rm(tmp, { force: true }).catch(() => {})
    throw await writeError(file, err)
  } finally {
    releaseTempPath(tmp)
  }
}
