import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { evalSummary, modelBytes, signedRegistry, steppingClock, testSigner } from '../../test/helpers/registry.js'
import { defaultConfig } from '../config/defaults.js'
import { createFsBackend } from './backends/fs.js'
import { createMemoryBackend } from './backends/memory.js'
import { keys } from './layout.js'
import { ModelRegistry, rollbackTarget } from './registry.js'

const gates = defaultConfig().gates
const dirs: string[] = []
const tempRoot = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'io-registry-'))
  dirs.push(dir)
  return path.join(dir, 'registry')
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const training = { dataFingerprint: 'sha256:data1', configFingerprint: 'sha256:cfg1', trainingMs: 42 }

describe('ModelRegistry: publish and load', () => {
  it('publishes numbered, signed versions with their lineage and loads them verified', async () => {
    const { registry, signer } = signedRegistry(createMemoryBackend(), { now: steppingClock() })
    const first = await registry.publish({
      name: 'bot',
      bytes: modelBytes('one'),
      author: 'Ada <ada@example.com>',
      git: { commit: 'a'.repeat(40), dirty: true, branch: 'main' },
      training: { ...training, labels: ['greet', 'refund'], examples: 40 },
      eval: evalSummary(0.8),
      tags: { team: 'support' },
    })
    const second = await registry.publish({ name: 'bot', bytes: modelBytes('two'), author: 'ci' })
    expect([first.version, second.version]).toEqual([1, 2])
    expect(first.blobExisted).toBe(false)
    expect(first.warnings).toEqual([])
    expect(await registry.versionNumbers('bot')).toEqual([1, 2])
    expect(await registry.listModels()).toEqual(['bot'])

    const loaded = await registry.loadVersion('bot', 1)
    expect(loaded.bytes).toEqual(modelBytes('one'))
    expect(loaded.signature.signedBy).toBe(signer.keyId)
    expect(loaded.record).toMatchObject({
      name: 'bot',
      version: 1,
      author: 'Ada <ada@example.com>',
      createdAt: '2024-05-01T08:01:00.000Z', // 08:00 went to format.json
      git: { dirty: true, branch: 'main' },
      training: { dataFingerprint: 'sha256:data1', trainingMs: 42, labels: ['greet', 'refund'], trainedAt: null },
      publisher: { nodeVersion: process.version },
      eval: { macroF1: 0.8 },
      tags: { team: 'support' },
      blob: { size: 2048 },
    })
    expect(loaded.record.blob.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
  })

  it('stores a model file once however often it is published', async () => {
    const backend = createMemoryBackend()
    const { registry } = signedRegistry(backend)
    await registry.publish({ name: 'bot', bytes: modelBytes('same'), author: 'a' })
    const again = await registry.publish({ name: 'bot', bytes: modelBytes('same'), author: 'a', tags: { note: 're' } })
    expect(again.blobExisted).toBe(true)
    expect(again.version).toBe(2)
    expect(await backend.list(keys.blobs)).toHaveLength(1)
  })

  it('refuses to publish unsigned unless allowed, and writes nothing', async () => {
    const backend = createMemoryBackend()
    const strict = new ModelRegistry(backend, { trust: { trustedKeys: [], allowUnsigned: false } })
    await expect(strict.publish({ name: 'bot', bytes: modelBytes('x'), author: 'a' })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_NO_SIGNING_KEY',
    })
    expect(await backend.list('')).toEqual([])
    const lax = new ModelRegistry(backend, { trust: { trustedKeys: [], allowUnsigned: true } })
    const { version } = await lax.publish({ name: 'bot', bytes: modelBytes('x'), author: 'a' })
    expect((await lax.loadVersion('bot', version)).signature.signedBy).toBeNull()
    await expect(strict.loadVersion('bot', version)).rejects.toMatchObject({ code: 'ERR_REGISTRY_UNSIGNED' })
  })

  it('warns when the signing key is not trusted by this registry', async () => {
    const other = testSigner()
    const registry = new ModelRegistry(createMemoryBackend(), {
      trust: { trustedKeys: [], allowUnsigned: false },
      signer: other.signer,
    })
    const res = await registry.publish({ name: 'bot', bytes: modelBytes('x'), author: 'a' })
    expect(res.warnings[0]).toContain(other.signer.publicKey)
  })

  it('validates names and tags', async () => {
    const { registry } = signedRegistry()
    await expect(registry.publish({ name: '../bot', bytes: modelBytes('x'), author: 'a' })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_INVALID_REF',
    })
    await expect(
      registry.publish({ name: 'bot', bytes: modelBytes('x'), author: 'a', tags: { 'bad key': 'v' } }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    // `v2` would read as version 2 wherever a version or an alias is taken
    await registry.publish({ name: 'bot', bytes: modelBytes('x'), author: 'a' })
    for (const alias of ['v2', 'v10', 'latest']) {
      await expect(
        registry.promote({ name: 'bot', version: 1, alias, policy: gates, actor: 'x' }),
      ).rejects.toMatchObject({ code: 'ERR_REGISTRY_INVALID_REF' })
    }
  })

  it('never gives two concurrent publishes the same number, across separate processes on one directory', async () => {
    const root = tempRoot()
    const { signer, publicKey } = testSigner()
    const open = () =>
      new ModelRegistry(createFsBackend({ root }), {
        trust: { trustedKeys: [publicKey], allowUnsigned: false },
        signer,
      })
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => open().publish({ name: 'bot', bytes: modelBytes(`m${i}`), author: `w${i}` })),
    )
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    const registry = open()
    for (const r of results) {
      expect((await registry.loadVersion('bot', r.version)).record.author).toBe(r.signed.record.author)
    }
  })

  it('resolves references: numbers, vN, latest and aliases', async () => {
    const { registry } = signedRegistry()
    for (const l of ['a', 'b', 'c'])
      await registry.publish({ name: 'bot', bytes: modelBytes(l), author: 'x', eval: evalSummary(0.5) })
    await registry.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'x' })
    expect(await registry.resolveVersion('bot', '3')).toBe(3)
    expect(await registry.resolveVersion('bot', 'v1')).toBe(1)
    expect(await registry.resolveVersion('bot', 'latest')).toBe(3)
    expect(await registry.resolveVersion('bot', 'production')).toBe(2)
    await expect(registry.resolveVersion('bot', 'candidate')).rejects.toMatchObject({
      code: 'ERR_REGISTRY_ALIAS_NOT_SET',
    })
    await expect(registry.resolveVersion('bot', 'Bad Alias')).rejects.toMatchObject({
      code: 'ERR_REGISTRY_INVALID_REF',
    })
    await expect(registry.resolveVersion('nobot', 'latest')).rejects.toMatchObject({
      code: 'ERR_REGISTRY_MODEL_NOT_FOUND',
    })
    await expect(registry.loadVersion('bot', 9)).rejects.toMatchObject({ code: 'ERR_REGISTRY_VERSION_NOT_FOUND' })
    await expect(registry.loadVersion('nobot', 1)).rejects.toMatchObject({ code: 'ERR_REGISTRY_MODEL_NOT_FOUND' })
  })
})

