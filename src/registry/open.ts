/**
 * Open the registry a project's `intentops.yml` describes: its backend, the trusted public keys and the signing key.
 * @module
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { RegistryConfig } from '../config/schema.js'
import { createError } from '../errors.js'
import { readTextFile } from '../util/fs.js'
import type { RegistryBackend } from './backend.js'
import { createFsBackend } from './backends/fs.js'
import { createS3Backend } from './backends/s3.js'
import { ModelRegistry } from './registry.js'
import { type PublicKeyInfo, parsePrivateKey, parsePublicKey, type Signer, type TrustPolicy } from './signing.js'

export interface OpenRegistryOptions {
  /** The `registry` section of the config. */
  config: Readonly<RegistryConfig>
  /** The project root; relative paths in the config resolve against it. */
  root: string
  env?: Readonly<Record<string, string | undefined>>
  /** Override the configured location: a directory, or `s3://bucket/prefix`. */
  location?: string
  /** Load the signing key (needed to publish). A string is an explicit key file path. */
  signingKey?: boolean | string
  /** The clock, for tests. */
  now?: () => Date
  /**
   * Refuse a registry directory that does not exist (ERR_REGISTRY_NOT_FOUND): for commands that read or change
   * published models, where an empty registry would hide a mistyped path. Only publishing creates one.
   */
  mustExist?: boolean
}

/** The backend for a registry config, or for an explicit location (`s3://bucket/prefix` or a directory). */
export function backendFromConfig(config: Readonly<RegistryConfig>, root: string, location?: string): RegistryBackend {
  const s3Options = {
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  }
  if (location?.startsWith('s3://')) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location)
    if (!m) throw createError('ERR_INVALID_ARGUMENT', { detail: `invalid registry location "${location}"` })
    return createS3Backend({ bucket: m[1]!, prefix: m[2] ?? '', ...s3Options })
  }
  if (location) return createFsBackend({ root: path.resolve(root, location) })
  if (config.backend === 's3') {
    if (!config.bucket) {
      throw createError('ERR_CONFIG_INVALID', { detail: '`registry.bucket` is required when `registry.backend` is s3' })
    }
    return createS3Backend({ bucket: config.bucket, prefix: config.prefix, ...s3Options })
  }
  return createFsBackend({ root: path.resolve(root, config.path) })
}

/** Read `trustedKeys`: inline `ed25519:` keys or PEM blocks, or paths (relative to the project) of key files. */
export async function loadTrustPolicy(config: Readonly<RegistryConfig>, root: string): Promise<TrustPolicy> {
  const trustedKeys: PublicKeyInfo[] = []
  for (const [i, entry] of config.trustedKeys.entries()) {
    const where = `registry.trustedKeys[${i}]`
    if (entry.startsWith('ed25519:') || entry.startsWith('-----BEGIN')) {
      trustedKeys.push(parsePublicKey(entry, where))
      continue
    }
    const file = path.resolve(root, entry)
    const text = await readTextFile(file, { maxBytes: 64 * 1024 })
    // Our .pub files hold the PEM block and the one-line form; either parses.
    const line = text.split('\n').find((l) => l.startsWith('ed25519:'))
    trustedKeys.push(parsePublicKey(line ?? text, `${file} (${where})`))
  }
  return { trustedKeys, allowUnsigned: config.allowUnsigned }
}

/**
 * The signing key: an explicit file, else the environment variable `signingKeyEnv` (PEM text or a path), else
 * `signingKey` from the config; undefined when none is set.
 */
export async function loadSigner(
  config: Readonly<RegistryConfig>,
  root: string,
  env: Readonly<Record<string, string | undefined>> = {},
  explicit?: string,
): Promise<Signer | undefined> {
  const fromFile = async (file: string, source: string) =>
    parsePrivateKey(await readTextFile(path.resolve(root, file), { maxBytes: 64 * 1024 }), source)
  if (explicit) return fromFile(explicit, explicit)
  const value = env[config.signingKeyEnv]?.trim()
  if (value) {
    return value.startsWith('-----BEGIN')
      ? parsePrivateKey(value, `$${config.signingKeyEnv}`)
      : fromFile(value, `${value} ($${config.signingKeyEnv})`)
  }
  if (config.signingKey) return fromFile(config.signingKey, config.signingKey)
  return undefined
}

/**
 * Open the project's registry.
 * @example
 * const { config, root } = await loadConfig({ dir: process.cwd() })
 * const registry = await openRegistry({ config: config.registry, root, env: process.env })
 * const model = await registry.resolveAlias(config.name, 'production')
 */
export async function openRegistry(options: OpenRegistryOptions): Promise<ModelRegistry> {
  const { config, root } = options
  const backend = backendFromConfig(config, root, options.location)
  // An S3 prefix has no existence of its own: an empty one reads as a registry with no models.
  if (options.mustExist && backend.kind === 'fs') {
    const missing = await fsp.stat(backend.location).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || err.code === 'ENOTDIR',
    )
    if (missing) throw createError('ERR_REGISTRY_NOT_FOUND', { location: backend.location })
  }
  const trust = await loadTrustPolicy(config, root)
  const signer = options.signingKey
    ? await loadSigner(
        config,
        root,
        options.env,
        typeof options.signingKey === 'string' ? options.signingKey : undefined,
      )
    : undefined
  return new ModelRegistry(backend, {
    trust,
    ...(signer ? { signer } : {}),
    lockWaitMs: config.lockTimeoutMs,
    lockStaleMs: config.lockStaleMs,
    ...(options.now ? { now: options.now } : {}),
  })
}
