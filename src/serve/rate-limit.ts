/**
 * Per-client rate limiting: a token bucket per key (a token's id, or the client address without one), refilled at
 * `max` per `windowMs`, checked synchronously in the `onRequest` hook. @fastify/rate-limit did the same job through an
 * async store API (several awaits and promises per request, ~10–15 µs of a ~225 µs parse, bench/README.md "Serving");
 * the in-process map needs none of that.
 * @module
 */

import { createError } from '../errors.js'

interface Bucket {
  tokens: number
  /** When `tokens` was last brought up to date, ms. */
  at: number
}

export interface RateLimiterOptions {
  /** Requests allowed per window (the bucket's size). */
  max: number
  windowMs: number
  /** Most keys held; the least recently refilled are forgotten first. */
  maxKeys?: number
}

/**
 * Token buckets by key. A bucket starts full, so a new client may send `max` requests at once, and then one more
 * every `windowMs / max`. The map is bounded: when it is full, buckets that would be full again anyway are dropped
 * (forgetting them changes nothing), then the oldest down to three quarters of the bound (a forgotten client starts
 * again with a full bucket).
 */
export class RateLimiter {
  readonly max: number
  readonly windowMs: number
  readonly #perMs: number
  readonly #maxKeys: number
  readonly #buckets = new Map<string, Bucket>()

  constructor(options: RateLimiterOptions) {
    if (!(options.max >= 1) || !(options.windowMs > 0)) {
      throw createError('ERR_INVALID_ARGUMENT', {
        detail: `rate limit needs max >= 1 and windowMs > 0, got ${options.max} / ${options.windowMs}`,
      })
    }
    this.max = options.max
    this.windowMs = options.windowMs
    this.#perMs = options.max / options.windowMs
    this.#maxKeys = Math.max(16, options.maxKeys ?? 50_000)
  }

  /** Take one request's token: the whole tokens left after it, or -1 when the bucket is empty (refused). */
  take(key: string, now: number = Date.now()): number {
    let b = this.#buckets.get(key)
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now)
      b = { tokens: this.max, at: now }
      this.#buckets.set(key, b)
    } else if (now > b.at) {
      b.tokens = Math.min(this.max, b.tokens + (now - b.at) * this.#perMs)
      b.at = now
    }
    if (b.tokens < 1) return -1
    b.tokens -= 1
    return Math.floor(b.tokens)
  }

  /** Seconds until `key` has a token again (at least 1), for `retry-after`. */
  retryAfterSeconds(key: string, now: number = Date.now()): number {
    const b = this.#buckets.get(key)
    if (!b) return 1
    const tokens = Math.min(this.max, b.tokens + Math.max(0, now - b.at) * this.#perMs)
    return Math.max(1, Math.ceil((1 - tokens) / this.#perMs / 1000))
  }

  /** Seconds until `remaining` (whole tokens left) is back to a full bucket, for `x-ratelimit-reset`. */
  resetSeconds(remaining: number): number {
    return Math.ceil((this.max - remaining) / this.#perMs / 1000)
  }

  get size(): number {
    return this.#buckets.size
  }

  #evict(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.max) this.#buckets.delete(key)
    }
    // Too many clients still active: drop the oldest (Map iterates in insertion order) down to three quarters, so a
    // sweep comes at most once per maxKeys / 4 new keys and stays amortised O(1) per request.
    let drop = this.#buckets.size - Math.floor(this.#maxKeys * 0.75)
    for (const key of this.#buckets.keys()) {
      if (drop-- <= 0) break
      this.#buckets.delete(key)
    }
  }
}
