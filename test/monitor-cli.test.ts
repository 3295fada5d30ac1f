import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { syntheticTraffic, syntheticTrainingData } from '../src/monitor/testing.js'
import { openSqliteStore } from '../src/store/sqlite.js'

const DAY = 86_400_000
let dir: string
let server: Server
let hookUrl: string
const hooks: unknown[] = []
const NOW = Date.now()

async function seed(file: string, shifted: boolean) {
  const store = openSqliteStore({ file: path.join(dir, file) })
  await store.migrate()
  const step = Math.floor((7 * DAY) / 600)
  await store.insertPredictions(syntheticTraffic({ seed: 1, count: 600, start: NOW - 14 * DAY, stepMs: step }))
  await store.insertPredictions(
    syntheticTraffic({
      seed: 2,
      count: 600,
      start: NOW - 7 * DAY + 60_000,
      stepMs: step,
      shift: shifted ? 'vocabulary' : 'none',
    }),
  )
  await store.close()
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-monitor-cli-'))
  const rows = syntheticTrainingData(1).examples.map((e) => JSON.stringify({ text: e.text, intent: e.intent }))
  writeFileSync(path.join(dir, 'train.jsonl'), `${rows.join('\n')}\n`)
  writeFileSync(path.join(dir, 'calm.yml'), 'data: [train.jsonl]\nstore:\n  path: calm.db\n')
  writeFileSync(path.join(dir, 'shifted.yml'), 'data: [train.jsonl]\nstore:\n  path: shifted.db\n')
  await seed('calm.db', false)
  await seed('shifted.db', true)
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      hooks.push(JSON.parse(body))
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack`
})

afterAll(async () => {
  await new Promise((r) => server.close(r))
  rmSync(dir, { recursive: true, force: true })
})

describe('intentops analytics', () => {
  it('prints intent counts as a table and as JSON', async () => {
    let io = memoryIO(dir)
    expect(await runCli(['analytics', 'intents', '-c', 'shifted.yml'], io)).toBe(0)
    expect(io.out()).toMatch(/^intents, .* \.\. .*: 600 messages\nintent +count +share\n/)
    expect(io.out()).toContain('nlu_fallback')
    // Analytics no longer create indexes of their own (monitor/indexes.ts), so nothing is announced.
    expect(io.err()).toBe('')
    io = memoryIO(dir)
    const from = new Date(NOW - 7 * DAY).toISOString()
    expect(await runCli(['analytics', 'rates', '-c', 'shifted.yml', '--from', from, '--json'], io)).toBe(0)
    const r = JSON.parse(io.out())
    expect(r).toMatchObject({ kind: 'rates', total: 600, threshold: 0.5 })
    expect(r.fallbackRate).toBeGreaterThan(0.35)
    expect(r.fallbackRate).toBeLessThan(0.65)
  })

  it('writes SVG charts and an HTML page', async () => {
    const io = memoryIO(dir)
    expect(
      await runCli(['analytics', 'ngrams', '-c', 'shifted.yml', '--svg', 'charts', '--html', 'out/ngrams.html'], io),
    ).toBe(0)
    expect(io.out()).toMatch(/top words and bigrams, .*: 600 messages/)
    const svg = readFileSync(path.join(dir, 'charts', 'ngrams-ngrams.svg'), 'utf8')
    expect(svg).toMatch(/^<svg/)
    expect(svg).toContain('wallet')
    const html = readFileSync(path.join(dir, 'out', 'ngrams.html'), 'utf8')
    expect(html).toContain('<svg')
    expect(html).toContain('Content-Security-Policy')
    expect(io.err()).toContain(`wrote ${path.join(dir, 'out', 'ngrams.html')}`)
  })

  it('explains an --svg or --html path that runs through a file', async () => {
    for (const args of [
      ['--svg', 'train.jsonl'],
      ['--svg', 'train.jsonl/charts'],
      ['--html', 'train.jsonl/page.html'],
    ]) {
      const io = memoryIO(dir)
      expect(await runCli(['analytics', 'intents', '-c', 'shifted.yml', ...args], io)).toBe(1)
      expect(io.err()).toMatch(
        new RegExp(
          `^error ERR_WRITE_FAILED: Cannot write .*: ${path.join(dir, 'train.jsonl')} is a file, not a directory \\(E[A-Z]+\\)\n  hint: `,
        ),
      )
    }
    expect(readFileSync(path.join(dir, 'train.jsonl'), 'utf8')).toMatch(/^\{"text"/)
  })

  it('finds emerging words against the project training data', async () => {
    const io = memoryIO(dir)
    expect(await runCli(['analytics', 'emerging', '-c', 'shifted.yml', '--json', '--limit', '5'], io)).toBe(0)
    const r = JSON.parse(io.out())
    expect(r.items).toHaveLength(5)
    for (const i of r.items) expect(i.trainingCount).toBe(0)
  })

  it('refuses unknown analytics and bad options', async () => {
    let io = memoryIO(dir)
    expect(await runCli(['analytics', 'bogus', '-c', 'calm.yml'], io)).toBe(1)
    expect(io.err()).toContain('ERR_ANALYTICS_UNKNOWN')
    expect(io.err()).toContain('intents, channels, rates')
    io = memoryIO(dir)
    expect(await runCli(['analytics', 'intents', '-c', 'calm.yml', '--bucket', 'week'], io)).toBe(2)
    expect(io.err()).toContain('--bucket must be day or hour')
    io = memoryIO(dir)
    expect(
      await runCli(['analytics', 'intents', '-c', 'calm.yml', '--from', '2026-02-01', '--to', '2026-01-01'], io),
    ).toBe(1)
    expect(io.err()).toContain('ERR_ANALYTICS_RANGE')
  })
})

describe('intentops monitor', () => {
  it('passes on calm traffic, exit 0, no webhook call', async () => {
    const io = memoryIO(dir)
    expect(await runCli(['monitor', '-c', 'calm.yml', '--webhook', hookUrl], io)).toBe(0)
    expect(io.out()).toMatch(/^drift: last 7d \(600 messages\) against training data/)
    expect(io.out()).toContain('no drift')
    expect(hooks).toHaveLength(0)
  })

  it('fails on shifted traffic: exit 1, JSON report, Slack-shaped webhook, HTML page', async () => {
    const io = memoryIO(dir)
    const code = await runCli(
      ['monitor', '-c', 'shifted.yml', '--reference', '7d', '--webhook', hookUrl, '--json', '--html', 'drift.html'],
      io,
    )
    expect(code).toBe(1)
    const report = JSON.parse(io.out())
    expect(report.failed).toEqual(expect.arrayContaining(['oov_share', 'domain_classifier']))
    expect(hooks).toHaveLength(1)
    expect((hooks[0] as { text: string }).text).toMatch(/drift check\(s\) failed in last 7d/)
    expect(io.err()).toContain('alert sent to 127.0.0.1')
    expect(existsSync(path.join(dir, 'drift.html'))).toBe(true)
  })

  it('compares with FROM..TO written as ages, while a duration alone stays the window just before', async () => {
    const before = Date.now()
    let io = memoryIO(dir)
    expect(await runCli(['monitor', '-c', 'calm.yml', '--reference', '14d..7d', '--no-notify', '--json'], io)).toBe(0)
    const after = Date.now()
    const aged = JSON.parse(io.out()).reference
    const [from, to] = (aged.label as string).split(' .. ').map((t) => Date.parse(t))
    expect(from).toBeGreaterThanOrEqual(before - 14 * DAY)
    expect(from).toBeLessThanOrEqual(after - 14 * DAY)
    expect(to! - from!).toBe(7 * DAY)
    // the first week of traffic, less what the seconds since it was seeded moved past its edges
    expect(aged.size).toBeGreaterThan(550)
    expect(aged.size).toBeLessThanOrEqual(600)
    io = memoryIO(dir)
    expect(await runCli(['monitor', '-c', 'calm.yml', '--reference', '7d', '--no-notify', '--json'], io)).toBe(0)
    expect(JSON.parse(io.out()).reference).toMatchObject({ kind: 'window', label: 'the 7d before' })
    // an age takes a duration's units: 2w..1w is the same week as 14d..7d, 2w alone the two weeks before the window
    io = memoryIO(dir)
    expect(await runCli(['monitor', '-c', 'calm.yml', '--reference', '2w..10080m', '--no-notify', '--json'], io)).toBe(
      0,
    )
    const weeks = JSON.parse(io.out()).reference
    const [wFrom, wTo] = (weeks.label as string).split(' .. ').map((t) => Date.parse(t))
    expect(wFrom).toBeGreaterThanOrEqual(before - 14 * DAY)
    expect(wTo! - wFrom!).toBe(7 * DAY)
    expect(weeks.size).toBeGreaterThan(550)
    expect(weeks.size).toBeLessThanOrEqual(600)
    io = memoryIO(dir)
    expect(await runCli(['monitor', '-c', 'calm.yml', '--reference', '1w', '--no-notify', '--json'], io)).toBe(0)
    expect(JSON.parse(io.out()).reference).toMatchObject({ kind: 'window', label: 'the 1w before' })
    io = memoryIO(dir)
    expect(await runCli(['monitor', '-c', 'calm.yml', '--reference', '2mo..1mo'], io)).toBe(1)
    expect(io.err()).toContain(
      'error ERR_MONITOR_WINDOW: Cannot read the reference "2mo..1mo": FROM "2mo" is not a date ("mo" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks))',
    )
    expect(io.err()).toContain('`14d` alone is a length; `30d..7d` runs from 30 days ago to 7 days ago.')
  })

  it('refuses a bad window', async () => {
    const io = memoryIO(dir)
    expect(await runCli(['monitor', '-c', 'calm.yml', '--window', 'soon'], io)).toBe(1)
    expect(io.err()).toContain('ERR_MONITOR_WINDOW')
  })
})
