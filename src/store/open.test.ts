import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import type { StoreConfig } from '../config/schema.js'
import type { IntentopsError } from '../errors.js'
import { parseConfig } from '../project/config.js'
import { samplePrediction } from './contract.js'
import { resolveStoreTarget, storeTargetOf } from './location.js'
import { openLogWriter, openStore, unsupportedStoreScheme } from './open.js'
import { createRedactor, DEFAULT_REDACTION_RULES, hashSender } from './redact.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
function tmpRoot(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'intentops-open-'))
  dirs.push(dir)
  return dir
}
const storeConfig = (over: Partial<StoreConfig> = {}): StoreConfig => ({ ...defaultConfig().store, ...over })
const rawBytes = (file: string) =>
  [file, `${file}-wal`].map((f) => (existsSync(f) ? readFileSync(f).toString('latin1') : '')).join('')

describe('default redaction rules', () => {
  const redact = createRedactor(DEFAULT_REDACTION_RULES)

  it('are the config defaults', () => {
    expect(defaultConfig().store.redaction).toEqual(DEFAULT_REDACTION_RULES)
  })

  it.each([
    ['write to john.doe+refunds@mail.example.co.uk today', 'write to [email] today'],
    ['a@b.com c@d.org', '[email] [email]'],
    ['mail:a@b.com;c@d.org,<e@f.io>', 'mail:[email];[email],<[email]>'],
    // An address starts only after a character it cannot hold: one glued to the end of another is left.
    ['a@b.com.c@d.org', '[email].c@d.org'],
    ['my card is 4111 1111 1111 1111, expiry soon', 'my card is [card], expiry soon'],
    ['card 4111-1111-1111-1111', 'card [card]'],
    ['call +1 (555) 123-4567 now', 'call [phone] now'],
    ['call (555) 123-4567', 'call [phone]'],
    ['ring 555.123.4567', 'ring [phone]'],
    ['meine Nummer ist 0176 12345678', 'meine Nummer ist [phone]'],
    ['+44 20 7946 0958', '[phone]'],
  ])('mask %j', (input, output) => {
    expect(redact(input)).toBe(output)
  })

  it.each([
    'book a flight on 2026-01-01 for 2 people',
    'order 12345 was late',
    'I paid 149.99 for room 1204',
    'version 1.2.3',
  ])('leave %j alone', (input) => {
    expect(redact(input)).toBe(input)
  })

  it('refuse a pattern that can backtrack catastrophically, naming the rule, when called as a library', () => {
    for (const pattern of ['(a+)+$', '(\\w|\\d)+$', '(?:\\s*\\w+){1,20}$']) {
      expect(() =>
        createRedactor([
          { pattern: '\\d{6}', replacement: '[id]' },
          { pattern, replacement: 'x' },
        ]),
      ).toThrow(
        expect.objectContaining({
          code: 'ERR_STORE_REDACTION_UNSAFE',
          message: expect.stringMatching(/^Redaction rule store\.redaction\[1\] .* exponential backtracking in/),
        }),
      )
    }
    const redact = createRedactor([{ pattern: '(\\d{3}-)*\\d{4}', replacement: '[n]' }])
    expect(redact('call 555-123-4567 now')).toBe('call [n] now')
  })

  it('refuse optional items that split a text in many ways, and more rules than one check may judge', () => {
    expect(() => createRedactor([{ pattern: '\\d?\\d?\\d?\\d+ ?kg', replacement: '[w]' }])).toThrow(
      expect.objectContaining({
        code: 'ERR_STORE_REDACTION_UNSAFE',
        message: expect.stringContaining('write `\\d?\\d?\\d?\\d+` as `\\d+`'),
      }),
    )
    // A rule written again is judged once; distinct rules count.
    expect(createRedactor(Array.from({ length: 1001 }, () => ({ pattern: '\\d{6}', replacement: '[id]' })))).toBeTypeOf(
      'function',
    )
    const many = Array.from({ length: 1001 }, (_, i) => ({ pattern: `\\d{6}-${i}`, replacement: '[id]' }))
    expect(() => createRedactor(many)).toThrow(
      expect.objectContaining({
        code: 'ERR_REGEX_CHECK_LIMIT',
        message: expect.stringContaining('store.redaction[1000]'),
      }),
    )
    expect(createRedactor(many.slice(0, 1000))('id 123456-7')).toBe('id [id]')
  })

  it('refuse a pattern that does not compile, naming the rule', () => {
    expect(() => createRedactor([{ pattern: '(', replacement: 'x' }])).toThrow(
      expect.objectContaining({ code: 'ERR_STORE_REDACTION_INVALID', message: expect.stringContaining('[0]') }),
    )
  })
})

