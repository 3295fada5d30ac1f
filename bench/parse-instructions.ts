/**
 * Instructions a `model.parse` runs, and each of its stages, counted by valgrind's callgrind in a tight loop over
 * real messages: the model's share of `bench/serve-instructions.ts`'s count, without the server, so that a change to
 * the NLU engine shows in a few minutes and whatever else the machine runs.
 *
 * One child process (this file with `--child`) runs under callgrind. It loads the model and the messages and warms
 * up every stage; then, for each pass and stage, the counters are zeroed, the child calls the stage once a message
 * for `--calls` messages in turn, and the counters are dumped. A stage's count a call is its dump divided by the
 * calls, less the loop's own (the `loop` stage, which only walks the messages). The stages: `model.parse` as
 * serving calls it (the ranking cut to `--top-k`, the fallback rule applied by the caller), the classification
 * (featurizers and classifier), the entity extractors, and each featurizer alone. A featurizer alone tokenizes the
 * message itself; in a parse the featurizers and lookup matchers that normalise alike share that work, so the
 * stages add up to more than the parse.
 *
 * Prints instructions a call and writes bench/results/parse-instructions-<date>.json. Takes about four minutes;
 * needs valgrind (`bash bench/setup.sh`).
 *
 *   npx tsx bench/parse-instructions.ts [--model FILE] [--texts FILE] [--calls 20000] [--warmup 20000] [--passes 2]
 *                                       [--top-k 10] [--out FILE]
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { NluModel } from '../src/nlu/model.js'
import { decodeModel } from '../src/nlu/model-file.js'
import { SparseVector } from '../src/nlu/sparse.js'
import {
  benchMessages,
  CallgrindRun,
  countOption,
  requireValgrind,
  valgrindVersion,
  writeTemplateModel,
} from './lib/callgrind.js'

interface ChildArgs {
  modelFile: string
  /** A JSON array of the messages (too many for a command line). */
  textsFile: string
  warmup: number
  calls: number
  topK: number
}

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]!) as ChildArgs)
else await parent()

