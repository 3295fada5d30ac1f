import type { Command } from 'commander'
import type { Config } from '../../config/schema.js'
import type { KyselyPredictionStore } from '../../store/kysely-store.js'
import type { CliIO } from '../io.js'
import { intOption, TIME_FORMS_HELP } from '../options.js'

interface StoreOpts {
  config?: string
}

/** The project's config and its store (opened and migrated, after any warning about the log's files) for `fn`. */
async function withStore<T>(
  io: CliIO,
  opts: StoreOpts,
  fn: (p: { root: string; config: Readonly<Config>; store: KyselyPredictionStore }) => Promise<T>,
) {
  const { openLog } = await import('../log-files.js')
  const { loaded, store } = await openLog(io, opts)
  try {
    return await fn({ root: loaded.root, config: loaded.config, store })
  } finally {
    await store.close()
  }
}

const pct = (x: number) => `${Math.round(x * 100)}%`.padStart(4)
const oneLine = (s: string, max = 70) => {
  const t = s.replace(/\s+/g, ' ').trim()
  return t.length > max ? `${t.slice(0, max - 1)}…` : t
}

export function register(program: Command, io: CliIO): void {
  const review = program
    .command('review')
    .description('the review inbox: list, audit, export reviews into training data')

  review
    .command('list')
    .description('unreviewed messages, most uncertain first, grouped with their duplicates')
    .option('-c, --config <file>', 'config file (default: ./intentops.yml)')
    .option('--order <order>', 'confidence, margin, fallback or newest (default: review.order)')
    .option('--intent <name>', 'only messages the model gave this intent')
    .option('--model-version <v>', 'only messages of this model version')
    .option('--channel <name>', 'only messages from this channel')
    .option('--from <time>', `from this time (inclusive): ${TIME_FORMS_HELP} like 7d`)
    .option('--to <time>', `until this time (exclusive): ${TIME_FORMS_HELP} like 1h`)
    .option('--search <text>', 'only messages with these words (each matches a word start; quote a phrase)')
    .option('--limit <n>', 'messages to read (default: review.pageSize)')
    .option('--json', 'print the page as JSON')
    .action(
      async (
        opts: StoreOpts & {
          order?: string
          intent?: string
          modelVersion?: string
          channel?: string
          from?: string
          to?: string
          search?: string
          limit?: string
          json?: boolean
        },
      ) => {
        const { createError } = await import('../../errors.js')
        const { listInbox } = await import('../../review/inbox.js')
        const { parseTime } = await import('../../review/time.js')
        const orders = ['confidence', 'margin', 'fallback', 'newest'] as const
        if (opts.order !== undefined && !orders.includes(opts.order as (typeof orders)[number])) {
          throw createError('ERR_CLI_USAGE', { detail: `--order must be one of ${orders.join(', ')}` })
        }
        const limit = await intOption('--limit', opts.limit, 1, 10_000)
        const now = Date.now()
        const from = parseTime(opts.from, '--from', now)
        const to = parseTime(opts.to, '--to', now)
        await withStore(io, opts, async ({ config, store }) => {
          const page = await listInbox(
            store,
            {
              ...(opts.intent ? { intent: opts.intent } : {}),
              ...(opts.modelVersion ? { modelVersion: opts.modelVersion } : {}),
              ...(opts.channel ? { channel: opts.channel } : {}),
              ...(opts.search ? { search: opts.search } : {}),
              ...(from !== undefined ? { from } : {}),
              ...(to !== undefined ? { to } : {}),
            },
            {
              order: (opts.order as (typeof orders)[number] | undefined) ?? config.review.order,
              pageSize: limit ?? config.review.pageSize,
              nearDuplicateThreshold: config.review.nearDuplicateThreshold,
            },
          )
          if (opts.json) {
            io.stdout(`${JSON.stringify(page, null, 2)}\n`)
            return
          }
          if (page.groups.length === 0) {
            io.stdout('nothing to review\n')
            return
          }
          for (const g of page.groups) {
            const extra = g.size > 1 ? ` (+${g.size - 1} similar)` : ''
            const fb = g.fallback ? ' fallback' : ''
            io.stdout(`${pct(g.confidence)}  ${g.intent}${fb}  ${oneLine(g.text)}${extra}  [${g.id}]\n`)
          }
          io.stdout(
            `${page.messages} message${page.messages === 1 ? '' : 's'} in ${page.groups.length} group${page.groups.length === 1 ? '' : 's'}, by ${page.order}${page.nextCursor ? '; more remain' : ''}\n`,
          )
        })
      },
    )

  review
    .command('audit')
    .description('who reviewed what and when, with the label before each decision')
    .option('-c, --config <file>', 'config file (default: ./intentops.yml)')
    .option('--reviewer <name>', 'only this reviewer')
    .option('--prediction <id>', 'only reviews of this message')
    .option('--from <time>', `from this time (inclusive): ${TIME_FORMS_HELP} like 7d`)
    .option('--to <time>', `until this time (exclusive): ${TIME_FORMS_HELP} like 1h`)
    .option('--limit <n>', 'most reviews to show, newest first', '100')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: StoreOpts & {
          reviewer?: string
          prediction?: string
          from?: string
          to?: string
          limit: string
          json?: boolean
        },
      ) => {
        const { listAudit } = await import('../../review/audit.js')
        const { parseTime } = await import('../../review/time.js')
        const limit = await intOption('--limit', opts.limit, 1)
        const now = Date.now()
        const from = parseTime(opts.from, '--from', now)
        const to = parseTime(opts.to, '--to', now)
        await withStore(io, opts, async ({ store }) => {
          const items = await listAudit(store, {
            ...(opts.reviewer ? { reviewer: opts.reviewer } : {}),
            ...(opts.prediction ? { predictionId: opts.prediction } : {}),
            ...(from !== undefined ? { from } : {}),
            ...(to !== undefined ? { to } : {}),
            limit,
          })
          if (opts.json) {
            io.stdout(`${JSON.stringify({ items }, null, 2)}\n`)
            return
          }
          if (items.length === 0) {
            io.stdout('no reviews\n')
            return
          }
          for (const a of items) {
            const label = a.intent ? `${a.previousIntent} → ${a.intent}` : a.previousIntent
            const ents = a.entities
              ? ` entities: ${a.entities.map((e) => `${e.entity}=${e.value}`).join(', ') || 'none'}`
              : ''
            const text = a.text ? `  "${oneLine(a.text, 50)}"` : a.action === 'delete' ? '  (deleted)' : ''
            io.stdout(`${new Date(a.ts).toISOString()}  ${a.reviewer}  ${a.action}  ${label}${ents}${text}\n`)
          }
        })
      },
    )

  review
    .command('export')
    .description("write reviewed messages into the training data: each intent's file, or data/reviewed.yml")
    .option('-c, --config <file>', 'config file (default: ./intentops.yml)')
    .option('--file <path>', 'YAML file for intents that have none yet (default: review.exportFile)')
    .option('--git-branch <name>', 'create this branch and commit the written files on it')
    .option('--dry-run', 'show what would be written, write and mark nothing')
    .option('--json', 'print the result as JSON')
    .action(async (opts: StoreOpts & { file?: string; gitBranch?: string; dryRun?: boolean; json?: boolean }) => {
      const path = await import('node:path')
      const { exportReviews } = await import('../../review/export.js')
      const { createProgress } = await import('../progress.js')
      await withStore(io, opts, async ({ root, config, store }) => {
        // the bar appears only once reading the reviews has taken over a second
        const started = Date.now()
        let bar: import('../progress.js').Progress | undefined
        const res = await exportReviews(store, {
          onProgress: (done, total) => {
            if (!bar && (Date.now() - started < 1000 || done >= total)) return
            bar ??= createProgress(io, 'reading reviews', total)
            bar.update(done, total)
          },
          root,
          config,
          ...(opts.file ? { file: path.relative(root, path.resolve(io.cwd, opts.file)) } : {}),
          ...(opts.gitBranch ? { gitBranch: opts.gitBranch } : {}),
          ...(opts.dryRun ? { dryRun: true } : {}),
          env: { ...process.env, ...io.env },
          cwd: io.cwd,
        })
        bar?.stop()
        if (opts.json) {
          io.stdout(`${JSON.stringify(res, null, 2)}\n`)
          return
        }
        for (const w of res.warnings) io.stderr(`warning: ${w}\n`)
        const n = res.written.length
        const verb = opts.dryRun ? 'would add' : 'added'
        io.stdout(
          `${verb} ${n} example${n === 1 ? '' : 's'}${res.files.length ? ` to ${res.files.join(', ')}` : ''}; ` +
            `${res.duplicates.length} already in the training data, ${res.conflicts.length} conflict${res.conflicts.length === 1 ? '' : 's'}\n`,
        )
        for (const c of res.conflicts) {
          const where = c.existing.source
            ? `${c.existing.source.file}${c.existing.source.line ? `:${c.existing.source.line}` : ''}`
            : `message ${c.existing.predictionId}`
          io.stdout(`conflict: "${c.text}" reviewed as ${c.intent}, but ${where} has it as ${c.existing.intent}\n`)
        }
        if (res.conflicts.length) {
          io.stdout(
            '  conflicts are not written; relabel them in the inbox or fix the training data, then export again\n',
          )
        }
        if (res.branch) io.stdout(`committed ${res.commit?.slice(0, 12)} on branch ${res.branch}\n`)
        else if (opts.gitBranch && res.files.length && opts.dryRun)
          io.stdout(`would commit on a new branch ${opts.gitBranch}\n`)
        else if (opts.gitBranch && !res.files.length)
          io.stdout(`nothing to commit, so branch ${opts.gitBranch} was not created\n`)
        io.stdout(`\n${res.markdown}\n`)
      })
    })
}
