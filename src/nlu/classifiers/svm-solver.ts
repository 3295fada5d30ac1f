/**
 * Dual coordinate descent for the L2-regularised, squared-hinge-loss linear SVM (Hsieh et al. 2008, the solver of
 * liblinear's `L2R_L2LOSS_SVC_DUAL`), with shrinking and warm starts. Plain functions on typed arrays, so they run
 * the same in the calling thread and in worker threads.
 * @module
 */
import { Rng } from '../random.js'

/** A training problem: CSR rows, class labels, and which rows take part. */
export interface SvmProblem {
  indptr: Int32Array
  indices: Int32Array
  values: Float32Array
  /** Class index of every row. */
  labels: Int32Array
  /** Squared L2 norm of every row (without the bias feature). */
  sqnorm: Float64Array
  /** Number of feature columns. */
  cols: number
}

export interface SvmOptions {
  /** Inverse regularisation strength for positives and negatives. */
  cPos: number
  cNeg: number
  /** Stop when the projected-gradient spread falls below this. */
  tol: number
  maxIter: number
  /** Value of the constant feature that carries the intercept (regularised like the weights, as in liblinear). */
  bias: number
  seed: number
}

/**
 * Train the binary problem "class `positive` against the rest" on `rows`. `w` (length `cols + 1`, intercept last)
 * and `alpha` (indexed by row id) hold the starting point and receive the solution; they must be consistent
 * (`w = Σ alpha_i y_i x_i` over `rows`). Returns the number of passes.
 */
export function solveSvmDual(
  p: SvmProblem,
  rows: Int32Array,
  positive: number,
  opt: SvmOptions,
  w: Float64Array,
  alpha: Float64Array,
): number {
  const { indptr, indices, values, labels, sqnorm } = p
  const l = rows.length
  const biasIdx = p.cols
  const bias = opt.bias
  const bias2 = bias * bias
  const diagPos = 0.5 / opt.cPos
  const diagNeg = 0.5 / opt.cNeg
  const index = new Int32Array(l)
  for (let s = 0; s < l; s++) index[s] = rows[s]!
  const rng = new Rng(opt.seed)

  let activeSize = l
  let pgMaxOld = Number.POSITIVE_INFINITY
  let iter = 0
  while (iter < opt.maxIter) {
    let pgMaxNew = Number.NEGATIVE_INFINITY
    let pgMinNew = Number.POSITIVE_INFINITY
    rng.shuffle(index, activeSize)
    for (let s = 0; s < activeSize; s++) {
      const i = index[s]!
      const yi = labels[i] === positive ? 1 : -1
      const diag = yi > 0 ? diagPos : diagNeg
      const a = indptr[i]!
      const b = indptr[i + 1]!
      const dot = rowDot(w, indices, values, a, b, w[biasIdx]! * bias)
      const ai = alpha[i]!
      const g = yi * dot - 1 + ai * diag
      let pg = 0
      if (ai === 0) {
        if (g > pgMaxOld) {
          activeSize--
          index[s] = index[activeSize]!
          index[activeSize] = i
          s--
          continue
        }
        if (g < 0) pg = g
      } else pg = g
      if (pg > pgMaxNew) pgMaxNew = pg
      if (pg < pgMinNew) pgMinNew = pg
      if (pg > 1e-12 || pg < -1e-12) {
        const qd = sqnorm[i]! + bias2 + diag
        let an = ai - g / qd
        if (an < 0) an = 0
        alpha[i] = an
        const d = (an - ai) * yi
        if (d !== 0) {
          for (let j = a; j < b; j++) w[indices[j]!]! += d * values[j]!
          w[biasIdx]! += d * bias
        }
      }
    }
    iter++
    if (pgMaxNew - pgMinNew <= opt.tol) {
      if (activeSize === l) break
      activeSize = l
      pgMaxOld = Number.POSITIVE_INFINITY
      continue
    }
    // With no upper bound on alpha only the lower side shrinks (liblinear's PGmax_old rule).
    pgMaxOld = pgMaxNew <= 0 ? Number.POSITIVE_INFINITY : pgMaxNew
  }
  return iter
}

/**
 * `start + Σ w[indices[j]] · values[j]` over `j` in `[a, b)`, in four interleaved partial sums: a single running
 * sum makes every addition wait for the previous one, and the dot products of rows are most of training. The
 * grouping is fixed, so the result is the same on every run.
 */
