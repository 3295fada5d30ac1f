/**
 * `npm run bench:nlu [DATASET_DIR...] [options]`: intentops and its peers (scikit-learn, fastText, NLP.js) side by
 * side in one run, on the same splits, each in its own process; metrics computed here from their predictions.
 * Writes `bench/results/nlu-<date>.json`, prints a Markdown table and puts it into bench/README.md.
 * @module
 */
import { existsSync, promises as fsp, realpathSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { CliIO } from '../src/cli/io.js'
import { createProgress } from '../src/cli/progress.js'
import { isIntentopsError } from '../src/errors.js'
import { writeFileAtomic } from '../src/util/fs.js'
import { type BenchDataset, readDataset } from './lib/dataset.js'
import { medianOf, type RunMetrics, scoreRun } from './lib/evaluate.js'
import type { ThresholdRule } from './lib/metrics.js'
import type { PeerRequest } from './lib/protocol.js'
import {
  type BenchFailure,
  type BenchReport,
  type DatasetReport,
  machineInfo,
  renderMarkdown,
  replaceBetweenMarkers,
  type SystemReport,
} from './lib/report.js'
import { runPeer } from './lib/run-peer.js'
import { SYSTEMS, type SystemSpec, selectSystems } from './lib/systems.js'

const USAGE = `Usage: npm run bench:nlu -- [DATASET_DIR...] [options]

Runs intentops, scikit-learn (LinearSVC, LogisticRegression), fastText and NLP.js on each dataset directory
(train.jsonl, test.jsonl, optional valid.jsonl). Default datasets: shared/datasets/clinc150 and banking77.

Options:
  --systems LIST          comma-separated ids (default all): ${SYSTEMS.map((s) => s.id).join(', ')}
  --repeat N              runs per system and dataset; the table shows medians (default 1)
  --seed N                seed for every system (default 1)
  --warmup N              untimed predictions before the timed pass (default 200)
  --threshold-rule RULES  how fallback thresholds are chosen on valid, comma-separated, one table row each
                          (default sum,recall:0.5,reject:0.01): 'sum' maximises in-scope accuracy + oos
                          recall, 'recall:R' is the lowest threshold with oos recall >= R (R in 0..1),
                          'reject:R' the best oos recall sending at most R of in-scope messages to fallback
  --oos-label LABEL       label of out-of-scope messages (default oos)
  --intentops-config FILE intentops.yml for every intentops run; 'default' for the default pipeline everywhere
                          (default: bench/configs/<dataset>.yml where one exists, else the default pipeline)
  --python PATH           interpreter with scikit-learn and fasttext (default /usr/bin/python3)
  --timeout MINUTES       limit per system run (default 60)
  --out FILE              results JSON (default bench/results/nlu-<date>.json)
  --readme / --no-readme  write the table into bench/README.md (default: only for a full default run)
  -h, --help              show this help
`

interface Options {
  datasets: string[]
  systems: SystemSpec[]
  repeat: number
  seed: number
  warmup: number
  rules: ThresholdRule[]
  oosLabel: string
  intentopsConfig: string | undefined
  python: string
  timeoutMs: number
  out: string | undefined
  readme: boolean | undefined
  canonical: boolean
}

class UsageError extends Error {}

function parseOptions(argv: string[], root: string, env: CliIO['env']): Options | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      systems: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '200' },
      'threshold-rule': { type: 'string', default: 'sum,recall:0.5,reject:0.01' },
      'oos-label': { type: 'string', default: 'oos' },
      'intentops-config': { type: 'string' },
      python: { type: 'string', default: env.INTENTOPS_BENCH_PYTHON ?? '/usr/bin/python3' },
      timeout: { type: 'string', default: '60' },
      out: { type: 'string' },
      readme: { type: 'boolean' },
      'no-readme': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return 'help'
  const { systems, unknown } = selectSystems(values.systems)
  if (unknown.length) {
    throw new UsageError(`unknown system ${unknown.join(', ')}; choose from ${SYSTEMS.map((s) => s.id).join(', ')}`)
  }
  if (systems.length === 0) throw new UsageError('--systems selects no system')
  const int = (name: string, v: string, min: number) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${v}`)
    return n
  }
  const timeout = Number(values.timeout)
  if (!(timeout > 0)) throw new UsageError(`--timeout must be a positive number of minutes, got ${values.timeout}`)
  const defaults = positionals.length === 0
  return {
    datasets: defaults ? defaultDatasets(root, env) : positionals.map((p) => path.resolve(p)),
    systems,
    repeat: int('repeat', values.repeat, 1),
    seed: int('seed', values.seed, 0),
    warmup: int('warmup', values.warmup, 0),
    rules: parseRules(values['threshold-rule']),
    oosLabel: values['oos-label'],
    intentopsConfig:
      values['intentops-config'] === undefined || values['intentops-config'] === 'default'
        ? values['intentops-config']
        : path.resolve(values['intentops-config']),
    python: values.python,
    timeoutMs: timeout * 60_000,
    out: values.out ? path.resolve(values.out) : undefined,
    readme: values['no-readme'] ? false : values.readme,
    canonical: defaults && systems.length === SYSTEMS.length && !values['intentops-config'],
  }
}

/** A comma-separated list of `sum` and `recall:R` (R in [0, 1]). */
export function parseRules(value: string): ThresholdRule[] {
  const rules = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v): ThresholdRule => {
      if (v === 'sum') return { kind: 'sum' }
      const m = /^(recall|reject):(\d*\.?\d+)$/.exec(v)
      const r = m ? Number(m[2]) : Number.NaN
      if (!(r >= 0 && r <= 1)) {
        throw new UsageError(
          `--threshold-rule takes 'sum', 'recall:R' or 'reject:R' with R between 0 and 1, got '${v}'`,
        )
      }
      return m![1] === 'recall' ? { kind: 'recall', target: r } : { kind: 'reject', budget: r }
    })
  if (rules.length === 0) throw new UsageError('--threshold-rule needs at least one rule')
  return rules
}

/** CLINC150 and Banking77 from the nearest `shared/datasets` above the repository (or $INTENTOPS_BENCH_DATASETS). */
/**
 * The intentops.yml for intentops on `dataset`: `--intentops-config` when given ('default': none), else the
 * dataset's own `bench/configs/<name>.yml` when there is one. Such a file must say how it was chosen on the
 * dataset's valid split (bench/README.md).
 */
function intentopsConfigFor(dataset: BenchDataset, opts: Options, root: string): string | undefined {
  if (opts.intentopsConfig === 'default') return undefined
  if (opts.intentopsConfig) return opts.intentopsConfig
  const own = path.join(root, 'bench', 'configs', `${dataset.name}.yml`)
  return existsSync(own) ? own : undefined
}

function defaultDatasets(root: string, env: CliIO['env']): string[] {
  const names = ['clinc150', 'banking77']
  const candidates = env.INTENTOPS_BENCH_DATASETS ? [path.resolve(env.INTENTOPS_BENCH_DATASETS)] : []
  for (let dir = root; ; dir = path.dirname(dir)) {
    candidates.push(path.join(dir, 'shared', 'datasets'))
    if (path.dirname(dir) === dir) break
  }
  const base = candidates.find((c) => names.every((n) => existsSync(path.join(c, n, 'train.jsonl'))))
  if (!base) {
    throw new UsageError(
      'no default datasets: no shared/datasets/{clinc150,banking77} above the repository; ' +
        'pass dataset directories or set INTENTOPS_BENCH_DATASETS',
    )
  }
  return names.map((n) => path.join(base, n))
}

/** The repository: the first directory up from `start` holding the Python peers. */
function findRoot(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'bench', 'peers', 'peer_common.py'))) return dir
    if (path.dirname(dir) === dir) return undefined
  }
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const root = findRoot(io.cwd) ?? findRoot(here)
  if (!root) {
    io.stderr('error: cannot find the repository (bench/peers/peer_common.py); run from inside it\n')
    return 2
  }
  let opts: Options | 'help'
  try {
    opts = parseOptions(argv, root, io.env)
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`error: ${(err as Error).message}\n\n${USAGE}`)
      return 2
    }
    throw err
  }
  if (opts === 'help') {
    io.stdout(USAGE)
    return 0
  }

  const datasets: BenchDataset[] = []
  for (const dir of opts.datasets) {
    try {
      datasets.push(await readDataset(dir, { oosLabel: opts.oosLabel }))
    } catch (err) {
      if (!isIntentopsError(err)) throw err
      io.stderr(`error ${err.code}: ${err.describe()}\n${err.hint ? `  ${err.hint}\n` : ''}`)
      return 1
    }
  }

  const startedAt = new Date()
  const usesPython = opts.systems.some((s) => s.runtime === 'python')
  const report: BenchReport = {
    kind: 'intentops-nlu-bench',
    formatVersion: 1,
    startedAt: startedAt.toISOString(),
    machine: machineInfo(usesPython ? opts.python : null),
    settings: {
      seed: opts.seed,
      repeat: opts.repeat,
      warmup: opts.warmup,
      thresholdRules: opts.rules,
      oosLabel: opts.oosLabel,
    },
    datasets: [],
    failures: [],
  }

  for (const dataset of datasets) {
    const runs = new Map<string, { version: string; settings: Record<string, unknown>; metrics: RunMetrics[] }>()
    const failed = new Set<string>()
    // Repeats go round the systems so that a busy spell on the shared machine hits every system alike.
    for (let r = 0; r < opts.repeat; r++) {
      for (const spec of opts.systems) {
        if (failed.has(spec.id)) continue
        const outcome = await runOnce(spec, dataset, r, opts, root, here, io)
        if ('failure' in outcome) {
          failed.add(spec.id)
          report.failures.push(outcome.failure)
          continue
        }
        const entry = runs.get(spec.id) ?? { version: outcome.version, settings: outcome.settings, metrics: [] }
        entry.metrics.push(outcome.metrics)
        runs.set(spec.id, entry)
      }
    }
    const systems: SystemReport[] = []
    for (const spec of opts.systems) {
      const entry = runs.get(spec.id)
      if (!entry || failed.has(spec.id)) continue
      systems.push({
        id: spec.id,
        label: spec.label,
        version: entry.version,
        settings: entry.settings,
        metrics: medianOf(entry.metrics),
        runs: entry.metrics,
      })
    }
    const d: DatasetReport = {
      name: dataset.name,
      dir: dataset.dir,
      sizes: {
        train: dataset.train.examples.length,
        valid: dataset.valid ? dataset.valid.examples.length : null,
        test: dataset.test.examples.length,
      },
      oosLabel: dataset.oosLabel,
      hasEntities: dataset.test.hasEntities,
      systems,
    }
    report.datasets.push(d)
  }

  const markdown = renderMarkdown(report)
  const date = report.startedAt.slice(0, 10)
  const out = opts.out ?? path.join(root, 'bench', 'results', `nlu-${date}${opts.canonical ? '' : '-partial'}.json`)
  await fsp.mkdir(path.dirname(out), { recursive: true })
  await writeFileAtomic(out, `${JSON.stringify(report, null, 2)}\n`)
  io.stdout(`\n${markdown}\nResults: ${displayPath(io.cwd, out)}\n`)

  if (opts.readme ?? opts.canonical) {
    const readmeFile = path.join(root, 'bench', 'README.md')
    const readme = await fsp.readFile(readmeFile, 'utf8')
    const updated = replaceBetweenMarkers(readme, markdown)
    if (updated === null) {
      io.stderr(`warning: ${readmeFile} has no results markers; the table was not written into it\n`)
    } else {
      await writeFileAtomic(readmeFile, updated)
      io.stdout(`Table written into ${displayPath(io.cwd, readmeFile)}\n`)
    }
  }
  return report.failures.length ? 1 : 0
}

function displayPath(cwd: string, file: string): string {
  const rel = path.relative(cwd, file)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file
}

type RunOutcome =
  | { version: string; settings: Record<string, unknown>; metrics: RunMetrics }
  | { failure: BenchFailure }

async function runOnce(
  spec: SystemSpec,
  dataset: BenchDataset,
  repeat: number,
  opts: Options,
  root: string,
  here: string,
  io: CliIO,
): Promise<RunOutcome> {
  const label = `${spec.id} on ${dataset.name}${opts.repeat > 1 ? ` (run ${repeat + 1}/${opts.repeat})` : ''}`
  const total = (dataset.valid?.examples.length ?? 0) + dataset.test.examples.length
  const bar = createProgress(io, label, total)
  const workDir = await fsp.mkdtemp(path.join(os.tmpdir(), `intentops-bench-${spec.id}-`))
  const started = Date.now()
  let phase = 'load'
  let done = 0
  // A bar redraws every second; a log (not a terminal) gets a line every 15 s while a system trains.
  const ticker = setInterval(
    () => {
      if (phase === 'train' || phase === 'load') {
        const seconds = Math.round((Date.now() - started) / 1000)
        bar.update(0, undefined, `${phase === 'train' ? 'training' : 'loading'} ${seconds} s`)
      }
    },
    io.isTTY ? 1000 : 15_000,
  )
  const configFile = spec.id === 'intentops' ? intentopsConfigFor(dataset, opts, root) : undefined
  const request: PeerRequest = {
    system: spec.id,
    dataset: dataset.name,
    train: dataset.train.file,
    valid: dataset.valid?.file ?? null,
    test: dataset.test.file,
    workDir,
    seed: opts.seed,
    warmup: opts.warmup,
    oosLabel: dataset.oosLabel,
    options: configFile ? { configFile } : {},
  }
  try {
    const result = await runPeer(
      spec,
      request,
      { test: dataset.test.examples.length, valid: dataset.valid ? dataset.valid.examples.length : null },
      {
        python: opts.python,
        pythonPeersDir: path.join(root, 'bench', 'peers'),
        nodePeersDir: path.join(here, 'peers'),
        timeoutMs: opts.timeoutMs,
        onProgress: (ev) => {
          phase = ev.phase
          if (ev.phase === 'valid' && ev.done !== undefined) done = ev.done
          if (ev.phase === 'test' && ev.done !== undefined) done = (dataset.valid?.examples.length ?? 0) + ev.done
          if (ev.phase === 'valid' || ev.phase === 'test') bar.update(done, undefined, ev.phase)
        },
      },
    )
    bar.update(total, undefined, 'done')
    const metrics = scoreRun(dataset, result, opts.rules)
    const settings = configFile ? { ...result.settings, config: path.relative(root, configFile) } : result.settings
    return { version: result.version, settings, metrics }
  } catch (err) {
    if (!isIntentopsError(err)) throw err
    io.stderr(`\nerror ${err.code}: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`)
    return { failure: { system: spec.id, dataset: dataset.name, code: err.code, message: err.message } }
  } finally {
    clearInterval(ticker)
    bar.stop()
    await fsp.rm(workDir, { recursive: true, force: true })
  }
}

// Only this entry touches the process; `main` takes its IO as an argument. Real paths on both sides: started through a
// symlinked directory (a linked node_modules), argv[1] names the link while import.meta.url names its target.
if (process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(path.resolve(process.argv[1]))) {
  const code = await main(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
  })
  process.exitCode = code
}
