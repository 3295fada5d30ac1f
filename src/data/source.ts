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
 * Data as committed at `ref` (a branch, tag or commit), read from git's objects; `signal` ends the git process under
 * way. Symbolic links are followed within the revision's tree as the working tree's are (`fsSource`): a link's
 * target is read from the link's own directory, a link to a data file is data, a linked directory is walked, each
 * directory and file once; a link that leads out of the project is ERR_PATH_OUTSIDE_PROJECT, and one to nothing is
 * skipped by a walk and not found when a data path names it.
 */
export async function gitSource(root: string, ref: string, signal?: AbortSignal): Promise<DataSource> {
  const absRoot = path.resolve(root)
  if (ref.startsWith('-')) throw createError('ERR_GIT', { command: 'rev-parse', detail: `"${ref}" is not a ref` })
  const gitIn = (args: string[]) => git(absRoot, args, undefined, signal)
  // The commit itself, so that every read is of one revision even if the branch moves meanwhile.
  const commit = (
    await gitIn(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => {
      throw createError('ERR_GIT', { command: 'rev-parse', detail: `unknown revision "${ref}"` })
    })
  )
    .toString('utf8')
    .trim()
  // Tree paths are relative to the repository's top; the project may sit in a subdirectory of it.
  const [top = absRoot, prefix = ''] = (await gitIn(['rev-parse', '--show-toplevel', '--show-prefix']))
    .toString('utf8')
    .split('\n')
  const tree = revisionTree(gitIn, commit, { top, project: prefix.replace(/\/$/, ''), absRoot })
  const label = (rel: string) => `${ref}:${rel}`
  /** A path the project's `rel` resolved to, or the catalog error for where it leads instead. */
  const resolveOrThrow = async (rel: string) => {
    const r = await tree.resolve(rel)
    if (r.kind === 'outside') {
      throw createError('ERR_PATH_OUTSIDE_PROJECT', { path: `${label(rel)} (${r.where})`, root: absRoot })
    }
    if (r.kind === 'missing') {
      throw createError('ERR_FILE_NOT_FOUND', { path: r.where ? `${label(rel)} (a link to ${r.where})` : label(rel) })
    }
    if (r.kind === 'loop') throw createError('ERR_FILE_UNREADABLE', { path: label(rel), detail: LOOP })
    return r
  }
  return {
    root: absRoot,
    label: ref,
    async list(relPath) {
      const rel = toRootRelative(absRoot, relPath)
      const start = await resolveOrThrow(rel)
      if (start.entry.type !== 'tree') return [rel]
      // As in fsSource: each directory walked once, by the path it really has; linked directories after the others.
      const walked = new Set<string>()
      const linkedDirs: Array<{ name: string; real: string }> = []
      const found: Array<{ name: string; real: string }> = []
      const enter = async (dir: string, real: string) => {
        if (walked.has(real)) return
        walked.add(real)
        const entries = [...(await tree.children(real, true)).values()].sort((a, b) => compare(a.name, b.name))
        for (const e of entries) {
          if (e.name.startsWith('.')) continue
          const child = dir === '.' ? e.name : `${dir}/${e.name}`
          const realChild = real === '' ? e.name : `${real}/${e.name}`
          const isData = DATA_EXTENSIONS.has(path.posix.extname(e.name).toLowerCase())
          if (e.type === 'tree') {
            if (!SKIP_DIRS.has(e.name)) await enter(child, realChild)
          } else if (e.type === 'blob' && !e.link) {
            if (isData) found.push({ name: child, real: realChild })
          } else if (e.link) {
            const r = await tree.resolve(child)
            if (r.kind === 'resolved') {
              if (r.entry.type === 'tree') {
                if (!SKIP_DIRS.has(e.name)) linkedDirs.push({ name: child, real: r.path })
              } else if (r.entry.type === 'blob' && isData) found.push({ name: child, real: r.path })
            } else if (r.kind === 'outside') {
              // As the working tree's walk: a link to a data file out of the project is listed, and refused when
              // read; a link to a directory out of it is refused here. Out of the repository the revision cannot
              // tell which a link leads to, so one with a data file's name is taken for a file, any other for a
              // directory.
              if (isData && r.isDirectory !== true) found.push({ name: child, real: '' })
              else if (r.isDirectory !== false && !SKIP_DIRS.has(e.name)) {
                throw createError(
                  'ERR_PATH_OUTSIDE_PROJECT',
                  { path: `${label(child)} (${r.where})`, root: absRoot },
                  { location: { file: child } },
                )
              }
            }
            // A link to nothing, or round in a loop, is neither, as in the working tree.
          }
        }
      }
      await enter(rel, start.path)
      for (let i = 0; i < linkedDirs.length; i++) await enter(linkedDirs[i]!.name, linkedDirs[i]!.real)
      found.sort((a, b) => compare(a.name, b.name))
      // Each file once, under its own name when that is among them, else the first (see readOnce).
      const chosen = new Map<string, string>()
      for (const f of found) {
        if (f.real === '') continue
        if (!chosen.has(f.real) || f.real === tree.repoPath(f.name)) chosen.set(f.real, f.name)
      }
      const kept = new Set(chosen.values())
      return found.filter((f) => f.real === '' || kept.has(f.name)).map((f) => f.name)
    },
    async read(relPath) {
      const rel = toRootRelative(absRoot, relPath)
      const r = await resolveOrThrow(rel)
      if (r.entry.type !== 'blob') {
        const detail = r.entry.type === 'tree' ? 'it is a directory' : 'it is a submodule'
        throw createError('ERR_FILE_UNREADABLE', { path: label(rel), detail })
      }
      if (r.entry.size > DEFAULT_MAX_TEXT_FILE_BYTES) {
        throw createError('ERR_FILE_TOO_LARGE', {
          path: rel,
          size: r.entry.size,
          limit: DEFAULT_MAX_TEXT_FILE_BYTES,
        })
      }
      return decodeUtf8(await gitIn(['cat-file', 'blob', r.entry.oid]), rel)
    },
  }
}

