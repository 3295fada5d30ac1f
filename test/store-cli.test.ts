import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { parse } from 'csv-parse/sync'
import { sql } from 'kysely'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { defaultConfig } from '../src/config/defaults.js'
import { samplePrediction } from '../src/store/contract.js'
import { hashToken } from '../src/store/kysely-store.js'
import { openStore } from '../src/store/open.js'
import { spawnCli } from './helpers/cli-process.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

let dir: string
const cli = async (...argv: string[]) => {
  const io = memoryIO(dir, {})
  const code = await runCli(argv, io)
  return { code, out: io.out(), err: io.err() }
}
const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)

async function seed(n: number) {
  const store = await openStore(defaultConfig().store, { root: dir })
  try {
    await store.insertPredictions(
      Array.from({ length: n }, (_, i) =>
        samplePrediction(i, { ts: T0 + i * DAY, text: i === 2 ? 'Say "hi", then, a\nnew line' : `message ${i}` }),
      ),
    )
    await store.addReview({
      id: 'r1',
      predictionId: 'p-00001',
      action: 'relabel',
      intent: 'cancel',
      previousIntent: 'refund',
      reviewer: 'ann',
      ts: T0 + 100 * DAY,
    })
  } finally {
    await store.close()
  }
}

describe('log and tokens commands (SQLite under .intentops/)', () => {
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'io-storecli-'))
    dirs.push(dir)
  })

  it('log stats counts predictions, reviews and tokens', async () => {
    await seed(10)
    const res = await cli('log', 'stats')
    expect(res.code, res.err).toBe(0)
    expect(res.out).toContain('predictions  10 (9 unreviewed, 1 reviewed')
    expect(res.out).toContain('reviews      1 (0 exported)')
    const json = JSON.parse((await cli('log', 'stats', '--json')).out)
    expect(json).toMatchObject({ backend: 'sqlite', predictions: 10, reviewed: 1, reviews: 1, oldest: T0 })
    expect(json.byChannel).toEqual({ api: 4, rasa: 3, ui: 3 })
  })

  it('log export streams JSONL to stdout with filters', async () => {
    await seed(10)
    const res = await cli('log', 'export', '--intent', 'refund')
    expect(res.code, res.err).toBe(0)
    const lines = res.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((r) => r.id)).toEqual(['p-00001', 'p-00005', 'p-00009'])
    expect(lines[0]).toMatchObject({ intent: 'refund', label: 'cancel', reviewAction: 'relabel' })
    const ranged = await cli('log', 'export', '--from', '2026-01-03', '--to', '2026-01-05', '--unreviewed')
    expect(
      ranged.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['p-00002', 'p-00003'])
    // An age counts back from now; the seeded January 2026 traffic is older than 30 days.
    const recent = await cli('log', 'export', '--from', '30d')
    expect(recent.code, recent.err).toBe(0)
    expect(recent.out).toBe('')
    expect((await cli('log', 'export', '--from', '36500d')).out.trim().split('\n')).toHaveLength(10)
    const reviewed = await cli('log', 'export', '--reviewed')
    expect(reviewed.out.trim().split('\n')).toHaveLength(1)
  })

  it('log export --format csv --out writes a complete file atomically, with quoting that round-trips', async () => {
    await seed(10)
    const res = await cli('log', 'export', '--format', 'csv', '--out', 'out/log.csv')
    expect(res.code, res.err).toBe(0)
    expect(res.err).toContain('wrote 10 predictions to out/log.csv')
    const rows = parse(readFileSync(path.join(dir, 'out/log.csv'), 'utf8'), { columns: true }) as Array<
      Record<string, string>
    >
    expect(rows).toHaveLength(10)
    expect(rows[2]).toMatchObject({
      id: 'p-00002',
      text: 'Say "hi", then, a\nnew line',
      time: '2026-01-03T00:00:00.000Z',
    })
    expect(JSON.parse(rows[0]!.ranking!)[0]).toMatchObject({ name: 'greet' })
    expect(readdirSync(path.join(dir, 'out'))).toEqual(['log.csv'])
  })

  it('log export --out writes a file only its owner may open, whatever the umask and the mode of a file it replaces', async () => {
    await seed(3)
    const umask = process.umask(0)
    try {
      for (const format of ['jsonl', 'csv']) {
        const res = await cli('log', 'export', '--format', format, '--out', `private.${format}`)
        expect(res.code, res.err).toBe(0)
        expect(statSync(path.join(dir, `private.${format}`)).mode & 0o777).toBe(0o600)
      }
      const shared = path.join(dir, 'shared.jsonl')
      writeFileSync(shared, 'old\n')
      chmodSync(shared, 0o644)
      expect((await cli('log', 'export', '--out', 'shared.jsonl')).code).toBe(0)
      expect(statSync(shared).mode & 0o777).toBe(0o600)
      expect(readFileSync(shared, 'utf8').trim().split('\n')).toHaveLength(3)
      // A umask that would leave the owner unable to write: the file is still exactly 0600.
      process.umask(0o277)
      expect((await cli('log', 'export', '--out', 'narrow.jsonl')).code).toBe(0)
      expect(statSync(path.join(dir, 'narrow.jsonl')).mode & 0o777).toBe(0o600)
    } finally {
      process.umask(umask)
    }
  })

  it('log export keeps the old file when the export fails', async () => {
    await seed(3)
    writeFileSync(path.join(dir, 'keep.jsonl'), 'old\n')
    const res = await cli('log', 'export', '--format', 'xml', '--out', 'keep.jsonl')
    expect(res.code).toBe(2)
    expect(res.err).toContain('unknown export format "xml"')
    expect(readFileSync(path.join(dir, 'keep.jsonl'), 'utf8')).toBe('old\n')
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('log purge --before removes older predictions and their reviews, and prints how many went', async () => {
    await seed(10)
    const res = await cli('log', 'purge', '--before', '2026-01-04')
    expect(res.code, res.err).toBe(0)
    expect(res.out).toBe('purged 3 predictions logged before 2026-01-04T00:00:00.000Z\n')
    const stats = JSON.parse((await cli('log', 'stats', '--json')).out)
    expect(stats).toMatchObject({ predictions: 7, reviews: 0 })
    expect(JSON.parse((await cli('log', 'purge', '--before', '2026-01-04', '--json')).out).purged).toBe(0)
  })

  it('log purge --dry-run counts what a purge would delete and deletes nothing', async () => {
    await seed(10)
    const res = await cli('log', 'purge', '--before', '2026-01-04', '--dry-run')
    expect(res.code, res.err).toBe(0)
    expect(res.out).toBe('would purge 3 predictions logged before 2026-01-04T00:00:00.000Z\n')
    const all = JSON.parse((await cli('log', 'purge', '--before', '0d', '--dry-run', '--json')).out)
    expect(all).toMatchObject({ purged: 10, dryRun: true })
    expect(JSON.parse((await cli('log', 'stats', '--json')).out)).toMatchObject({ predictions: 10, reviews: 1 })
  })

  it('log purge that would empty the log asks on a terminal, and does only what the answer says', async () => {
    await seed(10)
    const ask = async (answer: string | undefined, ...argv: string[]) => {
      const stdin = Object.assign(new PassThrough(), { isTTY: true })
      const io = { ...memoryIO(dir, {}), isTTY: true, stdin }
      if (answer === undefined) stdin.end()
      else stdin.end(`${answer}\n`)
      const code = await runCli(['log', 'purge', ...argv], io)
      return { code, out: io.out(), err: io.err() }
    }
    const predictions = async () => JSON.parse((await cli('log', 'stats', '--json')).out).predictions
    for (const answer of ['n', '', 'maybe', undefined]) {
      const res = await ask(answer, '--before', '0d')
      expect([answer, res.code]).toEqual([answer, 1])
      expect(res.err).toMatch(
        /^--before 0d \(\S+\) is not in the past: delete all 10 predictions in the log and their reviews\? \[y\/N\] nothing purged\n$/,
      )
      expect(res.out).toBe('')
    }
    expect(await predictions()).toBe(10)
    // After the newest prediction, though in the past: it empties the log all the same.
    const yes = await ask('YES', '--before', '2026-06-01')
    expect(yes.code, yes.err).toBe(0)
    expect(yes.err).toContain(
      '--before 2026-06-01 (2026-06-01T00:00:00.000Z) is after the newest prediction: delete all 10 predictions in the log and their reviews? [y/N] ',
    )
    expect(yes.out).toBe('purged 10 predictions logged before 2026-06-01T00:00:00.000Z\n')
    expect(await predictions()).toBe(0)
  })

  it('log purge that keeps some predictions, or that retention asks for, goes ahead without asking', async () => {
    await seed(10)
    const partial = await cli('log', 'purge', '--before', '2026-01-10')
    expect(partial.code, partial.err).toBe(0)
    expect(partial.out).toContain('purged 9 predictions')
    // The configured retention is the decision; it runs from cron, where nobody could answer.
    writeFileSync(path.join(dir, 'intentops.yml'), 'store:\n  retentionDays: 1\n')
    const retention = await cli('log', 'purge')
    expect(retention.code, retention.err).toBe(0)
    expect(retention.out).toContain('purged 1 prediction ')
    // Nothing left to delete: nothing to ask about.
    expect((await cli('log', 'purge', '--before', '0d')).code).toBe(0)
  })

  it('log purge --before refuses a day that does not exist and deletes nothing', async () => {
    await seed(5)
    for (const before of ['2026-11-31', '2026-02-30', '99999999d']) {
      const res = await cli('log', 'purge', '--before', before)
      expect(res.code).not.toBe(0)
      expect(res.err).toContain(`--before "${before}"`)
      expect(res.err).toContain('2026-01-31T12:00:00Z')
    }
    expect(JSON.parse((await cli('log', 'stats', '--json')).out).predictions).toBe(5)
  })

  it('log rollups recounts the analytics rollups after rows were deleted outside intentops', async () => {
    await seed(10)
    const rolledUp = async () => {
      const store = await openStore(defaultConfig().store, { root: dir })
      try {
        const r = await sql<{ n: number | null }>`select sum(n) as n from prediction_rollups`.execute(store.db)
        return Number(r.rows[0]?.n ?? 0)
      } finally {
        await store.close()
      }
    }
    const store = await openStore(defaultConfig().store, { root: dir })
    await store.db
      .deleteFrom('predictions')
      .where('ts', '<', T0 + 3 * DAY)
      .execute()
    await store.close()
    expect(await rolledUp()).toBe(10)
    const res = await cli('log', 'rollups')
    expect(res.code, res.err).toBe(0)
    // From the oldest stale rollup hour (day 0) to the hour after the newest prediction (day 9).
    expect(res.out).toBe(
      `recounted ${9 * 24 + 1} hours (2026-01-01T00:00:00.000Z … 2026-01-10T01:00:00.000Z) from 7 predictions\n`,
    )
    expect(await rolledUp()).toBe(7)
    const ranged = JSON.parse((await cli('log', 'rollups', '--from', '2026-01-05', '--to', '2026-01-06', '--json')).out)
    expect(ranged).toEqual({ from: '2026-01-05T00:00:00.000Z', to: '2026-01-06T00:00:00.000Z', predictions: 1 })
    // epoch ms, as the review and analytics commands take them
    const epoch = await cli('log', 'rollups', '--from', String(Date.UTC(2026, 0, 5)), '--to', '1767657600000', '--json')
    expect(JSON.parse(epoch.out)).toEqual(ranged)
    const backwards = await cli('log', 'rollups', '--from', '2026-01-06', '--to', '2026-01-05')
    expect(backwards.code).toBe(2)
    expect(backwards.err).toContain('--to (2026-01-05T00:00:00.000Z) must be after --from')
  })

  it('log purge uses store.retentionDays, and explains what is missing without it', async () => {
    await seed(3)
    const missing = await cli('log', 'purge')
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('give --before DATE, or set store.retentionDays')
    const bad = await cli('log', 'purge', '--before', 'last tuesday')
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('--before "last tuesday" is not a date')
    writeFileSync(path.join(dir, 'intentops.yml'), 'store:\n  retentionDays: 30\n')
    const res = await cli('log', 'purge', '--json')
    expect(res.code, res.err).toBe(0)
    // The seeded predictions are from January 2026, long before "now minus 30 days" in any test run after that.
    expect(JSON.parse(res.out).purged).toBe(Date.now() - 30 * DAY > T0 + 3 * DAY ? 3 : 0)
  })

  it('tokens create prints the token once; list never shows it; revoke by name or id', async () => {
    const created = await cli('tokens', 'create', '--name', 'ci', '--role', 'admin')
    expect(created.code, created.err).toBe(0)
    const token = created.out.trim()
    expect(token).toMatch(/^iop_[A-Za-z0-9_-]{40,}$/)
    expect(created.err).toContain('not shown again')
    const ann = JSON.parse((await cli('tokens', 'create', '--name', 'anna', '--role', 'annotator', '--json')).out)
    expect(ann).toMatchObject({ name: 'anna', role: 'annotator' })

    const list = await cli('tokens', 'list')
    expect(list.out).toMatch(/ci\s+admin\s+\S+\s+live\s+never used/)
    expect(list.out).not.toContain(token)
    expect(list.out).not.toContain(ann.token)

    const store = await openStore(defaultConfig().store, { root: dir })
    try {
      expect((await store.verifyToken(token))?.role).toBe('admin')
      const rows = await store.db.selectFrom('tokens').selectAll().execute()
      expect(rows.map((r) => r.hash).sort()).toEqual([hashToken(token), hashToken(ann.token)].sort())
      expect(JSON.stringify(rows)).not.toContain(token)
    } finally {
      await store.close()
    }

    const dup = await cli('tokens', 'create', '--name', 'ci', '--role', 'client')
    expect(dup.code).toBe(1)
    expect(dup.err).toContain('ERR_STORE_TOKEN_EXISTS')
    const badRole = await cli('tokens', 'create', '--name', 'x', '--role', 'root')
    expect(badRole.code).toBe(1)
    expect(badRole.err).toContain('unknown token role "root"')

    expect((await cli('tokens', 'revoke', 'ci')).out).toBe('revoked ci\n')
    expect((await cli('tokens', 'revoke', ann.id)).code).toBe(0)
    const gone = await cli('tokens', 'revoke', 'ci')
    expect(gone.code).toBe(1)
    expect(gone.err).toContain('ERR_STORE_TOKEN_NOT_FOUND')
    const after = JSON.parse((await cli('tokens', 'list', '--json')).out)
    expect(after.every((t: { revokedAt?: number }) => typeof t.revokedAt === 'number')).toBe(true)
  })

  it('--store points the commands at another SQLite file', async () => {
    const res = await cli('tokens', 'create', '--name', 'a', '--role', 'client', '--store', 'elsewhere.db')
    expect(res.code, res.err).toBe(0)
    expect(existsSync(path.join(dir, 'elsewhere.db'))).toBe(true)
    expect(existsSync(path.join(dir, '.intentops', 'store.db'))).toBe(false)
  })
})

