/**
 * Safe file access: size-bounded, UTF-8-checked reads and atomic writes (temp file + rename).
 * @module
 */
import { randomBytes } from 'node:crypto'
import {
  accessSync,
  closeSync,
  fchmodSync,
  fchownSync,
  constants as fsConstants,
  promises as fsp,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  rmSync,
  type Stats,
  statSync,
} from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { createError, type IntentopsError, isIntentopsError } from '../errors.js'

/** Data and config files larger than this are refused before they are parsed. */
export const DEFAULT_MAX_TEXT_FILE_BYTES = 20 * 1024 * 1024

export interface ReadTextOptions {
  /** Refuse files larger than this many bytes. */
  maxBytes?: number
  /** When set, refuse paths that resolve outside this directory. */
  root?: string
}

/** Read a UTF-8 text file with clear errors for missing, huge, binary or mis-encoded files. */
export async function readTextFile(file: string, options: ReadTextOptions = {}): Promise<string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TEXT_FILE_BYTES
  if (options.root) assertInside(options.root, file)
  let stat: import('node:fs').Stats
  try {
    stat = await fsp.stat(file)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') throw createError('ERR_FILE_NOT_FOUND', { path: file }, { cause: err })
    throw createError('ERR_FILE_UNREADABLE', { path: file, detail: e.code ?? e.message }, { cause: err })
  }
  if (stat.isDirectory()) throw createError('ERR_FILE_UNREADABLE', { path: file, detail: 'it is a directory' })
  if (stat.size > maxBytes) throw createError('ERR_FILE_TOO_LARGE', { path: file, size: stat.size, limit: maxBytes })
  let buf: Buffer
  try {
    buf = await fsp.readFile(file)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw createError('ERR_FILE_UNREADABLE', { path: file, detail: e.code ?? e.message }, { cause: err })
  }
  return decodeUtf8(buf, file)
}

/** Decode strictly: a NUL byte means binary, a bad sequence is reported with its byte offset. */
export function decodeUtf8(buf: Uint8Array, file: string): string {
  const nul = buf.indexOf(0)
  if (nul !== -1) throw createError('ERR_FILE_BINARY', { path: file })
  try {
    let text = new TextDecoder('utf-8', { fatal: true }).decode(buf)
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    return text
  } catch {
    throw createError('ERR_FILE_ENCODING', { path: file, offset: firstInvalidUtf8Offset(buf) })
  }
}

function firstInvalidUtf8Offset(buf: Uint8Array): number {
  let i = 0
  while (i < buf.length) {
    const b = buf[i]!
    const len = b < 0x80 ? 1 : b >> 5 === 0b110 ? 2 : b >> 4 === 0b1110 ? 3 : b >> 3 === 0b11110 ? 4 : 0
    if (len === 0 || i + len > buf.length) return i
    for (let k = 1; k < len; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return i
    i += len
  }
  return i
}

/** Throw ERR_PATH_OUTSIDE_PROJECT unless `file` resolves inside `root`. */
export function assertInside(root: string, file: string): void {
  const rel = path.relative(path.resolve(root), path.resolve(root, file))
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw createError('ERR_PATH_OUTSIDE_PROJECT', { path: file, root })
  }
}

/**
 * Temporary files of atomic writes in progress in this process. A signal handler that ends the process removes them
 * (`removePendingTempFilesSync`), since no `finally` runs after `process.exit`.
 */
const pendingTempFiles = new Set<string>()

/** A fresh temporary path beside `file`, registered as in progress until `releaseTempPath`. */
export function tempPathFor(file: string): string {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  )
  pendingTempFiles.add(tmp)
  return tmp
}

/** The write that owned `tmp` renamed or removed it. */
export function releaseTempPath(tmp: string): void {
  pendingTempFiles.delete(tmp)
}

/** Remove the temporary files of every write still in progress; returns their paths. For the CLI's signal handler. */
export function removePendingTempFilesSync(): string[] {
  const removed = [...pendingTempFiles]
  for (const tmp of removed) {
    try {
      rmSync(tmp, { force: true })
    } catch {
      // best effort: the process is ending
    }
  }
  pendingTempFiles.clear()
  return removed
}

