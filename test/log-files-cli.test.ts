/**
 * Every command that opens a SQLite prediction log warns, once and on stderr, when other users may open its files,
 * the way `intentops serve` does (test/serve-cli.test.ts); its exit code and stdout stay those of a private log, and
 * the warning comes before anything the command prints.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { samplePrediction } from '../src/store/contract.js'
import { openStore } from '../src/store/open.js'
import { spawnCli, spawnCliMerged } from './helpers/cli-process.js'

const T0 = Date.UTC(2026, 0, 1)
const DAY = 86_400_000

let base: string
/** Two projects with the same log: `wide` made readable by everyone, `narrow` left as intentops creates it. */
let wide: string
let narrow: string

async function project(dir: string) {
  mkdirSync(dir)
  writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\ndata: [nlu.yml]\n')
  writeFileSync(
    path.join(dir, 'nlu.yml'),
    'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n- intent: refund\n  examples: |\n    - my money back\n',
  )
  const store = await openStore(defaultConfig().store, { root: dir })
  try {
    await store.insertPredictions(Array.from({ length: 8 }, (_, i) => samplePrediction(i, { ts: T0 + i * DAY })))
    await store.addReview({
      id: 'r1',
      predictionId: 'p-00001',
      action: 'relabel',
      intent: 'greet',
      previousIntent: 'refund',
      reviewer: 'ann',
      ts: T0 + 10 * DAY,
    })
  } finally {
    await store.close()
  }
}

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'io-log-files-'))
  wide = path.join(base, 'wide')
  narrow = path.join(base, 'narrow')
  await project(wide)
  await project(narrow)
  // A log made before intentops created it 0600, or widened by hand.
  chmodSync(path.join(wide, '.intentops', 'store.db'), 0o644)
})
afterAll(() => rmSync(base, { recursive: true, force: true }))

const run = spawnCli

const iso = (ms: number) => new Date(ms).toISOString()

// One command for each place the CLI opens the log: the `log` and `tokens` commands, `review`, `analytics`, `monitor`
// (`serve` has its own test; `retrain`, which opens it through the pipeline, is in test/pipeline-cli.test.ts).
const COMMANDS = [
  ['log', 'export', '--format', 'csv'],
  ['log', 'purge', '--before', '2026-01-04', '--dry-run', '--json'],
  ['review', 'list', '--json'],
  ['analytics', 'intents', '--from', iso(T0), '--to', iso(T0 + 30 * DAY), '--json'],
  ['monitor', '--reference', `${iso(T0)}..${iso(T0 + 4 * DAY)}`, '--window', '1d', '--no-notify', '--json'],
]

describe('a prediction log other users may open', () => {
  it.each(COMMANDS.map((c) => [c.join(' '), c] as const))(
    '`%s` warns once on stderr, naming the file and the fix; stdout and the exit code are unchanged',
    async (_, args) => {
      const log = path.join(wide, '.intentops', 'store.db')
      // Each project's log is opened by one process at a time, so SQLite removes the -wal and -shm files on close.
      const [exposed, private_] = await Promise.all([run(wide, args), run(narrow, args)])
      const warning = `warning: the prediction log holds message text, and other users may open these files of it: ${log} (0644); \`chmod 600 ${log}\` unless that is intended\n`
      expect(exposed.err.split(warning)).toHaveLength(2)
      expect(exposed.err.split('other users may open')).toHaveLength(2)
      expect(private_.err).not.toContain('other users may open')
      expect([exposed.code, private_.code], private_.err).toEqual([0, 0])
      expect(private_.out).not.toBe('')
      expect(exposed.out).toBe(private_.out)
      if (args.includes('--json')) expect(() => JSON.parse(exposed.out)).not.toThrow()
      // The warning leaves the mode alone: a group may read the log on purpose.
      expect(statSync(log).mode & 0o777).toBe(0o644)
    },
    30_000,
  )

  it.each(COMMANDS.map((c) => [c.join(' '), c] as const))(
    '`%s` gives the warning before its output, on one terminal or file that takes both',
    async (_, args) => {
      const log = path.join(wide, '.intentops', 'store.db')
      const warning = `warning: the prediction log holds message text, and other users may open these files of it: ${log} (0644); \`chmod 600 ${log}\` unless that is intended\n`
      const [merged, apart] = [await spawnCliMerged(wide, args), await run(wide, args)]
      expect([merged.code, apart.code], merged.both).toEqual([0, 0])
      expect(merged.both.startsWith(warning), merged.both).toBe(true)
      // All the output follows it, as it is when stdout is read alone.
      expect(merged.both.slice(warning.length)).toContain(apart.out)
      expect(merged.both.split('other users may open')).toHaveLength(2)
    },
    30_000,
  )
})
