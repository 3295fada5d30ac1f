/**
 * The export half of `intentops retrain`: reviewed corrections from the prediction store go into the training data
 * (`exportReviews` of the review module, optionally committed on a new git branch); the CLI then runs the pipeline.
 * A project that never served traffic has no store and retrains on its data as it is.
 * @module
 */
import path from 'node:path'
import type { Config } from '../config/schema.js'
import { resolveStoreTarget, type StoreTarget } from '../store/location.js'
import { pathExists } from '../util/fs.js'

export interface RetrainExportOptions {
  root: string
  config: Readonly<Config>
  env?: Readonly<Record<string, string | undefined>>
  /** Commit the exported examples on this new branch. */
  gitBranch?: string
  /** Where the store is, when the caller resolved it (`locateLog`); default: the config's `store` section. */
  target?: StoreTarget
}

export interface RetrainExportResult {
  /** Examples written into the data files. */
  exported: number
  branch: string | null
  commit: string | null
  /** One line for people: what was exported, or why nothing was. */
  message: string
  /** The export's warnings (messages left unexported, a file outside the data paths, a hard link parted from). */
  warnings: string[]
}

/** Exports reviews; injected by tests, and replaced by the real export once the store is configured. */
export type ReviewExporter = (options: RetrainExportOptions) => Promise<RetrainExportResult>

const nothing = (message: string): RetrainExportResult => ({
  exported: 0,
  branch: null,
  commit: null,
  message,
  warnings: [],
})

/** The store configured in `intentops.yml` (`store` section), exported with the review module's `exportReviews`. */
export const exportFromStore: ReviewExporter = async (options) => {
  const store = options.config.store
  const env = options.env ? { env: options.env } : {}
  const target = options.target ?? resolveStoreTarget(store, { root: options.root, ...env })
  // A project that never served has no store; creating an empty one just to find nothing in it helps nobody.
  if (target.backend === 'sqlite' && !(await pathExists(target.file))) {
    return nothing(
      `nothing to export: no review store at ${path.relative(options.root, target.file)}; retraining on the data as it is`,
    )
  }
  const { openStore } = await import('../store/open.js')
  const { exportReviews } = await import('../review/export.js')
  const opened = await openStore(store, { root: options.root, ...env, target })
  try {
    const res = await exportReviews(opened, {
      root: options.root,
      config: options.config,
      ...(options.gitBranch ? { gitBranch: options.gitBranch } : {}),
      ...(options.env ? { env: { ...process.env, ...options.env } as NodeJS.ProcessEnv } : {}),
    })
    const n = res.written.length
    return {
      exported: n,
      branch: res.branch ?? null,
      commit: res.commit ?? null,
      message:
        n === 0
          ? `nothing to export: no reviewed corrections waiting${res.marked ? ` (${res.marked} reviews settled without new examples)` : ''}`
          : `exported ${n} reviewed example${n === 1 ? '' : 's'} into ${res.files.join(', ')}${res.branch ? ` on branch ${res.branch} (${res.commit?.slice(0, 12)})` : ''}`,
      warnings: res.warnings,
    }
  } finally {
    await opened.close()
  }
}

export async function retrainExport(
  options: RetrainExportOptions,
  exporter: ReviewExporter = exportFromStore,
): Promise<RetrainExportResult> {
  return exporter(options)
}
