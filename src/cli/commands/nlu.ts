/**
 * NLU commands: `train`, `predict` and `shell`.
 * @module
 */
import type { Command } from 'commander'
import { createError, isIntentopsError } from '../../errors.js'
import type { CliIO } from '../io.js'
import { collect, intOption } from '../options.js'

/** Where `train` writes and `predict`/`shell` read when no path is given, relative to the project root. */
export const DEFAULT_MODEL_PATH = 'models/model.iom'

/**
 * The training data and the `--validation` data, checked first as `intentops data validate` and the pipeline's
 * validate stage check data: the problems go to stderr as `data validate` prints them, and an error in either stops
 * training with exit code 1, as it fails `data validate`; warnings do not. The held-out files are checked on their
 * own (they are not training data, so an example in both is no conflict) and as held-out data, as `data validate
 * --held-out` checks them: without the must-pass cases, which are about the training data, and without the warnings
 * about how many examples there are, since a held-out set is small on purpose.
 */
async function validatedData(
  io: CliIO,
  loaded: Awaited<ReturnType<typeof import('../../project/config.js').loadConfig>>,
  dataPaths: readonly string[],
  heldOutPaths: readonly string[] | undefined,
): Promise<{
  data: import('../../data/types.js').TrainingData
  heldOut: import('../../data/types.js').TrainingData | undefined
}> {
  const path = await import('node:path')
  const { validateProject } = await import('../../data/project.js')
  const { compareDiagnostics } = await import('../../data/diagnostics.js')
  const { renderDiagnostics } = await import('../diagnostics.js')
  const pc = (await import('picocolors')).default.createColors(io.isTTY)
  const rel = (paths: readonly string[]) =>
    paths.map((p) => path.relative(loaded.root, p).split(path.sep).join('/') || '.')
  const common = { root: loaded.root, validation: loaded.config.validation, fields: loaded.config.fields }
  const report = await validateProject({
    ...common,
    data: rel(dataPaths),
    tests: [...loaded.config.tests],
    ...(loaded.file ? { configFile: loaded.file } : {}),
  })
  const heldOut = heldOutPaths
    ? await validateProject({ ...common, data: rel(heldOutPaths), heldOut: true })
    : undefined
  const diagnostics = [...report.diagnostics, ...(heldOut?.diagnostics ?? [])].sort(compareDiagnostics)
  const everyOne = heldOut
    ? '`intentops data validate --json` lists every one, `--held-out -d FILE --json` those of a --validation file'
    : '`intentops data validate --json` lists every one'
  io.stderr(renderDiagnostics(diagnostics, pc, everyOne))
  const first = diagnostics.find((d) => d.severity === 'error')
  if (first) {
    const inTraining = report.errorCount > 0
    const inHeldOut = (heldOut?.errorCount ?? 0) > 0
    const what =
      inTraining && inHeldOut ? 'training and --validation data' : inTraining ? 'training data' : '--validation data'
    // The first error of the training data when it has one, as without --validation.
    const shown = inTraining ? report.diagnostics.find((d) => d.severity === 'error')! : first
    // `data validate -d FILE` alone would check a held-out file as training data, must-pass cases included.
    const heldOutCommand = '`intentops data validate --held-out -d FILE`'
    const check =
      inTraining && inHeldOut
        ? `\`intentops data validate\` checks the training data again without training, and ${heldOutCommand} a --validation file as train does`
        : inTraining
          ? '`intentops data validate` checks the data again without training'
          : `${heldOutCommand} checks a --validation file again as train does`
    throw createError(
      'ERR_DATA_INVALID',
      { what, count: report.errorCount + (heldOut?.errorCount ?? 0), code: shown.code, first: shown.message, check },
      { location: shown.location },
    )
  }
  return { data: report.data, heldOut: heldOut?.data }
}

