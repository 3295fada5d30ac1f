/**
 * SIGKILL a publishing process at every write of a publish and a promotion, and at random moments inside large
 * writes, then check that the registry is still valid: every visible version loads verified, numbers have no gaps,
 * aliases point at intact versions, and the next writer takes over the dead one's lock.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RegistryBackend } from '../src/registry/backend.js'
import { createFsBackend } from '../src/registry/backends/fs.js'
import { createS3Backend, type S3BackendOptions } from '../src/registry/backends/s3.js'
import { ModelRegistry } from '../src/registry/registry.js'
import { parsePrivateKey, parsePublicKey } from '../src/registry/signing.js'
import { verifyRegistry } from '../src/registry/verify.js'
import { bundleScript } from './helpers/bundle.js'
import { evalSummary, modelBytes } from './helpers/registry.js'
import { type S3rverProcess, startS3rver } from './helpers/s3rver.js'

let script = ''
const privateKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
const signer = parsePrivateKey(privateKey, 'test key')
const trust = { trustedKeys: [parsePublicKey(signer.publicKey, 'k')], allowUnsigned: false }

interface Target {
  fs?: string
  s3?: S3BackendOptions
  lockStaleMs?: number
}

function spawnWriter(target: Target, run: number, extra: Record<string, unknown>): ChildProcess {
  const args = { lockStaleMs: 2000, ...target, privateKey, run, blobBytes: 64 * 1024, ...extra }
  return spawn(process.execPath, [script, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  })
}

async function finished(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal: signal as string | null, out, err })),
  )
}

function openBackend(target: Target): RegistryBackend {
  return target.fs ? createFsBackend({ root: target.fs }) : createS3Backend(target.s3!)
}

/** Publish and promote version 1 in-process, so the writes under test are those of a registry in use. */
async function seed(target: Target) {
  const backend = openBackend(target)
  const registry = new ModelRegistry(backend, { trust, signer })
  const { version } = await registry.publish({
    name: 'bot',
    bytes: modelBytes('seed'),
    author: 'seed',
    eval: evalSummary(0.5),
  })
  await registry.promote({
    name: 'bot',
    version,
    alias: 'production',
    policy: { minDelta: 0, mustPass: true },
    actor: 'seed',
  })
  await backend.close?.()
}

/** The registry must be valid whatever moment the writer died at. */
async function expectValid(target: Target) {
  const backend = openBackend(target)
  const registry = new ModelRegistry(backend, { trust })
  const report = await verifyRegistry(registry)
  expect(report.problems).toEqual([])
  expect(report.versions.filter((v) => !v.ok)).toEqual([])
  expect(report.aliases.filter((a) => !a.ok)).toEqual([])
  const numbers = report.versions.map((v) => v.version)
  expect(numbers).toEqual(numbers.map((_, i) => i + 1))
  await backend.close?.()
  return numbers.length
}

type KillPoint = { op: number; when: 'before' | 'after' }

/** Kill a writer at each point in turn; then a last writer must take over any dead writer's lock and finish. */
async function killAt(target: Target, points: KillPoint[]) {
  let run = 2
  for (const point of points) {
    const res = await finished(spawnWriter(target, run++, { killAt: point }))
    expect(res.signal, `the writer should die ${point.when} write ${point.op}: ${res.err}`).toBe('SIGKILL')
    await expectValid(target)
  }
  const before = await expectValid(target)
  const last = await finished(spawnWriter(target, run, {}))
  expect(last.code, last.err).toBe(0)
  expect(await expectValid(target)).toBe(before + 1)
}

describe('a publish killed at any point leaves a valid registry', () => {
  const dirs: string[] = []
  beforeAll(async () => {
    script = await bundleScript(new URL('./helpers/crash-publisher.ts', import.meta.url).pathname)
  })
  afterAll(() => {
    for (const d of [...dirs, script]) rmSync(d, { recursive: true, force: true })
  })
  const fsTarget = (): Target => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-crash-'))
    dirs.push(dir)
    return { fs: path.join(dir, 'registry') }
  }

  it('counts the writes of a first publish and promotion', async () => {
    const target = fsTarget()
    const res = await finished(spawnWriter(target, 1, {}))
    expect(res.code, res.err).toBe(0)
    // format.json, blob, record; gate event, alias
    expect(
      res.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ phase: 'publishing' }, { ops: 5 }])
    expect(await expectValid(target)).toBe(1)
  })

  // Writes of a publish and promotion on a registry in use: 1 blob, 2 record, 3 gate event, 4 alias.
  const fsPoints: KillPoint[][] = [
    [
      { op: 1, when: 'before' },
      { op: 1, when: 'after' },
      { op: 2, when: 'before' },
    ],
    [
      { op: 2, when: 'after' },
      { op: 3, when: 'before' },
      { op: 3, when: 'after' },
    ],
    [
      { op: 4, when: 'before' },
      { op: 4, when: 'after' },
    ],
  ]
  for (const points of fsPoints) {
    it(`on disk, killed ${points.map((p) => `${p.when} write ${p.op}`).join(', ')}`, async () => {
      const target = fsTarget()
      await seed(target)
      await killAt(target, points)
    })
  }

  it('on disk, killed around the very first write (format.json) of a new registry', async () => {
    const target = fsTarget()
    for (const when of ['before', 'after'] as const) {
      const res = await finished(spawnWriter(target, 1, { killAt: { op: 1, when } }))
      expect(res.signal).toBe('SIGKILL')
      expect(await expectValid(target)).toBe(0)
    }
    expect((await finished(spawnWriter(target, 1, {}))).code).toBe(0)
    expect(await expectValid(target)).toBe(1)
  })

  it('on disk, killed at random moments inside multi-megabyte writes', async () => {
    const target = fsTarget()
    await seed(target)
    let run = 2
    for (const delay of [0, 30, 60, 100, 150]) {
      const child = spawnWriter(target, run++, { blobBytes: 16 * 1024 * 1024 })
      const done = finished(child)
      // Aim inside the writes: wait until the writer starts publishing, then a little.
      await new Promise<void>((resolve) => {
        child.stdout!.on('data', (c: Buffer) => {
          if (c.toString().includes('publishing')) resolve()
        })
        child.once('exit', () => resolve())
      })
      await new Promise((r) => setTimeout(r, delay))
      child.kill('SIGKILL')
      await done
      await expectValid(target)
    }
    const last = await finished(spawnWriter(target, run, {}))
    expect(last.code, last.err).toBe(0)
    await expectValid(target)
  })

  describe('on S3', () => {
    let server: S3rverProcess
    beforeAll(async () => {
      server = await startS3rver(['crash'])
    })
    afterAll(async () => {
      await server?.stop()
    })

    const s3Target = (): Target => ({
      lockStaleMs: 1000,
      s3: {
        bucket: 'crash',
        prefix: `c-${randomBytes(4).toString('hex')}`,
        endpoint: server.endpoint,
        region: server.region,
        credentials: server.credentials,
        forcePathStyle: true,
        lockPollMs: 50,
      },
    })

    it('killed before the record write, holding the lock', async () => {
      const target = s3Target()
      await seed(target)
      await killAt(target, [{ op: 2, when: 'before' }])
    })

    it('killed after the gate event and before the alias write', async () => {
      const target = s3Target()
      await seed(target)
      await killAt(target, [
        { op: 3, when: 'after' },
        { op: 4, when: 'before' },
      ])
    })
  })
})
