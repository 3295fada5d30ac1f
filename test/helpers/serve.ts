/**
 * Test helpers for the server: real model files trained on the toy data, a serve config, an app on loopback.
 * @module
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { defaultConfig } from '../../src/config/defaults.js'
import type { ServeConfig } from '../../src/config/schema.js'
import { type BuildAppOptions, buildApp, type ServeApp } from '../../src/serve/app.js'
import { resolveServeConfig } from '../../src/serve/config.js'
import { trainedModelBytes } from './registry.js'

export function tempDir(prefix = 'intentops-serve-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
}

/** A real trained model file; `drop` makes a different model (fewer examples). */
export async function writeModelFile(
  dir: string,
  name = 'model.iom',
  options: { drop?: number; seed?: number; name?: string } = {},
) {
  const { bytes, manifest } = await trainedModelBytes(options)
  const file = path.join(dir, name)
  writeFileSync(file, bytes)
  return { file, bytes, manifest }
}

/** A resolved serve config: defaults, quiet, no rate limit unless asked, plus overrides. */
export function serveConfig(overrides: Record<string, unknown> = {}): ServeConfig {
  const base = {
    ...defaultConfig().serve,
    logLevel: 'silent',
    rateLimit: 0,
  }
  return resolveServeConfig({ ...base, ...overrides } as ServeConfig, {})
}

/** Build an app (not listening) and wait until it is ready. */
export async function readyApp(
  options: Partial<BuildAppOptions> & { config: ServeConfig; root: string },
): Promise<ServeApp> {
  const app = await buildApp({ modelName: 'bot', logger: false, ...options })
  await app.ready()
  return app
}

/** A TCP relay in front of a server (PostgreSQL) that can go down and come back on the same port. */
export async function startRelay(target: { host: string; port: number }) {
  const net = await import('node:net')
  const sockets = new Set<import('node:net').Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    sockets.add(client).add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve((server.address() as import('node:net').AddressInfo).port)
      })
    })
  const port = await listen(0)
  return {
    port,
    /** Refuse new connections and cut every open one. */
    stop: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()))
      for (const s of sockets) s.destroy()
      sockets.clear()
      await closed
    },
    start: async () => void (await listen(port)),
  }
}

export async function waitFor(fn: () => boolean | Promise<boolean>, what = 'a condition', ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