describe('openStore', () => {
  it('opens SQLite under .intentops/ by default, redacting text, fields and entity values before writing', async () => {
    const root = tmpRoot()
    const store = await openStore(storeConfig(), { root, env: {} })
    try {
      expect(store.dialect).toBe('sqlite')
      const file = path.join(root, '.intentops', 'store.db')
      expect(existsSync(file)).toBe(true)
      await store.insertPredictions([
        samplePrediction(1, {
          text: 'refund to jane.roe@example.org please, card 4111 1111 1111 1111',
          fields: { subject: 'Refund', body: 'call me on +49 30 1234 5678' },
          entities: [
            {
              start: 10,
              end: 30,
              entity: 'email',
              value: 'jane.roe@example.org',
              extractor: 'regex',
              confidence_entity: 1,
            },
          ],
        }),
      ])
      const back = await store.getPrediction('p-00001')
      expect(back?.text).toBe('refund to [email] please, card [card]')
      expect(back?.fields).toEqual({ subject: 'Refund', body: 'call me on [phone]' })
      expect(back?.entities[0]?.value).toBe('[email]')
      expect((await store.queryPredictions({ search: '[email]' })).items).toHaveLength(1)
      const bytes = rawBytes(file)
      expect(bytes).toContain('[email]')
      for (const secret of ['jane.roe', '4111 1111', '1234 5678']) expect(bytes).not.toContain(secret)
    } finally {
      await store.close()
    }
  })

  it('writes text unchanged when redaction is turned off', async () => {
    const store = await openStore(storeConfig({ redaction: [] }), { root: tmpRoot() })
    try {
      await store.insertPredictions([samplePrediction(1, { text: 'mail a@b.example' })])
      expect((await store.getPrediction('p-00001'))?.text).toBe('mail a@b.example')
    } finally {
      await store.close()
    }
  })

  it('hashes senders with INTENTOPS_SENDER_KEY, else with a key kept in the store across opens', async () => {
    const root = tmpRoot()
    const key = 'k'.repeat(32)
    const withKey = await openStore(storeConfig(), { root, env: { INTENTOPS_SENDER_KEY: key } })
    await withKey.insertPredictions([samplePrediction(1, { senderId: 'alice' })])
    expect((await withKey.getPrediction('p-00001'))?.senderHash).toBe(hashSender(key, 'alice'))
    await withKey.close()

    const first = await openStore(storeConfig(), { root, env: {} })
    await first.insertPredictions([samplePrediction(2, { senderId: 'alice' })])
    const persisted = (await first.getPrediction('p-00002'))?.senderHash
    expect(persisted).not.toBe(hashSender(key, 'alice'))
    await first.close()
    const again = await openStore(storeConfig(), { root, env: {} })
    await again.insertPredictions([samplePrediction(3, { senderId: 'alice' })])
    expect((await again.getPrediction('p-00003'))?.senderHash).toBe(persisted)
    await again.close()

    const elsewhere = await openStore(storeConfig(), { root: tmpRoot(), env: {} })
    await elsewhere.insertPredictions([samplePrediction(4, { senderId: 'alice' })])
    expect((await elsewhere.getPrediction('p-00004'))?.senderHash).not.toBe(persisted)
    await elsewhere.close()

    const fromConfig = await openStore(storeConfig({ senderKey: '$MY_KEY' }), { root, env: { MY_KEY: key } })
    await fromConfig.insertPredictions([samplePrediction(5, { senderId: 'alice' })])
    expect((await fromConfig.getPrediction('p-00005'))?.senderHash).toBe(hashSender(key, 'alice'))
    await fromConfig.close()
  })

  it('needs a URL for PostgreSQL, and says so', async () => {
    await expect(openStore(storeConfig({ backend: 'postgres' }), { root: tmpRoot(), env: {} })).rejects.toMatchObject({
      code: 'ERR_STORE_NO_URL',
    })
  })

  it('reports an unreachable PostgreSQL as ERR_STORE_UNAVAILABLE, without the password', async () => {
    const err = await openStore(storeConfig({ backend: 'postgres', url: 'postgres://u:s3cret@127.0.0.1:1/none' }), {
      root: tmpRoot(),
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' })
    expect((err as Error).message).toContain('127.0.0.1:1')
    expect((err as Error).message).not.toContain('s3cret')
  })

  it('reports a SQLite file whose directory cannot be made as a write failure naming the file in the way', async () => {
    const root = tmpRoot()
    const blocker = path.join(root, 'file')
    writeFileSync(blocker, 'x')
    await expect(openStore(storeConfig({ path: 'file/store.db' }), { root })).rejects.toMatchObject({
      code: 'ERR_WRITE_FAILED',
      message: `Cannot write ${blocker}: ${blocker} is a file, not a directory (EEXIST)`,
      hint: expect.stringContaining('no part of the path is a file'),
    })
  })

  it('opens PostgreSQL from $DATABASE_URL in its own schema', async () => {
    const schema = `iops_open_${process.pid}_${randomBytes(4).toString('hex')}`
    const store = await openStore(storeConfig({ backend: 'postgres', url: '$DATABASE_URL', schema }), {
      root: tmpRoot(),
      env: { DATABASE_URL: process.env.DATABASE_URL },
    })
    try {
      expect(store.dialect).toBe('postgres')
      await store.insertPredictions([samplePrediction(1, { text: 'x@y.example' })])
      expect((await store.getPrediction('p-00001'))?.text).toBe('[email]')
      const where = await sql<{
        s: string
      }>`select table_schema as s from information_schema.tables where table_name = 'predictions' and table_schema = ${schema}`.execute(
        store.db,
      )
      expect(where.rows).toEqual([{ s: schema }])
    } finally {
      await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db)
      await store.close()
    }
  })
})

describe('store config', () => {
  it('names an environment variable in store.url that is not set, instead of saying no URL is set', async () => {
    const c = parseConfig('store:\n  backend: postgres\n  url: $NOPE_VAR\n', 'intentops.yml')
    for (const env of [{}, { NOPE_VAR: '' }]) {
      const err = await openStore(c.store, { root: tmpRoot(), env }).catch((e: unknown) => e as IntentopsError)
      expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID' })
      expect((err as IntentopsError).message).toMatch(
        /^Invalid config: `store.url` refers to the environment variable NOPE_VAR, which is (not set|empty)$/,
      )
      expect((err as IntentopsError).hint).toContain('NOPE_VAR')
    }
  })

  it('validates the backend and fills defaults', () => {
    const c = parseConfig('store:\n  backend: postgres\n  url: $DATABASE_URL\n  retentionDays: 30\n', 'intentops.yml')
    expect(c.store).toMatchObject({ backend: 'postgres', url: '$DATABASE_URL', retentionDays: 30, queueSize: 50_000 })
    expect(() => parseConfig('store:\n  backend: mysql\n', 'intentops.yml')).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message: 'Invalid config: `store.backend`: must be one of: sqlite, postgres, got "mysql"',
        location: { file: 'intentops.yml', line: 2, column: 12 },
      }),
    )
    expect(() => parseConfig('store:\n  schema: "a;drop"\n', 'intentops.yml')).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    )
  })
})