describe('log purge in a real intentops process without a terminal', () => {
  const run = (...args: string[]) => spawnCli(dir, args)

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'io-storecli-purge-'))
    dirs.push(dir)
  })

  it('refuses a purge that would empty the log unless --yes is given, saying how many would go', async () => {
    await seed(10)
    const refused = await run('log', 'purge', '--before', '0d')
    expect(refused.code).toBe(2)
    expect(refused.err).toMatch(
      /^error ERR_CLI_CONFIRMATION_REQUIRED: `log purge` needs confirmation: --before 0d \(\S+Z\) is not in the past: it would delete all 10 predictions in the log and their reviews\n {2}hint: Nothing was done\. Pass --yes to go ahead/,
    )
    expect(refused.out).toBe('')
    // The same refusal, in process, for a cut-off in the future and one after the newest prediction.
    for (const before of ['2099-01-01', '2026-02-01']) {
      const res = await cli('log', 'purge', '--before', before)
      expect([before, res.code]).toEqual([before, 2])
      expect(res.err).toContain('it would delete all 10 predictions in the log and their reviews')
    }
    expect(JSON.parse((await cli('log', 'stats', '--json')).out)).toMatchObject({ predictions: 10, reviews: 1 })
    const confirmed = await run('log', 'purge', '--before', '0d', '--yes', '--json')
    expect(confirmed.code, confirmed.err).toBe(0)
    expect(JSON.parse(confirmed.out)).toMatchObject({ purged: 10, dryRun: false })
    expect(JSON.parse((await cli('log', 'stats', '--json')).out)).toMatchObject({ predictions: 0, reviews: 0 })
  }, 60_000)
})

