import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { loadConfig } from '../src/project/config.js'
import { keys } from '../src/registry/layout.js'
import { openRegistry } from '../src/registry/open.js'
import { startRecordingServer } from './helpers/recording-server.js'
import { evalSummary, modelBytes, trainedModelBytes } from './helpers/registry.js'

let dir: string
let gitHead: string
const env = { INTENTOPS_AUTHOR: 'Ada <ada@example.com>' }
const cli = async (...argv: string[]) => {
  const io = memoryIO(dir, env)
  const code = await runCli(argv, io)
  return { code, out: io.out(), err: io.err() }
}
const json = async (...argv: string[]) => {
  const res = await cli(...argv, '--json')
  expect(res.code, res.err).toBe(0)
  return JSON.parse(res.out)
}

/** Train a real model, write it and its evaluation summary, and publish it with the CLI. */
async function publish(label: string, f1: number, drop: number) {
  const { bytes } = await trainedModelBytes({ drop, name: 'support-bot' })
  writeFileSync(path.join(dir, `${label}.iom`), bytes)
  writeFileSync(path.join(dir, `${label}.eval.json`), JSON.stringify(evalSummary(f1)))
  const res = await cli(
    'publish',
    `${label}.iom`,
    '--eval',
    `${label}.eval.json`,
    '--tag',
    `label=${label}`,
    '--author',
    'ci',
  )
  expect(res.code, res.err).toBe(0)
  return res
}

