import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
    // Links to nothing and to directories are not data files.
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

  it('refuses a data file that links outside the project', async () => {
    const { symlinkSync } = await import('node:fs')
    const outside = mkdtempSync(path.join(tmpdir(), 'io-outside-'))
    writeFileSync(path.join(outside, 'secret.yml'), 'nlu: []\n')
    symlinkSync(path.join(outside, 'secret.yml'), path.join(dir, 'data/link.yml'))
    try {
      const r = await loadTrainingDataDetailed(['data/link.yml'], { root: dir })
      expect(r.diagnostics).toMatchObject([{ code: 'ERR_PATH_OUTSIDE_PROJECT' }])
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
