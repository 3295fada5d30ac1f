/**
 * Test helpers for the server: real model files trained on the toy data, a serve config, an app on loopback.
 * @module
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { defaultConfig } from '../../src/config/load.js'
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