describe('registry commands', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'io-regcli-'))
    const gen = await cli('keys', 'generate', '--json')
    expect(gen.code, gen.err).toBe(0)
    const pair = JSON.parse(gen.out)
    writeFileSync(
      path.join(dir, 'intentops.yml'),
      `name: support-bot\nregistry:\n  signingKey: .intentops/keys/intentops-signing.key\n  trustedKeys:\n    - ${pair.publicKey}\n`,
    )
    execFileSync('git', ['init', '-q', dir])
    execFileSync('git', [
      '-C',
      dir,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@x',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'init',
    ])
    const head = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD']).toString().trim()
    gitHead = head
    await publish('one', 0.8, 3)
    await publish('two', 0.75, 4)
    await publish('three', 0.9, 0)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keys generate refuses to overwrite, and keys show prints the configured key', async () => {
    const again = await cli('keys', 'generate')
    expect(again.code).toBe(1)
    expect(again.err).toMatch(/^error ERR_REGISTRY_KEYS_EXIST: .*intentops-signing\.key already exists/)
    const shown = await json('keys', 'show')
    expect(shown).toMatchObject({ keyId: expect.stringMatching(/^[0-9a-f]{16}$/), trustedInConfig: true })
    const text = await cli('keys', 'show', '--key', '.intentops/keys/intentops-signing.pub')
    expect(text.out).toContain(shown.publicKey)
  })

  it('keys generate explains an --out that is, or runs through, a file', async () => {
    for (const [out, code] of [
      ['intentops.yml', 'EEXIST'],
      ['intentops.yml/keys', 'ENOTDIR'],
    ] as const) {
      const res = await cli('keys', 'generate', '--out', out)
      expect(res.code).toBe(1)
      expect(res.err).toBe(
        `error ERR_WRITE_FAILED: Cannot write ${path.join(dir, out)}: ${path.join(dir, 'intentops.yml')} is a file, not a directory (${code})\n` +
          '  hint: Check that the directory exists and you may write to it, and that no part of the path is a file; or choose another path.\n',
      )
    }
  })

  it('models list shows every version with metrics and signer', async () => {
    const res = await cli('models', 'list')
    expect(res.code, res.err).toBe(0)
    expect(res.out).toMatch(/support-bot {2}\(3 versions\)/)
    expect(res.out).toMatch(/v2 .* 0\.750 /)
    const data = await json('models', 'list')
    expect(data.models[0].versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3])
    expect(data.models[0].versions[0].signedBy).toHaveLength(1)
  })

  it('promote runs the gate: the first version passes, a worse one fails with exit 1 and is logged', async () => {
    const first = await cli('promote', '1', '--to', 'production')
    expect(first.code, first.err).toBe(0)
    expect(first.out).toContain('support-bot/production: unset → v1')
    expect(first.out).toMatch(/pass {2}minDelta/)
    const worse = await cli('promote', 'v2', '--to', 'production')
    expect(worse.code).toBe(1)
    expect(worse.out).toMatch(/FAIL {2}minDelta +macro-F1 0\.75 vs 0\.8 of v1: -0\.05 <= 0/)
    expect(worse.err).toMatch(
      /^error ERR_REGISTRY_GATE_FAILED: support-bot v2 did not pass the gate for production: minDelta/,
    )
    expect(worse.err).toContain('--force --reason')
    const forcedNoReason = await cli('promote', '2', '--to', 'production', '--force')
    expect(forcedNoReason.err).toContain('ERR_REGISTRY_REASON_REQUIRED')
    const better = await json('promote', 'latest', '--to', 'production')
    expect(better).toMatchObject({ promoted: true, from: 1, version: 3, gate: { passed: true } })
  })

  it('models show prints the full lineage of an alias holder', async () => {
    const res = await cli('models', 'show', 'production')
    expect(res.code, res.err).toBe(0)
    for (const line of [
      /^support-bot v3\n/,
      /model file +sha256:[0-9a-f]{64} \(\d+\.\d KB\)/,
      /verified +yes: record, signature \(key [0-9a-f]{16}\) and model digest check out/,
      /published +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ by ci/,
      new RegExp(`git +${gitHead} \\(uncommitted changes\\)`),
      /data +sha256:[0-9a-f]{64}\n/,
      /config +sha256:[0-9a-f]{64}\n/,
      /trained +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, in \d+(\.\d)? m?s, on intentops \d+\.\d+\.\d+, Node v\d+/,
      /training set +\d+ examples, 4 intents, language en/,
      /publisher +intentops \d+\.\d+\.\d+, Node v\d+/,
      /evaluation +accuracy 0\.900 {2}macro-F1 0\.900 {2}weighted-F1 0\.900 {2}must-pass 2\/2 {2}\(test set sha256:t1\)/,
      /aliases +production/,
      /promote production v1 → v3 by Ada <ada@example\.com>, gate passed/,
    ]) {
      expect(res.out).toMatch(line)
    }
    const data = await json('models', 'show', '3')
    expect(data).toMatchObject({ record: { version: 3 }, verification: { ok: true }, aliases: ['production'] })
    // The lineage is the model file's own manifest.
    const { readManifest } = await import('../src/nlu/model-file.js')
    const manifest = readManifest(readFileSync(path.join(dir, 'three.iom')))
    expect(data.record.training).toMatchObject({
      dataFingerprint: manifest.dataFingerprint,
      configFingerprint: manifest.configFingerprint,
      trainedAt: manifest.trainedAt,
      examples: manifest.examples,
      labels: manifest.labels,
    })
    expect(data.record.tags).toEqual({ label: 'three' })
    expect(data.record.git).toEqual({ commit: gitHead, dirty: true, branch: expect.any(String) })
  })

  it('models diff compares lineage and metrics', async () => {
    const d = await json('models', 'diff', '1', 'production')
    expect(d.lineage.map((c: { field: string }) => c.field)).toEqual(
      expect.arrayContaining(['blob.digest', 'training.dataFingerprint', 'training.examples']),
    )
    expect(d.labels).toEqual({ added: [], removed: [] })
    expect(d.tags).toEqual([{ field: 'label', from: 'one', to: 'three' }])
    expect(d.metrics.find((m: { metric: string }) => m.metric === 'macroF1').delta).toBeCloseTo(0.1, 10)
    expect(d.sameTestSet).toBe(true)
    const text = await cli('models', 'diff', '1', '3')
    expect(text.out).toMatch(/macroF1 +0\.800 +→ +0\.900 +\+0\.100/)
  })

  it('rollback returns to the previous holder, and history answers what held the alias on a date', async () => {
    const rb = await cli('rollback', 'production', '--reason', 'complaints about refunds')
    expect(rb.code, rb.err).toBe(0)
    expect(rb.out).toBe('support-bot/production: v3 → v1 (rolled back)\n')
    const history = await cli('models', 'history', 'production')
    expect(history.out).toMatch(/^support-bot\/production → v1\n/)
    expect(history.out).toMatch(/rollback +production v3 → v1 +Ada <ada@example.com> +complaints about refunds/)
    expect(history.out).toMatch(/gate +v2 → production .*failed: minDelta/)
    const today = new Date().toISOString().slice(0, 10)
    const at = await json('models', 'history', 'production', '--at', today)
    expect(at.holders.map((h: { version: number }) => h.version)).toEqual([1, 3, 1])
    const now = await json('models', 'history', 'production', '--at', new Date().toISOString())
    expect(now.holders.map((h: { version: number }) => h.version)).toEqual([1])
    const before = await cli('models', 'history', 'production', '--at', '2000-01-01')
    expect(before.out).toBe('production pointed at no version at 2000-01-01\n')
    const bad = await cli('models', 'history', 'production', '--at', 'last tuesday')
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('ERR_INVALID_ARGUMENT')
  })

  it('models history --at takes epoch ms and an age as every time option does', async () => {
    const { entries } = await json('models', 'history', 'production')
    const v3 = entries.find((e: { to?: number; kind: string }) => e.kind === 'promote' && e.to === 3)
    expect(v3).toBeDefined()
    // the instant v1 → v3 was promoted, as epoch ms: v3 held production then
    const ms = Date.parse(v3.at)
    const atMs = await json('models', 'history', 'production', '--at', String(ms))
    expect(atMs).toMatchObject({ at: String(ms), start: v3.at, end: v3.at })
    expect(atMs.holders.map((h: { version: number }) => h.version)).toEqual([3])
    const text = await cli('models', 'history', 'production', '--at', String(ms))
    expect(text.out).toMatch(
      new RegExp(`^production at ${ms} \\(${v3.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}\\):\n +v3 `),
    )
    // "what production was three days ago": nothing, this registry is minutes old; and now (0h), v1 after the rollback
    const threeDays = await cli('models', 'history', 'production', '--at', '3d')
    expect(threeDays.code, threeDays.err).toBe(0)
    expect(threeDays.out).toMatch(/^production pointed at no version at 3d \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)\n$/)
    const before = Date.now()
    const aged = await json('models', 'history', 'production', '--at', '3d')
    expect(aged.holders).toEqual([])
    expect(Date.parse(aged.start)).toBeGreaterThanOrEqual(before - 3 * 86_400_000)
    expect(Date.parse(aged.start)).toBeLessThanOrEqual(Date.now() - 3 * 86_400_000)
    const now = await json('models', 'history', 'production', '--at', '0h')
    expect(now.holders.map((h: { version: number }) => h.version)).toEqual([1])
    // ages in minutes and weeks too: 0m is now, 2w before the registry existed
    const nowInMinutes = await json('models', 'history', 'production', '--at', '0m')
    expect(nowInMinutes.holders.map((h: { version: number }) => h.version)).toEqual([1])
    const weeks = await cli('models', 'history', 'production', '--at', '2w')
    expect(weeks.code, weeks.err).toBe(0)
    expect(weeks.out).toMatch(/^production pointed at no version at 2w \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)\n$/)
    const months = await cli('models', 'history', 'production', '--at', '2mo')
    expect([months.code, months.err]).toEqual([
      1,
      expect.stringContaining(
        '--at "2mo" is not a date ("mo" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks)): use a date (2026-01-31, midnight UTC), an ISO date-time in UTC unless it has an offset (2026-01-31T12:00, 2026-01-31T12:00:00Z, 2026-01-31T12:00+02:00), epoch milliseconds (1769860800000), or an age (30d, 12h, 30m, 2w: that long before now; m is minutes, not months); a date means that whole UTC day',
      ),
    ])
  })

  it('models audit lists every publish, gate decision, move and rollback', async () => {
    const { entries } = await json('models', 'audit')
    expect(entries.map((e: { kind: string }) => e.kind)).toEqual([
      'publish',
      'publish',
      'publish',
      'gate',
      'promote',
      'gate',
      'gate',
      'promote',
      'rollback',
    ])
  })

  it('models verify passes, then names a tampered model file and exits 1', async () => {
    const ok = await cli('models', 'verify')
    expect(ok.code, ok.err).toBe(0)
    expect(ok.out).toContain('all 3 versions verified')
    const { config, root } = await loadConfig({ dir })
    const registry = await openRegistry({ config: config.registry, root })
    const record = (await registry.readVersion('support-bot', 2)).record
    const blob = path.join(root, '.intentops/registry', ...keys.blob(record.blob.digest).split('/'))
    const original = readFileSync(blob)
    writeFileSync(blob, Buffer.concat([original, Buffer.from('x')]))
    const bad = await cli('models', 'verify')
    expect(bad.code).toBe(1)
    expect(bad.out).toMatch(/FAIL {2}support-bot v2 {2}ERR_REGISTRY_BLOB_CORRUPT/)
    expect(bad.out).toContain('1 problem')
    const show = await cli('models', 'show', '2')
    expect(show.code).toBe(1)
    expect(show.out).toMatch(/verified +NO: ERR_REGISTRY_BLOB_CORRUPT/)
    const promote = await cli('promote', '2', '--to', 'candidate')
    expect(promote.err).toMatch(/^error ERR_REGISTRY_BLOB_CORRUPT/)
    writeFileSync(blob, original)
    expect((await cli('models', 'verify', '2')).code).toBe(0)

    // a damaged alias file is named by its alias and the version it still names, with what is wrong and the fix
    const aliasFile = path.join(root, '.intentops/registry', ...keys.alias('support-bot', 'production').split('/'))
    const aliasBytes = readFileSync(aliasFile)
    const doc = JSON.parse(aliasBytes.toString('utf8'))
    doc.history[0].at = '2001-01-01T00:00:00.000Z'
    writeFileSync(aliasFile, JSON.stringify(doc))
    const damaged = await cli('models', 'verify')
    expect(damaged.code).toBe(1)
    expect(damaged.out).toContain(
      `FAIL  support-bot/production → v${doc.version}  ERR_REGISTRY_RECORD_INVALID: the alias file models/support-bot/aliases/production.json is damaged: the history was rewritten before move 2; nothing can load the alias until it is repaired\n`,
    )
    expect(damaged.out).toContain(
      `      fix: Restore models/support-bot/aliases/production.json from a backup of the registry (${path.join(root, '.intentops/registry')}), or from an earlier object version on S3; or delete the file, which loses the alias's move history, and point the alias again with \`intentops promote ${doc.version} --to production --model support-bot\`. The damaged file still names v${doc.version}; check that this is the version meant before promoting it.\n`,
    )
    expect(damaged.out).not.toContain('/?')
    const listed = await cli('models', 'list')
    expect(listed.out).toContain(
      '  warning: alias production: Registry entry models/support-bot/aliases/production.json is invalid',
    )
    writeFileSync(aliasFile, aliasBytes)
    expect((await cli('models', 'verify')).code).toBe(0)
  })

  it('models gc keeps alias holders and rollback targets', async () => {
    const dry = await json('models', 'gc', '--keep', '1', '--dry-run')
    expect(dry.models[0]).toMatchObject({ deleted: [2], kept: [1, 3] })
    const res = await cli('models', 'gc', '--keep', '1', '--grace-hours', '0')
    expect(res.code, res.err).toBe(0)
    expect(res.out).toContain('support-bot: deleted v2; kept v1 v3 (v1: holder of production)')
    expect(res.out).toContain('model files: deleted 1')
    const usage = await cli('models', 'gc', '--keep', '0')
    expect(usage.code).toBe(2)
    expect(usage.err).toContain('ERR_CLI_USAGE')
    // hex, exponents and blanks are not numbers here, as for every number flag
    for (const [flag, value, message] of [
      ['--keep', '0x10', '--keep must be an integer ≥ 1, got "0x10"'],
      ['--keep', ' 2', '--keep must be an integer ≥ 1, got " 2"'],
      ['--grace-hours', '1e3', '--grace-hours must be a number ≥ 0, got "1e3"'],
      ['--grace-hours', '', '--grace-hours must be a number ≥ 0, got ""'],
    ] as const) {
      const args = flag === '--keep' ? ['--keep', value] : ['--keep', '1', flag, value]
      const bad = await cli('models', 'gc', ...args, '--dry-run')
      expect(bad.code, `${flag} ${value}`).toBe(2)
      expect(bad.err).toContain(`error ERR_CLI_USAGE: ${message}`)
    }
  })

  it('explains unknown versions, bad aliases and a registry written by a newer format', async () => {
    const missing = await cli('models', 'show', '42')
    expect(missing.err).toMatch(/^error ERR_REGISTRY_VERSION_NOT_FOUND: Model support-bot has no version 42/)
    const alias = await cli('promote', '1', '--to', 'Prod Env')
    expect(alias.err).toMatch(/^error ERR_REGISTRY_INVALID_REF: Invalid alias "Prod Env"/)
    const unset = await cli('rollback', 'staging')
    expect(unset.err).toContain('ERR_REGISTRY_ALIAS_NOT_SET')
    expect(unset.err).toContain('hint: Promote a version first: `intentops promote <version> --to staging`.')
    const other = mkdtempSync(path.join(tmpdir(), 'io-regcli-new-'))
    writeFileSync(path.join(other, 'format.json'), JSON.stringify({ format: 'intentops-registry', version: 9 }))
    const newer = await cli('models', 'list', '--registry', other)
    expect(newer.code).toBe(1)
    expect(newer.err).toMatch(/^error ERR_REGISTRY_FORMAT_NEWER: .*format version 9/)
    expect(newer.err).toContain('hint: Upgrade intentops')
    rmSync(other, { recursive: true, force: true })
  })

  it('read commands refuse a registry directory that does not exist, and create none', async () => {
    const typo = path.join(dir, 'no', 'such-registry')
    for (const argv of [
      ['models', 'list'],
      ['models', 'history', 'production'],
      ['promote', '1', '--to', 'production'],
    ]) {
      const res = await cli(...argv, '--registry', typo)
      expect(res.code, argv.join(' ')).toBe(1)
      expect(res.err).toMatch(new RegExp(`^error ERR_REGISTRY_NOT_FOUND: No model registry yet at ${typo}\n`))
      expect(res.err).toContain('hint: Publishing a model creates it')
    }
    expect(existsSync(path.join(dir, 'no'))).toBe(false)
  })
})