describe('ModelRegistry: promote and rollback', () => {
  it('promotes through the gate, logs every decision, and leaves the alias alone when the gate fails', async () => {
    const { registry } = signedRegistry(createMemoryBackend(), { now: steppingClock() })
    await registry.publish({ name: 'bot', bytes: modelBytes('1'), author: 'a', eval: evalSummary(0.8) })
    await registry.publish({ name: 'bot', bytes: modelBytes('2'), author: 'a', eval: evalSummary(0.75) })
    await registry.publish({ name: 'bot', bytes: modelBytes('3'), author: 'a', eval: evalSummary(0.85) })

    const first = await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'ada' })
    expect(first).toMatchObject({ promoted: true, changed: true, from: null, forced: false, gate: { passed: true } })

    const worse = await registry.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'ada' })
    expect(worse).toMatchObject({ promoted: false, changed: false, from: 1, move: null, gate: { passed: false } })
    expect(worse.event).toMatchObject({ kind: 'gate', version: 2, alias: 'production', gate: { passed: false } })
    expect((await registry.readAlias('bot', 'production'))?.version).toBe(1)

    const better = await registry.promote({ name: 'bot', version: 3, alias: 'production', policy: gates, actor: 'bob' })
    expect(better).toMatchObject({ promoted: true, from: 1, move: { to: 3, from: 1, gatePassed: true, actor: 'bob' } })

    const same = await registry.promote({ name: 'bot', version: 3, alias: 'production', policy: gates, actor: 'bob' })
    expect(same).toMatchObject({ promoted: true, changed: false, gate: null })

    const { events } = await registry.readEvents('bot')
    expect(events.map((e) => [e.seq, e.version, e.gate?.passed])).toEqual([
      [1, 1, true],
      [2, 2, false],
      [3, 3, true],
    ])
  })

  it('forces a promotion only with a reason, and records both', async () => {
    const { registry } = signedRegistry()
    await registry.publish({ name: 'bot', bytes: modelBytes('1'), author: 'a', eval: evalSummary(0.8) })
    await registry.publish({ name: 'bot', bytes: modelBytes('2'), author: 'a', eval: evalSummary(0.7) })
    await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' })
    await expect(
      registry.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'a', force: true }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRY_REASON_REQUIRED' })
    const forced = await registry.promote({
      name: 'bot',
      version: 2,
      alias: 'production',
      policy: gates,
      actor: 'oncall',
      force: true,
      reason: 'hotfix for the refund intent',
    })
    expect(forced).toMatchObject({ promoted: true, forced: true, gate: { passed: false } })
    expect(forced.move).toMatchObject({ forced: true, reason: 'hotfix for the refund intent', gatePassed: false })
    expect(forced.event).toMatchObject({ forced: true, reason: 'hotfix for the refund intent' })
  })

  it('uses a given baseline evaluation instead of the stored one', async () => {
    const { registry } = signedRegistry()
    await registry.publish({ name: 'bot', bytes: modelBytes('1'), author: 'a', eval: evalSummary(0.8) })
    await registry.publish({
      name: 'bot',
      bytes: modelBytes('2'),
      author: 'a',
      eval: evalSummary(0.9, { testSetFingerprint: 'sha256:t2' }),
    })
    await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' })
    const mismatched = await registry.promote({
      name: 'bot',
      version: 2,
      alias: 'production',
      policy: gates,
      actor: 'a',
    })
    expect(mismatched.gate?.rules.find((r) => r.rule === 'sameTestSet')?.status).toBe('fail')
    const rebased = await registry.promote({
      name: 'bot',
      version: 2,
      alias: 'production',
      policy: gates,
      actor: 'a',
      baselineEval: evalSummary(0.85, { testSetFingerprint: 'sha256:t2' }),
    })
    expect(rebased.promoted).toBe(true)
  })

  it('rolls back through earlier holders, not back and forth', async () => {
    const { registry } = signedRegistry()
    for (const f1 of [0.6, 0.7, 0.8]) {
      const { version } = await registry.publish({
        name: 'bot',
        bytes: modelBytes(String(f1)),
        author: 'a',
        eval: evalSummary(f1),
      })
      await registry.promote({ name: 'bot', version, alias: 'production', policy: gates, actor: 'a' })
    }
    const r1 = await registry.rollback({
      name: 'bot',
      alias: 'production',
      actor: 'oncall',
      reason: 'spike in fallbacks',
    })
    expect(r1).toMatchObject({ from: 3, to: 2, move: { action: 'rollback', reason: 'spike in fallbacks' } })
    const r2 = await registry.rollback({ name: 'bot', alias: 'production', actor: 'oncall' })
    expect(r2).toMatchObject({ from: 2, to: 1 })
    await expect(registry.rollback({ name: 'bot', alias: 'production', actor: 'oncall' })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_NO_ROLLBACK_TARGET',
      hint: 'Promote a version explicitly: `intentops promote <version> --to production`.',
    })
    const explicit = await registry.rollback({ name: 'bot', alias: 'production', actor: 'oncall', to: 3 })
    expect(explicit).toMatchObject({ from: 1, to: 3 })
    await expect(registry.rollback({ name: 'bot', alias: 'candidate', actor: 'x' })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_ALIAS_NOT_SET',
      hint: 'Promote a version first: `intentops promote <version> --to candidate`.',
    })
  })

  it('computes rollback targets as a stack', () => {
    const move = (action: 'promote' | 'rollback', to: number) =>
      ({ action, to }) as Parameters<typeof rollbackTarget>[0][number]
    expect(rollbackTarget([move('promote', 1)])).toBeNull()
    expect(rollbackTarget([move('promote', 1), move('promote', 2)])).toBe(1)
    expect(rollbackTarget([move('promote', 1), move('promote', 2), move('promote', 3), move('rollback', 2)])).toBe(1)
    expect(rollbackTarget([move('promote', 1), move('promote', 2), move('rollback', 1), move('promote', 4)])).toBe(1)
  })
})

