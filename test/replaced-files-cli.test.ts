/**
 * Files the CLI replaces stay where and whose they were: root rewriting a user's data file leaves it the user's, a
 * writer that may not give files away keeps the older rule (the file is its own, the bits of a group it cannot give
 * dropped), and a data file linked to shared data stays a link. A new export file follows the data beside it, and
 * a folder or file root makes in a user's project (the prediction log, a signing key) is the user's.
 */
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { decide } from '../src/review/actions.js'
import { prediction } from '../src/review/testing.js'
import { openStore } from '../src/store/open.js'
import { type SpawnCliOptions, spawnCli } from './helpers/cli-process.js'

const NOBODY = 65534
const asRoot = process.platform === 'linux' && process.getuid?.() === 0
const NLU =
  'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n    - good morning\n' +
  '- intent: refund\n  examples: |\n    - my money back\n    - refund my order\n    - I want a refund\n'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/**
 * A project with `nlu.yml` and one review waiting to be exported: into `nlu.yml`, or, with another intent, into the
 * export file `data/reviewed.yml`.
 */
async function project(intent = 'refund'): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'io-replaced-'))
  dirs.push(dir)
  writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\ndata: [nlu.yml]\n')
  writeFileSync(path.join(dir, 'nlu.yml'), NLU)
  const store = await openStore(defaultConfig().store, { root: dir })
  try {
    await store.insertPredictions([prediction('m1', 'give me my cash back', 'greet', 0.4, { ts: 1_000 })])
    const ctx = { intents: new Set(['greet', 'refund']), outOfScopeIntent: 'nlu_fallback', now: () => 5_000 }
    await decide(store, { predictionIds: ['m1'], action: 'relabel', intent, newIntent: true, reviewer: 'ann' }, ctx)
  } finally {
    await store.close()
  }
  return dir
}

const run = (dir: string, args: string[], options: SpawnCliOptions = {}) =>
  spawnCli(dir, args, { umask: 0o022, ...options })
const owner = (f: string) => {
  const st = statSync(f)
  return [st.uid, st.gid, st.mode & 0o777]
}

describe.runIf(asRoot)("root rewriting a user's files", () => {
  it("review export leaves the user's data file the user's, with its group and mode", async () => {
    const dir = await project()
    const data = path.join(dir, 'nlu.yml')
    chownSync(data, NOBODY, 4242)
    chmodSync(data, 0o640)
    const res = await run(dir, ['review', 'export'])
    expect(res.code, res.err).toBe(0)
    expect(readFileSync(data, 'utf8')).toContain('- give me my cash back')
    expect(owner(data)).toEqual([NOBODY, 4242, 0o640])
  }, 30_000)

  it("data split replaces the user's outputs keeping their owner, and makes new ones root's", async () => {
    const dir = await project()
    const first = await run(dir, ['data', 'split', '--out', 'split', '--test-fraction', '0.5'])
    expect(first.code, first.err).toBe(0)
    const train = path.join(dir, 'split', 'train.yml')
    const test = path.join(dir, 'split', 'test.yml')
    expect([owner(train), owner(test)]).toEqual([
      [0, 0, 0o644],
      [0, 0, 0o644],
    ])
    chownSync(train, NOBODY, NOBODY)
    const before = readFileSync(train, 'utf8')
    const again = await run(dir, ['data', 'split', '--out', 'split', '--test-fraction', '0.5', '--seed', '7'])
    expect(again.code, again.err).toBe(0)
    expect(readFileSync(train, 'utf8')).not.toBe(before)
    expect([owner(train), owner(test)]).toEqual([
      [NOBODY, NOBODY, 0o644],
      [0, 0, 0o644],
    ])
  }, 30_000)

  it('a user who may not give files away makes the data file its own and drops the bits of a group it is not in', async () => {
    const dir = await project()
    const data = path.join(dir, 'nlu.yml')
    for (const f of [dir, ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f))])
      chownSync(f, NOBODY, NOBODY)
    // The user's file, in root's group, of which the user is not a member.
    chownSync(data, NOBODY, 0)
    chmodSync(data, 0o640)
    const res = await run(dir, ['review', 'export'], { uid: NOBODY, env: { HOME: dir } })
    expect(res.code, res.err).toBe(0)
    expect(readFileSync(data, 'utf8')).toContain('- give me my cash back')
    expect(owner(data)).toEqual([NOBODY, NOBODY, 0o600])
  }, 30_000)
})

describe.runIf(asRoot)('folders made for new outputs', () => {
  it("are the user's when root makes them in the user's project, no more open than it", async () => {
    const dir = await project('money')
    chownSync(dir, NOBODY, 4242)
    chmodSync(dir, 0o750)
    chownSync(path.join(dir, 'nlu.yml'), NOBODY, 4242)
    const split = await run(dir, ['data', 'split', '--out', 'reports/split', '--test-fraction', '0.5'])
    expect(split.code, split.err).toBe(0)
    const exported = await run(dir, ['review', 'export'])
    expect(exported.code, exported.err).toBe(0)
    expect([owner(path.join(dir, 'reports')), owner(path.join(dir, 'reports', 'split'))]).toEqual([
      [NOBODY, 4242, 0o750],
      [NOBODY, 4242, 0o750],
    ])
    // The folder of the new export file, and the file, which follows the training data.
    expect([owner(path.join(dir, 'data')), owner(path.join(dir, 'data', 'reviewed.yml'))]).toEqual([
      [NOBODY, 4242, 0o750],
      [NOBODY, 4242, 0o644],
    ])
    // A new output file in them is the user's too, no more open than the project.
    expect(owner(path.join(dir, 'reports', 'split', 'train.yml'))).toEqual([NOBODY, 4242, 0o640])
  }, 30_000)

  it('are made as mkdir -p makes them by a user who may not give them away', async () => {
    const dir = await project()
    chmodSync(dir, 0o777)
    const res = await run(dir, ['data', 'split', '--out', 'out/split', '--test-fraction', '0.5'], {
      uid: NOBODY,
      env: { HOME: dir },
    })
    expect(res.code, res.err).toBe(0)
    expect([owner(path.join(dir, 'out')), owner(path.join(dir, 'out', 'split'))]).toEqual([
      [NOBODY, NOBODY, 0o755],
      [NOBODY, NOBODY, 0o755],
    ])
  }, 30_000)
})

