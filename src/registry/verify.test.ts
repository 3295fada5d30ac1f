import { describe, expect, it } from 'vitest'
import { evalSummary, modelBytes, signedRegistry } from '../../test/helpers/registry.js'
import { defaultConfig } from '../config/defaults.js'
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

  it('names each damaged alias file by its alias, with the version it still names, what is wrong and the fix', async () => {
    const backend = createMemoryBackend()
    const { registry } = signedRegistry(backend)
    await registry.publish({ name: 'bot', bytes: modelBytes('a'), author: 'x', eval: evalSummary(0.5) })
    await registry.publish({ name: 'bot', bytes: modelBytes('b'), author: 'x', eval: evalSummary(0.6) })
    const policy = defaultConfig().gates
    for (const alias of ['production', 'staging', 'canary']) {
      await registry.promote({ name: 'bot', version: 2, alias, policy, actor: 'x' })
    }
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))
    await backend.put(keys.alias('bot', 'production'), new TextEncoder().encode('{"version": 2, "hist'))
    const staging = await registry.readAlias('bot', 'staging')
    await backend.put(keys.alias('bot', 'staging'), enc({ ...staging, version: 1, etag: undefined }))
    const canary = await registry.readAlias('bot', 'canary')
    await backend.put(keys.alias('bot', 'canary'), enc({ ...canary, formatVersion: 9, etag: undefined }))
    await backend.put('models/bot/aliases/v3.json', enc(canary))
    const report = await verifyRegistry(registry)
    expect(report.ok).toBe(false)
    const byAlias = Object.fromEntries(report.aliases.map((a) => [a.alias, a]))
    expect(Object.keys(byAlias).sort()).toEqual(['canary', 'production', 'staging', 'v3'])
    // JSON cut short: the version cannot be read, so the fix names a placeholder
    expect(byAlias.production).toMatchObject({ name: 'bot', version: null, ok: false })
    expect(byAlias.production!.problems).toEqual([
      {
        code: 'ERR_REGISTRY_RECORD_INVALID',
        message:
          'the alias file models/bot/aliases/production.json is damaged: not valid UTF-8 JSON; nothing can load the alias until it is repaired',
        hint: "Restore models/bot/aliases/production.json from a backup of the registry (memory:), or from an earlier object version on S3; or delete the file, which loses the alias's move history, and point the alias again with `intentops promote <version> --to production --model bot`.",
      },
    ])
    // readable JSON whose holder is not its last move: the version it names is shown, not trusted
    expect(byAlias.staging).toMatchObject({ version: 1, ok: false })
    expect(byAlias.staging!.problems[0]!.message).toBe(
      'the alias file models/bot/aliases/staging.json is damaged: the holder is not the last move; nothing can load the alias until it is repaired',
    )
    expect(byAlias.staging!.problems[0]!.hint).toMatch(
      /`intentops promote 1 --to staging --model bot`\. The damaged file still names v1; check that this is the version meant before promoting it\.$/,
    )
    expect(byAlias.canary!.problems[0]).toMatchObject({
      code: 'ERR_REGISTRY_FORMAT_NEWER',
      hint: expect.stringMatching(/^Upgrade intentops/),
    })
    expect(byAlias.v3!.problems[0]).toMatchObject({
      code: 'ERR_REGISTRY_INVALID_REF',
      message: expect.stringMatching(/^the file models\/bot\/aliases\/v3\.json is not named after an alias: /),
      hint: expect.stringMatching(/^Nothing reads it as an alias: rename it to <alias>\.json/),
    })
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