export function rowDot(
  w: Float64Array,
  indices: Int32Array,
  values: Float32Array,
  a: number,
  b: number,
  start: number,
): number {
  let d0 = start
  let d1 = 0
  let d2 = 0
  let d3 = 0
  let j = a
  for (const end = b - 3; j < end; j += 4) {
    d0 += w[indices[j]!]! * values[j]!
    d1 += w[indices[j + 1]!]! * values[j + 1]!
    d2 += w[indices[j + 2]!]! * values[j + 2]!
    d3 += w[indices[j + 3]!]! * values[j + 3]!
  }
  for (; j < b; j++) d0 += w[indices[j]!]! * values[j]!
  return d0 + d1 + (d2 + d3)
}

/** Squared L2 norm of every CSR row. */
export function rowSqNorms(indptr: Int32Array, values: Float32Array): Float64Array {
  const rows = indptr.length - 1
  const out = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let s = 0
    for (let j = indptr[r]!, e = indptr[r + 1]!; j < e; j++) s += values[j]! * values[j]!
    out[r] = s
  }
  return out
}

export interface WorkingSetOptions extends SvmOptions {
  /** Negatives drawn at random into the first working set, as a multiple of the number of positives. */
  initNegatives: number
}

/**
 * Solve "class `positive` against the rest" on `rows` by working sets: solve on the positives, the rows with
 * non-zero starting alpha and a random sample of negatives; then check every other row and add those that violate
 * the optimality condition by more than `tol`; repeat until none does. The result meets the same stopping rule as
 * solving on all rows, at a fraction of the cost, because most negatives never become support vectors.
 * Returns the number of solver passes summed over rounds.
 */
export function solveSvmWorkingSet(
  p: SvmProblem,
  rows: Int32Array,
  positive: number,
  opt: WorkingSetOptions,
  w: Float64Array,
  alpha: Float64Array,
): number {
  const { indptr, indices, values, labels } = p
  const rng = new Rng(opt.seed ^ 0x51ed27)
  const inSet = new Uint8Array(indptr.length - 1)
  let nPos = 0
  for (let s = 0; s < rows.length; s++) if (labels[rows[s]!] === positive) nPos++
  const nNeg = rows.length - nPos
  const fraction = nNeg > 0 ? Math.min(1, (opt.initNegatives * Math.max(1, nPos)) / nNeg) : 1
  let set = new Int32Array(rows.length)
  let size = 0
  for (let s = 0; s < rows.length; s++) {
    const i = rows[s]!
    if (labels[i] === positive || alpha[i]! > 0 || rng.nextFloat() < fraction) {
      inSet[i] = 1
      set[size++] = i
    }
  }
  const biasIdx = p.cols
  const bias = opt.bias
  let violRows: Int32Array = new Int32Array(256)
  let violGrad: Float64Array = new Float64Array(256)
  let passes = 0
  for (;;) {
    passes += solveSvmDual(p, set.subarray(0, size), positive, opt, w, alpha)
    if (size === rows.length) break
    const wb = w[biasIdx]! * bias
    let nViol = 0
    for (let s = 0; s < rows.length; s++) {
      const i = rows[s]!
      if (inSet[i] === 1) continue
      const dot = rowDot(w, indices, values, indptr[i]!, indptr[i + 1]!, wb)
      const yi = labels[i] === positive ? 1 : -1
      // alpha_i = 0 here, so the gradient is y·w·x − 1; a violation is a negative gradient beyond tolerance.
      const g = yi * dot - 1
      if (g < -opt.tol) {
        if (nViol === violRows.length) {
          violRows = growI32(violRows)
          violGrad = growF64(violGrad, violRows.length)
        }
        violRows[nViol] = i
        violGrad[nViol++] = g
      }
    }
    if (nViol === 0) break
    // Add the worst violators first, at most as many as the set holds: most violators of an early solution are
    // fixed by the few that become support vectors, so adding them all would grow the set tenfold for nothing.
    let take = nViol
    const cap = Math.max(size, MIN_ADD)
    if (nViol > cap) {
      const order = Array.from({ length: nViol }, (_, t) => t)
      order.sort((a, b) => violGrad[a]! - violGrad[b]! || violRows[a]! - violRows[b]!)
      const picked = new Int32Array(cap)
      for (let t = 0; t < cap; t++) picked[t] = violRows[order[t]!]!
      violRows.set(picked)
      take = cap
    }
    if (size + take > set.length) {
      const grown = new Int32Array(Math.max(set.length * 2, size + take))
      grown.set(set)
      set = grown
    }
    for (let t = 0; t < take; t++) {
      const i = violRows[t]!
      inSet[i] = 1
      set[size++] = i
    }
    const added = take
    if (added === 0) break
  }
  return passes
}

/** Fewest violators added to a working set in one round. */
const MIN_ADD = 64

function growI32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2)
  b.set(a)
  return b
}

function growF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n)
  b.set(a)
  return b
}
