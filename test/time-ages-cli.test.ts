/**
 * An age takes the units of a monitor duration, minutes and weeks among them, in every command that takes a time:
 * `intentops` runs in a process of its own on a real SQLite log whose predictions lie minutes, hours, days and weeks
 * before the test started. The gaps between them are wide enough that the seconds the processes take to start move no
 * prediction across an edge.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { samplePrediction } from '../src/store/contract.js'
import { openStore } from '../src/store/open.js'
import { spawnCli } from './helpers/cli-process.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
/** How long before the test started each prediction was logged, newest first; `p-00000` is the first. */
const AGO = [10 * MIN, 50 * MIN, 5 * HOUR, 3 * DAY, 10 * DAY, 20 * DAY]

let dir = ''
let start = 0

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-ages-'))
  start = Date.now()
  const store = await openStore(defaultConfig().store, { root: dir })
  try {
    await store.insertPredictions(AGO.map((ago, i) => samplePrediction(i, { ts: start - ago })))
  } finally {
    await store.close()
  }
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

async function exported(...args: string[]): Promise<string[]> {
  const res = await spawnCli(dir, ['log', 'export', ...args])
  expect(res.code, res.err).toBe(0)
  return res.out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l).id)
    .sort()
}

const ids = (...i: number[]) => i.map((n) => `p-${String(n).padStart(5, '0')}`)

describe('ages in minutes, hours, days and weeks, through a real SQLite log', () => {
  it('log export --from and --to read m as minutes and w as weeks, decimals allowed', async () => {
    expect(await exported('--from', '30m')).toEqual(ids(0))
    expect(await exported('--from', '90m', '--to', '30m')).toEqual(ids(1))
    expect(await exported('--from', '1w')).toEqual(ids(0, 1, 2, 3))
    expect(await exported('--from', '3w', '--to', '2w')).toEqual(ids(5))
    expect(await exported('--from', '0.5w', '--to', '1.5h')).toEqual(ids(2, 3))
  }, 60_000)

  it('log purge --before, analytics and review list take the same units', async () => {
    const purge = await spawnCli(dir, ['log', 'purge', '--before', '2w', '--dry-run', '--json'])
    expect(purge.code, purge.err).toBe(0)
    const planned = JSON.parse(purge.out)
    expect(planned).toMatchObject({ purged: 1, dryRun: true })
    expect(Date.parse(planned.before)).toBeGreaterThanOrEqual(start - 2 * 7 * DAY)
    expect(Date.parse(planned.before)).toBeLessThan(start - 2 * 7 * DAY + 10 * MIN)
    const analytics = await spawnCli(dir, ['analytics', 'intents', '--from', '1w', '--to', '30m', '--json'])
    expect(analytics.code, analytics.err).toBe(0)
    expect(JSON.parse(analytics.out).total).toBe(3)
    const review = await spawnCli(dir, ['review', 'list', '--from', '60m', '--json'])
    expect(review.code, review.err).toBe(0)
    expect(JSON.parse(review.out)).toMatchObject({ messages: 2 })
  }, 60_000)

  it('refuses a unit it does not take, naming it and the units it does, M above all', async () => {
    const res = await spawnCli(dir, ['log', 'export', '--from', '30M'])
    expect(res.code).toBe(2)
    expect(res.err).toContain(
      'error ERR_CLI_USAGE: --from "30M" is not a date ("M" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks)): use a date',
    )
    expect(res.out).toBe('')
  }, 60_000)
})
