/**
 * The warning every command that opens a SQLite prediction log gives when the group or others may open its files: a
 * log made before intentops created it 0600, or widened by hand. The files are left as they are (a group may read
 * them on purpose); the warning says which they are and how to make them private.
 * @module
 */
import { exposedStoreFiles } from '../store/sqlite.js'
import type { CliIO } from './io.js'

/** What names a log: an open store, or a config's backend and resolved path. */
export interface LogLocation {
  dialect: 'sqlite' | 'postgres'
  location: string
}

export interface ExposedLogWarning {
  /** One line for people: the files, their modes and the command that makes them private. */
  message: string
  /** Each exposed file and its mode, as `/srv/bot/.intentops/store.db (0644)`. */
  files: string[]
}

// Paths from the config may hold spaces or quotes; the printed command must still run as pasted.
const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`)

/**
 * The warning for a log whose files the group or others may read or write, or undefined when there is none to give:
 * a private log, one that does not exist, `:memory:`, or PostgreSQL (where the database's grants decide).
 */
export function exposedLogWarning(log: LogLocation): ExposedLogWarning | undefined {
  if (log.dialect !== 'sqlite') return undefined
  const exposed = exposedStoreFiles(log.location)
  if (exposed.length === 0) return undefined
  const files = exposed.map((f) => `${f.path} (${f.mode.toString(8).padStart(4, '0')})`)
  const chmod = `chmod 600 ${exposed.map((f) => shellWord(f.path)).join(' ')}`
  return {
    message: `the prediction log holds message text, and other users may open these files of it: ${files.join(', ')}; \`${chmod}\` unless that is intended`,
    files,
  }
}

/**
 * Prints the warning on stderr. Commands that run and end call it once, after closing the store: SQLite has removed
 * the `-wal` and `-shm` files it made for them by then, so the `chmod` names only files that remain.
 */
export function warnIfLogExposed(io: CliIO, log: LogLocation): void {
  const warning = exposedLogWarning(log)
  if (warning) io.stderr(`warning: ${warning.message}\n`)
}
