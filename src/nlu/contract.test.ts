import { describe, it } from 'vitest'
import { COMPONENT_CATALOG } from './catalog.js'
import type { Classifier, EntityExtractor, Featurizer } from './component.js'
import { classifierChecks, entityExtractorChecks, featurizerChecks } from './testing.js'

// Every catalog component, with the params that exercise its main paths. A new catalog entry without a row here
// fails the last test.
const CASES: Array<{ type: string; label: string; params: Record<string, unknown> }> = [
  { type: 'tfidf', label: 'word 1-2', params: { analyzer: 'word', ngramMin: 1, ngramMax: 2 } },
  { type: 'tfidf', label: 'char_wb 2-5', params: { analyzer: 'char_wb', ngramMin: 2, ngramMax: 5 } },
  { type: 'tfidf', label: 'hashed, stop words, min_df', params: { hashBits: 10, stopWords: 'english', minDf: 2 } },
  { type: 'tfidf', label: 'max features, accents', params: { maxFeatures: 20, foldAccents: true, sublinearTf: false } },
  { type: 'regex_features', label: 'defaults', params: {} },
  { type: 'linear_svm', label: 'in-thread', params: { workers: 0 } },
  {
    type: 'linear_svm',
    label: 'balanced, uncalibrated',
    params: { workers: 0, classWeight: 'balanced', calibration: 'none' },
  },
  {
    type: 'linear_svm',
    label: 'class weight and bias by intent',
    params: { workers: 0, classWeight: { b: 3 }, classBias: { a: 0.1 } },
  },
  { type: 'logistic_regression', label: 'in-thread', params: { workers: 0 } },
  { type: 'logistic_regression', label: 'class bias by intent', params: { workers: 0, classBias: { d: -0.1 } } },
  { type: 'regex_entities', label: 'defaults', params: {} },
  { type: 'lookup_entities', label: 'defaults', params: {} },
  { type: 'crf', label: 'defaults', params: {} },
  {
    type: 'crf',
    label: 'small hash space, no context, case-sensitive regexes',
    params: { hashBits: 10, window: 0, caseSensitive: true },
  },
]

describe.each(CASES)('$type ($label)', ({ type, params }) => {
  const entry = COMPONENT_CATALOG[type]!
  const checks =
    entry.kind === 'featurizer'
      ? featurizerChecks(() => entry.create(params) as Featurizer)
      : entry.kind === 'classifier'
        ? classifierChecks(() => entry.create(params) as Classifier)
        : entityExtractorChecks(() => entry.create(params) as EntityExtractor)
  it.each(checks.map((c) => [c.name, c]))('%s', async (_name, c) => {
    await c.run()
  })
})

describe('the contract suite', () => {
  it('covers every catalog component', () => {
    const covered = new Set(CASES.map((c) => c.type))
    const missing = Object.keys(COMPONENT_CATALOG).filter((t) => !covered.has(t))
    if (missing.length) throw new Error(`no contract case for: ${missing.join(', ')}`)
  })
})