describe('commands that read or tend a log that does not exist', () => {
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'io-storecli-missing-'))
    dirs.push(dir)
  })

  it('refuse it with ERR_STORE_NOT_FOUND naming the path, and create nothing', async () => {
    const typo = path.join(dir, 'typo', 'deep', 'x.db')
    for (const argv of [
      ['log', 'stats', '--store', typo],
      ['log', 'export', '--store', typo],
      ['log', 'purge', '--before', '2026-01-01', '--store', typo],
      ['tokens', 'list', '--store', typo],
    ]) {
      const res = await cli(...argv)
      expect(res.code, argv.join(' ')).toBe(1)
      expect(res.err).toContain(`ERR_STORE_NOT_FOUND: No prediction log yet at ${typo}`)
      expect(res.err).toMatch(/hint: Start `intentops serve`.*check --store, INTENTOPS_STORE or `store\.path`/)
    }
    // The default location of a project whose server never ran.
    const fresh = await cli('log', 'stats')
    expect(fresh.code).toBe(1)
    expect(fresh.err).toContain(`No prediction log yet at ${path.join(dir, '.intentops', 'store.db')}`)
    expect(readdirSync(dir)).toEqual([])
  })

  it('tokens create still starts a log', async () => {
    const res = await cli('tokens', 'create', '--name', 'a', '--role', 'client', '--store', 'new/x.db')
    expect(res.code, res.err).toBe(0)
    expect((await cli('log', 'stats', '--store', 'new/x.db', '--json')).code).toBe(0)
  })
})

