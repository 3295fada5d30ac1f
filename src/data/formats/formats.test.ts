import { describe, expect, it } from 'vitest'
import { canonicalExample, fingerprintTrainingData } from '../fingerprint.js'
import { loadTrainingData } from '../load.js'
import { parseCsv } from './csv.js'
import { DATA_FORMATS, detectFormat } from './index.js'
import { parseJsonl } from './jsonl.js'
import { parseNlpjs } from './nlpjs.js'
import { parseRasaJson } from './rasa-json.js'

const root = new URL('../../../test/fixtures/rasa-project/', import.meta.url).pathname

describe('format round trips', () => {
  it('Rasa JSON keeps everything of the Rasa fixture but intent metadata', async () => {
    const data = await loadTrainingData(['data'], { root })
    for (const i of data.intents) delete i.metadata
    const json = DATA_FORMATS['rasa-json'].format(data)
    const back = parseRasaJson(json, 'x.json')
    expect(back.diagnostics).toEqual([])
    expect(fingerprintTrainingData(back.data)).toBe(fingerprintTrainingData(data))
    expect(back.data.examples[0]!.source).toEqual({ file: 'x.json', line: 4, column: 7 })
  })

  it.each(['jsonl', 'csv'] as const)('%s keeps examples, entities and metadata', async (format) => {
    const data = await loadTrainingData(['data'], { root })
    const back = DATA_FORMATS[format].parse(DATA_FORMATS[format].format(data), `x.${format}`)
    expect(back.diagnostics).toEqual([])
    expect(back.data.examples.map(canonicalExample)).toEqual(data.examples.map(canonicalExample))
  })

  it('NLP.js keeps texts and intents, and turns enum entities into synonyms and lookups', async () => {
    const data = await loadTrainingData(['data'], { root })
    const back = parseNlpjs(DATA_FORMATS.nlpjs.format(data), 'c.json')
    expect(back.diagnostics).toEqual([])
    expect(back.data.examples.map((e) => [e.text, e.intent])).toEqual(
      data.examples
        .map((e) => [e.text, e.intent])
        .sort(
          (a, b) => data.intents.findIndex((i) => i.name === a[1]) - data.intents.findIndex((i) => i.name === b[1]),
        ),
    )
    const corpus = parseNlpjs(
      JSON.stringify({
        name: 'c',
        locale: 'en-US',
        data: [{ intent: 'greet', utterances: ['hi', 'hello @name'], answers: ['Hey!'] }],
        entities: { city: { options: { 'New York': ['New York', 'NYC'] } }, zip: { regex: '/\\d{5}/' } },
      }),
      'c.json',
    )
    expect(corpus.data.synonyms).toMatchObject([{ value: 'New York', examples: ['NYC'] }])
    expect(corpus.data.lookups).toMatchObject([{ name: 'city', elements: ['New York', 'NYC'] }])
    expect(corpus.data.regexes).toMatchObject([{ name: 'zip', patterns: ['\\d{5}'] }])
  })

  it('NLP.js: an intent with no utterances is an error at its item', () => {
    const r = parseNlpjs(
      '{"data": [\n  {"intent": "greet", "utterances": ["hi"]},\n  {"intent": "later", "utterances": []}\n]}',
      'c.json',
    )
    expect(r.diagnostics).toMatchObject([
      { code: 'ERR_DATA_SCHEMA', severity: 'error', location: { file: 'c.json', line: 3 } },
    ])
    expect(r.diagnostics[0]!.message).toContain('intent "later" has no utterances')
  })

  it('multi-field CSV and JSONL: columns and keys other than text become fields', () => {
    const csv = parseCsv('subject,body,intent\nRefund,charged twice,billing\n', 't.csv')
    expect(csv.data.examples).toEqual([
      {
        text: 'Refund\ncharged twice',
        fields: { subject: 'Refund', body: 'charged twice' },
        intent: 'billing',
        entities: [],
        source: { file: 't.csv', line: 2, column: 1 },
      },
    ])
    const jsonl = parseJsonl(
      '{"text": "fly to Paris", "intent": "book", "channel": "web", "entities": [{"start": 7, "end": 12, "entity": "city"}]}\n',
      't.jsonl',
    )
    expect(jsonl.data.examples[0]).toMatchObject({
      metadata: { channel: 'web' },
      entities: [{ start: 7, end: 12, entity: 'city', value: 'Paris' }],
    })
    expect(DATA_FORMATS.csv.format(csv.data)).toBe('subject,body,intent\nRefund,charged twice,billing\n')
  })

  it('reports entity offsets outside the text with the line', () => {
    const r = parseJsonl(
      '{"text": "hi", "intent": "a"}\n{"text": "hi you", "intent": "a", "entities": [{"start": 3, "end": 9, "entity": "who"}]}\n',
      'e.jsonl',
    )
    expect(r.diagnostics).toMatchObject([
      {
        code: 'ERR_DATA_BAD_ANNOTATION',
        location: { line: 2 },
        message: /entities\[0\]: span 3\.\.9 is empty or outside the text \(length 6\)/,
      },
    ])
  })
})

describe('detectFormat', () => {
  it('goes by extension, and by content for .json', () => {
    expect(detectFormat('a.yaml')).toEqual({ format: 'yaml' })
    expect(detectFormat('a.ndjson')).toEqual({ format: 'jsonl' })
    expect(detectFormat('a.json', '{"rasa_nlu_data": {}}')).toEqual({ format: 'rasa-json' })
    expect(detectFormat('a.json', '{"data": [{"intent": "x", "utterances": []}]}')).toEqual({ format: 'nlpjs' })
    expect(detectFormat('package.json', '{"name": "x"}')).toMatchObject({ reason: expect.stringContaining('neither') })
    expect(detectFormat('a.txt')).toMatchObject({ reason: 'unknown extension ".txt"' })
  })
})