describe('store locations', () => {
  it('knows the schemes that are neither PostgreSQL nor a file path', () => {
    expect(unsupportedStoreScheme('mysql://x')).toBe('mysql')
    expect(unsupportedStoreScheme('redis://h/0')).toBe('redis')
    expect(unsupportedStoreScheme('file:log.db')).toBe('file')
    for (const ok of ['postgres://u@h/db', 'postgresql://h/db', 'logs/io.db', '/var/io.db', './a:b.db', 'C:\\io.db'])
      expect(unsupportedStoreScheme(ok), ok).toBeUndefined()
  })

  it('refuses a store.path with a scheme and creates nothing', async () => {
    const root = tmpRoot()
    await expect(openStore(storeConfig({ path: 'mysql://x' }), { root })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('`store.path` "mysql://x" has the scheme mysql:'),
    })
    expect(readdirSync(root)).toEqual([])
  })

  it('mustExist refuses a SQLite file that does not exist and creates nothing', async () => {
    const root = tmpRoot()
    await expect(openStore(storeConfig({ path: 'deep/io.db' }), { root, mustExist: true })).rejects.toMatchObject({
      code: 'ERR_STORE_NOT_FOUND',
      message: `No prediction log yet at ${path.join(root, 'deep', 'io.db')}`,
    })
    expect(readdirSync(root)).toEqual([])
  })

  it('refuses :memory:, an empty path and a PostgreSQL URL as store.path, at config load and when opened, and creates nothing', async () => {
    const root = tmpRoot()
    for (const [yaml, said] of [
      [
        '":memory:"',
        /`store\.path` ":memory:" would be an in-memory SQLite database, which only the connection that opens it can see: the server's log writer thread.*Give a file path.*`serve\.logPredictions: false`/,
      ],
      ['""', /^Invalid config: `store\.path` is empty; give the SQLite file's path/],
      ['"postgres://u:s3cret@h/db"', /`store\.path` is a PostgreSQL URL.*`store\.backend: postgres`/],
    ] as const) {
      const err = catchConfig(`store:\n  path: ${yaml}\n`)
      expect(err, yaml).toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        location: { file: 'intentops.yml', line: 2, column: 9 },
      })
      expect(err.message).toMatch(said)
      expect(err.message).not.toContain('s3cret')
    }
    // A config built in code skips the loader: opening it refuses the same way.
    for (const p of [':memory:', '', 'postgres://h/db']) {
      await expect(openStore(storeConfig({ path: p }), { root }), p).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
      })
    }
    // Nor does the log writer's thread, with a connection of its own, open one.
    const other = await openStore(storeConfig(), { root: tmpRoot() })
    try {
      expect(() => openLogWriter(storeConfig({ path: ':memory:' }), other, { root })).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      )
    } finally {
      await other.close()
    }
    expect(readdirSync(root)).toEqual([])
    // Only the path of a SQLite store is one: PostgreSQL's leaves it unused.
    expect(parseConfig('store:\n  backend: postgres\n  path: ":memory:"\n', 'intentops.yml').store.backend).toBe(
      'postgres',
    )
  })
})

