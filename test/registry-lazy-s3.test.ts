/**
 * Projects on a local registry never load the AWS SDK: it is imported only when an S3 backend is first used.
 * A module-resolution hook in a child process reports every `@aws-sdk/` import.
 */
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

const hook = `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@aws-sdk/')) console.log('loaded ' + specifier)
  return next(specifier, context)
}`)}`

function run(body: string): string {
  const index = new URL('../src/index.ts', import.meta.url).pathname
  const script = `
    import { register } from 'node:module'
    register(${JSON.stringify(hook)})
    const io = await import(${JSON.stringify(index)})
    ${body}
    console.log('done')`
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    timeout: 60_000,
  })
  expect(res.stderr).not.toMatch(/Error/)
  return res.stdout
}

describe('the S3 client is loaded lazily', () => {
  it('is not loaded by the library entry point or a local registry', () => {
    const out = run(`
      const { mkdtempSync } = await import('node:fs')
      const { tmpdir } = await import('node:os')
      const registry = new io.ModelRegistry(io.createFsBackend({ root: mkdtempSync(tmpdir() + '/io-lazy-') }), {
        trust: { trustedKeys: [], allowUnsigned: true },
      })
      await registry.publish({ name: 'bot', bytes: new Uint8Array([1, 2, 3]), author: 'a' })
      await registry.loadVersion('bot', 1)`)
    expect(out).toContain('done')
    expect(out).not.toContain('@aws-sdk')
  })

  it('is loaded when an S3 backend is first used', () => {
    const out = run(`
      const backend = io.createS3Backend({ bucket: 'b', endpoint: 'http://127.0.0.1:1', region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, forcePathStyle: true })
      console.log('created')
      await backend.head('format.json').catch(() => {})`)
    expect(out.indexOf('created')).toBeGreaterThanOrEqual(0)
    expect(out.indexOf('loaded @aws-sdk/client-s3')).toBeGreaterThan(out.indexOf('created'))
  })
})