/** Under callgrind: runs a stage when the parent asks (`run NAME`), between the parent's zero and dump. */
async function child(args: ChildArgs): Promise<void> {
  const model = decodeModel(readFileSync(args.modelFile)) as NluModel
  const pipeline = model.pipeline
  const texts = JSON.parse(readFileSync(args.textsFile, 'utf8')) as string[]
  const v = new SparseVector()
  let sink = 0
  const stages: Record<string, (text: string) => void> = {
    loop: (text) => {
      sink += text.length
    },
    parse: (text) => {
      sink += model.parse({ text }, { topK: args.topK, fallback: false }).entities.length
    },
    classify: (text) => {
      sink += pipeline.classify({ text })[0]!
    },
    entities: (text) => {
      sink += pipeline.extractEntities({ text }).length
    },
  }
  for (const step of pipeline.steps) {
    if (step.kind !== 'featurizer') continue
    const f = step.fitted
    stages[`featurizer:${step.name}`] = (text) => {
      v.clear()
      f.transformOne(text, v, 0, 1)
      sink += v.n
    }
  }
  let next = 0
  const run = (stage: (text: string) => void, n: number) => {
    for (let i = 0; i < n; i++) stage(texts[next++ % texts.length]!)
  }
  for (const stage of Object.values(stages)) run(stage, args.warmup)
  process.stdout.write(`${JSON.stringify({ pid: process.pid, stages: Object.keys(stages) })}\n`)
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, name] = line.split(' ')
    if (command === 'exit') break
    const stage = stages[name!]
    if (command !== 'run' || !stage) throw new Error(`unknown command '${line}'`)
    run(stage, args.calls)
    process.stdout.write('done\n')
  }
  // The parent keeps its end of the pipe open: without this the child would wait on it.
  process.stdin.destroy()
  // Keeps the stages' results alive, so that no work is optimised away.
  if (Number.isNaN(sink)) process.stdout.write('NaN\n')
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      texts: { type: 'string' },
      calls: { type: 'string', default: '20000' },
      warmup: { type: 'string', default: '20000' },
      passes: { type: 'string', default: '2' },
      'top-k': { type: 'string', default: '10' },
      out: { type: 'string' },
    },
  })
  const calls = countOption(values, 'calls', 1)
  const warmup = countOption(values, 'warmup', 0)
  const passes = countOption(values, 'passes', 1)
  const topK = countOption(values, 'top-k', 1)
  const log = (s: string) => process.stderr.write(`${s}\n`)
  requireValgrind()

  const repo = path.resolve(import.meta.dirname, '..')
  const { file: textsFile, texts } = await benchMessages(repo, values.texts)

  const run = new CallgrindRun('intentops-bench-parse-instructions-')
  const modelFile = values.model ? path.resolve(values.model) : path.join(run.work, 'model.iom')
  if (!values.model) await writeTemplateModel(repo, modelFile)
  const args: ChildArgs = { modelFile, textsFile: path.join(run.work, 'texts.json'), warmup, calls, topK }
  writeFileSync(args.textsFile, JSON.stringify(texts))
  const ready = await run.start<{ pid: number; stages: string[] }>(
    import.meta.filename,
    ['--child', JSON.stringify(args)],
    `loading the model and warming up every stage (${warmup} calls each)`,
  )
  for (let pass = 1; pass <= passes; pass++) {
    for (const stage of ready.stages) {
      run.control('--zero')
      run.write(`run ${stage}`)
      if ((await run.nextLine()) !== 'done') run.fail(`the child did not finish ${stage}`)
      run.control(`--dump=pass${pass}-${stage}`)
    }
    log(`pass ${pass}/${passes} done`)
  }
  const counts = await run.finish('pass', () => run.write('exit'))

  const perCall = (pass: number, stage: string): number => {
    const c = counts.get(`pass${pass}-${stage}`)
    if (!c) throw new Error(`no callgrind dump for pass ${pass}, ${stage}`)
    return (c.eventLoop + c.otherThreads) / calls
  }
  const passList = Array.from({ length: passes }, (_, i) => i + 1)
  const loop = passList.map((p) => perCall(p, 'loop'))
  const rows = ready.stages
    .filter((s) => s !== 'loop')
    .map((stage) => ({ stage, perCall: passList.map((p, i) => perCall(p, stage) - loop[i]!) }))
  const names: Record<string, string> = {
    parse: 'model.parse',
    classify: 'the intent: featurizers and classifier',
    entities: 'the entity extractors',
  }
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`
  console.log(
    `instructions a call (callgrind, every thread; ${calls} calls a stage and pass over ${texts.length} messages in turn, after ${warmup} of warm-up; the loop's own ${loop.map(k).join(' / ')} taken off)`,
  )
  console.log(`| stage | ${passList.map((p) => `pass ${p}`).join(' | ')} |`)
  console.log(`|---|${passList.map(() => '---:').join('|')}|`)
  for (const r of rows) {
    const name = names[r.stage] ?? `featurizer '${r.stage.slice('featurizer:'.length)}' alone`
    console.log(`| ${name} | ${r.perCall.map(k).join(' | ')} |`)
  }

  const date = new Date().toISOString().slice(0, 10)
  const out = values.out ?? path.join(repo, 'bench/results', `parse-instructions-${date}.json`)
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        valgrind: valgrindVersion(),
        model: values.model ? path.relative(repo, modelFile) : 'templates/default, seed 1',
        messages: textsFile ? { file: path.relative(repo, textsFile), count: texts.length } : texts,
        calls,
        warmup,
        topK,
        loop,
        stages: rows,
      },
      null,
      2,
    )}\n`,
  )
  log(`wrote ${path.relative(process.cwd(), out)}`)
}
