/**
 * Prediction-log and token commands: `log purge|export|stats|rollups` and `tokens create|list|revoke`. Each opens the store
 * from `intentops.yml` (or `--store`) and calls into `src/store/`, imported lazily.
 * @module
 */
import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { TIME_FORMS_HELP } from '../options.js'

interface StoreOptions {
  config?: string
  store?: string
  json?: boolean
}

interface FilterOptions {
  from?: string
  to?: string
  intent?: string
  modelVersion?: string
  channel?: string
  search?: string
  reviewed?: boolean
  unreviewed?: boolean
}

const DAY_MS = 86_400_000

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (default: ./intentops.yml)')
    .option('--store <location>', 'SQLite file or postgres:// URL (default: `store` in intentops.yml)')
}

/**
 * A time for `--before`, `--from`, `--to`: an ISO date (`2026-01-31`, midnight UTC), an ISO date-time (UTC unless it
 * has an offset), epoch ms, or an age such as `30d`, `12h` or `30m` (that long before now; `m` is minutes).
 */
export async function parseTime(value: string, flag: string, now = Date.now()): Promise<number> {
  const { createError } = await import('../../errors.js')
  const { badTimeDetail, parseTimeInput } = await import('../../util/time.js')
  const t = parseTimeInput(value, now)
  if (!t.ok) throw createError('ERR_CLI_USAGE', { detail: badTimeDetail(flag, value, t.problem) })
  return t.ms
}

/**
 * Open the store for `fn` (`--store`, else INTENTOPS_STORE, else the config's). Only `tokens create` may start a new
 * log (`create`); the others read or tend one, so a missing file is a mistyped path or a server that never ran, not a
 * reason to make an empty database.
 */
async function withStore<T>(
  io: CliIO,
  opts: StoreOptions,
  fn: (
    store: import('../../store/kysely-store.js').KyselyPredictionStore,
    config: import('../../config/schema.js').StoreConfig,
  ) => Promise<T>,
  { create = false }: { create?: boolean } = {},
): Promise<T> {
  const { openLog } = await import('../log-files.js')
  const { loaded, store } = await openLog(io, opts, { create })
  try {
    return await fn(store, loaded.config.store)
  } finally {
    await store.close()
  }
}

