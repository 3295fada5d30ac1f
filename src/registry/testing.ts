/**
 * The contract every `RegistryBackend` must meet, as a vitest suite. Run it against your own backend:
 *
 * ```ts
 * import { describe } from 'vitest'
 * import { testRegistryBackend } from 'intentops/registry/testing'
 * describe('my backend', () => testRegistryBackend(() => createMyBackend({ prefix: randomPrefix() })))
 * ```
 * Imported from its own entry point, so the library itself never loads vitest.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { RegistryBackend, StoredObject } from './backend.js'
import { isNotModified } from './backend.js'

export interface RegistryBackendSuiteOptions {
  /**
   * A second, independent handle on the same storage as `backend`, as another process would open it. When given,
   * the lock tests contend through separate handles.
   */
  reopen?: (backend: RegistryBackend) => RegistryBackend | Promise<RegistryBackend>
  /** Called after each test with the backend it used. */
  cleanup?: (backend: RegistryBackend) => void | Promise<void>
}

const enc = (s: string) => new TextEncoder().encode(s)
const dec = (b: Uint8Array) => new TextDecoder().decode(b)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Register the backend contract tests in the current `describe` block.
 * @param create returns a fresh, empty backend for each test
 */
export function testRegistryBackend(
  create: () => RegistryBackend | Promise<RegistryBackend>,
  options: RegistryBackendSuiteOptions = {},
): void {
  const withBackend = (fn: (b: RegistryBackend) => Promise<void>) => async () => {
    const backend = await create()
    try {
      await fn(backend)
    } finally {
      await options.cleanup?.(backend)
      await backend.close?.()
    }
  }
  const second = async (b: RegistryBackend) => (options.reopen ? options.reopen(b) : b)

  describe('RegistryBackend contract', () => {
    it(
      'answers null for missing keys and an empty list for an empty store',
      withBackend(async (b) => {
        expect(await b.get('a/missing.json')).toBeNull()
        expect(await b.head('a/missing.json')).toBeNull()
        expect(await b.list('a/')).toEqual([])
        expect(await b.list('')).toEqual([])
      }),
    )

    it(
      'round-trips bytes exactly, with matching ETags from put, get, head and list',
      withBackend(async (b) => {
        const bytes = new Uint8Array(256 * 4)
        for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256
        const put = await b.put('blobs/x/all-bytes', bytes)
        expect(put.key).toBe('blobs/x/all-bytes')
        expect(put.size).toBe(bytes.length)
        const got = (await b.get('blobs/x/all-bytes')) as StoredObject
        expect(got.data).toEqual(bytes)
        expect(got.size).toBe(bytes.length)
        expect(got.lastModified).toBeInstanceOf(Date)
        const head = await b.head('blobs/x/all-bytes')
        expect(head?.etag).toBe(got.etag)
        expect(head?.size).toBe(bytes.length)
        expect(put.etag).toBe(got.etag)
        const [listed] = await b.list('blobs/')
        expect(listed?.etag).toBe(got.etag)
        expect(listed?.size).toBe(bytes.length)
      }),
    )

    it(
      'stores empty and multi-megabyte objects whole',
      withBackend(async (b) => {
        await b.put('e/empty', new Uint8Array())
        expect(((await b.get('e/empty')) as StoredObject).data.byteLength).toBe(0)
        const big = randomBytes(3 * 1024 * 1024 + 17)
        await b.put('e/big', big)
        const got = (await b.get('e/big')) as StoredObject
        expect(got.data.byteLength).toBe(big.byteLength)
        expect(Buffer.from(got.data).equals(big)).toBe(true)
      }),
    )

    it(
      'replaces on a plain put and changes the ETag',
      withBackend(async (b) => {
        const first = await b.put('k/a.json', enc('one'))
        const second = await b.put('k/a.json', enc('two'))
        expect(second.etag).not.toBe(first.etag)
        expect(dec(((await b.get('k/a.json')) as StoredObject).data)).toBe('two')
        expect(await b.list('k/')).toHaveLength(1)
      }),
    )

    it(
      'create-only put refuses an existing key and leaves it unchanged',
      withBackend(async (b) => {
        await b.put('c/v1.json', enc('first'), { ifNoneMatch: '*' })
        await expect(b.put('c/v1.json', enc('second'), { ifNoneMatch: '*' })).rejects.toMatchObject({
          code: 'ERR_REGISTRY_PRECONDITION',
        })
        expect(dec(((await b.get('c/v1.json')) as StoredObject).data)).toBe('first')
        await b.delete('c/v1.json')
        await b.put('c/v1.json', enc('third'), { ifNoneMatch: '*' })
        expect(dec(((await b.get('c/v1.json')) as StoredObject).data)).toBe('third')
      }),
    )

    it(
      'answers a conditional get with not-modified only while the ETag matches',
      withBackend(async (b) => {
        const { etag } = await b.put('w/alias.json', enc('{"v":1}'))
        const same = await b.get('w/alias.json', { ifNoneMatch: etag })
        expect(isNotModified(same)).toBe(true)
        await b.put('w/alias.json', enc('{"v":2}'))
        const changed = await b.get('w/alias.json', { ifNoneMatch: etag })
        expect(isNotModified(changed)).toBe(false)
        expect(dec((changed as StoredObject).data)).toBe('{"v":2}')
        expect(await b.get('w/missing.json', { ifNoneMatch: etag })).toBeNull()
      }),
    )

    it(
      'lists by string prefix, recursively, in ascending key order',
      withBackend(async (b) => {
        const keysWritten = ['m/b/2.json', 'm/a/1.json', 'm/a/sub/3.json', 'mz/4.json', 'other/5.json', 'm/a/0.json']
        for (const k of keysWritten) await b.put(k, enc(k))
        expect((await b.list('m/')).map((o) => o.key)).toEqual([
          'm/a/0.json',
          'm/a/1.json',
          'm/a/sub/3.json',
          'm/b/2.json',
        ])
        expect((await b.list('m')).map((o) => o.key)).toEqual([
          'm/a/0.json',
          'm/a/1.json',
          'm/a/sub/3.json',
          'm/b/2.json',
          'mz/4.json',
        ])
        expect((await b.list('m/a/')).map((o) => o.key)).toEqual(['m/a/0.json', 'm/a/1.json', 'm/a/sub/3.json'])
        expect((await b.list('')).length).toBe(keysWritten.length)
      }),
    )

    it(
      'deletes, and deleting a missing key is not an error',
      withBackend(async (b) => {
        await b.put('d/x', enc('x'))
        await b.delete('d/x')
        expect(await b.get('d/x')).toBeNull()
        expect(await b.list('d/')).toEqual([])
        await b.delete('d/x')
        await b.delete('d/never')
      }),
    )

    it(
      'rejects keys that could escape the store or collide with internals',
      withBackend(async (b) => {
        for (const bad of ['', '../x', 'a/../../x', '/abs', 'a//b', '.hidden', 'a/.tmp', 'a\\b', 'a/b/']) {
          await expect(b.put(bad, enc('x')), bad).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
        }
        await expect(b.get('../etc/passwd')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
      }),
    )

    it(
      'never shows a reader part of an object while it is replaced',
      withBackend(async (b) => {
        const versions = [0, 1, 2, 3, 4, 5].map((i) => new Uint8Array(64 * 1024).fill(i + 1))
        await b.put('r/model', versions[0]!)
        let stop = false
        const seen = new Set<number>()
        const reader = (async () => {
          while (!stop) {
            const got = (await b.get('r/model')) as StoredObject
            const first = got.data[0]!
            expect(got.data.byteLength).toBe(64 * 1024)
            expect(got.data.every((x) => x === first)).toBe(true)
            seen.add(first)
          }
        })()
        for (const v of versions.slice(1)) await b.put('r/model', v)
        stop = true
        await reader
        expect(seen.size).toBeGreaterThan(0)
      }),
    )

    it(
      'gives the lock to one holder at a time across handles',
      withBackend(async (b) => {
        await b.put('counter', enc('0'))
        const handles = [b, await second(b), b, await second(b)]
        let inside = 0
        let maxInside = 0
        await Promise.all(
          handles.map(async (h) => {
            const lock = await h.lock('contract', { waitMs: 30_000, staleMs: 10_000 })
            try {
              inside++
              maxInside = Math.max(maxInside, inside)
              const n = Number(dec(((await h.get('counter')) as StoredObject).data))
              await sleep(30)
              await lock.assertHeld()
              await h.put('counter', enc(String(n + 1)))
              inside--
            } finally {
              await lock.release()
            }
          }),
        )
        expect(maxInside).toBe(1)
        expect(dec(((await b.get('counter')) as StoredObject).data)).toBe(String(handles.length))
        await Promise.all(handles.filter((h) => h !== b).map((h) => h.close?.()))
      }),
    )

    it(
      'times out with ERR_REGISTRY_LOCKED while another holder keeps the lock, and hands it over on release',
      withBackend(async (b) => {
        const other = await second(b)
        const held = await b.lock('contract', { waitMs: 1000, staleMs: 10_000 })
        await expect(other.lock('contract', { waitMs: 300, staleMs: 10_000 })).rejects.toMatchObject({
          code: 'ERR_REGISTRY_LOCKED',
        })
        const waiting = other.lock('contract', { waitMs: 10_000, staleMs: 10_000 })
        await sleep(100)
        await held.release()
        const next = await waiting
        await next.assertHeld()
        await next.release()
        await expect(next.assertHeld()).rejects.toMatchObject({ code: 'ERR_REGISTRY_LOCK_LOST' })
        if (other !== b) await other.close?.()
      }),
    )

    it(
      'keeps separate locks apart',
      withBackend(async (b) => {
        const one = await b.lock('one', { waitMs: 1000, staleMs: 10_000 })
        const two = await b.lock('two', { waitMs: 1000, staleMs: 10_000 })
        await one.assertHeld()
        await two.assertHeld()
        await Promise.all([one.release(), two.release()])
      }),
    )
  })
}
