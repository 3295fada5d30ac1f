/**
 * Evaluation benchmark: 5-fold cross-validation of the default pipeline against one training run (target ≤ 3×,
 * peak RSS ≤ 1.5 GB), report rendering for 77 intents (target < 1 s) and the Markdown summary length (target
 * < 60 lines before the first <details>), with scikit-learn's cross_val_predict and classification_report run
 * side by side on the same data.
 *
 *   npm run build && npm run bench:eval [-- --dataset DIR] [--folds 5] [--seed 42] [--repeat 2] [--no-peers]
 *
 * Each measurement runs in its own process, one after another, so peak RSS is its own. The library is loaded
 * from dist/ (what users run). The machine is shared, so every measurement runs `--repeat` rounds, interleaved,
 * and the fastest round counts: other load only ever adds time. Every round is kept in the JSON. Prints a table
 * and writes bench/results/eval-<date>.json.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { sharedDatasets } from './lib/dataset.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..')
const dist = (p: string) => pathToFileURL(path.join(repo, 'dist', p)).href

interface Args {
  dataset: string
  folds: number
  seed: number
  peers: boolean
  /** Rounds of every measurement; the fastest round is reported (the least disturbed by other load). */
  repeat: number
  measure?: 'train' | 'train1' | 'cv' | 'report'
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const base = sharedDatasets(repo)
  return {
    dataset: path.resolve(get('--dataset') ?? path.join(base, 'banking77')),
    folds: Number(get('--folds') ?? 5),
    seed: Number(get('--seed') ?? 42),
    peers: !argv.includes('--no-peers'),
    repeat: Math.max(1, Number(get('--repeat') ?? 2)),
    measure: get('--measure') as Args['measure'],
  }
}

const peakRssMb = () => (process.resourceUsage().maxRSS * 1024) / 1e6
/** CPU time of the whole process (every thread), ms: a figure the machine's load moves less than wall time. */
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

// ── measurements, each in a child process ────────────────────────────────────────────────────────────────────

async function load(args: Args) {
  const { loadTrainingData } = (await import(dist('data/load.js'))) as typeof import('../src/data/load.js')
  const { defaultConfig } = (await import(dist('config/defaults.js'))) as typeof import('../src/config/defaults.js')
  const train = await loadTrainingData(['train.jsonl'], { root: args.dataset })
  const test = existsSync(path.join(args.dataset, 'test.jsonl'))
    ? await loadTrainingData(['test.jsonl'], { root: args.dataset })
    : undefined
  return { train, test, config: defaultConfig() }
}

/** One training run as `intentops train` does it; `singleThread` keeps the classifier to this thread. */
async function measureTrain(args: Args, singleThread = false) {
  const { train, config } = await load(args)
  const { trainModel } = (await import(dist('nlu/train.js'))) as typeof import('../src/nlu/train.js')
  const c0 = cpuMs()
  const t0 = performance.now()
  await trainModel(train, { config, seed: args.seed, ...(singleThread ? { workers: 0 } : {}) })
  return {
    trainMs: performance.now() - t0,
    trainCpuMs: cpuMs() - c0,
    examples: train.examples.length,
    peakRssMb: peakRssMb(),
  }
}

async function measureCv(args: Args) {
  const { train, config } = await load(args)
  const { crossValidate } = (await import(
    dist('eval/cross-validate.js')
  )) as typeof import('../src/eval/cross-validate.js')
  const c0 = cpuMs()
  const t0 = performance.now()
  const { report } = await crossValidate(train, { config, folds: args.folds, seed: args.seed })
  const cvMs = performance.now() - t0
  const cvCpuMs = cpuMs() - c0
  const cv = report.crossValidation!
  return {
    cvMs,
    cvCpuMs,
    folds: args.folds,
    concurrency: availableParallelism(),
    foldTrainingMs: cv.perFold.map((f) => f.trainingMs),
    macroF1: report.intent.macroAvg.f1,
    accuracy: report.intent.accuracy,
    foldMacroF1: { mean: cv.mean.macroF1, std: cv.std.macroF1 },
    peakRssMb: peakRssMb(),
  }
}

