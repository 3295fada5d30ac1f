/**
 * `npm run lint:deps`: checks the imports of src/ against the module table of docs/architecture.md, with
 * dependency-cruiser and the rules in .dependency-cruiser.cjs.
 *
 * dependency-cruiser reads TypeScript through the `typescript` package's compiler API, which it takes from versions
 * below 7; with this project's TypeScript 7 it skips .ts files and would pass on an empty graph. So it is given
 * JavaScript: every .ts file of src/ and test/ turned into JavaScript by esbuild, under its own name, in a temporary
 * copy of the tree (with tsconfig.json, and node_modules linked, for resolution). The imports esbuild erases because
 * they name types only (`import type`, `export type ... from`, `typeof import(...)`) are kept as plain imports: a
 * type from another module is a dependency on it as much as a value is. So is a module file named by
 * `new URL('./worker.js', import.meta.url)`, which is how a worker thread's entry is handed to `new Worker`: the
 * thread runs that file, which dependency-cruiser would not see as an import of the file that starts it.
 *
 * Usage: tsx scripts/check-deps.ts, in the project's root. Exits non-zero on a violation.
 */
import { spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { transformSync } from 'esbuild'

const TREES = ['src', 'test']

// Statements that import or re-export types only: `import type X from`, `import type { A } from`,
// `export type { A } from`, `export type * from`. `export type A = ...` has no `from` before an `=`.
const TYPE_ONLY_STATEMENT = /^[ \t]*(?:import|export)[ \t]+type\b[^;'"=()]*?\bfrom[ \t]*(['"])([^'"\n]+)\1/gm
// `typeof import('./x.js')` in a type (and dynamic imports, which esbuild keeps anyway).
const IMPORT_CALL = /\bimport[ \t]*\([ \t]*(['"])([^'"\n]+)\1[ \t]*\)/g

// A relative specifier of a module file as a string: `"./worker.js"`, `'../eval/worker-host.ts'`.
const RELATIVE_MODULE = /(['"])(\.\.?\/[^'"\n]+\.[cm]?[jt]s)\1/g

/**
 * The relative module files `code` names as the first argument of a `new URL(..., base)`: a worker thread's entry,
 * given to `new Worker` directly, through a constant, or inside the code of an eval'd worker that imports it. The
 * argument may choose between names (`self.endsWith('.ts') ? './worker.ts' : './worker.js'`); a URL of a directory
 * or of data (`'../templates/'`, `'./x.json'`) names no module.
 */
function moduleUrls(code: string): string[] {
  const found: string[] = []
  for (const m of code.matchAll(/\bnew\s+URL\s*\(/g)) {
    const arg = firstArgument(code, m.index + m[0].length)
    if (arg === undefined) continue
    for (const s of arg.matchAll(RELATIVE_MODULE)) found.push(s[2]!)
  }
  return found
}

/**
 * The text of a call's first argument, from `start` (just after the `(`) to its top-level comma; undefined when the
 * call has one argument only (no base: not a module's URL).
 */
function firstArgument(code: string, start: number): string | undefined {
  let depth = 0
  for (let i = start; i < code.length; i++) {
    const c = code[i]!
    if (c === '"' || c === "'" || c === '`') {
      // past the string, whose commas and brackets are text
      for (i++; i < code.length && code[i] !== c; i++) if (code[i] === '\\') i++
    } else if (c === '(' || c === '[' || c === '{') depth++
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return undefined
      depth--
    } else if (c === ',' && depth === 0) return code.slice(start, i)
  }
  return undefined
}

/**
 * The file as JavaScript, with an `import "x"` added for each module it names in types only, and for each module
 * file it names by URL (`moduleUrls`).
 */
function toJavaScript(source: string, file: string): string {
  const { code } = transformSync(source, {
    loader: 'ts',
    format: 'esm',
    sourcefile: file,
    // Keeps every value import as written, used or not, as tsc does under the project's verbatimModuleSyntax.
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
  })
  const added = new Set<string>()
  for (const m of source.matchAll(TYPE_ONLY_STATEMENT)) added.add(m[2]!)
  for (const m of source.matchAll(IMPORT_CALL)) added.add(m[2]!)
  for (const url of moduleUrls(code)) added.add(url)
  return `${code}\n${[...added].map((s) => `import ${JSON.stringify(s)};`).join('\n')}\n`
}

function copyAsJavaScript(root: string, mirror: string, tree: string): number {
  const from = path.join(root, tree)
  if (!existsSync(from)) return 0
  let count = 0
  for (const rel of readdirSync(from, { recursive: true, encoding: 'utf8' })) {
    if (!rel.endsWith('.ts')) continue
    const source = readFileSync(path.join(from, rel), 'utf8')
    const out = path.join(mirror, tree, rel)
    mkdirSync(path.dirname(out), { recursive: true })
    writeFileSync(out, toJavaScript(source, path.join(tree, rel)))
    count++
  }
  return count
}

function main(): number {
  const root = process.cwd()
  const configFile = path.join(root, '.dependency-cruiser.cjs')
  const cli = path.join(
    path.dirname(fileURLToPath(import.meta.resolve('dependency-cruiser'))),
    '../../bin/dependency-cruise.mjs',
  )
  const mirror = mkdtempSync(path.join(tmpdir(), 'intentops-deps-'))
  try {
    const files = TREES.reduce((n, tree) => n + copyAsJavaScript(root, mirror, tree), 0)
    if (files === 0) {
      console.error(`check-deps: no .ts files under ${TREES.join(', ')} in ${root}`)
      return 2
    }
    const tsconfig = path.join(root, 'tsconfig.json')
    if (existsSync(tsconfig)) writeFileSync(path.join(mirror, 'tsconfig.json'), readFileSync(tsconfig))
    if (existsSync(path.join(root, 'node_modules'))) {
      symlinkSync(path.join(root, 'node_modules'), path.join(mirror, 'node_modules'), 'dir')
    }
    const run = spawnSync(process.execPath, [cli, '--config', configFile, '--output-type', 'err', 'src/**/*.ts'], {
      cwd: mirror,
      stdio: 'inherit',
    })
    if (run.error) throw run.error
    return run.status ?? 1
  } finally {
    rmSync(mirror, { recursive: true, force: true })
  }
}

process.exitCode = main()
