import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../project/config.js'
import { backendFromConfig, loadSigner, loadTrustPolicy, openRegistry } from './open.js'
import { generateSigningKeys } from './signing.js'

const dirs: string[] = []
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'io-open-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const registryConfig = (yaml: string) => parseConfig(yaml, 'intentops.yml').registry

describe('opening a registry from intentops.yml', () => {
  it('defaults to .intentops/registry in the project, signing nothing and trusting nobody', async () => {
    const root = tmp()
    const config = registryConfig('')
    expect(config).toMatchObject({ backend: 'fs', path: '.intentops/registry', allowUnsigned: false, trustedKeys: [] })
    const registry = await openRegistry({ config, root })
    expect(registry.location).toBe(path.join(root, '.intentops/registry'))
    expect(registry.trust.trustedKeys).toEqual([])
    await expect(loadSigner(config, root, {})).resolves.toBeUndefined()
  })

  it('reads trusted keys inline and from .pub files, and the signing key from the config, a path or PEM text in the environment', async () => {
    const root = tmp()
    const a = await generateSigningKeys(path.join(root, 'keys-a'))
    const b = await generateSigningKeys(path.join(root, 'keys-b'))
    const config = registryConfig(
      `registry:\n  signingKey: keys-a/intentops-signing.key\n  trustedKeys:\n    - ${a.publicKey}\n    - keys-b/intentops-signing.pub\n`,
    )
    const trust = await loadTrustPolicy(config, root)
    expect(trust.trustedKeys.map((k) => k.keyId)).toEqual([a.keyId, b.keyId])
    expect((await loadSigner(config, root, {}))?.keyId).toBe(a.keyId)
    expect((await loadSigner(config, root, { INTENTOPS_SIGNING_KEY: b.privateKeyPath }))?.keyId).toBe(b.keyId)
    const pem = readFileSync(b.privateKeyPath, 'utf8')
    expect((await loadSigner(config, root, { INTENTOPS_SIGNING_KEY: pem }))?.keyId).toBe(b.keyId)
    expect((await loadSigner(config, root, {}, a.privateKeyPath))?.keyId).toBe(a.keyId)
  })

  it('explains a missing key file and a bad trusted key', async () => {
    const root = tmp()
    await expect(
      loadTrustPolicy(registryConfig('registry:\n  trustedKeys: [keys/nope.pub]\n'), root),
    ).rejects.toMatchObject({
      code: 'ERR_FILE_NOT_FOUND',
    })
    await expect(
      loadTrustPolicy(registryConfig('registry:\n  trustedKeys: ["ed25519:abc"]\n'), root),
    ).rejects.toMatchObject({
      code: 'ERR_REGISTRY_KEY_INVALID',
      message: expect.stringContaining('registry.trustedKeys[0]'),
    })
  })

  it('builds an S3 backend from the config or an s3:// location, and needs a bucket', () => {
    const s3 = backendFromConfig(
      registryConfig(
        'registry:\n  backend: s3\n  bucket: models\n  prefix: team/bot\n  endpoint: http://127.0.0.1:9000\n',
      ),
      '/p',
    )
    expect(s3).toMatchObject({ kind: 's3', location: 's3://models/team/bot/' })
    expect(backendFromConfig(registryConfig(''), '/p', 's3://other/x')).toMatchObject({ location: 's3://other/x/' })
    expect(backendFromConfig(registryConfig(''), '/p', 'shared/reg')).toMatchObject({
      kind: 'fs',
      location: '/p/shared/reg',
    })
    expect(() => backendFromConfig(registryConfig('registry:\n  backend: s3\n'), '/p')).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining('registry.bucket') }),
    )
  })

  it('rejects unknown registry keys with their position', () => {
    expect(() => registryConfig('registry:\n  bucktet: x\n')).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', location: expect.objectContaining({ line: 2 }) }),
    )
  })
})
