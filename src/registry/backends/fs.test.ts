import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RegistryBackend } from '../backend.js'
import { testRegistryBackend } from '../testing.js'
import { createFsBackend } from './fs.js'

const roots = new Map<RegistryBackend, string>()
const fresh = () => {
  const root = path.join(mkdtempSync(path.join(tmpdir(), 'io-fsreg-')), 'registry')
  const backend = createFsBackend({ root })
  roots.set(backend, root)
  return backend
}

describe('fs backend', () => {
  testRegistryBackend(fresh, {
    reopen: (b) => createFsBackend({ root: roots.get(b)! }),
    cleanup: (b) => rmSync(path.dirname(roots.get(b)!), { recursive: true, force: true }),
  })

  it('lets exactly one of many concurrent create-only writes win, without a lock', async () => {
    const b = fresh()
    const handles = Array.from({ length: 12 }, () => createFsBackend({ root: roots.get(b)! }))
    const results = await Promise.allSettled(
      handles.map((h, i) => h.put('v/000001.json', new TextEncoder().encode(`writer ${i}`), { ifNoneMatch: '*' })),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ERR_REGISTRY_PRECONDITION' })
    }
  })

  it('leaves no temp files behind, and never lists hidden files', async () => {
    const b = fresh()
    const root = roots.get(b)!
    await b.put('a/x.json', new TextEncoder().encode('1'))
    await b.put('a/x.json', new TextEncoder().encode('2'))
    await expect(b.put('a/x.json', new TextEncoder().encode('3'), { ifNoneMatch: '*' })).rejects.toThrow()
    expect(readdirSync(path.join(root, 'a'))).toEqual(['x.json'])
    // A temp file of a writer that crashed mid-write is invisible.
    writeFileSync(path.join(root, 'a', '.x.json.123.abc.tmp'), 'half')
    expect((await b.list('a/')).map((o) => o.key)).toEqual(['a/x.json'])
  })

  it('keeps the permission bits of an object it replaces; a new object gets the umask', async () => {
    const b = fresh()
    const root = roots.get(b)!
    const umask = process.umask(0o022)
    try {
      await b.put('aliases/prod.json', new TextEncoder().encode('{"v":1}'))
      expect(statSync(path.join(root, 'aliases', 'prod.json')).mode & 0o777).toBe(0o644)
      chmodSync(path.join(root, 'aliases', 'prod.json'), 0o640)
      await b.put('aliases/prod.json', new TextEncoder().encode('{"v":2}'))
    } finally {
      process.umask(umask)
    }
    const file = path.join(root, 'aliases', 'prod.json')
    expect([statSync(file).mode & 0o777, readFileSync(file, 'utf8')]).toEqual([0o640, '{"v":2}'])
  })

  it('replaces an object that is a symbolic link where the link leads, keeping its owner; create-only refuses it', async () => {
    const b = fresh()
    const root = roots.get(b)!
    const shared = path.join(path.dirname(root), 'shared.json')
    writeFileSync(shared, '{"v":1}')
    chmodSync(shared, 0o640)
    const asRoot = process.platform === 'linux' && process.getuid?.() === 0
    if (asRoot) chownSync(shared, 65534, 4242)
    mkdirSync(path.join(root, 'aliases'), { recursive: true })
    const alias = path.join(root, 'aliases', 'prod.json')
    symlinkSync(shared, alias)
    const info = await b.put('aliases/prod.json', new TextEncoder().encode('{"v":2}'))
    expect([lstatSync(alias).isSymbolicLink(), readFileSync(shared, 'utf8'), statSync(shared).mode & 0o777]).toEqual([
      true,
      '{"v":2}',
      0o640,
    ])
    if (asRoot) expect([statSync(shared).uid, statSync(shared).gid]).toEqual([65534, 4242])
    expect((await b.head('aliases/prod.json'))?.etag).toBe(info.etag)
    symlinkSync(path.join(path.dirname(root), 'missing.json'), path.join(root, 'aliases', 'dev.json'))
    await expect(b.put('aliases/dev.json', new TextEncoder().encode('{}'), { ifNoneMatch: '*' })).rejects.toMatchObject(
      { code: 'ERR_REGISTRY_PRECONDITION' },
    )
    expect(readdirSync(path.join(root, 'aliases')).sort()).toEqual(['dev.json', 'prod.json'])
    expect(readdirSync(path.dirname(root)).sort()).toEqual(['registry', 'shared.json'])
  })

  it.runIf(process.platform === 'linux' && process.getuid?.() === 0)(
    "makes the directories of a registry in a user's project the user's when root writes",
    async () => {
      const b = fresh()
      const root = roots.get(b)!
      chownSync(path.dirname(root), 65534, 4242)
      chmodSync(path.dirname(root), 0o750)
      const umask = process.umask(0o022)
      try {
        await b.put('models/m/aliases/prod.json', new TextEncoder().encode('{}'))
        await (await b.lock('registry', { waitMs: 0, staleMs: 30_000 })).release()
      } finally {
        process.umask(umask)
      }
      const attrs = (rel: string) => {
        const st = statSync(path.join(root, rel))
        return [rel, st.uid, st.gid, st.mode & 0o777]
      }
      expect(['.', 'models', 'models/m', 'models/m/aliases', '.locks'].map(attrs)).toEqual(
        ['.', 'models', 'models/m', 'models/m/aliases', '.locks'].map((rel) => [rel, 65534, 4242, 0o750]),
      )
    },
  )

  it('lists what reads find through symbolic links: a linked file as the object, a linked directory walked', async () => {
    const b = fresh()
    const root = roots.get(b)!
    const outside = path.dirname(root)
    const bytes = (t: string) => new TextEncoder().encode(t)
    await b.put('blobs/own', bytes('own'))
    await b.put('models/m/versions/1.json', bytes('{"v":1}'))
    writeFileSync(path.join(outside, 'shared-blob'), 'shared')
    mkdirSync(path.join(outside, 'big-disk'))
    writeFileSync(path.join(outside, 'big-disk', 'a'), 'a')
    symlinkSync(path.join(outside, 'shared-blob'), path.join(root, 'blobs', 'linked'))
    symlinkSync(path.join(outside, 'missing'), path.join(root, 'blobs', 'dangling'))
    symlinkSync('loop-b', path.join(root, 'blobs', 'loop-a'))
    symlinkSync('loop-a', path.join(root, 'blobs', 'loop-b'))
    symlinkSync(path.join(outside, 'big-disk'), path.join(root, 'blobs', 'moved'))
    // Links back up, to the registry and to a directory being walked, are not walked again.
    symlinkSync('../..', path.join(root, 'models', 'm', 'root'))
    symlinkSync('.', path.join(root, 'models', 'm', 'versions', 'self'))
    const keys = async (prefix: string) => (await b.list(prefix)).map((o) => o.key)
    expect(await keys('')).toEqual(['blobs/linked', 'blobs/moved/a', 'blobs/own', 'models/m/versions/1.json'])
    expect(await keys('blobs/moved/')).toEqual(['blobs/moved/a'])
    // A prefix below such a link lists what the whole listing does there: nothing.
    expect(await keys('models/m/root/')).toEqual([])
    expect(await keys('models/m/versions/self/')).toEqual([])
    // What is listed reads with the same ETag; what is not is not found.
    for (const info of await b.list('blobs/')) {
      const got = await b.get(info.key)
      expect(got && 'data' in got ? [got.etag, got.size] : null).toEqual([info.etag, info.size])
    }
    expect([await b.head('blobs/dangling'), await b.get('blobs/dangling')]).toEqual([null, null])
    // Deleting a linked object deletes the link, not the file it leads to.
    await b.delete('blobs/linked')
    expect([await keys('blobs/l'), readFileSync(path.join(outside, 'shared-blob'), 'utf8')]).toEqual([[], 'shared'])
  })

  it('removes old temp files in a linked directory too, each directory once, and nothing a link leads to', async () => {
    const b = fresh()
    const root = roots.get(b)!
    const outside = path.dirname(root)
    await b.put('blobs/own', new TextEncoder().encode('own'))
    await b.put('models/m/versions/1.json', new TextEncoder().encode('{"v":1}'))
    mkdirSync(path.join(outside, 'big-disk'))
    symlinkSync(path.join(outside, 'big-disk'), path.join(root, 'blobs', 'moved'))
    // The same folder under a second name, and links back up: swept once.
    symlinkSync('moved', path.join(root, 'blobs', 'again'))
    symlinkSync('../..', path.join(root, 'models', 'm', 'root'))
    const old = new Date(Date.now() - 2 * 3_600_000)
    const leave = (file: string, stale: boolean) => {
      writeFileSync(file, 'half')
      if (stale) utimesSync(file, old, old)
    }
    leave(path.join(outside, 'big-disk', '.a.1.aa.tmp'), true)
    leave(path.join(outside, 'big-disk', '.b.2.bb.tmp'), false)
    leave(path.join(root, 'blobs', '.own.3.cc.tmp'), true)
    // A link with a temp file's name is no temp file: neither it nor its file goes.
    leave(path.join(outside, 'kept.tmp'), true)
    symlinkSync(path.join(outside, 'kept.tmp'), path.join(root, 'blobs', '.link.4.dd.tmp'))
    expect(await b.removeLeftovers!(new Date(Date.now() - 3_600_000))).toBe(2)
    expect(readdirSync(path.join(outside, 'big-disk'))).toEqual(['.b.2.bb.tmp'])
    expect(readdirSync(path.join(root, 'blobs')).sort()).toEqual(['.link.4.dd.tmp', 'again', 'moved', 'own'])
    expect(existsSync(path.join(outside, 'kept.tmp'))).toBe(true)
    expect((await b.list('')).map((o) => o.key)).toEqual(['blobs/own', 'models/m/versions/1.json'])
  })

  it.runIf(process.platform === 'linux' && process.getuid?.() === 0)(
    "follows another user's link only to a directory of that user's",
    async () => {
      const b = fresh()
      const root = roots.get(b)!
      const outside = path.dirname(root)
      await b.put('blobs/own', new TextEncoder().encode('own'))
      const old = new Date(Date.now() - 2 * 3_600_000)
      for (const [name, owner] of [
        ['users', 65534],
        ['roots', 0],
      ] as const) {
        const d = path.join(outside, name)
        mkdirSync(d)
        chownSync(d, owner, owner)
        writeFileSync(path.join(d, '.x.1.aa.tmp'), 'half')
        utimesSync(path.join(d, '.x.1.aa.tmp'), old, old)
        const l = path.join(root, 'blobs', name)
        symlinkSync(d, l)
        lchownSync(l, 65534, 65534)
      }
      expect(await b.removeLeftovers!(new Date(Date.now() - 3_600_000))).toBe(1)
      expect([readdirSync(path.join(outside, 'users')), readdirSync(path.join(outside, 'roots'))]).toEqual([
        [],
        ['.x.1.aa.tmp'],
      ])
    },
  )

  it('creates the registry directory on first write only', async () => {
    const b = fresh()
    const root = roots.get(b)!
    expect(await b.get('format.json')).toBeNull()
    expect(await b.list('')).toEqual([])
    expect(existsSync(root)).toBe(false)
    await b.put('format.json', new TextEncoder().encode('{}'))
    expect(existsSync(path.join(root, 'format.json'))).toBe(true)
  })

  it('reports a storage failure as ERR_REGISTRY_BACKEND naming the operation and key', async () => {
    const b = fresh()
    const root = roots.get(b)!
    await b.put('x', new TextEncoder().encode('a file where a directory is needed'))
    await expect(b.put('x/y.json', new TextEncoder().encode('1'))).rejects.toMatchObject({
      code: 'ERR_REGISTRY_BACKEND',
      message: expect.stringContaining(`(put x/y.json)`),
    })
    expect(root).toBeTruthy()
  })

  it('hints at changes of a key through fs.watch', async () => {
    const b = fresh()
    await b.put('m/aliases/production.json', new TextEncoder().encode('1'))
    const ac = new AbortController()
    const seen: number[] = []
    const watching = (async () => {
      for await (const _ of b.watch!('m/aliases/production.json', ac.signal)) {
        seen.push(Date.now())
        ac.abort()
      }
    })()
    await new Promise((r) => setTimeout(r, 100))
    await b.put('m/aliases/other.json', new TextEncoder().encode('x'))
    await b.put('m/aliases/production.json', new TextEncoder().encode('2'))
    await watching
    expect(seen.length).toBe(1)
  })
})
