/**
 * The modes of files the CLI rewrites, under a usual umask (022, which leaves new files 0644): a data file, split or
 * other output it replaces keeps the permission bits its owner gave it, and `predict --out` is no more open than
 * the `--file` of messages it repeats.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { decide } from '../src/review/actions.js'
import { prediction } from '../src/review/testing.js'
import { openStore } from '../src/store/open.js'
import { spawnCli } from './helpers/cli-process.js'

const mode = (f: string) => statSync(f).mode & 0o777
const run = (args: string[]) => spawnCli(dir, args, { umask: 0o022 })

let dir: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-file-modes-'))
  writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\ndata: [nlu.yml]\n')
  writeFileSync(
    path.join(dir, 'nlu.yml'),
    'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n    - good morning\n' +
      '- intent: refund\n  examples: |\n    - my money back\n    - refund my order\n    - I want a refund\n',
  )
  const store = await openStore(defaultConfig().store, { root: dir })
  try {
    await store.insertPredictions([prediction('m1', 'give me my cash back', 'greet', 0.4, { ts: 1_000 })])
    const ctx = { intents: new Set(['greet', 'refund']), outOfScopeIntent: 'nlu_fallback', now: () => 5_000 }
    await decide(store, { predictionIds: ['m1'], action: 'relabel', intent: 'refund', reviewer: 'ann' }, ctx)
  } finally {
    await store.close()
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('files the CLI replaces keep their mode, under umask 022', () => {
  it('review export writes the reviews into a 0600 data file and leaves it 0600', async () => {
    const data = path.join(dir, 'nlu.yml')
    chmodSync(data, 0o600)
    const res = await run(['review', 'export'])
    expect(res.code, res.err).toBe(0)
    expect(res.out).toMatch(/^added 1 example to nlu\.yml/)
    expect(readFileSync(data, 'utf8')).toContain('- give me my cash back')
    expect(mode(data)).toBe(0o600)
  }, 30_000)

  it('data split replaces its outputs keeping the modes given to them, and makes new ones with the umask', async () => {
    const first = await run(['data', 'split', '--out', 'split', '--test-fraction', '0.5'])
    expect(first.code, first.err).toBe(0)
    const train = path.join(dir, 'split', 'train.yml')
    const test = path.join(dir, 'split', 'test.yml')
    expect([mode(train), mode(test)]).toEqual([0o644, 0o644])
    chmodSync(train, 0o640)
    chmodSync(test, 0o600)
    const before = readFileSync(train, 'utf8')
    const again = await run(['data', 'split', '--out', 'split', '--test-fraction', '0.5', '--seed', '7'])
    expect(again.code, again.err).toBe(0)
    // Another seed, other examples: the files were written again, not left alone.
    expect(readFileSync(train, 'utf8')).not.toBe(before)
    expect([mode(train), mode(test)]).toEqual([0o640, 0o600])
  }, 30_000)
})

describe('predict --out is no more open than its --file, under umask 022', () => {
  beforeAll(async () => {
    const res = await run(['train'])
    expect(res.code, res.err).toBe(0)
    const messages = `${JSON.stringify({ text: 'refund for zanzibar order' })}\n${JSON.stringify({ text: 'hello' })}\n`
    for (const [name, bits] of [
      ['private.jsonl', 0o600],
      ['group.jsonl', 0o640],
      ['public.jsonl', 0o644],
    ] as const) {
      writeFileSync(path.join(dir, name), messages)
      chmodSync(path.join(dir, name), bits)
    }
  }, 60_000)

  it('writes the results 0600 unless everyone may read the --file, and those of --text with the umask', async () => {
    for (const input of ['private', 'group', 'public']) {
      const res = await run(['predict', '--file', `${input}.jsonl`, '--out', `out/${input}.jsonl`])
      expect(res.code, res.err).toBe(0)
      expect(readFileSync(path.join(dir, 'out', `${input}.jsonl`), 'utf8')).toContain('zanzibar')
    }
    expect(['private', 'group', 'public'].map((i) => mode(path.join(dir, 'out', `${i}.jsonl`)))).toEqual([
      0o600, 0o600, 0o644,
    ])
    const text = await run(['predict', '--text', 'hello', '--out', 'out/text.jsonl'])
    expect(text.code, text.err).toBe(0)
    expect(mode(path.join(dir, 'out', 'text.jsonl'))).toBe(0o644)
  }, 60_000)

  it('narrows a results file it replaces to 0600 when the input is private, and keeps a stricter mode', async () => {
    const wide = path.join(dir, 'wide.jsonl')
    const strict = path.join(dir, 'strict.jsonl')
    for (const [f, bits] of [
      [wide, 0o644],
      [strict, 0o400],
    ] as const) {
      writeFileSync(f, 'old\n')
      chmodSync(f, bits)
      const res = await run(['predict', '--file', 'private.jsonl', '--out', f])
      expect(res.code, res.err).toBe(0)
      expect(readFileSync(f, 'utf8').trim().split('\n')).toHaveLength(2)
    }
    expect([mode(wide), mode(strict)]).toEqual([0o600, 0o400])
    // A readable input: the file replaced keeps the mode its owner gave it.
    chmodSync(wide, 0o664)
    const res = await run(['predict', '--file', 'public.jsonl', '--out', wide])
    expect(res.code, res.err).toBe(0)
    expect(mode(wide)).toBe(0o664)
  }, 60_000)
})