async function measureReport(args: Args) {
  const { train, test, config } = await load(args)
  if (!test) throw new Error(`${args.dataset} has no test.jsonl`)
  const { trainModel } = (await import(dist('nlu/train.js'))) as typeof import('../src/nlu/train.js')
  const { evaluate } = (await import(dist('eval/evaluate.js'))) as typeof import('../src/eval/evaluate.js')
  const { classificationReport } = (await import(dist('eval/metrics.js'))) as typeof import('../src/eval/metrics.js')
  const { renderMarkdown, summaryLineCount } = (await import(
    dist('eval/render/markdown.js')
  )) as typeof import('../src/eval/render/markdown.js')
  const model = await trainModel(train, { config, seed: args.seed })
  let t0 = performance.now()
  const report = await evaluate(model, test.examples)
  const evaluateMs = performance.now() - t0

  const gold = report.predictions.map((p) => p.gold)
  const predicted = report.predictions.map((p) => p.predicted)
  t0 = performance.now()
  const ours = classificationReport(gold, predicted, { labels: report.intent.labels })
  const metricsMs = performance.now() - t0

  // cold: the first render in a process also loads vega and vega-lite
  let c0 = cpuMs()
  t0 = performance.now()
  const { renderHtml } = (await import(dist('eval/render/html.js'))) as typeof import('../src/eval/render/html.js')
  let md = renderMarkdown(report)
  let html = await renderHtml(report)
  const renderColdMs = performance.now() - t0
  const renderColdCpuMs = cpuMs() - c0
  const warm: number[] = []
  const warmCpu: number[] = []
  for (let i = 0; i < 3; i++) {
    c0 = cpuMs()
    t0 = performance.now()
    md = renderMarkdown(report)
    html = await renderHtml(report)
    warm.push(performance.now() - t0)
    warmCpu.push(cpuMs() - c0)
  }
  t0 = performance.now()
  const json = JSON.stringify(report)
  const jsonMs = performance.now() - t0

  const predsFile = path.join(mkdtempSync(path.join(tmpdir(), 'io-bench-eval-')), 'predictions.json')
  writeFileSync(predsFile, JSON.stringify({ gold, predicted, labels: report.intent.labels }))
  return {
    intents: report.intent.labels.length,
    testExamples: report.testSet.examples,
    evaluateMs,
    metricsMs,
    macroF1: ours.macroAvg.f1,
    weightedF1: ours.weightedAvg.f1,
    renderColdMs,
    renderColdCpuMs,
    renderWarmMs: warm.sort((a, b) => a - b)[1]!,
    renderWarmCpuMs: warmCpu.sort((a, b) => a - b)[1]!,
    jsonMs,
    markdownBytes: md.length,
    markdownSummaryLines: summaryLineCount(md),
    htmlBytes: html.length,
    jsonBytes: json.length,
    predictionsFile: predsFile,
    peakRssMb: peakRssMb(),
  }
}

// ── orchestration ─────────────────────────────────────────────────────────────────────────────────────────────

function child<T>(args: Args, measure: NonNullable<Args['measure']>): T {
  const res = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--measure',
      measure,
      '--dataset',
      args.dataset,
      '--folds',
      String(args.folds),
      '--seed',
      String(args.seed),
    ],
    { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  if (res.status !== 0) throw new Error(`measurement ${measure} failed with exit code ${res.status}`)
  const last = res.stdout.trim().split('\n').at(-1)!
  return JSON.parse(last) as T
}

interface PeerResult {
  system: string
  trainMs: number
  cvMs: number
  cvMacroF1: number
  cvAccuracy: number
  reportMs?: number
  reportMacroF1OnIntentopsPredictions?: number
  reportWeightedF1OnIntentopsPredictions?: number
  peakRssMb: number
  peakRssChildrenMb: number
}

