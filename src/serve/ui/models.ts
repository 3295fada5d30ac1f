/**
 * What the web UI's Models page shows: every model in the registry with its versions (lineage, metrics, tags) and
 * aliases (holder and move history), and the comparison of two versions.
 * @module
 */

import { diffVersions, type VersionDiff } from '../../registry/diff.js'
import type { AliasMove, VersionRecord } from '../../registry/layout.js'
import type { ModelRegistry } from '../../registry/registry.js'

export interface ModelVersionView {
  version: number
  createdAt: string
  author: string
  git: VersionRecord['git']
  training: VersionRecord['training']
  metrics: { accuracy: number; macroF1: number; weightedF1: number; mustPassFailed?: number } | null
  tags: Record<string, string>
  /** Aliases this version holds now. */
  aliases: string[]
}

export interface ModelAliasView {
  alias: string
  version: number
  updatedAt: string
  history: AliasMove[]
}

export interface ModelView {
  name: string
  versions: ModelVersionView[]
  aliases: ModelAliasView[]
  /** Versions or aliases that could not be read or verified, as messages. */
  problems: string[]
}

/** Every model, newest version first. At most `maxVersions` versions per model (default 50). */
export async function listModelViews(
  registry: ModelRegistry,
  options: { maxVersions?: number } = {},
): Promise<ModelView[]> {
  const max = options.maxVersions ?? 50
  const out: ModelView[] = []
  for (const name of await registry.listModels()) {
    const problems: string[] = []
    const { aliases, problems: aliasProblems } = await registry.listAliases(name)
    problems.push(...aliasProblems.map((d) => `alias ${d.alias}: ${d.error.message}`))
    const holders = new Map<number, string[]>()
    for (const a of aliases) holders.set(a.version, [...(holders.get(a.version) ?? []), a.alias])
    const numbers = (await registry.versionNumbers(name)).sort((a, b) => b - a).slice(0, max)
    const versions: ModelVersionView[] = []
    for (const v of numbers) {
      try {
        const { record } = await registry.readVersion(name, v)
        versions.push({
          version: record.version,
          createdAt: record.createdAt,
          author: record.author,
          git: record.git,
          training: record.training,
          metrics: record.eval
            ? {
                accuracy: record.eval.accuracy,
                macroF1: record.eval.macroF1,
                weightedF1: record.eval.weightedF1,
                ...(record.eval.mustPass ? { mustPassFailed: record.eval.mustPass.failed } : {}),
              }
            : null,
          tags: record.tags,
          aliases: holders.get(record.version) ?? [],
        })
      } catch (err) {
        problems.push(`version ${v}: ${(err as Error).message}`)
      }
    }
    out.push({
      name,
      versions,
      aliases: aliases.map((a) => ({ alias: a.alias, version: a.version, updatedAt: a.updatedAt, history: a.history })),
      problems,
    })
  }
  return out
}

/** How version `to` differs from version `from`: lineage, labels, metrics and per-intent F1. */
export async function compareModelVersions(
  registry: ModelRegistry,
  name: string,
  from: string | number,
  to: string | number,
): Promise<VersionDiff> {
  const a = await registry.readVersion(name, await registry.resolveVersion(name, from))
  const b = await registry.readVersion(name, await registry.resolveVersion(name, to))
  return diffVersions(a.record, b.record)
}
