import { describe, expect, it } from 'vitest'
import { jensenShannon, ksTwoSample, oovShare, psi, rocAuc } from './stats.js'

// Golden values computed once with scipy 1.10 / scikit-learn 1.2 (Debian bookworm).
describe('drift statistics', () => {
  const p = new Map([
    ['greet', 50],
    ['bye', 30],
    ['book', 20],
  ])
  const q = new Map([
    ['greet', 30],
    ['bye', 30],
    ['book', 40],
  ])

  it('PSI matches the definition', () => {
    expect(psi(p, q, 0)).toBeCloseTo(0.2407945608651872, 10)
    expect(psi(p, p)).toBeCloseTo(0, 12)
    // a brand-new intent stays finite thanks to epsilon
    expect(Number.isFinite(psi(p, new Map([...q, ['new', 10]])))).toBe(true)
  })

  it('Jensen–Shannon divergence in bits matches scipy (distance squared)', () => {
    expect(jensenShannon(p, q)).toBeCloseTo(0.042737648613667106, 10)
    expect(jensenShannon(p, p)).toBe(0)
    expect(jensenShannon(new Map([['a', 1]]), new Map([['b', 1]]))).toBeCloseTo(1, 12)
  })

  it('KS statistic and asymptotic p-value match scipy kstwobign', () => {
    const r = ksTwoSample([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    expect(r.statistic).toBeCloseTo(1 / 3, 12)
    expect(r.pValue).toBeCloseTo(0.5794868996876494, 6)
    expect(ksTwoSample([1, 2, 3], [1, 2, 3])).toEqual({ statistic: 0, pValue: 1 })
    expect(ksTwoSample([], [1])).toEqual({ statistic: 0, pValue: 1 })
  })

  it('ROC AUC handles ties like scikit-learn', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8, 0.4, 0.4], [0, 0, 1, 1, 0, 1])).toBeCloseTo(0.6666666666666667, 12)
    expect(rocAuc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1)
    expect(rocAuc([1, 2], [1, 1])).toBeNaN()
  })

  it('OOV share', () => {
    expect(oovShare(['a', 'b', 'c', 'd'], new Set(['a', 'b']))).toBe(0.5)
    expect(oovShare([], new Set())).toBe(0)
  })
})
