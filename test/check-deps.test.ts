import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'

const repo = path.resolve(import.meta.dirname, '..')

/** A project holding `files` and the repository's .dependency-cruiser.cjs and tsconfig.json. */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'check-deps-'))
  onTestFinished(() => rmSync(root, { recursive: true, force: true }))
  for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json'])
    copyFileSync(path.join(repo, file), path.join(root, file))
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), text)
  }
  return root
}

/** `npm run lint:deps` on `root`, as a process of its own. */
function checkDeps(root: string): { code: number | null; out: string } {
  const run = spawnSync(
    process.execPath,
    ['--import', path.join(repo, 'node_modules/tsx/dist/loader.mjs'), path.join(repo, 'scripts/check-deps.ts')],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  )
  return { code: run.status, out: `${run.stdout}${run.stderr}` }
}

const base = {
  'src/errors.ts': 'export const E = 1\n',
  'src/util/fs.ts': "import { E } from '../errors.js'\nexport const F: number = E\n",
  // A cycle inside one folder is that folder's business.
  'src/util/p.ts': "import { q } from './q.js'\nexport const p = (): number => q()\n",
  'src/util/q.ts': "import type { p } from './p.js'\nexport const q = (): number => 1\nexport type P = typeof p\n",
  'src/config/schema.ts':
    "import { F } from '../util/fs.js'\nexport interface Config { n: number }\nexport const D = F\n",
  'src/data/names.ts':
    "import type { Config } from '../config/schema.js'\nexport const name = (c: Config): string => String(c.n)\n",
}