describe('ModelRegistry: faults', () => {
  const setup = async () => {
    const root = tempRoot()
    const { registry } = signedRegistry(createFsBackend({ root }))
    const v1 = await registry.publish({ name: 'bot', bytes: modelBytes('1'), author: 'a', eval: evalSummary(0.8) })
    const v2 = await registry.publish({ name: 'bot', bytes: modelBytes('2'), author: 'a', eval: evalSummary(0.9) })
    const file = (key: string) => path.join(root, ...key.split('/'))
    return { root, registry, v1, v2, file }
  }

  it('refuses a corrupt blob, and the other versions still load', async () => {
    const { registry, v1, file } = await setup()
    const blob = file(keys.blob(v1.signed.record.blob.digest))
    const bytes = readFileSync(blob)
    bytes[100] = bytes[100]! ^ 0xff
    writeFileSync(blob, bytes)
    await expect(registry.loadVersion('bot', 1)).rejects.toMatchObject({
      code: 'ERR_REGISTRY_BLOB_CORRUPT',
      message: expect.stringContaining('bot v1'),
    })
    expect((await registry.loadVersion('bot', 2)).version).toBe(2)
    // Promotion verifies the candidate first.
    await expect(
      registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRY_BLOB_CORRUPT' })
    // Publishing the same model file again repairs the blob.
    const again = await registry.publish({ name: 'bot', bytes: modelBytes('1'), author: 'a' })
    expect(again.blobExisted).toBe(false)
    expect((await registry.loadVersion('bot', 1)).bytes).toEqual(modelBytes('1'))
  })

  it('refuses a missing blob with a hint to publish it again', async () => {
    const { registry, v2, file } = await setup()
    rmSync(file(keys.blob(v2.signed.record.blob.digest)))
    await expect(registry.loadVersion('bot', 2)).rejects.toMatchObject({
      code: 'ERR_REGISTRY_BLOB_MISSING',
      hint: expect.stringContaining('intentops publish'),
    })
    expect((await registry.loadVersion('bot', 1)).version).toBe(1)
  })

  it('refuses a record edited after publishing, and one that lies about its digest', async () => {
    const { registry, v1, file } = await setup()
    const key = file(keys.version('bot', 1))
    const doc = JSON.parse(readFileSync(key, 'utf8'))
    doc.record.eval.macroF1 = 0.99
    writeFileSync(key, JSON.stringify(doc))
    await expect(registry.loadVersion('bot', 1)).rejects.toMatchObject({ code: 'ERR_REGISTRY_RECORD_DIGEST_MISMATCH' })
    // Pointing the record at another blob breaks the signature even with a matching digest.
    const other = await registry.readVersion('bot', 2)
    const forged = { ...v1.signed, record: { ...v1.signed.record, blob: other.record.blob } }
    const { recordDigest } = await import('./signing.js')
    forged.digest = recordDigest(forged.record)
    writeFileSync(key, JSON.stringify(forged))
    await expect(registry.loadVersion('bot', 1)).rejects.toMatchObject({ code: 'ERR_REGISTRY_SIGNATURE_INVALID' })
    expect((await registry.loadVersion('bot', 2)).version).toBe(2)
  })

  it('reports an unreadable record by its key and keeps listing the rest', async () => {
    const { registry, file } = await setup()
    writeFileSync(file(keys.version('bot', 1)), '{"record": ')
    await expect(registry.readVersion('bot', 1)).rejects.toMatchObject({
      code: 'ERR_REGISTRY_RECORD_INVALID',
      message: expect.stringContaining('models/bot/versions/000000000001.json'),
    })
    expect(await registry.versionNumbers('bot')).toEqual([1, 2])
    const { version } = await registry.publish({ name: 'bot', bytes: modelBytes('3'), author: 'a' })
    expect(version).toBe(3)
  })

  it('refuses a registry written by a newer format, for reads and writes alike', async () => {
    const { root, registry } = await setup()
    writeFileSync(path.join(root, 'format.json'), JSON.stringify({ format: 'intentops-registry', version: 2 }))
    const fresh = signedRegistry(createFsBackend({ root })).registry
    await expect(fresh.listModels()).rejects.toMatchObject({ code: 'ERR_REGISTRY_FORMAT_NEWER' })
    await expect(fresh.publish({ name: 'bot', bytes: modelBytes('x'), author: 'a' })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_FORMAT_NEWER',
      message: expect.stringContaining('format version 2'),
    })
    expect(registry).toBeTruthy()
    writeFileSync(path.join(root, 'format.json'), 'not json')
    await expect(signedRegistry(createFsBackend({ root })).registry.listModels()).rejects.toMatchObject({
      code: 'ERR_REGISTRY_FORMAT_INVALID',
    })
  })

  it('refuses a record of a newer document version by its key', async () => {
    const { registry, file } = await setup()
    const key = file(keys.version('bot', 2))
    const doc = JSON.parse(readFileSync(key, 'utf8'))
    doc.record.formatVersion = 7
    writeFileSync(key, JSON.stringify(doc))
    await expect(registry.readVersion('bot', 2)).rejects.toMatchObject({
      code: 'ERR_REGISTRY_FORMAT_NEWER',
      message: expect.stringContaining('versions/000000000002.json'),
    })
  })

  it('refuses an alias whose history was rewritten', async () => {
    const { registry, file } = await setup()
    await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'a' })
    await registry.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'a' })
    const key = file(keys.alias('bot', 'production'))
    const doc = JSON.parse(readFileSync(key, 'utf8'))
    doc.history[0].actor = 'someone else'
    writeFileSync(key, JSON.stringify(doc))
    await expect(registry.readAlias('bot', 'production')).rejects.toMatchObject({
      code: 'ERR_REGISTRY_RECORD_INVALID',
      message: expect.stringContaining('history was rewritten'),
    })
  })
})
