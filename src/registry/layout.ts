/**
 * The registry's on-storage layout and the JSON documents stored in it, with their schemas. Everything the
 * registry writes is one of these documents or a model blob:
 *
 * ```
 * format.json                               { format: "intentops-registry", version: 1 }
 * blobs/sha256/<hex>                        model files, content-addressed, immutable
 * models/<name>/versions/<000000000007>.json signed version record (immutable, create-only)
 * models/<name>/aliases/<alias>.json        holder of the alias + its hash-chained move history
 * models/<name>/events/<000000000012>.json  audit events: gate decisions, garbage collection (create-only)
 * locks/...                                 lock entries (S3); `.locks/` on disk
 * ```
 * @module
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { createError, type ErrorOptions } from '../errors.js'
import { EvalSummarySchema, firstSchemaProblem } from './eval-summary.js'

/** The registry format this code writes and the newest it reads. */
export const REGISTRY_FORMAT_VERSION = 1
/** The registry's format file at its root. */
export const FORMAT_KEY = 'format.json'

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const ALIAS = /^[a-z][a-z0-9_-]{0,63}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/
const SEQ_DIGITS = 12

/** Reserved words that read as version references, never as alias names. */
const RESERVED_ALIASES = new Set(['latest'])
/** `v3` reads as version 3 wherever a version or an alias is taken, so no alias may look like it. */
const VERSION_LIKE = /^v\d+$/

/** Throw `ERR_REGISTRY_INVALID_REF` unless `name` can name a model (it becomes a key segment). */
export function assertModelName(name: string): void {
  if (!NAME.test(name)) {
    throw createError('ERR_REGISTRY_INVALID_REF', {
      what: 'model name',
      value: name,
      rule: 'use 1 to 128 letters, digits, `.`, `_` or `-`, starting with a letter or digit',
    })
  }
}

/** Throw `ERR_REGISTRY_INVALID_REF` unless `alias` can name an alias (lowercase, never `latest` or a number). */
export function assertAliasName(alias: string, options: ErrorOptions = {}): void {
  if (!ALIAS.test(alias) || RESERVED_ALIASES.has(alias) || VERSION_LIKE.test(alias)) {
    throw createError(
      'ERR_REGISTRY_INVALID_REF',
      {
        what: 'alias',
        value: alias,
        rule: 'use lowercase letters, digits, `_` or `-`, starting with a letter (and not `latest` or `v` and digits, which name versions)',
      },
      options,
    )
  }
}

/** The highest version number: version keys hold 12 digits. */
export const MAX_VERSION = 10 ** SEQ_DIGITS - 1

/** True for a `sha256:<64 hex>` digest. */
export function isDigest(value: string): boolean {
  return DIGEST.test(value)
}

const pad = (n: number) => String(n).padStart(SEQ_DIGITS, '0')

