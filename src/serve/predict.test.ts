import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { trainedModelBytes } from '../../test/helpers/registry.js'
import { decodeModel } from '../nlu/model-file.js'
import { toyTrainingData } from '../nlu/testing.js'
import type { TrainedModel } from '../nlu/types.js'
import type { ServedModel } from './model-holder.js'
import { predict, toRecord, toResponse } from './predict.js'

let models: Array<{ what: string; served: ServedModel }>

beforeAll(async () => {
  const { bytes } = await trainedModelBytes()
  const served = (model: TrainedModel): ServedModel => ({
    model,
    name: 'bot',
    version: '1',
    digest: 'sha256:0',
    source: { kind: 'file', path: 'model.iom' },
    loadedAt: 0,
  })
  // The same model with a fallback rule that rarely fires, and with one that fires on most messages.
  const strict = decodeModel(bytes)
  ;(strict.manifest as { fallback: { threshold: number; ambiguityThreshold: number } }).fallback = {
    ...strict.manifest.fallback,
    threshold: 0.9,
    ambiguityThreshold: 0.5,
  }
  models = [
    { what: 'the default rule', served: served(decodeModel(bytes)) },
    { what: 'a strict rule', served: served(strict) },
  ]
})

const texts = fc.oneof(
  fc.constantFrom(...toyTrainingData().examples.map((e) => e.text)),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', 'zzz qqq', 'book weather', 'hello bye thanks'),
)

describe('predict', () => {
  it('answers as parse does, whatever the number of intents ranked', () => {
    let fallbacks = 0
    let rankedCut = 0
    for (const { served } of models) {
      const model = served.model
      const K = model.labels.length
      fc.assert(
        fc.property(texts, fc.option(fc.integer({ min: 1, max: K + 3 }), { nil: undefined }), (text, rank) => {
          const p = predict(served, { text }, 'id', rank)
          const full = model.parse(text)
          const plain = model.parse(text, { fallback: false })
          expect(p.result.intent).toEqual(full.intent)
          expect(p.result.entities).toEqual(full.entities)
          expect(p.fallback).toBe(full.intent_ranking.length > K)
          // What an answer shows: the first `rank` entries of the full ranking, the fallback entry included.
          const shown = toResponse(served, p, { text }, rank).intent_ranking
          expect(shown).toEqual(rank === undefined ? full.intent_ranking : full.intent_ranking.slice(0, rank))
          // What the log keeps: the classifier's best three and the margin between the best two.
          const record = toRecord(served, p, { text }, 'api')
          expect(record.ranking).toEqual(plain.intent_ranking.slice(0, 3))
          expect(record.margin).toBe(plain.intent_ranking[0]!.confidence - plain.intent_ranking[1]!.confidence)
          if (p.fallback) fallbacks++
          if (p.result.intent_ranking.length < full.intent_ranking.length) rankedCut++
        }),
        { numRuns: 300 },
      )
    }
    // Both branches were exercised: the rule fired, and rankings were built shorter than the full one.
    expect(fallbacks).toBeGreaterThan(20)
    expect(rankedCut).toBeGreaterThan(20)
  })

  it('ranks only what is shown and logged, not every intent', () => {
    const { served } = models[0]!
    expect(served.model.labels.length).toBeGreaterThan(3)
    expect(predict(served, { text: 'hello' }, 'id', 1).scores).toHaveLength(3)
    expect(predict(served, { text: 'hello' }, 'id').scores).toHaveLength(served.model.labels.length)
  })
})
