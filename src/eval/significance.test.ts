import { describe, expect, it } from 'vitest'
import { binomialTwoSided, chiSquare1Sf, erfc, mcnemar } from './significance.js'

// Golden values from scipy 1.10 (binomtest, chi2.sf, special.erfc), Debian bookworm.
describe('McNemar', () => {
  it('exact binomial p-values match scipy.stats.binomtest', () => {
    expect(binomialTwoSided(3, 13)).toBeCloseTo(0.09228515625, 12)
    expect(binomialTwoSided(0, 5)).toBeCloseTo(0.0625, 12)
    expect(binomialTwoSided(10, 20)).toBe(1)
    expect(binomialTwoSided(2, 24)).toBeCloseTo(3.5881996154785156e-5, 15)
    expect(binomialTwoSided(700, 1500)).toBeCloseTo(0.01055925546671162, 10)
    expect(binomialTwoSided(0, 0)).toBe(1)
  })

  it('chi-square survival and erfc match scipy', () => {
    expect(chiSquare1Sf((40 - 20 - 1) ** 2 / 60)).toBeCloseTo(0.014171388254012323, 6)
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 6)
    expect(erfc(-1.2)).toBeCloseTo(1.9103139782296354, 6)
    expect(erfc(3) / 2.2090496998585445e-5).toBeCloseTo(1, 5)
    expect(chiSquare1Sf(0)).toBe(1)
  })

  it('uses the exact test for few discordant pairs and χ² with continuity correction otherwise', () => {
    const few = mcnemar(3, 10)
    expect(few.method).toBe('exact')
    expect(few.pValue).toBeCloseTo(0.09228515625, 12)
    expect(few.significant).toBe(false)
    const many = mcnemar(20, 40)
    expect(many.method).toBe('chi-square')
    expect(many.statistic).toBeCloseTo(361 / 60, 12)
    expect(many.pValue).toBeCloseTo(0.014171388254012323, 6)
    expect(many.significant).toBe(true)
    expect(mcnemar(1000, 1100).pValue).toBeCloseTo(0.030745034758993192, 6)
  })

  it('finds no difference between identical predictions, and respects alpha', () => {
    expect(mcnemar(0, 0)).toMatchObject({ pValue: 1, significant: false })
    expect(mcnemar(20, 40, { alpha: 0.01 }).significant).toBe(false)
    expect(mcnemar(2, 9, { exactBelow: 5 }).method).toBe('chi-square')
  })
})
