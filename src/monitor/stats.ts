/**
 * Distribution-shift statistics for drift checks: PSI and Jensen–Shannon divergence over categorical
 * distributions, the two-sample Kolmogorov–Smirnov test for numeric shifts (text length, confidence), ROC AUC for
 * the domain-classifier test, and out-of-vocabulary share.
 * @module
 */

/** Counts → probabilities over the union of keys, with `epsilon` added to every cell so logs stay finite. */
export function alignDistributions(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
  epsilon = 0,
): { keys: string[]; p: Float64Array; q: Float64Array } {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort()
  const p = new Float64Array(keys.length)
  const q = new Float64Array(keys.length)
  keys.forEach((k, i) => {
    p[i] = (a.get(k) ?? 0) + epsilon
    q[i] = (b.get(k) ?? 0) + epsilon
  })
  normalize(p)
  normalize(q)
  return { keys, p, q }
}

function normalize(v: Float64Array): void {
  let s = 0
  for (const x of v) s += x
  if (s > 0) for (let i = 0; i < v.length; i++) v[i]! /= s
}

/**
 * Population stability index: Σ (q − p) · ln(q / p). Rules of thumb: < 0.1 stable, 0.1–0.25 moderate, > 0.25
 * major shift. Empty cells get `epsilon` (default 1e-4 of a count) so a new intent does not make it infinite.
 */
export function psi(
  expected: ReadonlyMap<string, number>,
  actual: ReadonlyMap<string, number>,
  epsilon = 1e-4,
): number {
  const { p, q } = alignDistributions(expected, actual, epsilon)
  let s = 0
  for (let i = 0; i < p.length; i++) s += (q[i]! - p[i]!) * Math.log(q[i]! / p[i]!)
  return s
}

/** Jensen–Shannon divergence in bits: symmetric, finite, in [0, 1]. */
export function jensenShannon(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  const { p, q } = alignDistributions(a, b)
  let s = 0
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2
    if (p[i]! > 0) s += 0.5 * p[i]! * Math.log2(p[i]! / m)
    if (q[i]! > 0) s += 0.5 * q[i]! * Math.log2(q[i]! / m)
  }
  return Math.max(0, s)
}

/** Two-sample Kolmogorov–Smirnov test: statistic D and the asymptotic two-sided p-value. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): { statistic: number; pValue: number } {
  const x = Float64Array.from(a).sort()
  const y = Float64Array.from(b).sort()
  const n = x.length
  const m = y.length
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 }
  let i = 0
  let j = 0
  let d = 0
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!)
    while (i < n && x[i]! <= v) i++
    while (j < m && y[j]! <= v) j++
    d = Math.max(d, Math.abs(i / n - j / m))
  }
  const en = Math.sqrt((n * m) / (n + m))
  return { statistic: d, pValue: kolmogorovSurvival(en * d) }
}

/** Q_KS(λ) = 2 Σ (−1)^{k−1} e^{−2k²λ²}, the Kolmogorov distribution's survival function. */
function kolmogorovSurvival(lambda: number): number {
  if (lambda < 1e-3) return 1
  let sum = 0
  let sign = 1
  for (let k = 1; k <= 100; k++) {
    const term = sign * Math.exp(-2 * k * k * lambda * lambda)
    sum += term
    if (Math.abs(term) < 1e-12) break
    sign = -sign
  }
  return Math.min(1, Math.max(0, 2 * sum))
}

/** Area under the ROC curve of `scores` for binary `labels` (1 = positive), ties counted as half (Mann–Whitney). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!)
  let pos = 0
  for (let i = 0; i < n; i++) if (labels[i] === 1) pos++
  const neg = n - pos
  if (pos === 0 || neg === 0) return Number.NaN
  let rankSumPos = 0
  for (let i = 0; i < n; ) {
    let j = i
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++
    const avgRank = (i + j + 2) / 2
    for (let k = i; k <= j; k++) if (labels[order[k]!] === 1) rankSumPos += avgRank
    i = j + 1
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg)
}

/** Share of tokens not in `vocabulary`. */
export function oovShare(tokens: Iterable<string>, vocabulary: ReadonlySet<string>): number {
  let total = 0
  let oov = 0
  for (const t of tokens) {
    total++
    if (!vocabulary.has(t)) oov++
  }
  return total === 0 ? 0 : oov / total
}