/**
 * Create a directory and its parents for output (see `makeOutputDir`); ERR_WRITE_FAILED names it and says why it
 * cannot be made.
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await makeOutputDir(dir)
  } catch (err) {
    throw await writeError(dir, err)
  }
}

/** `ensureDir` for synchronous code (opening a SQLite file). */
export function ensureDirSync(dir: string): void {
  try {
    makeOutputDirSync(dir)
  } catch (err) {
    throw writeErrorSync(dir, err)
  }
}

/**
 * Create `dir` and its missing parents, for output in a project. Each directory made inside another user's directory
 * is given that directory's owner and group, where the writer may give files away (root, CAP_CHOWN), with permission
 * bits no wider than that directory's nor than the umask allows: root (cron, CI) making a report folder in a user's
 * project leaves one the user can write into, not one of root's. A writer that may not, and any writer in a directory
 * of its own, makes directories as `mkdir -p` does. Failures are the system's errors.
 */
export async function makeOutputDir(dir: string): Promise<void> {
  // A few system calls, once an output folder: the synchronous walk serves both, so the two cannot part.
  makeOutputDirSync(dir)
}

/** `makeOutputDir` for synchronous code (opening a SQLite file). */
export function makeOutputDirSync(dir: string): void {
  const { parent, missing } = missingDirsSync(path.resolve(dir))
  // A file in the way, or a path that cannot be looked at: mkdir says why, as it always did.
  if (!parent?.isDirectory()) return void mkdirSync(dir, { recursive: true })
  for (const d of missing) {
    try {
      mkdirSync(d)
    } catch (err) {
      // Made meanwhile by another writer: its directory, left as it is.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue
      throw err
    }
    if (parent.uid === lstatSync(d).uid) continue
    // Through a descriptor of the directory itself: a link put in its place meanwhile is not followed (ELOOP), so no
    // other file is ever given away.
    const fd = openSync(d, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW)
    try {
      const made = fstatSync(fd)
      const bits = adoptedDirBits(made, parent)
      if (bits === undefined) continue
      // The group, then the bits, while the directory is still the writer's (a process that may give files away and
      // no more, CAP_CHOWN, may not change the bits of another's), the owner last. A mount that refuses chmod leaves
      // the umask's bits. A writer that may not give it away keeps it, as mkdir made it.
      const chmod = (mode: number) => {
        try {
          fchmodSync(fd, mode)
        } catch {
          // a mount that refuses chmod
        }
      }
      try {
        if (made.gid !== parent.gid) fchownSync(fd, made.uid, parent.gid)
        chmod(bits)
        fchownSync(fd, parent.uid, parent.gid)
      } catch {
        tryFchown(fd, made.uid, made.gid)
        chmod(made.mode & 0o7777)
      }
    } finally {
      closeSync(fd)
    }
  }
}

/**
 * The permission bits a directory just `made` takes when given to the owner of `parent`, the nearest directory that
 * existed: its own (the umask's) narrowed to the parent's, keeping the set-group-ID bit the system gave it. Undefined
 * when `parent` is the writer's own, where nothing is given away, or `made` is not a directory of the writer's.
 */
function adoptedDirBits(made: Stats, parent: Stats): number | undefined {
  if (!made.isDirectory() || parent.uid === made.uid || made.uid !== process.geteuid?.()) return undefined
  return (made.mode & 0o7000) | (made.mode & parent.mode & 0o777)
}

/** The nearest ancestor of `dir` (or `dir`) that exists, if it can be looked at, and the directories below it to make. */
function missingDirsSync(dir: string): { parent: Stats | undefined; missing: string[] } {
  const missing: string[] = []
  for (let cur = dir; ; cur = path.dirname(cur)) {
    try {
      return { parent: statSync(cur), missing }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(cur) === cur) return { parent: undefined, missing }
      missing.unshift(cur)
    }
  }
}

