import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import { fingerprintConfig, fingerprintTrainingData } from '../data/fingerprint.js'
import { loadTrainingDataDetailed } from '../data/load.js'
import { emptyTrainingData, type TrainingData } from '../data/types.js'
import { chooseThreshold, chooseThresholdForFallbackBudget } from './fallback.js'
import { encodeModel, readManifest } from './model-file.js'
import { toyTrainingData } from './testing.js'
import { trainModel } from './train.js'

const config = defaultConfig()

function withOos(): TrainingData {
  const d = toyTrainingData()
  const oos = [
    'what is the meaning of life',
    'sing me a song',
    'how tall is mount everest',
    'tell me a joke about cats',
    'who won the football match',
    'recipe for pancakes',
    'what is my horoscope',
    'translate cheese to french',
  ]
  for (const text of oos) d.examples.push({ text, intent: 'oos', entities: [] })
  return d
}

describe('trainModel', () => {
  it('refuses a regex that can backtrack catastrophically, with its data file position', async () => {
    const data = toyTrainingData()
    data.regexes.push({
      name: 'x',
      patterns: ['\\d{5}', '(a+)+$'],
      source: { file: 'data/nlu.yml', line: 10, column: 3 },
      sources: [
        { file: 'data/nlu.yml', line: 12, column: 7 },
        { file: 'data/nlu.yml', line: 13, column: 7 },
      ],
    })
    await expect(trainModel(data, { config, seed: 2, workers: 0 })).rejects.toMatchObject({
      code: 'ERR_NLU_REGEX_UNSAFE',
      message:
        'The regex \'x\' has a pattern /(a+)+$/ that can take too long on some inputs: exponential backtracking in `(a+)+`, which can match a repeated "a" in more than one way: a text like "a" + "a".repeat(30) + "0" takes over 2^30 steps',
      location: { file: 'data/nlu.yml', line: 13, column: 7 },
    })
  })
  it('refuses overlapping alternatives in a repetition and trains with unambiguous repetitions', async () => {
    const loaded = await loadTrainingDataDetailed(['nlu.yml'], {
      root: new URL('../../test/fixtures/regex-safety/', import.meta.url).pathname,
    })
    const data = toyTrainingData()
    const words = loaded.data.regexes[0]!
    data.regexes.push(words)
    await expect(trainModel(data, { config, seed: 2, workers: 0 })).rejects.toMatchObject({
      code: 'ERR_NLU_REGEX_UNSAFE',
      message: expect.stringContaining('/(a|aa)+/ that can take too long on some inputs: exponential backtracking'),
      location: { file: 'nlu.yml', line: 10, column: 7 },
    })
    // `\w+(?:\s\w+)*` and `(\d{3}-)*\d{4}`, which the old star-height check refused, train.
    data.regexes[data.regexes.length - 1] = {
      ...words,
      patterns: words.patterns.slice(0, 2),
      sources: words.sources!.slice(0, 2),
    }
    const model = await trainModel(data, { config, seed: 2, workers: 0 })
    expect(model.parse({ text: 'call 555-123-4567' }).intent.name).toBeTruthy()
  })
  it('records fingerprints and lineage, and does not mutate its input', async () => {
    const data = toyTrainingData()
    const before = structuredClone(data)
    const model = await trainModel(data, { config, seed: 2, workers: 0 })
    expect(data).toEqual(before)
    expect(model.manifest.dataFingerprint).toBe(fingerprintTrainingData(data))
    expect(model.manifest.configFingerprint).toBe(fingerprintConfig(config))
    expect(model.manifest.fallback).toEqual(config.fallback)
    expect(model.manifest.trainingMs).toBeGreaterThanOrEqual(0)
  })
  it('is deterministic for a seed', async () => {
    const strip = (b: Uint8Array) => {
      const m = readManifest(b)
      return { ...m, trainedAt: '', trainingMs: 0 }
    }
    const a = await trainModel(toyTrainingData(), { config, seed: 5, workers: 0 })
    const b = await trainModel(toyTrainingData(), { config, seed: 5, workers: 0 })
    expect(strip(encodeModel(a))).toEqual(strip(encodeModel(b)))
    for (const text of ['fly to Rome', 'bye bye', 'is it cold']) expect(b.parse(text)).toEqual(a.parse(text))
  })
  it('trains the same model from the same data in any order, as the data fingerprint promises', async () => {
    const strip = (b: Uint8Array) => ({ ...readManifest(b), trainedAt: '', trainingMs: 0 })
    const data = withOos()
    const shuffled: TrainingData = {
      intents: [...data.intents].reverse(),
      examples: data.examples.filter((_, i) => i % 2 === 1).concat(data.examples.filter((_, i) => i % 2 === 0)),
      synonyms: [...data.synonyms].reverse(),
      regexes: [...data.regexes].reverse(),
      lookups: [...data.lookups].reverse(),
    }
    expect(fingerprintTrainingData(shuffled)).toBe(fingerprintTrainingData(data))
    const a = await trainModel(data, { config, seed: 3, workers: 0 })
    const b = await trainModel(shuffled, { config, seed: 3, workers: 0 })
    expect(strip(encodeModel(b))).toEqual(strip(encodeModel(a)))
    for (const text of [...data.examples.map((e) => e.text), 'fly to Rome tomorrow', 'what is the weather']) {
      expect(b.parse(text)).toEqual(a.parse(text))
    }
  })
  it('reports progress through every stage', async () => {
    const stages: string[] = []
    let last = -1
    await trainModel(toyTrainingData(), {
      config,
      workers: 0,
      onProgress: (p) => {
        expect(p.fraction).toBeGreaterThanOrEqual(last)
        last = p.fraction
        if (stages.at(-1) !== p.stage) stages.push(p.stage)
      },
    })
    expect(stages).toEqual(['featurize', 'classify', 'entities'])
    expect(last).toBe(1)
  })
  it('chooses the fallback threshold for a target out-of-scope recall on held-out folds or validation data', async () => {
    const model = await trainModel(withOos(), { config, workers: 0, targetOosRecall: 0.9 })
    const t = model.report.threshold!
    expect(t.source).toBe('held-out folds')
    expect(t.oosRecall).toBeGreaterThanOrEqual(0.9)
    expect(t.oosExamples).toBe(8)
    expect(model.manifest.fallback.threshold).toBe(t.threshold)
    const validation = emptyTrainingData()
    validation.examples.push(
      { text: 'what is the capital of peru', intent: 'oos', entities: [] },
      { text: 'hello again', intent: 'greet', entities: [] },
    )
    const v = await trainModel(withOos(), { config, workers: 0, targetOosRecall: 1, validation })
    // The validation rows are pooled with the held-out folds of the training data.
    const n = withOos().examples.length
    expect(v.report.threshold).toMatchObject({
      source: 'validation and held-out folds',
      oosRecall: 1,
      examples: n + 2,
      oosExamples: 9,
      goal: { targetOosRecall: 1 },
    })
    const noFolds = { ...config, pipeline: [{ type: 'tfidf' }, { type: 'linear_svm', calibration: 'none' }] }
    const w = await trainModel(withOos(), { config: noFolds, workers: 0, targetOosRecall: 1, validation })
    expect(w.report.threshold).toMatchObject({ source: 'validation', examples: 2, oosExamples: 1 })
  })
  it('chooses the highest threshold within a budget of in-scope fallbacks, with or without out-of-scope examples', async () => {
    // Near-ties under the default ambiguity threshold would spend part of the budget; measure the threshold alone.
    const plain = { ...config, fallback: { ...config.fallback, ambiguityThreshold: 0 } }
    for (const data of [toyTrainingData(), withOos()]) {
      const none = await trainModel(data, { config: plain, workers: 0, maxInScopeFallback: 0 })
      const some = await trainModel(data, { config: plain, workers: 0, maxInScopeFallback: 0.2 })
      const t0 = none.report.threshold!
      const t1 = some.report.threshold!
      expect(t0.inScopeFallback).toBe(0)
      expect(t1.inScopeFallback).toBeGreaterThan(0)
      expect(t1.inScopeFallback).toBeLessThanOrEqual(0.2)
      expect(t1.threshold).toBeGreaterThan(t0.threshold)
      expect(t1.goal).toEqual({ maxInScopeFallback: 0.2 })
      expect(some.manifest.fallback.threshold).toBe(t1.threshold)
    }
    await expect(
      trainModel(withOos(), { config, workers: 0, maxInScopeFallback: 0.1, targetOosRecall: 0.5 }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(trainModel(withOos(), { config, maxInScopeFallback: -0.1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })
  it('explains what is missing', async () => {
    await expect(trainModel(emptyTrainingData(), { config })).rejects.toMatchObject({
      code: 'ERR_NLU_NO_TRAINING_DATA',
    })
    await expect(trainModel(toyTrainingData(), { config, targetOosRecall: 0.5, workers: 0 })).rejects.toMatchObject({
      code: 'ERR_NLU_OOS_INTENT_MISSING',
      message: "The out-of-scope intent 'oos' has no examples in the training data",
    })
    const noCalibration = { ...config, pipeline: [{ type: 'tfidf' }, { type: 'linear_svm', calibration: 'none' }] }
    await expect(
      trainModel(withOos(), { config: noCalibration, targetOosRecall: 0.5, workers: 0 }),
    ).rejects.toMatchObject({
      code: 'ERR_NLU_NO_HELD_OUT',
    })
    await expect(trainModel(toyTrainingData(), { config, seed: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await expect(trainModel(toyTrainingData(), { config, targetOosRecall: 2 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })
  it('stops with ERR_TRAIN_ABORTED when aborted', async () => {
    const ac = new AbortController()
    ac.abort()
    await expect(trainModel(toyTrainingData(), { config, signal: ac.signal, workers: 0 })).rejects.toMatchObject({
      code: 'ERR_TRAIN_ABORTED',
    })
  })
  it('trains a model that always answers with a single intent', async () => {
    const d = emptyTrainingData()
    d.examples.push({ text: 'anything', intent: 'only', entities: [] }, { text: 'else', intent: 'only', entities: [] })
    const m = await trainModel(d, { config, workers: 0 })
    expect(m.parse('whatever').intent).toEqual({ name: 'only', confidence: 1 })
  })
})

describe('chooseThreshold', () => {
  it('picks the lowest threshold that meets the recall target', () => {
    // rows: in-scope a (0.9), in-scope b (0.6), oos predicted a (0.5), oos predicted a (0.7), oos predicted oos
    const proba = Float64Array.of(0.9, 0.05, 0.05, 0.2, 0.6, 0.2, 0.5, 0.3, 0.2, 0.7, 0.2, 0.1, 0.1, 0.1, 0.8)
    const labels = Int32Array.of(0, 1, 2, 2, 2)
    expect(chooseThreshold(proba, labels, 3, 2, 1 / 3, 0)).toMatchObject({
      threshold: 0,
      oosRecall: 1 / 3,
      inScopeAccuracy: 1,
    })
    expect(chooseThreshold(proba, labels, 3, 2, 0.6, 0)).toMatchObject({ threshold: 0.500001, oosRecall: 2 / 3 })
    expect(chooseThreshold(proba, labels, 3, 2, 1, 0)).toMatchObject({
      threshold: 0.700001,
      oosRecall: 1,
      inScopeAccuracy: 0.5,
    })
    // An ambiguity threshold counts near-ties as fallbacks while measuring.
    expect(chooseThreshold(proba, labels, 3, 2, 2 / 3, 0.25)).toMatchObject({ threshold: 0, oosRecall: 2 / 3 })
  })
})

describe('chooseThresholdForFallbackBudget', () => {
  // in-scope rows (label 0 or 1) with top confidences 0.9, 0.6, 0.55, 0.4 (the 0.4 one answered oos), and two
  // out-of-scope rows at 0.5 (answered 0) and 0.8 (answered oos).
  const proba = Float64Array.of(
    0.9,
    0.05,
    0.05,
    0.2,
    0.6,
    0.2,
    0.55,
    0.3,
    0.15,
    0.3,
    0.3,
    0.4,
    0.5,
    0.3,
    0.2,
    0.1,
    0.1,
    0.8,
  )
  const labels = Int32Array.of(0, 1, 0, 1, 2, 2)
  it('sends at most the budget of in-scope messages to the fallback, and catches all it can under it', () => {
    // The row answered oos does not count: a budget of 1/4 lets the 0.55 row fall back, t = 0.6 keeps the 0.6 row.
    expect(chooseThresholdForFallbackBudget(proba, labels, 3, 2, 0.25, 0)).toMatchObject({
      threshold: 0.6,
      inScopeFallback: 0.25,
      oosRecall: 1,
      inScopeAccuracy: 0.5,
    })
    expect(chooseThresholdForFallbackBudget(proba, labels, 3, 2, 0.2, 0)).toMatchObject({
      threshold: 0,
      inScopeFallback: 0,
      oosRecall: 0.5,
    })
    // Every in-scope row may fall back: just above the highest.
    expect(chooseThresholdForFallbackBudget(proba, labels, 3, 2, 1, 0).threshold).toBe(0.900001)
    // Without out-of-scope rows or intent.
    expect(
      chooseThresholdForFallbackBudget(proba.subarray(0, 12), labels.subarray(0, 4), 3, -1, 0.25, 0),
    ).toMatchObject({
      threshold: 0.55,
      inScopeFallback: 0.25,
      oosExamples: 0,
    })
    // A near-tie under the ambiguity threshold already spends the budget.
    expect(chooseThresholdForFallbackBudget(proba, labels, 3, 2, 0.25, 0.3).threshold).toBe(0)
  })
})
