/**
 * Confidence analysis: histograms of confidence for correct and wrong predictions, and calibration (expected
 * calibration error with its reliability bins). A calibrated model that says 0.8 is right 80 % of the time.
 * @module
 */

export interface ConfidenceHistogram {
  /** Bin edges, `bins + 1` values from 0 to 1. Bin i holds [edges[i], edges[i+1]); the last also holds 1. */
  edges: number[]
  correct: number[]
  wrong: number[]
}

export interface ReliabilityBin {
  lower: number
  upper: number
  count: number
  /** Mean confidence of the predictions in the bin; 0 when empty. */
  meanConfidence: number
  /** Share of them that were right; 0 when empty. */
  accuracy: number
}

/** Calibration of the top confidence over equal-width bins. */
export interface Calibration {
  /** Expected calibration error: Σ (n_b / n) · |accuracy_b − confidence_b| over equal-width bins. */
  ece: number
  /** Maximum calibration error: the largest gap of a non-empty bin. */
  mce: number
  /** Brier score of the top prediction: mean (confidence − correct)². */
  brier: number
  bins: ReliabilityBin[]
}

function binOf(confidence: number, bins: number): number {
  if (!(confidence > 0)) return 0
  if (confidence >= 1) return bins - 1
  return Math.min(bins - 1, Math.floor(confidence * bins))
}

function edgesOf(bins: number): number[] {
  return Array.from({ length: bins + 1 }, (_, i) => i / bins)
}

/** Count correct and wrong predictions per confidence bin. */
export function confidenceHistogram(
  confidences: ArrayLike<number>,
  correct: ArrayLike<boolean>,
  bins = 10,
): ConfidenceHistogram {
  const ok = new Array<number>(bins).fill(0)
  const bad = new Array<number>(bins).fill(0)
  for (let i = 0; i < confidences.length; i++) {
    const b = binOf(confidences[i]!, bins)
    if (correct[i]) ok[b]!++
    else bad[b]!++
  }
  return { edges: edgesOf(bins), correct: ok, wrong: bad }
}

/**
 * Calibration of the top prediction's confidence. Bins are equal-width on [0, 1], a confidence of exactly 1 falls
 * into the last bin (the usual ECE definition, e.g. Guo et al. 2017).
 */
export function calibration(confidences: ArrayLike<number>, correct: ArrayLike<boolean>, bins = 10): Calibration {
  const n = confidences.length
  const count = new Float64Array(bins)
  const sumConf = new Float64Array(bins)
  const sumOk = new Float64Array(bins)
  let brier = 0
  for (let i = 0; i < n; i++) {
    const c = confidences[i]!
    const b = binOf(c, bins)
    const y = correct[i] ? 1 : 0
    count[b]!++
    sumConf[b]! += c
    sumOk[b]! += y
    brier += (c - y) * (c - y)
  }
  let ece = 0
  let mce = 0
  const out: ReliabilityBin[] = []
  for (let b = 0; b < bins; b++) {
    const cnt = count[b]!
    const meanConfidence = cnt === 0 ? 0 : sumConf[b]! / cnt
    const acc = cnt === 0 ? 0 : sumOk[b]! / cnt
    if (cnt > 0) {
      const gap = Math.abs(acc - meanConfidence)
      ece += (cnt / n) * gap
      if (gap > mce) mce = gap
    }
    out.push({ lower: b / bins, upper: (b + 1) / bins, count: cnt, meanConfidence, accuracy: acc })
  }
  return { ece, mce, brier: n === 0 ? 0 : brier / n, bins: out }
}

/** The value below which `q` of the sorted values fall, linearly interpolated (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return 0
  const pos = (n - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo]!
  const b = sorted[hi]!
  return a + (b - a) * (pos - lo)
}
