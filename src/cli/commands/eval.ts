/**
 * Evaluation commands: `test`, `compare` and `tune`. Each parses its options, shows progress and prints; the work
 * happens in `src/eval/`, imported lazily.
 * @module
 */
import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { collect, floatOption, intOption, usage } from '../options.js'
import type { Progress } from '../progress.js'

/** One progress bar per stage; a new stage closes the previous bar. */
async function stagedProgress(io: CliIO) {
  const { createProgress } = await import('../progress.js')
  let stage: string | undefined
  let bar: Progress | undefined
  let last = -1
  return {
    update(name: string, fraction: number, note?: string) {
      if (name !== stage) {
        bar?.stop()
        stage = name
        bar = createProgress(io, name, 100)
        last = -1
      }
      const value = Math.round(Math.min(1, Math.max(0, fraction)) * 100)
      if (value === last) return
      last = value
      bar!.update(value, undefined, note)
    },
    stop() {
      bar?.stop()
      bar = undefined
      stage = undefined
    },
  }
}

export function register(program: Command, io: CliIO): void {
  program
    .command('test')
    .description(
      'evaluate a model on a test set, or cross-validate the pipeline; write report.json, report.md and report.html',
    )
    .option('-m, --model <file>', 'evaluate this model file (default: train one from the config)')
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option('--data <path>', 'training data (repeatable; default: the config `data`)', collect)
    .option('--test <path>', 'labelled test data (repeatable)', collect)
    .option('-o, --out <dir>', 'where to write the reports', 'results')
    .option('--cross-validation', 'evaluate by stratified k-fold cross-validation of the training data')
    .option('--folds <k>', 'cross-validation folds', '5')
    .option('--seed <n>', 'seed of training, folds and subsets', '42')
    .option('--learning-curve <percents>', 'also train on growing fractions, e.g. 10,25,50,100')
    .option('--tests <path>', 'must-pass files (repeatable; default: the config `tests`)', collect)
    .option('--concurrency <n>', 'worker threads for folds and curve points (1 = in-process)')
    .option('--zero-division <0|1>', 'value of a ratio with a zero denominator', '0')
    .option('--json', 'print the summary as JSON')
    .action(
      async (opts: {
        model?: string
        config?: string
        data?: string[]
        test?: string[]
        out: string
        crossValidation?: boolean
        folds: string
        seed: string
        learningCurve?: string
        tests?: string[]
        concurrency?: string
        zeroDivision: string
        json?: boolean
      }) => {
        const path = await import('node:path')
        const { loadConfig } = await import('../../project/config.js')
        const { runTest } = await import('../../eval/test-run.js')
        const { writeReports } = await import('../../eval/report-files.js')
        const { summarize } = await import('../../eval/summary.js')
        const { parsePercents } = await import('../../eval/learning-curve.js')
        const { describeMustPassFailure } = await import('../../eval/must-pass.js')
        const { score, percent } = await import('../../eval/render/format.js')
        const folds = await intOption('--folds', opts.folds, 2)
        const seed = await intOption('--seed', opts.seed, 0)
        const concurrency = await intOption('--concurrency', opts.concurrency, 1)
        if (opts.zeroDivision !== '0' && opts.zeroDivision !== '1') {
          throw await usage(`--zero-division must be 0 or 1, got "${opts.zeroDivision}"`)
        }
        const loaded = await loadConfig({ dir: io.cwd, ...(opts.config ? { explicit: opts.config } : {}) })
        const { config, root } = loaded
        // With nothing to score on, the honest default is cross-validation: scoring on the training data would
        // flatter the model.
        if (!opts.model && !opts.test && !opts.crossValidation && !opts.learningCurve) {
          opts.crossValidation = true
          io.stderr(
            `no --test data given: cross-validating the training data (${folds}-fold; --test FILE to use a test set)\n`,
          )
        }
        const progress = await stagedProgress(io)
        let run: Awaited<ReturnType<typeof runTest>>
        try {
          run = await runTest({
            root,
            config,
            ...(loaded.file ? { configFile: loaded.file } : {}),
            seed: seed!,
            zeroDivision: opts.zeroDivision === '1' ? 1 : 0,
            ...(opts.model ? { modelFile: path.resolve(io.cwd, opts.model) } : {}),
            ...(opts.data ? { dataPaths: opts.data.map((p) => path.resolve(io.cwd, p)) } : {}),
            ...(opts.test ? { testPaths: opts.test.map((p) => path.resolve(io.cwd, p)) } : {}),
            ...(opts.tests ? { mustPassPaths: opts.tests.map((p) => path.resolve(io.cwd, p)) } : {}),
            ...(opts.crossValidation ? { crossValidation: { folds: folds! } } : {}),
            ...(opts.learningCurve ? { learningCurve: parsePercents(opts.learningCurve) } : {}),
            ...(concurrency !== undefined ? { concurrency } : {}),
            ...(io.interrupt ? { signal: io.interrupt() } : {}),
            onProgress: (stage, f) => progress.update(stage, f),
          })
        } finally {
          progress.stop()
        }
        const { report } = run
        if (run.unknownIntents.length > 0) {
          const shown = run.unknownIntents.slice(0, 10)
          const total = run.unknownIntents.reduce((n, u) => n + u.examples, 0)
          const more = run.unknownIntents.length - shown.length
          io.stderr(
            `warning: the model does not know ${run.unknownIntents.length} intent${run.unknownIntents.length === 1 ? '' : 's'} of the test set, so all ${total} of their examples count as wrong: ` +
              `${shown.map((u) => `${u.intent} (${u.examples})`).join(', ')}${more > 0 ? `, and ${more} more` : ''}; ` +
              'check the intent names, or retrain the model on data that has them\n',
          )
        }
        const outDir = path.resolve(io.cwd, opts.out)
        progress.update('writing reports', 0)
        const files = await writeReports(report, outDir)
        progress.stop()
        const summary = summarize(report)
        const failures = report.mustPass?.results.filter((r) => !r.passed) ?? []
        if (opts.json) {
          io.stdout(`${JSON.stringify({ summary, files, mustPassFailures: failures }, null, 2)}\n`)
        } else {
          const how =
            report.mode === 'cross-validation'
              ? `${report.crossValidation!.folds}-fold cross-validation`
              : report.learningCurve && !opts.test && !opts.model
                ? 'stratified hold-out'
                : 'test set'
          const lines = [
            `evaluated ${report.testSet.examples} messages, ${report.testSet.intents} intents (${how})`,
            `  accuracy     ${score(summary.accuracy)}`,
            `  macro F1     ${score(summary.macroF1)}    weighted F1 ${score(summary.weightedF1)}`,
            `  fallback     ${percent(report.fallback.rate)} of messages (caught ${report.fallback.caught} mistakes, hid ${report.fallback.lost} right answers)`,
            `  calibration  ECE ${score(report.calibration.ece)}`,
          ]
          if (report.crossValidation) {
            const cv = report.crossValidation
            lines.push(`  folds        macro F1 ${score(cv.mean.macroF1)} ± ${score(cv.std.macroF1)}`)
          }
          if (report.entities) {
            lines.push(
              `  entities     F1 ${score(report.entities.exact.micro.f1)} exact span, ${score(report.entities.token.micro.f1)} token`,
            )
          }
          const worst = Object.entries(report.intent.perLabel)
            .filter(([, m]) => m.support > 0)
            .sort((a, b) => a[1].f1 - b[1].f1)
            .slice(0, 3)
          if (worst.length > 0) lines.push(`  weakest      ${worst.map(([l, m]) => `${l} ${score(m.f1)}`).join(', ')}`)
          if (report.learningCurve) {
            lines.push(
              `  curve        ${report.learningCurve.points.map((p) => `${p.percent}% ${score(p.macroF1)}`).join(' → ')} (macro F1)`,
            )
          }
          if (report.mustPass) {
            const mp = report.mustPass
            lines.push(
              `  must-pass    ${mp.passed}/${mp.total} passed${mp.allowedFailures ? ` (${mp.allowedFailures} allowed failures)` : ''}`,
            )
          } else if (!run.model) {
            lines.push('  must-pass    skipped: no single model in this run')
          }
          lines.push(
            `reports: ${[files.json, files.markdown, files.html].map((f) => path.relative(io.cwd, f) || f).join(', ')}`,
          )
          io.stdout(`${lines.join('\n')}\n`)
        }
        for (const f of failures) {
          const where = f.source ? `${f.source.file}${f.source.line ? `:${f.source.line}` : ''}: ` : ''
          io.stderr(
            `${f.allowFailure ? 'allowed failure' : 'must-pass failed'}: ${where}"${f.text}": ${f.failures.map(describeMustPassFailure).join('; ')}\n`,
          )
        }
        if ((report.mustPass?.failedRequired ?? 0) > 0) io.exitCode = 1
      },
    )

  program
    .command('compare')
    .description('compare two models or report.json results on the same test set, with a paired significance test')
    .argument('<a>', 'the reference: a model file or a report.json (e.g. production)')
    .argument('<b>', 'the candidate: a model file or a report.json')
    .option('--test <path>', 'labelled test data for model files (repeatable)', collect)
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option('-o, --out <dir>', 'also write comparison.md and comparison.json here')
    .option('--alpha <p>', 'significance level of McNemar’s test', '0.05')
    .option('--fail-on-regression', 'exit 1 when B is significantly worse or any intent is broken')
    .option('--json', 'print JSON instead of Markdown')
    .action(
      async (
        a: string,
        b: string,
        opts: {
          test?: string[]
          config?: string
          out?: string
          alpha: string
          failOnRegression?: boolean
          json?: boolean
        },
      ) => {
        const path = await import('node:path')
        const { loadConfig } = await import('../../project/config.js')
        const { runCompare } = await import('../../eval/compare-run.js')
        const { renderComparisonMarkdown } = await import('../../eval/render/compare-markdown.js')
        const { writeFileAtomic } = await import('../../util/fs.js')
        const alpha = await floatOption('--alpha', opts.alpha, { min: 0, max: 1, open: true })
        const { root } = await loadConfig({ dir: io.cwd, ...(opts.config ? { explicit: opts.config } : {}) })
        const progress = await stagedProgress(io)
        let comparison: Awaited<ReturnType<typeof runCompare>>
        try {
          comparison = await runCompare(path.resolve(io.cwd, a), path.resolve(io.cwd, b), {
            root,
            alpha,
            labelA: a,
            labelB: b,
            ...(opts.test ? { testPaths: opts.test.map((p) => path.resolve(io.cwd, p)) } : {}),
            ...(io.interrupt ? { signal: io.interrupt() } : {}),
            onProgress: (side, f) => progress.update(`evaluating ${side}`, f),
          })
        } finally {
          progress.stop()
        }
        const markdown = renderComparisonMarkdown(comparison)
        const json = `${JSON.stringify(comparison, null, 1)}\n`
        if (opts.out) {
          const dir = path.resolve(io.cwd, opts.out)
          await writeFileAtomic(path.join(dir, 'comparison.md'), markdown)
          await writeFileAtomic(path.join(dir, 'comparison.json'), json)
        }
        io.stdout(opts.json ? json : markdown)
        const broken = comparison.perIntent.filter((r) => r.status === 'broken')
        if (opts.failOnRegression && (comparison.verdict === 'B is significantly worse' || broken.length > 0)) {
          io.stderr(
            `regression: ${comparison.verdict}${broken.length ? `; broken intents: ${broken.map((r) => r.intent).join(', ')}` : ''}\n`,
          )
          io.exitCode = 1
        }
      },
    )

  program
    .command('tune')
    .description('grid or random search over pipeline params, each trial scored by cross-validation')
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option('--data <path>', 'training data (repeatable; default: the config `data`)', collect)
    .option(
      '--param <spec>',
      'a parameter to tune: step.param=v1,v2 or step.param=min..max[:log][:int] (repeatable)',
      collect,
    )
    .option('--method <grid|random>', 'search method (default: the config `tune.method`)')
    .option('--trials <n>', 'trials of a random search')
    .option('--folds <k>', 'cross-validation folds per trial')
    .option('--seed <n>', 'seed of sampling, folds and training')
    .option('--metric <name>', 'macroF1, weightedF1 or accuracy')
    .option('--concurrency <n>', 'trials run in parallel (1 = in-process)')
    .option('-o, --out <dir>', 'where to write tune.json, tune.md and tune.html', 'results')
    .option('--sort <column>', 'sort the printed table: score, trial, time, accuracy or a step.param', 'score')
    .option('--write-best', 'write the best values into the config file, keeping its comments')
    .option('--json', 'print the results as JSON')
    .action(
      async (opts: {
        config?: string
        data?: string[]
        param?: string[]
        method?: string
        trials?: string
        folds?: string
        seed?: string
        metric?: string
        concurrency?: string
        out: string
        sort: string
        writeBest?: boolean
        json?: boolean
      }) => {
        const path = await import('node:path')
        const { CONFIG_FILE_NAME } = await import('../../config/defaults.js')
        const { loadConfig } = await import('../../project/config.js')
        const { loadTrainingData } = await import('../../data/load.js')
        const { tune, effectivePipeline } = await import('../../eval/tune.js')
        const { parseParamFlag, formatAssignment } = await import('../../eval/tune-space.js')
        const { writeTuneFiles, renderTuneTable } = await import('../../eval/render/tune.js')
        const { writeBestConfig } = await import('../../eval/tune-write.js')
        const { score } = await import('../../eval/render/format.js')
        const { readTextFile } = await import('../../util/fs.js')
        const { parseYaml, pointerLocation } = await import('../../util/yaml.js')

        const { config, root, file } = await loadConfig({
          dir: io.cwd,
          ...(opts.config ? { explicit: opts.config } : {}),
        })
        const t = config.tune
        const method = opts.method ?? t.method
        if (method !== 'grid' && method !== 'random')
          throw await usage(`--method must be grid or random, got "${method}"`)
        const metric = opts.metric ?? t.metric
        if (metric !== 'macroF1' && metric !== 'weightedF1' && metric !== 'accuracy') {
          throw await usage(`--metric must be macroF1, weightedF1 or accuracy, got "${metric}"`)
        }
        const trials = (await intOption('--trials', opts.trials, 1)) ?? t.trials
        const folds = (await intOption('--folds', opts.folds, 2)) ?? t.folds
        const seed = (await intOption('--seed', opts.seed, 0)) ?? t.seed
        const concurrency = await intOption('--concurrency', opts.concurrency, 1)
        const fromFlags = (opts.param ?? []).map(parseParamFlag)
        const space = fromFlags.length > 0 ? fromFlags : [...t.params]
        let locate: ((i: number) => import('../../errors.js').SourceLocation | undefined) | undefined
        if (fromFlags.length === 0 && file) {
          const parsed = parseYaml(await readTextFile(file, { maxBytes: 1024 * 1024 }), file)
          locate = (i) => pointerLocation(parsed, `/tune/params/${i}`)
        }
        const pipeline = effectivePipeline(config)
        const data = await loadTrainingData(
          opts.data ? opts.data.map((p) => path.resolve(io.cwd, p)) : [...config.data],
          { root },
        )
        const outDir = path.resolve(io.cwd, opts.out)
        const { createProgress } = await import('../progress.js')
        const bar = createProgress(io, 'tune', 100)
        let report: Awaited<ReturnType<typeof tune>>
        try {
          report = await tune(data, {
            config,
            pipeline,
            space,
            method,
            trials,
            folds,
            seed,
            metric,
            ...(concurrency !== undefined ? { concurrency } : {}),
            ...(io.interrupt ? { signal: io.interrupt() } : {}),
            ...(locate ? { locate } : {}),
            onProgress: (f, best, done, planned) =>
              bar.update(
                done === planned ? 100 : Math.min(99, Math.floor(f * 100)),
                undefined,
                `${done}/${planned} trials${best ? `, best ${metric} ${score(best.score!)} (trial ${best.trial + 1})` : ''}`,
              ),
            onTrial: async (_, partial) => {
              await writeTuneFiles(partial, outDir)
            },
          })
        } finally {
          bar.stop()
        }
        const files = await writeTuneFiles(report, outDir)
        let wroteBest: string | undefined
        if (opts.writeBest && report.best) {
          const target = file ?? path.join(root, CONFIG_FILE_NAME)
          await writeBestConfig(target, report.best.assignments, config.pipeline.length === 0 ? pipeline : [])
          wroteBest = target
        }
        if (opts.json) {
          io.stdout(`${JSON.stringify({ ...report, files, ...(wroteBest ? { wroteBest } : {}) }, null, 2)}\n`)
        } else {
          io.stdout(renderTuneTable(report, opts.sort, 20))
          if (report.best) {
            io.stdout(
              `best: ${report.best.assignments.map(formatAssignment).join(' ')} → ${metric} ${score(report.best.score!)}\n`,
            )
          }
          io.stdout(
            `results: ${[files.json, files.markdown, files.html].map((f) => path.relative(io.cwd, f)).join(', ')}\n`,
          )
          if (wroteBest) io.stdout(`wrote the best values to ${path.relative(io.cwd, wroteBest) || wroteBest}\n`)
        }
        const failed = report.trials.filter((x) => x.status === 'failed')
        if (failed.length > 0) {
          io.stderr(`warning: ${failed.length} trials failed; the first: ${failed[0]!.error?.message}\n`)
        }
        if (report.status === 'interrupted') {
          const { createError } = await import('../../errors.js')
          throw createError(
            'ERR_EVAL_ABORTED',
            {},
            {
              hint: `${report.trials.length} of ${report.plannedTrials} trials finished; partial results are in ${path.relative(io.cwd, files.json)}`,
            },
          )
        }
        if (!report.best) {
          io.exitCode = 1
        }
      },
    )
}
