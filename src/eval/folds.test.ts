import { describe, expect, it } from 'vitest'
import { foldIndices, stratifiedFolds, stratifiedHoldout, stratifiedSubset } from './folds.js'

const labels = [...Array(23).fill('a'), ...Array(11).fill('b'), ...Array(4).fill('c'), 'd']

describe('stratifiedFolds', () => {
  it('keeps each label within one example of even across folds, and fold sizes too', () => {
    const f = stratifiedFolds(labels, 5, 7)
    const sizes = [0, 0, 0, 0, 0]
    for (const x of f) sizes[x]!++
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
    for (const l of ['a', 'b', 'c']) {
      const per = [0, 0, 0, 0, 0]
      labels.forEach((x, i) => {
        if (x === l) per[f[i]!]!++
      })
      expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1)
    }
  })

  it('is reproducible for a seed and different for another', () => {
    expect([...stratifiedFolds(labels, 5, 1)]).toEqual([...stratifiedFolds(labels, 5, 1)])
    expect([...stratifiedFolds(labels, 5, 1)]).not.toEqual([...stratifiedFolds(labels, 5, 2)])
  })

  it('partitions the data: every example is tested exactly once', () => {
    const f = stratifiedFolds(labels, 3, 3)
    const seen = new Array(labels.length).fill(0)
    for (let k = 0; k < 3; k++) {
      const { train, test } = foldIndices(f, k)
      expect(train.length + test.length).toBe(labels.length)
      for (const i of test) seen[i]++
    }
    expect(seen.every((n) => n === 1)).toBe(true)
  })

  it('refuses fewer than 2 folds or more folds than examples', () => {
    expect(() => stratifiedFolds(labels, 1, 0)).toThrow(/at least 2/)
    expect(() => stratifiedFolds(['a', 'b'], 3, 0)).toThrow(/only 2 examples/)
  })
})

describe('stratifiedSubset and holdout', () => {
  it('takes about the fraction of each label, at least one, nested for growing fractions', () => {
    const s10 = stratifiedSubset(labels, 0.1, 5)
    const s50 = stratifiedSubset(labels, 0.5, 5)
    const count = (idx: number[], l: string) => idx.filter((i) => labels[i] === l).length
    expect(count(s10, 'a')).toBe(2)
    expect(count(s10, 'd')).toBe(1)
    expect(count(s50, 'a')).toBe(12)
    for (const i of s10) expect(s50).toContain(i)
    expect(stratifiedSubset(labels, 1, 5)).toHaveLength(labels.length)
    expect(() => stratifiedSubset(labels, 0, 5)).toThrow(/fraction/)
  })

  it('holds out a stratified test share, never the only example of a label', () => {
    const { train, test } = stratifiedHoldout(labels, 0.2, 9)
    expect(train.length + test.length).toBe(labels.length)
    expect(test.filter((i) => labels[i] === 'a')).toHaveLength(5)
    expect(test.filter((i) => labels[i] === 'd')).toHaveLength(0)
    expect(new Set([...train, ...test]).size).toBe(labels.length)
  })
})
