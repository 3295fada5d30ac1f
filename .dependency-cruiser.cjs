/**
 * The module table of docs/architecture.md ("Modules (src/), arrows point only downward") as dependency-cruiser
 * rules. Run through `npm run lint:deps` (part of `npm run lint`), which hands dependency-cruiser JavaScript:
 * see scripts/check-deps.ts.
 *
 * MAY_IMPORT lists each module's direct permissions, as the table does; a module may also import whatever those may
 * import (eval may import config, which nlu may import). Tests (`*.test.ts`, test/) are not held to the table: they
 * build fixtures from any module. No import cycle may leave a module (a cycle between files of one folder is that
 * folder's business).
 */

/** @type {Record<string, string[]>} */
const MAY_IMPORT = {
  'errors.ts': [],
  'version.ts': [],
  util: ['errors.ts', 'version.ts'],
  config: ['util'],
  data: ['config'],
  nlu: ['data', 'config'],
  eval: ['data', 'nlu'],
  registry: ['nlu', 'eval'],
  store: ['data'],
  project: ['config', 'data', 'nlu', 'store', 'monitor'],
  serve: ['registry', 'store', 'nlu'],
  review: ['store', 'data', 'eval'],
  monitor: ['store', 'data', 'eval'],
  pipeline: ['project', 'serve', 'review', 'monitor'],
  cli: ['pipeline'],
  'index.ts': ['pipeline'],
}

const TEST_FILES = '\\.test\\.ts$'

/** A module's files: `util` is src/util/, `errors.ts` the one file. */
function pathOf(name) {
  return name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`
}

/** Everything `name` may import: its own permissions and, through them, theirs. */
function reachable(name, seen = []) {
  if (seen.includes(name))
    throw new Error(`.dependency-cruiser.cjs: the module table has a cycle: ${[...seen, name].join(' -> ')}`)
  const direct = MAY_IMPORT[name]
  if (!direct) throw new Error(`.dependency-cruiser.cjs: ${seen.at(-1)} may import ${name}, which is not in the table`)
  const order = Object.keys(MAY_IMPORT)
  return [...new Set(direct.flatMap((d) => [d, ...reachable(d, [...seen, name])]))].sort(
    (a, b) => order.indexOf(a) - order.indexOf(b),
  )
}

const layerRules = Object.keys(MAY_IMPORT).map((name) => {
  const allowed = reachable(name)
  return {
    name: `layer-${name.replace('.ts', '')}`,
    severity: 'error',
    comment: `src/${name} may import ${allowed.length ? allowed.map((m) => `src/${m}`).join(', ') : 'nothing of ours'} (docs/architecture.md, Modules)`,
    from: { path: pathOf(name), pathNot: TEST_FILES },
    to: { path: '^src/', pathNot: [pathOf(name), ...allowed.map(pathOf)] },
  }
})

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-unknown',
      severity: 'error',
      comment:
        'A file of src/ outside every module of the table: give its folder a row in docs/architecture.md and in MAY_IMPORT (.dependency-cruiser.cjs)',
      from: { path: '^src/', pathNot: [TEST_FILES, ...Object.keys(MAY_IMPORT).map(pathOf)] },
      to: { path: '^src/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Modules of src/ that import each other, directly or through others: move the shared part down. A cycle inside one folder is not checked',
      from: { path: '^src/([^/]+/|[^/]+\\.ts$)' },
      to: { circular: true, viaSomeNot: '^src/$1' },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      comment: 'Library code must not import tests or their helpers',
      from: { path: '^src/', pathNot: TEST_FILES },
      to: { path: ['^test/', TEST_FILES] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import of ours that resolves to no file',
      from: {},
      to: { couldNotResolve: true, path: '^\\.' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
    },
  },
}
