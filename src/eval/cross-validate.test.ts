import { afterAll, describe, expect, it } from 'vitest'
import { generateExamples, removeTravelProjects, writeTravelProject } from '../../test/helpers/travel-data.js'
import { defaultConfig } from '../config/defaults.js'
import { fingerprintTrainingData } from '../data/fingerprint.js'
import { loadTrainingData } from '../data/load.js'
import { crossValidate } from './cross-validate.js'

afterAll(removeTravelProjects)

describe('crossValidate', () => {
  it('gives the same report whether folds run in worker threads or in this thread', async () => {
    const p = writeTravelProject({ perIntent: 12 })
    const data = await loadTrainingData([p.train], { root: p.dir })
    const config = defaultConfig()
    const inThread = await crossValidate(data, { config, folds: 3, seed: 5, concurrency: 1 })
    const inWorkers = await crossValidate(data, { config, folds: 3, seed: 5, concurrency: 2 })
    const strip = (r: typeof inThread.report) => ({
      predictions: r.predictions,
      intent: r.intent,
      folds: r.crossValidation!.perFold.map(({ trainingMs: _, ...rest }) => rest),
      fingerprint: r.testSet.fingerprint,
    })
    expect(strip(inWorkers.report)).toEqual(strip(inThread.report))
    expect(inThread.report.testSet.examples).toBe(data.examples.length)
    // another seed, another fold plan: a different test-set fingerprint
    const other = await crossValidate(data, { config, folds: 3, seed: 6, concurrency: 1 })
    expect(other.report.testSet.fingerprint).not.toBe(inThread.report.testSet.fingerprint)
  })

  it('gives the same folds and report for the same data in another order, as training does', async () => {
    const p = writeTravelProject({ perIntent: 10 })
    const data = await loadTrainingData([p.train], { root: p.dir })
    const reordered = {
      ...data,
      intents: [...data.intents].reverse(),
      examples: data.examples
        .filter((_, i) => i % 3 === 2)
        .concat(data.examples.filter((_, i) => i % 3 !== 2).reverse()),
    }
    expect(fingerprintTrainingData(reordered)).toBe(fingerprintTrainingData(data))
    const config = defaultConfig()
    const a = await crossValidate(data, { config, folds: 3, seed: 7, concurrency: 1 })
    const b = await crossValidate(reordered, { config, folds: 3, seed: 7, concurrency: 1 })
    const strip = (r: typeof a.report) => ({
      predictions: r.predictions,
      intent: r.intent,
      folds: r.crossValidation!.perFold.map(({ trainingMs: _, ...rest }) => rest),
      fingerprint: r.testSet.fingerprint,
    })
    expect(strip(b.report)).toEqual(strip(a.report))
  })

  it('refuses impossible fold counts', async () => {
    const data = {
      intents: [],
      examples: generateExamples(1, 1)
        .slice(0, 3)
        .map((g) => ({ text: g.annotated, intent: g.intent, entities: [] })),
      synonyms: [],
      regexes: [],
      lookups: [],
    }
    await expect(crossValidate(data, { config: defaultConfig(), folds: 5 })).rejects.toMatchObject({
      code: 'ERR_EVAL_FOLDS',
    })
  })
})
