import { describe, expect, it } from 'vitest'
import { calibration, confidenceHistogram, quantile } from './calibration.js'

describe('confidence histogram', () => {
  it('bins right and wrong answers; 1.0 falls into the last bin, 0 into the first', () => {
    const h = confidenceHistogram([0, 0.05, 0.15, 0.95, 1, 0.5], [true, false, true, true, false, false], 10)
    expect(h.edges).toHaveLength(11)
    expect(h.correct).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    expect(h.wrong).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 1])
  })
})

describe('calibration', () => {
  it('computes ECE, MCE and Brier by hand', () => {
    // bin 0.9–1.0: confidences 0.9, 0.95 (1 right of 2) → acc 0.5, conf 0.925, gap 0.425
    // bin 0.6–0.7: confidence 0.6 (right) → acc 1, conf 0.6, gap 0.4
    const conf = [0.9, 0.95, 0.6]
    const ok = [true, false, true]
    const c = calibration(conf, ok, 10)
    expect(c.ece).toBeCloseTo((2 / 3) * 0.425 + (1 / 3) * 0.4, 12)
    expect(c.mce).toBeCloseTo(0.425, 12)
    expect(c.brier).toBeCloseTo((0.1 ** 2 + 0.95 ** 2 + 0.4 ** 2) / 3, 12)
    const top = c.bins[9]!
    expect(top).toMatchObject({ count: 2, accuracy: 0.5 })
    expect(top.meanConfidence).toBeCloseTo(0.925, 12)
    expect(c.bins[3]).toMatchObject({ count: 0, accuracy: 0, meanConfidence: 0 })
  })

  it('is zero for a perfectly calibrated model', () => {
    const conf = [0.75, 0.75, 0.75, 0.75]
    expect(calibration(conf, [true, true, true, false]).ece).toBeCloseTo(0, 12)
  })

  it('quantile interpolates like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile([1, 2, 3, 4, 10], 0.99)).toBeCloseTo(9.76, 12)
    expect(quantile([], 0.5)).toBe(0)
  })
})
