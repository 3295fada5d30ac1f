import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type S3rverProcess, startS3rver } from '../../../test/helpers/s3rver.js'
import { testRegistryBackend } from '../testing.js'
import { createS3Backend, type S3BackendOptions } from './s3.js'

let server: S3rverProcess
const options = (prefix: string): S3BackendOptions => ({
  bucket: 'registry',
  prefix,
  endpoint: server.endpoint,
  region: server.region,
  forcePathStyle: true,
  credentials: server.credentials,
  lockPollMs: 25,
})
const prefixes = new WeakMap<object, string>()

describe('s3 backend (s3rver)', () => {
  beforeAll(async () => {
    server = await startS3rver(['registry'])
  })
  afterAll(async () => {
    await server?.stop()
  })

  testRegistryBackend(
    () => {
      const prefix = `run-${randomBytes(6).toString('hex')}`
      const backend = createS3Backend(options(prefix))
      prefixes.set(backend, prefix)
      return backend
    },
    { reopen: (b) => createS3Backend(options(prefixes.get(b)!)) },
  )

  it('keeps registries under different prefixes apart', async () => {
    const a = createS3Backend(options('tenant-a'))
    const b = createS3Backend(options('tenant-b'))
    await a.put('format.json', new TextEncoder().encode('a'))
    expect(await b.get('format.json')).toBeNull()
    expect((await a.list('')).map((o) => o.key)).toEqual(['format.json'])
    await Promise.all([a.close?.(), b.close?.()])
  })

  it('reports a missing bucket as ERR_REGISTRY_BACKEND with the location', async () => {
    const b = createS3Backend({ ...options('x'), bucket: 'no-such-bucket' })
    await expect(b.put('format.json', new TextEncoder().encode('{}'))).rejects.toMatchObject({
      code: 'ERR_REGISTRY_BACKEND',
      message: expect.stringContaining('s3://no-such-bucket/x/'),
    })
    await b.close?.()
  })
})
