/**
 * `intentops init`: copy a project template (config, training data, must-pass tests) into a directory.
 * @module
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createError } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'

/** The templates shipped in `templates/`. */
export const PROJECT_TEMPLATES = ['default', 'triage'] as const
export type ProjectTemplate = (typeof PROJECT_TEMPLATES)[number]

/** Where the templates live: `templates/` at the package root, from both `src/data` and `dist/data`. */
export function templatesDir(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url))
}

// npm drops files named .gitignore from packages, so templates carry it without the dot.
const RENAMES: Readonly<Record<string, string>> = { gitignore: '.gitignore' }

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  for (const e of await fsp.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...(await listFiles(dir, child)))
    else if (e.isFile()) out.push(child)
  }
  return out.sort()
}

export interface ScaffoldOptions {
  template?: ProjectTemplate
  /** Overwrite files that already exist (only the template's own files are touched). */
  force?: boolean
  /** More files to write with the template's, by path relative to the project (the CI pipeline of `init --ci`). */
  extraFiles?: Readonly<Record<string, string>>
}

/**
 * Scaffold a project into `dir` (created when missing). Returns the files written, relative to `dir`.
 * Every path is checked before anything is written, and a write that fails all the same removes the files and
 * directories this call created: a failed scaffold leaves nothing that would block the next attempt.
 */
export async function scaffoldProject(dir: string, options: ScaffoldOptions = {}): Promise<string[]> {
  const template = options.template ?? 'default'
  if (!PROJECT_TEMPLATES.includes(template)) {
    throw createError('ERR_CLI_USAGE', {
      detail: `unknown template "${template}"; choose ${PROJECT_TEMPLATES.join(' or ')}`,
    })
  }
  const from = path.join(templatesDir(), template)
  const target = (f: string) => {
    const parts = f.split('/')
    const last = parts.pop()!
    return [...parts, RENAMES[last] ?? last].join('/')
  }
  const contents = new Map<string, () => Promise<string | Uint8Array>>()
  for (const f of await listFiles(from)) contents.set(target(f), () => fsp.readFile(path.join(from, f)))
  for (const [rel, text] of Object.entries(options.extraFiles ?? {})) contents.set(rel, async () => text)

  const plan = await planWrites(dir, [...contents.keys()], options.force === true)
  const created: string[] = []
  try {
    for (const [rel, read] of contents) {
      const file = path.join(dir, rel)
      await writeFileAtomic(file, await read())
      if (!plan.existing.has(rel)) created.push(file)
    }
  } catch (err) {
    for (const file of created) await fsp.rm(file, { force: true }).catch(() => {})
    // deepest first; a directory someone else has put files into meanwhile stays
    for (const d of plan.missingDirs) await fsp.rmdir(d).catch(() => {})
    throw err
  }
  return [...contents.keys()]
}

type PathKind = 'missing' | 'directory' | 'file' | 'a broken symbolic link'

async function kindOf(p: string): Promise<PathKind> {
  try {
    return (await fsp.stat(p)).isDirectory() ? 'directory' : 'file'
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR')
      throw createError('ERR_WRITE_FAILED', { path: p, detail: e.code ?? e.message }, { cause: err })
    // stat follows links: a link to nowhere is in the way all the same
    return (await fsp.lstat(p).catch(() => undefined)) ? 'a broken symbolic link' : 'missing'
  }
}

/**
 * Refuse before writing anything: a path on the way to a file that is not a directory, a file's place taken by a
 * directory, or (without `force`) a file that exists. Returns the files that exist and the directories that writing
 * will create, deepest first.
 */
async function planWrites(dir: string, files: string[], force: boolean) {
  const conflict = (file: string, p: string, what: string) =>
    createError('ERR_INIT_PATH_CONFLICT', {
      dir,
      file,
      path: p === dir || !p.startsWith(dir) ? p : path.relative(dir, p),
      what,
    })
  const kinds = new Map<string, PathKind>()
  const kind = async (p: string) => {
    const known = kinds.get(p)
    if (known !== undefined) return known
    const k = await kindOf(p)
    kinds.set(p, k)
    return k
  }
  // `dir` and the directories above it that do not exist yet: the nearest that does must be a directory
  const missingDirs: string[] = []
  let top = dir
  while ((await kind(top)) === 'missing' && path.dirname(top) !== top) {
    missingDirs.push(top)
    top = path.dirname(top)
  }
  const topKind = await kind(top)
  if (topKind !== 'directory' && files.length > 0) throw conflict(files[0]!, top, describe(topKind, 'directory'))
  const existing = new Set<string>()
  for (const rel of files) {
    const parts = rel.split('/')
    let at = dir
    for (const part of parts.slice(0, -1)) {
      at = path.join(at, part)
      const k = await kind(at)
      if (k === 'missing') {
        if (!missingDirs.includes(at)) missingDirs.push(at)
      } else if (k !== 'directory') throw conflict(rel, at, describe(k, 'directory'))
    }
    const file = path.join(dir, rel)
    const k = await kind(file)
    if (k === 'missing') continue
    if (k !== 'file') throw conflict(rel, file, describe(k, 'file'))
    if (!force) throw createError('ERR_INIT_NOT_EMPTY', { dir, file: rel })
    existing.add(rel)
  }
  missingDirs.sort((a, b) => b.length - a.length)
  return { existing, missingDirs }
}

function describe(kind: PathKind, needed: 'directory' | 'file'): string {
  if (kind === 'a broken symbolic link') return kind
  return needed === 'directory' ? 'a file, not a directory' : 'a directory, not a file'
}
