import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fingerprintTrainingData } from './fingerprint.js'
import { loadTrainingData } from './load.js'
import { addExamples, saveTrainingData, updateRasaYaml } from './write.js'

const fixture = new URL('../../test/fixtures/rasa-project/', import.meta.url).pathname
let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-write-'))
  cpSync(fixture, dir, { recursive: true })
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const read = (f: string) => readFileSync(path.join(dir, f), 'utf8')

describe('saveTrainingData', () => {
  it('round-trips the Rasa fixture: load, save, load gives the same data and untouched bytes', async () => {
    const before = read('data/nlu.yml')
    const data = await loadTrainingData(['data'], { root: dir })
    expect(await saveTrainingData(data, { root: dir })).toEqual([])
    expect(read('data/nlu.yml')).toBe(before)
    const again = await loadTrainingData(['data'], { root: dir })
    expect(fingerprintTrainingData(again)).toBe(fingerprintTrainingData(data))
  })

  it('edits only the changed blocks and keeps comments and layout elsewhere', async () => {
    const before = read('data/nlu.yml')
    const data = await loadTrainingData(['data'], { root: dir })
    data.examples = data.examples.filter((e) => e.text !== 'hello')
    data.examples.push({ text: 'yo', intent: 'greet', entities: [] })
    data.examples.push({ text: 'I am off', intent: 'leave', entities: [] })
    data.synonyms.find((s) => s.value === 'New York')!.examples.push('NY')
    data.lookups.find((l) => l.name === 'city')!.elements.push('Oslo')
    expect((await saveTrainingData(data, { root: dir })).sort()).toEqual(['data/nlu.yml'])
    const after = read('data/nlu.yml')
    // every original line but the removed example is still there, in order, comments included
    const kept = before.split('\n').filter((l) => l !== '    - hello')
    let i = 0
    for (const line of after.split('\n')) if (line === kept[i]) i++
    expect(i).toBe(kept.length)
    expect(after).toContain('    - hey there, how is it going\n    - yo\n')
    expect(after).toContain('- intent: leave\n  examples: |\n    - I am off\n')
    expect(after).toContain('    - the big apple\n    - NY\n')
    expect(read('data/lookups/cities.txt').trim().split('\n').at(-1)).toBe('Oslo')
    const again = await loadTrainingData(['data'], { root: dir })
    expect(fingerprintTrainingData(again)).toBe(fingerprintTrainingData(data))
  })

  it('rewrites a whole intent block when an example changes style, and deletes removed blocks', () => {
    const text =
      'version: "3.1"\nnlu:\n# greetings\n- intent: greet\n  examples: |\n    - hi\n- intent: bye\n  examples: |\n    - ciao\n'
    const out = updateRasaYaml(
      text,
      'x.yml',
      {
        intents: [{ name: 'greet' }],
        examples: [
          { text: 'hi', intent: 'greet', entities: [] },
          { text: 'hey', intent: 'greet', entities: [], metadata: { lang: 'en' } },
        ],
        synonyms: [],
        regexes: [],
        lookups: [],
      },
      '.',
    )
    expect(out).toBe(
      'version: "3.1"\nnlu:\n# greetings\n- intent: greet\n  examples:\n  - text: hi\n  - text: hey\n    metadata:\n      lang: en\n',
    )
  })
})

