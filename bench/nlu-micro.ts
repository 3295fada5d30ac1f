/**
 * In-process microbenchmark of the NLU engine's two speed targets, for working on them between full
 * `bench:nlu` runs: training time (wall and process CPU, worker threads included) and the latency of
 * `parse(text, {fallback: false})` per message, with the garbage collections that happen during the timed pass.
 *
 *   npx tsx bench/nlu-micro.ts [--dataset DIR] [--phase train|parse|both] [--model FILE] [--passes N]
 *                              [--workers N] [--seed N] [--out FILE]
 *
 * `--phase parse --model FILE` times a saved model without training; `--phase train --model FILE` saves the
 * trained model there. Prints one JSON line and writes it to `--out` (default bench/results/nlu-micro-<date>.json).
 * @module
 */
import { readFileSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { defaultConfig } from '../src/config/defaults.js'
import type { TrainingData } from '../src/data/types.js'
import { decodeModel, encodeModel } from '../src/nlu/model-file.js'
import { trainModel } from '../src/nlu/train.js'
import type { TrainedModel } from '../src/nlu/types.js'
import { writeFileAtomic } from '../src/util/fs.js'
import { sharedDatasets } from './lib/dataset.js'

const { values: args } = parseArgs({
  options: {
    dataset: {
      type: 'string',
      default: path.join(sharedDatasets(path.resolve(import.meta.dirname, '..')), 'clinc150'),
    },
    phase: { type: 'string', default: 'both' },
    model: { type: 'string' },
    passes: { type: 'string', default: '1' },
    workers: { type: 'string' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
})

interface Row {
  text: string
  intent: string
}

function readJsonl(file: string): Row[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row)
}

function toData(rows: Row[]): TrainingData {
  const intents = [...new Set(rows.map((r) => r.intent))]
  return {
    intents: intents.map((name) => ({ name })),
    examples: rows.map((r) => ({ text: r.text, intent: r.intent, entities: [] })),
    synonyms: [],
    regexes: [],
    lookups: [],
  }
}

function cpuSeconds(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

const dir = path.resolve(args.dataset!)
const train = readJsonl(path.join(dir, 'train.jsonl'))
const test = readJsonl(path.join(dir, 'test.jsonl'))
const result: Record<string, unknown> = { dataset: path.basename(dir), date: new Date().toISOString() }
let model: TrainedModel | undefined

if (args.phase === 'train' || args.phase === 'both') {
  const wall0 = performance.now()
  const cpu0 = cpuSeconds()
  model = await trainModel(toData(train), {
    config: defaultConfig(),
    seed: Number(args.seed),
    ...(args.workers !== undefined ? { workers: Number(args.workers) } : {}),
  })
  result.trainWallS = +((performance.now() - wall0) / 1000).toFixed(3)
  result.trainCpuS = +(cpuSeconds() - cpu0).toFixed(3)
  let correct = 0
  for (const r of test) if (model.parse(r.text, { fallback: false }).intent.name === r.intent) correct++
  result.accuracy = +((100 * correct) / test.length).toFixed(2)
  if (args.model) await writeFileAtomic(args.model, encodeModel(model))
}

if (args.phase === 'parse' || args.phase === 'both') {
  if (!model) {
    if (!args.model) throw new Error('--phase parse needs --model FILE')
    model = decodeModel(new Uint8Array(await readFile(args.model)))
  }
  const m = model
  let sink = 0
  for (let i = 0; i < 200; i++) sink += m.parse(train[i % train.length]!.text, { fallback: false }).intent.confidence
  let gcCount = 0
  let gcMs = 0
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++
      gcMs += e.duration
    }
  })
  obs.observe({ entryTypes: ['gc'] })
  const lat: number[] = []
  const heap0 = process.memoryUsage().heapUsed
  const cpu0 = cpuSeconds()
  const passes = Number(args.passes)
  for (let p = 0; p < passes; p++) {
    for (const r of test) {
      const t0 = process.hrtime.bigint()
      const res = m.parse(r.text, { fallback: false })
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6)
      sink += res.intent.confidence
    }
  }
  const cpu = cpuSeconds() - cpu0
  // GC entries are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 100))
  obs.disconnect()
  lat.sort((a, b) => a - b)
  Object.assign(result, {
    parses: lat.length,
    p50Ms: +percentile(lat, 0.5).toFixed(4),
    p90Ms: +percentile(lat, 0.9).toFixed(4),
    p99Ms: +percentile(lat, 0.99).toFixed(4),
    maxMs: +lat[lat.length - 1]!.toFixed(3),
    cpuUsPerParse: +((cpu * 1e6) / lat.length).toFixed(2),
    gcCount,
    gcMs: +gcMs.toFixed(2),
    heapGrowthMB: +((process.memoryUsage().heapUsed - heap0) / 1e6).toFixed(2),
    sink: sink > 0,
  })
}

const { loadavg } = await import('node:os')
result.loadavg = loadavg().map((x) => +x.toFixed(2))
const line = JSON.stringify(result)
console.log(line)
const out =
  args.out ?? path.join(import.meta.dirname, 'results', `nlu-micro-${new Date().toISOString().slice(0, 10)}.json`)
await mkdir(path.dirname(out), { recursive: true })
await writeFileAtomic(out, `${line}\n`)
