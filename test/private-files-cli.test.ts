/**
 * Files the CLI writes from the prediction log hold what users typed: `log export --out`, and the charts and pages
 * of `analytics` and `monitor`. Under a usual umask (022, which leaves new files 0644) they are still created for
 * their owner alone, never wider than a file they replace, and `-` or no file keeps the output on stdout.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { samplePrediction } from '../src/store/contract.js'
import { openStore } from '../src/store/open.js'
import { spawnCli } from './helpers/cli-process.js'

const T0 = Date.UTC(2026, 0, 1)
const DAY = 86_400_000
const iso = (ms: number) => new Date(ms).toISOString()
const mode = (f: string) => statSync(f).mode & 0o777
const run = (args: string[]) => spawnCli(dir, args, { umask: 0o022 })

let dir: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-private-files-'))
  writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\ndata: [nlu.yml]\n')
  writeFileSync(
    path.join(dir, 'nlu.yml'),
    'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n- intent: refund\n  examples: |\n    - my money back\n',
  )
  const store = await openStore(defaultConfig().store, { root: dir })
  try {
    await store.insertPredictions(
      Array.from({ length: 12 }, (_, i) =>
        samplePrediction(i, { ts: T0 + i * DAY, text: `refund for zanzibar order ${i}` }),
      ),
    )
  } finally {
    await store.close()
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('files written from the prediction log, under umask 022', () => {
  it('the same shell makes an ordinary file 0644, so the umask is the one a user would have', async () => {
    // `data split` writes training data, not the log: it follows the umask.
    const res = await run(['data', 'split', '--out', 'split'])
    expect(res.code, res.err).toBe(0)
    const files = readdirSync(path.join(dir, 'split'), { recursive: true, withFileTypes: true }).filter((e) =>
      e.isFile(),
    )
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) expect(mode(path.join(f.parentPath, f.name)), f.name).toBe(0o644)
  }, 30_000)

  it('log export --out creates a file only its owner may read, in both formats', async () => {
    for (const format of ['jsonl', 'csv']) {
      const res = await run(['log', 'export', '--format', format, '--out', `out/log.${format}`])
      expect(res.code, res.err).toBe(0)
      const file = path.join(dir, 'out', `log.${format}`)
      expect(mode(file)).toBe(0o600)
      expect(readFileSync(file, 'utf8')).toContain('zanzibar')
    }
    expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['log.csv', 'log.jsonl'])
  }, 30_000)

  it('log export narrows a file it replaces to 0600 and keeps a stricter mode', async () => {
    mkdirSync(path.join(dir, 'replace'), { recursive: true })
    const wide = path.join(dir, 'replace', 'wide.jsonl')
    const strict = path.join(dir, 'replace', 'strict.jsonl')
    for (const [f, m] of [
      [wide, 0o644],
      [strict, 0o400],
    ] as const) {
      writeFileSync(f, 'old\n')
      chmodSync(f, m)
    }
    for (const f of [wide, strict]) {
      const res = await run(['log', 'export', '--out', f])
      expect(res.code, res.err).toBe(0)
      expect(readFileSync(f, 'utf8').trim().split('\n')).toHaveLength(12)
    }
    expect([mode(wide), mode(strict)]).toEqual([0o600, 0o400])
  }, 30_000)

  it('log export --out - writes to stdout and no file', async () => {
    const before = readdirSync(dir).sort()
    const res = await run(['log', 'export', '--out', '-'])
    expect(res.code, res.err).toBe(0)
    expect(res.out.trim().split('\n')).toHaveLength(12)
    expect(res.out).toContain('zanzibar')
    expect(res.err).not.toContain('wrote')
    expect(readdirSync(dir).sort()).toEqual(before)
  }, 30_000)

  it('analytics --html and --svg write pages and charts only their owner may read', async () => {
    const res = await run([
      'analytics',
      'ngrams',
      '--from',
      iso(T0),
      '--to',
      iso(T0 + 30 * DAY),
      '--html',
      'report/ngrams.html',
      '--svg',
      'charts',
    ])
    expect(res.code, res.err).toBe(0)
    const html = path.join(dir, 'report', 'ngrams.html')
    // The page shows words of the messages: what makes it private.
    expect(readFileSync(html, 'utf8')).toContain('zanzibar')
    expect(mode(html)).toBe(0o600)
    const svgs = readdirSync(path.join(dir, 'charts')).filter((f) => f.endsWith('.svg'))
    expect(svgs.length).toBeGreaterThan(0)
    for (const f of svgs) expect(mode(path.join(dir, 'charts', f)), f).toBe(0o600)
  }, 30_000)

  it('monitor --html and --svg write the drift page and chart only their owner may read', async () => {
    const res = await run([
      'monitor',
      '--reference',
      `${iso(T0)}..${iso(T0 + 4 * DAY)}`,
      '--window',
      '1d',
      '--no-notify',
      '--html',
      'drift.html',
      '--svg',
      'drift-charts',
    ])
    expect([0, 1], res.err).toContain(res.code)
    expect(res.err).toContain('wrote')
    expect(mode(path.join(dir, 'drift.html'))).toBe(0o600)
    const svgs = readdirSync(path.join(dir, 'drift-charts'))
    expect(svgs.length).toBeGreaterThan(0)
    for (const f of svgs) expect(mode(path.join(dir, 'drift-charts', f)), f).toBe(0o600)
  }, 30_000)
})