/** ERR_WRITE_FAILED for `file`, with the system's reason in words (and its code, for searching). */
export async function writeError(file: string, err: unknown): Promise<IntentopsError> {
  return writeErrorSync(file, err)
}

/** `writeError` for synchronous code. It looks at the file system only after a failure, so blocking is no cost. */
export function writeErrorSync(file: string, err: unknown): IntentopsError {
  if (isIntentopsError(err)) return err
  return createError('ERR_WRITE_FAILED', { path: file, detail: writeFailureReason(file, err) }, { cause: err })
}

/** What the system's error codes mean for a write, in words. */
const WRITE_REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EISDIR: 'it is a directory',
  ENAMETOOLONG: 'the name is too long',
  ENOENT: 'a directory on the path does not exist',
  ELOOP: 'its symbolic links lead round in a loop (or through more than 40 links)',
}

function writeFailureReason(file: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException
  // Recursive mkdir reports a file in the way as EEXIST or ENOTDIR, and a directory it may not write to (a
  // read-only mount) as ENOENT: the nearest existing ancestor tells which.
  if (e.code === 'ENOTDIR' || e.code === 'ENOENT' || (e.code === 'EEXIST' && e.syscall === 'mkdir')) {
    const ancestor = nearestExisting(file)
    if (ancestor && !ancestor.isDirectory) return `${ancestor.path} is a file, not a directory (${e.code})`
    if (ancestor && e.code === 'ENOENT') {
      let denied: string | undefined
      try {
        accessSync(ancestor.path, fsConstants.W_OK)
      } catch (err) {
        denied = (err as NodeJS.ErrnoException).code
      }
      if (denied) return `${ancestor.path} is not writable: ${WRITE_REASONS[denied] ?? denied} (${denied})`
    }
  }
  const words = e.code ? WRITE_REASONS[e.code] : undefined
  if (words) return `${words} (${e.code})`
  // Node's messages read "CODE: reason, syscall 'path'": keep the reason and the code.
  const reason = /^[A-Z0-9]+: ([^,]+)/.exec(e.message ?? '')?.[1]
  return reason && e.code ? `${reason} (${e.code})` : (e.code ?? e.message ?? String(err))
}

/** `p` or its nearest ancestor that exists. */
function nearestExisting(p: string): { path: string; isDirectory: boolean } | undefined {
  for (let cur = path.resolve(p); ; cur = path.dirname(cur)) {
    try {
      return { path: cur, isDirectory: statSync(cur).isDirectory() }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(cur) === cur) return undefined
    }
  }
}

/** Permission bits of files that hold logged messages (exports of the log, reports made from it): the owner's alone. */
export const PRIVATE_FILE_MODE = 0o600

/**
 * The mode for a file that repeats what `input` holds (messages, say): undefined, the usual mode, when its group and
 * others may all read `input`, else PRIVATE_FILE_MODE (an export of the prediction log is 0600, a 0640 file is kept
 * from others). So a copy is never readable by people who could not read its source.
 */
export async function modeOfCopy(input: string): Promise<number | undefined> {
  try {
    return ((await fsp.stat(input)).mode & 0o044) === 0o044 ? undefined : PRIVATE_FILE_MODE
  } catch {
    // Unreadable by now: nobody can tell who could read it, so the copy is private.
    return PRIVATE_FILE_MODE
  }
}

/** Who owns a file and who may open it: what a replaced file passes on to its replacement. */
export interface FileAttributes {
  /** Permission bits (0o777 at most). */
  mode: number
  /** Owner; undefined: the writer. */
  uid?: number
  /** Group; undefined: the writer's. */
  gid?: number
}

/**
 * What a new file placed among `files` takes from them (see `WriteFileAtomicOptions.newFileLike`): the permission
 * bits every one of them has, so the new file is open to nobody who could not open each of them; their owner when
 * they all have one; their group when they all have one, else no group bits. Files that are gone or not regular are
 * left out; undefined when none is left. Symbolic links are followed.
 */
