/**
 * The storage interface under the model registry: a flat key space of immutable-or-replaced objects with ETags,
 * in the style of unstorage drivers. The registry core only ever talks to this interface; `createFsBackend`,
 * `createS3Backend` and `createMemoryBackend` implement it, and `testRegistryBackend` (in `./testing.ts`) is the
 * contract every implementation must pass.
 * @module
 */
import { createError } from '../errors.js'

/** What a listing or a `head` tells about one object. */
export interface ObjectInfo {
  key: string
  /** Changes whenever the object's content is replaced. Opaque: compare for equality only. */
  etag: string
  size: number
  lastModified: Date
}

/** An object with its content. */
export interface StoredObject extends ObjectInfo {
  data: Uint8Array
}

/** Returned by `get` with `ifNoneMatch` when the object still has that ETag. */
export interface NotModified {
  key: string
  etag: string
  notModified: true
}

export interface PutOptions {
  /** `'*'`: create only; throw `ERR_REGISTRY_PRECONDITION` when the key exists. */
  ifNoneMatch?: '*'
}

export interface GetOptions {
  /** Answer `NotModified` instead of the content when the object's ETag still equals this. */
  ifNoneMatch?: string
}

export interface LockOptions {
  /** Give up with `ERR_REGISTRY_LOCKED` after waiting this long, ms. */
  waitMs: number
  /** A lock whose holder stopped refreshing it for this long is taken over, ms. */
  staleMs: number
}

/** A held lock. `signal` aborts when the lock was lost (taken over as stale). */
export interface RegistryLock {
  readonly signal: AbortSignal
  /** Throw `ERR_REGISTRY_LOCK_LOST` unless the lock is still held; called right before each commit write. */
  assertHeld(): Promise<void>
  release(): Promise<void>
}

/**
 * The storage under a registry. Keys are `/`-separated relative paths of `[A-Za-z0-9._-]` segments.
 *
 * Guarantees every implementation gives (and `testRegistryBackend` checks):
 * - `put` is atomic: a reader sees the old content or the new, never a part; a crash leaves no partial object.
 * - `put` with `ifNoneMatch: '*'` never replaces an existing object (atomic where the store supports it; always
 *   correct for writers that hold `lock`).
 * - `list` returns every object under a prefix in ascending key order, with ETags.
 * - `lock` gives mutual exclusion between processes (and machines, for shared stores), and is taken over when its
 *   holder died.
 */
export interface RegistryBackend {
  /** `fs`, `s3`, `memory` or a plugin's name. */
  readonly kind: string
  /** Where the registry lives, for messages: a directory or `s3://bucket/prefix`. */
  readonly location: string
  get(key: string): Promise<StoredObject | null>
  get(key: string, options: GetOptions): Promise<StoredObject | NotModified | null>
  head(key: string): Promise<ObjectInfo | null>
  put(key: string, data: Uint8Array, options?: PutOptions): Promise<ObjectInfo>
  /** Every object whose key starts with `prefix`, ascending by key. */
  list(prefix: string): Promise<ObjectInfo[]>
  /** Remove an object; removing a missing key is not an error. */
  delete(key: string): Promise<void>
  /** Take the named lock, waiting for another holder up to `waitMs`. */
  lock(name: string, options: LockOptions): Promise<RegistryLock>
  /**
   * Optional change hint for `key`: yields (without a value) whenever it may have changed. Watchers use it to
   * react at once and still poll, so an implementation may miss or repeat events.
   */
  watch?(key: string, signal: AbortSignal): AsyncIterable<void>
  /**
   * Optional: remove what crashed writers left behind (temp files of interrupted writes) older than `before`.
   * Returns how many were removed. Never touches a visible object.
   */
  removeLeftovers?(before: Date): Promise<number>
  /** Release clients and watchers. */
  close?(): Promise<void>
}

const KEY_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/

/** Throw unless `key` is a valid backend key (no empty, `.`/`..` or hidden segments, no backslashes). */
export function assertValidKey(key: string, allowPrefix = false): void {
  const parts = key.split('/')
  const last = parts.length - 1
  const ok =
    key.length > 0 &&
    key.length <= 512 &&
    parts.every((p, i) => (allowPrefix && i === last && p === '') || KEY_SEGMENT.test(p))
  if (!ok) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: `invalid registry key "${key}"` })
  }
}

/** True for a `NotModified` answer of `get`. */
export function isNotModified(value: StoredObject | NotModified | null): value is NotModified {
  return value !== null && 'notModified' in value && value.notModified === true
}

/** Throw `ERR_REGISTRY_BACKEND` for a failed storage operation, keeping the cause. */
export function backendError(location: string, operation: string, key: string, err: unknown): Error {
  const e = err as { code?: string; name?: string; message?: string }
  const detail = e.code ?? e.name ?? 'error'
  return createError(
    'ERR_REGISTRY_BACKEND',
    { location, operation, key, detail: e.message ? `${detail}: ${e.message}` : detail },
    { cause: err },
  )
}