describe('resolveStoreTarget and storeTargetOf', () => {
  it('resolve a config the one way openStore, the log writer and retrain use', () => {
    const root = tmpRoot()
    expect(resolveStoreTarget(storeConfig(), { root })).toEqual({
      backend: 'sqlite',
      file: path.join(root, '.intentops', 'store.db'),
    })
    expect(resolveStoreTarget(storeConfig({ path: '../logs/io.db' }), { root })).toEqual({
      backend: 'sqlite',
      file: path.resolve(root, '../logs/io.db'),
    })
    expect(resolveStoreTarget(storeConfig({ path: '/var/io.db' }), { root }).backend).toBe('sqlite')
    // A file whose name starts with a colon is still one, written as a path.
    expect(resolveStoreTarget(storeConfig({ path: './:memory:' }), { root })).toEqual({
      backend: 'sqlite',
      file: path.join(root, ':memory:'),
    })
    const pg = storeConfig({ backend: 'postgres' })
    expect(
      resolveStoreTarget(
        { ...pg, url: '$PGURL' },
        { root, env: { PGURL: 'postgres://a/b', DATABASE_URL: 'postgres://c/d' } },
      ),
    ).toEqual({
      backend: 'postgres',
      url: 'postgres://a/b',
    })
    expect(resolveStoreTarget(pg, { root, env: { DATABASE_URL: 'postgres://c/d' } })).toEqual({
      backend: 'postgres',
      url: 'postgres://c/d',
    })
    expect(() => resolveStoreTarget(pg, { root, env: {} })).toThrow(
      expect.objectContaining({ code: 'ERR_STORE_NO_URL' }),
    )
  })

  it('take a location given in place of the config relative to the working directory, a URL as it is', () => {
    const cwd = tmpRoot()
    expect(storeTargetOf('--store', 'logs/io.db', cwd)).toEqual({
      backend: 'sqlite',
      file: path.join(cwd, 'logs', 'io.db'),
    })
    // No `$VAR` expansion: the URL was typed or set whole, and a password may hold a `$`.
    expect(storeTargetOf('INTENTOPS_STORE', 'postgresql://u:pa$word@h/db', cwd)).toEqual({
      backend: 'postgres',
      url: 'postgresql://u:pa$word@h/db',
    })
    for (const [location, said] of [
      [':memory:', '--store ":memory:" would be an in-memory SQLite database'],
      ['', '--store is empty; give a SQLite file path, or a postgres:// or postgresql:// URL'],
      ['  ', '--store is empty'],
      ['mysql://x', '--store "mysql://x" has the scheme mysql:'],
    ]) {
      expect(() => storeTargetOf('--store', location!, cwd), location).toThrow(
        expect.objectContaining({ code: 'ERR_CLI_USAGE', message: expect.stringContaining(said!) }),
      )
    }
    expect(readdirSync(cwd)).toEqual([])
  })
})

function catchConfig(text: string): IntentopsError {
  try {
    parseConfig(text, 'intentops.yml')
  } catch (err) {
    return err as IntentopsError
  }
  throw new Error('the config was accepted')
}
