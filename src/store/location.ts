/**
 * Where the prediction log is: the one resolution of a `store` config (and of a location given in its place) that
 * `openStore`, the server's log writer thread, `retrain` and every command's warnings share, so none of them can
 * read `store.path`, `store.url` or DATABASE_URL differently.
 * @module
 */
import path from 'node:path'
import type { StoreConfig } from '../config/schema.js'
import { createError } from '../errors.js'
import { expandEnv } from '../util/env.js'

/** What `--store`, `INTENTOPS_STORE` and `store.path` may hold, for error messages. */
export const STORE_LOCATIONS = 'a SQLite file path, or a postgres:// or postgresql:// URL'

/** A resolved store: the SQLite file (an absolute path) or the PostgreSQL URL (secrets included: not for display). */
export type StoreTarget = { backend: 'sqlite'; file: string } | { backend: 'postgres'; url: string }

/**
 * The scheme of a store location that is neither a PostgreSQL URL nor a file path (`mysql://h`, `redis://h/0`,
 * `file:x.db`), or undefined. Opened as a SQLite path, such a location would create a database in a directory named
 * after the scheme. Schemes of one letter are Windows drives (`C:\\logs\\io.db`).
 */
export function unsupportedStoreScheme(location: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(location)?.[1]
  return scheme && !/^postgres(ql)?$/i.test(scheme) ? scheme : undefined
}

const CONFIG_PATH = '`store.path`'

/**
 * Why `location`, named `what` (`` `store.path` ``, `--store`, `INTENTOPS_STORE`), cannot be a SQLite log, or
 * undefined. `:memory:` is refused rather than supported: an in-memory database belongs to one connection, and the
 * log is opened by many (the server's writer thread, the server itself, each command in a process of its own), so
 * none would see what another wrote; resolved as a path it would be a file named `:memory:`.
 */
export function sqliteLocationProblem(what: string, location: string): string | undefined {
  const inConfig = what === CONFIG_PATH
  if (location.trim() === '') {
    return inConfig
      ? `${what} is empty; give the SQLite file's path (relative to the project), or use PostgreSQL with \`store.backend: postgres\` and \`store.url\``
      : `${what} is empty; give ${STORE_LOCATIONS}`
  }
  if (location === ':memory:') {
    return `${what} ":memory:" would be an in-memory SQLite database, which only the connection that opens it can see: the server's log writer thread, the server and every intentops command open the log on connections of their own, so none would see what another wrote. Give a file path (under a temporary directory for a log you mean to throw away)${
      inConfig ? ', or leave `store.path` out and set `serve.logPredictions: false` to log no predictions' : ''
    }`
  }
  // Not echoed: the URL may hold a password.
  if (inConfig && /^postgres(ql)?:/i.test(location)) {
    return `${what} is a PostgreSQL URL, which would be taken for a file path; set \`store.backend: postgres\` and give the URL as \`store.url\` (or DATABASE_URL)`
  }
  const scheme = unsupportedStoreScheme(location)
  if (scheme) {
    return `${what} "${location}" has the scheme ${scheme}:, which intentops does not support; use ${STORE_LOCATIONS}${
      inConfig ? ' (with `store.backend: postgres` and `store.url`)' : ''
    }, or ./ before a file name with a colon`
  }
  return undefined
}

export interface ResolveStoreOptions {
  /** The project root: a relative `store.path` resolves against it. */
  root: string
  /** Where `store.url`'s `$VAR` and DATABASE_URL are read. */
  env?: Readonly<Record<string, string | undefined>>
}

/**
 * The store a `store` config names: its SQLite file resolved against the project root, or its PostgreSQL URL
 * (`store.url` with `$VAR` expanded, else DATABASE_URL). Throws ERR_CONFIG_INVALID for a `store.path` that is no
 * file (`:memory:`, a URL of another scheme), ERR_STORE_NO_URL for PostgreSQL without a URL.
 */
export function resolveStoreTarget(config: Readonly<StoreConfig>, options: ResolveStoreOptions): StoreTarget {
  const env = options.env ?? {}
  if (config.backend === 'postgres') {
    const url = config.url ? expandEnv(config.url, env, 'store.url') : env.DATABASE_URL
    if (!url) throw createError('ERR_STORE_NO_URL')
    return { backend: 'postgres', url }
  }
  const problem = sqliteLocationProblem(CONFIG_PATH, config.path)
  if (problem) throw createError('ERR_CONFIG_INVALID', { detail: problem })
  return { backend: 'sqlite', file: path.resolve(options.root, config.path) }
}

/**
 * A location given in place of the config's (`--store`, `INTENTOPS_STORE`), named `what` in errors: a postgres://
 * URL taken as it is, or a SQLite path resolved against `cwd`. Anything else is ERR_CLI_USAGE.
 */
export function storeTargetOf(what: string, location: string, cwd: string): StoreTarget {
  if (/^postgres(ql)?:/i.test(location)) return { backend: 'postgres', url: location }
  const problem = sqliteLocationProblem(what, location)
  if (problem) throw createError('ERR_CLI_USAGE', { detail: problem })
  return { backend: 'sqlite', file: path.resolve(cwd, location) }
}
