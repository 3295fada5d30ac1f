import { beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import type { PipelineStepConfig } from '../config/schema.js'
import type { TrainingData } from '../data/types.js'
import type { FittedEntityExtractor } from './component.js'
import type { NluModel } from './model.js'
import { buildPipeline, DEFAULT_PIPELINE, FittedPipeline, type FittedStep, MAX_PIPELINE_STEPS } from './pipeline.js'
import { HOSTILE_TEXTS, toyTrainingData } from './testing.js'
import { trainModel } from './train.js'
import type { TrainedModel } from './types.js'

const steps = (s: object[]) => s as PipelineStepConfig[]

describe('buildPipeline', () => {
  it('uses the default pipeline for an empty list and names steps', () => {
    const p = buildPipeline([])
    expect(p.steps.map((s) => s.name)).toEqual(DEFAULT_PIPELINE.map((s) => (s as { name?: string }).name))
    const auto = buildPipeline(
      steps([{ type: 'tfidf' }, { type: 'tfidf', analyzer: 'char_wb' }, { type: 'linear_svm' }]),
    )
    expect(auto.steps.map((s) => s.name)).toEqual(['tfidf', 'tfidf_2', 'linear_svm'])
  })
  it('returns params that rebuild an equal pipeline', () => {
    const p = buildPipeline([])
    const rebuilt = buildPipeline(p.getParams().map((s) => ({ type: s.type, name: s.name, ...s.params })))
    expect(rebuilt.getParams()).toEqual(p.getParams())
    expect(JSON.parse(JSON.stringify(p.getParams()))).toEqual(p.getParams())
  })
  it.each([
    [
      [{ type: 'tfidf', ngramMax: 9 }, { type: 'linear_svm' }],
      'ERR_NLU_PARAM_INVALID',
      "Invalid params for step 'tfidf' (pipeline[0], tfidf): The 'ngramMax' parameter of tfidf must be an int in [1, 8]. Got 9 instead.",
    ],
    [[{ type: 'bert' }], 'ERR_NLU_UNKNOWN_COMPONENT', "Unknown pipeline step type 'bert' at pipeline[0]"],
    [[{ type: '__proto__' }], 'ERR_NLU_UNKNOWN_COMPONENT', "Unknown pipeline step type '__proto__' at pipeline[0]"],
    [[{ type: 'tfidf' }], 'ERR_NLU_PIPELINE_INVALID', 'exactly one classifier step, found 0'],
    [
      [{ type: 'tfidf' }, { type: 'linear_svm' }, { type: 'logistic_regression' }],
      'ERR_NLU_PIPELINE_INVALID',
      'found 2',
    ],
    [[{ type: 'linear_svm' }], 'ERR_NLU_PIPELINE_INVALID', 'no featurizer'],
    [
      [{ type: 'tfidf' }, { type: 'linear_svm' }, { type: 'regex_features' }],
      'ERR_NLU_PIPELINE_INVALID',
      "featurizer 'regex_features' comes after the classifier",
    ],
    [
      [
        { type: 'tfidf', name: 'x' },
        { type: 'linear_svm', name: 'x' },
      ],
      'ERR_NLU_PIPELINE_INVALID',
      "two steps are named 'x'",
    ],
    [
      [...Array.from({ length: MAX_PIPELINE_STEPS }, () => ({ type: 'regex_features' })), { type: 'linear_svm' }],
      'ERR_NLU_PIPELINE_INVALID',
      'it has 65 steps, more than the 64 a pipeline may have',
    ],
  ])('refuses %j with %s', (config, code, message) => {
    expect(() => buildPipeline(steps(config))).toThrow(
      expect.objectContaining({ code, message: expect.stringContaining(message) }),
    )
  })
  it('lists the known step types in the hint for an unknown one', () => {
    expect(() => buildPipeline(steps([{ type: 'bert' }]))).toThrow(
      expect.objectContaining({
        hint: expect.stringMatching(/^Known types: [a-z_]+(, [a-z_]+)*\. See docs\/nlu\.md\.$/),
      }),
    )
    expect(() => buildPipeline(steps([{ type: 'bert' }]))).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('tfidf') }),
    )
  })
})