export async function commonAttributes(files: readonly string[]): Promise<FileAttributes | undefined> {
  let common: FileAttributes | undefined
  for (const file of files) {
    const st = await regularFileStat(file)
    if (!st) continue
    if (!common) common = { mode: st.mode & 0o777, uid: st.uid, gid: st.gid }
    else {
      common.mode &= st.mode
      if (common.uid !== st.uid) delete common.uid
      if (common.gid !== st.gid) delete common.gid
    }
  }
  if (common && common.gid === undefined) common.mode &= ~0o070
  return common
}

export interface WriteFileAtomicOptions {
  /**
   * The file's permission bits (e.g. 0o600 for a private key), whatever the umask. A file the write replaces that
   * lacks some of these bits keeps lacking them (0o400 stays 0o400): a replacement never opens a file wider than it
   * was. Without a mode (or `newFileLike`), a new file gets 0o666 less the umask and a replaced file keeps its
   * permission bits. A new file in another user's directory may be narrowed further and given away: see
   * `createTempFileFor`, which also says when the bits are set.
   */
  mode?: number
  /**
   * For a file that does not exist yet: the permission bits, owner and group it is created with, whatever the umask,
   * as a replaced file keeps its own (the owner only where the writer may give files away, the group's bits dropped
   * where it may not give the group; see `createTempFileFor`). `mode`, when set too, narrows these bits.
   */
  newFileLike?: FileAttributes
  /**
   * When set, the file written must lie inside this directory once symbolic links are followed, those of its
   * directories too, else ERR_PATH_OUTSIDE_PROJECT: a link in the project never leads a write out of it, as the data
   * loader never reads through one.
   */
  root?: string
}

/** Links followed one after another before a write gives up, as the kernel does (ELOOP). */
const MAX_LINK_HOPS = 40

/**
 * The file a write to `file` replaces: `file` itself, or, when it is a symbolic link, the file it leads to (through a
 * chain of links), so that the rename replaces that file and the link survives, showing the new content. A link to
 * a file that does not exist leads to a new file there when its directory exists; else ERR_WRITE_DANGLING_LINK,
 * since a missing directory may be a share not mounted, where none should be made. A link another user made is
 * followed only to what that user owns (ERR_WRITE_LINK_UNTRUSTED). Other failures are the system's errors (ELOOP
 * for a loop of links).
 */
export async function writeTarget(file: string): Promise<string> {
  const writer = process.geteuid?.()
  let cur = file
  // The owner of the last link followed, when it is not the writer: what it leads to must be that user's too.
  let linkOwner: number | undefined
  const trust = (owner: number, what: string) => {
    if (linkOwner !== undefined && owner !== linkOwner) {
      throw createError('ERR_WRITE_LINK_UNTRUSTED', { path: file, target: what, linkOwner, owner })
    }
  }
  for (let hops = 0; hops <= MAX_LINK_HOPS; hops++) {
    const st = await fsp.lstat(cur).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined
      throw err
    })
    if (st) trust(st.uid, cur)
    if (st?.isSymbolicLink()) {
      linkOwner = writer === undefined || st.uid === writer ? undefined : st.uid
      // A relative link is read from the link's real directory, as the system reads it: `..` after a linked
      // directory leaves the directory linked to, not the link.
      cur = path.resolve(await fsp.realpath(path.dirname(cur)), await fsp.readlink(cur))
      continue
    }
    // `file` itself missing is a new file, its directories made as for any output.
    if (st || cur === file) return cur
    const dir = path.dirname(cur)
    const dirStat = await fsp.stat(dir).catch(() => undefined)
    if (dirStat?.isDirectory()) {
      trust(dirStat.uid, dir)
      return cur
    }
    const detail = dirStat ? `${dir} is a file, not a directory` : `${dir} does not exist`
    throw createError('ERR_WRITE_DANGLING_LINK', { path: file, target: cur, detail })
  }
  throw Object.assign(new Error(`ELOOP: too many symbolic links, '${file}'`), { code: 'ELOOP' })
}

