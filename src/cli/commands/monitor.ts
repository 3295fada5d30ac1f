/**
 * `intentops analytics <what>` and `intentops monitor`: read the prediction log of the project's store and print
 * tables, JSON, SVG charts or an HTML page. The work happens in `src/monitor/`, imported lazily.
 * @module
 */
import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { collect, intOption, TIME_FORMS_HELP, usage } from '../options.js'

/**
 * Prints what is going on when `work` takes over a second (a query has no progress to count). Only asynchronous
 * drivers let the timer fire: on PostgreSQL the note shows while waiting; a SQLite query blocks the event loop.
 */
async function slowNote<T>(io: CliIO, note: string, work: Promise<T>): Promise<T> {
  const timer = setTimeout(() => io.stderr(`${note}...\n`), 1000)
  try {
    return await work
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The project's config and its store, opened (and migrated) for reading after any warning about the log's files;
 * `close` closes the store.
 */
async function openProject(io: CliIO, configFile: string | undefined) {
  const { openLog } = await import('../log-files.js')
  const { loaded, store } = await openLog(io, { ...(configFile ? { config: configFile } : {}) })
  // drops the indexes earlier versions created for analytics (see monitor/indexes.ts)
  const { ensureAnalyticsIndexes } = await import('../../monitor/indexes.js')
  try {
    await ensureAnalyticsIndexes(store)
  } catch (err) {
    // A store left open would hold its pool (PostgreSQL) and keep the process from exiting with the error.
    await store.close().catch(() => {})
    throw err
  }
  const loadTraining = async () => {
    const { loadTrainingData } = await import('../../data/load.js')
    return loadTrainingData([...loaded.config.data], { root: loaded.root })
  }
  return { config: loaded.config, root: loaded.root, store, close: () => store.close(), loadTraining }
}

/**
 * Writes charts as `<dir>/<what>-<chart>.svg` and/or one HTML page; returns the paths written. They show words of
 * logged messages (top n-grams, unseen tokens), so only their owner may read them, as an export of the log.
 */
async function writeOutputs(
  io: CliIO,
  result: import('../../monitor/analytics.js').AnalyticsResult | import('../../monitor/drift.js').DriftReport,
  name: string,
  opts: { svg?: string; html?: string },
): Promise<string[]> {
  const path = await import('node:path')
  const { ensureDir, PRIVATE_FILE_MODE: mode, writeFileAtomic } = await import('../../util/fs.js')
  const { renderCharts, renderHtmlPage } = await import('../../monitor/render.js')
  const written: string[] = []
  if (opts.svg) {
    const dir = path.resolve(io.cwd, opts.svg)
    await ensureDir(dir)
    for (const [chart, svg] of Object.entries(await renderCharts(result))) {
      const file = path.join(dir, `${name}-${chart}.svg`)
      await writeFileAtomic(file, svg, { mode })
      written.push(file)
    }
  }
  if (opts.html) {
    const file = path.resolve(io.cwd, opts.html)
    await writeFileAtomic(file, await renderHtmlPage(result), { mode })
    written.push(file)
  }
  return written
}

interface AnalyticsOpts {
  config?: string
  from?: string
  to?: string
  bucket: string
  intent?: string
  channel?: string
  modelVersion?: string
  limit?: string
  maxMessages?: string
  json?: boolean
  svg?: string
  html?: string
}

export function register(program: Command, io: CliIO): void {
  program
    .command('analytics')
    .description(
      'what users say and how the model does on it, from the prediction log: intents | channels | rates | ngrams | emerging | corrections | latency',
    )
    .argument('<what>', 'intents | channels | rates | ngrams | emerging | corrections | latency')
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option('--from <time>', `start, inclusive: ${TIME_FORMS_HELP} like 30d (default: 7 days before --to)`)
    .option('--to <time>', `end, exclusive: ${TIME_FORMS_HELP} like 1d (default: now)`)
    .option('--bucket <day|hour>', 'time bucket of series', 'day')
    .option('--intent <name>', 'only predictions of this intent')
    .option('--channel <name>', 'only predictions from this channel')
    .option('--model-version <v>', 'only predictions of this model version')
    .option('--limit <n>', 'entries of top lists (ngrams, emerging)', '20')
    .option(
      '--max-messages <n>',
      'ngrams and emerging tokenize at most this many messages (more: a sample over the range, counts estimated)',
      '100000',
    )
    .option('--json', 'print the result as JSON')
    .option('--svg <dir>', 'write each chart as an SVG file into this directory')
    .option('--html <file>', 'write one HTML page with the charts and the table')
    .action(async (what: string, opts: AnalyticsOpts) => {
      const { ANALYTICS_KINDS, isAnalyticsKind, runAnalytics } = await import('../../monitor/analytics.js')
      const { parseInstant } = await import('../../monitor/window.js')
      const { formatAnalytics } = await import('../../monitor/format.js')
      const { createError } = await import('../../errors.js')
      if (!isAnalyticsKind(what))
        throw createError('ERR_ANALYTICS_UNKNOWN', { what, known: ANALYTICS_KINDS.join(', ') })
      if (opts.bucket !== 'day' && opts.bucket !== 'hour') {
        throw await usage(`--bucket must be day or hour, got "${opts.bucket}"`)
      }
      const limit = await intOption('--limit', opts.limit, 1)
      const maxMessages = await intOption('--max-messages', opts.maxMessages, 1)
      const now = Date.now()
      const query = {
        bucket: opts.bucket as 'day' | 'hour',
        ...(opts.from ? { from: parseInstant(opts.from, '--from', now) } : {}),
        ...(opts.to ? { to: parseInstant(opts.to, '--to', now) } : {}),
        ...(opts.intent ? { intent: opts.intent } : {}),
        ...(opts.channel ? { channel: opts.channel } : {}),
        ...(opts.modelVersion ? { modelVersion: opts.modelVersion } : {}),
      }
      const { config, store, close, loadTraining } = await openProject(io, opts.config)
      try {
        const result = await slowNote(
          io,
          `computing ${what}`,
          runAnalytics(store, what, query, {
            lowConfidence: config.monitor.lowConfidence,
            loadTraining,
            ...(limit !== undefined ? { limit } : {}),
            ...(maxMessages !== undefined ? { maxMessages } : {}),
          }),
        )
        const written = await writeOutputs(io, result, what, opts)
        if (opts.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`)
        else io.stdout(formatAnalytics(result))
        for (const f of written) io.stderr(`wrote ${f}\n`)
      } finally {
        await close()
      }
    })

  program
    .command('monitor')
    .description(
      'drift checks: compare recent traffic with the training data or a reference window; exit 1 and post to webhooks when a check fails',
    )
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option(
      '--window <duration>',
      'recent window ending now: a whole number of m (minutes), h, d or w, e.g. 30m, 24h, 7d, 2w (default: monitor.window)',
    )
    .option(
      '--reference <spec>',
      `training | a duration like 14d (the window just before) | FROM..TO, each ${TIME_FORMS_HELP}: 30d..7d is 30 to 7 days ago (default: monitor.reference)`,
    )
    .option('--webhook <url>', 'also post failures here, Slack-compatible {"text": ...} (repeatable)', collect)
    .option('--no-notify', 'do not post to any webhook')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'write one HTML page with the drift chart and the checks')
    .option('--svg <dir>', 'write the drift chart as an SVG file into this directory')
    .action(
      async (opts: {
        config?: string
        window?: string
        reference?: string
        webhook?: string[]
        notify: boolean
        json?: boolean
        html?: string
        svg?: string
      }) => {
        const { monitorDrift, alertDrift } = await import('../../monitor/monitor.js')
        const { formatDrift } = await import('../../monitor/format.js')
        const { webhookTargets } = await import('../../util/notify.js')
        const { createProgress } = await import('../progress.js')
        const { config, store, close, loadTraining } = await openProject(io, opts.config)
        let report: import('../../monitor/drift.js').DriftReport
        try {
          const training = await loadTraining()
          const started = Date.now()
          let bar: import('../progress.js').Progress | undefined
          report = await monitorDrift(store, training, config.monitor, {
            ...(opts.window ? { window: opts.window } : {}),
            ...(opts.reference ? { reference: opts.reference } : {}),
            onProgress: (read, total) => {
              if (!bar && Date.now() - started < 1000) return
              bar ??= createProgress(io, 'reading predictions', total)
              bar.update(read, total)
            },
          })
          bar?.stop()
        } finally {
          await close()
        }
        const written = await writeOutputs(io, report, 'drift', opts)
        if (opts.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`)
        else io.stdout(formatDrift(report))
        for (const f of written) io.stderr(`wrote ${f}\n`)
        if (!report.passed) {
          io.exitCode = 1
          if (opts.notify) {
            const configured = webhookTargets(config.notify, io.env)
            for (const e of configured.unresolved) io.stderr(`warning: alert not sent: ${e.message}\n`)
            const targets = [
              ...configured.targets,
              ...(opts.webhook ?? []).map((url) => ({ url, format: 'slack' as const })),
            ]
            const deliveries = await alertDrift(report, targets, { attempts: config.notify.retries })
            for (const d of deliveries) {
              if (d.ok) io.stderr(`alert sent to ${new URL(d.url).host}\n`)
              else
                io.stderr(
                  `warning: ${new URL(d.url).host}: ${d.error ?? `HTTP ${d.status}`} after ${d.attempts} attempts\n`,
                )
            }
          }
        }
      },
    )
}
