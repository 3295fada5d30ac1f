import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { defaultConfig } from '../src/config/defaults.js'
import { loadTrainingData } from '../src/data/load.js'
import { parseReport } from '../src/eval/report-files.js'
import type { TuneReport } from '../src/eval/tune.js'
import { encodeModel } from '../src/nlu/model-file.js'
import { trainModel } from '../src/nlu/train.js'
import { generateExamples, removeTravelProjects, writeNlu, writeTravelProject } from './helpers/travel-data.js'

afterAll(removeTravelProjects)

async function cli(dir: string, args: string[], setup?: (io: ReturnType<typeof memoryIO>) => void) {
  const io = memoryIO(dir)
  setup?.(io)
  const code = await runCli(args, io)
  return { code, out: io.out(), err: io.err() }
}

async function trainModelFile(dir: string, file: string, seed: number, dataFile = 'data/nlu.yml') {
  const data = await loadTrainingData([dataFile], { root: dir })
  const model = await trainModel(data, { config: defaultConfig(), seed })
  writeFileSync(path.join(dir, file), await encodeModel(model))
}

describe('intentops test', () => {
  it('trains from the config, scores the test set, writes the three reports and runs must-pass sentences', async () => {
    const p = writeTravelProject()
    const r = await cli(p.dir, ['test', '--test', p.test, '--out', 'out'])
    expect(r.err).not.toContain('must-pass failed')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/evaluated \d+ messages, 7 intents \(test set\)/)
    expect(r.out).toMatch(/must-pass +2\/3 passed \(1 allowed failures\)/)
    expect(r.err).toContain('allowed failure: ')
    const report = parseReport(readFileSync(path.join(p.dir, 'out', 'report.json'), 'utf8'), 'report.json')
    expect(report.mode).toBe('test-set')
    expect(report.intent.accuracy).toBeGreaterThan(0.8)
    expect(report.entities!.entities).toEqual(['city', 'date'])
    expect(report.mustPass).toMatchObject({ total: 3, passed: 2, failedRequired: 0, allowedFailures: 1 })
    expect(report.model?.name).toBe('intentops-bot')
    expect(readFileSync(path.join(p.dir, 'out', 'report.md'), 'utf8')).toContain('<details>')
    expect(readFileSync(path.join(p.dir, 'out', 'report.html'), 'utf8')).toContain('data-chart="f1"')
  })

  it('cross-validates in worker threads and runs must-pass on a model of all the data', async () => {
    const p = writeTravelProject({ perIntent: 20 })
    const r = await cli(p.dir, ['test', '--cross-validation', '--folds', '3', '--seed', '7', '--json'])
    expect(r.code).toBe(0)
    const printed = JSON.parse(r.out) as {
      summary: { macroF1: number; mustPass: { total: number } }
      files: { json: string }
    }
    expect(printed.summary.mustPass.total).toBe(3)
    const report = parseReport(readFileSync(printed.files.json, 'utf8'), printed.files.json)
    expect(report.mode).toBe('cross-validation')
    expect(report.crossValidation!.perFold).toHaveLength(3)
    expect(report.testSet.examples).toBe(140)
    expect(new Set(report.predictions.map((x) => x.fold))).toEqual(new Set([0, 1, 2]))
    expect(report.model?.name).toBe('intentops-bot')
    expect(printed.summary.macroF1).toBe(report.intent.macroAvg.f1)
  })

  it('stops cross-validation on Ctrl-C with ERR_EVAL_ABORTED, a hint and exit code 130, writing no report', async () => {
    const p = writeTravelProject({ perIntent: 20 })
    const ac = new AbortController()
    ac.abort()
    const r = await cli(p.dir, ['test', '--cross-validation', '--folds', '3', '--out', 'out'], (io) => {
      io.interrupt = () => ac.signal
    })
    expect(r.code).toBe(130)
    expect(r.err).toMatch(/error ERR_EVAL_ABORTED: The evaluation was interrupted\n {2}hint: No report was written/)
    expect(existsSync(path.join(p.dir, 'out'))).toBe(false)
  })

  it('adds a learning curve scored on the test set', async () => {
    const p = writeTravelProject({ perIntent: 20 })
    const r = await cli(p.dir, ['test', '--test', p.test, '--learning-curve', '25,100', '--concurrency', '1'])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/curve +25% \d\.\d{3} → 100% \d\.\d{3} \(macro F1\)/)
    const report = parseReport(readFileSync(path.join(p.dir, 'results', 'report.json'), 'utf8'), 'report.json')
    const points = report.learningCurve!.points
    expect(report.learningCurve!.evaluatedOn).toBe('test-set')
    expect(points.map((x) => x.percent)).toEqual([25, 100])
    expect(points[0]!.trainExamples).toBe(35)
    expect(points[1]!.trainExamples).toBe(140)
    // the 100 % point is the model the report scored
    expect(points[1]!.macroF1).toBeCloseTo(report.intent.macroAvg.f1, 12)
  })

  it('fails when a required must-pass sentence fails, naming the file and line', async () => {
    const p = writeTravelProject({ perIntent: 15 })
    writeFileSync(
      path.join(p.dir, 'tests', 'must-pass.yml'),
      'version: "1"\nmust_pass:\n  - text: hello\n    intent: greet\n  - text: goodbye\n    intent: book_flight\n',
    )
    const r = await cli(p.dir, ['test', '--test', p.test, '--out', 'out'])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/must-pass failed: tests\/must-pass\.yml:5: "goodbye": expected intent book_flight, got \w+/)
    expect(r.err).not.toMatch(/"hello"/)
  })

  it('cross-validates when no test data is given, and says so', async () => {
    const p = writeTravelProject({ perIntent: 6 })
    const r = await cli(p.dir, ['test', '--folds', '3', '--out', 'cv', '--json'])
    expect(r.err).toContain('no --test data given: cross-validating the training data (3-fold')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.out) as { files: Record<string, string> }
    const report = JSON.parse(readFileSync(out.files.json!, 'utf8')) as {
      mode: string
      crossValidation: { folds: number }
    }
    expect(report.mode).toBe('cross-validation')
    expect(report.crossValidation.folds).toBe(3)
  })

  it('warns about test intents the model does not know, with their example counts, since they all count as wrong', async () => {
    const p = writeTravelProject({ perIntent: 5, skipIntents: ['weather', 'goodbye'] })
    await trainModelFile(p.dir, 'model.iom', 1)
    const test = await loadTrainingData([p.test], { root: p.dir })
    const count = (intent: string) => test.examples.filter((e) => e.intent === intent).length
    const r = await cli(p.dir, ['test', '--model', 'model.iom', '--test', p.test, '--out', 'out'])
    expect(r.code).toBe(0)
    const listed = [
      ['weather', count('weather')],
      ['goodbye', count('goodbye')],
    ].sort((a, b) => Number(b[1]) - Number(a[1]) || String(a[0]).localeCompare(String(b[0])))
    expect(r.err).toContain(
      `warning: the model does not know 2 intents of the test set, so all ${count('weather') + count('goodbye')} of their examples count as wrong: ${listed.map(([i, n]) => `${i} (${n})`).join(', ')};`,
    )
    // More than ten: the ten with most examples, and how many more.
    const unknown = Array.from({ length: 12 }, (_, i) => ({ annotated: `made up sentence ${i}`, intent: `zz_${i}` }))
    unknown.push({ annotated: 'another made up sentence', intent: 'zz_11' })
    writeNlu(p.dir, 'eval/unknown.yml', unknown)
    const many = await cli(p.dir, ['test', '--model', 'model.iom', '--test', 'eval/unknown.yml', '--out', 'out2'])
    expect(many.err).toContain(
      'warning: the model does not know 12 intents of the test set, so all 13 of their examples count as wrong: zz_11 (2), zz_0 (1), zz_1 (1), zz_10 (1), zz_2 (1),',
    )
    expect(many.err).toContain('zz_7 (1), and 2 more;')
    // Every intent known: no warning.
    const known = await cli(p.dir, ['test', '--test', 'data/nlu.yml', '--out', 'out3'])
    expect(known.err).not.toContain('does not know')
  })

  it('explains bad input with a catalog error and a non-zero exit', async () => {
    const p = writeTravelProject({ perIntent: 5 })
    const folds = await cli(p.dir, ['test', '--cross-validation', '--folds', '1'])
    expect(folds.code).toBe(2)
    expect(folds.err).toContain('--folds must be an integer ≥ 2')
    const both = await cli(p.dir, ['test', '--model', 'x.iom', '--cross-validation'])
    expect(both.err).toContain('pick one')
    const missing = await cli(p.dir, ['test', '--test', 'nope.yml'])
    expect(missing.err).toContain('error ERR_FILE_NOT_FOUND')
    expect(existsSync(path.join(p.dir, 'results'))).toBe(false)
  })

  it('refuses a must-pass path in intentops.yml that does not exist, pointing at the config', async () => {
    const p = writeTravelProject({ perIntent: 5, config: 'version: 1\ndata: [data]\ntests:\n  - tset\n' })
    await trainModelFile(p.dir, 'model.iom', 1)
    const r = await cli(p.dir, ['test', '--model', 'model.iom', '--test', p.test, '--out', 'out'])
    expect(r.code).toBe(1)
    expect(r.err).toContain(`error ERR_FILE_NOT_FOUND: ${path.join(p.dir, 'intentops.yml')}:4:5: File not found:`)
    expect(r.err).toContain('`tests` in intentops.yml lists "tset"')
    expect(existsSync(path.join(p.dir, 'out'))).toBe(false)
    // The default tests/ may be missing: a project without must-pass cases.
    writeFileSync(path.join(p.dir, 'intentops.yml'), 'version: 1\ndata: [data]\n')
    rmSync(path.join(p.dir, 'tests'), { recursive: true })
    const none = await cli(p.dir, ['test', '--model', 'model.iom', '--test', p.test, '--out', 'out'])
    expect(none.code, none.err).toBe(0)
  })
})

