import { describe, expect, it } from 'vitest'
import { evalSummary, modelBytes, signedRegistry, steppingClock } from '../../test/helpers/registry.js'
import { defaultConfig } from '../config/defaults.js'
import { createMemoryBackend } from './backends/memory.js'
import { auditLog, holdersDuring, parseTimeQuery } from './history.js'

const gates = defaultConfig().gates

/** Day 1 08:00 v1 live; day 1 12:00 v2 live; day 2 09:00 rolled back to v1; day 3 v3 fails its gate. */
async function story() {
  const times = [
    '2024-05-01T07:00:00Z', // format.json
    '2024-05-01T07:10:00Z', // publish v1
    '2024-05-01T07:20:00Z', // publish v2
    '2024-05-01T08:00:00Z', // promote v1
    '2024-05-01T12:00:00Z', // promote v2
    '2024-05-02T09:00:00Z', // rollback to v1
    '2024-05-03T10:00:00Z', // publish v3
    '2024-05-03T11:00:00Z', // gate for v3 fails
  ].map((t) => new Date(t))
  let i = 0
  const { registry } = signedRegistry(createMemoryBackend(), { now: () => times[Math.min(i++, times.length - 1)]! })
  await registry.publish({ name: 'bot', bytes: modelBytes('1'), author: 'ada', eval: evalSummary(0.8) })
  await registry.publish({ name: 'bot', bytes: modelBytes('2'), author: 'ada', eval: evalSummary(0.85) })
  await registry.promote({ name: 'bot', version: 1, alias: 'production', policy: gates, actor: 'ada' })
  await registry.promote({ name: 'bot', version: 2, alias: 'production', policy: gates, actor: 'bob' })
  await registry.rollback({ name: 'bot', alias: 'production', actor: 'oncall', reason: 'complaints' })
  await registry.publish({ name: 'bot', bytes: modelBytes('3'), author: 'ada', eval: evalSummary(0.7) })
  await registry.promote({ name: 'bot', version: 3, alias: 'production', policy: gates, actor: 'ada' })
  return registry
}

describe('audit log and history', () => {
  it('merges publishes, gate decisions, moves and rollbacks in time order', async () => {
    const registry = await story()
    const { entries, problems } = await auditLog(registry, 'bot')
    expect(problems).toEqual([])
    expect(entries.map((e) => [e.kind, e.actor, e.at.slice(0, 16)])).toEqual([
      ['publish', 'ada', '2024-05-01T07:10'],
      ['publish', 'ada', '2024-05-01T07:20'],
      ['gate', 'ada', '2024-05-01T08:00'],
      ['promote', 'ada', '2024-05-01T08:00'],
      ['gate', 'bob', '2024-05-01T12:00'],
      ['promote', 'bob', '2024-05-01T12:00'],
      ['rollback', 'oncall', '2024-05-02T09:00'],
      ['publish', 'ada', '2024-05-03T10:00'],
      ['gate', 'ada', '2024-05-03T11:00'],
    ])
    expect(entries[6]).toMatchObject({ kind: 'rollback', from: 2, to: 1, reason: 'complaints' })
    expect(entries[8]).toMatchObject({
      kind: 'gate',
      version: 3,
      passed: false,
      failed: [expect.stringMatching(/^minDelta/)],
    })
  })

  it('answers what was in production at an instant and during a day', async () => {
    const registry = await story()
    const { history } = (await registry.readAlias('bot', 'production'))!
    const at = (q: string) => holdersDuring(history, parseTimeQuery(q)).map((h) => h.version)
    expect(at('2024-05-01T07:59:59Z')).toEqual([])
    expect(at('2024-05-01T08:00:00Z')).toEqual([1])
    expect(at('2024-05-01T13:00:00+02:00')).toEqual([1])
    expect(at('2024-05-01T14:30:00+02:00')).toEqual([2])
    expect(at('2024-05-02T08:59:00Z')).toEqual([2])
    expect(at('2024-05-02T10:00:00Z')).toEqual([1])
    expect(at('2024-05-01')).toEqual([1, 2])
    expect(at('2024-05-02')).toEqual([2, 1])
    expect(at('2024-05-04')).toEqual([1])
    expect(at('2024-04-30')).toEqual([])
    const day = holdersDuring(history, parseTimeQuery('2024-05-02'))
    expect(day[0]).toMatchObject({ version: 2, from: '2024-05-01T12:00:00.000Z', until: '2024-05-02T09:00:00.000Z' })
    expect(day[1]).toMatchObject({ version: 1, until: null, move: { action: 'rollback', actor: 'oncall' } })
  })

  it('reads epoch ms and ages as instants, ages counting back from now', async () => {
    const registry = await story()
    const { history } = (await registry.readAlias('bot', 'production'))!
    const now = Date.UTC(2024, 4, 3, 12)
    const at = (q: string) => holdersDuring(history, parseTimeQuery(q, now)).map((h) => h.version)
    expect(at(String(Date.UTC(2024, 4, 1, 7, 59, 59, 999)))).toEqual([])
    expect(at(String(Date.UTC(2024, 4, 1, 8)))).toEqual([1])
    expect(at('2d')).toEqual([2]) // 2024-05-01T12:00Z, the moment v2 was promoted
    expect(at('2.0001d')).toEqual([1])
    expect(at('36h')).toEqual([2]) // 2024-05-02T00:00Z: an age names that instant, not the day it falls in
    expect(at('1d')).toEqual([1]) // after the rollback at 09:00
    expect(at('3d')).toEqual([])
    expect(parseTimeQuery('36h', now)).toEqual({
      start: new Date(Date.UTC(2024, 4, 2)),
      end: new Date(Date.UTC(2024, 4, 2)),
      day: false,
    })
  })

  it('rejects dates it cannot read', () => {
    for (const bad of ['yesterday', '2024-13-01', '2024-02-30', '01/05/2024', '2mo', '3 days', '2W']) {
      expect(() => parseTimeQuery(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
    // an age in weeks is a time: two weeks before now
    const now = Date.UTC(2026, 10, 25, 12)
    expect(parseTimeQuery('2w', now)).toEqual({
      start: new Date(now - 14 * 86_400_000),
      end: new Date(now - 14 * 86_400_000),
      day: false,
    })
  })

  it('filters by alias and reports unknown models', async () => {
    const registry = await story()
    await registry.promote({ name: 'bot', version: 2, alias: 'candidate', policy: gates, actor: 'ada' })
    const only = await auditLog(registry, 'bot', { alias: 'candidate' })
    expect(only.entries.filter((e) => e.kind === 'promote').map((e) => 'alias' in e && e.alias)).toEqual(['candidate'])
    await expect(auditLog(registry, 'nobot')).rejects.toMatchObject({ code: 'ERR_REGISTRY_MODEL_NOT_FOUND' })
    expect(steppingClock).toBeTypeOf('function')
  })
})
