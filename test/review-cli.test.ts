import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { decide } from '../src/review/actions.js'
import { prediction } from '../src/review/testing.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { gitIdentity, gitRepo } from './helpers/git-repo.js'

let repo: ReturnType<typeof gitRepo>

beforeEach(async () => {
  repo = gitRepo('io-review-cli-')
  repo.write('intentops.yml', 'version: 1\nname: bot\nreview:\n  order: newest\n')
  repo.write(
    'data/nlu.yml',
    'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n- intent: bye\n  examples: |\n    - bye\n',
  )
  repo.write('.gitignore', '.intentops/\n')
  repo.commit('project')
  const store = openSqliteStore({ file: path.join(repo.dir, '.intentops', 'store.db') })
  await store.migrate()
  await store.insertPredictions([
    prediction('m1', 'good evening', 'bye', 0.4, { ts: 1_000 }),
    prediction('m2', 'Good evening!', 'bye', 0.45, { ts: 2_000 }),
    prediction('m3', 'see you', 'greet', 0.3, { ts: 3_000 }),
  ])
  const ctx = { intents: new Set(['greet', 'bye']), outOfScopeIntent: 'nlu_fallback', now: () => 5_000 }
  await decide(store, { predictionIds: ['m3'], action: 'relabel', intent: 'bye', reviewer: 'ann' }, ctx)
  await store.close()
})
afterEach(() => rmSync(repo.dir, { recursive: true, force: true }))

async function run(argv: string[], cwd = repo.dir) {
  // the CLI runs git with its environment over this process's, as with an identity set in the shell
  const io = memoryIO(cwd, gitIdentity)
  const code = await runCli(argv, io)
  return { code, out: io.out(), err: io.err() }
}

describe('intentops review', () => {
  it('lists the inbox grouped, in the configured order', async () => {
    const res = await run(['review', 'list'])
    expect(res.code).toBe(0)
    expect(res.out).toBe(' 45%  bye  Good evening! (+1 similar)  [m2]\n2 messages in 1 group, by newest\n')
    const json = JSON.parse((await run(['review', 'list', '--order', 'confidence', '--json'])).out)
    expect(json.groups[0].members.map((m: { id: string }) => m.id)).toEqual(['m1', 'm2'])
    const bad = await run(['review', 'list', '--order', 'loudest'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('ERR_CLI_USAGE')
  })

  it('shows the audit and exports the reviews onto a new git branch with the diff', async () => {
    const audit = await run(['review', 'audit'])
    expect(audit.out).toBe('1970-01-01T00:00:05.000Z  ann  relabel  greet → bye  "see you"\n')
    const res = await run(['review', 'export', '--git-branch', 'reviews/1'])
    expect(res.code).toBe(0)
    expect(res.out).toMatch(/^added 1 example to data\/nlu.yml; 0 already in the training data, 0 conflicts\n/)
    expect(res.out).toMatch(/committed [0-9a-f]{12} on branch reviews\/1\n/)
    expect(res.out).toContain('see you')
    expect(readFileSync(path.join(repo.dir, 'data/nlu.yml'), 'utf8')).toBe(
      'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n- intent: bye\n  examples: |\n    - bye\n    - see you\n',
    )
    expect(repo.git('log', '-1', '--format=%s', 'reviews/1').trim()).toBe('Add 1 reviewed example to the training data')
    const again = await run(['review', 'export'])
    expect(again.out).toMatch(/^added 0 examples; 0 already in the training data, 0 conflicts\n/)
    expect(again.out).toContain('No changes to the training data.')
    // nothing left to export: the git options are still checked, and no branch is made
    const taken = await run(['review', 'export', '--git-branch', 'reviews/1'])
    expect([taken.code, taken.out]).toEqual([1, ''])
    expect(taken.err).toContain("ERR_REVIEW_GIT_BRANCH_EXISTS: The git branch 'reviews/1' exists already")
    const none = await run(['review', 'export', '--git-branch', 'reviews/2'])
    expect(none.code).toBe(0)
    expect(none.out).toContain('nothing to commit, so branch reviews/2 was not created\n')
    expect(repo.git('branch', '--list', 'reviews/2')).toBe('')
    const missing = await run(['review', 'export', '--file', 'data/x.json'])
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('ERR_REVIEW_EXPORT_FILE')
  })

  it('names uncommitted data files relative to the directory it runs in, with the hint', async () => {
    repo.write('data/nlu.yml', `${readFileSync(path.join(repo.dir, 'data/nlu.yml'), 'utf8')}    - ciao\n`)
    const res = await run(
      ['review', 'export', '-c', '../intentops.yml', '--git-branch', 'r'],
      path.join(repo.dir, 'data'),
    )
    expect(res.code).toBe(1)
    expect(res.err).toContain(
      'ERR_REVIEW_GIT_DIRTY: Files the export reads or writes have uncommitted changes: nlu.yml\n',
    )
    expect(res.err).toContain('Commit, stash or discard them first')
  })
})
