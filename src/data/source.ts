/**
 * Where training data is read from: the working tree, or a git revision (for `intentops data diff`). Paths are
 * relative to the project root with `/` separators, and nothing outside the root is ever read.
 * @module
 */
import { execFile } from 'node:child_process'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { createError } from '../errors.js'
import { assertInside, DEFAULT_MAX_TEXT_FILE_BYTES, decodeUtf8, readTextFile } from '../util/fs.js'
import { DATA_EXTENSIONS } from './formats/index.js'

export interface DataSource {
  /** Absolute project root. */
  readonly root: string
  /** Shown in reports: `working tree` or the git ref. */
  readonly label: string
  /** Data files at a root-relative path: the file itself, or every data file below a directory, sorted. */
  list(relPath: string): Promise<string[]>
  /** The text of a root-relative file; throws catalog errors (not found, binary, too large, bad UTF-8). */
  read(relPath: string): Promise<string>
}

/** Directories a walk never enters. */
const SKIP_DIRS = new Set(['node_modules', 'dist', 'results'])

/** Make `p` (relative to `root` or absolute) root-relative with `/` separators; refuse paths outside the root. */
export function toRootRelative(root: string, p: string): string {
  assertInside(root, p)
  const rel = path.relative(path.resolve(root), path.resolve(root, p))
  return rel.split(path.sep).join('/') || '.'
}

/** Data in the working tree under `root`; symlinks that lead outside it are refused. */
export function fsSource(root: string): DataSource {
  const absRoot = path.resolve(root)
  const abs = (rel: string) => path.join(absRoot, ...rel.split('/'))
  return {
    root: absRoot,
    label: 'working tree',
    async list(relPath) {
      const rel = toRootRelative(absRoot, relPath)
      let stat: import('node:fs').Stats
      try {
        stat = await fsp.stat(abs(rel))
      } catch (err) {
        throw createError('ERR_FILE_NOT_FOUND', { path: rel }, { cause: err })
      }
      if (!stat.isDirectory()) return [rel]
      const realRoot = await fsp.realpath(absRoot).catch(() => absRoot)
      // Real paths of the directories walked: a directory reached again, through a link back up (a loop) or under a
      // second name, is not walked again.
      const walked = new Set<string>()
      // Links to directories, walked after the directories themselves, so that a directory inside the walk is read
      // under its own name rather than a link's.
      const linkedDirs: string[] = []
      const found: string[] = []
      const enter = async (dir: string) => {
        const real = await fsp.realpath(abs(dir))
        if (!isInside(realRoot, real)) {
          throw createError(
            'ERR_PATH_OUTSIDE_PROJECT',
            { path: `${dir} (${real})`, root: absRoot },
            { location: { file: dir } },
          )
        }
        if (walked.has(real)) return
        walked.add(real)
        // In name order, so the walk, and the name a file reached twice is read under, never depend on the file system.
        const entries = (await fsp.readdir(abs(dir), { withFileTypes: true })).sort((a, b) => compare(a.name, b.name))
        for (const e of entries) {
          if (e.name.startsWith('.')) continue
          const child = dir === '.' ? e.name : `${dir}/${e.name}`
          const isData = DATA_EXTENSIONS.has(path.extname(e.name).toLowerCase())
          if (e.isDirectory()) {
            if (!SKIP_DIRS.has(e.name)) await enter(child)
          } else if (e.isFile()) {
            if (isData) found.push(child)
          } else if (e.isSymbolicLink()) {
            // A link to a data file is data, as when a data path names it; a link to a directory (a shared folder of
            // NLU files) is walked. A link to nothing, or round in a loop, is neither.
            const st = await fsp.stat(abs(child)).catch(() => undefined)
            if (st?.isDirectory()) {
              if (!SKIP_DIRS.has(e.name)) linkedDirs.push(child)
            } else if (st?.isFile() && isData) found.push(child)
          }
        }
      }
      await enter(rel)
      // Walking a linked directory may meet more links: they join the end of the list.
      for (let i = 0; i < linkedDirs.length; i++) await enter(linkedDirs[i]!)
      return readOnce(found.sort(compare), absRoot, realRoot)
    },
    async read(relPath) {
      const rel = toRootRelative(absRoot, relPath)
      const file = abs(rel)
      // A symlink inside the project may point outside it: check where it really leads.
      const real = await fsp.realpath(file).catch(() => file)
      const realRoot = await fsp.realpath(absRoot).catch(() => absRoot)
      if (real !== file && !isInside(realRoot, real)) {
        throw createError('ERR_PATH_OUTSIDE_PROJECT', { path: `${rel} (${real})`, root: absRoot })
      }
      return readTextFile(file, { root: absRoot })
    },
  }
}