const LOOP = 'its symbolic links lead round in a loop (or through more than 40 links)'

/** An entry of a tree at a revision. */
interface TreeEntry {
  name: string
  type: 'blob' | 'tree' | 'commit'
  /** A symbolic link: a blob holding the link's target. */
  link: boolean
  oid: string
  /** Bytes, for a blob. */
  size: number
}

/** The repository's top tree, or a directory reached by `..`: a tree whose entry nothing needs. */
const TOP: TreeEntry = { name: '', type: 'tree', link: false, oid: '', size: 0 }

type Resolved =
  /** `path` from the repository's top, with no link on the way. */
  | { kind: 'resolved'; path: string; entry: TreeEntry }
  /** Nothing there: `where` is the path a link led to, when one did. */
  | { kind: 'missing'; where?: string }
  /**
   * Out of the project: `where` as an absolute path of this checkout; whether it is a directory, when the revision
   * tells (inside the repository).
   */
  | { kind: 'outside'; where: string; isDirectory?: boolean }
  | { kind: 'loop' }

/**
 * The tree of `commit`, read from git a directory at a time (a walk's whole directory at once) and kept, and paths
 * in it resolved through its symbolic links as the system resolves them on disk.
 */
function revisionTree(
  gitIn: (args: string[]) => Promise<Buffer>,
  commit: string,
  at: { top: string; project: string; absRoot: string },
) {
  /** Directories read, from the repository's top ('' the top itself), by their entries' names. */
  const dirs = new Map<string, Map<string, TreeEntry>>()
  const linkTexts = new Map<string, string>()
  const join = (a: string, b: string) => (a === '' ? b : b === '' ? a : `${a}/${b}`)

  /** The entries of the tree `dir` (a path with no link on it); `whole`: read everything below it at once. */
  async function children(dir: string, whole = false): Promise<Map<string, TreeEntry>> {
    const known = dirs.get(dir)
    if (known) return known
    // `commit:path` names the tree itself, so no name is read as a pathspec pattern; `--full-tree`: all of it,
    // whatever directory of the repository git runs in.
    const out = await gitIn(['ls-tree', '--full-tree', '-z', '-l', ...(whole ? ['-r', '-t'] : []), `${commit}:${dir}`])
    dirs.set(dir, new Map())
    for (const line of out.toString('utf8').split('\0')) {
      const tab = line.indexOf('\t')
      if (tab === -1) continue
      const [mode, type, oid, size] = line.slice(0, tab).split(/ +/) as [string, TreeEntry['type'], string, string]
      const rel = line.slice(tab + 1)
      const slash = rel.lastIndexOf('/')
      const parent = join(dir, slash === -1 ? '' : rel.slice(0, slash))
      const name = rel.slice(slash + 1)
      const entry: TreeEntry = { name, type, link: mode === '120000', oid, size: Number(size) || 0 }
      const map = dirs.get(parent) ?? new Map<string, TreeEntry>()
      dirs.set(parent, map)
      map.set(name, entry)
      // `-t` lists a tree before what it holds: an empty one is known to be empty.
      if (whole && type === 'tree' && !dirs.has(join(parent, name))) dirs.set(join(parent, name), new Map())
    }
    return dirs.get(dir)!
  }

  async function linkText(entry: TreeEntry): Promise<string> {
    let text = linkTexts.get(entry.oid)
    if (text === undefined) {
      text = (await gitIn(['cat-file', 'blob', entry.oid])).toString('utf8')
      linkTexts.set(entry.oid, text)
    }
    return text
  }

  const inProject = (p: string) => at.project === '' || p === at.project || p.startsWith(`${at.project}/`)
  const onDisk = (parts: readonly string[]) => path.join(at.top, ...parts)
  // Where the repository's top is on disk: as git reports it (links resolved), and as the project's path names it.
  const checkoutBases = [
    at.top,
    path.resolve(
      at.absRoot,
      ...at.project
        .split('/')
        .filter(Boolean)
        .map(() => '..'),
    ),
  ]

  /** Resolve the project's `rel` through the links of the revision, at most 40 of them, as the kernel allows. */
  async function resolve(rel: string): Promise<Resolved> {
    // What is left to walk, and the path walked so far, from the repository's top, with no link on it.
    let todo = [...at.project.split('/'), ...rel.split('/')]
    const cur: string[] = []
    let entry: TreeEntry = TOP
    let hops = 0
    // The target of the last link followed, as written: what a link to nothing is reported as leading to.
    let linkedTo: string | undefined
    while (todo.length > 0) {
      const part = todo.shift()!
      if (part === '' || part === '.') continue
      if (part === '..') {
        if (cur.length === 0) return { kind: 'outside', where: path.resolve(at.top, '..', ...todo) }
        cur.pop()
        entry = TOP // a directory: the one the path was in
        continue
      }
      if (entry.type !== 'tree') return { kind: 'missing', where: linkedTo }
      const e = (await children(cur.join('/'))).get(part)
      if (!e) return { kind: 'missing', where: linkedTo }
      if (!e.link) {
        cur.push(part)
        entry = e
        continue
      }
      if (++hops > 40) return { kind: 'loop' }
      const target = await linkText(e)
      linkedTo = target
      if (path.posix.isAbsolute(target)) {
        // An absolute link names a place on disk: followed where it lies in this checkout, as it is on disk.
        const inCheckout = checkoutBases
          .map((base) => path.relative(base, target))
          .find((r) => !r.startsWith('..') && !path.isAbsolute(r))
        if (inCheckout === undefined) return { kind: 'outside', where: path.resolve(target, ...todo) }
        cur.length = 0
        todo = [...inCheckout.split(path.sep), ...todo]
      } else {
        // Relative: from the link's own directory, which `cur` is.
        todo = [...target.split('/'), ...todo]
      }
      entry = TOP
    }
    if (!inProject(cur.join('/'))) return { kind: 'outside', where: onDisk(cur), isDirectory: entry.type === 'tree' }
    return { kind: 'resolved', path: cur.join('/'), entry }
  }

  return {
    children,
    resolve,
    /** The path from the repository's top of the project's `rel`, as named (links not followed). */
    repoPath: (rel: string) => join(at.project, rel),
  }
}
