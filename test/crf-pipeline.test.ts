import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import type { EntityAnnotation, TrainingData } from '../src/data/types.js'
import { decodeModel, encodeModel } from '../src/nlu/model-file.js'
import { trainModel } from '../src/nlu/train.js'

function example(text: string, intent: string, spans: Array<[string, string, string?]>) {
  const entities: EntityAnnotation[] = spans.map(([value, entity, role]) => {
    const start = text.indexOf(value)
    return { start, end: start + value.length, entity, value, ...(role ? { role } : {}) }
  })
  return { text, intent, entities }
}

function travel(): TrainingData {
  const cities = ['Paris', 'London', 'Berlin', 'Madrid', 'Rome', 'Oslo', 'Vienna', 'Prague']
  const examples = cities.flatMap((a, i) => {
    const b = cities[(i + 3) % cities.length]!
    return [
      example(`fly from ${a} to ${b}`, 'book_flight', [
        [a, 'city', 'origin'],
        [b, 'city', 'destination'],
      ]),
      example(`I need a flight to ${b} from ${a} please`, 'book_flight', [
        [b, 'city', 'destination'],
        [a, 'city', 'origin'],
      ]),
      example(`what is the weather in ${a}`, 'weather', [[a, 'city']]),
      example(`is it raining in ${b} today`, 'weather', [[b, 'city']]),
    ]
  })
  examples.push(example('hello there', 'greet', []), example('hi', 'greet', []), example('good morning', 'greet', []))
  return {
    intents: [{ name: 'book_flight' }, { name: 'weather' }, { name: 'greet' }],
    examples,
    synonyms: [{ value: 'Lisbon', examples: ['lisboa'] }],
    regexes: [],
    lookups: [],
  }
}

describe('a pipeline with the crf step', () => {
  const config = {
    ...defaultConfig(),
    pipeline: [
      { type: 'tfidf', analyzer: 'word' },
      { type: 'linear_svm', workers: 0 },
      { type: 'crf', name: 'tagger', l2: 0.1 },
    ],
  }

  it('trains, saves, loads and parses entities with roles, offsets, confidences and synonyms', async () => {
    const model = await trainModel(travel(), { config, seed: 1, workers: 0 })
    expect(model.manifest.entities).toEqual(['city'])
    expect(model.manifest.steps.find((s) => s.name === 'tagger')).toMatchObject({ type: 'crf', params: { l2: 0.1 } })
    const loaded = decodeModel(encodeModel(model))
    const text = 'fly from Lisboa to Athens'
    const parsed = loaded.parse(text)
    expect(parsed).toEqual(model.parse(text))
    expect(parsed.intent.name).toBe('book_flight')
    expect(parsed.entities.map((e) => [text.slice(e.start, e.end), e.value, e.role, e.extractor])).toEqual([
      ['Lisboa', 'Lisbon', 'origin', 'crf'],
      ['Athens', 'Athens', 'destination', 'crf'],
    ])
    for (const e of parsed.entities) expect(e.confidence_entity).toBeGreaterThan(0.5)
  })

  it('tags each field of a multi-field message and says which field', async () => {
    const model = await trainModel(travel(), { config, seed: 1, workers: 0 })
    const parsed = model.parse({ fields: { subject: 'weather in Dublin', body: 'fly from Dublin to Athens' } })
    expect(parsed.entities.map((e) => [e.field, e.value, e.role])).toEqual([
      ['body', 'Dublin', 'origin'],
      ['body', 'Athens', 'destination'],
      ['subject', 'Dublin', undefined],
    ])
  })
})

describe('the crf step with regex and lookup steps', () => {
  it('merges overlapping entities: the longer span, then the earlier step; roles come from the crf', async () => {
    const data = travel()
    data.lookups = [{ name: 'city', elements: ['Paris', 'London', 'Athens', 'New York'] }]
    data.regexes = [{ name: 'code', patterns: ['\\b[A-Z][a-z]{3}\\b'] }]
    data.examples.push(example('my code is Abcd', 'greet', [['Abcd', 'code']]))
    const config = {
      ...defaultConfig(),
      pipeline: [
        { type: 'tfidf', analyzer: 'word' },
        { type: 'linear_svm', workers: 0 },
        { type: 'lookup_entities' },
        { type: 'regex_entities', caseSensitive: true },
        { type: 'crf', l2: 0.1 },
      ],
    }
    const model = decodeModel(encodeModel(await trainModel(data, { config, seed: 1, workers: 0 })))
    const text = 'fly from New York to Athens or Rome'
    const parsed = model.parse(text)
    // "New York" (lookup) beats the regex's and the crf's "York" (the crf never saw a two-word city, so the spans
    // differ and no role passes); "Athens" is found by lookup and crf, and keeps the crf's role;
    // "Rome" (regex "Rome" and crf "Rome") goes to the regex, which comes first.
    expect(parsed.entities.map((e) => [text.slice(e.start, e.end), e.entity, e.role, e.extractor])).toEqual([
      ['New York', 'city', undefined, 'lookup_entities'],
      ['Athens', 'city', 'destination', 'lookup_entities'],
      ['Rome', 'code', undefined, 'regex_entities'],
    ])
    for (let i = 1; i < parsed.entities.length; i++) {
      expect(parsed.entities[i]!.start).toBeGreaterThanOrEqual(parsed.entities[i - 1]!.end)
    }
  })
})