/** Throw ERR_PATH_OUTSIDE_PROJECT unless `target`, a write's file, lies inside `root` once links are followed. */
async function assertWriteInside(root: string, file: string, target: string): Promise<void> {
  const realRoot = await realLocation(root)
  const real = await realLocation(target)
  const rel = path.relative(realRoot, real)
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw createError('ERR_PATH_OUTSIDE_PROJECT', {
      path: real === path.resolve(file) ? file : `${file} (${real})`,
      root,
    })
  }
}

/** `p` with the links of its nearest existing ancestor resolved, and the names below that, which do not exist yet. */
async function realLocation(p: string): Promise<string> {
  const rest: string[] = []
  for (let cur = path.resolve(p); ; cur = path.dirname(cur)) {
    try {
      return path.join(await fsp.realpath(cur), ...rest)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(cur) === cur) return path.resolve(p)
      rest.unshift(path.basename(cur))
    }
  }
}

/**
 * A fresh temporary file to replace `file`, open for writing and registered as in progress: the caller writes,
 * syncs, closes and renames it over `target`, removes it on failure, and calls `releaseTempPath`. `target` is
 * `file`, or the file a symbolic link there leads to (see `writeTarget`), and the temporary file lies beside it, on
 * its file system. Its permission bits are those of `createTempFileFor`. A failure here leaves nothing behind and is
 * a catalog error naming `file` (ERR_WRITE_FAILED, or ERR_WRITE_DANGLING_LINK, ERR_PATH_OUTSIDE_PROJECT).
 */
export async function openTempFile(
  file: string,
  options: WriteFileAtomicOptions = {},
): Promise<{ tmp: string; fh: FileHandle; target: string }> {
  let target: string
  try {
    target = await writeTarget(file)
    if (options.root !== undefined) await assertWriteInside(options.root, file, target)
  } catch (err) {
    throw await writeError(file, err)
  }
  const tmp = tempPathFor(target)
  try {
    await makeOutputDir(path.dirname(target))
    return { tmp, fh: await createTempFileFor(target, tmp, options), target }
  } catch (err) {
    releaseTempPath(tmp)
    throw await writeError(file, err)
  }
}

/**
 * Create `tmp`, which must not exist, to be written and renamed over `file`, with the permission bits `file` is to
 * end with (see `WriteFileAtomicOptions.mode`), set before the first byte is written. When `file` exists, the bits
 * are its own (narrowed to `mode` when there is one), and the temporary file takes its owner and group (see
 * `giveOwnership`: the owner only where the writer may give files away, the group's bits dropped where it may not
 * give the group); a new file takes them from `newFileLike` the same way, when there is one, and else, in another
 * user's directory, that directory's owner and group (see `adoptedFileAttributes`). Until its owner, group and bits
 * are set the file is its owner's alone, so nobody can open it more widely than the file it becomes.
 * Failures are the system's errors; on one, `tmp` is removed.
 */
export async function createTempFileFor(
  file: string,
  tmp: string,
  options: Pick<WriteFileAtomicOptions, 'mode' | 'newFileLike'> = {},
): Promise<FileHandle> {
  const { mode } = options
  const old = await regularFileStat(file)
  const like: FileAttributes | undefined = old
    ? { mode: old.mode & 0o777, uid: old.uid, gid: old.gid }
    : options.newFileLike
  if (!like) return createNewTempFile(tmp, mode)
  // `wx`: the fresh name must not exist, else open would keep that file's owner and mode. The handle may write
  // whatever the mode: only later opens are checked against it.
  const bits = (mode ?? 0o777) & like.mode & 0o777
  const fh = await fsp.open(tmp, 'wx', bits & 0o700)
  try {
    // The umask only narrows the mode open applies; set it exactly, still before the first byte. After the group:
    // a group given later would find the bits already open to it.
    const chmod = async (b: number) => {
      try {
        await fh.chmod(b)
      } catch (err) {
        // Some mounts (FAT, some network shares) refuse chmod: the bits open gave are never wider than the file
        // replaced, so only a mode the caller asked for must hold.
        if (mode !== undefined) throw err
      }
    }
    await giveOwnership(fh, like, bits, chmod)
    return fh
  } catch (err) {
    await fh.close().catch(() => {})
    await fsp.rm(tmp, { force: true }).catch(() => {})
    throw err
  }
}

