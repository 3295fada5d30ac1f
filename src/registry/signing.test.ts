import { createPrivateKey } from 'node:crypto'
import { mkdtempSync, readFileSync, statSync, watch } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { testSigner } from '../../test/helpers/registry.js'
import type { VersionRecord } from './layout.js'
import { checkSignatures, generateSigningKeys, parsePrivateKey, parsePublicKey, signVersion } from './signing.js'

const record = (): VersionRecord => ({
  format: 'intentops-registry-version',
  formatVersion: 1,
  name: 'bot',
  version: 1,
  blob: { digest: `sha256:${'a'.repeat(64)}`, size: 10 },
  createdAt: '2024-05-01T00:00:00.000Z',
  author: 'Ada <ada@example.com>',
  git: { commit: 'abc', dirty: false },
  training: {
    dataFingerprint: 'sha256:d',
    configFingerprint: 'sha256:c',
    trainedAt: null,
    trainingMs: 12,
    toolkitVersion: '0.1.0',
    nodeVersion: 'v20',
  },
  publisher: { toolkitVersion: '0.1.0', nodeVersion: 'v20', os: 'linux' },
  eval: null,
  tags: { team: 'support' },
})

describe('signing', () => {
  it('generates a key pair with a private key only its owner can read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-keys-'))
    const pair = await generateSigningKeys(dir)
    expect(statSync(pair.privateKeyPath).mode & 0o777).toBe(0o600)
    expect(pair.publicKey).toMatch(/^ed25519:[A-Za-z0-9_-]{43}$/)
    expect(pair.keyId).toMatch(/^[0-9a-f]{16}$/)
    const signer = parsePrivateKey(readFileSync(pair.privateKeyPath, 'utf8'), pair.privateKeyPath)
    expect(signer.publicKey).toBe(pair.publicKey)
    // The .pub file holds the PEM block and the one-line form; both name the same key.
    const pub = readFileSync(pair.publicKeyPath, 'utf8')
    expect(parsePublicKey(pub.split('\n').find((l) => l.startsWith('ed25519:'))!, 'x').keyId).toBe(pair.keyId)
    expect(parsePublicKey(pub.slice(0, pub.indexOf('ed25519:')), 'x').keyId).toBe(pair.keyId)
    await expect(generateSigningKeys(dir)).rejects.toMatchObject({ code: 'ERR_REGISTRY_KEYS_EXIST' })
    const replaced = await generateSigningKeys(dir, { force: true })
    expect(replaced.keyId).not.toBe(pair.keyId)
  })

  it('never lets the private key exist with a wider mode, even under umask 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-keys-'))
    const seen = new Map<string, number>()
    // Every file that appears in the directory is looked at as soon as it does: the temporary file while it is
    // written and synced, the key file once renamed into place.
    const watcher = watch(dir, (_event, name) => {
      if (!name?.includes('.key')) return
      try {
        const mode = statSync(path.join(dir, name)).mode & 0o777
        seen.set(name, Math.max(seen.get(name) ?? 0, mode))
      } catch {
        // renamed or removed meanwhile
      }
    })
    const umask = process.umask(0)
    try {
      const pair = await generateSigningKeys(dir)
      expect(statSync(pair.privateKeyPath).mode & 0o777).toBe(0o600)
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      process.umask(umask)
      watcher.close()
    }
    expect(seen.size).toBeGreaterThan(0)
    for (const [name, mode] of seen) expect({ name, mode: mode.toString(8) }).toEqual({ name, mode: '600' })
  })

  it('verifies its own signature and accepts base64 with padding', () => {
    const { signer, publicKey } = testSigner()
    const signed = signVersion(record(), signer)
    expect(checkSignatures(signed, { trustedKeys: [publicKey], allowUnsigned: false }, 'k')).toEqual({
      signedBy: signer.keyId,
      trusted: true,
      unknownKeys: [],
    })
    const b64 = Buffer.from(signer.publicKey.slice(8), 'base64url').toString('base64')
    expect(parsePublicKey(`ed25519:${b64}`, 'x').keyId).toBe(signer.keyId)
  })

  it('refuses a tampered record even when unsigned models are allowed', () => {
    const { signer, publicKey } = testSigner()
    const signed = signVersion(record(), signer)
    const editedBlob = structuredClone(signed)
    editedBlob.record.blob.digest = `sha256:${'b'.repeat(64)}`
    for (const allowUnsigned of [false, true]) {
      expect(() => checkSignatures(editedBlob, { trustedKeys: [publicKey], allowUnsigned }, 'k')).toThrow(
        expect.objectContaining({ code: 'ERR_REGISTRY_RECORD_DIGEST_MISMATCH' }),
      )
    }
    // Recomputing the digest does not help: the signature covers the record.
    const resealed = signVersion(editedBlob.record, undefined)
    resealed.signatures = signed.signatures
    for (const allowUnsigned of [false, true]) {
      expect(() => checkSignatures(resealed, { trustedKeys: [publicKey], allowUnsigned }, 'k')).toThrow(
        expect.objectContaining({ code: 'ERR_REGISTRY_SIGNATURE_INVALID' }),
      )
    }
  })

  it('refuses unsigned and unknown-key versions unless unsigned ones are allowed', () => {
    const { signer } = testSigner()
    const stranger = testSigner()
    const unsigned = signVersion(record(), undefined)
    const foreign = signVersion(record(), signer)
    const policy = { trustedKeys: [stranger.publicKey], allowUnsigned: false }
    expect(() => checkSignatures(unsigned, policy, 'k')).toThrow(
      expect.objectContaining({ code: 'ERR_REGISTRY_UNSIGNED' }),
    )
    expect(() => checkSignatures(foreign, policy, 'k')).toThrow(
      expect.objectContaining({ code: 'ERR_REGISTRY_KEY_UNTRUSTED', message: expect.stringContaining(signer.keyId) }),
    )
    const lax = { ...policy, allowUnsigned: true }
    expect(checkSignatures(unsigned, lax, 'k')).toMatchObject({ signedBy: null, trusted: true })
    expect(checkSignatures(foreign, lax, 'k')).toMatchObject({ signedBy: null, unknownKeys: [signer.keyId] })
  })

  it('explains bad keys', () => {
    expect(() => parsePublicKey('ed25519:AAAA', 'intentops.yml')).toThrow(
      expect.objectContaining({ code: 'ERR_REGISTRY_KEY_INVALID', message: expect.stringContaining('32 bytes') }),
    )
    expect(() => parsePublicKey('ssh-ed25519 AAAA', 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_REGISTRY_KEY_INVALID' }),
    )
    expect(() => parsePrivateKey('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----', 'k.pem')).toThrow(
      expect.objectContaining({ code: 'ERR_REGISTRY_KEY_INVALID', message: expect.stringContaining('k.pem') }),
    )
  })

  it('signs exactly as before: the signing payload is part of the registry format', () => {
    // A fixed ed25519 key (seed of 32 sevens); ed25519 signatures are deterministic.
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 7)])
    const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' })
    const signer = parsePrivateKey(pem.toString(), 'fixed key')
    expect(signer.keyId).toBe('fe812c12f3ab4ce6')
    expect(signer.publicKey).toBe('ed25519:6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw')
    const fixed: VersionRecord = {
      ...record(),
      author: 'Ada',
      git: null,
      training: {
        dataFingerprint: null,
        configFingerprint: null,
        trainedAt: null,
        trainingMs: null,
        toolkitVersion: null,
        nodeVersion: null,
      },
      tags: {},
    }
    const signed = signVersion(fixed, signer)
    expect(signed.digest).toBe('sha256:c8780616960671c2beb422725579166f4bd24720c4149dede13d46144ac138ae')
    expect(signed.signatures[0]!.signature).toBe(
      'beR2T9xRzh+Z48cFfm2bcGPZUeh5cddy0l5NW/ODqT5N4nF1Ab946DGA8Rs0dDg+1AcGUKZl+d/tPwF8AGTqDg==',
    )
  })
})
