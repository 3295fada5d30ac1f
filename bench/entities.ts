/**
 * Entity benchmark: the learned CRF tagger against regex plus lookup matching, on the same splits, in one run.
 *
 * `npm run bench:entities -- [DATASET_DIR] [--l2 X] [--out FILE]`. DATASET_DIR holds `train.jsonl`, `test.jsonl`,
 * optionally `valid.jsonl` and an `nlu.yml` with lookup tables and regexes (any format the loader reads); without
 * it, the travel and banking dataset of `bench/entity-data.ts` is generated in memory. The CRF's L2 penalty is chosen on the valid split
 * (never on test) unless `--l2` is given. Prints exact-span precision, recall and F1 per entity for both systems,
 * and writes `bench/results/entities-<date>.json`.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { CliIO } from '../src/cli/io.js'
import { createProgress } from '../src/cli/progress.js'
import { loadTrainingData } from '../src/data/load.js'
import type { EntityAnnotation, Example, LookupTable, RegexFeature, TrainingData } from '../src/data/types.js'
import { isIntentopsError } from '../src/errors.js'
import type { FittedEntityExtractor } from '../src/nlu/component.js'
import {
  CrfEntityExtractor,
  type CrfParams,
  crfParams,
  type FittedCrfEntityExtractor,
} from '../src/nlu/entities/crf.js'
import { LookupEntities, lookupEntitiesParams, mergeTables } from '../src/nlu/entities/lookup.js'
import { RegexEntities, regexEntitiesParams } from '../src/nlu/entities/regex.js'
import { tokenize } from '../src/nlu/tokenizer.js'
import type { EntityPrediction } from '../src/nlu/types.js'
import { writeFileAtomic } from '../src/util/fs.js'
import { DEFAULT_ENTITY_DATA_OPTIONS, type EntityRow, generateEntityDataset } from './entity-data.js'

const L2_GRID = [0.01, 0.03, 0.1, 0.3, 1]

interface Split {
  examples: Example[]
}

interface Dataset {
  name: string
  train: Split
  valid: Split | undefined
  test: Split
  lookups: LookupTable[]
  regexes: RegexFeature[]
}

// ── data ─────────────────────────────────────────────────────────────────────

function rowToExample(row: EntityRow, file: string, line: number): Example {
  return {
    text: row.text,
    intent: row.intent,
    entities: row.entities.map((e) => {
      const a: EntityAnnotation = { start: e.start, end: e.end, entity: e.entity, value: e.value }
      if (e.role !== undefined) a.role = e.role
      return a
    }),
    source: { file, line },
  }
}

/**
 * The generated dataset (in memory), or a directory read by the library's loader: `train.jsonl` with the
 * directory's `nlu.yml` (lookup tables, regexes) when present, `valid.jsonl` when present, and `test.jsonl`.
 */
async function loadDataset(dir: string | undefined): Promise<Dataset> {
  if (!dir) {
    const g = generateEntityDataset()
    const toSplit = (rows: EntityRow[], name: string) => ({
      examples: rows.map((r, i) => rowToExample(r, `generated:${name}`, i + 1)),
    })
    return {
      name: `travel-banking (bench/entity-data.ts, seed ${DEFAULT_ENTITY_DATA_OPTIONS.seed})`,
      train: toSplit(g.train, 'train'),
      valid: toSplit(g.valid, 'valid'),
      test: toSplit(g.test, 'test'),
      lookups: g.lookups,
      regexes: g.regexes,
    }
  }
  const file = (name: string) => path.join(dir, name)
  const features = existsSync(file('nlu.yml')) ? [file('nlu.yml')] : []
  const train = await loadTrainingData([file('train.jsonl'), ...features])
  const split = async (name: string) => ({ examples: (await loadTrainingData([file(name)])).examples })
  return {
    name: path.basename(path.resolve(dir)),
    train: { examples: train.examples },
    valid: existsSync(file('valid.jsonl')) ? await split('valid.jsonl') : undefined,
    test: await split('test.jsonl'),
    lookups: train.lookups,
    regexes: train.regexes,
  }
}

function trainingData(d: Dataset, split: Split): TrainingData {
  const intents = [...new Set(split.examples.map((e) => e.intent))].map((name) => ({ name }))
  return { intents, examples: split.examples, synonyms: [], regexes: d.regexes, lookups: d.lookups }
}

// ── the regex + lookup baseline ──────────────────────────────────────────────

/**
 * What a bot gets without a learned tagger: the library's `regex_entities` and `lookup_entities` steps with their
 * defaults, where every regex and lookup table names its entity. To make the baseline as strong as it can honestly
 * be, every entity value annotated in training is added to its entity's lookup table (a gazetteer of the training
 * data), and overlapping matches are resolved as a bot author would want: the longest wins, then the lookup.
 */
