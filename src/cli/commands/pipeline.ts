/**
 * Pipeline commands: `pipeline run|status`, `runs list|show`, `metrics history`, `deploy` and `retrain`. The work
 * happens in `src/pipeline/`, imported lazily.
 * @module
 */
import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { intOption } from '../options.js'

type Progress = import('../progress.js').Progress
type RunRecord = import('../../pipeline/runner.js').RunRecord

/** The project root: where intentops.yml is, else the working directory. */
async function findRoot(io: CliIO): Promise<string> {
  const { loadConfig } = await import('../../project/config.js')
  return (await loadConfig({ dir: io.cwd })).root
}

const seconds = (ms: number) => (ms < 100 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`)

/** One bar per stage, drawn only once the stage has taken over a second. */
async function stageProgress(io: CliIO, quiet: boolean | undefined) {
  const { createProgress } = await import('../progress.js')
  let stage: string | undefined
  let started = 0
  let bar: Progress | undefined
  return {
    update(name: string, fraction: number, note?: string) {
      if (quiet) return
      if (name !== stage) {
        bar?.stop()
        bar = undefined
        stage = name
        started = Date.now()
      }
      if (!bar && Date.now() - started > 1000) bar = createProgress(io, name, 100)
      bar?.update(Math.round(Math.min(1, Math.max(0, fraction)) * 100), 100, note)
    },
    stop() {
      bar?.stop()
      bar = undefined
      stage = undefined
    },
  }
}

interface RunFlags {
  config?: string
  from?: string
  until?: string
  promote?: boolean
  publish?: boolean
  strictNotify?: boolean
  author?: string
  registry?: string
  json?: boolean
}

/** Run the pipeline and print it; shared by `pipeline run` and `retrain`. Returns the record. */
export async function runAndPrint(
  io: CliIO,
  opts: RunFlags,
  extra: { heading?: string; json?: (record: RunRecord) => unknown } = {},
) {
  const { loadConfig } = await import('../../project/config.js')
  const { readTextFile } = await import('../../util/fs.js')
  const { runPipeline, pipelineError } = await import('../../pipeline/run.js')
  const { config, root, file } = await loadConfig({ dir: io.cwd, ...(opts.config ? { explicit: opts.config } : {}) })
  const eventPath = io.env.GITHUB_EVENT_PATH
  const eventPayload = eventPath ? JSON.parse(await readTextFile(eventPath).catch(() => 'null')) : undefined
  const progress = await stageProgress(io, opts.json)
  const location = opts.registry ?? io.env.INTENTOPS_REGISTRY
  if (extra.heading && !opts.json) io.stdout(`${extra.heading}\n`)
  let record: Awaited<ReturnType<typeof runPipeline>>
  try {
    record = await runPipeline({
      root,
      config,
      ...(file ? { configFile: file } : {}),
      env: io.env,
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.until ? { until: opts.until } : {}),
      ...(opts.publish === false ? { publish: false } : {}),
      ...(opts.promote === false ? { promote: false } : {}),
      strictNotify: opts.strictNotify === true,
      ...(opts.author ? { author: opts.author } : {}),
      ...(location ? { registryLocation: location } : {}),
      ...(eventPayload ? { eventPayload } : {}),
      ...(io.interrupt ? { signal: io.interrupt() } : {}),
      onProgress: (stage, f, note) => progress.update(stage, f, note),
      onStage: (e) => {
        if (e.phase !== 'end' || opts.json) return
        progress.stop()
        const r = e.record!
        if (r.status === 'skipped' && r.reason?.startsWith('after --until')) return
        io.stdout(
          `${r.name.padEnd(9)} ${r.status.padEnd(8)} ${r.status === 'ran' || r.status === 'failed' ? seconds(r.durationMs).padStart(7) : ''.padStart(7)}  ${r.reason ?? ''}\n`,
        )
      },
    })
  } finally {
    progress.stop()
  }
  const path = await import('node:path')
  if (opts.json) io.stdout(`${JSON.stringify(extra.json ? extra.json(record) : record, null, 2)}\n`)
  else {
    const s = record.summary ?? {}
    const lines: string[] = []
    const train = record.stages.find((x) => x.name === 'train')
    if (train?.status === 'cached') lines.push('training data and config unchanged: trained nothing')
    const gate = record.stages.find((x) => x.name === 'gate')
    if (gate?.status === 'ran' && gate.outputs?.upToDate) lines.push(String(gate.reason))
    else if (s.gate) lines.push(`gate: ${s.gate}`)
    const promoted = s.promoted as { alias: string; version: number } | undefined
    const publish = record.stages.find((x) => x.name === 'publish')
    if (promoted) lines.push(`${config.name} v${promoted.version} is now ${promoted.alias}`)
    else if (publish?.status === 'ran' && publish.outputs?.version !== undefined)
      lines.push(
        `published ${config.name} v${publish.outputs.version}${publish.outputs.reused ? ' (already published)' : ''}`,
      )
    if (s.report) lines.push(`report: ${path.relative(io.cwd, path.resolve(root, String(s.report)))}`)
    const notify = record.stages.find((x) => x.name === 'notify')?.outputs as
      | { failures?: string[]; pr?: { provider: string; number: number; action: string | null } | null }
      | undefined
    if (notify?.pr?.action) lines.push(`report ${notify.pr.action} on ${notify.pr.provider} #${notify.pr.number}`)
    lines.push(`run ${record.id}: ${record.status}`)
    io.stdout(`${lines.join('\n')}\n`)
    for (const f of notify?.failures ?? []) io.stderr(`warning: ${f}\n`)
  }
  const err = pipelineError(record)
  if (err) throw err
  return record
}