describe('store locations with another scheme', () => {
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'io-storecli-scheme-'))
    dirs.push(dir)
  })

  it('are usage errors naming the scheme and the supported locations, and create nothing', async () => {
    const flag = await cli('log', 'stats', '--store', 'redis://h/0')
    expect(flag.code).toBe(2)
    expect(flag.err).toContain('ERR_CLI_USAGE: --store "redis://h/0" has the scheme redis:')
    expect(flag.err).toContain('a SQLite file path, or a postgres:// or postgresql:// URL')
    const io = memoryIO(dir, { INTENTOPS_STORE: 'mysql://x' })
    expect(await runCli(['log', 'stats'], io)).toBe(2)
    expect(io.err()).toContain('INTENTOPS_STORE "mysql://x" has the scheme mysql:')
    writeFileSync(path.join(dir, 'intentops.yml'), 'version: 1\nstore:\n  path: mysql://x\n')
    const configured = await cli('log', 'stats')
    expect(configured.code).toBe(1)
    // Refused at config load now, at its line, rather than when the store is opened.
    expect(configured.err).toContain(
      `ERR_CONFIG_INVALID: ${path.join(dir, 'intentops.yml')}:3:9: Invalid config: \`store.path\` "mysql://x" has the scheme mysql:`,
    )
    expect(readdirSync(dir)).toEqual(['intentops.yml'])
  })
})

