/**
 * The model registry: publish signed versions, move aliases through promotion gates, roll back, and load verified
 * models. Model files are opaque bytes here; their lineage is passed in. Every change is one create-only or atomic
 * write made while holding the registry lock, so concurrent writers never collide and a crash at any point leaves
 * either the old state or the new one.
 * @module
 */
import { createHash } from 'node:crypto'
import type { GateConfig } from '../config/schema.js'
import { createError, isIntentopsError } from '../errors.js'
import type { EvalSummary } from '../eval/types.js'
import type { RegistryBackend, RegistryLock } from './backend.js'
import { canonicalize } from './canonical.js'
import { assertEvaluates, type Evaluation } from './eval-summary.js'
import { evaluateGate, type GateResult } from './gate.js'
import {
  type AliasFile,
  AliasFileSchema,
  type AliasMove,
  type AuditEvent,
  AuditEventSchema,
  assertAliasName,
  assertModelName,
  DOCUMENT_FORMAT_VERSION,
  encodeDocument,
  FORMAT_KEY,
  FormatFileSchema,
  type GitInfo,
  keys,
  MAX_VERSION,
  modelOfKey,
  parseDocument,
  REGISTRY_FORMAT_VERSION,
  type SignedVersion,
  SignedVersionSchema,
  seqOfKey,
  type TrainingLineage,
  type VersionRecord,
} from './layout.js'
import { publisherInfo } from './lineage.js'
import { checkSignatures, type SignatureCheck, type Signer, signVersion, type TrustPolicy } from './signing.js'

export interface RegistryOptions {
  /** Which signatures to accept when loading a version. */
  trust: TrustPolicy
  /** Signs published versions. Without one, publishing needs `trust.allowUnsigned`. */
  signer?: Signer
  /** How long a writer waits for the registry lock, ms. Default 60 s. */
  lockWaitMs?: number
  /** A lock not refreshed for this long is taken over, ms. Default 30 s. */
  lockStaleMs?: number
  /** The clock, for tests. */
  now?: () => Date
}

export interface PublishInput {
  name: string
  /** The model file. */
  bytes: Uint8Array
  /** What training produced it (from the model manifest). Missing fields are stored as null. */
  training?: Partial<TrainingLineage>
  /** Evaluation summary to keep with the version (gates read it). */
  eval?: EvalSummary | null
  tags?: Record<string, string>
  author: string
  git?: GitInfo | null
  /** Defaults to this process's toolkit, Node and OS versions. */
  publisher?: VersionRecord['publisher']
  /** Called as the publish goes through its steps, for progress displays. */
  onProgress?: (done: number, total: number, step: string) => void
}

export interface PublishResult {
  name: string
  version: number
  key: string
  signed: SignedVersion
  /** True when the registry already held this model file (same SHA-256). */
  blobExisted: boolean
  warnings: string[]
}

/** A version whose record digest, signature, blob digest and size were all checked. */
export interface VerifiedModel {
  name: string
  version: number
  bytes: Uint8Array
  record: VersionRecord
  signed: SignedVersion
  signature: SignatureCheck
}

/** An alias with its holder and history, as read from storage. */
export interface AliasState extends AliasFile {
  /** The ETag of the alias file when read, for change detection. */
  etag: string
}

/** An alias file that could not be read: which alias it is, what it still says, and why it was refused. */
export interface DamagedAlias {
  /** The alias, from the file's name. */
  alias: string
  /** The version the file names, when its JSON still says one; null when not even that can be read. */
  version: number | null
  /** The registry key of the file, e.g. `models/bot/aliases/production.json`. */
  key: string
  error: Error
}

export interface PromoteInput {
  name: string
  version: number
  alias: string
  /** The gate policy (`config.gates`). */
  policy: GateConfig
  /** The candidate's evaluation; default: the summary stored with the version. */
  candidateEval?: EvalSummary | null
  /** The current holder's evaluation on the same test set; default: the summary stored with that version. */
  baselineEval?: EvalSummary | null
  /**
   * Evaluations read from files (`readEvaluation`), used instead of `candidateEval` / `baselineEval`; each is
   * checked (while holding the lock, against the actual holder) to evaluate the version it is used for.
   */
  candidateEvaluation?: Evaluation
  baselineEvaluation?: Evaluation
  /** Move the alias even when the gate fails. Needs `reason`. */
  force?: boolean
  reason?: string
  actor: string
}