export function register(program: Command, io: CliIO): void {
  const pipeline = program.command('pipeline').description('the staged pipeline: validate → train → test → promote')
  const stageList = 'validate, train, test, compare, gate, publish, promote, deploy, report, notify'

  pipeline
    .command('run')
    .description(`run the stages (${stageList}); unchanged stages come from the cache`)
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option('--until <stage>', 'stop after this stage')
    .option('--from <stage>', 'take the stages before this one from the cache, whatever changed')
    .option('--no-promote', 'publish a passing candidate but leave the alias where it is')
    .option('--no-publish', 'publish nothing (pull-request runs): stop at the gate, then report and notify')
    .option('--strict-notify', 'fail the run when a webhook or the pull-request API cannot be reached')
    .option('--author <name>', 'who publishes and promotes (default: INTENTOPS_AUTHOR or the git user)')
    .option('--registry <path>', 'registry location (default: INTENTOPS_REGISTRY or registry.path)')
    .option('--json', 'print the run record as JSON')
    .action(async (opts: RunFlags) => {
      await runAndPrint(io, opts)
    })

  pipeline
    .command('status')
    .description('show which stages are stale and why, without running anything')
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option('--registry <path>', 'registry location (default: INTENTOPS_REGISTRY or registry.path)')
    .option('--json', 'print JSON')
    .action(async (opts: { config?: string; registry?: string; json?: boolean }) => {
      const { loadConfig } = await import('../../project/config.js')
      const { pipelineStatus } = await import('../../pipeline/run.js')
      const { config, root } = await loadConfig({ dir: io.cwd, ...(opts.config ? { explicit: opts.config } : {}) })
      const location = opts.registry ?? io.env.INTENTOPS_REGISTRY
      const states = await pipelineStatus({
        root,
        config,
        env: io.env,
        ...(location ? { registryLocation: location } : {}),
      })
      if (opts.json) io.stdout(`${JSON.stringify(states, null, 2)}\n`)
      else {
        for (const s of states) io.stdout(`${s.name.padEnd(9)} ${s.state.padEnd(10)} ${s.reason}\n`)
        const stale = states.filter((s) => s.state === 'stale')
        io.stdout(stale.length ? `${stale.length} stale: the next run starts at ${stale[0]!.name}\n` : 'up to date\n')
      }
    })

  const runs = program.command('runs').description('pipeline run records in .intentops/runs/')
  runs
    .command('list')
    .description('list pipeline runs, newest first')
    .option('-n, --limit <n>', 'show at most this many', '20')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const { listRuns } = await import('../../pipeline/runner.js')
      const { stateDirOf } = await import('../../pipeline/run.js')
      const limit = await intOption('--limit', opts.limit, 1)
      const list = (await listRuns(stateDirOf(await findRoot(io)))).slice(0, limit)
      if (opts.json) {
        io.stdout(`${JSON.stringify(list, null, 2)}\n`)
        return
      }
      if (list.length === 0) {
        io.stdout('no runs yet: run `intentops pipeline run`\n')
        return
      }
      io.stdout('run                    status   trained  gate     macro F1  promoted\n')
      for (const r of list) {
        const s = r.summary ?? {}
        const m = s.metrics as { macroF1?: number } | undefined
        const p = s.promoted as { alias: string; version: number } | undefined
        io.stdout(
          `${r.id.padEnd(22)} ${r.status.padEnd(8)} ${(s.trained ? 'yes' : 'no').padEnd(8)} ${String(s.gate ?? '-').padEnd(8)} ${(m?.macroF1 !== undefined ? m.macroF1.toFixed(3) : '-').padEnd(9)} ${p ? `v${p.version} → ${p.alias}` : '-'}\n`,
        )
      }
    })
  runs
    .command('show')
    .description('show one run: stages, timings, outputs, gate decision and report paths')
    .argument('[id]', 'run id or a unique prefix (default: the latest)')
    .option('--json', 'print the run record as JSON')
    .action(async (id: string | undefined, opts: { json?: boolean }) => {
      const { findRun } = await import('../../pipeline/history.js')
      const { stateDirOf } = await import('../../pipeline/run.js')
      const r = await findRun(stateDirOf(await findRoot(io)), id)
      if (opts.json) {
        io.stdout(`${JSON.stringify(r, null, 2)}\n`)
        return
      }
      const lines = [`run ${r.id}: ${r.status}`, `  started  ${r.startedAt}`, `  finished ${r.finishedAt}`, '']
      for (const s of r.stages) {
        lines.push(
          `  ${s.name.padEnd(9)} ${s.status.padEnd(8)} ${s.status === 'ran' || s.status === 'failed' ? seconds(s.durationMs).padStart(7) : ''.padStart(7)}  ${s.reason ?? ''}`,
        )
        if (s.error) lines.push(`            ${s.error.code}: ${s.error.message}`)
      }
      const gate = r.stages.find((s) => s.name === 'gate')?.outputs?.rules as
        | Array<{ rule: string; status: string; reason: string }>
        | undefined
      if (gate) {
        lines.push('', '  gate:')
        for (const g of gate) lines.push(`    ${g.status.padEnd(4)} ${g.rule}: ${g.reason}`)
      }
      const s = r.summary ?? {}
      if (s.metrics) {
        const m = s.metrics as Record<string, number>
        lines.push('', `  metrics: accuracy ${m.accuracy?.toFixed(3)}, macro F1 ${m.macroF1?.toFixed(3)}`)
      }
      if (s.report) lines.push(`  report: ${s.report}`)
      io.stdout(`${lines.join('\n')}\n`)
    })

  program
    .command('metrics')
    .description('metrics across pipeline runs')
    .command('history')
    .description('accuracy and macro F1 of every run over time, as a table and a Vega-Lite SVG chart')
    .option('-n, --limit <n>', 'the last n runs', '50')
    .option('-o, --out <file.svg>', 'chart file', '.intentops/report/metrics-history.svg')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; out: string; json?: boolean }) => {
      const path = await import('node:path')
      const { metricsHistory, metricsHistorySpec } = await import('../../pipeline/history.js')
      const { renderSvg } = await import('../../eval/render/svg.js')
      const { writeFileAtomic } = await import('../../util/fs.js')
      const { stateDirOf } = await import('../../pipeline/run.js')
      const limit = await intOption('--limit', opts.limit, 1)
      const root = await findRoot(io)
      const points = await metricsHistory(stateDirOf(root), limit)
      let chart: string | undefined
      if (points.length > 0) {
        chart = path.resolve(root, opts.out)
        await writeFileAtomic(chart, await renderSvg(metricsHistorySpec(points)))
      }
      if (opts.json) {
        io.stdout(`${JSON.stringify({ points, chart: chart ?? null }, null, 2)}\n`)
        return
      }
      if (points.length === 0) {
        io.stdout('no runs with metrics yet: run `intentops pipeline run`\n')
        return
      }
      io.stdout(
        'finished              run                    accuracy  macro F1  weighted F1  must-pass  trained  gate\n',
      )
      for (const p of points) {
        io.stdout(
          `${p.at.slice(0, 19).replace('T', ' ')}   ${p.run.padEnd(22)} ${p.accuracy.toFixed(3).padEnd(9)} ${p.macroF1.toFixed(3).padEnd(9)} ${p.weightedF1.toFixed(3).padEnd(12)} ${(p.mustPass ?? '-').padEnd(10)} ${(p.trained ? 'yes' : 'no').padEnd(8)} ${p.gate ?? '-'}\n`,
        )
      }
      io.stdout(`chart: ${path.relative(io.cwd, chart!)}\n`)
    })

  program
    .command('deploy')
    .description('tell a running server to load a model: PUT /model on its admin API (expects 204)')
    .requiredOption('--server <url>', 'base URL of the server, e.g. http://localhost:5005')
    .option('--token <token>', 'admin token (default: INTENTOPS_ADMIN_TOKEN)')
    .option('--version <v>', 'registry version to load: 7, v7 or latest')
    .option('--alias <name>', 'alias to load, e.g. production (default when no --version)')
    .option('--model-file <path>', 'a model file path the server can read')
    .option('--retries <n>', 'attempts, with backoff, on network errors and 5xx', '4')
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: {
        server: string
        token?: string
        version?: string
        alias?: string
        modelFile?: string
        retries: string
        json?: boolean
      }) => {
        const { createError } = await import('../../errors.js')
        const { deployModel } = await import('../../pipeline/deploy.js')
        const chosen = [opts.version, opts.alias, opts.modelFile].filter((x) => x !== undefined)
        if (chosen.length > 1) {
          throw createError('ERR_CLI_USAGE', { detail: 'give one of --version, --alias and --model-file' })
        }
        const token = opts.token ?? io.env.INTENTOPS_ADMIN_TOKEN
        if (!token) throw createError('ERR_CLI_USAGE', { detail: '--token (or INTENTOPS_ADMIN_TOKEN) is required' })
        if (!/^https?:\/\//.test(opts.server)) {
          throw createError('ERR_CLI_USAGE', { detail: `--server must be an http(s) URL, got "${opts.server}"` })
        }
        const attempts = await intOption('--retries', opts.retries, 1)
        const model = chosen[0] ?? 'production'
        const res = await deployModel({ server: opts.server, token, model }, { attempts })
        if (opts.json) io.stdout(`${JSON.stringify({ model, ...res }, null, 2)}\n`)
        if (!res.ok) {
          throw createError('ERR_DEPLOY_FAILED', {
            server: opts.server,
            model,
            detail: res.error ?? `HTTP ${res.status}`,
          })
        }
        if (!opts.json) io.stdout(`${opts.server} now serves ${model}\n`)
      },
    )

  program
    .command('retrain')
    .description(
      'export reviewed corrections into the training data, then run the pipeline (for cron and CI schedules)',
    )
    .option('-c, --config <file>', 'config file (default: intentops.yml)')
    .option('--git-branch <name>', 'commit the exported corrections on this new branch before running')
    .option('--no-promote', 'publish a passing candidate but leave the alias where it is')
    .option('--strict-notify', 'fail the run when a webhook cannot be reached')
    .option('--registry <path>', 'registry location (default: INTENTOPS_REGISTRY or registry.path)')
    .option('--json', 'print the export result and the run record as JSON')
    .action(async (opts: RunFlags & { gitBranch?: string }) => {
      const { retrainExport } = await import('../../pipeline/retrain.js')
      const { locateLog, warnIfLogExposed } = await import('../log-files.js')
      const {
        loaded: { config, root },
        target,
      } = await locateLog(io, { ...(opts.config ? { config: opts.config } : {}) })
      // Before the export opens the log and anything is printed; a project that never served has none, and nothing
      // is said.
      warnIfLogExposed(io, target)
      const exported = await retrainExport({
        root,
        config,
        env: io.env,
        target,
        ...(opts.gitBranch ? { gitBranch: opts.gitBranch } : {}),
      })
      if (!opts.json) {
        for (const w of exported.warnings) io.stderr(`warning: ${w}\n`)
        io.stdout(`${exported.message}\n`)
      }
      await runAndPrint(io, opts, {
        ...(opts.json ? { json: (run) => ({ export: exported, run }) } : { heading: 'running the pipeline' }),
      })
    })
}