describe('where the log is, as every command finds it', () => {
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'io-storecli-where-'))
    dirs.push(dir)
  })

  it('refuses :memory: from the config, --store and INTENTOPS_STORE, saying why, and makes no file of that name', async () => {
    const commands = [
      ['log', 'stats'],
      ['tokens', 'create', '--name', 'a', '--role', 'client'],
      ['review', 'list'],
      ['analytics', 'intents'],
      ['monitor', '--no-notify'],
      ['retrain'],
    ]
    writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\nstore:\n  path: ":memory:"\n')
    for (const argv of commands) {
      const res = await cli(...argv)
      expect(res.code, argv.join(' ')).toBe(1)
      expect(res.err, argv.join(' ')).toContain(
        `ERR_CONFIG_INVALID: ${path.join(dir, 'intentops.yml')}:3:9: Invalid config: \`store.path\` ":memory:" would be an in-memory SQLite database`,
      )
    }
    writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\n')
    const flag = await cli('tokens', 'create', '--name', 'a', '--role', 'client', '--store', ':memory:')
    expect(flag.code).toBe(2)
    expect(flag.err).toContain('ERR_CLI_USAGE: --store ":memory:" would be an in-memory SQLite database')
    const empty = await cli('log', 'stats', '--store', '')
    expect(empty.code).toBe(2)
    expect(empty.err).toContain('ERR_CLI_USAGE: --store is empty')
    for (const argv of commands.slice(0, 5)) {
      const io = memoryIO(dir, { INTENTOPS_STORE: ':memory:' })
      expect(await runCli(argv, io), argv.join(' ')).toBe(2)
      expect(io.err()).toContain('ERR_CLI_USAGE: INTENTOPS_STORE ":memory:" would be an in-memory SQLite database')
    }
    expect(readdirSync(dir)).toEqual(['intentops.yml'])
  })

  it('INTENTOPS_STORE, relative to the working directory, names the log of every command, not just log and tokens', async () => {
    const project = path.join(dir, 'project')
    const work = path.join(dir, 'work')
    for (const d of [project, work]) mkdirSync(d)
    writeFileSync(path.join(project, 'intentops.yml'), 'name: bot\n')
    const elsewhere = path.join(work, 'logs', 'io.db')
    const store = await openStore(defaultConfig().store, { root: dir, target: { backend: 'sqlite', file: elsewhere } })
    try {
      await store.insertPredictions(Array.from({ length: 5 }, (_, i) => samplePrediction(i, { ts: T0 + i * DAY })))
    } finally {
      await store.close()
    }
    const env = { INTENTOPS_STORE: 'logs/io.db' }
    const run = async (...argv: string[]) => {
      const io = memoryIO(work, env)
      const code = await runCli([...argv, '--config', path.join(project, 'intentops.yml')], io)
      expect(code, `${argv.join(' ')}: ${io.err()}`).toBe(0)
      return JSON.parse(io.out())
    }
    expect(await run('log', 'stats', '--json')).toMatchObject({ location: elsewhere, predictions: 5 })
    expect(await run('review', 'list', '--json')).toMatchObject({ messages: 5 })
    const from = new Date(T0).toISOString()
    expect(
      await run('analytics', 'intents', '--from', from, '--to', new Date(T0 + 10 * DAY).toISOString(), '--json'),
    ).toMatchObject({ total: 5 })
    // The project's own default log was never made.
    expect(existsSync(path.join(project, '.intentops'))).toBe(false)
  })
})