function sklearnPeer(args: Args, predictionsFile: string): PeerResult | { skipped: string } {
  const py = '/usr/bin/python3'
  try {
    execFileSync(py, ['-c', 'import sklearn'], { stdio: 'ignore' })
  } catch {
    return { skipped: 'no scikit-learn under /usr/bin/python3 (apt-get install python3-sklearn)' }
  }
  const res = spawnSync(py, [path.join(here, 'peers', 'sklearn_eval.py')], {
    input: JSON.stringify({
      train: path.join(args.dataset, 'train.jsonl'),
      folds: args.folds,
      seed: args.seed,
      jobs: availableParallelism(),
      predictions: predictionsFile,
    }),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  if (res.status !== 0) return { skipped: `the scikit-learn peer failed with exit code ${res.status}` }
  return JSON.parse(res.stdout) as PeerResult
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL')

async function main() {
  const args = parseArgs(process.argv.slice(2))
  if (args.measure) {
    const fn = {
      train: measureTrain,
      train1: (a: Args) => measureTrain(a, true),
      cv: measureCv,
      report: measureReport,
    }[args.measure]
    process.stdout.write(`${JSON.stringify(await fn(args))}\n`)
    return
  }
  if (!existsSync(path.join(repo, 'dist', 'eval', 'cross-validate.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` first')
  }
  if (!existsSync(path.join(args.dataset, 'train.jsonl'))) throw new Error(`no train.jsonl in ${args.dataset}`)
  const load = loadavg()[0]!.toFixed(2)
  const started = new Date()
  type Train = Awaited<ReturnType<typeof measureTrain>>
  type Cv = Awaited<ReturnType<typeof measureCv>>
  type Report = Awaited<ReturnType<typeof measureReport>>
  const rounds: Array<{ loadAvg1m: number; train: Train; train1: Train; cv: Cv; report: Report; peer?: PeerResult }> =
    []
  let peerSkipped: string | undefined = args.peers ? undefined : '--no-peers'
  for (let r = 0; r < args.repeat; r++) {
    const loadAvg1m = loadavg()[0]!
    const round = {
      loadAvg1m,
      train: child<Train>(args, 'train'),
      train1: child<Train>(args, 'train1'),
      cv: child<Cv>(args, 'cv'),
      report: child<Report>(args, 'report'),
    }
    let peerRound: PeerResult | undefined
    if (!peerSkipped) {
      const res = sklearnPeer(args, round.report.predictionsFile)
      if ('skipped' in res) peerSkipped = res.skipped
      else peerRound = res
    }
    rounds.push(peerRound ? { ...round, peer: peerRound } : round)
    console.error(`round ${r + 1}/${args.repeat} done (load ${loadAvg1m.toFixed(2)})`)
  }
  const fastest = <T>(pick: (x: (typeof rounds)[number]) => T | undefined, key: (t: T) => number): T =>
    rounds
      .map(pick)
      .filter((x): x is T => x !== undefined)
      .sort((a, b) => key(a) - key(b))[0]!
  const train = fastest(
    (x) => x.train,
    (t) => t.trainMs,
  )
  const train1 = fastest(
    (x) => x.train1,
    (t) => t.trainMs,
  )
  const cv = fastest(
    (x) => x.cv,
    (t) => t.cvMs,
  )
  const report = fastest(
    (x) => x.report,
    (t) => t.renderColdMs,
  )
  const peer: PeerResult | { skipped: string } = peerSkipped
    ? { skipped: peerSkipped }
    : {
        ...fastest(
          (x) => x.peer,
          (p) => p.cvMs,
        ),
        trainMs: fastest(
          (x) => x.peer,
          (p) => p.trainMs,
        ).trainMs,
      }

  const ratio = cv.cvMs / train.trainMs
  const ratio1 = cv.cvMs / train1.trainMs
  const targets = {
    cvOverTrain: { value: ratio, target: '≤ 3', pass: ratio <= 3 },
    cvPeakRssMb: { value: cv.peakRssMb, target: '≤ 1500', pass: cv.peakRssMb <= 1500 },
    renderColdMs: { value: report.renderColdMs, target: '< 1000', pass: report.renderColdMs < 1000 },
    markdownSummaryLines: {
      value: report.markdownSummaryLines,
      target: '< 60',
      pass: report.markdownSummaryLines < 60,
    },
  }
  const name = path.basename(args.dataset)
  const rows: Array<[string, string, string]> = [
    ['', 'intentops', 'skipped' in peer ? 'scikit-learn (skipped)' : 'scikit-learn LinearSVC'],
    [
      'one training run (all train data)',
      `${s(train.trainMs)} (CPU ${s(train.trainCpuMs)})`,
      'skipped' in peer ? '' : s(peer.trainMs),
    ],
    ['one training run, classifier in one thread', `${s(train1.trainMs)} (CPU ${s(train1.trainCpuMs)})`, ''],
    [
      `${args.folds}-fold CV, folds in parallel`,
      `${s(cv.cvMs)} (CPU ${s(cv.cvCpuMs)})`,
      'skipped' in peer ? '' : s(peer.cvMs),
    ],
    [
      'CV / one training run',
      `${ratio.toFixed(2)}× (target ≤ 3×) ${pass(targets.cvOverTrain.pass)}`,
      'skipped' in peer ? '' : `${(peer.cvMs / peer.trainMs).toFixed(2)}×`,
    ],
    ['CV / one single-threaded training run', `${ratio1.toFixed(2)}×`, ''],
    [
      'CV peak RSS',
      `${cv.peakRssMb.toFixed(0)} MB (target ≤ 1500) ${pass(targets.cvPeakRssMb.pass)}`,
      'skipped' in peer ? '' : `${peer.peakRssMb.toFixed(0)} MB + ${peer.peakRssChildrenMb.toFixed(0)} MB per worker`,
    ],
    [
      'CV macro F1 / accuracy',
      `${cv.macroF1.toFixed(4)} / ${cv.accuracy.toFixed(4)}`,
      'skipped' in peer ? '' : `${peer.cvMacroF1.toFixed(4)} / ${peer.cvAccuracy.toFixed(4)}`,
    ],
    [
      `classification report (${report.testExamples} predictions)`,
      `${report.metricsMs.toFixed(1)} ms, macro F1 ${report.macroF1.toFixed(6)}`,
      'skipped' in peer || peer.reportMs === undefined
        ? ''
        : `${peer.reportMs.toFixed(1)} ms, macro F1 ${peer.reportMacroF1OnIntentopsPredictions!.toFixed(6)}`,
    ],
    [`evaluate (parse ${report.testExamples} messages + metrics)`, s(report.evaluateMs), ''],
    [
      `render MD + HTML with charts (${report.intents} intents), cold`,
      `${report.renderColdMs.toFixed(0)} ms, CPU ${report.renderColdCpuMs.toFixed(0)} ms (target < 1000) ${pass(targets.renderColdMs.pass)}`,
      '',
    ],
    ['render MD + HTML, warm', `${report.renderWarmMs.toFixed(0)} ms, CPU ${report.renderWarmCpuMs.toFixed(0)} ms`, ''],
    [
      'Markdown lines before <details>',
      `${report.markdownSummaryLines} (target < 60) ${pass(targets.markdownSummaryLines.pass)}`,
      '',
    ],
    [
      'report sizes: md / html / json',
      `${(report.markdownBytes / 1e3).toFixed(0)} kB / ${(report.htmlBytes / 1e3).toFixed(0)} kB / ${(report.jsonBytes / 1e6).toFixed(1)} MB`,
      '',
    ],
  ]
  const w0 = Math.max(...rows.map((r) => r[0].length))
  const w1 = Math.max(...rows.map((r) => r[1].length))
  console.log(
    `intentops eval benchmark: ${name} (${train.examples} train, ${report.testExamples} test, ${report.intents} intents), ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, load ${load}; fastest of ${args.repeat} rounds`,
  )
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`)
  if ('skipped' in peer) console.log(`scikit-learn peer skipped: ${peer.skipped}`)

  const out = {
    benchmark: 'eval',
    dataset: name,
    startedAt: started.toISOString(),
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model,
      memGb: totalmem() / 2 ** 30,
      loadAvg1m: Number(load),
    },
    node: process.version,
    settings: { folds: args.folds, seed: args.seed, repeat: args.repeat },
    targets,
    intentops: {
      train,
      trainSingleThread: train1,
      cvOverSingleThreadTrain: ratio1,
      cv,
      report: { ...report, predictionsFile: undefined },
    },
    peers: { sklearn: peer },
    rounds: rounds.map((x) => ({ ...x, report: { ...x.report, predictionsFile: undefined } })),
  }
  const file = path.join(here, 'results', `eval-${started.toISOString().slice(0, 10)}.json`)
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`wrote ${path.relative(repo, file)}`)
}

await main()
