/**
 * Which model the server serves and where it comes from: a registry alias it watches (the default), a version an
 * admin pinned, or a model file. Every load goes through the `ModelHolder`, so it is verified before it serves.
 * @module
 */
import { createHash } from 'node:crypto'
import path from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { createError, type IntentopsError, isIntentopsError } from '../errors.js'
import { readModelBytes } from '../nlu/model-file.js'
import type { ModelRegistry, VerifiedModel } from '../registry/registry.js'
import { type AliasChange, watchAlias } from '../registry/watch.js'
import { assertInside } from '../util/fs.js'
import type { LoadFailureCode, ModelHolder, ModelSource, ServedModel } from './model-holder.js'

export interface ModelManagerOptions {
  holder: ModelHolder
  registry?: ModelRegistry
  /** Registry model name (`name` of intentops.yml). */
  name: string
  /** The alias to serve and watch; undefined when serving a file. */
  alias?: string
  /** A model file to serve instead of the alias; the operator chose it, so only its digest is checked. */
  file?: string
  /** Project root: `PUT /model` file paths must resolve inside it. */
  root: string
  /** Serve files that match no signed registry version (`registry.allowUnsigned`). */
  allowUnsignedFiles: boolean
  watchIntervalMs: number
  log: FastifyBaseLogger
}

type Current = { kind: 'alias'; alias: string } | { kind: 'version'; version: number } | { kind: 'file'; path: string }

interface Watch {
  alias: string
  /** Aborting it ends the alias poll and the re-check poll at once, timers included. */
  controller: AbortController
  /** Settles when the watch loop ended. */
  done: Promise<void>
  /** The re-check poll after refused holders (`#clearWhenBack`), while one runs. */
  recheck: Promise<void> | undefined
}

export class ModelManager {
  readonly holder: ModelHolder
  readonly registry: ModelRegistry | undefined
  readonly name: string
  #options: ModelManagerOptions
  #current: Current | undefined
  /** The one live watch. */
  #watch: Watch | undefined
  /** Aborted watches whose loop or last registry read has not returned yet; `stop` waits for them. */
  #ending = new Set<Promise<unknown>>()
  /**
   * Changes of what is served (admin switches, `PUT /model`, reloads, the watch's pick-ups) run one at a time
   * through this chain: overlapping switches would each start a watch, and a watch could swap in between.
   */
  #chain: Promise<unknown> = Promise.resolve()
  #stopped = false

  constructor(options: ModelManagerOptions) {
    this.#options = options
    this.holder = options.holder
    this.registry = options.registry
    this.name = options.name
    if (options.file) this.#current = { kind: 'file', path: path.resolve(options.root, options.file) }
    else if (options.alias) this.#current = { kind: 'alias', alias: options.alias }
  }

  /** The alias being watched, if any. */
  get alias(): string | undefined {
    return this.#current?.kind === 'alias' ? this.#current.alias : undefined
  }

  /** What is served, as its loads name it (`bot@production`, `bot v3`, the file), or undefined when nothing is. */
  get label(): string | undefined {
    const c = this.#current
    if (!c) return undefined
    return c.kind === 'file' ? c.path : c.kind === 'version' ? `${this.name} v${c.version}` : `${this.name}@${c.alias}`
  }

  /** The 503 for a request that needs a model while none is loaded: what it waits for, or why the last load failed. */
  noModelError(): IntentopsError {
    const label = this.label
    const failed = this.holder.lastError
    const detail =
      label === undefined
        ? 'no model file or alias is configured'
        : failed
          ? `loading ${label} failed: ${failed.message}`
          : this.#current?.kind === 'alias'
            ? `waiting for the alias ${label} to name a version`
            : `waiting for ${label} to load`
    return createError('ERR_SERVE_NO_MODEL', { detail })
  }

  /** The alias of the live watch, if any: never more than one. */
  get watching(): string[] {
    return this.#watch ? [this.#watch.alias] : []
  }