describe('log and tokens commands on PostgreSQL', () => {
  it('creates a token, exports and purges through the configured PostgreSQL schema', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'io-storecli-pg-'))
    dirs.push(dir)
    const schema = `iops_cli_${process.pid}_${randomBytes(4).toString('hex')}`
    writeFileSync(path.join(dir, 'intentops.yml'), `store:\n  backend: postgres\n  url: $PGURL\n  schema: ${schema}\n`)
    const env = { PGURL: process.env.DATABASE_URL }
    const run = async (...argv: string[]) => {
      const io = memoryIO(dir, env)
      const code = await runCli(argv, io)
      return { code, out: io.out(), err: io.err() }
    }
    const store = await openStore(
      { ...defaultConfig().store, backend: 'postgres', schema },
      {
        root: dir,
        env: { DATABASE_URL: process.env.DATABASE_URL },
      },
    )
    try {
      await store.insertPredictions(Array.from({ length: 5 }, (_, i) => samplePrediction(i, { ts: T0 + i * DAY })))
      const created = await run('tokens', 'create', '--name', 'ops', '--role', 'admin')
      expect(created.code, created.err).toBe(0)
      expect((await store.verifyToken(created.out.trim()))?.name).toBe('ops')
      const exported = await run('log', 'export', '--channel', 'api')
      expect(exported.code, exported.err).toBe(0)
      expect(
        exported.out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).id),
      ).toEqual(['p-00000', 'p-00003'])
      expect((await run('log', 'purge', '--before', '2026-01-03')).out).toContain('purged 2 predictions')
      expect(await store.countPredictions()).toBe(3)
    } finally {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db)
      await store.close()
    }
  })
})
