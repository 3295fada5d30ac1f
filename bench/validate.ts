/**
 * Benchmark: load + validate 100k generated examples (target: under 2 s on the project machine).
 * Side by side in one run: the same near-duplicate search done brute force (all pairs) on growing subsets, and the
 * bare `yaml` parse of the same files as the floor for loading.
 *
 *   npx tsx bench/validate.ts [--examples 100000] [--files 10]
 *
 * Prints a table and writes bench/results/validate-<date>.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { parse } from 'yaml'
import { defaultConfig } from '../src/config/defaults.js'
import { loadTrainingDataDetailed } from '../src/data/load.js'
import { findNearDuplicates, findNearDuplicatesBruteForce, validateTrainingData } from '../src/data/validate.js'
import { dataRegexRisk } from '../src/util/regex-safety.js'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const N = arg('examples', 100_000)
const FILES = arg('files', 10)
const INTENTS = 200

// Deterministic generator: Zipf-like word choice from a fixed vocabulary, some annotated entities.
let seed = 12345
const rand = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0
  return seed / 4294967296
}
const syllables = ['ka', 'lo', 'mi', 'ren', 'to', 'sa', 'vel', 'or', 'pi', 'dun', 'ex', 'qua', 'zo', 'lin', 'mar', 'ne']
const vocab: string[] = []
for (let i = 0; vocab.length < 6000; i++) {
  let w = ''
  let x = i
  do {
    w += syllables[x % syllables.length]
    x = Math.floor(x / syllables.length)
  } while (x > 0)
  vocab.push(w)
}
const cities = ['Paris', 'Berlin', 'Rome', 'Madrid', 'Lisbon', 'Oslo', 'Vienna', 'Prague']
const zipf = () => vocab[Math.min(vocab.length - 1, Math.floor(vocab.length * rand() ** 3))]!

function sentence(intent: number): string {
  const len = 4 + Math.floor(rand() * 9)
  const words = [`w${intent}x`, ...Array.from({ length: len - 1 }, zipf)]
  if (rand() < 0.15)
    words.splice(1 + Math.floor(rand() * (len - 1)), 0, `[${cities[Math.floor(rand() * cities.length)]}](city)`)
  return words.join(' ')
}

const dir = mkdtempSync(path.join(tmpdir(), 'io-bench-'))
mkdirSync(path.join(dir, 'data'))
const perFile = Math.ceil(N / FILES)
let made = 0
for (let f = 0; f < FILES; f++) {
  const lines = ['version: "3.1"', 'nlu:']
  const byIntent = new Map<number, string[]>()
  for (let k = 0; k < perFile && made < N; k++, made++) {
    const intent = made % INTENTS
    const list = byIntent.get(intent) ?? []
    list.push(sentence(intent))
    byIntent.set(intent, list)
  }
  for (const [intent, list] of byIntent) {
    lines.push(`- intent: intent_${intent}`, '  examples: |', ...list.map((s) => `    - ${s}`))
  }
  if (f === 0)
    lines.push(
      '- synonym: Paris',
      '  examples: |',
      '    - paname',
      '- regex: zip',
      '  examples: |',
      '    - \\b\\d{5}\\b',
    )
  writeFileSync(path.join(dir, 'data', `part-${f}.yml`), `${lines.join('\n')}\n`)
}

const validation = defaultConfig().validation
const mem0 = process.memoryUsage().rss

// Wall time is what a user waits; CPU time is what this process used, which stays honest when other work
// shares the machine (the load average is recorded next to the numbers).
const load0 = loadavg()[0]!
const c0 = process.cpuUsage()
const t0 = performance.now()
const loaded = await loadTrainingDataDetailed(['data'], { root: dir })
const t1 = performance.now()
const c1 = process.cpuUsage(c0)
const diagnostics = validateTrainingData(loaded.data, { validation })
const t2 = performance.now()
const c2 = process.cpuUsage(c0)
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000
const rssMb = (process.memoryUsage().rss - mem0) / 1024 / 1024

// Floor for loading: the bare YAML parser on the same files, no positions, no checks.
const files = Array.from({ length: FILES }, (_, f) => path.join(dir, 'data', `part-${f}.yml`))
const tp0 = performance.now()
for (const f of files) parse(readFileSync(f, 'utf8'))
const tp1 = performance.now()

// Near-duplicate search: prefix filtering against all pairs, on the same subsets.
const subsets = [2_000, 5_000, 10_000]
const nearDup = subsets.map((n) => {
  const xs = loaded.data.examples.slice(0, n)
  const a = performance.now()
  const fast = findNearDuplicates(xs, validation.nearDuplicateThreshold)
  const b = performance.now()
  const slow = findNearDuplicatesBruteForce(xs, validation.nearDuplicateThreshold)
  const c = performance.now()
  return {
    examples: n,
    prefixFilterMs: b - a,
    bruteForceMs: c - b,
    pairs: fast.length,
    samePairs: fast.length === slow.length,
  }
})
rmSync(dir, { recursive: true, force: true })

// Stress: 100k short commands over a 40-word vocabulary, so most examples repeat or nearly repeat each other.
const words = vocab.slice(0, 40)
const short = Array.from({ length: N }, (_, i) => ({
  text: Array.from({ length: 1 + Math.floor(rand() * 3) }, () => words[Math.floor(rand() * words.length)]).join(' '),
  intent: `intent_${i % 50}`,
  entities: [],
}))
const ts0 = performance.now()
const shortDiagnostics = validateTrainingData(
  { intents: [], examples: short, synonyms: [], regexes: [], lookups: [] },
  { validation },
)
const ts1 = performance.now()

// The backtracking check of data regexes, on 200 distinct patterns of typical shapes (each checked once: results are
// cached by pattern), beside compiling the same patterns as the floor. The first check builds Unicode tables.
const REGEX_SHAPES = [
  '[A-Z]{2}\\d{6}',
  '\\d{5}(?:-\\d{4})?',
  '\\b\\d{4}-\\d{2}-\\d{2}\\b',
  '(?:\\+?1[-. ]?)?\\(?\\d{3}\\)?[-. ]?\\d{3}[-. ]?\\d{4}',
  '\\d{1,3}(,\\d{3})*(\\.\\d+)?',
  '[\\w.+-]+@[\\w-]+\\.[\\w.]+',
  '\\w+(?:\\s\\w+)*',
  '(?:\\d{1,3}\\.){3}\\d{1,3}',
  '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
  'https?://[^\\s]+',
]
const regexPatterns = Array.from({ length: 200 }, (_, i) => `${REGEX_SHAPES[i % REGEX_SHAPES.length]}x${i}`)
const tr0 = performance.now()
dataRegexRisk('first')
const tr1 = performance.now()
const regexTimes = regexPatterns.map((p) => {
  const start = performance.now()
  dataRegexRisk(p)
  return performance.now() - start
})
const tr2 = performance.now()
// V8 compiles a pattern at its first match, not at `new RegExp`.
for (const p of regexPatterns) new RegExp(p, 'u').test('order AB123456 of 2026-01-31 to a@b.com, ref 1,234.50')
const tr3 = performance.now()
const sortedRegexTimes = [...regexTimes].sort((a, b) => a - b)

const total = t2 - t0
const result = {
  date: new Date().toISOString(),
  machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version },
  examples: loaded.data.examples.length,
  files: FILES,
  intents: INTENTS,
  loadMs: t1 - t0,
  validateMs: t2 - t1,
  totalMs: total,
  loadCpuMs: cpuMs(c1),
  validateCpuMs: cpuMs(c2) - cpuMs(c1),
  totalCpuMs: cpuMs(c2),
  loadAverage: load0,
  targetMs: 2000,
  metTarget: total < 2000,
  rssGrowthMb: rssMb,
  diagnostics: {
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
  },
  bareYamlParseMs: tp1 - tp0,
  stressShortCommands: { examples: N, vocabulary: 40, validateMs: ts1 - ts0, diagnostics: shortDiagnostics.length },
  nearDuplicates: nearDup,
  regexCheck: {
    patterns: regexPatterns.length,
    firstCheckMs: tr1 - tr0,
    totalMs: tr2 - tr1,
    p50Ms: sortedRegexTimes[sortedRegexTimes.length >> 1],
    maxMs: sortedRegexTimes[sortedRegexTimes.length - 1],
    compileOnlyMs: tr3 - tr2,
  },
}

const ms = (x: number) => `${x.toFixed(0).padStart(7)} ms`
console.log(
  `load + validate ${result.examples} examples in ${FILES} files (${INTENTS} intents); load average ${load0.toFixed(1)} on ${availableParallelism()} cores`,
)
console.log('                                                      wall         cpu')
console.log(`  load (read, parse with positions, annotations)  ${ms(result.loadMs)}  ${ms(result.loadCpuMs)}`)
console.log(`  validate (all checks)                            ${ms(result.validateMs)}  ${ms(result.validateCpuMs)}`)
console.log(
  `  total                                            ${ms(total)}  ${ms(result.totalCpuMs)}   target < 2000 ms: ${result.metTarget ? 'met' : 'MISSED'}`,
)
console.log(`  memory (RSS growth)                              ${rssMb.toFixed(0).padStart(7)} MB`)
console.log(`  peer: bare yaml.parse of the same files          ${ms(result.bareYamlParseMs)}`)
console.log(
  `  stress: validate ${N} short repeated commands      ${ms(ts1 - ts0)}   (${shortDiagnostics.length} diagnostics)`,
)
console.log(
  `  regex backtracking check: ${regexPatterns.length} patterns ${ms(tr2 - tr1)} (p50 ${sortedRegexTimes[sortedRegexTimes.length >> 1]!.toFixed(2)} ms, max ${sortedRegexTimes[sortedRegexTimes.length - 1]!.toFixed(1)} ms; first check ${(tr1 - tr0).toFixed(0)} ms); peer: compiling and matching each once ${ms(tr3 - tr2)}`,
)
console.log('near-duplicate search, prefix filtering vs all pairs:')
console.log('  examples   prefix filter     all pairs   pairs  same result')
for (const r of nearDup) {
  console.log(
    `  ${String(r.examples).padStart(8)}  ${ms(r.prefixFilterMs)}  ${ms(r.bruteForceMs)}  ${String(r.pairs).padStart(6)}  ${r.samePairs ? 'yes' : 'NO'}`,
  )
}
const outDir = new URL('./results/', import.meta.url).pathname
mkdirSync(outDir, { recursive: true })
const out = path.join(outDir, `validate-${result.date.slice(0, 10)}.json`)
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
console.log(`wrote ${path.relative(process.cwd(), out)}`)
