/**
 * A writer that kills itself with SIGKILL at a chosen point, for the registry's crash tests. Run as
 * `node --import tsx crash-publisher.ts '<json>'`; it publishes one model and promotes it, and dies before or after
 * its Nth write to the backend (or runs to the end and prints how many writes it made).
 * @module
 */
import type { RegistryBackend } from '../../src/registry/backend.js'
import { createFsBackend } from '../../src/registry/backends/fs.js'
import { createS3Backend, type S3BackendOptions } from '../../src/registry/backends/s3.js'
import { ModelRegistry } from '../../src/registry/registry.js'
import { parsePrivateKey, parsePublicKey } from '../../src/registry/signing.js'
import { evalSummary, modelBytes } from './registry.js'

interface Args {
  fs?: string
  s3?: S3BackendOptions
  privateKey: string
  run: number
  killAt?: { op: number; when: 'before' | 'after' }
  blobBytes: number
  lockStaleMs: number
}

const args = JSON.parse(process.argv[2]!) as Args
const die = () => process.kill(process.pid, 'SIGKILL')

function crashing(inner: RegistryBackend): RegistryBackend {
  let ops = 0
  const around = async <T>(fn: () => Promise<T>): Promise<T> => {
    ops++
    if (args.killAt?.op === ops && args.killAt.when === 'before') die()
    const result = await fn()
    if (args.killAt?.op === ops && args.killAt.when === 'after') die()
    return result
  }
  return {
    ...inner,
    put: (key, data, options) => around(() => inner.put(key, data, options)),
    delete: (key) => around(() => inner.delete(key)),
    close: async () => {
      process.stdout.write(`${JSON.stringify({ ops })}\n`)
      await inner.close?.()
    },
  }
}

const backend = crashing(args.fs ? createFsBackend({ root: args.fs }) : createS3Backend(args.s3!))
const signer = parsePrivateKey(args.privateKey, 'test key')
const registry = new ModelRegistry(backend, {
  trust: { trustedKeys: [parsePublicKey(signer.publicKey, 'test key')], allowUnsigned: false },
  signer,
  lockStaleMs: args.lockStaleMs,
  lockWaitMs: 30_000,
})
process.stdout.write(`${JSON.stringify({ phase: 'publishing' })}\n`)
const { version } = await registry.publish({
  name: 'bot',
  bytes: modelBytes(`run ${args.run}`, args.blobBytes),
  author: `run ${args.run}`,
  eval: evalSummary(0.5 + args.run / 100),
})
await registry.promote({
  name: 'bot',
  version,
  alias: 'production',
  policy: { minDelta: 0, mustPass: true },
  actor: `run ${args.run}`,
})
await backend.close?.()
