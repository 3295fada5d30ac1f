import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { intOption } from '../options.js'

export function register(program: Command, io: CliIO): void {
  const report = program.command('report').description('pull-request reports and notifications')

  report
    .command('publish')
    .description(
      'post a Markdown report on the current pull/merge request (one comment, updated in place) and set the commit status',
    )
    .requiredOption('-f, --file <report.md>', 'the Markdown report to post')
    .option('--status <pass|fail>', 'commit status to set', 'pass')
    .option('--summary <text>', 'one-line status description')
    .option('--target-url <url>', 'link shown with the commit status')
    .option('--strict', 'exit 1 when the code host cannot be reached (default: report and exit 0)')
    .option('--retries <n>', 'attempts per API call, with backoff', '4')
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: {
        file: string
        status: string
        summary?: string
        targetUrl?: string
        strict?: boolean
        json?: boolean
        retries: string
      }) => {
        const path = await import('node:path')
        const { readTextFile } = await import('../../util/fs.js')
        const { createError } = await import('../../errors.js')
        const { detectPrTarget, publishPrReport } = await import('../../pipeline/pr-publish.js')
        if (opts.status !== 'pass' && opts.status !== 'fail') {
          throw createError('ERR_CLI_USAGE', { detail: `--status must be pass or fail, got "${opts.status}"` })
        }
        const attempts = await intOption('--retries', opts.retries, 1)
        const markdown = await readTextFile(path.resolve(io.cwd, opts.file), { maxBytes: 1024 * 1024 })
        const eventPath = io.env.GITHUB_EVENT_PATH
        const payload = eventPath ? JSON.parse(await readTextFile(eventPath)) : undefined
        const target = detectPrTarget(io.env, payload)
        const passed = opts.status === 'pass'
        const summary = opts.summary ?? (passed ? 'intentops: gate passed' : 'intentops: gate failed')
        const res = await publishPrReport(
          target,
          { markdown, passed, summary, targetUrl: opts.targetUrl },
          { attempts },
        )
        if (opts.json) io.stdout(`${JSON.stringify(res, null, 2)}\n`)
        else {
          if (res.action)
            io.stdout(`report ${res.action} on ${target.provider} #${target.number} (comment ${res.commentId})\n`)
          if (res.statusSet) io.stdout(`commit status: ${passed ? 'pass' : 'fail'}\n`)
          for (const e of res.errors) io.stderr(`warning: ${e}\n`)
        }
        if (!res.ok && opts.strict) io.exitCode = 1
      },
    )

  report
    .command('notify')
    .description('send a notification to the webhooks in intentops.yml (and INTENTOPS_WEBHOOK_URL)')
    .requiredOption('--event <kind>', 'promoted | gate_failed | pipeline_failed | pipeline_passed | drift_alert')
    .requiredOption('--summary <text>', 'one line for people')
    .option('-c, --config <file>', 'config file')
    .option('--strict', 'exit 1 when a webhook cannot be reached')
    .action(async (opts: { event: string; summary: string; config?: string; strict?: boolean }) => {
      const { loadConfig } = await import('../../project/config.js')
      const { createError } = await import('../../errors.js')
      const { notify, webhookTargets } = await import('../../util/notify.js')
      const kinds = ['promoted', 'gate_failed', 'pipeline_failed', 'pipeline_passed', 'drift_alert'] as const
      const kind = kinds.find((k) => k === opts.event)
      if (!kind) throw createError('ERR_CLI_USAGE', { detail: `--event must be one of ${kinds.join(', ')}` })
      const { config } = await loadConfig({ dir: io.cwd, explicit: opts.config })
      const { targets, unresolved } = webhookTargets(config.notify, io.env)
      for (const e of unresolved) io.stderr(`warning: not sent: ${e.message}\n`)
      if (opts.strict && unresolved.length > 0) io.exitCode = 1
      if (targets.length === 0) {
        if (unresolved.length === 0)
          io.stderr('warning: no webhooks configured (notify.webhooks in intentops.yml or INTENTOPS_WEBHOOK_URL)\n')
        return
      }
      const reports = await notify(targets, { kind, summary: opts.summary }, { attempts: config.notify.retries })
      for (const r of reports) {
        if (r.ok) io.stdout(`sent to ${new URL(r.url).host} (${r.attempts} attempt${r.attempts > 1 ? 's' : ''})\n`)
        else
          io.stderr(`warning: ${new URL(r.url).host}: ${r.error ?? `HTTP ${r.status}`} after ${r.attempts} attempts\n`)
      }
      if (opts.strict && reports.some((r) => !r.ok)) io.exitCode = 1
    })

  report
    .command('pr')
    .description(
      'build the pull-request comment from the latest pipeline run: gate verdict, metric deltas against production, must-pass results, data diff and SVG charts',
    )
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option('--run <id>', 'build it from this run (default: the latest)')
    .option(
      '--base <ref>',
      'git revision to diff the data against (default: the CI base branch, else production’s commit)',
    )
    .option('-o, --out <dir>', 'where to write report.md and charts/ (default: stages.reportDir)')
    .option('--print', 'also print the Markdown')
    .action(async (opts: { config?: string; run?: string; base?: string; out?: string; print?: boolean }) => {
      const path = await import('node:path')
      const { loadConfig } = await import('../../project/config.js')
      const { findRun } = await import('../../pipeline/history.js')
      const { stateDirOf } = await import('../../pipeline/run.js')
      const { writePrReport } = await import('../../pipeline/pr-report.js')
      const { readTextFile } = await import('../../util/fs.js')
      const { config, root } = await loadConfig({ dir: io.cwd, ...(opts.config ? { explicit: opts.config } : {}) })
      const run = await findRun(stateDirOf(root), opts.run)
      const outputs = Object.fromEntries(run.stages.filter((s) => s.outputs).map((s) => [s.name, s.outputs!]))
      const halted = run.status === 'passed' ? undefined : run.status
      const written = await writePrReport(
        {
          root,
          config,
          env: io.env,
          ...(opts.base ? { baseRef: opts.base } : {}),
          ...(opts.out ? { outDir: path.resolve(io.cwd, opts.out) } : {}),
        },
        outputs,
        {
          stages: run.stages,
          ...(halted ? { halted } : {}),
          ...(run.interrupted ? { interrupted: run.interrupted } : {}),
        },
      )
      if (opts.print) io.stdout(await readTextFile(written.markdown))
      io.stdout(
        `wrote ${path.relative(io.cwd, written.markdown)} (${written.verdict}; ${written.charts.length} charts)\n`,
      )
    })
}
