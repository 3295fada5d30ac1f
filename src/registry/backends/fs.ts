/**
 * The local-directory registry backend (the default, `.intentops/registry`). Every write goes to a hidden temp
 * file that is synced and then renamed (or hard-linked, for create-only writes) into place, so a crash never leaves
 * a partial object; locks are `proper-lockfile` lock directories that a crashed holder's successor takes over.
 * @module
 */
import type { BigIntStats } from 'node:fs'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import lockfile from 'proper-lockfile'
import { createError, isIntentopsError } from '../../errors.js'
import { createTempFileFor, makeOutputDir, releaseTempPath, tempPathFor, writeTarget } from '../../util/fs.js'
import {
  assertValidKey,
  backendError,
  type GetOptions,
  type LockOptions,
  type NotModified,
  type ObjectInfo,
  type PutOptions,
  type RegistryBackend,
  type RegistryLock,
  type StoredObject,
} from '../backend.js'

export interface FsBackendOptions {
  /** The registry directory; created on the first write. */
  root: string
}

const LOCK_DIR = '.locks'
const LOCK_POLL_MS = 100

function etagOf(st: BigIntStats): string {
  // The inode changes on every rename into place, mtime and size on any in-place edit.
  return `"${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}"`
}

function infoOf(key: string, st: BigIntStats): ObjectInfo {
  return { key, etag: etagOf(st), size: Number(st.size), lastModified: new Date(Number(st.mtimeMs)) }
}

/**
 * A registry in a local directory. Safe for several processes on one machine (or on a shared file system with
 * working `link`, `rename` and `mkdir` semantics).
 * @example
 * const backend = createFsBackend({ root: '.intentops/registry' })
 */
