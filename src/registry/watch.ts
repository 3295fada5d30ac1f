/**
 * Watch an alias so servers pick up a promotion or rollback made anywhere: conditional GETs of the alias file
 * (`If-None-Match` with its ETag, so an unchanged alias costs a 304 on S3), woken early by the backend's change
 * hint where it has one (`fs.watch` on disk). Each change is loaded and fully verified before it is reported.
 * @module
 */
import { isNotModified } from './backend.js'
import { keys } from './layout.js'
import type { AliasState, ModelRegistry, VerifiedModel } from './registry.js'

export interface WatchAliasOptions {
  /** Stops the watch; the iterator then ends. */
  signal?: AbortSignal
  /** Poll interval, ms. Default 2000. */
  intervalMs?: number
  /** Report the current holder first. Default true. */
  initial?: boolean
  /** Load and verify the new holder's model before reporting it. Default true. */
  load?: boolean
}

export type AliasChange =
  | {
      type: 'change'
      name: string
      alias: string
      /** The new holder; null when the alias is unset (or was removed). */
      version: number | null
      previous: number | null
      state: AliasState | null
      /** The verified model, when `load` is on and the alias is set. */
      model?: VerifiedModel
    }
  | {
      /**
       * The alias could not be read, or its new holder failed verification (a tampered or missing model). Keep
       * serving the old model; the watch goes on and reports the holder once it loads.
       */
      type: 'error'
      name: string
      alias: string
      version: number | null
      error: Error
    }

/**
 * Yield a change whenever the holder of `alias` changes.
 * @example
 * const ac = new AbortController()
 * for await (const change of watchAlias(registry, 'bot', 'production', { signal: ac.signal })) {
 *   if (change.type === 'change' && change.model) swapModel(change.model.bytes)
 *   else if (change.type === 'error') log.warn(change.error.message)
 * }
 */
export async function* watchAlias(
  registry: ModelRegistry,
  name: string,
  alias: string,
  options: WatchAliasOptions = {},
): AsyncGenerator<AliasChange, void, undefined> {
  const intervalMs = options.intervalMs ?? 2000
  const load = options.load ?? true
  const key = keys.alias(name, alias)
  const backend = registry.backend
  const inner = new AbortController()
  const onAbort = () => inner.abort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  if (options.signal?.aborted) inner.abort()

  let wake: (() => void) | undefined
  // A hint that arrives while a poll is in flight must not be lost: the next pause then returns at once.
  let pending = false
  let hintRunning = false
  const startHint = () => {
    if (!backend.watch || hintRunning || inner.signal.aborted) return
    hintRunning = true
    void (async () => {
      try {
        for await (const _ of backend.watch!(key, inner.signal)) {
          if (wake) wake()
          else pending = true
        }
      } catch {
        // A failing hint only costs latency: polling goes on.
      } finally {
        hintRunning = false
      }
    })()
  }
  const pause = () =>
    new Promise<void>((resolve) => {
      if (pending) {
        pending = false
        resolve()
        return
      }
      const done = () => {
        clearTimeout(timer)
        inner.signal.removeEventListener('abort', done)
        wake = undefined
        resolve()
      }
      const timer = setTimeout(done, intervalMs)
      wake = done
      inner.signal.addEventListener('abort', done, { once: true })
    })

  let etag: string | undefined
  let version: number | null | undefined // undefined: not yet known
  let lastError = ''
  let first = true

  try {
    while (!inner.signal.aborted) {
      startHint()
      let change: AliasChange | undefined
      try {
        const obj = await backend.get(key, etag === undefined ? {} : { ifNoneMatch: etag })
        if (obj === null) {
          etag = undefined
          if (version !== null) {
            if (first ? options.initial !== false : true) {
              change = { type: 'change', name, alias, version: null, previous: version ?? null, state: null }
            }
            version = null
          }
        } else if (!isNotModified(obj)) {
          const state: AliasState = { ...registry.parseAlias(obj.data, key, name, alias), etag: obj.etag }
          if (state.version !== version) {
            const report = first ? options.initial !== false : true
            if (report && load) {
              const model = await registry.loadVersion(name, state.version)
              change = { type: 'change', name, alias, version: state.version, previous: version ?? null, state, model }
            } else if (report) {
              change = { type: 'change', name, alias, version: state.version, previous: version ?? null, state }
            }
            version = state.version
          }
          etag = obj.etag
        }
        lastError = ''
        first = false
      } catch (err) {
        // Leave etag and version as they were, so the next poll retries; report each distinct failure once.
        const e = err as Error & { code?: string }
        const signature = `${e.code ?? ''}:${e.message}`
        if (signature !== lastError) {
          lastError = signature
          change = { type: 'error', name, alias, version: version ?? null, error: e }
        }
      }
      if (change) yield change
      if (inner.signal.aborted) break
      await pause()
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    inner.abort()
  }
}
