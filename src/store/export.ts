/**
 * Export of the prediction log as JSONL or CSV, streamed record by record so a million rows never sit in memory, and
 * written atomically when it goes to a file.
 * @module
 */
import { promises as fsp } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { stringify } from 'csv-stringify/sync'
import { createError } from '../errors.js'
import { releaseTempPath, tempPathFor, writeError } from '../util/fs.js'
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
export const EXPORT_FILE_MODE = 0o600

/**
 * Stream into a temporary file beside `file`, fsync, then rename over it: readers see the old file or the complete
 * new one, never a partial export. On failure the temporary file is removed and the old file kept. The temporary
 * file is created with `mode` (default 0600, whatever the umask) before its first byte, and the rename keeps it, so
 * the export is never readable more widely; a file it replaces does not pass its own mode on.
 */
export async function writeStreamAtomic<T>(
  file: string,
  produce: (write: (chunk: string) => Promise<void>) => Promise<T>,
  options: { mode?: number } = {},
): Promise<T> {
  const mode = options.mode ?? EXPORT_FILE_MODE
  const dir = path.dirname(file)
  const tmp = tempPathFor(file)
  let fh: FileHandle | undefined
  try {
    await fsp.mkdir(dir, { recursive: true })
    // `wx`: the fresh name must not exist, else open would keep that file's owner and mode.
    fh = await fsp.open(tmp, 'wx', mode)
    // The umask only narrows the mode open applies; set it exactly, still before the first byte.
    await fh.chmod(mode)
  } catch (err) {
    await fh?.close().catch(() => {})
    if (fh) await fsp.rm(tmp, { force: true }).catch(() => {})
    releaseTempPath(tmp)
    throw await writeError(file, err)
  }
  const out = fh.createWriteStream()
  let streamError: unknown
  out.on('error', (err) => {
    streamError = err
  })
  const write = (chunk: string) =>
    new Promise<void>((resolve, reject) => {
      if (streamError) return reject(streamError)
      if (out.write(chunk)) return resolve()
      const onDrain = () => {
        out.off('error', onError)
        resolve()
      }
      const onError = (err: unknown) => {
        out.off('drain', onDrain)
        reject(err)
      }
      out.once('drain', onDrain).once('error', onError)
    })
  try {
    const result = await produce(write)
    await new Promise<void>((resolve, reject) => {
      out.end((err?: Error | null) => (err ? reject(err) : resolve()))
    })
    if (streamError) throw streamError
    const synced = await fsp.open(tmp, 'r+')
    try {
      await synced.sync()
    } finally {
      await synced.close()
    }
    await fsp.rename(tmp, file)
    return result
  } catch (err) {
    out.destroy()
    await fsp.rm(tmp, { force: true }).catch(() => {})
    throw await writeError(file, err)
  } finally {
    releaseTempPath(tmp)
  }
}
