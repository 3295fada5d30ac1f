/**
 * One pipeline at a time per project: a lock directory under `.intentops/`, refreshed while held and considered
 * stale when its holder died (proper-lockfile's mtime protocol), so a crashed run never blocks the next one.
 * @module
 */
import path from 'node:path'
import lockfile from 'proper-lockfile'
import { createError } from '../errors.js'
import { createEmptyFileSync, ensureDir, writeError } from '../util/fs.js'

export interface LockOptions {
  /** How long to wait for another run to finish, in ms. Default 10 minutes. */
  waitMs?: number
  /** A lock not refreshed for this long is stale. Default 30 s. */
  staleMs?: number
}

/** Run `fn` while holding the project's pipeline lock; waits for a concurrent run to finish first. */
export async function withPipelineLock<T>(stateDir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  await ensureDir(stateDir)
  const target = path.join(stateDir, 'pipeline')
  try {
    // Created when missing, never opened when there: another user's run (root's cron) may have made it theirs, as
    // it makes it the project's owner's in the owner's directory.
    createEmptyFileSync(target, 0o666 & ~process.umask())
  } catch (err) {
    throw await writeError(target, err)
  }
  const waitMs = opts.waitMs ?? 10 * 60_000
  const retries = Math.max(0, Math.ceil(waitMs / 250))
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(target, {
      stale: opts.staleMs ?? 30_000,
      retries: { retries, factor: 1, minTimeout: 250, maxTimeout: 250 },
      realpath: false,
    })
  } catch (err) {
    throw createError('ERR_PIPELINE_LOCKED', { dir: stateDir, seconds: Math.round(waitMs / 1000) }, { cause: err })
  }
  try {
    return await fn()
  } finally {
    await release().catch(() => {})
  }
}