/**
 * The temporary file of a new file that follows no other: the writer's, with `mode` or else the umask's bits, unless
 * its directory is another user's and the writer may give it away (see `adoptedFileAttributes`). Owner, group and
 * bits are set before the first byte, through the handle `wx` opened, which never follows a link at the name.
 */
async function createNewTempFile(tmp: string, mode: number | undefined): Promise<FileHandle> {
  const bits = mode === undefined ? 0o666 & ~process.umask() : mode & 0o777
  const dir = await fsp.stat(path.dirname(tmp)).catch(() => undefined)
  const adopted = dir && adoptedFileAttributes(dir, bits)
  // The handle may write whatever the mode: only later opens are checked against it.
  if (!adopted && mode === undefined) return fsp.open(tmp, 'wx', 0o666)
  const fh = await fsp.open(tmp, 'wx', bits & 0o700)
  try {
    const chmod = (b: number) => {
      try {
        fchmodSync(fh.fd, b)
      } catch (err) {
        // As in createTempFileFor: a mount that refuses chmod keeps what open gave, the owner's bits alone.
        if (mode !== undefined) throw err
      }
    }
    // Calls on the descriptor, as for the SQLite file: a few of them, on a file nobody has written to yet.
    if (!adopted || !giveNewFileSync(fh.fd, await fh.stat(), adopted, chmod)) chmod(bits)
    return fh
  } catch (err) {
    await fh.close().catch(() => {})
    await fsp.rm(tmp, { force: true }).catch(() => {})
    throw err
  }
}

/**
 * What a file the writer creates in `dir`, to have the permission `bits`, takes from that directory when it is
 * another user's: its owner and group, and the bits narrowed to the directory's for the group and for others (a
 * 0644 file in a 0750 directory is 0640, a 0600 file stays 0600), as a directory made there is (`makeOutputDir`).
 * So root's cron or CI writing a new report, model or log in a user's project leaves it the user's. Undefined in a
 * directory of the writer's own, where a new file is the writer's.
 */
function adoptedFileAttributes(dir: Stats, bits: number): Required<FileAttributes> | undefined {
  const writer = process.geteuid?.()
  if (writer === undefined || !dir.isDirectory() || dir.uid === writer) return undefined
  return { uid: dir.uid, gid: dir.gid, mode: bits & (0o700 | (dir.mode & 0o077)) }
}

/**
 * Give the new file open at `fd`, of the writer (`own`), the owner, group and bits of `adopted`, where the writer may
 * give files away: true when it did. Else false, and the file is as it was but for its bits, which the caller sets
 * again. The group first, then the bits, both while the file is still the writer's (a process that may give files
 * away and no more, `CAP_CHOWN`, may not change a file's bits once it is another's), and the owner last: the bits
 * are never open to a group the file is not to have.
 */
function giveNewFileSync(
  fd: number,
  own: { uid: number; gid: number },
  adopted: Required<FileAttributes>,
  chmod: (bits: number) => void,
): boolean {
  // A writer that may not give the file away may still give it a group it is a member of: undone below.
  if (adopted.gid !== own.gid && !tryFchown(fd, own.uid, adopted.gid)) return false
  chmod(adopted.mode)
  if (tryFchown(fd, adopted.uid, adopted.gid)) return true
  fchownSync(fd, own.uid, own.gid)
  return false
}

function tryFchown(fd: number, uid: number, gid: number): boolean {
  try {
    fchownSync(fd, uid, gid)
    return true
  } catch {
    return false
  }
}