export function createFsBackend(options: FsBackendOptions): RegistryBackend {
  const root = path.resolve(options.root)
  const fileOf = (key: string) => path.join(root, ...key.split('/'))
  const fail = (operation: string, key: string, err: unknown) =>
    isIntentopsError(err) ? err : backendError(root, operation, key, err)

  async function get(key: string, opts?: GetOptions): Promise<StoredObject | NotModified | null> {
    assertValidKey(key)
    let fh: fsp.FileHandle
    try {
      fh = await fsp.open(fileOf(key), 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw fail('get', key, err)
    }
    try {
      // Stat the open handle, so the ETag belongs to the bytes read even if the file is replaced meanwhile.
      const st = await fh.stat({ bigint: true })
      if (!st.isFile()) throw backendError(root, 'get', key, new Error('not a regular file'))
      const etag = etagOf(st)
      if (opts?.ifNoneMatch !== undefined && opts.ifNoneMatch === etag) return { key, etag, notModified: true }
      const data = new Uint8Array(await fh.readFile())
      return { ...infoOf(key, st), data }
    } catch (err) {
      throw fail('get', key, err)
    } finally {
      await fh.close()
    }
  }

  async function syncDir(dir: string): Promise<void> {
    // Makes the rename durable across a power loss; not every platform can open a directory.
    const dh = await fsp.open(dir, 'r').catch(() => undefined)
    if (!dh) return
    await dh.sync().catch(() => {})
    await dh.close()
  }

  /**
   * The objects below `dir`, whose key is `rel`, as reads see them: a symbolic link to a regular file is an object (its
   * size, time and ETag those of the file, as `head` and `get` give them), and a link to a directory is walked as a
   * directory, since every key below it can be read and written through it. A link to nothing is no object, as `get`
   * and `head` find none there (a create-only `put` still finds the name taken); nor is a loop of links, which they
   * refuse. `walking` holds the real paths of the directories being walked: a link back to one of them is not walked again,
   * else the keys would never end.
   */
  async function walk(dir: string, rel: string, out: ObjectInfo[], walking = new Set<string>()): Promise<void> {
    let real: string
    let entries: import('node:fs').Dirent[]
    try {
      real = await fsp.realpath(dir)
      if (walking.has(real)) return
      entries = await fsp.readdir(dir, { withFileTypes: true })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      throw err
    }
    walking.add(real)
    try {
      for (const e of entries) {
        // Hidden names are temp files and lock directories, never objects.
        if (e.name.startsWith('.')) continue
        const key = rel ? `${rel}/${e.name}` : e.name
        const full = path.join(dir, e.name)
        if (e.isDirectory()) {
          await walk(full, key, out, walking)
          continue
        }
        if (!e.isFile() && !e.isSymbolicLink()) continue
        const st = await fsp.stat(full, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
          // Gone meanwhile, or a link to nothing: no object.
          if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ELOOP') return null
          throw err
        })
        if (st?.isFile()) out.push(infoOf(key, st))
        else if (st?.isDirectory() && e.isSymbolicLink()) await walk(full, key, out, walking)
      }
    } finally {
      walking.delete(real)
    }
  }

  return {
    kind: 'fs',
    location: root,
    get: get as RegistryBackend['get'],

    async head(key) {
      assertValidKey(key)
      try {
        const st = await fsp.stat(fileOf(key), { bigint: true })
        return st.isFile() ? infoOf(key, st) : null
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw fail('head', key, err)
      }
    },

    async put(key, data, opts: PutOptions = {}) {
      assertValidKey(key)
      const file = fileOf(key)
      let target: string
      try {
        // An object that is a symbolic link is replaced where the link leads. A create-only write links the name
        // itself: a link there, even to nothing, is an object that exists.
        target = opts.ifNoneMatch === '*' ? file : await writeTarget(file)
      } catch (err) {
        throw fail('put', key, err)
      }
      const dir = path.dirname(target)
      const tmp = tempPathFor(target)
      try {
        // A directory it makes takes the owner of the one it is made in, where the writer may give it (root).
        await makeOutputDir(dir)
        // An object it replaces (an alias, say) keeps its permission bits, owner and group.
        const fh = await createTempFileFor(target, tmp)
        try {
          await fh.writeFile(data)
          await fh.sync()
        } finally {
          await fh.close()
        }
        if (opts.ifNoneMatch === '*') {
          // link() fails with EEXIST instead of replacing: an atomic create-only write.
          try {
            await fsp.link(tmp, file)
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EEXIST')
              throw createError('ERR_REGISTRY_PRECONDITION', { key })
            throw err
          } finally {
            await fsp.rm(tmp, { force: true })
          }
        } else {
          await fsp.rename(tmp, target)
        }
        await syncDir(dir)
        return infoOf(key, await fsp.stat(file, { bigint: true }))
      } catch (err) {
        await fsp.rm(tmp, { force: true }).catch(() => {})
        throw fail('put', key, err)
      } finally {
        releaseTempPath(tmp)
      }
    },

    async list(prefix) {
      if (prefix !== '') assertValidKey(prefix, true)
      const slash = prefix.lastIndexOf('/')
      const dirKey = slash === -1 ? '' : prefix.slice(0, slash)
      const out: ObjectInfo[] = []
      try {
        // The directories above `dirKey` count as being walked, as in a listing of everything: a prefix below a link
        // back up lists what that listing does.
        const above = new Set<string>()
        const parts = dirKey ? dirKey.split('/') : []
        for (let i = 0; i < parts.length; i++) {
          const real = await fsp.realpath(path.join(root, ...parts.slice(0, i))).catch(() => undefined)
          if (real !== undefined) above.add(real)
        }
        await walk(dirKey ? fileOf(dirKey) : root, dirKey, out, above)
      } catch (err) {
        throw fail('list', prefix, err)
      }
      return out.filter((o) => o.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    },

    async delete(key) {
      assertValidKey(key)
      try {
        await fsp.rm(fileOf(key), { force: true })
      } catch (err) {
        throw fail('delete', key, err)
      }
    },

    async lock(name: string, lockOpts: LockOptions): Promise<RegistryLock> {
      assertValidKey(name)
      const lockRoot = path.join(root, LOCK_DIR)
      const target = path.join(lockRoot, name)
      try {
        await makeOutputDir(lockRoot)
      } catch (err) {
        throw fail('lock', name, err)
      }
      const controller = new AbortController()
      let release: () => Promise<void>
      try {
        release = await lockfile.lock(target, {
          realpath: false,
          lockfilePath: `${target}.lock`,
          stale: Math.max(2000, lockOpts.staleMs),
          retries: {
            retries: Math.max(0, Math.ceil(lockOpts.waitMs / LOCK_POLL_MS)),
            factor: 1,
            minTimeout: LOCK_POLL_MS,
            maxTimeout: LOCK_POLL_MS,
          },
          onCompromised: (err) => controller.abort(err),
        })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
          throw createError(
            'ERR_REGISTRY_LOCKED',
            { location: root, seconds: Math.round(lockOpts.waitMs / 1000) },
            { cause: err },
          )
        }
        throw fail('lock', name, err)
      }
      let released = false
      return {
        signal: controller.signal,
        async assertHeld() {
          if (released || controller.signal.aborted) throw createError('ERR_REGISTRY_LOCK_LOST', { location: root })
        },
        async release() {
          if (released) return
          released = true
          if (!controller.signal.aborted) await release().catch(() => {})
        },
      }
    },

    async removeLeftovers(before) {
      let removed = 0
      // Real paths of the directories swept: each once, whether reached under its own name or through links (a
      // folder of blobs on another disk, a link back up).
      const swept = new Set<string>()
      const writer = process.geteuid?.()
      const sweep = async (dir: string): Promise<void> => {
        let entries: import('node:fs').Dirent[]
        try {
          const real = await fsp.realpath(dir)
          if (swept.has(real)) return
          swept.add(real)
          entries = await fsp.readdir(dir, { withFileTypes: true })
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code
          if (code === 'ENOENT' || code === 'ENOTDIR') return
          throw err
        }
        for (const e of entries) {
          const full = path.join(dir, e.name)
          if (e.name === LOCK_DIR) continue
          if (e.isDirectory()) await sweep(full)
          else if (e.isSymbolicLink()) {
            // A linked directory holds the temp files of writes through it (`put` writes beside the file a link
            // leads to), as `list` walks it. Another user's link is followed only to a directory of that user's, as
            // writes are: a link planted in a user's registry never steers root's deletes elsewhere. A link to a
            // file is never removed, nor what it leads to.
            const [link, st] = await Promise.all([fsp.lstat(full).catch(() => null), fsp.stat(full).catch(() => null)])
            if (link && st?.isDirectory() && (link.uid === writer || link.uid === st.uid)) await sweep(full)
          } else if (e.isFile() && e.name.startsWith('.') && e.name.endsWith('.tmp')) {
            const st = await fsp.stat(full).catch(() => null)
            if (st && st.mtime < before) {
              await fsp.rm(full, { force: true })
              removed++
            }
          }
        }
      }
      try {
        await sweep(root)
      } catch (err) {
        throw fail('removeLeftovers', '', err)
      }
      return removed
    },

    async *watch(key, signal) {
      assertValidKey(key)
      const file = fileOf(key)
      const base = path.basename(file)
      try {
        // Watch the directory: a rename into place replaces the inode a file watcher would hold.
        for await (const ev of fsp.watch(path.dirname(file), { signal })) {
          if (ev.filename === base) yield
        }
      } catch (err) {
        if (signal.aborted) return
        const code = (err as NodeJS.ErrnoException).code
        // A directory that does not exist yet, or a platform without fs.watch: the caller's polling covers it.
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM') return
        throw fail('watch', key, err)
      }
    },
  }
}