describe('intentops compare', () => {
  it('finds no significant difference between two models that differ only in seed', async () => {
    const p = writeTravelProject()
    rmSync(path.join(p.dir, 'tests'), { recursive: true })
    await trainModelFile(p.dir, 'a.iom', 1)
    await trainModelFile(p.dir, 'b.iom', 2)
    expect((await cli(p.dir, ['test', '--model', 'a.iom', '--test', p.test, '--out', 'ra'])).code).toBe(0)
    // one side as a report, the other as a model file scored on the same test set
    const r = await cli(p.dir, ['compare', 'ra/report.json', 'b.iom', '--test', p.test, '--out', 'cmp'])
    expect(r.code).toBe(0)
    expect(r.out).toContain('no significant difference')
    const json = JSON.parse(readFileSync(path.join(p.dir, 'cmp', 'comparison.json'), 'utf8'))
    expect(json.verdict).toBe('no significant difference')
    expect(json.mcnemar.significant).toBe(false)
    // the two models do differ: the seed moves their confidences
    const a = parseReport(readFileSync(path.join(p.dir, 'ra', 'report.json'), 'utf8'), 'a')
    expect((await cli(p.dir, ['test', '--model', 'b.iom', '--test', p.test, '--out', 'rb'])).code).toBe(0)
    const b = parseReport(readFileSync(path.join(p.dir, 'rb', 'report.json'), 'utf8'), 'b')
    const moved = a.predictions.filter((x, i) => x.topConfidence !== b.predictions[i]!.topConfidence)
    expect(moved.length).toBeGreaterThan(0)
  })

  it('reports an intent the candidate was trained without as broken, and fails on regression', async () => {
    const p = writeTravelProject()
    await trainModelFile(p.dir, 'prod.iom', 1)
    writeNlu(p.dir, 'alt/nlu.yml', generateExamples(30, 1, ['weather']))
    await trainModelFile(p.dir, 'cand.iom', 1, 'alt/nlu.yml')
    // report.json on one side, model file on the other
    expect((await cli(p.dir, ['test', '--model', 'prod.iom', '--test', p.test, '--out', 'prod'])).code).toBe(0)
    const r = await cli(p.dir, [
      'compare',
      'prod/report.json',
      'cand.iom',
      '--test',
      p.test,
      '--fail-on-regression',
      '--json',
    ])
    expect(r.code).toBe(1)
    const c = JSON.parse(r.out)
    expect(c.perIntent[0]).toMatchObject({ intent: 'weather', status: 'broken' })
    expect(c.changes.broken.length).toBeGreaterThan(0)
    expect(c.verdict).toBe('B is significantly worse')
    expect(r.err).toContain('broken intents: weather')
  })

  it('refuses results from different test sets', async () => {
    const p = writeTravelProject({ perIntent: 10 })
    rmSync(path.join(p.dir, 'tests'), { recursive: true })
    await trainModelFile(p.dir, 'a.iom', 1)
    expect((await cli(p.dir, ['test', '--model', 'a.iom', '--test', p.test, '--out', 'r1'])).code).toBe(0)
    expect((await cli(p.dir, ['test', '--model', 'a.iom', '--test', p.train, '--out', 'r2'])).code).toBe(0)
    const r = await cli(p.dir, ['compare', 'r1/report.json', 'r2/report.json'])
    expect(r.code).toBe(1)
    expect(r.err).toContain('error ERR_EVAL_TEST_SET_MISMATCH')
    for (const alpha of ['5e-2', '0x1', '1', ' 0.05']) {
      const bad = await cli(p.dir, ['compare', 'r1/report.json', 'r1/report.json', '--alpha', alpha])
      expect(bad.code).toBe(2)
      expect(bad.err).toContain(`error ERR_CLI_USAGE: --alpha must be a number in (0, 1), got "${alpha}"`)
    }
  })
})

