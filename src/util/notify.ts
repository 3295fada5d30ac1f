/**
 * Notifications on promote, gate failure, pipeline failure and drift alerts: a Slack-compatible `{"text": ...}`
 * body or a generic JSON event, posted with retries. Delivery failures are reported, never thrown, so a
 * notification problem cannot fail a pipeline whose gate passed (unless the caller decides so).
 * @module
 */
import { type IntentopsError, isIntentopsError } from '../errors.js'
import { expandEnv } from './env.js'
import { fetchWithRetry, type HttpResult, type RetryOptions } from './http.js'

export type NotifyEventKind = 'promoted' | 'gate_failed' | 'pipeline_failed' | 'drift_alert' | 'pipeline_passed'

export interface NotifyEvent {
  kind: NotifyEventKind
  /** One line for people. */
  summary: string
  /** Model name and version, alias, run id, report URL... whatever the event has. */
  details?: Record<string, string | number | boolean | null>
  at?: string
}

export interface WebhookTarget {
  url: string
  /** `slack` posts `{"text": ...}`; `json` posts the event itself. */
  format: 'slack' | 'json'
}

export interface DeliveryReport extends HttpResult {
  url: string
}

const ICONS: Record<NotifyEventKind, string> = {
  promoted: ':rocket:',
  pipeline_passed: ':white_check_mark:',
  gate_failed: ':no_entry:',
  pipeline_failed: ':x:',
  drift_alert: ':warning:',
}

/** The Slack-compatible body: one bold summary line, then `key: value` lines. */
export function slackBody(event: NotifyEvent): { text: string } {
  const lines = [`${ICONS[event.kind]} *intentops ${event.kind.replace('_', ' ')}*: ${event.summary}`]
  for (const [k, v] of Object.entries(event.details ?? {})) lines.push(`• ${k}: ${v}`)
  return { text: lines.join('\n') }
}

export async function notify(
  targets: readonly WebhookTarget[],
  event: NotifyEvent,
  retry: RetryOptions = {},
): Promise<DeliveryReport[]> {
  const stamped = { ...event, at: event.at ?? new Date().toISOString() }
  return Promise.all(
    targets.map(async (t) => {
      const body = t.format === 'slack' ? slackBody(stamped) : { source: 'intentops', ...stamped }
      const res = await fetchWithRetry(
        t.url,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        retry,
      )
      return { ...res, url: t.url }
    }),
  )
}

/**
 * Webhook targets from the config, with `$VAR` / `${VAR}` expanded from the environment (webhook URLs are secrets
 * and belong in CI variables, not in git). `INTENTOPS_WEBHOOK_URL` adds one Slack-shaped target. A webhook whose
 * variable is not set is left out and named in `unresolved` (ERR_CONFIG_INVALID), for the caller to report like an
 * undelivered notification: expanded to nothing it would post to another URL, or be dropped without a word.
 */
export function webhookTargets(
  config: { webhooks: ReadonlyArray<{ url: string; format: 'slack' | 'json' }> },
  env: Readonly<Record<string, string | undefined>>,
): { targets: WebhookTarget[]; unresolved: IntentopsError[] } {
  const out = { targets: [] as WebhookTarget[], unresolved: [] as IntentopsError[] }
  for (const [i, w] of config.webhooks.entries()) {
    try {
      out.targets.push({ url: expandEnv(w.url, env, `notify.webhooks.${i}.url`), format: w.format })
    } catch (err) {
      if (!isIntentopsError(err)) throw err
      out.unresolved.push(err)
    }
  }
  if (env.INTENTOPS_WEBHOOK_URL) out.targets.push({ url: env.INTENTOPS_WEBHOOK_URL, format: 'slack' })
  out.targets = out.targets.filter((t) => /^https?:\/\//.test(t.url))
  return out
}