export interface PromoteResult {
  name: string
  alias: string
  version: number
  /** The holder before; null when the alias was unset. */
  from: number | null
  /** Whether the alias now points at the version (false: the gate failed and nothing moved). */
  promoted: boolean
  /** False when the alias already pointed at the version: nothing was written. */
  changed: boolean
  forced: boolean
  gate: GateResult | null
  /** The audit event holding the gate decision. */
  event: AuditEvent | null
  move: AliasMove | null
}

export interface RollbackInput {
  name: string
  alias: string
  /** Roll back to this version instead of the previous holder. */
  to?: number
  reason?: string
  actor: string
}

export interface RollbackResult {
  name: string
  alias: string
  from: number
  to: number
  move: AliasMove
}

const DEFAULT_LOCK_WAIT_MS = 60_000
const DEFAULT_LOCK_STALE_MS = 30_000

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/** `sha256:` of the canonical JSON of an alias move: the `prev` link of the next move. */
export function moveDigest(move: AliasMove): string {
  return `sha256:${createHash('sha256').update(canonicalize(move)).digest('hex')}`
}

/**
 * The holder a rollback returns to. Promotions push their target on a stack and rollbacks pop it, so repeated
 * rollbacks walk back through earlier holders instead of flipping between the last two.
 */
export function rollbackTarget(history: readonly AliasMove[]): number | null {
  const stack: number[] = []
  for (const move of history) {
    if (move.action === 'rollback') {
      stack.pop()
      if (stack[stack.length - 1] !== move.to) stack.push(move.to)
    } else {
      stack.push(move.to)
    }
  }
  return stack.length >= 2 ? stack[stack.length - 2]! : null
}

const REF_HINT =
  'Name a version as a positive integer (`3` or `v3`) or `latest`, or an alias, which starts with a lowercase letter (`production`).'

function parseRef(ref: string): { kind: 'number'; version: number } | { kind: 'latest' } | { kind: 'alias' } {
  const m = /^v?(\d{1,12})$/i.exec(ref)
  if (m) {
    const version = Number(m[1])
    if (version >= 1) return { kind: 'number', version }
  }
  if (ref === 'latest') return { kind: 'latest' }
  return { kind: 'alias' }
}

/**
 * A model registry over any backend.
 * @example
 * const registry = new ModelRegistry(createFsBackend({ root: '.intentops/registry' }), { trust, signer })
 * const { version } = await registry.publish({ name: 'bot', bytes, author: 'ci', training })
 * await registry.promote({ name: 'bot', version, alias: 'production', policy: config.gates, actor: 'ci' })
 * const model = await registry.resolveAlias('bot', 'production') // verified bytes and record
 */
export class ModelRegistry {
  readonly backend: RegistryBackend
  readonly trust: TrustPolicy
  private readonly signer: Signer | undefined
  private readonly lockWaitMs: number
  private readonly lockStaleMs: number
  private readonly now: () => Date
  private formatChecked = false

  constructor(backend: RegistryBackend, options: RegistryOptions) {
    this.backend = backend
    this.trust = options.trust
    this.signer = options.signer
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS
    this.lockStaleMs = options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS
    this.now = options.now ?? (() => new Date())
  }

  /** Where the registry lives, for messages. */
  get location(): string {
    return this.backend.location
  }

  /** The current time by the registry's clock. */
  clock(): Date {
    return this.now()
  }

  // ── format ──────────────────────────────────────────────────────────────────

