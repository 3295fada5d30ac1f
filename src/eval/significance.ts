/**
 * McNemar's test for two classifiers scored on the same examples: only the discordant pairs count (A right and
 * B wrong, or the reverse). Under the null hypothesis both kinds are equally likely.
 * @module
 */

export interface McNemarResult {
  /** Examples A got right and B got wrong. */
  aOnly: number
  /** Examples B got right and A got wrong. */
  bOnly: number
  method: 'exact' | 'chi-square'
  /** χ² with continuity correction, for the chi-square method. */
  statistic?: number
  /** Two-sided p-value. */
  pValue: number
  alpha: number
  significant: boolean
}

export interface McNemarOptions {
  /** Significance level. Default 0.05. */
  alpha?: number
  /**
   * Use the exact binomial test when there are fewer discordant pairs than this, the χ² approximation otherwise.
   * Default 25, the usual rule (the approximation needs b + c large).
   */
  exactBelow?: number
}

/** McNemar's test: exact binomial for few discordant pairs, χ² with Edwards' continuity correction otherwise. */
export function mcnemar(aOnly: number, bOnly: number, options: McNemarOptions = {}): McNemarResult {
  const alpha = options.alpha ?? 0.05
  const n = aOnly + bOnly
  if (n < (options.exactBelow ?? 25)) {
    const pValue = binomialTwoSided(Math.min(aOnly, bOnly), n)
    return { aOnly, bOnly, method: 'exact', pValue, alpha, significant: pValue < alpha }
  }
  const d = Math.abs(aOnly - bOnly) - 1
  const statistic = d > 0 ? (d * d) / n : 0
  const pValue = chiSquare1Sf(statistic)
  return { aOnly, bOnly, method: 'chi-square', statistic, pValue, alpha, significant: pValue < alpha }
}

/** Two-sided exact binomial p-value for k of n at p = ½: min(1, 2 · P(X ≤ k)) with k the smaller count. */
export function binomialTwoSided(k: number, n: number): number {
  if (n === 0) return 1
  // sum in log space so n in the thousands does not underflow term by term
  let logTerm = -n * Math.LN2 // log C(n,0) · ½ⁿ
  let total = Math.exp(logTerm)
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i)
    total += Math.exp(logTerm)
  }
  return Math.min(1, 2 * total)
}

/** Survival function of χ² with one degree of freedom: P(X > x) = erfc(√(x/2)). */
export function chiSquare1Sf(x: number): number {
  if (x <= 0) return 1
  return erfc(Math.sqrt(x / 2))
}

/**
 * Complementary error function, from the Chebyshev fit in Numerical Recipes (`erfcc`), fractional error below
 * 1.2e-7 everywhere: plenty for a p-value compared to 0.05.
 */
export function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  let poly = 0
  for (let i = ERFC_COEFFICIENTS.length - 1; i >= 0; i--) poly = ERFC_COEFFICIENTS[i]! + t * poly
  const r = t * Math.exp(-z * z + poly)
  return x >= 0 ? r : 2 - r
}

const ERFC_COEFFICIENTS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223,
  0.17087277,
]