/**
 * Create `file` empty with exactly the permission `bits`, whatever the umask, for another program to open by name
 * (SQLite's database file, a lock file). In another user's directory it takes that directory's owner, group and bits
 * as any new file there (`adoptedFileAttributes`), but only where the writer can still open it for reading and
 * writing afterwards: root can, while a process that may give files away and no more (`CAP_CHOWN`) would shut
 * itself out of a 0600 file, and keeps it. A name that exists, even as a symbolic link, is left alone: false. Other
 * failures are the system's errors.
 */
export function createEmptyFileSync(file: string, bits: number): boolean {
  let fd: number
  try {
    // O_EXCL: never a file that exists, nor one a link at the name leads to.
    fd = openSync(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, bits & 0o700)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    let dir: Stats | undefined
    try {
      dir = statSync(path.dirname(file))
    } catch {
      dir = undefined
    }
    const adopted = dir && adoptedFileAttributes(dir, bits)
    const own = fstatSync(fd)
    const chmod = (b: number) => fchmodSync(fd, b)
    if (adopted && giveNewFileSync(fd, own, adopted, chmod)) {
      if (canOpenForWriting(file)) return true
      fchownSync(fd, own.uid, own.gid)
    }
    // The umask only narrows the mode open applies (077 would keep 0600, 0277 would take the owner's write away).
    chmod(bits)
    return true
  } finally {
    closeSync(fd)
  }
}

/** Whether this process may open `file` for reading and writing, as the program it is made for will. */
function canOpenForWriting(file: string): boolean {
  let fd: number
  try {
    fd = openSync(file, fsConstants.O_RDWR | fsConstants.O_NOFOLLOW)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code !== 'EACCES' && code !== 'EPERM'
  }
  closeSync(fd)
  return true
}

/**
 * Give the open file `fh` the owner and group of `like` as far as the writer may, and its permission `bits` (through
 * `chmod`). Only a writer that may give files away (root, or a process with CAP_CHOWN) can give the owner, so root
 * rewriting a user's data file leaves it the user's; trying is the one test that holds everywhere (capabilities,
 * user namespaces, NFS root squashing). A writer that may not keeps the file, and gives it the group only when it is
 * a member: else the group's bits are dropped rather than handed to the writer's own group. The group and the bits
 * are set while the file is still the writer's, the owner last: a process that may give files away and no more
 * (CAP_CHOWN) may not change a file's bits once it is another's.
 */
async function giveOwnership(
  fh: FileHandle,
  like: FileAttributes,
  bits: number,
  chmod: (bits: number) => Promise<void>,
): Promise<void> {
  const own = await fh.stat()
  const gid = like.gid ?? own.gid
  let groupGiven = gid === own.gid
  if (!groupGiven) {
    try {
      await fh.chown(own.uid, gid)
      groupGiven = true
    } catch {
      // not a member, nor allowed to give files away
    }
  }
  await chmod(groupGiven ? bits : bits & ~0o070)
  if (like.uid !== undefined && like.uid !== own.uid) {
    try {
      await fh.chown(like.uid, gid)
    } catch {
      // not allowed to give the file away: the writer keeps it
    }
  }
}

/** The status of the regular file at `file`, if there is one to replace. */
async function regularFileStat(file: string): Promise<import('node:fs').Stats | undefined> {
  try {
    const stat = await fsp.stat(file)
    return stat.isFile() ? stat : undefined
  } catch {
    return undefined
  }
}

/**
 * Write atomically: a crash leaves either the old file or the new one, never half of it. A symbolic link at `file`
 * is kept and the file it leads to replaced (see `writeTarget`). A hard link cannot be kept: the file's other names
 * keep the old content, since the rename puts a new file in place of the old one.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array | AsyncIterable<string | Uint8Array>,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { tmp, fh, target } = await openTempFile(file, options)
  try {
    try {
      await fsp.writeFile(fh, data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await fsp.rename(tmp, target)
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => {})
    throw await writeError(file, err)
  } finally {
    releaseTempPath(tmp)
  }
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fsp.access(p)
    return true
  } catch {
    return false
  }
}