async function filters(opts: FilterOptions) {
  const { createError } = await import('../../errors.js')
  if (opts.reviewed && opts.unreviewed) {
    throw createError('ERR_CLI_USAGE', { detail: '--reviewed and --unreviewed exclude each other' })
  }
  const now = Date.now()
  return {
    ...(opts.from ? { from: await parseTime(opts.from, '--from', now) } : {}),
    ...(opts.to ? { to: await parseTime(opts.to, '--to', now) } : {}),
    ...(opts.intent ? { intent: opts.intent } : {}),
    ...(opts.modelVersion ? { modelVersion: opts.modelVersion } : {}),
    ...(opts.channel ? { channel: opts.channel } : {}),
    ...(opts.search ? { search: opts.search } : {}),
    ...(opts.reviewed ? { reviewed: true } : {}),
    ...(opts.unreviewed ? { reviewed: false } : {}),
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString())

export function register(program: Command, io: CliIO): void {
  const log = program.command('log').description('the prediction log: purge, export, stats, rollups')

  common(log.command('purge').description('delete logged predictions (and their reviews) older than a date'))
    .option('--before <date>', `cut-off: ${TIME_FORMS_HELP} like 90d (default: store.retentionDays)`)
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .option('-y, --yes', 'delete without asking, even when the purge would empty the log')
    .option('--json', 'print JSON')
    .action(async (opts: StoreOptions & { before?: string; dryRun?: boolean; yes?: boolean }) => {
      const { createError } = await import('../../errors.js')
      const { confirm } = await import('../confirm.js')
      await withStore(io, opts, async (store, config) => {
        const now = Date.now()
        let before: number
        if (opts.before) before = await parseTime(opts.before, '--before', now)
        else if (config.retentionDays !== undefined) before = now - config.retentionDays * DAY_MS
        else {
          throw createError('ERR_CLI_USAGE', {
            detail: 'give --before DATE, or set store.retentionDays in intentops.yml',
          })
        }
        const plural = (n: number) => `${n} prediction${n === 1 ? '' : 's'}`
        const report = (purged: number, dryRun: boolean) => {
          if (opts.json) io.stdout(`${JSON.stringify({ purged, before: iso(before), dryRun })}\n`)
          else io.stdout(`${dryRun ? 'would purge' : 'purged'} ${plural(purged)} logged before ${iso(before)}\n`)
        }
        const doomed = await store.countPredictions({ to: before })
        if (opts.dryRun) return report(doomed, true)
        // A cut-off typed by hand that reaches now (`0d`, a date in the future) or past the newest prediction empties
        // the log: asked for, not assumed. The configured retention is a standing decision and never asks, so that a
        // scheduled purge keeps the promise it makes even when the log went quiet for longer than it.
        if (opts.before && doomed > 0) {
          const total = await store.countPredictions()
          const reason =
            before >= now
              ? `--before ${opts.before} (${iso(before)}) is not in the past`
              : doomed === total
                ? `--before ${opts.before} (${iso(before)}) is after the newest prediction`
                : undefined
          if (reason) {
            const what = `${doomed === total ? `all ${plural(doomed)} in the log` : `${plural(doomed)} of ${total}`} and their reviews`
            const go = await confirm(io, {
              yes: opts.yes === true,
              command: 'log purge',
              detail: `${reason}: it would delete ${what}`,
              question: `${reason}: delete ${what}?`,
            })
            if (!go) {
              io.stderr('nothing purged\n')
              io.exitCode = 1
              return
            }
          }
        }
        report(await store.purgePredictions(before), false)
      })
    })

  common(log.command('export').description('write logged predictions as JSONL or CSV, oldest first'))
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('-o, --out <file>', 'write to this file, atomically, readable by its owner alone (default and -: stdout)')
    .option('--from <date>', `only predictions at or after this time: ${TIME_FORMS_HELP} like 30d`)
    .option('--to <date>', `only predictions before this time: ${TIME_FORMS_HELP} like 12h`)
    .option('--intent <name>', 'only this predicted intent')
    .option('--model-version <version>', 'only this model version')
    .option('--channel <name>', 'only this channel')
    .option('--search <text>', 'only messages with these words (each matches a word start; quote a phrase)')
    .option('--reviewed', 'only reviewed predictions')
    .option('--unreviewed', 'only predictions nobody reviewed')
    .option('--include-deleted', 'also predictions deleted by review (junk, PII; their text is erased), for audits')
    .action(async (opts: StoreOptions & FilterOptions & { format: string; out?: string; includeDeleted?: boolean }) => {
      const path = await import('node:path')
      const { exportPredictions, exportQuery, writeStreamAtomic } = await import('../../store/export.js')
      const { createProgress } = await import('../progress.js')
      const format = opts.format as 'jsonl' | 'csv'
      const includeDeleted = opts.includeDeleted === true
      const query = exportQuery(await filters(opts), includeDeleted)
      await withStore(io, opts, async (store) => {
        if (!opts.out || opts.out === '-') {
          await exportPredictions(store, query, { format, includeDeleted, write: (chunk) => io.stdout(chunk) })
          return
        }
        const out = path.resolve(io.cwd, opts.out)
        const total = await store.countPredictions(query)
        const started = Date.now()
        let bar: ReturnType<typeof createProgress> | undefined
        const n = await writeStreamAtomic(out, (write) =>
          exportPredictions(store, query, {
            format,
            includeDeleted,
            write,
            onProgress: (done) => {
              if (!bar && Date.now() - started > 1000) bar = createProgress(io, 'exporting', total)
              bar?.update(done, total)
            },
          }),
        )
        bar?.stop()
        io.stderr(`wrote ${n} prediction${n === 1 ? '' : 's'} to ${opts.out}\n`)
      })
    })

  common(log.command('stats').description('count logged predictions, reviews and tokens'))
    .option('--json', 'print JSON')
    .action(async (opts: StoreOptions) => {
      await withStore(io, opts, async (store) => {
        const s = await store.stats()
        if (opts.json) {
          io.stdout(`${JSON.stringify({ backend: store.dialect, location: store.location, ...s }, null, 2)}\n`)
          return
        }
        const lines = [
          `store        ${store.dialect} ${store.location}`,
          `predictions  ${s.predictions} (${s.unreviewed} unreviewed, ${s.reviewed} reviewed, ${s.fallback} fallback)`,
          `deleted      ${s.deleted} (by review: junk, PII; not counted above)`,
          `time range   ${iso(s.oldest)} … ${iso(s.newest)}`,
          `reviews      ${s.reviews} (${s.exportedReviews} exported)`,
          `live tokens  ${s.liveTokens}`,
        ]
        for (const [title, counts] of [
          ['by channel', s.byChannel],
          ['by model version', s.byModelVersion],
        ] as const) {
          const entries = Object.entries(counts)
          if (entries.length === 0) continue
          lines.push(`${title}:`)
          for (const [k, v] of entries) lines.push(`  ${k.padEnd(20)} ${v}`)
        }
        io.stdout(`${lines.join('\n')}\n`)
      })
    })

  common(
    log
      .command('rollups')
      .description(
        'recount the hourly analytics rollups from the logged predictions (after rows were changed outside intentops)',
      ),
  )
    .option('--from <date>', `first time to recount: ${TIME_FORMS_HELP} (default: the oldest prediction or rollup)`)
    .option('--to <date>', `recount before this time: ${TIME_FORMS_HELP} (default: after the newest)`)
    .option('--json', 'print JSON')
    .action(async (opts: StoreOptions & { from?: string; to?: string }) => {
      const { createError } = await import('../../errors.js')
      const { createProgress } = await import('../progress.js')
      const now = Date.now()
      const from = opts.from ? await parseTime(opts.from, '--from', now) : undefined
      const to = opts.to ? await parseTime(opts.to, '--to', now) : undefined
      if (from !== undefined && to !== undefined && to <= from) {
        throw createError('ERR_CLI_USAGE', { detail: `--to (${iso(to)}) must be after --from (${iso(from)})` })
      }
      await withStore(io, opts, async (store) => {
        const started = Date.now()
        let bar: ReturnType<typeof createProgress> | undefined
        const done = await store.rebuildRollups({
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          onProgress: ({ done, total }) => {
            if (!bar && Date.now() - started > 1000) bar = createProgress(io, 'recounting', total)
            bar?.update(done, total)
          },
        })
        bar?.stop()
        if (opts.json) {
          io.stdout(
            `${JSON.stringify(done ? { from: iso(done.fromHour), to: iso(done.toHour), predictions: done.predictions } : { predictions: 0 })}\n`,
          )
        } else if (!done) io.stdout('the log is empty: no rollups to recount\n')
        else {
          const hours = Math.round((done.toHour - done.fromHour) / 3_600_000)
          io.stdout(
            `recounted ${hours} hour${hours === 1 ? '' : 's'} (${iso(done.fromHour)} … ${iso(done.toHour)}) from ${done.predictions} prediction${done.predictions === 1 ? '' : 's'}\n`,
          )
        }
      })
    })

  const tokens = program.command('tokens').description('API tokens for the server and the review UI')

  common(tokens.command('create').description('create a token; it is printed once and only its hash is kept'))
    .requiredOption('--name <name>', 'a name to recognise it by (unique among live tokens)')
    .requiredOption('--role <role>', 'admin, annotator or client')
    .option('--json', 'print JSON')
    .action(async (opts: StoreOptions & { name: string; role: string }) => {
      await withStore(
        io,
        opts,
        async (store) => {
          const { token, record } = await store.createToken({
            name: opts.name,
            role: opts.role as 'admin' | 'annotator' | 'client',
          })
          if (opts.json) io.stdout(`${JSON.stringify({ token, ...record })}\n`)
          else io.stdout(`${token}\n`)
          io.stderr(`created ${record.role} token ${record.name} (${record.id}); copy it now, it is not shown again\n`)
        },
        { create: true },
      )
    })

  common(tokens.command('list').description('list tokens (never their values)'))
    .option('--json', 'print JSON')
    .action(async (opts: StoreOptions) => {
      await withStore(io, opts, async (store) => {
        const list = await store.listTokens()
        if (opts.json) {
          io.stdout(`${JSON.stringify(list, null, 2)}\n`)
          return
        }
        if (list.length === 0) {
          io.stdout('no tokens; create one with `intentops tokens create --name NAME --role ROLE`\n')
          return
        }
        const rows = list.map((t) => [
          t.id,
          t.name,
          t.role,
          iso(t.createdAt),
          t.revokedAt === undefined ? 'live' : `revoked ${iso(t.revokedAt)}`,
          t.lastUsedAt === undefined ? 'never used' : `used ${iso(t.lastUsedAt)}`,
        ])
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
        io.stdout(
          `${rows
            .map((r) =>
              r
                .map((c, i) => c.padEnd(widths[i]!))
                .join('  ')
                .trimEnd(),
            )
            .join('\n')}\n`,
        )
      })
    })

  common(tokens.command('revoke').description('revoke a live token by id or name').argument('<token>', 'id or name'))
    .option('--json', 'print JSON')
    .action(async (idOrName: string, opts: StoreOptions) => {
      const { createError } = await import('../../errors.js')
      await withStore(io, opts, async (store) => {
        if (!(await store.revokeToken(idOrName))) throw createError('ERR_STORE_TOKEN_NOT_FOUND', { token: idOrName })
        if (opts.json) io.stdout(`${JSON.stringify({ revoked: idOrName })}\n`)
        else io.stdout(`revoked ${idOrName}\n`)
      })
    })
}
