/**
 * The export half of `intentops retrain`: reviewed corrections from the prediction store go into the training data
 * (optionally committed on a new git branch); the CLI then runs the pipeline. The store and the review export are
 * reached through one small boundary, loaded lazily, so a project that never served traffic retrains on its data
 * as it is.
 * @module
 */
import path from 'node:path'
import type { Config } from '../config/schema.js'
import { pathExists } from '../util/fs.js'

export interface RetrainExportOptions {
  root: string
  config: Readonly<Config>
  env?: Readonly<Record<string, string | undefined>>
  /** Commit the exported examples on this new branch. */
  gitBranch?: string
}

export interface RetrainExportResult {
  /** Examples written into the data files. */
  exported: number
  branch: string | null
  commit: string | null
  /** One line for people: what was exported, or why nothing was. */
  message: string
}

/** Exports reviews; injected by tests, and replaced by the real export once the store is configured. */
export type ReviewExporter = (options: RetrainExportOptions) => Promise<RetrainExportResult>

interface StoreLike {
  close?: () => Promise<void>
}
interface ExportModule {
  exportReviews: (
    store: StoreLike,
    options: { root: string; config: unknown; gitBranch?: string; env?: NodeJS.ProcessEnv },
  ) => Promise<{ written?: unknown[]; branch?: string; commit?: string }>
}
interface StoreModule {
  openStore: (
    config: unknown,
    options: { root: string; env?: Readonly<Record<string, string | undefined>> },
  ) => Promise<StoreLike>
}

/** Import a module of this package that a build may not have (specifiers kept opaque to the type checker). */
async function optionalModule<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(new URL(specifier, import.meta.url).href)) as T
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw err
  }
}

const nothing = (message: string): RetrainExportResult => ({ exported: 0, branch: null, commit: null, message })

/** The store configured in `intentops.yml` (`store` section), exported with the review module. */
export const exportFromStore: ReviewExporter = async (options) => {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  const [storeMod, exportMod] = await Promise.all([
    optionalModule<StoreModule>(`../store/open${ext}`),
    optionalModule<ExportModule>(`../review/export${ext}`),
  ])
  const storeConfig = (options.config as { store?: { backend?: string; path?: string } }).store
  if (!storeMod || !exportMod || !storeConfig) {
    return nothing('nothing to export: this intentops has no review store; retraining on the data as it is')
  }
  if (storeConfig.backend !== 'postgres') {
    const file = path.resolve(options.root, storeConfig.path ?? '.intentops/store.db')
    if (!(await pathExists(file))) {
      return nothing(
        `nothing to export: no review store at ${path.relative(options.root, file)}; retraining on the data as it is`,
      )
    }
  }
  const store = await storeMod.openStore(storeConfig, {
    root: options.root,
    ...(options.env ? { env: options.env } : {}),
  })
  try {
    const res = await exportMod.exportReviews(store, {
      root: options.root,
      config: options.config,
      ...(options.gitBranch ? { gitBranch: options.gitBranch } : {}),
      ...(options.env ? { env: options.env as NodeJS.ProcessEnv } : {}),
    })
    const n = res.written?.length ?? 0
    return {
      exported: n,
      branch: res.branch ?? null,
      commit: res.commit ?? null,
      message:
        n === 0
          ? 'nothing to export: no reviewed corrections waiting'
          : `exported ${n} reviewed example${n === 1 ? '' : 's'}${res.branch ? ` on branch ${res.branch}` : ''}`,
    }
  } finally {
    await store.close?.()
  }
}

export async function retrainExport(
  options: RetrainExportOptions,
  exporter: ReviewExporter = exportFromStore,
): Promise<RetrainExportResult> {
  return exporter(options)
}
