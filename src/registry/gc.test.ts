import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { evalSummary, modelBytes, signedRegistry } from '../../test/helpers/registry.js'
import { defaultConfig } from '../config/defaults.js'
import { createFsBackend } from './backends/fs.js'
import { createMemoryBackend } from './backends/memory.js'
import { collectGarbage } from './gc.js'
import { keys } from './layout.js'

const gates = defaultConfig().gates

async function sevenVersions() {
  const backend = createMemoryBackend()
  const { registry } = signedRegistry(backend)
  for (let i = 1; i <= 7; i++) {
    await registry.publish({ name: 'bot', bytes: modelBytes(`m${i}`), author: 'a', eval: evalSummary(0.5 + i / 100) })
  }
  await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' })
  await registry.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'a' })
  await registry.promote({ name: 'bot', version: 4, alias: 'candidate', policy: gates, actor: 'a' })
  return { backend, registry }
}

describe('collectGarbage', () => {
  it('keeps the newest N, every alias holder and each rollback target, and deletes the rest with their blobs', async () => {
    const { backend, registry } = await sevenVersions()
    const report = await collectGarbage(registry, { keep: 2, actor: 'janitor', graceMs: 0 })
    expect(report.models).toEqual([
      {
        name: 'bot',
        deleted: [3, 5],
        kept: [1, 2, 4, 6, 7],
        protected: [
          { version: 1, reason: 'rollback target of production' },
          { version: 2, reason: 'holder of production' },
          { version: 4, reason: 'holder of candidate' },
        ],
      },
    ])
    expect(await registry.versionNumbers('bot')).toEqual([1, 2, 4, 6, 7])
    expect(report.blobsDeleted).toHaveLength(2)
    expect(await backend.list(keys.blobs)).toHaveLength(5)
    for (const v of [1, 2, 4, 6, 7]) await registry.loadVersion('bot', v)
    const { events } = await registry.readEvents('bot')
    expect(events.at(-1)).toMatchObject({ kind: 'gc', actor: 'janitor', deleted: [3, 5] })
    // Rollback still works after gc.
    expect((await registry.rollback({ name: 'bot', alias: 'production', actor: 'a' })).to).toBe(1)
    // New versions never reuse a number.
    expect((await registry.publish({ name: 'bot', bytes: modelBytes('m8'), author: 'a' })).version).toBe(8)
  })

  it('changes nothing in a dry run', async () => {
    const { backend, registry } = await sevenVersions()
    const before = (await backend.list('')).map((o) => o.key)
    const report = await collectGarbage(registry, { keep: 1, actor: 'a', dryRun: true, graceMs: 0 })
    expect(report.dryRun).toBe(true)
    expect(report.models[0]!.deleted).toEqual([3, 5, 6])
    expect(report.blobsDeleted).toHaveLength(3)
    expect((await backend.list('')).map((o) => o.key)).toEqual(before)
  })

  it('leaves young unreferenced blobs alone (a publish may be about to reference them)', async () => {
    const { backend, registry } = await sevenVersions()
    await backend.put(keys.blob(`sha256:${'f'.repeat(64)}`), modelBytes('in flight'))
    const report = await collectGarbage(registry, { keep: 7, actor: 'a' })
    expect(report.blobsDeleted).toEqual([])
    expect(await backend.head(keys.blob(`sha256:${'f'.repeat(64)}`))).not.toBeNull()
  })

  it('skips a model whose alias file is damaged, and refuses keep < 1', async () => {
    const { backend, registry } = await sevenVersions()
    await backend.put(keys.alias('bot', 'production'), new TextEncoder().encode('{'))
    const report = await collectGarbage(registry, { keep: 1, actor: 'a', graceMs: 0 })
    expect(report.models[0]).toMatchObject({
      deleted: [],
      skipped: expect.stringMatching(/^the file of alias production is damaged \(Registry entry .*\); repair it first/),
    })
    expect(await registry.versionNumbers('bot')).toEqual([1, 2, 3, 4, 5, 6, 7])
    await expect(collectGarbage(registry, { keep: 0, actor: 'a' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })

  it('removes temp files that crashed writers left on disk, once they are older than the grace period', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-gc-'))
    try {
      const { registry } = signedRegistry(createFsBackend({ root: dir }))
      await registry.publish({ name: 'bot', bytes: modelBytes('a'), author: 'a' })
      const blobs = path.join(dir, 'blobs', 'sha256')
      const stale = path.join(blobs, '.abc.123.deadbeef.tmp')
      const fresh = path.join(blobs, '.def.456.cafebabe.tmp')
      writeFileSync(stale, 'half a model')
      writeFileSync(fresh, 'a write in progress')
      const old = new Date(Date.now() - 2 * 3_600_000)
      utimesSync(stale, old, old)
      const report = await collectGarbage(registry, { keep: 5, actor: 'a' })
      expect(report.leftoversRemoved).toBe(1)
      expect(readdirSync(blobs).filter((f) => f.startsWith('.'))).toEqual(['.def.456.cafebabe.tmp'])
      expect((await registry.loadVersion('bot', 1)).version).toBe(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
