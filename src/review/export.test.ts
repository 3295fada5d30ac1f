import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, linkSync, lstatSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { gitEnv, gitRepo } from '../../test/helpers/git-repo.js'
import { isIntentopsError } from '../errors.js'
import type { KyselyPredictionStore } from '../store/kysely-store.js'
import { openSqliteStore } from '../store/sqlite.js'
import { decide, type ReviewContext } from './actions.js'
import { exportReviews } from './export.js'
import { prediction } from './testing.js'

const NLU = `version: "3.1"

# Greetings and bookings.
nlu:
# People say hello.
- intent: greet
  examples: |
    - hi
    - hello
- intent: book_flight
  examples: |
    - book a flight to [Rome](city)
    - I need a plane ticket
`

const OTHER = `version: "3.1"
nlu:
  - intent: cancel_flight
    examples: |
      - cancel my flight
`

let repo: ReturnType<typeof gitRepo>
let store: KyselyPredictionStore
let clock = 1_000
const ctx: ReviewContext = {
  intents: new Set(['greet', 'book_flight', 'cancel_flight']),
  outOfScopeIntent: 'nlu_fallback',
  now: () => ++clock,
}
const config = { data: ['data'], review: { exportFile: 'data/reviewed.yml' } }

beforeEach(async () => {
  repo = gitRepo('io-review-export-')
  repo.write('data/nlu.yml', NLU)
  repo.write('data/cancel.yml', OTHER)
  repo.write('.gitignore', '.intentops/\n')
  repo.commit('data')
  store = openSqliteStore({ file: path.join(repo.dir, '.intentops', 'store.db') })
  await store.migrate()
  await store.insertPredictions([
    prediction('a', 'good morning', 'greet', 0.5),
    prediction('b', 'fly me to Paris', 'greet', 0.4),
    prediction('c', 'Hello!', 'greet', 0.6), // normalised duplicate of "hello"
    prediction('d', 'I need a plane ticket', 'cancel_flight', 0.4), // conflicts with book_flight
    prediction('e', 'please cancel the booking', 'book_flight', 0.45),
    prediction('f', 'what is the weather like', 'greet', 0.2),
    prediction('g', 'asdfgh', 'greet', 0.1),
    prediction('h', 'my card is 4111', 'greet', 0.1),
  ])
  const say = (ids: string[], action: 'confirm' | 'relabel' | 'skip' | 'delete' | 'out_of_scope', intent?: string) =>
    decide(store, { predictionIds: ids, action, ...(intent ? { intent, newIntent: true } : {}), reviewer: 'ann' }, ctx)
  await say(['a'], 'confirm')
  await say(['b'], 'relabel', 'book_flight')
  await decide(
    store,
    { predictionIds: ['b'], action: 'entities', entities: [{ start: 10, end: 15, entity: 'city' }], reviewer: 'bob' },
    ctx,
  )
  await say(['c'], 'confirm')
  await say(['d'], 'confirm')
  await say(['e'], 'relabel', 'cancel_flight')
  await say(['f'], 'relabel', 'weather')
  await say(['g'], 'skip')
  await say(['h'], 'delete')
})
afterEach(async () => {
  await store.close()
  rmSync(repo.dir, { recursive: true, force: true })
})

const read = (f: string) => readFileSync(path.join(repo.dir, f), 'utf8')

