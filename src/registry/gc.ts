/**
 * Garbage collection: drop old versions, keeping the newest N of each model, every alias holder and each alias's
 * rollback target, then delete the model files no remaining version references.
 * @module
 */
import { createError } from '../errors.js'
import type { RegistryLock } from './backend.js'
import { keys } from './layout.js'
import { type ModelRegistry, rollbackTarget } from './registry.js'

export interface GcOptions {
  /** Only this model; default every model in the registry. */
  name?: string
  /** How many of the newest versions of each model to keep (at least 1, so version numbers never repeat). */
  keep: number
  /** Report what would go without deleting anything. */
  dryRun?: boolean
  /**
   * Unreferenced blobs younger than this are left alone, ms (a publish uploads its blob before it writes the
   * record). Default one hour.
   */
  graceMs?: number
  actor: string
}

export interface GcModelReport {
  name: string
  deleted: number[]
  kept: number[]
  /** Versions kept although older than the newest N, and why. */
  protected: Array<{ version: number; reason: string }>
  /** Set when the model was skipped (a damaged alias file: its holder is unknown, so nothing is safe to delete). */
  skipped?: string
}

export interface GcReport {
  dryRun: boolean
  models: GcModelReport[]
  /** Digests of the model files deleted (or that would be). */
  blobsDeleted: string[]
  /** Why unreferenced blobs were left, when they were. */
  blobsSkipped?: string
  /** Temp files of interrupted writes removed (or that would be). */
  leftoversRemoved: number
}

/**
 * Collect old versions and unreferenced blobs. Holds the registry lock, logs a `gc` event per model before it
 * deletes, deletes records before blobs (a crash leaves at most unreferenced blobs, collected next time), and never
 * collects an alias holder or rollback target.
 */
export async function collectGarbage(registry: ModelRegistry, options: GcOptions): Promise<GcReport> {
  if (!Number.isInteger(options.keep) || options.keep < 1) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `--keep must be an integer of at least 1, got ${options.keep}`,
    })
  }
  const graceMs = options.graceMs ?? 3_600_000
  const dryRun = options.dryRun === true
  const run = async (lock: RegistryLock | undefined): Promise<GcReport> => {
    const names = options.name ? [options.name] : await registry.listModels()
    const models: GcModelReport[] = []
    for (const name of names) {
      const versions = await registry.versionNumbers(name)
      const { aliases, problems } = await registry.listAliases(name)
      if (problems.length > 0) {
        models.push({
          name,
          deleted: [],
          kept: versions,
          protected: [],
          skipped: `the file of alias ${problems[0]!.alias} is damaged (${problems[0]!.error.message}); repair it first (\`intentops models verify\` says how)`,
        })
        continue
      }
      const newest = new Set(versions.slice(-options.keep))
      const guards = new Map<number, string>()
      for (const a of aliases) {
        guards.set(a.version, `holder of ${a.alias}`)
        const back = rollbackTarget(a.history)
        if (back !== null && !guards.has(back)) guards.set(back, `rollback target of ${a.alias}`)
      }
      const deleted = versions.filter((v) => !newest.has(v) && !guards.has(v))
      const kept = versions.filter((v) => !deleted.includes(v))
      const guarded = kept.filter((v) => !newest.has(v)).map((v) => ({ version: v, reason: guards.get(v)! }))
      if (!dryRun && lock && deleted.length > 0) {
        // The event goes first: a crash mid-way leaves a logged intent, never an unlogged deletion.
        await registry.logCollection(name, deleted, options.actor, lock)
        for (const v of deleted) {
          await lock.assertHeld()
          await registry.backend.delete(keys.version(name, v))
        }
      }
      models.push({ name, deleted, kept, protected: guarded })
    }

    // Blobs: collect only when every remaining record could be read, or a live version's blob could go.
    const referenced = new Set<string>()
    let unreadable: string | undefined
    for (const name of await registry.listModels()) {
      const report = models.find((m) => m.name === name)
      for (const v of await registry.versionNumbers(name)) {
        if (dryRun && report?.deleted.includes(v)) continue
        try {
          referenced.add((await registry.readVersion(name, v)).record.blob.digest)
        } catch (err) {
          unreadable ??= `${name} v${v} cannot be read (${(err as Error).message})`
        }
      }
    }
    const blobsDeleted: string[] = []
    const now = registry.clock().getTime()
    // Temp files are never referenced: any older than the grace period belongs to a writer that died.
    const leftoversRemoved =
      !dryRun && registry.backend.removeLeftovers ? await registry.backend.removeLeftovers(new Date(now - graceMs)) : 0
    if (unreadable) {
      return { dryRun, models, blobsDeleted, blobsSkipped: `${unreadable}; blobs were left alone`, leftoversRemoved }
    }
    for (const blob of await registry.backend.list(keys.blobs)) {
      const digest = `sha256:${blob.key.slice(keys.blobs.length)}`
      if (referenced.has(digest) || now - blob.lastModified.getTime() < graceMs) continue
      if (!dryRun && lock) {
        await lock.assertHeld()
        await registry.backend.delete(blob.key)
      }
      blobsDeleted.push(digest)
    }
    return { dryRun, models, blobsDeleted, leftoversRemoved }
  }
  if (!(await registry.checkFormat())) return { dryRun, models: [], blobsDeleted: [], leftoversRemoved: 0 }
  return dryRun ? run(undefined) : registry.withLock(run)
}
