/**
 * Stratified splits for cross-validation, learning curves and hold-out sets: every fold (or subset) keeps the
 * intent proportions of the whole data, and a seed fixes the assignment.
 * @module
 */
import { createError } from '../errors.js'
import { compareLabels } from './metrics.js'
import { createRandom, shuffleInPlace } from './random.js'

/** Indices grouped by label, labels sorted, so the result never depends on input order of the groups. */
function byLabel(labels: readonly string[]): Array<[string, number[]]> {
  const groups = new Map<string, number[]>()
  labels.forEach((l, i) => {
    const g = groups.get(l)
    if (g) g.push(i)
    else groups.set(l, [i])
  })
  return [...groups.entries()].sort((x, y) => compareLabels(x[0], y[0]))
}

/**
 * Assign each example to one of `k` folds. Each label's examples are shuffled and dealt round-robin, continuing
 * where the previous label stopped, so per-label counts differ by at most one between folds and fold sizes too.
 * Returns the fold number of every example.
 */
export function stratifiedFolds(labels: readonly string[], k: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 2) throw createError('ERR_EVAL_FOLDS', { folds: k, detail: 'at least 2 are needed' })
  if (k > labels.length) {
    throw createError('ERR_EVAL_FOLDS', { folds: k, detail: `there are only ${labels.length} examples` })
  }
  const random = createRandom(seed)
  const fold = new Int32Array(labels.length)
  let next = 0
  for (const [, idx] of byLabel(labels)) {
    shuffleInPlace(idx, random)
    for (const i of idx) {
      fold[i] = next
      next = (next + 1) % k
    }
  }
  return fold
}

/** The train and test indices of fold `f`. */
export function foldIndices(assignment: Int32Array, f: number): { train: number[]; test: number[] } {
  const train: number[] = []
  const test: number[] = []
  for (let i = 0; i < assignment.length; i++) (assignment[i] === f ? test : train).push(i)
  return { train, test }
}

/**
 * A stratified subset with about `fraction` of each label (at least one example per label while the fraction is
 * above zero). Subsets for growing fractions under one seed are nested: the 25 % subset contains the 10 % one.
 */
export function stratifiedSubset(labels: readonly string[], fraction: number, seed: number): number[] {
  if (!(fraction > 0 && fraction <= 1)) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: `a subset fraction must be in (0, 1], got ${fraction}` })
  }
  const random = createRandom(seed)
  const out: number[] = []
  for (const [, idx] of byLabel(labels)) {
    shuffleInPlace(idx, random)
    const take = Math.max(1, Math.round(idx.length * fraction))
    out.push(...idx.slice(0, take))
  }
  return out.sort((a, b) => a - b)
}

/** A stratified train/test split holding out about `testFraction` of each label (at least one when it has two). */
export function stratifiedHoldout(
  labels: readonly string[],
  testFraction: number,
  seed: number,
): { train: number[]; test: number[] } {
  const random = createRandom(seed)
  const train: number[] = []
  const test: number[] = []
  for (const [, idx] of byLabel(labels)) {
    shuffleInPlace(idx, random)
    const n = idx.length < 2 ? 0 : Math.max(1, Math.round(idx.length * testFraction))
    test.push(...idx.slice(0, n))
    train.push(...idx.slice(n))
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) }
}