  /**
   * Check the registry's format file. Returns false for a registry that was never written to. Throws
   * `ERR_REGISTRY_FORMAT_NEWER` for a registry written by a newer intentops.
   */
  async checkFormat(): Promise<boolean> {
    if (this.formatChecked) return true
    const obj = await this.backend.get(FORMAT_KEY)
    if (!obj) return false
    let doc: { format: string; version: number }
    try {
      doc = parseDocument(FormatFileSchema, obj.data, FORMAT_KEY, this.location)
    } catch (err) {
      throw createError(
        'ERR_REGISTRY_FORMAT_INVALID',
        { location: this.location, detail: isIntentopsError(err) ? err.message : String(err) },
        { cause: err },
      )
    }
    if (doc.version > REGISTRY_FORMAT_VERSION) {
      throw createError('ERR_REGISTRY_FORMAT_NEWER', {
        location: this.location,
        found: doc.version,
        supported: REGISTRY_FORMAT_VERSION,
      })
    }
    this.formatChecked = true
    return true
  }

  private async ensureFormat(): Promise<void> {
    if (await this.checkFormat()) return
    const doc = { format: 'intentops-registry', version: REGISTRY_FORMAT_VERSION, createdAt: this.now().toISOString() }
    try {
      await this.backend.put(FORMAT_KEY, encodeDocument(doc), { ifNoneMatch: '*' })
    } catch (err) {
      if (!isIntentopsError(err) || err.code !== 'ERR_REGISTRY_PRECONDITION') throw err
    }
    if (!(await this.checkFormat())) {
      throw createError('ERR_REGISTRY_FORMAT_INVALID', { location: this.location, detail: 'format.json vanished' })
    }
  }

  // ── locking ─────────────────────────────────────────────────────────────────

  /** Run `fn` holding the registry-wide writer lock. */
  async withLock<T>(fn: (lock: RegistryLock) => Promise<T>): Promise<T> {
    const lock = await this.backend.lock('registry', { waitMs: this.lockWaitMs, staleMs: this.lockStaleMs })
    try {
      return await fn(lock)
    } finally {
      await lock.release()
    }
  }

  // ── reading ─────────────────────────────────────────────────────────────────

  /** Names of the models with at least one version, sorted. */
  async listModels(): Promise<string[]> {
    await this.checkFormat()
    const names = new Set<string>()
    for (const o of await this.backend.list(keys.models)) {
      const name = modelOfKey(o.key)
      if (name && o.key.startsWith(keys.versions(name)) && seqOfKey(o.key) !== undefined) names.add(name)
    }
    return [...names].sort()
  }

  /** Version numbers of a model, ascending (from the listing only: no record is read). */
  async versionNumbers(name: string): Promise<number[]> {
    assertModelName(name)
    await this.checkFormat()
    const out: number[] = []
    for (const o of await this.backend.list(keys.versions(name))) {
      const n = seqOfKey(o.key)
      if (n !== undefined) out.push(n)
    }
    return out.sort((a, b) => a - b)
  }

  /** Read a version's stored record (schema-checked, not yet signature-checked). */
  async readVersion(name: string, version: number): Promise<SignedVersion> {
    assertModelName(name)
    await this.checkFormat()
    const key = keys.version(name, version)
    const obj = await this.backend.get(key)
    if (!obj) {
      if ((await this.versionNumbers(name)).length === 0) {
        throw createError('ERR_REGISTRY_MODEL_NOT_FOUND', { name, location: this.location })
      }
      throw createError('ERR_REGISTRY_VERSION_NOT_FOUND', { name, version })
    }
    const signed = parseDocument(SignedVersionSchema, obj.data, key, this.location)
    if (signed.record.name !== name || signed.record.version !== version) {
      throw createError('ERR_REGISTRY_RECORD_INVALID', {
        key,
        detail: `it describes ${signed.record.name} v${signed.record.version}, not ${name} v${version}`,
      })
    }
    return signed
  }

