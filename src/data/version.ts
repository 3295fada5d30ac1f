/**
 * Load one version of the training data for a diff: the working tree, a path, or a git revision.
 * @module
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { diagnosticToError } from './diagnostics.js'
import { loadTrainingDataDetailed } from './load.js'
import { type DataSource, fsSource, gitSource } from './source.js'
import type { TrainingData } from './types.js'

export interface DataVersion {
  label: string
  data: TrainingData
}

/**
 * `spec` undefined: the working tree at `paths`. A spec naming an existing file or directory (relative to `cwd`):
 * that path. Anything else: a git revision, read at `paths` from git (`gitSource`; `signal` ends git). Throws the first
 * loading error.
 */
export async function loadDataVersion(
  spec: string | undefined,
  options: { root: string; paths: string[]; cwd?: string; signal?: AbortSignal },
): Promise<DataVersion> {
  const root = path.resolve(options.root)
  if (spec === undefined) {
    return { label: 'working tree', data: await loadOrThrow(options.paths, fsSource(root)) }
  }
  const asPath = path.resolve(options.cwd ?? root, spec)
  const exists = await fsp.stat(asPath).then(
    () => true,
    () => false,
  )
  if (exists) {
    const rel = path.relative(root, asPath)
    const inside = !rel.startsWith('..') && !path.isAbsolute(rel)
    const base = inside ? root : path.dirname(asPath)
    const p = inside ? rel || '.' : path.basename(asPath)
    return { label: spec, data: await loadOrThrow([p], fsSource(base)) }
  }
  return { label: spec, data: await loadOrThrow(options.paths, await gitSource(root, spec, options.signal)) }
}

async function loadOrThrow(paths: string[], source: DataSource) {
  const res = await loadTrainingDataDetailed(paths, { source })
  const first = res.diagnostics.find((d) => d.severity === 'error')
  if (first) throw diagnosticToError(first)
  return res.data
}