describe.runIf(asRoot)("files root creates in a user's project", () => {
  /** A project of the user's, in the user's group 4242, 0750, with nothing made by root yet. */
  const usersProject = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-users-'))
    dirs.push(dir)
    writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\ndata: [nlu.yml]\n')
    writeFileSync(path.join(dir, 'nlu.yml'), NLU)
    for (const f of [dir, path.join(dir, 'intentops.yml'), path.join(dir, 'nlu.yml')]) chownSync(f, NOBODY, 4242)
    chmodSync(dir, 0o750)
    return dir
  }
  const asUser = { uid: NOBODY, env: { HOME: '/nonexistent' } }

  it("a prediction log root starts is the user's, and the user can write it afterwards", async () => {
    const dir = usersProject()
    const made = await run(dir, ['tokens', 'create', '--name', 'cron', '--role', 'client'])
    expect(made.code, made.err).toBe(0)
    const store = path.join(dir, '.intentops', 'store.db')
    expect([owner(path.join(dir, '.intentops')), owner(store)]).toEqual([
      [NOBODY, 4242, 0o750],
      [NOBODY, 4242, 0o600],
    ])
    const mine = await run(dir, ['tokens', 'create', '--name', 'mine', '--role', 'admin'], asUser)
    expect(mine.code, mine.err).toBe(0)
    const list = await run(dir, ['tokens', 'list', '--json'], asUser)
    expect(list.code, list.err).toBe(0)
    expect((JSON.parse(list.out) as Array<{ name: string }>).map((t) => t.name).sort()).toEqual(['cron', 'mine'])
    // An export root writes of it is the user's, and private.
    const exported = await run(dir, ['log', 'export', '--out', 'exports/log.jsonl'])
    expect(exported.code, exported.err).toBe(0)
    expect(owner(path.join(dir, 'exports', 'log.jsonl'))).toEqual([NOBODY, 4242, 0o600])
  }, 60_000)

  it("a signing key root generates is the user's, private, and the user can use it", async () => {
    const dir = usersProject()
    const made = await run(dir, ['keys', 'generate'])
    expect(made.code, made.err).toBe(0)
    const keys = path.join(dir, '.intentops', 'keys')
    expect([keys, 'intentops-signing.key', 'intentops-signing.pub'].map((f) => owner(path.resolve(keys, f)))).toEqual([
      [NOBODY, 4242, 0o750],
      [NOBODY, 4242, 0o600],
      [NOBODY, 4242, 0o640],
    ])
    const shown = await run(dir, ['keys', 'show', '--key', '.intentops/keys/intentops-signing.key'], asUser)
    expect(shown.code, shown.err).toBe(0)
    expect(made.out).toContain(shown.out.match(/ed25519:[A-Za-z0-9_-]+/)?.[0] ?? 'no key shown')
  }, 60_000)
})

describe('review export, under umask 022', () => {
  it('writes through a data file linked to shared data, keeping the link', async () => {
    const dir = await project()
    mkdirSync(path.join(dir, 'shared'))
    renameSync(path.join(dir, 'nlu.yml'), path.join(dir, 'shared', 'nlu.yml'))
    symlinkSync('shared/nlu.yml', path.join(dir, 'nlu.yml'))
    const res = await run(dir, ['review', 'export'])
    expect(res.code, res.err).toBe(0)
    expect(res.out).toMatch(/^added 1 example to nlu\.yml/)
    expect(lstatSync(path.join(dir, 'nlu.yml')).isSymbolicLink()).toBe(true)
    expect(readFileSync(path.join(dir, 'shared', 'nlu.yml'), 'utf8')).toContain('- give me my cash back')
  }, 30_000)

  it('creates the export file for a new intent with the mode of the data beside it, not the umask', async () => {
    const dir = await project('money')
    chmodSync(path.join(dir, 'nlu.yml'), 0o600)
    const res = await run(dir, ['review', 'export'])
    expect(res.code, res.err).toBe(0)
    const created = path.join(dir, 'data', 'reviewed.yml')
    expect(readFileSync(created, 'utf8')).toContain('- give me my cash back')
    expect(owner(created)[2]).toBe(0o600)
  }, 30_000)

  it('retrain, as review export, warns that a data file with another hard link parts from it', async () => {
    const dir = await project()
    linkSync(path.join(dir, 'nlu.yml'), path.join(dir, 'nlu-copy.yml'))
    // the run publishes what it trains: no key to sign it with here
    writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\ndata: [nlu.yml]\nregistry:\n  allowUnsigned: true\n')
    const warning =
      'warning: nlu.yml has 1 other hard link: the export writes a new file in its place, so that name keeps the old content; share a data file with a symbolic link instead\n'
    const res = await run(dir, ['retrain'])
    expect(res.code, res.err).toBe(0)
    expect(res.err).toContain(warning)
    expect(res.out).toMatch(/^exported 1 reviewed example into nlu\.yml$/m)
    expect(readFileSync(path.join(dir, 'nlu.yml'), 'utf8')).toContain('- give me my cash back')
    expect(readFileSync(path.join(dir, 'nlu-copy.yml'), 'utf8')).toBe(NLU)
  }, 60_000)
})