  /**
   * Load the configured model. A file must load (the server refuses to start otherwise); an alias is watched, and
   * this resolves once its current holder loaded or failed, so a server starts serving at once when it can.
   */
  async start(): Promise<void> {
    const current = this.#current
    if (current?.kind === 'file') {
      const file = current.path
      await this.#exclusive(() => this.#serveFile(file, 'ERR_SERVE_MODEL_FILE_FAILED'))
    } else if (current?.kind === 'alias' && this.registry) {
      // Not inside the chain: the watch's first pick-up goes through it.
      await this.#startWatch(current.alias)
    }
  }

  /** Stop watching for good; a change in flight finishes, and starts no watch. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#abortWatch()
    await this.#exclusive(async () => undefined)
    this.#abortWatch()
    await Promise.all([...this.#ending])
  }

  #exclusive<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(change)
    this.#chain = next.catch(() => undefined)
    return next
  }

  /**
   * End the live watch: its alias poll and its re-check poll are cancelled at once (a pending timer never fires), so
   * nothing reads the old alias after a switch. A registry read already in flight finishes, and its answer is dropped.
   */
  #abortWatch(): void {
    const w = this.#watch
    if (!w) return
    this.#watch = undefined
    w.controller.abort()
    const ended = Promise.all([w.done, w.recheck])
    this.#ending.add(ended)
    void ended.then(() => this.#ending.delete(ended))
  }

