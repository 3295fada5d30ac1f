/**
 * The notify stage: webhooks on promotion, gate failure and pipeline failure, and, in a pull/merge-request
 * pipeline, the report posted as one comment plus a commit status. Delivery problems are collected, never thrown:
 * the stage decides (with `--strict-notify`) whether they fail the run.
 * @module
 */
import path from 'node:path'
import { readTextFile } from '../util/fs.js'
import { type NotifyEvent, notify, webhookTargets } from '../util/notify.js'
import { detectPrTarget } from './pr-publish.js'
import { verdictOf } from './pr-report.js'
import type { JsonRecord, RunSoFar } from './runner.js'
import type { PipelineContext } from './stages.js'

export interface Deliveries {
  event: NotifyEvent['kind'] | null
  webhooks: Array<{ host: string; ok: boolean; attempts: number; error: string | null }>
  pr: { provider: string; number: number; ok: boolean; action: string | null; statusSet: boolean } | null
  /** Why the PR report was not posted, when it was not. */
  prSkipped: string | null
  failures: string[]
}

/** Which event a run is: promotions, gate failures and pipeline failures are announced; quiet runs are not. */
export function runEvent(
  ctx: Pick<PipelineContext, 'config'>,
  up: Readonly<Record<string, JsonRecord>>,
  run: RunSoFar,
): NotifyEvent | null {
  const failed = run.stages.find((s) => s.status === 'failed')
  const name = ctx.config.name
  const details: NotifyEvent['details'] = { model: name, run: run.id }
  const f1 = (up.test?.summary as { macroF1?: number } | undefined)?.macroF1
  if (f1 !== undefined) details.macroF1 = Number(f1.toFixed(4))
  if (run.halted === 'aborted') {
    const at = run.interrupted ?? failed?.name ?? null
    return {
      kind: 'pipeline_failed',
      summary: `${name}: the run was aborted${at ? ` during stage ${at}` : ''}`,
      details: { ...details, aborted: true, stage: at, error: 'ERR_PIPELINE_ABORTED', reason: failed?.reason ?? null },
    }
  }
  if (failed?.name === 'gate' || (failed?.name === 'promote' && !failed.error)) {
    const rules = (up.gate?.failed as string[] | undefined) ?? []
    return {
      kind: 'gate_failed',
      summary: `${name}: the candidate failed the gate against ${String(up.gate?.alias ?? ctx.config.stages.alias)}`,
      details: { ...details, failed: rules.join('; ') },
    }
  }
  if (failed) {
    return {
      kind: 'pipeline_failed',
      summary: `${name}: stage ${failed.name} failed`,
      details: { ...details, stage: failed.name, error: failed.error?.code ?? null, reason: failed.reason ?? null },
    }
  }
  if (up.promote?.promoted && up.promote.changed) {
    const from = up.promote.from
    return {
      kind: 'promoted',
      summary: `${name} v${up.promote.version} is now ${String(up.promote.alias)}`,
      details: { ...details, version: Number(up.promote.version), from: from === null ? null : Number(from) },
    }
  }
  return null
}

/** Below GitHub's 65 536-character comment limit, with room for the marker and the truncation note. */
export const MAX_COMMENT_CHARS = 60_000

function inCi(env: PipelineContext['env']): boolean {
  return Boolean(env.GITHUB_ACTIONS || env.GITLAB_CI)
}

export async function deliverNotifications(
  ctx: PipelineContext,
  up: Readonly<Record<string, JsonRecord>>,
  run: RunSoFar | undefined,
  signal?: AbortSignal,
): Promise<Deliveries> {
  const retry = { ...ctx.retry, ...(signal ? { signal } : {}) }
  const soFar = run ?? { id: '', stages: [] }
  const out: Deliveries = { event: null, webhooks: [], pr: null, prSkipped: null, failures: [] }
  const event = runEvent(ctx, up, soFar)
  if (event) {
    out.event = event.kind
    const { targets, unresolved } = webhookTargets(ctx.config.notify, ctx.env)
    for (const e of unresolved) out.failures.push(`webhook not sent: ${e.message}`)
    const reports = await notify(targets, event, {
      attempts: ctx.config.notify.retries,
      ...retry,
    })
    for (const r of reports) {
      const host = new URL(r.url).host
      out.webhooks.push({ host, ok: r.ok, attempts: r.attempts, error: r.ok ? null : (r.error ?? `HTTP ${r.status}`) })
      if (!r.ok) out.failures.push(`webhook ${host}: ${r.error ?? `HTTP ${r.status}`} after ${r.attempts} attempts`)
    }
  }

  if (!inCi(ctx.env)) out.prSkipped = 'not running in CI'
  else if (!up.report?.markdown) out.prSkipped = 'no report was written'
  else {
    let target: ReturnType<typeof detectPrTarget> | undefined
    try {
      target = detectPrTarget(ctx.env, ctx.eventPayload)
    } catch (err) {
      // A branch pipeline (push to main, a schedule) has no pull request to comment on.
      out.prSkipped = (err as Error).message
    }
    if (target) {
      const { publishPrReport } = await import('./pr-publish.js')
      const full = await readTextFile(path.resolve(ctx.root, String(up.report.markdown)), { maxBytes: 1024 * 1024 })
      // Code hosts cap a comment at 65 536 characters (GitHub) or 1 MB (GitLab); the file keeps everything.
      const markdown =
        full.length > MAX_COMMENT_CHARS
          ? `${full.slice(0, MAX_COMMENT_CHARS)}\n\n… truncated: the full report is the CI artifact \`${String(up.report.markdown)}\`.\n`
          : full
      const { verdict, headline } = verdictOf(up, soFar)
      const res = await publishPrReport(
        target,
        {
          markdown,
          passed: verdict !== 'failed',
          summary: `intentops: ${headline.replace(/^\S+ /, '')}`.slice(0, 140),
        },
        retry,
      )
      out.pr = {
        provider: res.provider,
        number: target.number,
        ok: res.ok,
        action: res.action ?? null,
        statusSet: res.statusSet,
      }
      for (const e of res.errors) out.failures.push(`${res.provider} #${target.number}: ${e}`)
    }
  }
  return out
}
