/**
 * Outbound HTTP with bounded retries and exponential backoff with jitter, for webhooks and code-host APIs.
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises'

export interface RetryOptions {
  /** Attempts in total, including the first. Default 4. */
  attempts?: number
  /** First backoff in milliseconds; doubles each retry. Default 500. */
  baseDelayMs?: number
  /** Per-attempt timeout in milliseconds. Default 10 000. */
  timeoutMs?: number
  /** Ends the attempt under way and the backoff before the next one: nothing is retried after it aborts. */
  signal?: AbortSignal
  /** Injected for tests that must not wait; given `signal`, and should settle when it aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

export interface HttpResult {
  ok: boolean
  status: number
  attempts: number
  body: string
  error?: string
}

/** Retry on network errors, 429 and 5xx; a 4xx other than 429 is final (retrying cannot fix it). */
export async function fetchWithRetry(url: string, init: RequestInit, opts: RetryOptions = {}): Promise<HttpResult> {
  const attempts = Math.max(1, opts.attempts ?? 4)
  const base = opts.baseDelayMs ?? 500
  const sleep = opts.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, signal ? { signal } : {}))
  let last: HttpResult = { ok: false, status: 0, attempts: 0, body: '', error: 'not attempted' }
  for (let i = 1; i <= attempts; i++) {
    if (opts.signal?.aborted) break
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000)
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
    try {
      const res = await fetch(url, { ...init, signal })
      const body = await res.text()
      last = { ok: res.ok, status: res.status, attempts: i, body }
      if (res.ok || (res.status < 500 && res.status !== 429)) return last
      last.error = `HTTP ${res.status}`
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } }
      last = { ok: false, status: 0, attempts: i, body: '', error: e.cause?.code ?? e.message }
    }
    if (i < attempts) {
      // A deadline (the pipeline's few seconds after Ctrl-C) must not wait out a backoff of many seconds.
      try {
        await sleep(base * 2 ** (i - 1) * (0.75 + Math.random() * 0.5), opts.signal)
      } catch (err) {
        if (opts.signal?.aborted) break
        throw err
      }
    }
  }
  if (opts.signal?.aborted && !last.ok)
    last.error = `${last.error ?? 'not attempted'}; stopped: ${abortReason(opts.signal)}`
  return last
}

function abortReason(signal: AbortSignal): string {
  const r = signal.reason as { name?: string; message?: string } | undefined
  return r?.name === 'TimeoutError' ? 'out of time' : 'interrupted'
}
