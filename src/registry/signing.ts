/**
 * ed25519 signing of version records with `node:crypto`. A signature covers the canonical JSON of the whole record,
 * which holds the model blob's SHA-256: it answers "is this the model our pipeline produced?". Public keys are
 * written `ed25519:<base64url>` (one line for `intentops.yml`); private keys are PKCS#8 PEM files, mode 0600.
 * @module
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto'
import path from 'node:path'
import { createError } from '../errors.js'
import { ensureDir, pathExists, writeFileAtomic } from '../util/fs.js'
import { canonicalize } from './canonical.js'
import type { Signature, SignedVersion, VersionRecord } from './layout.js'

/** A public key the registry trusts. */
export interface PublicKeyInfo {
  /** Short fingerprint: the first 16 hex digits of the SHA-256 of the raw key. */
  keyId: string
  /** `ed25519:<base64url raw key>`. */
  text: string
  key: KeyObject
}

/** Signs with one private key. */
export interface Signer {
  readonly keyId: string
  /** The matching public key, `ed25519:<base64url>`. */
  readonly publicKey: string
  sign(data: Uint8Array): string
}

/** Which signatures a registry accepts. */
export interface TrustPolicy {
  trustedKeys: readonly PublicKeyInfo[]
  /** Accept versions with no signature, or signed only by unknown keys. Tampered signatures are never accepted. */
  allowUnsigned: boolean
}

/** Default file names of `intentops keys generate`. */
export const PRIVATE_KEY_FILE = 'intentops-signing.key'
export const PUBLIC_KEY_FILE = 'intentops-signing.pub'

const SIGNING_DOMAIN = 'intentops-registry-version/1\n'

function rawPublicKey(key: KeyObject): Buffer {
  const x = key.export({ format: 'jwk' }).x
  if (!x) throw createError('ERR_REGISTRY_KEY_INVALID', { kind: 'public', source: '(key)', detail: 'not ed25519' })
  return Buffer.from(x, 'base64url')
}

function describePublicKey(key: KeyObject): PublicKeyInfo {
  const raw = rawPublicKey(key)
  return {
    keyId: createHash('sha256').update(raw).digest('hex').slice(0, 16),
    text: `ed25519:${raw.toString('base64url')}`,
    key,
  }
}

/**
 * Parse a public key: `ed25519:<base64url or base64 raw key>` or an SPKI PEM block.
 * @param source where the text came from, for the error message
 */