  /** Serve a version (`7`, `v7`, `latest` or an alias name, resolved once); the alias watch stops. */
  activateVersion(ref: string | number): Promise<ServedModel> {
    const registry = this.#requireRegistry()
    // Resolved in turn: an alias named here means its holder once the changes queued before are done.
    return this.#exclusive(async () => {
      let version: number
      try {
        version = await registry.resolveVersion(this.name, ref)
      } catch (err) {
        // A reference that is not a version (`0`, `Prod!`) is the client's mistake. One that names nothing (`latest`
        // before any version, an alias that is not set) is refused as a version that does not exist is: a 422
        // naming the cause, the old model serving.
        if (isIntentopsError(err) && err.code === 'ERR_REGISTRY_INVALID_REF') throw err
        return this.holder.swap(this.#refLabel(ref), () => Promise.reject(err))
      }
      return this.#switchNow(
        `${this.name} v${version}`,
        async () => fromVerified(await registry.loadVersion(this.name, version)),
        () => ({ kind: 'version', version }),
      )
    })
  }

  /** Serve and watch another alias. */
  async activateAlias(alias: string): Promise<ServedModel> {
    const registry = this.#requireRegistry()
    return this.#switchTo(
      `${this.name}@${alias}`,
      async () => fromVerified(await registry.resolveAlias(this.name, alias), alias),
      () => ({ kind: 'alias', alias }),
    )
  }

  /**
   * Change what is served, after every change queued before. The watch is aborted first, so its pick-ups queued
   * behind this change do nothing; a watch resumes on the new alias, or on the old one when the load fails (the
   * old model keeps serving).
   */
  #switchTo(
    label: string,
    load: () => Promise<{ bytes: Uint8Array; source: ModelSource }>,
    next: (served: ServedModel) => Current,
  ): Promise<ServedModel> {
    return this.#exclusive(() => this.#switchNow(label, load, next))
  }

  /** `#switchTo`'s work, for a caller already inside the chain. */
  async #switchNow(
    label: string,
    load: () => Promise<{ bytes: Uint8Array; source: ModelSource }>,
    next: (served: ServedModel) => Current,
  ): Promise<ServedModel> {
    const previous = this.#current
    this.#abortWatch()
    let served: ServedModel
    try {
      served = await this.holder.swap(label, load)
    } catch (err) {
      if (previous?.kind === 'alias' && this.registry) void this.#startWatch(previous.alias)
      throw err
    }
    this.#current = next(served)
    if (this.#current.kind === 'alias') void this.#startWatch(this.#current.alias)
    return served
  }

  /**
   * `PUT /model`: a registry version or alias, or a file inside the project. A file must match a signed version
   * of the registry (by SHA-256) unless unsigned files are allowed.
   */
  async replace(modelFile: string): Promise<ServedModel> {
    const ref = modelFile.trim()
    const looksLikeRef = /^(v?\d+|latest|[a-z][a-z0-9_-]*)$/.test(ref)
    if (looksLikeRef && this.registry) {
      if (/^(v?\d+|latest)$/.test(ref)) return this.activateVersion(ref)
      return this.activateAlias(ref)
    }
    const file = path.resolve(this.#options.root, ref)
    assertInside(this.#options.root, file)
    return this.#swapFile(file)
  }

  /** Load the current source again (the alias holder, the pinned version or the file). */
  reload(): Promise<ServedModel> {
    return this.#exclusive(() => this.#reloadNow())
  }

  async #reloadNow(): Promise<ServedModel> {
    const current = this.#current
    if (!current) throw this.noModelError()
    if (current.kind === 'file') return this.#serveFile(current.path)
    const registry = this.#requireRegistry()
    if (current.kind === 'version') {
      return this.holder.swap(`${this.name} v${current.version}`, async () =>
        fromVerified(await registry.loadVersion(this.name, current.version)),
      )
    }
    return this.holder.swap(`${this.name}@${current.alias}`, async () =>
      fromVerified(await registry.resolveAlias(this.name, current.alias), current.alias),
    )
  }

  /** Serve a file from `PUT /model`: it must match a signed version unless unsigned files are allowed. */
  #swapFile(file: string): Promise<ServedModel> {
    const label = this.#fileLabel(file)
    let verified: VerifiedModel | undefined
    const load = async (): Promise<{ bytes: Uint8Array; source: ModelSource }> => {
      const bytes = await readModelBytes(file)
      if (this.#options.allowUnsignedFiles) return { bytes, source: { kind: 'file', path: file } }
      verified = await this.#findSigned(bytes)
      if (!verified) throw createError('ERR_SERVE_MODEL_UNTRUSTED_FILE', { path: label })
      return fromVerified(verified)
    }
    const next = (): Current =>
      verified ? { kind: 'version', version: verified.version } : { kind: 'file', path: file }
    return this.#switchTo(label, load, next)
  }

  /**
   * Serve the file the operator named at start (only its digest is checked); runs inside the chain. `failure`: the
   * code a failed load is reported with (at start-up nothing serves yet, so the server does not start).
   */
  async #serveFile(file: string, failure?: LoadFailureCode): Promise<ServedModel> {
    const served = await this.holder.swap(
      this.#fileLabel(file),
      async () => ({
        bytes: await readModelBytes(file),
        source: { kind: 'file', path: file },
      }),
      failure ? { failure } : {},
    )
    this.#current = { kind: 'file', path: file }
    return served
  }

  /** How a load names a reference before it is resolved: `bot v7`, `bot latest`, `bot@production`. */
  #refLabel(ref: string | number): string {
    const r = String(ref).trim()
    if (/^v?\d+$/.test(r)) return `${this.name} v${r.replace(/^v/, '')}`
    return r === 'latest' ? `${this.name} latest` : `${this.name}@${r}`
  }

  #fileLabel(file: string): string {
    return path.relative(this.#options.root, file) || file
  }

  /** The registry version holding exactly these bytes, loaded and verified; newest first. */
  async #findSigned(bytes: Uint8Array): Promise<VerifiedModel | undefined> {
    if (!this.registry) return undefined
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    const versions = await this.registry.versionNumbers(this.name).catch(() => [] as number[])
    for (const v of versions.reverse()) {
      const signed = await this.registry.readVersion(this.name, v)
      if (signed.record.blob.digest === digest) return this.registry.loadVersion(this.name, v)
    }
    return undefined
  }

  #requireRegistry(): ModelRegistry {
    if (!this.registry) {
      throw createError('ERR_INVALID_ARGUMENT', { detail: 'this server has no registry; it serves a model file' })
    }
    return this.registry
  }

  /**
   * Watch `alias`, the only live watch from now on; resolves after the first report (the current holder, or an
   * error) was handled. Each report is handled inside the chain, and not at all once the watch was aborted.
   */
  #startWatch(alias: string, initial = true): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    const registry = this.#requireRegistry()
    this.#abortWatch()
    const controller = new AbortController()
    const watch: Watch = { alias, controller, done: Promise.resolve(), recheck: undefined }
    const log = this.#options.log
    let firstHandled: () => void = () => undefined
    const first = new Promise<void>((resolve) => {
      firstHandled = resolve
    })
    const handle = async (change: AliasChange): Promise<void> => {
      if (controller.signal.aborted) return
      if (change.type === 'error') {
        log.error({ err: change.error, alias, version: change.version }, 'alias watch: the new holder was refused')
        this.holder.fail(`${this.name}@${alias}`, change.error)
        this.#clearWhenBack(watch)
      } else if (change.model) {
        const model = change.model
        const current = this.holder.current
        if (current?.source.kind === 'registry' && current.source.version === model.version) {
          // The alias came back to what we serve: nothing to load, and no failure stands.
          this.holder.lastError = undefined
        } else {
          await this.holder
            .swap(`${this.name} v${model.version}`, async () => fromVerified(model, alias))
            .then(
              (s) => log.info({ version: s.version, alias }, 'serving a new model'),
              (err) => log.error({ err, alias }, 'model load failed; the old model keeps serving'),
            )
        }
      } else if (change.version === null) {
        log.warn({ alias, name: this.name }, 'the served alias is not set; waiting for a promotion')
      }
    }
    watch.done = (async () => {
      try {
        for await (const change of watchAlias(registry, this.name, alias, {
          signal: controller.signal,
          intervalMs: this.#options.watchIntervalMs,
          initial,
        })) {
          await this.#exclusive(() => handle(change))
          firstHandled()
        }
      } catch (err) {
        log.error({ err }, 'alias watch stopped')
      } finally {
        firstHandled()
        // A loop that ended by itself takes its re-check poll with it.
        if (this.#watch === watch) this.#abortWatch()
      }
    })()
    this.#watch = watch
    return initial ? first : Promise.resolve()
  }

  /**
   * The watch reports nothing when, after refused holders, the alias moves back to the version we still serve
   * (for the watch, that version never changed). Poll the alias until then, and clear the failure.
   */
  #clearWhenBack(watch: Watch): void {
    if (watch.recheck) return
    const registry = this.#requireRegistry()
    const { alias } = watch
    const signal = watch.controller.signal
    watch.recheck = (async () => {
      while (!signal.aborted && this.holder.lastError) {
        await abortableDelay(this.#options.watchIntervalMs, signal)
        if (signal.aborted) return
        const state = await registry.readAlias(this.name, alias).catch(() => null)
        // Switched away during the read: the answer is about an alias no longer served.
        if (signal.aborted) return
        const current = this.holder.current
        if (state && current?.source.kind === 'registry' && current.source.version === state.version) {
          this.holder.lastError = undefined
        }
      }
    })().finally(() => {
      watch.recheck = undefined
    })
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (the timer is cleared then). */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

function fromVerified(model: VerifiedModel, alias?: string): { bytes: Uint8Array; source: ModelSource } {
  return {
    bytes: model.bytes,
    source: {
      kind: 'registry',
      name: model.name,
      version: model.version,
      ...(alias ? { alias } : {}),
      signedBy: model.signature.signedBy ? [model.signature.signedBy] : [],
    },
  }
}
