import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evalSummary, modelBytes, testSigner } from '../../test/helpers/registry.js'
import { type S3rverProcess, startS3rver } from '../../test/helpers/s3rver.js'
import { defaultConfig } from '../config/defaults.js'
import { isNotModified, type RegistryBackend } from './backend.js'
import { createFsBackend } from './backends/fs.js'
import { createMemoryBackend } from './backends/memory.js'
import { createS3Backend } from './backends/s3.js'
import { keys } from './layout.js'
import { ModelRegistry } from './registry.js'
import { type AliasChange, watchAlias } from './watch.js'

const gates = defaultConfig().gates
const key = testSigner()
const open = (backend: RegistryBackend) =>
  new ModelRegistry(backend, {
    trust: { trustedKeys: [key.publicKey], allowUnsigned: false },
    signer: key.signer,
  })

/** Pull changes from a watch into a queue that tests can await one by one. */
function collect(iter: AsyncIterable<AliasChange>) {
  const seen: AliasChange[] = []
  let notify: (() => void) | undefined
  const done = (async () => {
    for await (const c of iter) {
      seen.push(c)
      notify?.()
    }
  })()
  return {
    seen,
    done,
    async next(count: number, timeoutMs = 5000): Promise<AliasChange> {
      const deadline = Date.now() + timeoutMs
      while (seen.length < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for change #${count}; saw ${seen.length}`)
        await new Promise<void>((r) => {
          notify = r
          setTimeout(r, 50)
        })
      }
      return seen[count - 1]!
    },
  }
}

async function publishTwo(registry: ModelRegistry) {
  await registry.publish({ name: 'bot', bytes: modelBytes('1'), author: 'a', eval: evalSummary(0.8) })
  await registry.publish({ name: 'bot', bytes: modelBytes('2'), author: 'a', eval: evalSummary(0.9) })
}

describe('watchAlias', () => {
  it('reports the current holder, then every promotion and rollback with the verified model', async () => {
    const registry = open(createMemoryBackend())
    await publishTwo(registry)
    const ac = new AbortController()
    const w = collect(watchAlias(registry, 'bot', 'production', { signal: ac.signal, intervalMs: 50 }))
    expect(await w.next(1)).toMatchObject({ type: 'change', version: null, previous: null })
    await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' })
    const first = await w.next(2)
    expect(first).toMatchObject({ type: 'change', version: 1, previous: null })
    expect(first.type === 'change' && first.model?.bytes).toEqual(modelBytes('1'))
    await registry.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'a' })
    expect(await w.next(3)).toMatchObject({ version: 2, previous: 1 })
    await registry.rollback({ name: 'bot', alias: 'production', actor: 'a' })
    expect(await w.next(4)).toMatchObject({ version: 1, previous: 2 })
    ac.abort()
    await w.done
    expect(w.seen).toHaveLength(4)
  })

  it('reports a tampered holder once as an error, keeps watching, and reports it once repaired', async () => {
    const backend = createMemoryBackend()
    const registry = open(backend)
    await publishTwo(registry)
    await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' })
    await registry.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'a' })
    const v2 = await registry.readVersion('bot', 2)
    // The holder's blob is swapped for other bytes behind the registry's back.
    await backend.put(keys.blob(v2.record.blob.digest), modelBytes('evil'))
    const ac = new AbortController()
    const w = collect(watchAlias(registry, 'bot', 'production', { signal: ac.signal, intervalMs: 30 }))
    const err = await w.next(1)
    expect(err).toMatchObject({ type: 'error', version: null })
    expect(err.type === 'error' && (err.error as { code?: string }).code).toBe('ERR_REGISTRY_BLOB_CORRUPT')
    await new Promise((r) => setTimeout(r, 200))
    expect(w.seen).toHaveLength(1)
    await registry.publish({ name: 'bot', bytes: modelBytes('2'), author: 'a' })
    const repaired = await w.next(2)
    expect(repaired).toMatchObject({ type: 'change', version: 2 })
    expect(repaired.type === 'change' && repaired.model?.bytes).toEqual(modelBytes('2'))
    ac.abort()
    await w.done
  })

  it('picks up a promotion made through another handle on disk at once, through fs.watch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-watch-'))
    try {
      const writer = open(createFsBackend({ root: dir }))
      await publishTwo(writer)
      await writer.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' })
      const reader = open(createFsBackend({ root: dir }))
      const ac = new AbortController()
      // A poll interval far beyond the wait below: only the file watcher can deliver the change in time.
      const w = collect(watchAlias(reader, 'bot', 'production', { signal: ac.signal, intervalMs: 60_000 }))
      expect(await w.next(1)).toMatchObject({ version: 1 })
      await new Promise((r) => setTimeout(r, 100))
      const started = Date.now()
      await writer.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'a' })
      expect(await w.next(2, 5000)).toMatchObject({ version: 2, previous: 1 })
      expect(Date.now() - started).toBeLessThan(5000)
      ac.abort()
      await w.done
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  describe('on S3', () => {
    let server: S3rverProcess
    beforeAll(async () => {
      server = await startS3rver(['watch'])
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('polls with If-None-Match, so an unchanged alias costs a 304, and sees a promotion from elsewhere', async () => {
      const prefix = `w-${randomBytes(4).toString('hex')}`
      const s3 = () =>
        createS3Backend({
          bucket: 'watch',
          prefix,
          endpoint: server.endpoint,
          region: server.region,
          credentials: server.credentials,
          forcePathStyle: true,
        })
      const writer = open(s3())
      await publishTwo(writer)
      await writer.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' })
      const readerBackend = s3()
      let notModified = 0
      const counting: RegistryBackend = {
        ...readerBackend,
        get: (async (k: string, o?: { ifNoneMatch?: string }) => {
          const res = await readerBackend.get(k, o ?? {})
          if (isNotModified(res)) notModified++
          return res
        }) as RegistryBackend['get'],
      }
      const ac = new AbortController()
      const w = collect(watchAlias(open(counting), 'bot', 'production', { signal: ac.signal, intervalMs: 50 }))
      expect(await w.next(1)).toMatchObject({ version: 1 })
      await new Promise((r) => setTimeout(r, 400))
      expect(notModified).toBeGreaterThan(2)
      await writer.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'a' })
      const change = await w.next(2)
      expect(change).toMatchObject({ type: 'change', version: 2, previous: 1 })
      expect(change.type === 'change' && change.model?.bytes).toEqual(modelBytes('2'))
      ac.abort()
      await w.done
      await Promise.all([writer.backend.close?.(), readerBackend.close?.()])
    })
  })
})
