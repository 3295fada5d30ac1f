/**
 * Pipeline benchmark: what content-fingerprint caching saves. One project on a real dataset (Banking77 by default),
 * side by side in one run:
 *
 * - `cold`: the first run (validate, train, test, gate, publish, promote, report);
 * - `unchanged`: the same data again (everything cached; what a CI rerun or a nightly job with no reviews costs);
 * - `uncached`: the same data with the cache deleted, i.e. a script that retrains on every run (the baseline);
 * - `two examples`: two examples added (retrains, scores production on the same test set, compares, promotes).
 *
 * Prints a table and writes bench/results/pipeline-<date>.json.
 *
 *   npx tsx bench/pipeline.ts [dataset-dir]      # default: banking77 under the nearest shared/datasets
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os, { tmpdir } from 'node:os'
import path from 'node:path'
import { normalizeExample } from '../src/data/validate.js'
import { runPipeline } from '../src/pipeline/run.js'
import type { RunRecord } from '../src/pipeline/runner.js'
import { parseConfig } from '../src/project/config.js'
import { writeFileAtomic } from '../src/util/fs.js'

function datasetDir(): string {
  const arg = process.argv[2]
  if (arg) return path.resolve(arg)
  const env = process.env.INTENTOPS_BENCH_DATASETS
  if (env) return path.join(env, 'banking77')
  let dir = path.resolve(import.meta.dirname, '..')
  for (;;) {
    const candidate = path.join(dir, 'shared', 'datasets', 'banking77')
    if (existsSync(candidate)) return candidate
    const up = path.dirname(dir)
    if (up === dir) throw new Error('banking77 not found: pass a dataset directory or set INTENTOPS_BENCH_DATASETS')
    dir = up
  }
}

const source = datasetDir()
const project = mkdtempSync(path.join(tmpdir(), 'io-bench-pipeline-'))
mkdirSync(path.join(project, 'data'))
mkdirSync(path.join(project, 'eval'))
// Validation refuses duplicate examples (up to case, spacing and punctuation), which public datasets have a few of.
const seen = new Set<string>()
const train = `${readFileSync(path.join(source, 'train.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => {
    if (!line.trim()) return false
    const key = normalizeExample(JSON.parse(line) as { text: string })
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  .join('\n')}\n`
writeFileSync(path.join(project, 'data', 'train.jsonl'), train)
writeFileSync(path.join(project, 'eval', 'test.jsonl'), readFileSync(path.join(source, 'test.jsonl'), 'utf8'))
const configText = `version: 1
name: bench
data: [data]
tests: []
registry:
  allowUnsigned: true
gates:
  minDelta: -1          # the benchmark measures time; every candidate may replace production
stages:
  testData: [eval]
`
writeFileSync(path.join(project, 'intentops.yml'), configText)
const config = parseConfig(configText, path.join(project, 'intentops.yml'))

interface Row {
  scenario: string
  totalMs: number
  trained: boolean
  stages: Record<string, { status: string; ms: number }>
  promoted: number | null
}
const rows: Row[] = []

async function scenario(name: string) {
  const t0 = performance.now()
  const record: RunRecord = await runPipeline({ root: project, config, env: { INTENTOPS_AUTHOR: 'bench' } })
  const totalMs = performance.now() - t0
  if (record.status === 'failed') {
    const f = record.stages.find((s) => s.status === 'failed')
    throw new Error(`${name}: stage ${f?.name} failed: ${f?.reason}`)
  }
  const promote = record.stages.find((s) => s.name === 'promote')
  rows.push({
    scenario: name,
    totalMs,
    trained: record.stages.find((s) => s.name === 'train')?.status === 'ran',
    stages: Object.fromEntries(
      record.stages
        .filter((s) => s.status !== 'skipped')
        .map((s) => [s.name, { status: s.status, ms: Math.round(s.durationMs) }]),
    ),
    promoted: promote?.outputs?.promoted ? Number(promote.outputs.version) : null,
  })
  process.stderr.write(`${name}: ${(totalMs / 1000).toFixed(2)} s\n`)
}

try {
  const examples = train.trim().split('\n').length
  process.stderr.write(`pipeline benchmark on ${path.basename(source)} (${examples} training examples)\n`)
  await scenario('cold')
  await scenario('unchanged')
  rmSync(path.join(project, '.intentops', 'cache'), { recursive: true, force: true })
  await scenario('uncached')
  const first = JSON.parse(train.split('\n')[0]!) as { intent: string }
  writeFileSync(
    path.join(project, 'data', 'train.jsonl'),
    `${train.trimEnd()}\n${JSON.stringify({ text: 'my card still has not shown up after two weeks', intent: first.intent })}\n${JSON.stringify({ text: 'where on earth is my new card', intent: first.intent })}\n`,
  )
  await scenario('two examples')

  const base = rows.find((r) => r.scenario === 'uncached')!.totalMs
  const cols = ['validate', 'train', 'test', 'compare', 'publish', 'promote', 'report']
  const lines = [
    `| scenario | total | vs uncached | trained | ${cols.join(' | ')} |`,
    `|---|---:|---:|---|${cols.map(() => '---:').join('|')}|`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${(r.totalMs / 1000).toFixed(2)} s | ${(r.totalMs / base).toFixed(3)}× | ${r.trained ? 'yes' : 'no'} | ${cols
          .map((c) => {
            const s = r.stages[c]
            return s ? (s.status === 'cached' ? 'cached' : `${(s.ms / 1000).toFixed(2)} s`) : '–'
          })
          .join(' | ')} |`,
    ),
  ]
  console.log(lines.join('\n'))
  const out = path.resolve(import.meta.dirname, 'results', `pipeline-${new Date().toISOString().slice(0, 10)}.json`)
  await writeFileAtomic(
    out,
    `${JSON.stringify(
      {
        benchmark: 'pipeline',
        dataset: path.basename(source),
        trainExamples: examples,
        at: new Date().toISOString(),
        machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? null, node: process.version },
        rows,
      },
      null,
      2,
    )}\n`,
  )
  console.log(`wrote ${path.relative(process.cwd(), out)}`)
} finally {
  rmSync(project, { recursive: true, force: true })
}
