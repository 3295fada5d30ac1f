import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  accuracy,
  type ClassMetrics,
  classificationReport,
  confusedWith,
  confusionMatrix,
  reportFromConfusion,
  topConfusions,
  type ZeroDivision,
} from './metrics.js'

interface SkRow {
  precision: number
  recall: number
  'f1-score': number
  support: number
}
interface SkFixture {
  yTrue: string[]
  yPred: string[]
  cases: Array<{ zeroDivision: ZeroDivision; labels: string[] | null; report: Record<string, SkRow | number> }>
  confusion: { labels: string[]; matrix: number[][] }
}
const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/eval/sklearn-classification-report.json', import.meta.url), 'utf8'),
) as SkFixture

function expectRow(actual: ClassMetrics, expected: SkRow) {
  expect(Math.abs(actual.precision - expected.precision)).toBeLessThan(1e-9)
  expect(Math.abs(actual.recall - expected.recall)).toBeLessThan(1e-9)
  expect(Math.abs(actual.f1 - expected['f1-score'])).toBeLessThan(1e-9)
  expect(actual.support).toBe(expected.support)
}

describe('classificationReport, hand-computed', () => {
  // gold: a a a b b c ; pred: a a b b c c
  const gold = ['a', 'a', 'a', 'b', 'b', 'c']
  const pred = ['a', 'a', 'b', 'b', 'c', 'c']

  it('computes per-label precision, recall, F1 and support', () => {
    const r = classificationReport(gold, pred)
    expect(r.labels).toEqual(['a', 'b', 'c'])
    expect(r.perLabel.a).toEqual({ precision: 1, recall: 2 / 3, f1: 0.8, support: 3 })
    expect(r.perLabel.b).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 })
    expect(r.perLabel.c!.precision).toBe(0.5)
    expect(r.perLabel.c!.recall).toBe(1)
    expect(r.perLabel.c!.f1).toBeCloseTo(2 / 3, 15)
    expect(r.accuracy).toBeCloseTo(4 / 6, 15)
  })

  it('averages: macro is the plain mean, weighted uses support', () => {
    const r = classificationReport(gold, pred)
    expect(r.macroAvg.f1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 15)
    expect(r.weightedAvg.f1).toBeCloseTo((0.8 * 3 + 0.5 * 2 + (2 / 3) * 1) / 6, 15)
    expect(r.weightedAvg.recall).toBeCloseTo(r.accuracy, 15)
    expect(r.macroAvg.support).toBe(6)
  })

  it('applies the zero-division policy to labels never predicted or never gold', () => {
    // 'x' is never predicted (precision undefined), 'y' is never gold (recall undefined)
    const g = ['x', 'a', 'a']
    const p = ['a', 'a', 'y']
    const zero = classificationReport(g, p, { zeroDivision: 0 })
    expect(zero.perLabel.x).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 })
    expect(zero.perLabel.y).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 })
    const one = classificationReport(g, p, { zeroDivision: 1 })
    expect(one.perLabel.x).toEqual({ precision: 1, recall: 0, f1: 0, support: 1 })
    expect(one.perLabel.y).toEqual({ precision: 0, recall: 1, f1: 0, support: 0 })
    // a label in neither gold nor predictions gets the policy value everywhere
    const absent = classificationReport(g, p, { labels: ['a', 'zz'], zeroDivision: 1 })
    expect(absent.perLabel.zz).toEqual({ precision: 1, recall: 1, f1: 1, support: 0 })
  })

  it('reports nothing weird for an empty input', () => {
    const r = classificationReport([], [])
    expect(r.total).toBe(0)
    expect(r.labels).toEqual([])
    expect(r.accuracy).toBe(0)
  })

  it('rejects inputs of different length', () => {
    expect(() => classificationReport(['a'], [])).toThrow(/differ in length/)
  })

  it('agrees with the report computed from the confusion matrix', () => {
    const labels = ['a', 'b', 'c']
    const idx = (l: string) => labels.indexOf(l)
    const m = confusionMatrix(gold.map(idx), pred.map(idx), 3)
    expect([...m]).toEqual([2, 1, 0, 0, 1, 1, 0, 0, 1])
    expect(reportFromConfusion(labels, m)).toEqual(classificationReport(gold, pred))
  })
})

describe('classificationReport against scikit-learn 1.2.1', () => {
  for (const c of fixture.cases) {
    it(`zero_division=${c.zeroDivision}, labels=${c.labels ? 'subset' : 'all'}`, () => {
      const r = classificationReport(fixture.yTrue, fixture.yPred, {
        zeroDivision: c.zeroDivision,
        ...(c.labels ? { labels: c.labels } : {}),
      })
      const labels = Object.keys(c.report).filter(
        (k) => !['accuracy', 'macro avg', 'weighted avg', 'micro avg'].includes(k),
      )
      expect(r.labels).toEqual(labels)
      for (const l of labels) expectRow(r.perLabel[l]!, c.report[l] as SkRow)
      expectRow(r.macroAvg, c.report['macro avg'] as SkRow)
      expectRow(r.weightedAvg, c.report['weighted avg'] as SkRow)
      if (c.labels) expectRow(r.microAvg, c.report['micro avg'] as SkRow)
      else expect(Math.abs(r.accuracy - (c.report.accuracy as number))).toBeLessThan(1e-9)
    })
  }

  it('builds the same confusion matrix', () => {
    const { labels, matrix } = fixture.confusion
    const idx = new Map(labels.map((l, i) => [l, i]))
    const m = confusionMatrix(
      fixture.yTrue.map((l) => idx.get(l)!),
      fixture.yPred.map((l) => idx.get(l)!),
      labels.length,
    )
    expect([...m]).toEqual(matrix.flat())
  })
})

describe('confusions', () => {
  const labels = ['a', 'b', 'c']
  const m = [5, 3, 1, 0, 4, 2, 3, 0, 6]
  it('lists off-diagonal cells largest first', () => {
    expect(topConfusions(labels, m, 3)).toEqual([
      { intent: 'a', predicted: 'b', count: 3 },
      { intent: 'c', predicted: 'a', count: 3 },
      { intent: 'b', predicted: 'c', count: 2 },
    ])
  })
  it('lists what each intent was confused with', () => {
    expect(confusedWith(labels, m)).toEqual({
      a: [
        { intent: 'b', count: 3 },
        { intent: 'c', count: 1 },
      ],
      b: [{ intent: 'c', count: 2 }],
      c: [{ intent: 'a', count: 3 }],
    })
  })
  it('accuracy counts equal positions', () => {
    expect(accuracy(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'y'])).toBe(0.5)
    expect(() => confusionMatrix([0, 3], [0, 0], 2)).toThrow(/out of range/)
  })
})