class RegexLookupBaseline {
  private readonly lookup: FittedEntityExtractor
  private readonly regex: FittedEntityExtractor

  constructor(data: TrainingData) {
    const values: LookupTable[] = data.examples.flatMap((ex) =>
      ex.entities.map((e) => ({ name: e.entity, elements: [ex.text.slice(e.start, e.end)] })),
    )
    const withValues: TrainingData = { ...data, lookups: mergeTables([...data.lookups, ...values]) }
    this.lookup = new LookupEntities(lookupEntitiesParams({})).fit(withValues, { seed: 1 })
    this.regex = new RegexEntities(regexEntitiesParams({})).fit(withValues, { seed: 1 })
  }

  extract(text: string): EntityPrediction[] {
    const tokens = tokenize(text)
    const found = [...this.lookup.extract(text, tokens), ...this.regex.extract(text, tokens)]
    // Stable sort: among equally long spans the lookup's, listed first, win.
    const byLength = [...found].sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start)
    const kept: EntityPrediction[] = []
    for (const f of byLength) if (kept.every((k) => f.end <= k.start || f.start >= k.end)) kept.push(f)
    return kept.sort((a, b) => a.start - b.start)
  }
}

// ── metrics ──────────────────────────────────────────────────────────────────

interface Prf {
  precision: number
  recall: number
  f1: number
  /** Gold spans. */
  support: number
  predicted: number
  correct: number
}

interface EntityMetrics {
  perEntity: Record<string, Prf>
  /** Exact span and entity type. */
  micro: Prf
  macroF1: number
  /** Exact span, entity type and role. */
  microWithRole: Prf
}

function prf(correct: number, predicted: number, support: number): Prf {
  // zero_division = 0: an entity never predicted has precision 0, never gold has recall 0.
  const precision = predicted === 0 ? 0 : correct / predicted
  const recall = support === 0 ? 0 : correct / support
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
  return { precision, recall, f1, support, predicted, correct }
}

function evaluate(gold: Example[], predicted: EntityPrediction[][]): EntityMetrics {
  const counts = new Map<string, { correct: number; predicted: number; support: number }>()
  const count = (entity: string) => {
    let c = counts.get(entity)
    if (!c) {
      c = { correct: 0, predicted: 0, support: 0 }
      counts.set(entity, c)
    }
    return c
  }
  let roleCorrect = 0
  let total = { correct: 0, predicted: 0, support: 0 }
  gold.forEach((ex, i) => {
    const spans = new Map(ex.entities.map((e) => [`${e.start}:${e.end}:${e.entity}`, e.role ?? '']))
    for (const e of ex.entities) count(e.entity).support++
    for (const p of predicted[i]!) {
      const c = count(p.entity)
      c.predicted++
      const role = spans.get(`${p.start}:${p.end}:${p.entity}`)
      if (role === undefined) continue
      c.correct++
      if (role === (p.role ?? '')) roleCorrect++
    }
  })
  const perEntity: Record<string, Prf> = {}
  for (const [entity, c] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    perEntity[entity] = prf(c.correct, c.predicted, c.support)
    total = {
      correct: total.correct + c.correct,
      predicted: total.predicted + c.predicted,
      support: total.support + c.support,
    }
  }
  const withSupport = Object.values(perEntity).filter((m) => m.support > 0)
  return {
    perEntity,
    micro: prf(total.correct, total.predicted, total.support),
    macroF1: withSupport.reduce((s, m) => s + m.f1, 0) / Math.max(1, withSupport.length),
    microWithRole: prf(roleCorrect, total.predicted, total.support),
  }
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
}

/** Predicts every test message `passes` times (after a warm-up pass); latency per message includes tokenising. */
function timedPredict(extract: (text: string) => EntityPrediction[], examples: Example[], passes = 3) {
  for (const ex of examples) extract(ex.text)
  const times: number[] = []
  let out: EntityPrediction[][] = []
  for (let p = 0; p < passes; p++) {
    out = examples.map((ex) => {
      const t0 = process.hrtime.bigint()
      const r = extract(ex.text)
      times.push(Number(process.hrtime.bigint() - t0) / 1000)
      return r
    })
  }
  times.sort((a, b) => a - b)
  return { predictions: out, p50Us: percentile(times, 0.5), p99Us: percentile(times, 0.99) }
}

// ── run ──────────────────────────────────────────────────────────────────────

const processIO: CliIO = {
  cwd: process.cwd(),
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
}

function fitCrf(data: TrainingData, params: Partial<CrfParams>, label: string) {
  const bar = createProgress(processIO, label, 100)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const fitted = new CrfEntityExtractor(crfParams(params)).fit(data, {
    seed: 1,
    onProgress: (f) => bar.update(Math.round(f * 100)),
  })
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  bar.update(100)
  bar.stop()
  return { fitted, ms, cpuMs: (cpu.user + cpu.system) / 1000 }
}

