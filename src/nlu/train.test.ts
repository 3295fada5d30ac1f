import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/load.js'
import { fingerprintConfig, fingerprintTrainingData } from '../data/fingerprint.js'
import { emptyTrainingData, type TrainingData } from '../data/types.js'
import { chooseThreshold } from './fallback.js'
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
    expect(v.report.threshold).toMatchObject({ source: 'validation', oosRecall: 1, examples: 2, oosExamples: 1 })
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
