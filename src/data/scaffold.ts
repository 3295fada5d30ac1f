/**
 * `intentops init`: copy a project template (config, training data, must-pass tests) into a directory.
 * @module
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createError } from '../errors.js'
import { pathExists, writeFileAtomic } from '../util/fs.js'

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
}

/** Scaffold a project into `dir` (created when missing). Returns the files written, relative to `dir`. */
export async function scaffoldProject(dir: string, options: ScaffoldOptions = {}): Promise<string[]> {
  const template = options.template ?? 'default'
  if (!PROJECT_TEMPLATES.includes(template)) {
    throw createError('ERR_CLI_USAGE', {
      detail: `unknown template "${template}"; choose ${PROJECT_TEMPLATES.join(' or ')}`,
    })
  }
  const from = path.join(templatesDir(), template)
  const files = await listFiles(from)
  const target = (f: string) => {
    const parts = f.split('/')
    const last = parts.pop()!
    return [...parts, RENAMES[last] ?? last].join('/')
  }
  if (!options.force) {
    for (const f of files) {
      if (await pathExists(path.join(dir, target(f)))) throw createError('ERR_INIT_NOT_EMPTY', { dir, file: target(f) })
    }
  }
  const written: string[] = []
  for (const f of files) {
    await writeFileAtomic(path.join(dir, target(f)), await fsp.readFile(path.join(from, f)))
    written.push(target(f))
  }
  return written
}