describe('review export', () => {
  it("writes each example into its intent's file, new intents into reviewed.yml, keeping comments and layout", async () => {
    const res = await exportReviews(store, { root: repo.dir, config })
    expect(read('data/nlu.yml')).toBe(`version: "3.1"

# Greetings and bookings.
nlu:
# People say hello.
- intent: greet
  examples: |
    - hi
    - hello
    - good morning
- intent: book_flight
  examples: |
    - book a flight to [Rome](city)
    - I need a plane ticket
    - fly me to [Paris](city)
`)
    expect(read('data/cancel.yml')).toBe(`version: "3.1"
nlu:
  - intent: cancel_flight
    examples: |
      - cancel my flight
      - please cancel the booking
`)
    expect(read('data/reviewed.yml')).toContain('- intent: weather\n  examples: |\n    - what is the weather like\n')
    expect(res.files).toEqual(['data/cancel.yml', 'data/nlu.yml', 'data/reviewed.yml'])
    expect(res.written.map((w) => [w.predictionId, w.intent, w.text])).toEqual([
      ['a', 'greet', 'good morning'],
      ['b', 'book_flight', 'fly me to [Paris](city)'],
      ['e', 'cancel_flight', 'please cancel the booking'],
      ['f', 'weather', 'what is the weather like'],
    ])
    expect(res.duplicates).toMatchObject([
      { predictionId: 'c', intent: 'greet', existing: { intent: 'greet', source: { file: 'data/nlu.yml', line: 9 } } },
    ])
    expect(res.conflicts).toMatchObject([
      {
        predictionId: 'd',
        intent: 'cancel_flight',
        existing: { intent: 'book_flight', source: { file: 'data/nlu.yml' } },
      },
    ])
    // the diff shows exactly the four additions
    expect(res.diff.summary).toMatchObject({ added: 4, removed: 0, moved: 0, intentsAdded: ['weather'] })
    expect(res.markdown).toContain('fly me to [Paris](city)')
    // exported: everything but the conflict (a, b twice, c, e, f, g, h)
    expect(res.marked).toBe(8)
    expect((await store.listReviews({ exported: false })).map((r) => r.predictionId)).toEqual(['d'])
  })

  it('is idempotent: a second export writes nothing and reports the conflict again', async () => {
    await exportReviews(store, { root: repo.dir, config })
    const before = read('data/nlu.yml')
    const again = await exportReviews(store, { root: repo.dir, config })
    expect(again.written).toEqual([])
    expect(again.conflicts.map((c) => c.predictionId)).toEqual(['d'])
    expect(again.diff.unchanged).toBe(true)
    expect(read('data/nlu.yml')).toBe(before)
  })

  it('reports two reviews that disagree about the same text as conflicts and writes neither', async () => {
    await store.insertPredictions([
      prediction('x1', 'new route please', 'greet', 0.3),
      prediction('x2', 'New route, please!', 'greet', 0.3),
    ])
    await decide(store, { predictionIds: ['x1'], action: 'relabel', intent: 'book_flight', reviewer: 'ann' }, ctx)
    await decide(store, { predictionIds: ['x2'], action: 'relabel', intent: 'cancel_flight', reviewer: 'bob' }, ctx)
    const res = await exportReviews(store, { root: repo.dir, config, dryRun: true })
    expect(res.conflicts.map((c) => c.predictionId).sort()).toEqual(['d', 'x1', 'x2'])
    expect(res.written.map((w) => w.predictionId)).not.toContain('x1')
    // a dry run writes and marks nothing
    expect(read('data/nlu.yml')).toBe(NLU)
    expect(res.marked).toBe(0)
    expect(res.diff.summary.added).toBe(4)
  })

  it('commits on a new git branch, and refuses an existing branch or dirty data files', async () => {
    const env = gitEnv
    const errorCode = async (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (e) => (isIntentopsError(e) ? e.code : String(e)),
      )
    repo.git('branch', 'taken')
    expect(await errorCode(exportReviews(store, { root: repo.dir, config, gitBranch: 'taken', env }))).toBe(
      'ERR_REVIEW_GIT_BRANCH_EXISTS',
    )
    repo.write('data/nlu.yml', `${NLU}\n`)
    const dirty = await exportReviews(store, { root: repo.dir, config, gitBranch: 'reviews-1', env }).catch((e) => e)
    expect(dirty).toMatchObject({ code: 'ERR_REVIEW_GIT_DIRTY' })
    // the path whole: the porcelain line of a change not staged starts with a space
    expect((dirty as Error).message).toMatch(/: data\/nlu\.yml$/)
    repo.git('checkout', '--', 'data/nlu.yml')
    // nothing was marked by the refused runs
    expect(await store.listReviews({ exported: true })).toEqual([])

    const res = await exportReviews(store, { root: repo.dir, config, gitBranch: 'reviews-1', env })
    expect(res.branch).toBe('reviews-1')
    expect(repo.git('rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('reviews-1')
    expect(repo.git('rev-parse', 'HEAD').trim()).toBe(res.commit)
    expect(repo.git('status', '--porcelain').trim()).toBe('')
    expect(repo.git('show', '--stat', '--format=%s', 'HEAD')).toMatch(
      /^Add 4 reviewed examples to the training data\n\n data\/cancel.yml +\| 1 \+\n data\/nlu.yml +\| 2 \+\+\n data\/reviewed.yml/,
    )
    expect(repo.git('diff', 'main', 'reviews-1', '--', 'data/nlu.yml')).toContain('+    - fly me to [Paris](city)')
  })

  it('checks the git options the same way when there is nothing to export, and in a dry run', async () => {
    const env = gitEnv
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (e) => (isIntentopsError(e) ? e.code : String(e)),
      )
    repo.git('branch', 'taken')
    // with reviews pending, a dry run refuses what the real run would
    expect(await code(exportReviews(store, { root: repo.dir, config, gitBranch: 'taken', dryRun: true, env }))).toBe(
      'ERR_REVIEW_GIT_BRANCH_EXISTS',
    )
    await exportReviews(store, { root: repo.dir, config })
    repo.commit('reviews')
    // only the conflict is left: nothing to write
    expect(await code(exportReviews(store, { root: repo.dir, config, gitBranch: 'taken', env }))).toBe(
      'ERR_REVIEW_GIT_BRANCH_EXISTS',
    )
    expect(await code(exportReviews(store, { root: repo.dir, config, gitBranch: 'bad..name', env }))).toBe(
      'ERR_REVIEW_GIT',
    )
    repo.write('data/cancel.yml', `${OTHER}      - call it off\n`)
    const dirty = await exportReviews(store, { root: repo.dir, config, gitBranch: 'reviews-2', env }).catch((e) => e)
    expect([dirty.code, dirty.message]).toEqual([
      'ERR_REVIEW_GIT_DIRTY',
      'Files the export reads or writes have uncommitted changes: data/cancel.yml',
    ])
    repo.git('checkout', '--', 'data/cancel.yml')
    const none = await exportReviews(store, { root: repo.dir, config, gitBranch: 'reviews-2', env })
    expect([none.written, none.branch, none.commit]).toEqual([[], undefined, undefined])
    // nothing to commit: no branch is made and HEAD stays where it was
    expect(repo.git('branch', '--list', 'reviews-2')).toBe('')
    expect(repo.git('rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main')
  })

  it('names the uncommitted files relative to the directory it runs in, as git status does', async () => {
    const env = gitEnv
    const dirtyFiles = async (root: string, cwd?: string) => {
      const err = await exportReviews(store, { root, config, gitBranch: 'reviews-4', env, ...(cwd ? { cwd } : {}) })
        .then(() => undefined)
        .catch((e) => e)
      expect(err).toMatchObject({ code: 'ERR_REVIEW_GIT_DIRTY', hint: expect.stringContaining('Commit, stash') })
      return (err as Error).message.replace('Files the export reads or writes have uncommitted changes: ', '')
    }
    /** What `git status --short` prints in `cwd` for `files`, in its order, a name with a space unquoted. */
    const gitStatus = (cwd: string, files: string[]) =>
      execFileSync(
        'git',
        ['-c', 'core.quotePath=false', 'status', '--short', '--', ...files.map((f) => path.join(repo.dir, f))],
        { cwd, env },
      )
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(3).replace(/^"(.*)"$/, '$1'))
        .join(', ')
    repo.write('data/nlu.yml', `${NLU}\n`)
    repo.write('data/café notes.yml', OTHER)
    const changed = ['data/café notes.yml', 'data/nlu.yml']
    for (const cwd of [repo.dir, path.join(repo.dir, 'data'), path.join(repo.dir, '.intentops')]) {
      expect(await dirtyFiles(repo.dir, cwd)).toBe(gitStatus(cwd, changed))
    }
    expect(await dirtyFiles(repo.dir, path.join(repo.dir, 'data'))).toBe('nlu.yml, café notes.yml')
    expect(await dirtyFiles(repo.dir, path.join(repo.dir, '.intentops'))).toBe(
      '../data/nlu.yml, ../data/café notes.yml',
    )
    // a project in a subdirectory of the repository: by default, relative to the project
    repo.write('bot/data/nlu.yml', NLU)
    repo.git('add', 'bot')
    repo.git('commit', '-q', '-m', 'bot')
    repo.write('bot/data/nlu.yml', `${NLU}\n`)
    expect(await dirtyFiles(path.join(repo.dir, 'bot'))).toBe('data/nlu.yml')
    expect(await dirtyFiles(path.join(repo.dir, 'bot'), repo.dir)).toBe('bot/data/nlu.yml')
  })

  it('refuses uncommitted changes to lookup files, data files it does not write, and new data files', async () => {
    const env = gitEnv
    repo.write(
      'data/lookups.yml',
      'version: "3.1"\nnlu:\n- lookup: city\n  examples: ../lookups/cities.txt\n- lookup: airline\n  examples: airlines.txt\n',
    )
    repo.write('lookups/cities.txt', 'Rome\nParis\n')
    repo.write('data/airlines.txt', 'KLM\n')
    repo.commit('lookups')
    const refused = async () => {
      const err = await exportReviews(store, { root: repo.dir, config, gitBranch: 'reviews-3', env }).catch((e) => e)
      return isIntentopsError(err) && err.code === 'ERR_REVIEW_GIT_DIRTY' ? err.message.split(': ')[1] : String(err)
    }
    // a lookup file outside the data paths, which the export neither writes nor lists as data
    repo.write('lookups/cities.txt', 'Rome\nParis\nOslo\n')
    expect(await refused()).toBe('lookups/cities.txt')
    repo.git('checkout', '--', 'lookups/cities.txt')
    // a data file the export does not write
    repo.write('data/airlines.txt', 'KLM\nSAS\n')
    expect(await refused()).toBe('data/airlines.txt')
    repo.git('checkout', '--', 'data/airlines.txt')
    // a data file not yet added: the export would read it, the commit would not hold it
    repo.write('data/more.yml', 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - howdy\n')
    expect(await refused()).toBe('data/more.yml')
    rmSync(path.join(repo.dir, 'data/more.yml'))
    // a data file deleted but not committed
    rmSync(path.join(repo.dir, 'data/lookups.yml'))
    expect(await refused()).toBe('data/lookups.yml')
    repo.git('checkout', '--', 'data/lookups.yml')
    expect(await store.listReviews({ exported: true })).toEqual([])

    const res = await exportReviews(store, { root: repo.dir, config, gitBranch: 'reviews-3', env })
    expect(res.branch).toBe('reviews-3')
    expect(repo.git('status', '--porcelain').trim()).toBe('')
  })

  it('skips a message whose text would read as entity markup, with a warning, and exports the rest', async () => {
    await store.insertPredictions([
      prediction('m1', 'press [ok](btn) to book', 'book_flight', 0.3),
      prediction('m2', 'a [ lone bracket hello', 'greet', 0.3),
    ])
    await decide(store, { predictionIds: ['m1', 'm2'], action: 'confirm', reviewer: 'ann' }, ctx)
    const m1Review = (await store.listReviews({ predictionId: 'm1' }))[0]!.id
    const res = await exportReviews(store, { root: repo.dir, config })
    expect(res.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^message m1 \\(review ${m1Review}\\) is not exported: Example "press \\[ok\\]\\(btn\\) to book" cannot be written as Rasa YAML: .*marking "ok" as entity btn\\. Rasa's inline entity syntax has no escape`,
        ),
      ),
    ])
    expect(res.written.map((w) => w.predictionId)).toEqual(['a', 'b', 'e', 'f', 'm2'])
    const nlu = read('data/nlu.yml')
    expect(nlu).not.toContain('[ok]')
    expect(nlu).toContain('    - a [ lone bracket hello\n')
    // the skipped message stays pending; every other review is marked
    const pending = await store.listReviews({ exported: false })
    expect(pending.map((r) => r.predictionId)).toEqual(expect.arrayContaining(['m1', 'd']))
    expect(pending.map((r) => r.predictionId)).not.toContain('m2')
  })

  it('skips a message whose intent or entity name validation would refuse, with a warning, and exports the rest', async () => {
    // reviews recorded before names were checked, and a model label that breaks the rules
    await store.insertPredictions([
      prediction('n1', 'where is my parcel', 'greet', 0.3),
      prediction('n2', 'I want a ticket', 'greet', 0.3),
      prediction('n3', 'what is up', 'what is up', 0.3),
    ])
    const review = (id: string, intent: string, entities?: Array<{ start: number; end: number; entity: string }>) =>
      store.addReview({
        id: `r-${id}`,
        predictionId: id,
        action: 'relabel',
        intent,
        previousIntent: 'greet',
        ...(entities ? { entities: entities.map((e) => ({ ...e, value: 'want' })) } : {}),
        reviewer: 'ann',
        ts: ++clock,
      })
    await review('n1', 'a:b')
    await review('n2', 'book_flight', [{ start: 2, end: 6, entity: 'Bad Name' }])
    await decide(store, { predictionIds: ['n3'], action: 'confirm', reviewer: 'ann' }, ctx)
    const res = await exportReviews(store, { root: repo.dir, config })
    expect(res.warnings).toEqual([
      expect.stringMatching(
        /^message n1 \(review r-n1\) is not exported: The intent name 'a:b' cannot be used: it contains ':'\. Intent names are .* Rename it, e\.g\. to a_b\. It stays unexported until a later decision gives it a valid name/,
      ),
      expect.stringMatching(
        /^message n2 \(review r-n2\) is not exported: The entity name 'Bad Name' cannot be used: it contains a space\. .*Rename it, e\.g\. to Bad_Name\./,
      ),
      expect.stringMatching(/^message n3 \(review .*\) is not exported: The intent name 'what is up' cannot be used/),
    ])
    expect(res.written.map((w) => w.predictionId)).toEqual(['a', 'b', 'e', 'f'])
    const all = ['data/nlu.yml', 'data/cancel.yml', 'data/reviewed.yml'].map(read).join('\n')
    expect(all).not.toMatch(/a:b|Bad Name|what is up/)
    const pending = (await store.listReviews({ exported: false })).map((r) => r.predictionId)
    expect(pending.sort()).toEqual(['d', 'n1', 'n2', 'n3'])
  })

  it('skips a message whose entity role or group validation would refuse, as for a bad entity name', async () => {
    // spans recorded before roles and groups were checked; a numbered group, as Rasa writes them, is fine
    await store.insertPredictions([
      prediction('o1', 'fly from Oslo', 'book_flight', 0.3),
      prediction('o2', 'fly from Rome', 'book_flight', 0.3),
      prediction('o3', 'fly from Bonn', 'book_flight', 0.3),
    ])
    const review = (id: string, city: string, extra: { role?: string; group?: string }) =>
      store.addReview({
        id: `r-${id}`,
        predictionId: id,
        action: 'entities',
        intent: 'book_flight',
        previousIntent: 'book_flight',
        entities: [{ start: 9, end: 13, entity: 'city', value: city, ...extra }],
        reviewer: 'ann',
        ts: ++clock,
      })
    await review('o1', 'Oslo', { role: 'from city' })
    await review('o2', 'Rome', { group: 'null' })
    await review('o3', 'Bonn', { role: 'departure', group: '1' })
    const res = await exportReviews(store, { root: repo.dir, config })
    expect(res.warnings).toEqual([
      expect.stringMatching(
        /^message o1 \(review r-o1\) is not exported: The role name 'from city' cannot be used: it contains a space\. Entity roles follow .* Rename it, e\.g\. to from_city\. It stays unexported until a later decision gives it a valid name/,
      ),
      expect.stringMatching(
        /^message o2 \(review r-o2\) is not exported: The group name 'null' cannot be used: YAML reads it as null, not as a name, wherever it is unquoted\. Entity groups follow .* Rename it\. It stays unexported until/,
      ),
    ])
    expect(res.written.map((w) => w.predictionId)).toEqual(['a', 'b', 'e', 'f', 'o3'])
    const nlu = read('data/nlu.yml')
    expect(nlu).toContain('    - fly from [Bonn]{"entity":"city","role":"departure","group":"1"}\n')
    expect(nlu).not.toMatch(/Oslo|fly from \[?Rome|from city|"null"/)
    const pending = (await store.listReviews({ exported: false })).map((r) => r.predictionId)
    expect(pending.sort()).toEqual(['d', 'o1', 'o2'])
  })

  it('refuses an export file that is not YAML or lies outside the project', async () => {
    for (const file of ['data/reviewed.csv', '../elsewhere.yml']) {
      const err = await exportReviews(store, { root: repo.dir, config, file }).catch((e) => e)
      expect(isIntentopsError(err) && err.code).toBe('ERR_REVIEW_EXPORT_FILE')
    }
  })

  it('warns when the export file is outside the training data paths, and still diffs only the additions', async () => {
    const res = await exportReviews(store, { root: repo.dir, config, file: 'extra/reviewed.yml' })
    expect(res.warnings[0]).toMatch(/extra\/reviewed.yml is outside the training data paths/)
    expect(res.diff.summary.added).toBe(4)
    expect(read('extra/reviewed.yml')).toContain('what is the weather like')
  })
})