function crfExtract(fitted: FittedCrfEntityExtractor) {
  return (text: string) => fitted.extract(text, tokenize(text))
}

function stateBytes(fitted: FittedCrfEntityExtractor): number {
  const s = fitted.toState()
  return Buffer.byteLength(JSON.stringify(s.json)) + Object.values(s.arrays).reduce((n, a) => n + a.byteLength, 0)
}

const pct = (x: number) => (100 * x).toFixed(1)

/**
 * Nanoseconds per multiply-add of a small dense matrix-vector loop over Float64Arrays, the CRF's inner loop: it
 * tells how fast this machine (and its load) runs such code, so timings can be compared across machines.
 */
function calibrate(): number {
  const m = 27
  const e = Float64Array.from({ length: m * m }, (_, i) => (i % 7) / 7)
  const a = Float64Array.from({ length: m }, (_, i) => i / m)
  const out = new Float64Array(m)
  const rounds = 40_000
  const t0 = process.hrtime.bigint()
  for (let r = 0; r < rounds; r++) {
    for (let s = 0; s < m; s++) {
      let sum = 0
      for (let k = 0; k < m; k++) sum += a[k]! * e[s * m + k]!
      out[s] = sum
    }
    a[r % m] = out[r % m]! * 0.5
  }
  return Number(process.hrtime.bigint() - t0) / (rounds * m * m)
}

