/**
 * How commands find and open the prediction log, and the warning each gives when the group or others may open its
 * files: a log made before intentops created it 0600, or widened by hand. The files are left as they are (a group
 * may read them on purpose); the warning says which they are and how to make them private.
 * @module
 */
import type { LoadedConfig } from '../project/config.js'
import type { KyselyPredictionStore } from '../store/kysely-store.js'
import type { StoreTarget } from '../store/location.js'
import { exposedStoreFiles } from '../store/sqlite.js'
import type { CliIO } from './io.js'

/** What names a log: an open store, or where one is (`locateLog`). */
export type LogLocation = { dialect: 'sqlite' | 'postgres'; location: string } | StoreTarget

export interface LogOptions {
  /** `--config FILE`. */
  config?: string
  /** `--store LOCATION`, of the commands that take it. */
  store?: string
}

export interface LocatedLog {
  loaded: LoadedConfig
  /** `--store`, else INTENTOPS_STORE, else the config's `store` section. */
  target: StoreTarget
}

/**
 * The project's config and where its log is. `serve`, `retrain` and every command that opens the log find it here,
 * so that a relative path, `INTENTOPS_STORE`, `store.url` or DATABASE_URL mean the same to all of them.
 */
export async function locateLog(io: CliIO, opts: LogOptions): Promise<LocatedLog> {
  const { loadConfig } = await import('../project/config.js')
  const { resolveStoreTarget, storeTargetOf } = await import('../store/location.js')
  const loaded = await loadConfig({ dir: io.cwd, ...(opts.config ? { explicit: opts.config } : {}) })
  // An empty variable is an unset one, as for INTENTOPS_REGISTRY; an empty --store is a mistake.
  const target =
    opts.store !== undefined
      ? storeTargetOf('--store', opts.store, io.cwd)
      : io.env.INTENTOPS_STORE
        ? storeTargetOf('INTENTOPS_STORE', io.env.INTENTOPS_STORE, io.cwd)
        : resolveStoreTarget(loaded.config.store, { root: loaded.root, env: io.env })
  return { loaded, target }
}

/**
 * Opens (and migrates) the log for a command that runs and ends; the caller closes it. A log other users may open is
 * named first, on stderr, so the warning comes before anything the command prints. Only `create` starts a new
 * SQLite log: the others read or tend one, and a missing file is a mistyped path or a server that never ran.
 */
export async function openLog(
  io: CliIO,
  opts: LogOptions,
  { create = false }: { create?: boolean } = {},
): Promise<LocatedLog & { store: KyselyPredictionStore }> {
  const located = await locateLog(io, opts)
  warnIfLogExposed(io, located.target)
  const { openStore } = await import('../store/open.js')
  const store = await openStore(located.loaded.config.store, {
    root: located.loaded.root,
    env: io.env,
    target: located.target,
    mustExist: !create,
    onMigrationProgress: (await import('./progress.js')).migrationProgress(io),
  })
  return { ...located, store }
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
  const file = 'dialect' in log ? (log.dialect === 'sqlite' ? log.location : undefined) : sqliteFile(log)
  if (file === undefined) return undefined
  const exposed = exposedStoreFiles(file)
  if (exposed.length === 0) return undefined
  const files = exposed.map((f) => `${f.path} (${f.mode.toString(8).padStart(4, '0')})`)
  const chmod = `chmod 600 ${exposed.map((f) => shellWord(f.path)).join(' ')}`
  return {
    message: `the prediction log holds message text, and other users may open these files of it: ${files.join(', ')}; \`${chmod}\` unless that is intended`,
    files,
  }
}

const sqliteFile = (target: StoreTarget) => (target.backend === 'sqlite' ? target.file : undefined)

/**
 * Prints the warning on stderr. Commands that run and end call it once, before opening the store (`openLog`): the
 * files it names are then those that were there before the command and remain after it (a running server's `-wal`
 * and `-shm` among them), not the side files SQLite makes for the command and removes when it closes the log.
 */
export function warnIfLogExposed(io: CliIO, log: LogLocation): void {
  const warning = exposedLogWarning(log)
  if (warning) io.stderr(`warning: ${warning.message}\n`)
}
