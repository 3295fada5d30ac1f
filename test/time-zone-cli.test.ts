/**
 * A time without an offset names one instant on every machine: the CLI runs in processes whose zone is 14 hours
 * ahead of UTC (Pacific/Kiritimati) and 10 hours behind it (America/Adak, in January), and reads `12:00` as 12:00 UTC
 * in both. `TZ` is given to the process as it starts, the only way Node is sure to take it.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { defaultConfig } from '../src/config/defaults.js'
import { samplePrediction } from '../src/store/contract.js'
import { openStore } from '../src/store/open.js'
import { spawnCli } from './helpers/cli-process.js'

const HOUR = 3_600_000
/** Midnight UTC; the log holds one prediction at each hour of that day, `p-00000` at 00:00 to `p-00023` at 23:00. */
const T0 = Date.UTC(2026, 0, 31)
const ids = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `p-${String(from + i).padStart(5, '0')}`)

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function seededLog(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'io-timezone-'))
  dirs.push(dir)
  const store = await openStore(defaultConfig().store, { root: dir })
  try {
    await store.insertPredictions(Array.from({ length: 24 }, (_, i) => samplePrediction(i, { ts: T0 + i * HOUR })))
  } finally {
    await store.close()
  }
  return dir
}

async function exportedIds(dir: string, ...args: string[]): Promise<string[]> {
  const io = memoryIO(dir, {})
  expect(await runCli(['log', 'export', ...args], io), io.err()).toBe(0)
  return io
    .out()
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l).id)
}

describe.each([
  // what JavaScript makes of 2026-01-31 12:00 in that zone: the instant a local reading would have purged before
  { zone: 'Pacific/Kiritimati', localNoon: '2026-01-30T22:00:00.000Z' },
  { zone: 'America/Adak', localNoon: '2026-01-31T22:00:00.000Z' },
])('intentops in a process whose zone is $zone', ({ zone, localNoon }) => {
  const env = { TZ: zone }

  it('is in that zone, far from UTC', async () => {
    // Were TZ ignored, the tests below would pass in a UTC process without proving anything.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-e', 'process.stdout.write(new Date(2026, 0, 31, 12).toISOString())'],
      { env: { ...process.env, ...env } },
    )
    expect(stdout).toBe(localNoon)
  })

  it('log purge --before 2026-01-31T12:00 deletes exactly the predictions logged before 12:00 UTC', async () => {
    const dir = await seededLog()
    const res = await spawnCli(dir, ['log', 'purge', '--before', '2026-01-31T12:00', '--json'], { env })
    expect(res.code, res.err).toBe(0)
    expect(JSON.parse(res.out)).toEqual({ purged: 12, before: '2026-01-31T12:00:00.000Z', dryRun: false })
    expect(await exportedIds(dir)).toEqual(ids(12, 24))
  }, 60_000)

  it('log export and analytics read --from and --to, with a space or a T, as UTC', async () => {
    const dir = await seededLog()
    const exported = await spawnCli(
      dir,
      ['log', 'export', '--from', '2026-01-31 18:00:00', '--to', '2026-01-31T20:30'],
      { env },
    )
    expect(exported.code, exported.err).toBe(0)
    expect(
      exported.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(ids(18, 21))
    const analytics = await spawnCli(
      dir,
      ['analytics', 'intents', '--from', '2026-01-31T06:00', '--to', '2026-01-31 09:00', '--bucket', 'hour', '--json'],
      { env },
    )
    expect(analytics.code, analytics.err).toBe(0)
    const result = JSON.parse(analytics.out)
    expect(result.range).toMatchObject({ from: '2026-01-31T06:00:00.000Z', to: '2026-01-31T09:00:00.000Z' })
    expect(result.total).toBe(3)
  }, 60_000)
})
