/**
 * Listen and shut down: `startServer` binds the app to a socket and, on SIGTERM or SIGINT, stops accepting, lets
 * in-flight requests finish, flushes the prediction log and closes the store (the app's onClose hooks), within
 * `serve.shutdownTimeoutMs`; connections still open after that are cut.
 * @module
 */
import v8 from 'node:v8'
import { createError, type IntentopsError } from '../errors.js'
import type { ServeApp } from './app.js'

/**
 * Turns off V8's allocation-site pretenuring for this process; `intentops serve` calls it at start-up. A server's
 * objects live for one request, but a burst of slow requests can make V8 allocate a hot site's objects directly in
 * the old generation from then on. Every young object those reference then survives each scavenge until the next
 * full collection. Under load with the log on, 12 of 45 runs fell into that state, with scavenges of 11–17 ms
 * instead of ~1 ms, the collector's helper threads taking ~20 µs of CPU a request, and throughput down a quarter;
 * with the flag, 0 of 24 (bench/README.md, "Log records off the heap"). It matters from the next collection on.
 */
export function tuneHeapForServing(): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring')
}

export interface StartServerOptions {
  host?: string
  port?: number
  /** Signals that start a graceful shutdown. Default SIGTERM and SIGINT; [] for none (tests). */
  signals?: readonly NodeJS.Signals[]
}

export interface RunningServer {
  app: ServeApp
  /** `http://host:port` actually bound. */
  url: string
  port: number
  /** Graceful shutdown; resolves when everything is flushed and closed. Safe to call twice. */
  close(reason?: string): Promise<void>
  /** Resolves once the server has shut down (by a signal or `close`). */
  closed: Promise<void>
}

export async function startServer(app: ServeApp, options: StartServerOptions = {}): Promise<RunningServer> {
  const config = app.intentops.config
  const host = options.host ?? config.host
  const port = options.port ?? config.port
  try {
    await app.listen({ host, port })
  } catch (err) {
    // The app already holds the store, the log writer thread and the alias watch: without closing them the
    // process would never exit.
    await app.close().catch(() => undefined)
    throw listenError(err, host, port)
  }
  const address = app.server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  const url = `http://${hostPort(host, bound)}`

  let resolveClosed: () => void = () => undefined
  const closed = new Promise<void>((r) => {
    resolveClosed = r
  })
  let closing: Promise<void> | undefined
  const signals = options.signals ?? ['SIGTERM', 'SIGINT']
  const onSignal = (signal: NodeJS.Signals) => {
    void close(signal)
  }
  for (const s of signals) process.once(s, onSignal)

  function close(reason = 'close'): Promise<void> {
    if (closing) return closing
    closing = (async () => {
      for (const s of signals) process.off(s, onSignal)
      app.log.info({ reason }, 'shutting down: draining requests and flushing the prediction log')
      app.intentops.closing = true
      const timer = setTimeout(() => {
        app.log.warn('shutdown timeout: closing the remaining connections')
        app.server.closeAllConnections()
      }, config.shutdownTimeoutMs)
      try {
        await app.close()
      } finally {
        clearTimeout(timer)
        app.log.info('shut down')
        resolveClosed()
      }
    })()
    return closing
  }

  return { app, url, port: bound, close, closed }
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** What a failed listen means, in words. */
const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: "the address is not one of this machine's",
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be resolved for now',
  EAI_FAIL: 'the host name could not be resolved',
}

function listenError(err: unknown, host: string, port: number): IntentopsError {
  const code = (err as NodeJS.ErrnoException)?.code
  const reason = code ? LISTEN_REASONS[code] : undefined
  const detail = reason ? `${reason} (${code})` : ((err as Error)?.message ?? String(err))
  return createError('ERR_SERVE_LISTEN_FAILED', { address: hostPort(host, port), detail }, { cause: err })
}