/** Compare by UTF-16 code units, as `Array.prototype.sort` does by default: the same order everywhere. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p)
  return !rel.startsWith('..') && !path.isAbsolute(rel)
}

/**
 * `names` (root-relative, in order) with each file reached under several names through links kept once: under its
 * own name, the one with no link on the way, when that is among them, else under the first. So a shared file is read
 * once, not once per link. A name whose file cannot be resolved is kept, for reading to report. Keeps the order.
 */
async function readOnce(names: readonly string[], absRoot: string, realRoot: string): Promise<string[]> {
  const chosen = new Map<string, string>()
  const unresolved = new Set<string>()
  for (const name of names) {
    const real = await fsp.realpath(path.join(absRoot, ...name.split('/'))).catch(() => undefined)
    if (real === undefined) {
      unresolved.add(name)
      continue
    }
    const own = path.relative(realRoot, real).split(path.sep).join('/') === name
    if (!chosen.has(real) || own) chosen.set(real, name)
  }
  const kept = new Set(chosen.values())
  return names.filter((n) => kept.has(n) || unresolved.has(n))
}

/** Run git in `cwd`; resolves stdout as a Buffer, rejects with ERR_GIT. `signal` ends the git process. */
export function git(
  cwd: string,
  args: string[],
  maxBuffer = DEFAULT_MAX_TEXT_FILE_BYTES * 2,
  signal?: AbortSignal,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const options = { cwd, encoding: 'buffer' as const, maxBuffer, ...(signal ? { signal } : {}) }
    execFile('git', args, options, (err, stdout, stderr) => {
      if (err) {
        const detail = (stderr?.toString('utf8').trim().split('\n')[0] || err.message).slice(0, 300)
        reject(createError('ERR_GIT', { command: args.slice(0, 2).join(' '), detail }, { cause: err }))
      } else resolve(stdout)
    })
  })
}

/**
 * Data as committed at `ref` (a branch, tag or commit), read with `git ls-tree` and `git show`; `signal` ends the git
 * process under way.
 */
export async function gitSource(root: string, ref: string, signal?: AbortSignal): Promise<DataSource> {
  const absRoot = path.resolve(root)
  if (ref.startsWith('-')) throw createError('ERR_GIT', { command: 'rev-parse', detail: `"${ref}" is not a ref` })
  const gitIn = (args: string[]) => git(absRoot, args, undefined, signal)
  await gitIn(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => {
    throw createError('ERR_GIT', { command: 'rev-parse', detail: `unknown revision "${ref}"` })
  })
  // ls-tree paths are relative to the repository top; the project may sit in a subdirectory of it.
  const prefix = (await gitIn(['rev-parse', '--show-prefix'])).toString('utf8').trim()
  return {
    root: absRoot,
    label: ref,
    async list(relPath) {
      const rel = toRootRelative(absRoot, relPath)
      const spec = rel === '.' ? '.' : rel
      const out = (
        await gitIn([
          'ls-tree',
          '-r',
          '-z',
          '--name-only',
          '--full-tree',
          ref,
          '--',
          `${prefix}${spec === '.' ? '' : spec}`,
        ])
      )
        .toString('utf8')
        .split('\0')
        .filter(Boolean)
        .map((f) => f.slice(prefix.length))
      const files = out.filter((f) => (f === rel ? true : DATA_EXTENSIONS.has(path.posix.extname(f).toLowerCase())))
      const visible = files.filter((f) => !f.split('/').some((part) => part.startsWith('.') || SKIP_DIRS.has(part)))
      if (visible.length === 0 && !out.includes(rel)) {
        throw createError('ERR_FILE_NOT_FOUND', { path: `${ref}:${rel}` })
      }
      return visible.sort()
    },
    async read(relPath) {
      const rel = toRootRelative(absRoot, relPath)
      const buf = await gitIn(['show', `${ref}:${prefix}${rel}`]).catch((err) => {
        throw createError('ERR_FILE_NOT_FOUND', { path: `${ref}:${rel}` }, { cause: err })
      })
      if (buf.length > DEFAULT_MAX_TEXT_FILE_BYTES) {
        throw createError('ERR_FILE_TOO_LARGE', { path: rel, size: buf.length, limit: DEFAULT_MAX_TEXT_FILE_BYTES })
      }
      return decodeUtf8(buf, rel)
    },
  }
}
