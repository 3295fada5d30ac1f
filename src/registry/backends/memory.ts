/**
 * An in-process registry backend: for tests of code built on the registry, and for throwaway registries.
 * @module
 */
import { createHash } from 'node:crypto'
import { EventEmitter, on } from 'node:events'
import { createError } from '../../errors.js'
import {
  assertValidKey,
  type GetOptions,
  type LockOptions,
  type NotModified,
  type ObjectInfo,
  type PutOptions,
  type RegistryBackend,
  type RegistryLock,
  type StoredObject,
} from '../backend.js'

interface Entry {
  data: Uint8Array
  etag: string
  lastModified: Date
}

/**
 * A registry backend that keeps everything in memory. Locks are exclusive within this process only.
 * @example
 * const registry = new ModelRegistry(createMemoryBackend(), { trust: { trustedKeys: [], allowUnsigned: true } })
 */
export function createMemoryBackend(): RegistryBackend {
  const objects = new Map<string, Entry>()
  const locks = new Map<string, Promise<void>>()
  const changes = new EventEmitter()
  changes.setMaxListeners(0)
  let counter = 0

  const info = (key: string, e: Entry): ObjectInfo => ({
    key,
    etag: e.etag,
    size: e.data.byteLength,
    lastModified: e.lastModified,
  })

  async function get(key: string, options?: GetOptions): Promise<StoredObject | NotModified | null> {
    assertValidKey(key)
    const e = objects.get(key)
    if (!e) return null
    if (options?.ifNoneMatch !== undefined && options.ifNoneMatch === e.etag) {
      return { key, etag: e.etag, notModified: true }
    }
    return { ...info(key, e), data: new Uint8Array(e.data) }
  }

  return {
    kind: 'memory',
    location: 'memory:',
    get: get as RegistryBackend['get'],
    async head(key) {
      assertValidKey(key)
      const e = objects.get(key)
      return e ? info(key, e) : null
    },
    async put(key, data, options: PutOptions = {}) {
      assertValidKey(key)
      if (options.ifNoneMatch === '*' && objects.has(key)) throw createError('ERR_REGISTRY_PRECONDITION', { key })
      counter++
      const etag = `"${createHash('md5').update(data).update(String(counter)).digest('hex')}"`
      const e: Entry = { data: new Uint8Array(data), etag, lastModified: new Date() }
      objects.set(key, e)
      changes.emit(key)
      return info(key, e)
    },
    async list(prefix) {
      if (prefix !== '') assertValidKey(prefix, true)
      return [...objects.entries()]
        .filter(([k]) => k.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, e]) => info(k, e))
    },
    async delete(key) {
      assertValidKey(key)
      if (objects.delete(key)) changes.emit(key)
    },
    async lock(name: string, options: LockOptions): Promise<RegistryLock> {
      const previous = locks.get(name) ?? Promise.resolve()
      let release!: () => void
      const mine = new Promise<void>((r) => (release = r))
      const chained = previous.then(() => mine)
      locks.set(name, chained)
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), options.waitMs)
      })
      const won = await Promise.race([previous.then(() => 'held' as const), timedOut])
      clearTimeout(timer)
      if (won === 'timeout') {
        // Keep the queue intact: our turn passes straight on once the holder releases.
        release()
        throw createError('ERR_REGISTRY_LOCKED', { location: 'memory:', seconds: Math.round(options.waitMs / 1000) })
      }
      const controller = new AbortController()
      let released = false
      return {
        signal: controller.signal,
        async assertHeld() {
          if (released) throw createError('ERR_REGISTRY_LOCK_LOST', { location: 'memory:' })
        },
        async release() {
          if (released) return
          released = true
          if (locks.get(name) === chained) locks.delete(name)
          release()
        },
      }
    },
    async *watch(key, signal) {
      try {
        for await (const _ of on(changes, key, { signal })) yield
      } catch (err) {
        if (!signal.aborted) throw err
      }
    },
  }
}
