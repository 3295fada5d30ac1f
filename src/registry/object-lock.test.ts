import { describe, expect, it } from 'vitest'
import { createMemoryBackend } from './backends/memory.js'
import { acquireObjectLock } from './object-lock.js'

const enc = (s: string) => new TextEncoder().encode(s)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('acquireObjectLock (bakery lock over plain object writes)', () => {
  it('serialises many contenders, in ticket order, with nothing left behind', async () => {
    const store = createMemoryBackend()
    let inside = 0
    let maxInside = 0
    let count = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const lock = await acquireObjectLock(store, 'locks/x/', { waitMs: 20_000, staleMs: 5000, pollMs: 5 })
        inside++
        maxInside = Math.max(maxInside, inside)
        const before = count
        await sleep(5)
        count = before + 1
        inside--
        await lock.release()
      }),
    )
    expect(maxInside).toBe(1)
    expect(count).toBe(8)
    expect(await store.list('locks/')).toEqual([])
  })

  it('takes over the ticket of a holder that stopped refreshing it', async () => {
    const store = createMemoryBackend()
    // A contender that died holding the lock: a ticket nobody refreshes.
    await store.put('locks/x/tickets/000000000001-deadbeef', enc('{}'))
    const started = Date.now()
    const lock = await acquireObjectLock(store, 'locks/x/', { waitMs: 5000, staleMs: 300, pollMs: 20 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(280)
    expect((await store.list('locks/x/tickets/')).map((o) => o.key)).not.toContain(
      'locks/x/tickets/000000000001-deadbeef',
    )
    await lock.release()
  })

  it('takes over a contender that died while choosing its number', async () => {
    const store = createMemoryBackend()
    await store.put('locks/x/choosing/deadbeef', enc('{}'))
    const lock = await acquireObjectLock(store, 'locks/x/', { waitMs: 5000, staleMs: 300, pollMs: 20 })
    expect(await store.head('locks/x/choosing/deadbeef')).toBeNull()
    await lock.release()
  })

  it('never takes over a live holder: its heartbeat keeps the ticket fresh', async () => {
    const store = createMemoryBackend()
    const holder = await acquireObjectLock(store, 'locks/x/', { waitMs: 1000, staleMs: 300, pollMs: 20 })
    await expect(
      acquireObjectLock(store, 'locks/x/', { waitMs: 1200, staleMs: 300, pollMs: 20 }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRY_LOCKED' })
    await holder.assertHeld()
    await holder.release()
    // The waiter that gave up removed its own ticket.
    expect(await store.list('locks/x/')).toEqual([])
  })

  it('notices when its ticket was taken over, and aborts its signal', async () => {
    const store = createMemoryBackend()
    const lock = await acquireObjectLock(store, 'locks/x/', { waitMs: 1000, staleMs: 300, pollMs: 20 })
    const [ticket] = await store.list('locks/x/tickets/')
    await store.delete(ticket!.key)
    await expect(lock.assertHeld()).rejects.toMatchObject({ code: 'ERR_REGISTRY_LOCK_LOST' })
    expect(lock.signal.aborted).toBe(true)
    await lock.release()
    // The heartbeat must not have resurrected the ticket.
    await sleep(250)
    expect(await store.list('locks/x/tickets/')).toEqual([])
  })
})
