import { describe, expect, it } from 'vitest'
import { evalSummary, modelBytes, signedRegistry } from '../../test/helpers/registry.js'
import { defaultConfig } from '../config/load.js'
import { createMemoryBackend } from './backends/memory.js'
import { keys } from './layout.js'
import { verifyRegistry } from './verify.js'

describe('verifyRegistry', () => {
  it('passes an intact registry and reports each damaged entry without stopping', async () => {
    const backend = createMemoryBackend()
    const { registry } = signedRegistry(backend)
    const published = []
    for (const m of ['a', 'b', 'c']) {
      published.push(await registry.publish({ name: 'bot', bytes: modelBytes(m), author: 'x', eval: evalSummary(0.5) }))
    }
    await registry.promote({ name: 'bot', version: 2, alias: 'production', policy: defaultConfig().gates, actor: 'x' })
    const progress: number[] = []
    const clean = await verifyRegistry(registry, { onProgress: (d) => progress.push(d) })
    expect(clean.ok).toBe(true)
    expect(progress).toEqual([1, 2, 3])
    expect(clean.versions.every((v) => v.signedBy !== null)).toBe(true)
    expect(clean.aliases).toEqual([{ name: 'bot', alias: 'production', version: 2, ok: true, problems: [] }])

    const blob = keys.blob(published[1]!.signed.record.blob.digest)
    await backend.put(blob, modelBytes('evil'))
    await backend.delete(keys.blob(published[2]!.signed.record.blob.digest))
    const damaged = await verifyRegistry(registry)
    expect(damaged.ok).toBe(false)
    expect(damaged.versions.map((v) => [v.version, v.ok, v.problems[0]?.code])).toEqual([
      [1, true, undefined],
      [2, false, 'ERR_REGISTRY_BLOB_CORRUPT'],
      [3, false, 'ERR_REGISTRY_BLOB_MISSING'],
    ])
    expect(damaged.aliases[0]).toMatchObject({ ok: false, problems: [{ code: 'ERR_REGISTRY_BLOB_CORRUPT' }] })
    const one = await verifyRegistry(registry, { name: 'bot', version: 1 })
    expect(one.ok).toBe(true)
    expect(one.versions).toHaveLength(1)
  })

  it('runs an extra model check and reports what it throws', async () => {
    const { registry } = signedRegistry()
    await registry.publish({ name: 'bot', bytes: modelBytes('a'), author: 'x' })
    const report = await verifyRegistry(registry, {
      checkModel: () => {
        throw new Error('not a model file')
      },
    })
    expect(report.versions[0]!.problems).toEqual([{ code: 'ERR_INTERNAL', message: 'not a model file' }])
  })
})