describe('the files review export writes', () => {
  const mode = (f: string) => statSync(path.join(repo.dir, f)).mode & 0o777
  const asRoot = process.platform === 'linux' && process.getuid?.() === 0
  const exportUnder = async (umask: number, options: Partial<Parameters<typeof exportReviews>[1]> = {}) => {
    const old = process.umask(umask)
    try {
      return await exportReviews(store, { root: repo.dir, config, ...options })
    } finally {
      process.umask(old)
    }
  }

  it('creates the export file with the bits every data file has, whatever the umask', async () => {
    chmodSync(path.join(repo.dir, 'data/nlu.yml'), 0o600)
    chmodSync(path.join(repo.dir, 'data/cancel.yml'), 0o640)
    const res = await exportUnder(0o022)
    expect(res.files).toContain('data/reviewed.yml')
    expect(read('data/reviewed.yml')).toContain('- what is the weather like')
    expect([mode('data/reviewed.yml'), mode('data/nlu.yml'), mode('data/cancel.yml')]).toEqual([0o600, 0o600, 0o640])
  })

  it('follows data files that others may read, not a stricter umask, and keeps an export file that exists', async () => {
    chmodSync(path.join(repo.dir, 'data/nlu.yml'), 0o664)
    chmodSync(path.join(repo.dir, 'data/cancel.yml'), 0o644)
    await exportUnder(0o077)
    expect(mode('data/reviewed.yml')).toBe(0o644)
    // One that exists keeps its own mode, as any file replaced does.
    chmodSync(path.join(repo.dir, 'data/reviewed.yml'), 0o600)
    await store.insertPredictions([prediction('w2', 'will it rain', 'greet', 0.3)])
    await decide(
      store,
      { predictionIds: ['w2'], action: 'relabel', intent: 'weather', newIntent: true, reviewer: 'ann' },
      ctx,
    )
    await exportUnder(0o022)
    expect(read('data/reviewed.yml')).toContain('- will it rain')
    expect(mode('data/reviewed.yml')).toBe(0o600)
  })

  it.runIf(asRoot)(
    "gives the export file the data files' owner and group, and no group bits when groups differ",
    async () => {
      for (const f of ['data/nlu.yml', 'data/cancel.yml']) {
        chownSync(path.join(repo.dir, f), 65534, 4242)
        chmodSync(path.join(repo.dir, f), 0o640)
      }
      await exportUnder(0o022)
      const st = statSync(path.join(repo.dir, 'data/reviewed.yml'))
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 4242, 0o640])

      rmSync(path.join(repo.dir, 'data/reviewed.yml'))
      chownSync(path.join(repo.dir, 'data/cancel.yml'), 65534, 4243)
      await store.insertPredictions([prediction('w2', 'will it rain', 'greet', 0.3)])
      await decide(
        store,
        { predictionIds: ['w2'], action: 'relabel', intent: 'weather', newIntent: true, reviewer: 'ann' },
        ctx,
      )
      await exportUnder(0o022)
      const again = statSync(path.join(repo.dir, 'data/reviewed.yml'))
      expect([again.uid, again.gid, again.mode & 0o777]).toEqual([65534, 0, 0o600])
    },
  )

  it('writes a data file linked to shared data where the link leads, and commits that file', async () => {
    const env = gitEnv
    repo.write('shared/nlu.yml', NLU)
    rmSync(path.join(repo.dir, 'data/nlu.yml'))
    symlinkSync('../shared/nlu.yml', path.join(repo.dir, 'data/nlu.yml'))
    repo.commit('share the data')
    // The file the link leads to is watched like the data files.
    repo.write('shared/nlu.yml', `${NLU}\n`)
    await expect(exportReviews(store, { root: repo.dir, config, gitBranch: 'reviews-1', env })).rejects.toMatchObject({
      code: 'ERR_REVIEW_GIT_DIRTY',
      message: expect.stringMatching(/: shared\/nlu\.yml$/),
    })
    repo.git('checkout', '--', 'shared/nlu.yml')

    const res = await exportReviews(store, { root: repo.dir, config, gitBranch: 'reviews-1', env })
    expect(res.files).toEqual(['data/cancel.yml', 'data/nlu.yml', 'data/reviewed.yml'])
    expect([lstatSync(path.join(repo.dir, 'data/nlu.yml')).isSymbolicLink(), read('shared/nlu.yml')]).toEqual([
      true,
      expect.stringContaining('- fly me to [Paris](city)'),
    ])
    expect(repo.git('status', '--porcelain').trim()).toBe('')
    expect(repo.git('show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort()).toEqual([
      'data/cancel.yml',
      'data/reviewed.yml',
      'shared/nlu.yml',
    ])
  })

  it('warns that a data file with another hard link parts from it, in a dry run too', async () => {
    linkSync(path.join(repo.dir, 'data/nlu.yml'), path.join(repo.dir, 'nlu-copy.yml'))
    const warning =
      'data/nlu.yml has 1 other hard link: the export writes a new file in its place, so that name keeps the old content; share a data file with a symbolic link instead'
    expect((await exportReviews(store, { root: repo.dir, config, dryRun: true })).warnings).toEqual([warning])
    const res = await exportReviews(store, { root: repo.dir, config })
    expect(res.warnings).toEqual([warning])
    expect(read('data/nlu.yml')).toContain('- fly me to [Paris](city)')
    expect(read('nlu-copy.yml')).toBe(NLU)
  })
})