describe('registry commands with webhooks', () => {
  it('notifies promotions and gate failures, and a dead webhook only warns', async () => {
    const hook = await startRecordingServer()
    const project = mkdtempSync(path.join(tmpdir(), 'io-regcli-hook-'))
    try {
      writeFileSync(
        path.join(project, 'intentops.yml'),
        'name: bot\nregistry:\n  allowUnsigned: true\nnotify:\n  retries: 1\n  webhooks:\n    - url: $HOOK\n      format: json\n',
      )
      const { config, root } = await loadConfig({ dir: project })
      const registry = await openRegistry({ config: config.registry, root })
      await registry.publish({ name: 'bot', bytes: modelBytes('a'), author: 'ci', eval: evalSummary(0.8) })
      await registry.publish({ name: 'bot', bytes: modelBytes('b'), author: 'ci', eval: evalSummary(0.7) })
      const run = async (envHook: string, ...argv: string[]) => {
        const io = memoryIO(project, { HOOK: envHook, INTENTOPS_AUTHOR: 'ci' })
        return { code: await runCli(argv, io), err: io.err() }
      }
      expect((await run(`${hook.url}/h`, 'promote', '1', '--to', 'production')).code).toBe(0)
      expect((await run(`${hook.url}/h`, 'promote', '2', '--to', 'production')).code).toBe(1)
      expect(hook.requests.map((r) => (r.json as { kind: string; details: { version: number } }).kind)).toEqual([
        'promoted',
        'gate_failed',
      ])
      expect(hook.requests[1]!.json).toMatchObject({
        details: { model: 'bot', version: 2, alias: 'production', from: 1 },
      })
      await hook.close()
      const dead = await run(hook.url, 'promote', '2', '--to', 'production', '--force', '--reason', 'test')
      expect(dead.code).toBe(0)
      expect(dead.err).toContain('warning: notification to 127.0.0.1')
    } finally {
      rmSync(project, { recursive: true, force: true })
    }
  })
})