function renderTable(baseline: EntityMetrics, crf: EntityMetrics): string {
  const rows = [
    '| entity | support | regex+lookup P | R | F1 | crf P | R | F1 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  // The better F1 of the two is in bold (both on a tie).
  const best = (mine: number, other: number) => (mine >= other ? `**${pct(mine)}**` : pct(mine))
  const line = (name: string, b: Prf, c: Prf) =>
    `| ${name} | ${c.support} | ${pct(b.precision)} | ${pct(b.recall)} | ${best(b.f1, c.f1)} | ${pct(c.precision)} | ${pct(c.recall)} | ${best(c.f1, b.f1)} |`
  const names = [...new Set([...Object.keys(baseline.perEntity), ...Object.keys(crf.perEntity)])].sort()
  const none = prf(0, 0, 0)
  for (const n of names) {
    const b = baseline.perEntity[n] ?? none
    const c = crf.perEntity[n] ?? none
    if (b.support === 0 && c.support === 0) continue
    rows.push(line(n, b, c))
  }
  rows.push(line('micro', baseline.micro, crf.micro))
  rows.push(line('micro, with role', baseline.microWithRole, crf.microWithRole))
  rows.push(`| macro-F1 | | | | ${best(baseline.macroF1, crf.macroF1)} | | | ${best(crf.macroF1, baseline.macroF1)} |`)
  return rows.join('\n')
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      l2: { type: 'string' },
      out: { type: 'string' },
      readme: { type: 'boolean' },
      'no-readme': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help || positionals.length > 1) {
    process.stderr.write(
      'Usage: npm run bench:entities -- [DATASET_DIR] [--l2 X] [--out FILE] [--readme | --no-readme]\n' +
        'Without DATASET_DIR, runs on the generated travel and banking set and writes the table into bench/README.md.\n',
    )
    return values.help ? 0 : 2
  }
  const d = await loadDataset(positionals[0])
  const train = trainingData(d, d.train)
  const log = (s: string) => process.stderr.write(`${s}\n`)
  log(
    `dataset ${d.name}: ${d.train.examples.length} train, ${d.valid?.examples.length ?? 0} valid, ${d.test.examples.length} test`,
  )

  // Choose the L2 penalty on valid; test is touched once, at the end.
  const selection: { l2: number; validMicroF1: number; trainMs: number }[] = []
  let l2 = values.l2 === undefined ? undefined : Number(values.l2)
  if (l2 !== undefined && !(l2 >= 0)) {
    log(`--l2 must be a number >= 0, got ${values.l2}`)
    return 2
  }
  if (l2 === undefined && d.valid) {
    for (const candidate of L2_GRID) {
      const { fitted, ms } = fitCrf(train, { l2: candidate }, `crf l2=${candidate}`)
      const m = evaluate(
        d.valid.examples,
        d.valid.examples.map((ex) => crfExtract(fitted)(ex.text)),
      )
      selection.push({ l2: candidate, validMicroF1: m.micro.f1, trainMs: ms })
      log(`  l2=${candidate}: valid micro-F1 ${pct(m.micro.f1)} (${(ms / 1000).toFixed(1)} s)`)
    }
    l2 = [...selection].sort((a, b) => b.validMicroF1 - a.validMicroF1 || a.l2 - b.l2)[0]!.l2
  }
  const params: Partial<CrfParams> = l2 === undefined ? {} : { l2 }
  const { fitted, ms: trainMs, cpuMs: trainCpuMs } = fitCrf(train, params, 'crf final')
  const crfRun = timedPredict(crfExtract(fitted), d.test.examples)
  const crf = evaluate(d.test.examples, crfRun.predictions)

  const t0 = performance.now()
  const baselineModel = new RegexLookupBaseline(train)
  const baselineBuildMs = performance.now() - t0
  const baselineRun = timedPredict((text) => baselineModel.extract(text), d.test.examples)
  const baseline = evaluate(d.test.examples, baselineRun.predictions)

  const date = new Date().toISOString().slice(0, 10)
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: os.loadavg()[0]!,
    nsPerMultiplyAdd: calibrate(),
  }
  const report = {
    date,
    machine,
    dataset: {
      name: d.name,
      train: d.train.examples.length,
      valid: d.valid?.examples.length ?? 0,
      test: d.test.examples.length,
      lookups: d.lookups.map((l) => ({ name: l.name, elements: l.elements.length })),
      regexes: d.regexes.map((r) => r.name),
    },
    selection,
    crf: {
      params: fitted.params,
      fit: fitted.fitInfo,
      trainMs,
      trainCpuMs,
      latencyUs: { p50: crfRun.p50Us, p99: crfRun.p99Us },
      stateBytes: stateBytes(fitted),
      metrics: crf,
    },
    baseline: {
      buildMs: baselineBuildMs,
      latencyUs: { p50: baselineRun.p50Us, p99: baselineRun.p99Us },
      metrics: baseline,
    },
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    crfBeatsBaseline: crf.micro.f1 > baseline.micro.f1,
  }
  const out = values.out ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', `entities-${date}.json`)
  await writeFileAtomic(out, `${JSON.stringify(report, null, 2)}\n`)

  const lines = [
    `## Entities: ${d.name}`,
    '',
    `Run of ${date} on ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}; load average ${machine.loadAverage.toFixed(1)}, ${machine.nsPerMultiplyAdd.toFixed(2)} ns per multiply-add of the CRF's inner loop (bound by one add's latency: about 1 ns on an idle 4 GHz core). ` +
      `Dataset ${d.name}: ${d.train.examples.length} train, ${d.valid?.examples.length ?? 0} valid, ${d.test.examples.length} test messages. ` +
      'Exact-span precision / recall / F1 (%) on test.' +
      (selection.length
        ? ` The crf's l2 was chosen on valid (micro-F1 ${selection.map((x) => `${x.l2}: ${pct(x.validMicroF1)}`).join(', ')}).`
        : ''),
    '',
    renderTable(baseline, crf),
    '',
    `crf: l2=${fitted.params.l2}${selection.length ? ' (chosen on valid)' : ''}, trained in ${(trainMs / 1000).toFixed(1)} s (${(trainCpuMs / 1000).toFixed(1)} s of CPU; ${fitted.fitInfo.iterations} L-BFGS iterations over ${fitted.fitInfo.tokens} tokens), ` +
      `predict p50 ${crfRun.p50Us.toFixed(1)} µs / p99 ${crfRun.p99Us.toFixed(1)} µs per message (tokenising included), state ${(report.crf.stateBytes / 1024).toFixed(0)} KiB, peak RSS ${report.peakRssMb} MB.`,
    `regex+lookup: predict p50 ${baselineRun.p50Us.toFixed(1)} µs / p99 ${baselineRun.p99Us.toFixed(1)} µs.`,
    `crf beats regex+lookup on micro-F1: ${report.crfBeatsBaseline ? 'yes' : 'NO'} (${pct(crf.micro.f1)} vs ${pct(baseline.micro.f1)}).`,
    '',
    `results: ${path.relative(process.cwd(), out)}`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  const readme = values.readme ?? (!values['no-readme'] && positionals.length === 0)
  if (readme) {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'README.md')
    const updated = replaceResults(readFileSync(file, 'utf8'), lines.slice(2, -2).join('\n'))
    if (updated === null) process.stderr.write(`${file} lacks the ${README_START} markers; not updated\n`)
    else await writeFileAtomic(file, updated)
  }
  return 0
}

const README_START = '<!-- entities-bench:results:start -->'
const README_END = '<!-- entities-bench:results:end -->'

/** `readme` with the text between the entity-bench markers replaced, or null when the markers are missing. */
function replaceResults(readme: string, content: string): string | null {
  const start = readme.indexOf(README_START)
  const end = readme.indexOf(README_END)
  if (start === -1 || end === -1 || end < start) return null
  return `${readme.slice(0, start + README_START.length)}\n${content}\n${readme.slice(end)}`
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(
      `${isIntentopsError(err) ? err.describe() : err instanceof Error ? err.message : String(err)}\n`,
    )
    process.exitCode = 1
  },
)
