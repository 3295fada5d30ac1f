/**
 * Test helpers for the registry: in-memory key pairs, registries with a clock, summaries.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto'
import type { EvalSummary } from '../../src/eval/types.js'
import type { RegistryBackend } from '../../src/registry/backend.js'
import { createMemoryBackend } from '../../src/registry/backends/memory.js'
import { ModelRegistry, type RegistryOptions } from '../../src/registry/registry.js'
import { parsePrivateKey, parsePublicKey, type Signer } from '../../src/registry/signing.js'

/** A fresh ed25519 signer and its public key, without touching the disk. */
export function testSigner(): { signer: Signer; publicKey: ReturnType<typeof parsePublicKey> } {
  const { privateKey } = generateKeyPairSync('ed25519')
  const signer = parsePrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'test key')
  return { signer, publicKey: parsePublicKey(signer.publicKey, 'test key') }
}

/** A clock that advances one minute per reading, starting at `start`. */
export function steppingClock(start = '2024-05-01T08:00:00.000Z', stepMs = 60_000): () => Date {
  let t = Date.parse(start)
  return () => {
    const d = new Date(t)
    t += stepMs
    return d
  }
}

/** A registry that signs with a fresh key and trusts only it. */
export function signedRegistry(
  backend: RegistryBackend = createMemoryBackend(),
  options: Partial<RegistryOptions> = {},
): { registry: ModelRegistry; signer: Signer } {
  const { signer, publicKey } = testSigner()
  const registry = new ModelRegistry(backend, {
    trust: { trustedKeys: [publicKey], allowUnsigned: false },
    signer,
    lockWaitMs: 20_000,
    ...options,
  })
  return { registry, signer }
}

/** Bytes standing in for a model file. */
export function modelBytes(label: string, size = 2048): Uint8Array {
  const out = new Uint8Array(size)
  const seed = new TextEncoder().encode(label)
  for (let i = 0; i < size; i++) out[i] = (seed[i % seed.length]! + i * 31) & 0xff
  return out
}

/** An evaluation summary with the given macro-F1 on test set `sha256:t1`. */
export function evalSummary(macroF1: number, extra: Partial<EvalSummary> = {}): EvalSummary {
  return {
    testSetFingerprint: 'sha256:t1',
    accuracy: macroF1,
    macroF1,
    weightedF1: macroF1,
    perIntent: {
      greet: { precision: macroF1, recall: macroF1, f1: macroF1, support: 5 },
      refund: { precision: macroF1, recall: macroF1, f1: macroF1, support: 5 },
    },
    mustPass: { total: 2, passed: 2, failed: 0, failedRequired: 0 },
    ...extra,
  }
}

/**
 * Train a small real model (the NLU toy data, optionally without some intents' later examples) and return the
 * bytes of its model file.
 */
export async function trainedModelBytes(options: { seed?: number; drop?: number; name?: string } = {}) {
  const { defaultConfig } = await import('../../src/config/defaults.js')
  const { trainModel } = await import('../../src/nlu/train.js')
  const { encodeModel } = await import('../../src/nlu/model-file.js')
  const { toyTrainingData } = await import('../../src/nlu/testing.js')
  const data = toyTrainingData()
  // Dropping every k-th example changes the data fingerprint and the model.
  if (options.drop) data.examples = data.examples.filter((_, i) => i % options.drop! !== 0)
  const config = { ...defaultConfig(), ...(options.name ? { name: options.name } : {}) }
  const model = await trainModel(data, { config, seed: options.seed ?? 1, workers: 0 })
  return { bytes: encodeModel(model), manifest: model.manifest }
}
