import { describe, expect, it } from 'vitest'
import { type Example, emptyTrainingData, type TrainingData } from '../data/types.js'
import { stableSplit } from './stages.js'

const ex = (text: string, intent: string): Example => ({ text, intent, entities: [] }) as unknown as Example
const data = (examples: Example[]): TrainingData => ({ ...emptyTrainingData(), examples })
const texts = (d: TrainingData) => new Set(d.examples.map((e) => e.text))

function corpus(perIntent: number, tag = ''): Example[] {
  const out: Example[] = []
  for (const intent of ['a', 'b', 'c', 'd'])
    for (let i = 0; i < perIntent; i++) out.push(ex(`${intent} ${tag}${i}`, intent))
  return out
}

describe('stableSplit', () => {
  it('holds out about the fraction, with every intent on both sides', () => {
    const { train, test } = stableSplit(data(corpus(50)), 0.2, 42)
    expect(train.examples.length + test.examples.length).toBe(200)
    expect(test.examples.length).toBeGreaterThan(20)
    expect(test.examples.length).toBeLessThan(60)
    for (const intent of ['a', 'b', 'c', 'd']) {
      expect(test.examples.some((e) => e.intent === intent)).toBe(true)
      expect(train.examples.some((e) => e.intent === intent)).toBe(true)
    }
    // tiny intents too: two examples give one on each side, one example stays in training
    const tiny = stableSplit(data([ex('x1', 'x'), ex('x2', 'x'), ex('y1', 'y')]), 0.2, 42)
    expect(tiny.test.examples.map((e) => e.intent)).toEqual(['x'])
    expect(tiny.train.examples.map((e) => e.intent).sort()).toEqual(['x', 'y'])
  })

  it('never moves a training example into the test set when examples are added', () => {
    const before = stableSplit(data(corpus(30)), 0.2, 7)
    for (let round = 1; round <= 5; round++) {
      const after = stableSplit(data([...corpus(30), ...corpus(round * 3, `new${round}-`)]), 0.2, 7)
      const trainedOn = texts(before.train)
      expect(after.test.examples.filter((e) => trainedOn.has(e.text))).toEqual([])
      // and what was held out stays held out
      for (const t of texts(before.test)) expect(texts(after.test).has(t)).toBe(true)
    }
  })

  it('keeps an example on its side when its label is fixed, and depends on the seed', () => {
    const examples = corpus(30)
    const a = stableSplit(data(examples), 0.2, 1)
    const relabelled = examples.map((e) => (e.text === 'a 3' ? { ...e, intent: 'b' } : e))
    const b = stableSplit(data(relabelled), 0.2, 1)
    expect(texts(b.test).has('a 3')).toBe(texts(a.test).has('a 3'))
    expect(texts(stableSplit(data(examples), 0.2, 2).test)).not.toEqual(texts(a.test))
  })
})
