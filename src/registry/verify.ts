/**
 * Check a whole registry (or one version): every record against its digest and signatures, every blob against its
 * digest and size, every alias history chain and holder, every audit event. One damaged entry is reported and the
 * rest are still checked.
 * @module
 */
import { isIntentopsError } from '../errors.js'
import type { DamagedAlias, ModelRegistry, VerifiedModel } from './registry.js'

/** One thing wrong, with its error code, and how to fix it where the code alone does not say. */
export interface Problem {
  code: string
  message: string
  hint?: string
}

/** What checking one version found. */
export interface VersionCheck {
  name: string
  version: number
  ok: boolean
  /** Key id of the trusted signature, or null (unsigned, or signed by unknown keys only). */
  signedBy: string | null
  digest: string | null
  problems: Problem[]
}

/** What checking one alias found. */
export interface AliasCheck {
  name: string
  alias: string
  version: number | null
  ok: boolean
  problems: Problem[]
}

export interface VerifyReport {
  ok: boolean
  location: string
  /** Problems of the registry as a whole (its format file) and of its event logs. */
  problems: Problem[]
  versions: VersionCheck[]
  aliases: AliasCheck[]
}

export interface VerifyOptions {
  /** Only this model. */
  name?: string
  /** Only this version of `name`; aliases are then not checked. */
  version?: number
  /** Extra check of each verified model file, e.g. that it decodes. Throw to report a problem. */
  checkModel?: (model: VerifiedModel) => void | Promise<void>
  /** Called after each version, for progress. */
  onProgress?: (done: number, total: number) => void
}

function problemOf(err: unknown): Problem {
  if (isIntentopsError(err)) return { code: err.code, message: err.message }
  return { code: 'ERR_INTERNAL', message: (err as Error)?.message ?? String(err) }
}

/**
 * What is wrong with an alias file that could not be read, and how to repair it. No command rewrites a damaged
 * alias file (promote and rollback read it first), so the fix is a restore, or a delete and a fresh promotion.
 */
export function damagedAliasProblem(location: string, name: string, d: DamagedAlias): Problem {
  const err = d.error
  const code = isIntentopsError(err) ? err.code : 'ERR_INTERNAL'
  if (isIntentopsError(err) && err.code === 'ERR_REGISTRY_FORMAT_NEWER') {
    return {
      code,
      message: `the alias file ${d.key} was written by a newer intentops: ${err.message}`,
      ...(err.hint ? { hint: err.hint } : {}),
    }
  }
  if (isIntentopsError(err) && err.code === 'ERR_REGISTRY_INVALID_REF') {
    return {
      code,
      message: `the file ${d.key} is not named after an alias: ${err.message}`,
      hint: `Nothing reads it as an alias: rename it to <alias>.json (lowercase letters, digits, \`_\` or \`-\`, starting with a letter), or delete it from the registry (${location}).`,
    }
  }
  const detail =
    isIntentopsError(err) && err.code === 'ERR_REGISTRY_RECORD_INVALID' ? String(err.params.detail) : err.message
  const promote = `intentops promote ${d.version ?? '<version>'} --to ${d.alias} --model ${name}`
  const held =
    d.version !== null
      ? ` The damaged file still names v${d.version}; check that this is the version meant before promoting it.`
      : ''
  return {
    code,
    message: `the alias file ${d.key} is damaged: ${detail}; nothing can load the alias until it is repaired`,
    hint:
      `Restore ${d.key} from a backup of the registry (${location}), or from an earlier object version on S3; or delete ` +
      `the file, which loses the alias's move history, and point the alias again with \`${promote}\`.${held}`,
  }
}

/** Verify the registry; `ok` is true only when nothing is wrong. */
export async function verifyRegistry(registry: ModelRegistry, options: VerifyOptions = {}): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, location: registry.location, problems: [], versions: [], aliases: [] }
  try {
    await registry.checkFormat()
  } catch (err) {
    report.problems.push(problemOf(err))
    report.ok = false
    return report
  }
  const names = options.name ? [options.name] : await registry.listModels()
  const work: Array<{ name: string; version: number }> = []
  for (const name of names) {
    const versions = options.version !== undefined ? [options.version] : await registry.versionNumbers(name)
    for (const version of versions) work.push({ name, version })
  }
  let done = 0
  for (const { name, version } of work) {
    const check: VersionCheck = { name, version, ok: true, signedBy: null, digest: null, problems: [] }
    try {
      const model = await registry.loadVersion(name, version)
      check.signedBy = model.signature.signedBy
      check.digest = model.record.blob.digest
      if (options.checkModel) await options.checkModel(model)
    } catch (err) {
      check.problems.push(problemOf(err))
    }
    check.ok = check.problems.length === 0
    report.versions.push(check)
    options.onProgress?.(++done, work.length)
  }
  if (options.version === undefined) {
    for (const name of names) {
      const { aliases, problems } = await registry.listAliases(name)
      for (const d of problems) {
        report.aliases.push({
          name,
          alias: d.alias,
          version: d.version,
          ok: false,
          problems: [damagedAliasProblem(registry.location, name, d)],
        })
      }
      for (const a of aliases) {
        const holder = report.versions.find((v) => v.name === name && v.version === a.version)
        const problems: Problem[] = []
        if (!holder) {
          problems.push({ code: 'ERR_REGISTRY_VERSION_NOT_FOUND', message: `its holder v${a.version} does not exist` })
        } else if (!holder.ok) {
          problems.push({ code: holder.problems[0]!.code, message: `its holder v${a.version} fails verification` })
        }
        report.aliases.push({ name, alias: a.alias, version: a.version, ok: problems.length === 0, problems })
      }
      const events = await registry.readEvents(name)
      report.problems.push(...events.problems.map(problemOf))
    }
  }
  report.ok = report.problems.length === 0 && report.versions.every((v) => v.ok) && report.aliases.every((a) => a.ok)
  return report
}