describe('parse', () => {
  let model: TrainedModel
  beforeAll(async () => {
    model = await trainModel(toyTrainingData(), { config: defaultConfig(), seed: 1, workers: 0 })
  })
  it('tokenizes for entity extraction only when an extractor reads tokens', () => {
    const probe = (usesTokens: boolean | undefined) => {
      const seen: string[][] = []
      const fitted: FittedEntityExtractor = {
        type: 'probe',
        ...(usesTokens === undefined ? {} : { usesTokens }),
        extract: (_text, tokens) => {
          seen.push(tokens.map((t) => t.text))
          return []
        },
        toState: () => ({ json: null, arrays: {} }),
      }
      return {
        seen,
        step: { name: 'probe', type: 'probe', params: {}, kind: 'entity_extractor', fitted } as FittedStep,
      }
    }
    const pipeline = (model as NluModel).pipeline
    const { labels, synonyms, fields } = pipeline
    const steps = pipeline.steps.filter((s) => s.kind !== 'entity_extractor')
    const textOnly = probe(false)
    new FittedPipeline([...steps, textOnly.step], labels, synonyms, fields).extractEntities({ text: 'Fly to Paris' })
    expect(textOnly.seen).toEqual([[]])
    const reads = probe(undefined)
    const both = probe(false)
    new FittedPipeline([...steps, both.step, reads.step], labels, synonyms, fields).extractEntities({
      text: 'Fly to Paris',
    })
    // One extractor that reads tokens (or does not say) gets them for every extractor.
    expect(reads.seen).toEqual([['fly', 'to', 'paris']])
    expect(both.seen).toEqual([['fly', 'to', 'paris']])
  })
  it('returns the Rasa /model/parse shape with a full ranking', () => {
    const r = model.parse('book me a flight to NYC')
    expect(Object.keys(r)).toEqual(['text', 'intent', 'intent_ranking', 'entities'])
    expect(r.text).toBe('book me a flight to NYC')
    expect(r.intent.name).toBe('book_flight')
    expect(r.intent_ranking).toHaveLength(4)
    expect(r.intent_ranking[0]).toEqual(r.intent)
    const total = r.intent_ranking.reduce((s, i) => s + i.confidence, 0)
    expect(total).toBeCloseTo(1, 9)
    for (let i = 1; i < 4; i++)
      expect(r.intent_ranking[i]!.confidence).toBeLessThanOrEqual(r.intent_ranking[i - 1]!.confidence)
    expect(r.entities).toEqual([
      {
        start: 20,
        end: 23,
        entity: 'city',
        value: 'New York',
        extractor: 'lookup_entities',
        confidence_entity: 1,
        processors: ['synonyms'],
      },
    ])
    expect(model.parse('book me a flight to NYC', { topK: 2 }).intent_ranking).toHaveLength(2)
  })
  it('falls back below the threshold, as Rasa does, unless asked not to', async () => {
    const config = { ...defaultConfig(), fallback: { intent: 'nope', threshold: 0.99, ambiguityThreshold: 0 } }
    const strict = await trainModel(toyTrainingData(), { config, seed: 1, workers: 0 })
    const r = strict.parse('what about the weather or a flight')
    expect(r.intent).toEqual({ name: 'nope', confidence: 0.99 })
    expect(r.intent_ranking[0]).toEqual({ name: 'nope', confidence: 0.99 })
    expect(r.intent_ranking).toHaveLength(5)
    // topK cuts the same ranking, the fallback entry included; more than there are keeps all of it.
    const text = 'what about the weather or a flight'
    for (const k of [1, 2, 4, 5, 6, 50])
      expect(strict.parse(text, { topK: k }).intent_ranking).toEqual(r.intent_ranking.slice(0, k))
    expect(strict.parse(text, { topK: 0 }).intent_ranking).toEqual([])
    expect(strict.parse('what about the weather or a flight', { fallback: false }).intent.name).not.toBe('nope')
  })
  it('survives hostile text: empty, 100 KB, emoji, mixed scripts, control characters', () => {
    for (const text of [...HOSTILE_TEXTS, 'a'.repeat(100_000), '🙂'.repeat(50_000), 'book 10115 '.repeat(10_000)]) {
      const r = model.parse(text)
      expect(r.text).toBe(text)
      expect([...model.labels, model.manifest.fallback.intent]).toContain(r.intent.name)
      expect(r.intent_ranking.every((i) => Number.isFinite(i.confidence))).toBe(true)
      for (const e of r.entities) expect(e.end).toBeLessThanOrEqual(text.length)
    }
  })
  it('refuses malformed messages with a clear error', () => {
    for (const bad of [{}, { text: 3 }, { fields: { a: 1 } }, { fields: 'x' }, null]) {
      expect(() => model.parse(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_NLU_MESSAGE_INVALID' }))
    }
  })
})

describe('entity extractors with nothing to match', () => {
  it('are skipped without changing what the others find', async () => {
    const off = { fallback: false }
    const text = 'fly to Berlin, zip 10115'
    const config = defaultConfig()
    const full = await trainModel(toyTrainingData(), { config, seed: 1, workers: 0 })
    // No regex: the regex step can return no entity type and is skipped; the lookup step still runs.
    const noRegex = await trainModel({ ...toyTrainingData(), regexes: [] }, { config, seed: 1, workers: 0 })
    const lookupOnly = await trainModel(
      { ...toyTrainingData(), regexes: [] },
      {
        config: {
          ...config,
          pipeline: steps([{ type: 'tfidf' }, { type: 'linear_svm' }, { type: 'lookup_entities' }]),
        },
        seed: 1,
        workers: 0,
      },
    )
    const entities = (m: TrainedModel) => m.parse(text, off).entities.map((e) => [e.entity, e.value, e.extractor])
    expect(entities(full)).toEqual([
      ['city', 'Berlin', 'lookup_entities'],
      ['zipcode', '10115', 'regex_entities'],
    ])
    expect(entities(noRegex)).toEqual([['city', 'Berlin', 'lookup_entities']])
    expect(entities(lookupOnly)).toEqual(entities(noRegex))
    // Regex features and lookup entities of the same tables scan a message once.
    const matchers = (m: TrainedModel) =>
      (m as NluModel).pipeline.steps.flatMap((s) => ('lookupMatcher' in s.fitted ? [s.fitted.lookupMatcher] : []))
    expect(matchers(full)).toHaveLength(2)
    expect(new Set(matchers(full)).size).toBe(1)
    // The featurizers and the matcher normalise alike: one scanner tokenizes each message for all of them.
    const scanners = (m: TrainedModel) =>
      (m as NluModel).pipeline.steps.flatMap((s) => {
        const f = s.fitted as unknown as { ex?: { scanner: object }; lookupMatcher?: { scanner: object } }
        return f.ex ? [f.ex.scanner] : f.lookupMatcher ? [f.lookupMatcher.scanner] : []
      })
    expect(scanners(full)).toHaveLength(4)
    expect(new Set(scanners(full)).size).toBe(1)
    const nothing = await trainModel(
      { ...toyTrainingData(), regexes: [], lookups: [] },
      { config, seed: 1, workers: 0 },
    )
    expect(nothing.parse(text, off).entities).toEqual([])
  })
})

describe('multi-field messages', () => {
  const data = (): TrainingData => {
    const ex = (subject: string, body: string, intent: string) => ({
      text: `${subject}\n${body}`,
      fields: { subject, body },
      intent,
      entities: [],
    })
    return {
      intents: [],
      examples: [
        ex('refund', 'please look at my account', 'refund'),
        ex('refund request', 'the weather is nice', 'refund'),
        ex('money back', 'hello team', 'refund'),
        ex('refund please', 'thanks', 'refund'),
        ex('login broken', 'please look at my account', 'login'),
        ex('cannot log in', 'refund policy question', 'login'),
        ex('password reset', 'hello team', 'login'),
        ex('login fails', 'thanks', 'login'),
      ],
      synonyms: [],
      regexes: [],
      lookups: [],
    }
  }
  it("finds each field's entities at that field's offsets when components share one scanner", async () => {
    const toy = toyTrainingData()
    const data = {
      ...toy,
      examples: toy.examples.map((e) => ({ ...e, fields: { subject: e.text, body: 'hello team' } })),
    }
    const fields = { subject: 'fly to Paris on 75001', body: 'we meet in Berlin, Rome or Tokyo' }
    const off = { fallback: false } as const
    const key = (e: { field?: string; start: number }) => `${e.field}:${String(e.start).padStart(4, '0')}`
    // With and without regex features, whose phrase search comes between the featurizers' scans and the entities.
    for (const pipeline of [
      [],
      steps([
        { type: 'tfidf' },
        { type: 'tfidf', analyzer: 'char_wb' },
        { type: 'linear_svm' },
        { type: 'regex_entities' },
        { type: 'lookup_entities' },
      ]),
    ]) {
      const m = await trainModel(data, { config: { ...defaultConfig(), pipeline }, seed: 1, workers: 0 })
      // The body alone last: the matcher then holds its phrases while the message's featurizers scan the subject
      // after the body. Every field is featurized before any field's entities are extracted.
      const perField = Object.entries(fields).flatMap(([field, text]) =>
        m.parse(text, off).entities.map((e) => ({ ...e, field })),
      )
      const got = m.parse({ fields }, off).entities
      expect(got.map((e) => [e.field, e.value, e.start, e.end])).toEqual([
        ['body', 'Berlin', 11, 17],
        ['body', 'Rome', 19, 23],
        ['body', 'Tokyo', 27, 32],
        ['subject', 'Paris', 7, 12],
        ['subject', '75001', 16, 21],
      ])
      expect([...got].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
        [...perField].sort((a, b) => key(a).localeCompare(key(b))),
      )
    }
  })
  it('weighs fields as configured and reports per-field entities', async () => {
    const base = defaultConfig()
    const subjectHeavy = await trainModel(data(), {
      config: { ...base, fields: { subject: 5, body: 1 } },
      seed: 1,
      workers: 0,
    })
    const bodyHeavy = await trainModel(data(), {
      config: { ...base, fields: { subject: 1, body: 5 } },
      seed: 1,
      workers: 0,
    })
    const msg = { fields: { subject: 'login broken again', body: 'refund refund refund' } }
    const off = { fallback: false }
    expect(subjectHeavy.parse(msg, off).intent.name).toBe('login')
    expect(bodyHeavy.parse(msg, off).intent.name).toBe('refund')
    const r = subjectHeavy.parse(msg)
    expect(r.fields).toEqual(msg.fields)
    expect(r.text).toBe('login broken again\nrefund refund refund')
    const ignoreBody = await trainModel(data(), { config: { ...base, fields: { body: 0 } }, seed: 1, workers: 0 })
    expect(ignoreBody.parse({ fields: { subject: 'refund', body: 'login login login' } }, off).intent.name).toBe(
      'refund',
    )
  })
})
