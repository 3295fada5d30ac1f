/**
 * The travel project the evaluation and CLI tests train on passes the check `train` runs first, so no test needs
 * `--no-validate` for it, and its held-out sentences are not training sentences in other punctuation.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../src/config/defaults.js'
import { loadTrainingData } from '../src/data/load.js'
import { validateProject } from '../src/data/project.js'
import { removeTravelProjects, sentenceKey, writeTravelProject } from './helpers/travel-data.js'

afterAll(removeTravelProjects)

describe('the travel project helper', () => {
  it('writes training data without errors, and held-out sentences training does not have', async () => {
    for (const perIntent of [5, 12, 20, 30]) {
      for (const seed of [1, 2, 3]) {
        const p = writeTravelProject({ perIntent, seed })
        const report = await validateProject({
          root: p.dir,
          data: [p.train],
          tests: [p.tests],
          validation: defaultConfig().validation,
        })
        const errors = report.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)
        expect([perIntent, seed, errors]).toEqual([perIntent, seed, []])
        const train = new Set(report.data.examples.map((e) => sentenceKey(e.text)))
        const test = await loadTrainingData([p.test], { root: p.dir })
        expect(test.examples.filter((e) => train.has(sentenceKey(e.text))).map((e) => e.text)).toEqual([])
      }
    }
  })
})
