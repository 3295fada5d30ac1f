/**
 * A mutual-exclusion lock built from plain object writes, lists and deletes: Lamport's bakery algorithm with one
 * object per contender, plus leases. It needs no conditional write, so it is correct on every S3-compatible store
 * with read-after-write and list-after-write consistency (AWS S3 since 2020, MinIO, s3rver), including those that
 * ignore `If-None-Match` on PUT.
 *
 * Protocol for a contender `i` (keys under the lock's prefix):
 * 1. put `choosing/<i>`; list `tickets/`; put `tickets/<n>-<i>` with `n` one more than the largest ticket seen;
 *    delete `choosing/<i>`.
 * 2. Wait until every contender that was choosing in step 1 has finished choosing.
 * 3. Wait until no ticket sorts before `(n, i)`. Then the lock is held.
 * A contender that starts choosing after step 2 sees our ticket and draws a larger number, so it waits for us.
 * While waiting and holding, a contender rewrites its ticket every `staleMs / 3`; a ticket or choosing entry whose
 * ETag has not changed for `staleMs` of the observer's own time belonged to a dead process and is removed. Only the
 * observer's clock is used, so clock skew between machines does not matter.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { createError } from '../errors.js'
import type { LockOptions, ObjectInfo, RegistryBackend, RegistryLock } from './backend.js'

/** The subset of a backend the lock needs. */
export type LockStore = Pick<RegistryBackend, 'put' | 'list' | 'delete' | 'head' | 'location'>

export interface ObjectLockOptions extends LockOptions {
  /** How often to re-list while waiting, ms. Default 100. */
  pollMs?: number
}

const NUMBER_DIGITS = 12

interface Ticket {
  key: string
  number: number
  id: string
}

function parseTicket(info: ObjectInfo, ticketsPrefix: string): Ticket | undefined {
  const m = /^(\d{12})-([a-z0-9]+)$/.exec(info.key.slice(ticketsPrefix.length))
  return m ? { key: info.key, number: Number(m[1]), id: m[2]! } : undefined
}

function before(a: { number: number; id: string }, b: { number: number; id: string }): boolean {
  return a.number < b.number || (a.number === b.number && a.id < b.id)
}

/** Remembers when each entry's ETag was first seen, by this process's clock. */
class StalenessObserver {
  private readonly seen = new Map<string, { etag: string; since: number }>()
  constructor(private readonly staleMs: number) {}
  isStale(info: ObjectInfo, now: number): boolean {
    const prev = this.seen.get(info.key)
    if (!prev || prev.etag !== info.etag) {
      this.seen.set(info.key, { etag: info.etag, since: now })
      return false
    }
    return now - prev.since >= this.staleMs
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Acquire the lock whose entries live under `prefix` (which must end with `/`).
 * @example
 * const lock = await acquireObjectLock(backend, 'locks/registry/', { waitMs: 60_000, staleMs: 30_000 })
 * try { await lock.assertHeld(); await backend.put(key, data) } finally { await lock.release() }
 */
export async function acquireObjectLock(
  store: LockStore,
  prefix: string,
  options: ObjectLockOptions,
): Promise<RegistryLock> {
  const pollMs = options.pollMs ?? 100
  const id = randomBytes(8).toString('hex')
  const choosingPrefix = `${prefix}choosing/`
  const ticketsPrefix = `${prefix}tickets/`
  const choosingKey = `${choosingPrefix}${id}`
  const start = Date.now()
  const deadline = start + options.waitMs
  const observer = new StalenessObserver(options.staleMs)
  const controller = new AbortController()
  let beat = 0
  const body = (number: number) =>
    new TextEncoder().encode(
      JSON.stringify({ id, number, host: hostname(), pid: process.pid, beat: beat++, at: new Date().toISOString() }),
    )

  await store.put(choosingKey, body(0))
  let ticketKey: string | undefined
  let heartbeat: NodeJS.Timeout | undefined
  let beating: Promise<unknown> = Promise.resolve()

  const cleanup = async () => {
    clearInterval(heartbeat)
    await beating
    await Promise.all([store.delete(choosingKey), ticketKey ? store.delete(ticketKey) : undefined]).catch(() => {})
  }

  try {
    const tickets = (await store.list(ticketsPrefix)).map((t) => parseTicket(t, ticketsPrefix)).filter((t) => !!t)
    const number = Math.max(0, ...tickets.map((t) => t.number)) + 1
    const mine = { number, id }
    ticketKey = `${ticketsPrefix}${String(number).padStart(NUMBER_DIGITS, '0')}-${id}`
    const key = ticketKey
    await store.put(key, body(number))
    heartbeat = setInterval(
      () => {
        beating = (async () => {
          if (controller.signal.aborted) return
          // Never resurrect a ticket someone removed as stale: that contender already went ahead.
          if (!(await store.head(key))) {
            controller.abort(createError('ERR_REGISTRY_LOCK_LOST', { location: store.location }))
            return
          }
          await store.put(key, body(number))
        })().catch(() => {})
      },
      Math.max(50, Math.floor(options.staleMs / 3)),
    )
    heartbeat.unref()
    await store.delete(choosingKey)

    const timedOut = () => Date.now() > deadline
    const lockedError = () =>
      createError('ERR_REGISTRY_LOCKED', {
        location: store.location,
        seconds: Math.round(options.waitMs / 1000),
      })

    // Step 2: wait for the contenders that were choosing while we drew our number.
    let choosers = new Set(
      (await store.list(choosingPrefix)).map((c) => c.key).filter((k) => k !== choosingKey && k !== ticketKey),
    )
    while (choosers.size > 0) {
      if (timedOut()) throw lockedError()
      await sleep(pollMs)
      const now = Date.now()
      const current = (await store.list(choosingPrefix)).filter((c) => choosers.has(c.key))
      const live = new Set<string>()
      for (const c of current) {
        if (observer.isStale(c, now)) await store.delete(c.key)
        else live.add(c.key)
      }
      choosers = live
    }

    // Step 3: wait for every ticket drawn before ours.
    for (;;) {
      const now = Date.now()
      const ahead: Ticket[] = []
      for (const info of await store.list(ticketsPrefix)) {
        const t = parseTicket(info, ticketsPrefix)
        if (!t || t.id === id || !before(t, mine)) continue
        if (observer.isStale(info, now)) await store.delete(info.key)
        else ahead.push(t)
      }
      if (ahead.length === 0) break
      if (timedOut()) throw lockedError()
      await sleep(pollMs)
    }
    if (controller.signal.aborted) throw createError('ERR_REGISTRY_LOCK_LOST', { location: store.location })
  } catch (err) {
    await cleanup()
    throw err
  }

  let released = false
  const heldKey = ticketKey
  return {
    signal: controller.signal,
    async assertHeld() {
      if (controller.signal.aborted || !(await store.head(heldKey))) {
        if (!controller.signal.aborted) {
          controller.abort(createError('ERR_REGISTRY_LOCK_LOST', { location: store.location }))
        }
        throw createError('ERR_REGISTRY_LOCK_LOST', { location: store.location })
      }
    },
    async release() {
      if (released) return
      released = true
      await cleanup()
    },
  }
}