export function parsePublicKey(text: string, source: string): PublicKeyInfo {
  const trimmed = text.trim()
  try {
    let key: KeyObject
    const compact = /^ed25519:([A-Za-z0-9+/_-]+={0,2})$/.exec(trimmed)
    if (compact) {
      const raw = Buffer.from(compact[1]!.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url')
      if (raw.length !== 32) throw new Error(`an ed25519 public key is 32 bytes, this one is ${raw.length}`)
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' })
    } else if (trimmed.startsWith('-----BEGIN')) {
      key = createPublicKey(trimmed)
    } else {
      throw new Error('expected `ed25519:<base64>` or a PEM block')
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key, not ed25519`)
    return describePublicKey(key)
  } catch (err) {
    throw createError(
      'ERR_REGISTRY_KEY_INVALID',
      { kind: 'public', source, detail: (err as Error).message },
      { cause: err },
    )
  }
}

/** Parse a PKCS#8 PEM ed25519 private key into a signer. */
export function parsePrivateKey(pem: string, source: string): Signer {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key, not ed25519`)
  } catch (err) {
    throw createError(
      'ERR_REGISTRY_KEY_INVALID',
      { kind: 'private', source, detail: (err as Error).message.split('\n')[0] },
      { cause: err },
    )
  }
  const pub = describePublicKey(createPublicKey(key))
  return {
    keyId: pub.keyId,
    publicKey: pub.text,
    sign: (data) => sign(null, data, key).toString('base64'),
  }
}

export interface GeneratedKeyPair {
  privateKeyPath: string
  publicKeyPath: string
  keyId: string
  /** `ed25519:<base64url>`, the line to add to `registry.trustedKeys`. */
  publicKey: string
}

/**
 * Generate an ed25519 key pair into `dir`: the private key with mode 0600, the public key as PEM plus the
 * one-line form. Refuses to overwrite existing files unless `force`. Root writing them into a user's directory gives
 * them to that user, as any new file there (`writeFileAtomic`): the directory's owner could replace a key of root's
 * there anyway, and the project's owner signs with it.
 * @example
 * const { publicKey, privateKeyPath } = await generateSigningKeys('.intentops/keys')
 */
export async function generateSigningKeys(dir: string, options: { force?: boolean } = {}): Promise<GeneratedKeyPair> {
  const privateKeyPath = path.join(dir, PRIVATE_KEY_FILE)
  const publicKeyPath = path.join(dir, PUBLIC_KEY_FILE)
  if (!options.force) {
    for (const p of [privateKeyPath, publicKeyPath]) {
      if (await pathExists(p)) throw createError('ERR_REGISTRY_KEYS_EXIST', { path: p })
    }
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const info = describePublicKey(publicKey)
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString()
  await ensureDir(dir)
  await writeFileAtomic(privateKeyPath, privatePem, { mode: 0o600 })
  await writeFileAtomic(publicKeyPath, `${publicPem}${info.text}\n`)
  return { privateKeyPath, publicKeyPath, keyId: info.keyId, publicKey: info.text }
}

/** `sha256:` of the canonical JSON of a record: what a version file stores as its digest. */
export function recordDigest(record: VersionRecord): string {
  return `sha256:${createHash('sha256').update(canonicalize(record)).digest('hex')}`
}

function signingPayload(record: VersionRecord): Buffer {
  return Buffer.from(SIGNING_DOMAIN + canonicalize(record), 'utf8')
}

/** Wrap a record with its digest and, when a signer is given, its signature. */
export function signVersion(record: VersionRecord, signer: Signer | undefined): SignedVersion {
  const signatures: Signature[] = signer
    ? [{ keyId: signer.keyId, algorithm: 'ed25519', signature: signer.sign(signingPayload(record)) }]
    : []
  return { record, digest: recordDigest(record), signatures }
}

/** What checking a version's signatures found. */
export interface SignatureCheck {
  /** The trusted key whose valid signature was found, or null. */
  signedBy: string | null
  /** Accepted under the trust policy. */
  trusted: boolean
  /** Key ids of signatures by keys not in the trust list. */
  unknownKeys: string[]
}

/**
 * Check a stored version against the trust policy. Throws `ERR_REGISTRY_RECORD_DIGEST_MISMATCH` when the record no
 * longer matches its digest, `ERR_REGISTRY_SIGNATURE_INVALID` when a trusted key's signature fails, and
 * `ERR_REGISTRY_UNSIGNED` / `ERR_REGISTRY_KEY_UNTRUSTED` when no trusted signature exists and unsigned versions are
 * not allowed.
 */
export function checkSignatures(signed: SignedVersion, policy: TrustPolicy, key: string): SignatureCheck {
  const { record } = signed
  const actual = recordDigest(record)
  if (actual !== signed.digest) {
    throw createError('ERR_REGISTRY_RECORD_DIGEST_MISMATCH', { key, actual, expected: signed.digest })
  }
  const payload = signingPayload(record)
  const unknownKeys: string[] = []
  let signedBy: string | null = null
  // Every signature by a trusted key must verify: one bad signature means the record was touched.
  for (const sig of signed.signatures) {
    const trustedKey = policy.trustedKeys.find((k) => k.keyId === sig.keyId)
    if (!trustedKey) {
      unknownKeys.push(sig.keyId)
      continue
    }
    const ok = verify(null, payload, trustedKey.key, Buffer.from(sig.signature, 'base64'))
    if (!ok) {
      throw createError('ERR_REGISTRY_SIGNATURE_INVALID', {
        name: record.name,
        version: record.version,
        keyId: sig.keyId,
      })
    }
    signedBy ??= sig.keyId
  }
  if (signedBy) return { signedBy, trusted: true, unknownKeys }
  if (policy.allowUnsigned) return { signedBy: null, trusted: true, unknownKeys }
  if (unknownKeys.length > 0) {
    throw createError('ERR_REGISTRY_KEY_UNTRUSTED', {
      name: record.name,
      version: record.version,
      keyId: unknownKeys.join(', '),
    })
  }
  throw createError('ERR_REGISTRY_UNSIGNED', { name: record.name, version: record.version })
}