describe('check-deps', () => {
  it('passes a tree whose imports follow the module table, skipping the long way down', () => {
    const root = project({
      ...base,
      'src/eval/metrics.ts':
        "import { name } from '../data/names.js'\nimport { F } from '../util/fs.js'\nexport const m = name({ n: F })\n",
      // a worker thread started from its own folder, which imports back the file that starts it
      'src/util/pool.ts': [
        "import { Worker } from 'node:worker_threads'",
        'export const LIMIT = 2',
        "export const start = (): Worker => new Worker(new URL('./pool-worker.js', import.meta.url))",
        // URLs of a directory and of data name no module: data.json does not exist, and is not reported
        "export const templates = new URL('../../templates/', import.meta.url)",
        "export const data = new URL('./data.json', import.meta.url)",
        '',
      ].join('\n'),
      'src/util/pool-worker.ts':
        "import { LIMIT } from './pool.js'\nimport { F } from './fs.js'\nexport const w = LIMIT + F\n",
    })
    const { code, out } = checkDeps(root)
    expect(out).toContain('no dependency violations found')
    expect(code).toBe(0)
  })

  it('sees worker thread entries named by new URL(..., import.meta.url) as imports of the file that starts them', () => {
    const root = project({
      ...base,
      'src/cli/worker.ts': "import { F } from '../util/fs.js'\nexport const w = F\n",
      'src/serve/app.ts': 'export const app = 1\n',
      // a module that starts a worker of a module above it, through a constant, as src/eval/pool.ts does
      'src/data/spawn.ts': [
        "import { Worker } from 'node:worker_threads'",
        "const HOST = new URL(import.meta.url.endsWith('.ts') ? '../cli/worker.ts' : '../cli/worker.js', import.meta.url)",
        'export const start = (): Worker => new Worker(HOST)',
        '',
      ].join('\n'),
      // a worker file that imports above its module
      'src/store/writer.ts':
        "import { Worker } from 'node:worker_threads'\nexport const start = (): Worker => new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: 1 })\n",
      'src/store/writer-worker.ts': "import { app } from '../serve/app.js'\nexport const w = app\n",
      // a worker whose file was renamed, and an eval'd worker that imports one of a module above
      'src/util/gone.ts':
        "import { Worker } from 'node:worker_threads'\nexport const start = (): Worker => new Worker(new URL('./renamed-worker.js', import.meta.url))\n",
      'src/config/evaled.ts': [
        "import { Worker } from 'node:worker_threads'",
        'export function start(): Worker {',
        "  const url = new URL('../serve/app.ts', import.meta.url).href",
        "  return new Worker('import(' + JSON.stringify(url) + ')', { eval: true })",
        '}',
        '',
      ].join('\n'),
    })
    const { code, out } = checkDeps(root)
    expect(code).not.toBe(0)
    for (const line of [
      'error layer-data: src/data/spawn.ts → src/cli/worker.ts',
      'error layer-store: src/store/writer-worker.ts → src/serve/app.ts',
      'error layer-config: src/config/evaled.ts → src/serve/app.ts',
    ]) {
      expect(out).toContain(line)
    }
    expect(out).toMatch(/error not-to-unresolvable: src\/util\/gone\.ts → \.\/renamed-worker\.js/)
    // within its folder, starting a worker is no violation
    expect(out).not.toContain('src/store/writer.ts →')
  })

  it('reports type-only, type-level and lazy imports that go up, an unknown folder, tests and missing files', () => {
    const root = project({
      ...base,
      'src/nlu/types.ts': 'export interface Parse { intent: string }\n',
      'src/eval/e.ts': 'export const e = 1\n',
      'src/cli/main.ts': 'export const main = 1\n',
      // type-only import, which esbuild erases
      'src/store/types.ts': "import type { Parse } from '../nlu/types.js'\nexport type Logged = Parse\n",
      // type-only re-export over several lines
      'src/data/reexport.ts': "export type {\n  Logged,\n} from '../store/types.js'\n",
      // a module named in a type only
      'src/nlu/lazy.ts': "export type Metrics = typeof import('../eval/e.js')\n",
      // a dynamic import inside typed code
      'src/serve/app.ts':
        "export async function start(port: number): Promise<number> {\n  const { main } = (await import('../cli/main.js')) as { main: number }\n  return port + main\n}\n",
      // a config that imports data, which imports config: a cycle across two modules
      'src/config/defaults.ts': "import { again } from '../data/cycle.js'\nexport const check = (): number => again\n",
      'src/data/cycle.ts':
        "import { check } from '../config/defaults.js'\nexport const again = 1\nexport const twice = check\n",
      'src/newmod/x.ts': "import { F } from '../util/fs.js'\nexport const x = F\n",
      'src/util/helper-user.ts': "import { h } from '../../test/helpers/h.js'\nexport const u = h\n",
      'src/util/broken.ts': "import { gone } from './gone.js'\nexport const b = gone\n",
      // tests may import across
      'src/util/fs.test.ts': "import { main } from '../cli/main.js'\nexport const t = main\n",
      'test/helpers/h.ts': 'export const h = 1\n',
    })
    const { code, out } = checkDeps(root)
    expect(code).not.toBe(0)
    for (const line of [
      'error layer-store: src/store/types.ts → src/nlu/types.ts',
      'error layer-data: src/data/reexport.ts → src/store/types.ts',
      'error layer-nlu: src/nlu/lazy.ts → src/eval/e.ts',
      'error layer-serve: src/serve/app.ts → src/cli/main.ts',
      'error layer-config: src/config/defaults.ts → src/data/cycle.ts',
      'error layer-unknown: src/newmod/x.ts → src/util/fs.ts',
      'error not-to-test: src/util/helper-user.ts → test/helpers/h.ts',
    ]) {
      expect(out).toContain(line)
    }
    expect(out).toMatch(/error not-to-unresolvable: src\/util\/broken\.ts → \.\/gone\.js/)
    expect(out).toMatch(/error no-circular: src\/(config\/defaults|data\/cycle)\.ts →/)
    expect(out).not.toContain('src/util/fs.test.ts')
    expect(out).not.toMatch(/no-circular: src\/util\//)
  })
})
