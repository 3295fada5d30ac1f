import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadTrainingData, loadTrainingDataDetailed } from './load.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-load-'))
  mkdirSync(path.join(dir, 'data/sub'), { recursive: true })
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))
const put = (f: string, content: string | Buffer) => writeFileSync(path.join(dir, f), content)

describe('loadTrainingData', () => {
  it('merges every format under a directory into one set, with root-relative sources', async () => {
    put(
      'data/a.yml',
      'version: "3.1"\nnlu:\n- intent: greet\n  metadata: {x: 1}\n  examples: |\n    - hi\n- synonym: NY\n  examples: |\n    - nyc\n',
    )
    put('data/sub/b.jsonl', '{"text": "hello", "intent": "greet"}\n{"text": "bye", "intent": "bye"}\n')
    put('data/sub/c.csv', 'text,intent\nsee you,bye\n')
    put('data/sub/d.json', '{"rasa_nlu_data": {"entity_synonyms": [{"value": "NY", "synonyms": ["new york"]}]}}')
    put('data/notes.txt', 'not data')
    const data = await loadTrainingData(['data'], { root: dir })
    expect(data.examples.map((e) => [e.text, e.source?.file, e.source?.line])).toEqual([
      ['hi', 'data/a.yml', 6],
      ['hello', 'data/sub/b.jsonl', 1],
      ['bye', 'data/sub/b.jsonl', 2],
      ['see you', 'data/sub/c.csv', 2],
    ])
    expect(data.intents.map((i) => [i.name, i.metadata])).toEqual([
      ['greet', { x: 1 }],
      ['bye', undefined],
    ])
    expect(data.synonyms).toMatchObject([{ value: 'NY', examples: ['nyc', 'new york'] }])
  })

  it('loads a Rasa example with a [ that is never closed as text, with a warning', async () => {
    put('data/a.yml', 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - a [ lone bracket\n    - hi\n')
    const data = await loadTrainingData(['data'], { root: dir })
    expect(data.examples.map((e) => e.text)).toEqual(['a [ lone bracket', 'hi'])
    const r = await loadTrainingDataDetailed(['data'], { root: dir })
    expect(r.diagnostics.map((d) => [d.code, d.severity, d.location.line, d.location.column])).toEqual([
      ['WARN_DATA_UNCLOSED_BRACKET', 'warning', 5, 9],
    ])
  })

  it('throws the first error with its position; the detailed loader collects them all', async () => {
    put('data/a.yml', 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - [x](e\n')
    put('data/b.yml', 'nlu: [\n')
    await expect(loadTrainingData(['data'], { root: dir })).rejects.toMatchObject({
      code: 'ERR_DATA_BAD_ANNOTATION',
      location: { file: 'data/a.yml', line: 5, column: 10 },
    })
    const r = await loadTrainingDataDetailed(['data'], { root: dir })
    expect(r.diagnostics.map((d) => d.code)).toEqual(['ERR_DATA_BAD_ANNOTATION', 'ERR_YAML_SYNTAX'])
  })

  it.each([
    ['a binary file', 'data/bin.yml', Buffer.from([0x76, 0x00, 0x01]), 'ERR_FILE_BINARY'],
    ['invalid UTF-8', 'data/latin1.yml', Buffer.from([0x6e, 0x6c, 0x75, 0x3a, 0x20, 0xe9, 0x0a]), 'ERR_FILE_ENCODING'],
  ])('turns %s into one diagnostic', async (_name, file, content, code) => {
    put(file, content)
    const r = await loadTrainingDataDetailed([file], { root: dir })
    expect(r.diagnostics).toMatchObject([{ code, location: { file } }])
  })

  it('refuses files over the size limit before reading them', async () => {
    put('data/big.yml', Buffer.alloc(21 * 1024 * 1024, 0x61))
    const r = await loadTrainingDataDetailed(['data/big.yml'], { root: dir })
    expect(r.diagnostics).toMatchObject([{ code: 'ERR_FILE_TOO_LARGE' }])
  })

  it('refuses paths outside the project and reports missing paths and empty directories', async () => {
    mkdirSync(path.join(dir, 'empty'))
    const r = await loadTrainingDataDetailed(['../elsewhere', 'missing', 'empty'], { root: dir })
    expect(r.diagnostics.map((d) => d.code)).toEqual([
      'ERR_PATH_OUTSIDE_PROJECT',
      'ERR_FILE_NOT_FOUND',
      'ERR_DATA_NO_FILES',
    ])
  })
})

describe('symlinks', () => {
  it('reads a link to a data file in a data directory as that file, and refuses one that leads out', async () => {
    const { symlinkSync } = await import('node:fs')
    mkdirSync(path.join(dir, 'shared'))
    put('shared/nlu.yml', 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n')
    put('data/own.yml', 'version: "3.1"\nnlu:\n- intent: bye\n  examples: |\n    - bye\n')
    symlinkSync('../shared/nlu.yml', path.join(dir, 'data/nlu.yml'))
    // A link to nothing is no data file; a linked directory is walked, and the file it holds again is read once.
    symlinkSync('../shared/missing.yml', path.join(dir, 'data/gone.yml'))
    symlinkSync('../shared', path.join(dir, 'data/shared.yml'))
    const data = await loadTrainingData(['data'], { root: dir })
    expect(data.examples.map((e) => [e.text, e.source?.file])).toEqual([
      ['hi', 'data/nlu.yml'],
      ['bye', 'data/own.yml'],
    ])
    const outside = mkdtempSync(path.join(tmpdir(), 'io-outside-'))
    try {
      writeFileSync(path.join(outside, 'secret.yml'), 'nlu: []\n')
      symlinkSync(path.join(outside, 'secret.yml'), path.join(dir, 'data/secret.yml'))
      const r = await loadTrainingDataDetailed(['data'], { root: dir })
      expect(r.diagnostics).toMatchObject([{ code: 'ERR_PATH_OUTSIDE_PROJECT' }])
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  const nlu = (intent: string, text: string) =>
    `version: "3.1"\nnlu:\n- intent: ${intent}\n  examples: |\n    - ${text}\n`

  it('walks a linked directory, in name order, reading a file reached twice once under its own name', async () => {
    mkdirSync(path.join(dir, 'shared/intents/more'), { recursive: true })
    put('shared/intents/a.yml', nlu('greet', 'hi'))
    put('shared/intents/more/b.yml', nlu('bye', 'bye'))
    put('data/sub/s.yml', nlu('thanks', 'thanks'))
    put('data/z.yml', nlu('help', 'help'))
    symlinkSync('../shared/intents', path.join(dir, 'data/common'))
    // The shared folder links back to a file of the data directory, and the data directory to a folder of its own.
    symlinkSync('../../data/z.yml', path.join(dir, 'shared/intents/more/c.yml'))
    symlinkSync('sub', path.join(dir, 'data/a-sub'))
    // Skipped by name, as directories of those names are.
    symlinkSync('../shared/intents', path.join(dir, 'data/node_modules'))
    symlinkSync('../shared/intents', path.join(dir, 'data/.hidden'))
    const r = await loadTrainingDataDetailed(['data'], { root: dir })
    expect(r.diagnostics).toEqual([])
    expect(r.files.map((f) => f.file)).toEqual([
      'data/common/a.yml',
      'data/common/more/b.yml',
      'data/sub/s.yml',
      'data/z.yml',
    ])
    expect(r.data.examples.map((e) => e.text)).toEqual(['hi', 'bye', 'thanks', 'help'])
  })

  it('walks a loop of directory links once, and skips links that go round in a loop', async () => {
    put('data/a.yml', nlu('greet', 'hi'))
    put('data/sub/b.yml', nlu('bye', 'bye'))
    symlinkSync('..', path.join(dir, 'data/sub/up'))
    symlinkSync('.', path.join(dir, 'data/sub/self'))
    symlinkSync('../data', path.join(dir, 'data/again'))
    symlinkSync('l2', path.join(dir, 'data/l1.yml'))
    symlinkSync('l1.yml', path.join(dir, 'data/l2'))
    const r = await loadTrainingDataDetailed(['data'], { root: dir })
    expect([r.diagnostics, r.files.map((f) => f.file)]).toEqual([[], ['data/a.yml', 'data/sub/b.yml']])
  })

  it('refuses a directory link that leads out of the project, naming the link and where it leads', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'io-outside-'))
    try {
      writeFileSync(path.join(outside, 'secret.yml'), nlu('secret', 'the secret'))
      put('data/a.yml', nlu('greet', 'hi'))
      symlinkSync(outside, path.join(dir, 'data/sub/ext'))
      const real = realpathSync(outside)
      const root = path.resolve(dir)
      const r = await loadTrainingDataDetailed(['data'], { root: dir })
      expect(r.diagnostics).toEqual([
        expect.objectContaining({
          code: 'ERR_PATH_OUTSIDE_PROJECT',
          message: `data/sub/ext (${real}) is outside the project directory ${root}`,
          location: { file: 'data/sub/ext' },
        }),
      ])
      expect(r.data.examples).toEqual([])
      await expect(loadTrainingData(['data'], { root: dir })).rejects.toMatchObject({
        code: 'ERR_PATH_OUTSIDE_PROJECT',
      })
      // A data path that is such a link is refused the same way.
      symlinkSync(outside, path.join(dir, 'linked'))
      await expect(loadTrainingData(['linked'], { root: dir })).rejects.toMatchObject({
        code: 'ERR_PATH_OUTSIDE_PROJECT',
        message: `linked (${real}) is outside the project directory ${root}`,
      })
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  it('refuses a data file that links outside the project', async () => {
    const { symlinkSync } = await import('node:fs')
    const outside = mkdtempSync(path.join(tmpdir(), 'io-outside-'))
    writeFileSync(path.join(outside, 'secret.yml'), 'nlu: []\n')
    symlinkSync(path.join(outside, 'secret.yml'), path.join(dir, 'data/link.yml'))
    try {
      const r = await loadTrainingDataDetailed(['data/link.yml'], { root: dir })
      const real = realpathSync(path.join(outside, 'secret.yml'))
      expect(r.diagnostics).toMatchObject([
        {
          code: 'ERR_PATH_OUTSIDE_PROJECT',
          message: `data/link.yml (${real}) is outside the project directory ${path.resolve(dir)}`,
          location: { file: 'data/link.yml' },
        },
      ])
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })
})

describe('default root', () => {
  it('reads absolute paths without a root, showing them relative to their common directory', async () => {
    put('data/a.jsonl', '{"text": "hi", "intent": "greet"}\n')
    put('data/sub/b.jsonl', '{"text": "bye", "intent": "bye"}\n')
    const data = await loadTrainingData([path.join(dir, 'data/a.jsonl'), path.join(dir, 'data/sub')])
    expect(data.examples.map((e) => e.source?.file)).toEqual(['a.jsonl', 'sub/b.jsonl'])
  })
})
