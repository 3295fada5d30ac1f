import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalExample } from './fingerprint.js'
import { splitTrainingData } from './split.js'
import { emptyTrainingData, type TrainingData } from './types.js'

function dataset(counts: Record<string, number>): TrainingData {
  const d = emptyTrainingData()
  for (const [intent, n] of Object.entries(counts)) {
    d.intents.push({ name: intent })
    for (let i = 0; i < n; i++) d.examples.push({ text: `${intent} ${i}`, intent, entities: [] })
  }
  d.synonyms.push({ value: 'a', examples: ['b'] })
  return d
}

describe('splitTrainingData', () => {
  it('is stratified: each intent keeps its share in test', () => {
    const { train, test } = splitTrainingData(dataset({ a: 50, b: 20, c: 10, d: 1 }), { testFraction: 0.2, seed: 7 })
    const count = (d: TrainingData, i: string) => d.examples.filter((e) => e.intent === i).length
    expect([count(test, 'a'), count(test, 'b'), count(test, 'c'), count(test, 'd')]).toEqual([10, 4, 2, 0])
    expect(count(train, 'd')).toBe(1)
    expect(train.synonyms).toHaveLength(1)
    expect(test.synonyms).toHaveLength(0)
  })

  it('is a partition, deterministic for a seed and different across seeds', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('x', 'y', 'z', 'w'), fc.integer({ min: 1, max: 30 })),
        fc.integer(),
        (counts, seed) => {
          const d = dataset(counts)
          const a = splitTrainingData(d, { seed })
          const b = splitTrainingData(d, { seed })
          expect(a.test.examples.map(canonicalExample)).toEqual(b.test.examples.map(canonicalExample))
          const all = [...a.train.examples, ...a.test.examples].map(canonicalExample).sort()
          expect(all).toEqual(d.examples.map(canonicalExample).sort())
          for (const [intent, n] of Object.entries(counts)) {
            if (n >= 2) expect(a.train.examples.some((e) => e.intent === intent)).toBe(true)
          }
        },
      ),
    )
    const d = dataset({ a: 40 })
    expect(splitTrainingData(d, { seed: 1 }).test.examples).not.toEqual(splitTrainingData(d, { seed: 2 }).test.examples)
  })

  it('refuses a fraction outside (0, 1)', () => {
    expect(() => splitTrainingData(dataset({ a: 3 }), { testFraction: 1 })).toThrow(
      /testFraction must be between 0 and 1/,
    )
  })
})