  /**
   * Turn a reference into a version number: `7`, `v7`, `latest`, or an alias name such as `production`.
   */
  async resolveVersion(name: string, ref: string | number): Promise<number> {
    assertModelName(name)
    const parsed = typeof ref === 'number' ? ({ kind: 'number', version: ref } as const) : parseRef(ref.trim())
    const invalidVersion = () =>
      createError(
        'ERR_REGISTRY_INVALID_REF',
        { what: 'version', value: String(ref).trim(), rule: `versions are integers from 1 to ${MAX_VERSION}` },
        { hint: REF_HINT },
      )
    if (parsed.kind === 'number') {
      if (!Number.isInteger(parsed.version) || parsed.version < 1 || parsed.version > MAX_VERSION) {
        throw invalidVersion()
      }
      return parsed.version
    }
    if (parsed.kind === 'latest') {
      const all = await this.versionNumbers(name)
      const last = all[all.length - 1]
      if (last === undefined) throw createError('ERR_REGISTRY_MODEL_NOT_FOUND', { name, location: this.location })
      return last
    }
    const alias = String(ref).trim()
    // `0`, `v0` or a 13-digit number read as versions, not as (invalid) alias names.
    if (/^v?\d+$/i.test(alias)) throw invalidVersion()
    assertAliasName(alias, { hint: REF_HINT })
    const state = await this.readAlias(name, alias)
    if (!state) throw createError('ERR_REGISTRY_ALIAS_NOT_SET', { name, alias })
    return state.version
  }

  /**
   * Load a version and verify everything: the record against its digest, the signatures against the trust policy,
   * and the blob against the digest and size in the record. Only then are the bytes returned.
   */
  async loadVersion(name: string, version: number): Promise<VerifiedModel> {
    const signed = await this.readVersion(name, version)
    const key = keys.version(name, version)
    const signature = checkSignatures(signed, this.trust, key)
    const { record } = signed
    const blob = await this.backend.get(keys.blob(record.blob.digest))
    if (!blob) throw createError('ERR_REGISTRY_BLOB_MISSING', { name, version, digest: record.blob.digest })
    const actual = sha256Digest(blob.data)
    if (actual !== record.blob.digest || blob.data.byteLength !== record.blob.size) {
      throw createError('ERR_REGISTRY_BLOB_CORRUPT', {
        name,
        version,
        expected: record.blob.digest,
        size: record.blob.size,
        actual: `${actual} (${blob.data.byteLength} bytes)`,
      })
    }
    return { name, version, bytes: blob.data, record, signed, signature }
  }

  /** Read an alias, checking its history chain; null when the alias was never set. */
  async readAlias(name: string, alias: string): Promise<AliasState | null> {
    assertModelName(name)
    assertAliasName(alias)
    await this.checkFormat()
    const key = keys.alias(name, alias)
    const obj = await this.backend.get(key)
    if (!obj) return null
    return { ...this.parseAlias(obj.data, key, name, alias), etag: obj.etag }
  }

  /** Parse and check an alias file's bytes (exported for watchers that fetch it themselves). */
  parseAlias(data: Uint8Array, key: string, name: string, alias: string): AliasFile {
    const doc = parseDocument(AliasFileSchema, data, key, this.location)
    const bad = (detail: string) => createError('ERR_REGISTRY_RECORD_INVALID', { key, detail })
    if (doc.name !== name || doc.alias !== alias) throw bad(`it describes ${doc.name}/${doc.alias}`)
    doc.history.forEach((move, i) => {
      if (move.seq !== i + 1) throw bad(`move ${i + 1} has sequence number ${move.seq}`)
      const prev = i === 0 ? null : moveDigest(doc.history[i - 1]!)
      if (move.prev !== prev) throw bad(`the history was rewritten before move ${move.seq}`)
    })
    if (doc.history[doc.history.length - 1]!.to !== doc.version) throw bad('the holder is not the last move')
    return doc
  }

  /** Every alias of a model with its holder. Damaged alias files are reported in `problems`, each with its alias. */
  async listAliases(name: string): Promise<{ aliases: AliasState[]; problems: DamagedAlias[] }> {
    assertModelName(name)
    await this.checkFormat()
    const aliases: AliasState[] = []
    const problems: DamagedAlias[] = []
    for (const o of await this.backend.list(keys.aliases(name))) {
      const m = /\/([^/]+)\.json$/.exec(o.key)
      if (!m) continue
      try {
        const state = await this.readAlias(name, m[1]!)
        if (state) aliases.push(state)
      } catch (err) {
        problems.push({ alias: m[1]!, version: await this.peekAliasVersion(o.key), key: o.key, error: err as Error })
      }
    }
    return { aliases, problems }
  }