describe('intentops publish', () => {
  it('refuses files that are not model files, bad tags and a missing signing key, storing nothing', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'io-regcli-pub-'))
    try {
      const run = async (...argv: string[]) => {
        const io = memoryIO(project, {})
        return { code: await runCli(argv, io), out: io.out(), err: io.err() }
      }
      writeFileSync(path.join(project, 'notes.iom'), 'just some text')
      const notModel = await run('publish', 'notes.iom')
      expect(notModel.code).toBe(1)
      expect(notModel.err).toMatch(/^error ERR_MODEL_NOT_A_MODEL: .*notes\.iom is not an intentops model file/)
      const missing = await run('publish', 'nope.iom')
      expect(missing.err).toMatch(/^error ERR_FILE_NOT_FOUND/)
      const { bytes } = await trainedModelBytes()
      writeFileSync(path.join(project, 'm.iom'), bytes)
      const tag = await run('publish', 'm.iom', '--tag', 'novalue')
      expect(tag.err).toContain('--tag must be key=value')
      const unsigned = await run('publish', 'm.iom')
      expect(unsigned.err).toMatch(/^error ERR_REGISTRY_NO_SIGNING_KEY/)
      expect(unsigned.err).toContain('intentops keys generate')
      // A truncated copy of a real model fails the model file's own checks.
      writeFileSync(path.join(project, 'cut.iom'), bytes.subarray(0, bytes.length - 100))
      const cut = await run('publish', 'cut.iom', '--registry', 'reg')
      expect(cut.err).toMatch(/^error ERR_MODEL_TRUNCATED/)
      const { existsSync } = await import('node:fs')
      expect(existsSync(path.join(project, '.intentops'))).toBe(false)
      expect(existsSync(path.join(project, 'reg'))).toBe(false)
      // With a key given on the command line it publishes, under the model's own name.
      expect((await run('keys', 'generate', '--out', 'k')).code).toBe(0)
      const ok = await run('publish', 'm.iom', '--key', 'k/intentops-signing.key', '--json')
      expect(ok.code, ok.err).toBe(0)
      expect(JSON.parse(ok.out)).toMatchObject({ name: 'intentops-bot', version: 1, blobExisted: false })
      expect(ok.err).toContain('warning: the signing key')
    } finally {
      rmSync(project, { recursive: true, force: true })
    }
  })
})
