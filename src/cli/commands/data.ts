import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { intOption } from '../options.js'

interface ProjectOpts {
  config?: string
  data?: string[]
}

/** The project root, its config and the data paths (root-relative) a data command works on. */
async function project(io: CliIO, opts: ProjectOpts) {
  const path = await import('node:path')
  const { loadConfig } = await import('../../project/config.js')
  const loaded = await loadConfig({ dir: io.cwd, ...(opts.config ? { explicit: opts.config } : {}) })
  const root = loaded.root
  const rel = (p: string) => path.relative(root, path.resolve(io.cwd, p)).split(path.sep).join('/') || '.'
  const data = opts.data?.length ? opts.data.map(rel) : [...loaded.config.data]
  return { root, config: loaded.config, file: loaded.file, data, rel }
}

/** Progress for loading that appears only once loading has taken over a second. */
async function loadProgress(io: CliIO, label: string) {
  const { createProgress } = await import('../progress.js')
  const started = Date.now()
  let bar: import('../progress.js').Progress | undefined
  return {
    onProgress(done: number, total: number) {
      if (!bar && (Date.now() - started < 1000 || done >= total)) return
      bar ??= createProgress(io, label, total)
      bar.update(done, total)
    },
    stop() {
      bar?.stop()
    },
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function register(program: Command, io: CliIO): void {
  const data = program.command('data').description('training data: validate, stats, split, diff, convert')

  data
    .command('validate')
    .description('check the training data and must-pass tests; every problem with file:line:column and a fix')
    .option(
      '-d, --data <path>',
      'data file or directory (repeatable; default: `data` in intentops.yml, else data/)',
      collect,
    )
    .option('-c, --config <file>', 'config file (default: ./intentops.yml when present)')
    .option('--json', 'print the report as JSON')
    .option('--strict', 'treat warnings as errors')
    .option(
      '--held-out',
      'check held-out data as `train --validation` does: no must-pass cases, no warnings about how many examples there are',
    )
    .action(async (opts: ProjectOpts & { json?: boolean; strict?: boolean; heldOut?: boolean }) => {
      const { validateProject } = await import('../../data/project.js')
      const { renderDiagnostics } = await import('../diagnostics.js')
      const pc = (await import('picocolors')).default.createColors(io.isTTY && !opts.json)
      const { root, config, file, data: paths } = await project(io, opts)
      const progress = await loadProgress(io, 'loading data')
      const report = await validateProject({
        root,
        data: paths,
        tests: [...config.tests],
        ...(file ? { configFile: file } : {}),
        validation: config.validation,
        fields: config.fields,
        heldOut: opts.heldOut === true,
        onProgress: progress.onProgress,
      })
      progress.stop()
      const failed = report.errorCount > 0 || (opts.strict === true && report.warningCount > 0)
      if (opts.json) {
        const { data: _data, cases: _cases, ...rest } = report
        const checked = { strict: opts.strict === true, heldOut: opts.heldOut === true }
        io.stdout(`${JSON.stringify({ ...rest, ...checked, passed: !failed }, null, 2)}\n`)
      } else {
        io.stdout(renderDiagnostics(report.diagnostics, pc))
        const nluFiles = report.files.filter((f) => f.isNlu).length
        const s = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`
        const summary =
          `${s(report.errorCount, 'error')}, ${s(report.warningCount, 'warning')} in ${s(nluFiles, 'data file')}` +
          ` (${s(report.counts.examples, 'example')}, ${s(report.counts.intents, 'intent')}, ${s(report.counts.mustPass, 'must-pass case')})`
        io.stdout(`${failed ? pc.red('✖') : pc.green('✔')} ${summary}\n`)
        if (!failed && report.warningCount === 0)
          io.stdout(`${opts.heldOut ? 'held-out data' : 'training data'} is valid\n`)
      }
      if (failed) io.exitCode = 1
    })

  data
    .command('stats')
    .description('counts per intent, entity and field')
    .option('-d, --data <path>', 'data file or directory (repeatable)', collect)
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(async (opts: ProjectOpts & { json?: boolean }) => {
      const { loadTrainingData } = await import('../../data/load.js')
      const { dataStats } = await import('../../data/stats.js')
      const { root, data: paths } = await project(io, opts)
      const progress = await loadProgress(io, 'loading data')
      const stats = dataStats(await loadTrainingData(paths, { root, onProgress: progress.onProgress }))
      progress.stop()
      if (opts.json) {
        io.stdout(`${JSON.stringify(stats, null, 2)}\n`)
        return
      }
      io.stdout(renderStats(stats))
    })

  data
    .command('split')
    .description('stratified train/test split from a seed, written in the format of the input')
    .option('-d, --data <path>', 'data file or directory (repeatable)', collect)
    .option('-c, --config <file>', 'config file')
    .option('--test-fraction <x>', 'share of each intent that goes to test', '0.2')
    .option('--seed <n>', 'shuffle seed', '42')
    .option('-o, --out <dir>', 'output directory for train.* and test.*', 'split')
    .option('--format <name>', 'output format (yaml, rasa-json, nlpjs, csv, jsonl); default: the input format')
    .action(
      async (
        opts: ProjectOpts & { testFraction: string; seed: string; out: string; format?: string; json?: boolean },
      ) => {
        const path = await import('node:path')
        const { createError } = await import('../../errors.js')
        const { loadTrainingDataDetailed } = await import('../../data/load.js')
        const { diagnosticToError } = await import('../../data/diagnostics.js')
        const { splitTrainingData } = await import('../../data/split.js')
        const { DATA_FORMATS, isDataFormat } = await import('../../data/formats/index.js')
        const { formatTrainingData } = await import('../../data/write.js')
        const { writeFileAtomic } = await import('../../util/fs.js')
        const fraction = Number(opts.testFraction)
        const seed = await intOption('--seed', opts.seed, 0, 0xffffffff)
        if (!(fraction > 0 && fraction < 1)) {
          throw createError('ERR_CLI_USAGE', {
            detail: `--test-fraction must be between 0 and 1, got "${opts.testFraction}"`,
          })
        }
        if (opts.format !== undefined && !isDataFormat(opts.format)) {
          throw createError('ERR_CLI_USAGE', {
            detail: `--format must be one of ${Object.keys(DATA_FORMATS).join(', ')}`,
          })
        }
        const { root, data: paths } = await project(io, opts)
        const progress = await loadProgress(io, 'loading data')
        const loaded = await loadTrainingDataDetailed(paths, { root, onProgress: progress.onProgress })
        progress.stop()
        const first = loaded.diagnostics.find((d) => d.severity === 'error')
        if (first) throw diagnosticToError(first)
        const inputFormats = new Set(loaded.files.filter((f) => f.isNlu && f.examples > 0).map((f) => f.format))
        const format =
          opts.format && isDataFormat(opts.format)
            ? opts.format
            : inputFormats.size === 1
              ? [...inputFormats][0]!
              : 'yaml'
        const { train, test } = splitTrainingData(loaded.data, { testFraction: fraction, seed })
        const outDir = path.resolve(io.cwd, opts.out)
        const relDir = path.relative(root, outDir).split(path.sep).join('/')
        const ext = DATA_FORMATS[format].extension
        for (const [name, part] of [
          ['train', train],
          ['test', test],
        ] as const) {
          const file = path.join(outDir, `${name}${ext}`)
          await writeFileAtomic(file, formatTrainingData(part, format, relDir.startsWith('..') ? {} : { dir: relDir }))
          io.stdout(`wrote ${path.relative(io.cwd, file)} (${part.examples.length} examples)\n`)
        }
      },
    )

  data
    .command('diff')
    .description('what changed between two versions: git refs (default: the working tree) or paths')
    .argument('<a>', 'git ref or path of the old version')
    .argument('[b]', 'git ref or path of the new version (default: the working tree)')
    .option('-d, --data <path>', 'data paths inside each version (repeatable)', collect)
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON instead of Markdown')
    .action(async (a: string, b: string | undefined, opts: ProjectOpts & { json?: boolean }) => {
      const { loadDataVersion } = await import('../../data/version.js')
      const { diffTrainingData, renderDiffMarkdown } = await import('../../data/diff.js')
      const { root, data: paths } = await project(io, opts)
      const before = await loadDataVersion(a, { root, paths, cwd: io.cwd })
      const after = await loadDataVersion(b, { root, paths, cwd: io.cwd })
      const diff = diffTrainingData(before.data, after.data, { from: before.label, to: after.label })
      io.stdout(opts.json ? `${JSON.stringify(diff, null, 2)}\n` : renderDiffMarkdown(diff))
    })

  data
    .command('convert')
    .description('convert training data between formats (yaml, rasa-json, nlpjs, csv, jsonl)')
    .argument('<in>', 'input file or directory')
    .requiredOption('--to <format>', 'output format: yaml, rasa-json, nlpjs, csv or jsonl')
    .requiredOption('-o, --out <file>', 'output file')
    .action(async (input: string, opts: { to: string; out: string }) => {
      const path = await import('node:path')
      const { createError } = await import('../../errors.js')
      const { loadTrainingDataDetailed } = await import('../../data/load.js')
      const { diagnosticToError } = await import('../../data/diagnostics.js')
      const { DATA_FORMATS, isDataFormat } = await import('../../data/formats/index.js')
      const { formatTrainingData } = await import('../../data/write.js')
      const { writeFileAtomic } = await import('../../util/fs.js')
      if (!isDataFormat(opts.to)) {
        throw createError('ERR_CLI_USAGE', {
          detail: `--to must be one of ${Object.keys(DATA_FORMATS).join(', ')}, got "${opts.to}"`,
        })
      }
      // Converting is not tied to a project: a file outside the working directory is read from its own directory.
      const abs = path.resolve(io.cwd, input)
      const inside = !path.relative(io.cwd, abs).startsWith('..')
      const root = inside ? io.cwd : path.dirname(abs)
      const rel = path.relative(root, abs).split(path.sep).join('/') || '.'
      const progress = await loadProgress(io, 'loading data')
      const loaded = await loadTrainingDataDetailed([rel], { root, onProgress: progress.onProgress })
      progress.stop()
      const first = loaded.diagnostics.find((d) => d.severity === 'error')
      if (first) throw diagnosticToError(first)
      const data = loaded.data
      const lossy = DATA_FORMATS[opts.to].lossy
      const kept =
        data.examples.length +
        (['synonyms', 'regexes', 'lookups'] as const).reduce((n, k) => n + (lossy.includes(k) ? 0 : data[k].length), 0)
      if (kept === 0) {
        // nothing to write: say which files were skipped and why instead of writing an empty file
        const { describeFiles } = await import('../../data/project.js')
        const ignored = loaded.diagnostics
          .filter((d) => d.code === 'WARN_DATA_IGNORED_FILE')
          .map((d) => d.message.replace(/; ignored$/, ''))
        const read = loaded.files.filter((f) => f.isNlu).map((f) => f.file)
        const why = ignored.length ? ` (${ignored.slice(0, 5).join('; ')})` : ''
        throw createError(
          'ERR_DATA_NO_EXAMPLES',
          {
            what: 'training data',
            detail: `${read.length ? `read ${describeFiles(read)}` : 'no training data file was read'}${why}; nothing was written`,
          },
          {
            hint: 'Convert a .yml/.yaml, .json, .csv or .jsonl file (or a directory of them) that holds examples; see docs/data-format.md.',
          },
        )
      }
      const lost = lossy.filter((k) =>
        k === 'metadata'
          ? data.examples.some((e) => e.metadata)
          : k === 'intent metadata'
            ? data.intents.some((i) => i.metadata)
            : k === 'fields'
              ? data.examples.some((e) => e.fields)
              : k === 'entities'
                ? data.examples.some((e) => e.entities.length)
                : data[k].length > 0,
      )
      for (const k of lost) {
        if (k === 'entities') {
          const annotated = data.examples.filter((e) => e.entities.length)
          const spans = annotated.reduce((n, e) => n + e.entities.length, 0)
          io.stderr(
            `warning: ${opts.to} cannot hold entity annotations; ${spans} annotation${spans === 1 ? '' : 's'} in ` +
              `${annotated.length} example${annotated.length === 1 ? '' : 's'} are left out (the examples keep their plain text)\n`,
          )
        } else io.stderr(`warning: ${opts.to} cannot hold ${k}; they are left out\n`)
      }
      const out = path.resolve(io.cwd, opts.out)
      const outDir = path.relative(root, path.dirname(out)).split(path.sep).join('/')
      await writeFileAtomic(
        out,
        formatTrainingData(data, opts.to, outDir.startsWith('..') ? {} : { dir: outDir || '.' }),
      )
      io.stdout(`wrote ${path.relative(io.cwd, out)} (${data.examples.length} examples, ${opts.to})\n`)
    })
}

function renderStats(stats: import('../../data/stats.js').DataStats): string {
  const lines: string[] = []
  const n = (x: number, w: string, many = `${w}s`) => `${x} ${x === 1 ? w : many}`
  lines.push(
    [
      n(stats.examples, 'example'),
      n(stats.intents.length, 'intent'),
      n(stats.entities.length, 'entity type'),
      n(stats.synonyms, 'synonym'),
      n(stats.regexes, 'regex', 'regexes'),
      n(stats.lookups.length, 'lookup table'),
      `${stats.meanWords.toFixed(1)} words per example`,
    ].join(' · '),
    '',
  )
  const width = Math.max(6, ...stats.intents.map((i) => i.intent.length))
  const max = Math.max(1, ...stats.intents.map((i) => i.examples))
  lines.push(`${'intent'.padEnd(width)}  examples   share  entities`)
  for (const i of stats.intents) {
    const bar = '█'.repeat(Math.max(i.examples ? 1 : 0, Math.round((i.examples / max) * 20)))
    lines.push(
      `${i.intent.padEnd(width)}  ${String(i.examples).padStart(8)}  ${`${(i.share * 100).toFixed(1)}%`.padStart(6)}  ${String(i.entities).padStart(8)}  ${bar}`,
    )
  }
  if (stats.entities.length) {
    const ew = Math.max(6, ...stats.entities.map((e) => e.entity.length))
    lines.push('', `${'entity'.padEnd(ew)}  annotations  examples  roles / groups`)
    for (const e of stats.entities) {
      const rg = [...e.roles.map((r) => `role ${r}`), ...e.groups.map((g) => `group ${g}`)].join(', ')
      lines.push(
        `${e.entity.padEnd(ew)}  ${String(e.annotations).padStart(11)}  ${String(e.examples).padStart(8)}  ${rg}`,
      )
    }
  }
  if (stats.fields.length) {
    lines.push('', `fields: ${stats.fields.map((f) => `${f.field} (${f.examples} examples)`).join(', ')}`)
  }
  if (stats.lookups.length) {
    lines.push('', `lookups: ${stats.lookups.map((l) => `${l.name} (${l.elements})`).join(', ')}`)
  }
  return `${lines.join('\n')}\n`
}