  /** The `version` a damaged alias file still names, if its JSON parses that far; it is not to be trusted. */
  private async peekAliasVersion(key: string): Promise<number | null> {
    try {
      const obj = await this.backend.get(key)
      const version: unknown = obj ? JSON.parse(new TextDecoder().decode(obj.data))?.version : undefined
      return Number.isSafeInteger(version) && (version as number) > 0 ? (version as number) : null
    } catch {
      return null
    }
  }

  /**
   * The verified model an alias points at: what a server loads.
   * @example
   * const { bytes, record } = await registry.resolveAlias('bot', 'production')
   */
  async resolveAlias(name: string, alias: string): Promise<VerifiedModel & { alias: AliasState }> {
    const state = await this.readAlias(name, alias)
    if (!state) throw createError('ERR_REGISTRY_ALIAS_NOT_SET', { name, alias })
    return { ...(await this.loadVersion(name, state.version)), alias: state }
  }

  /** The audit events of a model (gate decisions, garbage collection), ascending; damaged ones in `problems`. */
  async readEvents(name: string): Promise<{ events: AuditEvent[]; problems: Error[] }> {
    assertModelName(name)
    await this.checkFormat()
    const events: AuditEvent[] = []
    const problems: Error[] = []
    for (const o of await this.backend.list(keys.events(name))) {
      const seq = seqOfKey(o.key)
      if (seq === undefined) continue
      try {
        const obj = await this.backend.get(o.key)
        if (!obj) continue
        const ev = parseDocument(AuditEventSchema, obj.data, o.key, this.location)
        if (ev.seq !== seq || ev.name !== name) {
          throw createError('ERR_REGISTRY_RECORD_INVALID', { key: o.key, detail: 'it is not the event its key names' })
        }
        events.push(ev)
      } catch (err) {
        problems.push(err as Error)
      }
    }
    return { events, problems }
  }

  // ── writing ─────────────────────────────────────────────────────────────────

  /**
   * Publish a model file as the next version of `name`: store the blob (content-addressed), then, holding the lock,
   * write the signed record with the next number. The version becomes visible in one create-only write.
   */
  async publish(input: PublishInput): Promise<PublishResult> {
    assertModelName(input.name)
    for (const [k, v] of Object.entries(input.tags ?? {})) {
      if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(k) || typeof v !== 'string' || v.length > 256) {
        throw createError('ERR_INVALID_ARGUMENT', {
          detail: `invalid tag "${k}": keys are 1-64 letters, digits, \`_.:-\`; values are at most 256 characters`,
        })
      }
    }
    if (!this.signer && !this.trust.allowUnsigned) {
      throw createError('ERR_REGISTRY_NO_SIGNING_KEY', { name: input.name, version: 'next' })
    }
    const warnings: string[] = []
    if (this.signer && !this.trust.trustedKeys.some((k) => k.keyId === this.signer!.keyId)) {
      warnings.push(
        `the signing key ${this.signer.keyId} is not in registry.trustedKeys: add ${this.signer.publicKey} to load this version`,
      )
    }
    await this.ensureFormat()
    const digest = sha256Digest(input.bytes)
    input.onProgress?.(0, 3, 'storing the model file')
    const blobExisted = await this.storeBlob(digest, input.bytes)
    input.onProgress?.(1, 3, 'waiting for the registry lock')

