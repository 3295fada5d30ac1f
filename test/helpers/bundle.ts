/**
 * Bundle a TypeScript entry into one ESM file, so tests can start child processes in a fraction of the time tsx
 * needs to transpile a module graph on first load. Dependencies stay external and resolve from node_modules.
 * @module
 */
import path from 'node:path'
import { build } from 'esbuild'

// Directly in node_modules: packages resolve from there, and `../package.json` (read by src/version.ts relative to
// the module) is the project's own.
const outDir = new URL('../../node_modules/', import.meta.url).pathname

/** Bundle `entry` (an absolute path) and return the path of the bundle. */
export async function bundleScript(entry: string): Promise<string> {
  const outfile = path.join(outDir, `.intentops-test-${path.basename(entry, '.ts')}-${process.pid}.mjs`)
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  })
  return outfile
}