describe('addExamples', () => {
  it('appends to an existing intent after its last example, keeping every other byte', async () => {
    const before = read('data/nlu.yml')
    const n = await addExamples(path.join(dir, 'data/nlu.yml'), 'goodbye', ['later [Bob](name)', 'ciao'], { root: dir })
    expect(n).toBe(2)
    const after = read('data/nlu.yml')
    expect(after).toBe(
      before.replace('    - talk to you soon\n', '    - talk to you soon\n    - later [Bob](name)\n    - ciao\n'),
    )
  })

  it('creates the intent block, and the file, when absent', async () => {
    await addExamples('data/nlu.yml', 'thanks', ['thank you', { fields: { subject: 'Thanks', body: 'great help' } }], {
      root: dir,
    })
    expect(read('data/nlu.yml')).toMatch(
      /- lookup: topping\n(.*\n)*\n- intent: thanks\n {2}examples:\n {2}- text: thank you\n {2}- fields:\n {6}subject: Thanks\n {6}body: great help\n$/,
    )
    await addExamples('data/extra/new.yml', 'ask_time', ['what time is it'], { root: dir })
    expect(read('data/extra/new.yml')).toBe(
      'version: "3.1"\nnlu:\n- intent: ask_time\n  examples: |\n    - what time is it\n',
    )
    const data = await loadTrainingData(['data'], { root: dir })
    expect(data.examples.filter((e) => e.intent === 'thanks')).toHaveLength(2)
  })

  it('refuses bad annotations and paths outside the project', async () => {
    await expect(addExamples('data/nlu.yml', 'greet', ['fly to [Paris](city'], { root: dir })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await expect(addExamples('../x.yml', 'greet', ['hi'], { root: dir })).rejects.toMatchObject({
      code: 'ERR_PATH_OUTSIDE_PROJECT',
    })
  })

  it('refuses intent and entity names that validation would refuse, and writes nothing', async () => {
    const before = read('data/nlu.yml')
    await expect(addExamples('data/nlu.yml', 'a:b', ['hi'], { root: dir })).rejects.toMatchObject({
      code: 'ERR_DATA_BAD_NAME',
      message: "Invalid intent name 'a:b': it contains ':'",
    })
    await expect(addExamples('data/nlu.yml', 'greet', ['I [want](Bad Name) it'], { root: dir })).rejects.toMatchObject({
      code: 'ERR_DATA_BAD_NAME',
      message: "Invalid entity name 'Bad Name': it contains a space",
      hint: expect.stringMatching(/Rename it, e\.g\. to Bad_Name\.$/),
    })
    expect(read('data/nlu.yml')).toBe(before)
  })

  it('refuses to edit a file with errors rather than guess', async () => {
    writeFileSync(path.join(dir, 'data/bad.yml'), 'version: "3.1"\nnlu:\n- intent: a\n  examples: 3\n')
    await expect(addExamples('data/bad.yml', 'a', ['hi'], { root: dir })).rejects.toMatchObject({
      code: 'ERR_DATA_SCHEMA',
    })
  })
})

describe('saveTrainingData with several formats', () => {
  it('leaves unchanged JSONL and CSV files alone and rewrites the one that changed', async () => {
    writeFileSync(path.join(dir, 'data/more.jsonl'), '{"text":"howdy","intent":"greet"}\n')
    writeFileSync(path.join(dir, 'data/more.csv'), 'text,intent\nciao,goodbye\n')
    const data = await loadTrainingData(['data'], { root: dir })
    expect(await saveTrainingData(data, { root: dir })).toEqual([])
    data.examples.find((e) => e.text === 'ciao')!.intent = 'greet'
    expect(await saveTrainingData(data, { root: dir })).toEqual(['data/more.csv'])
    expect(read('data/more.csv')).toBe('text,intent\nciao,greet\n')
    expect(read('data/more.jsonl')).toBe('{"text":"howdy","intent":"greet"}\n')
  })
})

describe('addExamples idempotency', () => {
  it('skips examples the intent already has, and repeats within one call', async () => {
    const before = read('data/nlu.yml')
    expect(await addExamples('data/nlu.yml', 'greet', ['hello', 'hi there'], { root: dir })).toBe(0)
    expect(read('data/nlu.yml')).toBe(before)
    expect(await addExamples('data/nlu.yml', 'greet', ['yo', 'yo'], { root: dir })).toBe(1)
    expect(await addExamples('data/nlu.yml', 'greet', ['yo'], { root: dir })).toBe(0)
    expect(read('data/nlu.yml').match(/ {4}- yo\n/g)).toHaveLength(1)
  })
})