describe('intentops tune', () => {
  const CONFIG = [
    '# travel bot',
    'name: travel',
    'tune:',
    '  method: grid',
    '  folds: 2',
    '  seed: 3',
    '  params:',
    '    - step: classifier # the default pipeline names its SVM "classifier"',
    '      param: C',
    '      values: [0.1, 1, 10]',
    '',
  ].join('\n')

  it('is reproducible for a seed and writes the best values back keeping comments', async () => {
    const p = writeTravelProject({ perIntent: 12, config: CONFIG })
    const first = await cli(p.dir, ['tune', '--out', 't1', '--json'])
    expect(first.code).toBe(0)
    const a = JSON.parse(first.out) as TuneReport
    // in this thread this time: results must not depend on how trials are spread over workers
    const second = await cli(p.dir, ['tune', '--out', 't2', '--json', '--write-best', '--concurrency', '1'])
    const b = JSON.parse(second.out) as TuneReport
    expect(a.status).toBe('complete')
    expect(a.trials).toHaveLength(3)
    expect(b.trials.map((t) => [t.assignments, t.score, t.perFold])).toEqual(
      a.trials.map((t) => [t.assignments, t.score, t.perFold]),
    )
    const written = readFileSync(path.join(p.dir, 'intentops.yml'), 'utf8')
    expect(written).toContain('# travel bot')
    expect(written).toContain('# the default pipeline names its SVM "classifier"')
    expect(written).toMatch(new RegExp(`name: classifier[\\s\\S]*C: ${b.best!.assignments[0]!.value}`))
    const table = await cli(p.dir, ['tune', '--out', 't3', '--param', 'classifier.C=0.5', '--sort', 'trial'])
    expect(table.out).toMatch(/^trial +classifier\.C +macroF1/m)
  })

  it('stops on Ctrl-C, keeping finished trials in valid partial results', async () => {
    const p = writeTravelProject({ perIntent: 12, config: CONFIG })
    const ac = new AbortController()
    const file = path.join(p.dir, 'out', 'tune.json')
    const watcher = setInterval(() => {
      if (existsSync(file)) ac.abort()
    }, 20)
    // Enough trials that the rest cannot all finish between the first partial write and the watcher's next look
    // (with five, a fast machine sometimes finished them all first and the run ended complete).
    const values = Array.from({ length: 40 }, (_, i) => (0.01 * 1.3 ** i).toPrecision(3))
    const r = await cli(
      p.dir,
      ['tune', '--out', 'out', '--concurrency', '1', '--param', `classifier.C=${values.join(',')}`],
      (io) => {
        io.interrupt = () => ac.signal
      },
    )
    clearInterval(watcher)
    expect(r.code).toBe(130)
    expect(r.err).toMatch(
      /error ERR_EVAL_ABORTED: The evaluation was interrupted\n {2}hint: \d+ of 40 trials finished; partial results are in out\/tune\.json\n$/,
    )
    const partial = JSON.parse(readFileSync(file, 'utf8')) as TuneReport
    expect(partial.status).toBe('interrupted')
    expect(partial.trials.length).toBeGreaterThanOrEqual(1)
    expect(partial.trials.length).toBeLessThan(40)
    expect(partial.best?.status).toBe('ok')
  })

  it('points at the bad entry of intentops.yml', async () => {
    const p = writeTravelProject({
      perIntent: 5,
      config: 'tune:\n  params:\n    - step: svm\n      param: C\n      values: [1]\n',
    })
    const r = await cli(p.dir, ['tune'])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(
      /error ERR_TUNE_INVALID_PARAM: .*intentops\.yml:3:7: Invalid tuning parameter svm\.C: the pipeline has no step "svm"/,
    )
  })
})