/** The storage key of every registry document. */
export const keys = {
  format: FORMAT_KEY,
  blobs: 'blobs/sha256/',
  blob: (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`,
  models: 'models/',
  versions: (name: string) => `models/${name}/versions/`,
  version: (name: string, version: number) => `models/${name}/versions/${pad(version)}.json`,
  aliases: (name: string) => `models/${name}/aliases/`,
  alias: (name: string, alias: string) => `models/${name}/aliases/${alias}.json`,
  events: (name: string) => `models/${name}/events/`,
  event: (name: string, seq: number) => `models/${name}/events/${pad(seq)}.json`,
}

/** The number in a `versions/` or `events/` key, or undefined for any other key. */
export function seqOfKey(key: string): number | undefined {
  const m = /\/(\d{12})\.json$/.exec(key)
  return m ? Number(m[1]) : undefined
}

/** The model name in a `models/<name>/...` key. */
export function modelOfKey(key: string): string | undefined {
  const m = /^models\/([^/]+)\//.exec(key)
  return m?.[1]
}

// ── documents ──────────────────────────────────────────────────────────────────

export const FormatFileSchema = Type.Object({
  format: Type.Literal('intentops-registry'),
  version: Type.Integer({ minimum: 1 }),
  createdAt: Type.Optional(Type.String()),
})
export type FormatFile = Static<typeof FormatFileSchema>

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

/** What training produced the model: read from the model file's manifest by the caller. */
export const TrainingLineageSchema = Type.Object({
  dataFingerprint: Nullable(Type.String()),
  configFingerprint: Nullable(Type.String()),
  trainedAt: Nullable(Type.String()),
  trainingMs: Nullable(Type.Number({ minimum: 0 })),
  examples: Type.Optional(Type.Integer({ minimum: 0 })),
  toolkitVersion: Nullable(Type.String()),
  nodeVersion: Nullable(Type.String()),
  language: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Array(Type.String())),
  entities: Type.Optional(Type.Array(Type.String())),
})
export type TrainingLineage = Static<typeof TrainingLineageSchema>

export const GitInfoSchema = Type.Object({
  commit: Type.String(),
  dirty: Type.Boolean(),
  branch: Type.Optional(Type.String()),
})
export type GitInfo = Static<typeof GitInfoSchema>

/** Schema of a version record (see `VersionRecord`). */
export const VersionRecordSchema = Type.Object({
  format: Type.Literal('intentops-registry-version'),
  formatVersion: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  blob: Type.Object({ digest: Type.String({ pattern: DIGEST.source }), size: Type.Integer({ minimum: 0 }) }),
  createdAt: Type.String(),
  author: Type.String(),
  git: Nullable(GitInfoSchema),
  training: TrainingLineageSchema,
  publisher: Type.Object({ toolkitVersion: Type.String(), nodeVersion: Type.String(), os: Type.String() }),
  eval: Nullable(EvalSummarySchema),
  tags: Type.Record(Type.String(), Type.String()),
})
/** One published version: immutable, stored with its digest and signatures. */
export type VersionRecord = Static<typeof VersionRecordSchema>

export const SignatureSchema = Type.Object({
  keyId: Type.String(),
  algorithm: Type.Literal('ed25519'),
  signature: Type.String(),
})
export type Signature = Static<typeof SignatureSchema>

export const SignedVersionSchema = Type.Object({
  record: VersionRecordSchema,
  /** `sha256:` of the canonical JSON of `record`. */
  digest: Type.String({ pattern: DIGEST.source }),
  signatures: Type.Array(SignatureSchema),
})
/** The stored form of a version: the record, its digest and the signatures over it. */
export type SignedVersion = Static<typeof SignedVersionSchema>

export const GateRuleResultSchema = Type.Object({
  rule: Type.String(),
  status: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('skip')]),
  reason: Type.String(),
  actual: Type.Optional(Nullable(Type.Union([Type.Number(), Type.String()]))),
  limit: Type.Optional(Nullable(Type.Union([Type.Number(), Type.String()]))),
})

/** A gate result as stored in an audit event (see `GateResult` in `gate.ts`). */
export const GateResultSchema = Type.Object({
  passed: Type.Boolean(),
  rules: Type.Array(GateRuleResultSchema),
  candidate: Type.Object({ version: Nullable(Type.Integer()) }),
  baseline: Nullable(Type.Object({ version: Nullable(Type.Integer()) })),
})

/** One move of an alias: a promotion or a rollback. */
export const AliasMoveSchema = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  action: Type.Union([Type.Literal('promote'), Type.Literal('rollback')]),
  from: Nullable(Type.Integer({ minimum: 1 })),
  to: Type.Integer({ minimum: 1 }),
  at: Type.String(),
  actor: Type.String(),
  reason: Nullable(Type.String()),
  forced: Type.Boolean(),
  /** The audit event holding the gate decision for this move, when a gate ran. */
  gateEvent: Nullable(Type.Integer({ minimum: 1 })),
  gatePassed: Nullable(Type.Boolean()),
  /** `sha256:` of the canonical JSON of the previous move: the history can only be appended to. */
  prev: Nullable(Type.String({ pattern: DIGEST.source })),
})
export type AliasMove = Static<typeof AliasMoveSchema>

export const AliasFileSchema = Type.Object({
  format: Type.Literal('intentops-registry-alias'),
  formatVersion: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  alias: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  updatedAt: Type.String(),
  history: Type.Array(AliasMoveSchema, { minItems: 1 }),
})
/** An alias: its current holder and every move that led there. */
export type AliasFile = Static<typeof AliasFileSchema>

export const AuditEventSchema = Type.Object({
  format: Type.Literal('intentops-registry-event'),
  formatVersion: Type.Integer({ minimum: 1 }),
  seq: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  kind: Type.Union([Type.Literal('gate'), Type.Literal('gc')]),
  at: Type.String(),
  actor: Type.String(),
  alias: Type.Optional(Type.String()),
  version: Type.Optional(Type.Integer({ minimum: 1 })),
  forced: Type.Optional(Type.Boolean()),
  reason: Type.Optional(Nullable(Type.String())),
  gate: Type.Optional(GateResultSchema),
  deleted: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
})
/** A create-only audit entry for what leaves no other trace: gate decisions and garbage collection. */
export type AuditEvent = Static<typeof AuditEventSchema>

/** The version of the JSON documents this code writes and the newest it reads. */
export const DOCUMENT_FORMAT_VERSION = 1

/**
 * Parse a stored JSON document, checking the schema and refusing newer document versions with a clear error.
 * Errors name the key, so one damaged entry never hides which one it was.
 */
export function parseDocument<S extends TSchema>(
  schema: S,
  data: Uint8Array,
  key: string,
  location: string,
): Static<S> {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data))
  } catch (err) {
    throw createError('ERR_REGISTRY_RECORD_INVALID', { key, detail: 'not valid UTF-8 JSON' }, { cause: err })
  }
  const version = (value as { formatVersion?: unknown; record?: { formatVersion?: unknown } } | null) ?? {}
  const found = typeof version.formatVersion === 'number' ? version.formatVersion : version.record?.formatVersion
  if (typeof found === 'number' && found > DOCUMENT_FORMAT_VERSION) {
    throw createError('ERR_REGISTRY_FORMAT_NEWER', {
      location: `${location} (${key})`,
      found,
      supported: DOCUMENT_FORMAT_VERSION,
    })
  }
  const problem = firstSchemaProblem(schema, value)
  if (problem) throw createError('ERR_REGISTRY_RECORD_INVALID', { key, detail: problem })
  return value as Static<S>
}

/** JSON bytes of a document, pretty-printed so people can read a registry with `cat`. */
export function encodeDocument(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`)
}