    return this.withLock(async (lock) => {
      input.onProgress?.(2, 3, 'writing the version record')
      // A concurrent gc may have removed an unreferenced blob between our upload and the lock.
      if (!(await this.backend.head(keys.blob(digest)))) await this.storeBlob(digest, input.bytes)
      const existing = await this.versionNumbers(input.name)
      let version = (existing[existing.length - 1] ?? 0) + 1
      const t = input.training ?? {}
      for (let attempt = 0; ; attempt++) {
        const record: VersionRecord = {
          format: 'intentops-registry-version',
          formatVersion: DOCUMENT_FORMAT_VERSION,
          name: input.name,
          version,
          blob: { digest, size: input.bytes.byteLength },
          createdAt: this.now().toISOString(),
          author: input.author,
          git: input.git ?? null,
          training: {
            dataFingerprint: t.dataFingerprint ?? null,
            configFingerprint: t.configFingerprint ?? null,
            trainedAt: t.trainedAt ?? null,
            trainingMs: t.trainingMs ?? null,
            ...(t.examples !== undefined ? { examples: t.examples } : {}),
            toolkitVersion: t.toolkitVersion ?? null,
            nodeVersion: t.nodeVersion ?? null,
            ...(t.language !== undefined ? { language: t.language } : {}),
            ...(t.labels !== undefined ? { labels: [...t.labels] } : {}),
            ...(t.entities !== undefined ? { entities: [...t.entities] } : {}),
          },
          publisher: input.publisher ?? publisherInfo(),
          eval: input.eval ?? null,
          tags: { ...(input.tags ?? {}) },
        }
        const signed = signVersion(record, this.signer)
        const key = keys.version(input.name, version)
        await lock.assertHeld()
        try {
          await this.backend.put(key, encodeDocument(signed), { ifNoneMatch: '*' })
          input.onProgress?.(3, 3, 'done')
          return { name: input.name, version, key, signed, blobExisted, warnings }
        } catch (err) {
          // Only a writer outside the lock can get here; take the next number rather than fail.
          if (!isIntentopsError(err) || err.code !== 'ERR_REGISTRY_PRECONDITION' || attempt >= 5) throw err
          version++
        }
      }
    })
  }

  /** Store a blob unless an intact copy is there; returns whether it already existed intact. */
  private async storeBlob(digest: string, bytes: Uint8Array): Promise<boolean> {
    const key = keys.blob(digest)
    const head = await this.backend.head(key)
    if (head && head.size === bytes.byteLength) {
      const existing = await this.backend.get(key)
      if (existing && sha256Digest(existing.data) === digest) return true
    }
    // Missing, truncated or corrupt: (re)write the right bytes. Same key, same content, so a replace is safe.
    await this.backend.put(key, bytes)
    return false
  }

  /** Append an audit event with the next sequence number. Call only while holding the lock. */
  private async appendEvent(
    name: string,
    event: Omit<AuditEvent, 'format' | 'formatVersion' | 'seq' | 'name'>,
    lock: RegistryLock,
  ): Promise<AuditEvent> {
    const listed = await this.backend.list(keys.events(name))
    let seq = Math.max(0, ...listed.map((o) => seqOfKey(o.key) ?? 0)) + 1
    for (let attempt = 0; ; attempt++) {
      const doc: AuditEvent = {
        format: 'intentops-registry-event',
        formatVersion: DOCUMENT_FORMAT_VERSION,
        seq,
        name,
        ...event,
      }
      await lock.assertHeld()
      try {
        await this.backend.put(keys.event(name, seq), encodeDocument(doc), { ifNoneMatch: '*' })
        return doc
      } catch (err) {
        if (!isIntentopsError(err) || err.code !== 'ERR_REGISTRY_PRECONDITION' || attempt >= 5) throw err
        seq++
      }
    }
  }

  /** Record a garbage-collection run in the audit log (before it deletes anything). */
  async logCollection(name: string, deleted: number[], actor: string, lock: RegistryLock): Promise<AuditEvent> {
    return this.appendEvent(name, { kind: 'gc', at: this.now().toISOString(), actor, deleted }, lock)
  }

  private async writeMove(
    name: string,
    alias: string,
    current: AliasState | null,
    move: Omit<AliasMove, 'seq' | 'prev'>,
    lock: RegistryLock,
  ): Promise<AliasMove> {
    const history = current?.history ?? []
    const last = history[history.length - 1]
    const full: AliasMove = { ...move, seq: history.length + 1, prev: last ? moveDigest(last) : null }
    const doc: AliasFile = {
      format: 'intentops-registry-alias',
      formatVersion: DOCUMENT_FORMAT_VERSION,
      name,
      alias,
      version: full.to,
      updatedAt: full.at,
      history: [...history, full],
    }
    await lock.assertHeld()
    await this.backend.put(keys.alias(name, alias), encodeDocument(doc))
    return full
  }

  /**
   * Point `alias` at a version if it passes the gate against the current holder. The gate decision is written to
   * the audit log whether it passes or not; with `force` (and a `reason`) the alias moves regardless, and the
   * override is logged.
   */
  async promote(input: PromoteInput): Promise<PromoteResult> {
    assertModelName(input.name)
    assertAliasName(input.alias)
    const forced = input.force === true
    const reason = input.reason?.trim() || null
    if (forced && !reason) throw createError('ERR_REGISTRY_REASON_REQUIRED', { action: 'promotion' })
    // Never point an alias at a version that would not load.
    const candidate = await this.loadVersion(input.name, input.version)
    await this.ensureFormat()
    return this.withLock(async (lock) => {
      const current = await this.readAlias(input.name, input.alias)
      const from = current?.version ?? null
      const base = { name: input.name, alias: input.alias, version: input.version, from, forced }
      if (from === input.version) {
        return { ...base, promoted: true, changed: false, gate: null, event: null, move: null }
      }
      if (input.candidateEvaluation) {
        assertEvaluates(input.candidateEvaluation, candidate.record.training, `${input.name} v${input.version}`)
      }
      let baselineEval: EvalSummary | null = null
      if (from !== null) {
        if (input.baselineEvaluation) {
          const holder = await this.readVersion(input.name, from)
          assertEvaluates(input.baselineEvaluation, holder.record.training, `${input.name} v${from}`)
          baselineEval = input.baselineEvaluation.summary
        } else if (input.baselineEval !== undefined) baselineEval = input.baselineEval
        else {
          baselineEval = await this.readVersion(input.name, from)
            .then((s) => s.record.eval)
            .catch(() => null)
        }
      }
      const gate = evaluateGate(
        input.policy,
        {
          version: input.version,
          summary: input.candidateEvaluation
            ? input.candidateEvaluation.summary
            : input.candidateEval !== undefined
              ? input.candidateEval
              : candidate.record.eval,
          modelBytes: candidate.record.blob.size,
        },
        from === null ? null : { version: from, summary: baselineEval },
      )
      const at = this.now().toISOString()
      const event = await this.appendEvent(
        input.name,
        { kind: 'gate', at, actor: input.actor, alias: input.alias, version: input.version, forced, reason, gate },
        lock,
      )
      if (!gate.passed && !forced) {
        return { ...base, promoted: false, changed: false, gate, event, move: null }
      }
      const move = await this.writeMove(
        input.name,
        input.alias,
        current,
        {
          action: 'promote',
          from,
          to: input.version,
          at,
          actor: input.actor,
          reason,
          forced: forced && !gate.passed,
          gateEvent: event.seq,
          gatePassed: gate.passed,
        },
        lock,
      )
      return { ...base, forced: forced && !gate.passed, promoted: true, changed: true, gate, event, move }
    })
  }

  /**
   * Move `alias` back to its previous holder (or to `to`). The target is fully verified first; no gate runs, since
   * a rollback returns to a version that already served.
   */
  async rollback(input: RollbackInput): Promise<RollbackResult> {
    assertModelName(input.name)
    assertAliasName(input.alias)
    await this.checkFormat()
    return this.withLock(async (lock) => {
      const current = await this.readAlias(input.name, input.alias)
      if (!current) throw createError('ERR_REGISTRY_ALIAS_NOT_SET', { name: input.name, alias: input.alias })
      const to = input.to ?? rollbackTarget(current.history)
      if (to === null || to === current.version) {
        throw createError('ERR_REGISTRY_NO_ROLLBACK_TARGET', { name: input.name, alias: input.alias })
      }
      await this.loadVersion(input.name, to)
      const move = await this.writeMove(
        input.name,
        input.alias,
        current,
        {
          action: 'rollback',
          from: current.version,
          to,
          at: this.now().toISOString(),
          actor: input.actor,
          reason: input.reason?.trim() || null,
          forced: false,
          gateEvent: null,
          gatePassed: null,
        },
        lock,
      )
      return { name: input.name, alias: input.alias, from: current.version, to, move }
    })
  }
}