export function register(program: Command, io: CliIO): void {
  program
    .command('train')
    .description('train an intent classifier and entity extractor, and write the model file')
    .option('-c, --config <file>', 'config file (default: ./intentops.yml, or defaults when there is none)')
    .option('-d, --data <path>', 'training data file or directory (repeatable; default: the config `data`)', collect)
    .option('-o, --out <file>', `model file to write (default: ${DEFAULT_MODEL_PATH})`)
    .option('--seed <n>', 'random seed', '0')
    .option('--workers <n>', 'worker threads for the classifier (default: by problem size and cores)')
    .option('--target-oos-recall <r>', 'choose the fallback threshold so held-out out-of-scope recall is at least r')
    .option(
      '--max-fallback <r>',
      'instead of --target-oos-recall: the highest fallback threshold that sends at most a share r of held-out in-scope messages to the fallback',
    )
    .option('--oos-intent <name>', 'the out-of-scope intent for --target-oos-recall', 'oos')
    .option(
      '--validation <path>',
      'held-out data for the threshold, pooled with the held-out folds of the training data (repeatable)',
      collect,
    )
    .option('--json', 'print the training summary as JSON')
    .option(
      '--no-validate',
      'train without first checking the data and --validation data as `intentops data validate` does',
    )
    .action(
      async (opts: {
        config?: string
        data?: string[]
        out?: string
        validate: boolean
        seed: string
        workers?: string
        targetOosRecall?: string
        maxFallback?: string
        oosIntent: string
        validation?: string[]
        json?: boolean
      }) => {
        const path = await import('node:path')
        const { statSync } = await import('node:fs')
        const { loadConfig } = await import('../../project/config.js')
        const { loadTrainingData } = await import('../../data/load.js')
        const { trainModel } = await import('../../nlu/train.js')
        const { saveModel } = await import('../../nlu/model-file.js')
        const { createProgress } = await import('../progress.js')
        if (opts.targetOosRecall !== undefined && opts.maxFallback !== undefined) {
          throw usage(
            '--target-oos-recall and --max-fallback choose the fallback threshold in different ways (a share of out-of-scope messages caught, or a share of in-scope messages sent to the fallback); give only one of them',
          )
        }
        const seed = await intOption('--seed', opts.seed, 0, 0xffffffff)
        const workers = opts.workers === undefined ? undefined : await intOption('--workers', opts.workers, 0, 64)
        const target =
          opts.targetOosRecall === undefined ? undefined : fraction('--target-oos-recall', opts.targetOosRecall)
        const budget = opts.maxFallback === undefined ? undefined : fraction('--max-fallback', opts.maxFallback)
        const loaded = await loadConfig({ dir: io.cwd, explicit: opts.config })
        const dataPaths = (opts.data ?? [...loaded.config.data]).map((p) =>
          path.resolve(opts.data ? io.cwd : loaded.root, p),
        )
        const heldOutPaths = opts.validation?.map((p) => path.resolve(io.cwd, p))
        const { data, heldOut: validation } = opts.validate
          ? await validatedData(io, loaded, dataPaths, heldOutPaths)
          : {
              data: await loadTrainingData(dataPaths, { root: loaded.root }),
              heldOut: heldOutPaths ? await loadTrainingData(heldOutPaths, { root: loaded.root }) : undefined,
            }
        const out = path.resolve(opts.out ? io.cwd : loaded.root, opts.out ?? DEFAULT_MODEL_PATH)
        const progress = createProgress(io, 'train', 100)
        const signal = io.interrupt?.()
        let model: Awaited<ReturnType<typeof trainModel>>
        try {
          model = await trainModel(data, {
            config: loaded.config,
            seed,
            ...(workers !== undefined ? { workers } : {}),
            ...(target !== undefined ? { targetOosRecall: target } : {}),
            ...(budget !== undefined ? { maxInScopeFallback: budget } : {}),
            oosIntent: opts.oosIntent,
            ...(validation ? { validation } : {}),
            ...(signal ? { signal } : {}),
            onProgress: (p) => progress.update(Math.round(p.fraction * 100), 100, p.stage),
          })
        } finally {
          progress.stop()
        }
        // The last steps of training do not look at the signal; a model trained after Ctrl-C is not written.
        if (signal?.aborted) throw createError('ERR_TRAIN_ABORTED')
        await saveModel(out, model)
        const m = model.manifest
        const summary = {
          model: out,
          bytes: statSync(out).size,
          name: m.name,
          examples: m.examples,
          intents: m.labels.length,
          entities: m.entities,
          trainingMs: m.trainingMs,
          fallback: m.fallback,
          ...(model.report.threshold ? { thresholdChoice: model.report.threshold } : {}),
        }
        if (opts.json) {
          io.stdout(`${JSON.stringify(summary, null, 2)}\n`)
          return
        }
        io.stdout(
          `trained '${m.name}' on ${m.examples} examples, ${m.labels.length} intents` +
            `${m.entities.length ? `, entities: ${m.entities.join(', ')}` : ''} in ${(m.trainingMs / 1000).toFixed(1)} s\n`,
        )
        const t = model.report.threshold
        if (t) {
          io.stdout(
            `fallback threshold ${t.threshold} chosen on the ${t.source}: ` +
              `${t.oosExamples ? `out-of-scope recall ${(100 * t.oosRecall).toFixed(1)}%, ` : ''}` +
              `in-scope accuracy ${(100 * t.inScopeAccuracy).toFixed(1)}%, ` +
              `in-scope fallback ${(100 * t.inScopeFallback).toFixed(1)}%\n`,
          )
          if ('maxInScopeFallback' in t.goal && t.inScopeFallback > t.goal.maxInScopeFallback) {
            io.stdout(
              `note: the ambiguity threshold (${m.fallback.ambiguityThreshold}) alone sends more than ` +
                `${100 * t.goal.maxInScopeFallback}% of in-scope messages to the fallback; lower fallback.ambiguityThreshold to leave room for a threshold\n`,
            )
          }
        }
        io.stdout(`wrote ${path.relative(io.cwd, out) || out} (${formatBytes(summary.bytes)})\n`)
      },
    )

  program
    .command('predict')
    .description('parse messages with a model: one JSON result per line, in input order')
    .option('-m, --model <file>', `model file (default: ${DEFAULT_MODEL_PATH} in the project)`)
    .option('-c, --config <file>', 'config file that locates the project (default: ./intentops.yml)')
    .option('-t, --text <text>', 'one message to parse')
    .option('-f, --file <in.jsonl>', 'messages to parse, one JSON object a line: {"text": ...} or {"fields": {...}}')
    .option('-o, --out <file>', 'write the results here instead of stdout (0600 unless everyone may read the --file)')
    .option('--top-k <n>', 'keep only the best N intents in intent_ranking')
    .option('--no-fallback', 'report the best intent even below the fallback threshold')
    .action(
      async (opts: {
        model?: string
        config?: string
        text?: string
        file?: string
        out?: string
        topK?: string
        fallback: boolean
      }) => {
        const path = await import('node:path')
        const { modeOfCopy, readTextFile, writeFileAtomic } = await import('../../util/fs.js')
        const { createProgress } = await import('../progress.js')
        if ((opts.text === undefined) === (opts.file === undefined)) {
          throw createError('ERR_CLI_USAGE', { detail: 'give exactly one of --text or --file' })
        }
        const topK = opts.topK === undefined ? undefined : await intOption('--top-k', opts.topK, 0, 1_000_000)
        const model = await openModel(io, opts)
        const parseOptions = { fallback: opts.fallback, ...(topK !== undefined ? { topK } : {}) }
        const lines: string[] = []
        if (opts.text !== undefined) lines.push(JSON.stringify(model.parse(opts.text, parseOptions)))
        else {
          const file = path.resolve(io.cwd, opts.file!)
          const rows = (await readTextFile(file, { maxBytes: 512 * 1024 * 1024 })).split('\n')
          const progress = rows.length > 20_000 ? createProgress(io, 'predict', rows.length) : undefined
          rows.forEach((line, i) => {
            if (line.trim() === '') return
            let message: unknown
            try {
              message = JSON.parse(line)
            } catch (err) {
              throw createError(
                'ERR_NLU_MESSAGE_INVALID',
                { detail: `not JSON: ${(err as Error).message}` },
                { location: { file, line: i + 1, column: 1 } },
              )
            }
            try {
              lines.push(JSON.stringify(model.parse(message as never, parseOptions)))
            } catch (err) {
              if (isIntentopsError(err) && err.code === 'ERR_NLU_MESSAGE_INVALID') {
                throw createError(
                  'ERR_NLU_MESSAGE_INVALID',
                  { detail: err.params.detail },
                  { location: { file, line: i + 1, column: 1 } },
                )
              }
              throw err
            }
            if (progress && (i & 4095) === 0) progress.update(i)
          })
          progress?.update(rows.length)
          progress?.stop()
        }
        const text = lines.length ? `${lines.join('\n')}\n` : ''
        if (opts.out) {
          // The results repeat the messages' texts: readable by no more people than the file they came from.
          const mode = opts.file === undefined ? undefined : await modeOfCopy(path.resolve(io.cwd, opts.file))
          await writeFileAtomic(path.resolve(io.cwd, opts.out), text, { mode })
        } else io.stdout(text)
      },
    )

  program
    .command('shell')
    .description('type a message, see its parse; an empty line or Ctrl-D ends')
    .option('-m, --model <file>', `model file (default: ${DEFAULT_MODEL_PATH} in the project)`)
    .option('-c, --config <file>', 'config file that locates the project (default: ./intentops.yml)')
    .option('--top-k <n>', 'intents shown in intent_ranking', '5')
    .action(async (opts: { model?: string; config?: string; topK: string }) => {
      const readline = await import('node:readline')
      const topK = await intOption('--top-k', opts.topK, 0, 1_000_000)
      const model = await openModel(io, opts)
      if (!io.stdin) throw createError('ERR_CLI_USAGE', { detail: 'intentops shell needs an input stream' })
      io.stderr(
        `loaded '${model.manifest.name}' (${model.labels.length} intents); type a message, empty line to quit\n`,
      )
      const rl = readline.createInterface({ input: io.stdin, terminal: false })
      if (io.isTTY) io.stderr('> ')
      for await (const line of rl) {
        if (line.trim() === '') break
        io.stdout(`${JSON.stringify(model.parse(line, { topK }), null, 2)}\n`)
        if (io.isTTY) io.stderr('> ')
      }
      rl.close()
    })
}

async function openModel(io: CliIO, opts: { model?: string; config?: string }) {
  const path = await import('node:path')
  const { loadModel } = await import('../../nlu/model-file.js')
  if (opts.model) return loadModel(path.resolve(io.cwd, opts.model))
  const { loadConfig } = await import('../../project/config.js')
  const loaded = await loadConfig({ dir: io.cwd, explicit: opts.config })
  return loadModel(path.resolve(loaded.root, DEFAULT_MODEL_PATH))
}

function fraction(name: string, value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw usage(`${name} must be a number in [0, 1], got "${value}"`)
  }
  return n
}

function usage(detail: string) {
  return createError('ERR_CLI_USAGE', { detail })
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}
