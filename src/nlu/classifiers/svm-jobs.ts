/**
 * The units of work of one-vs-rest SVM training, run in the calling thread or in workers: train a few classes on
 * all rows, or re-train them without one calibration fold (warm-started from the full solution) and score the
 * held-out rows. Every job reads and writes only its own classes' slots of the shared arrays.
 * @module
 */
import { deriveSeed } from '../random.js'
import { type SvmProblem, solveSvmWorkingSet, type WorkingSetOptions } from './svm-solver.js'

/** Shared inputs and outputs; typed arrays over SharedArrayBuffers when workers are used. */
export interface SvmShared extends SvmProblem {
  nRows: number
  nClasses: number
  /** Calibration fold of every row (−1 when not calibrating). */
  fold: Int32Array
  /** Full-data solution: class-major `nClasses × (cols + 1)`, intercept last in each class. Written by `full`. */
  wFull: Float64Array
  /** Full-data dual variables, class-major `nClasses × nRows`. Written by `full`. */
  alphaFull: Float64Array
  /** Held-out scores, row-major `nRows × nClasses`. Written by `fold`. */
  heldOut: Float64Array
}

export interface SvmJobOptions {
  c: number
  /** Per-class multiplier of C for the positives (class weights); empty means 1. */
  classWeight: number[]
  tol: number
  maxIter: number
  bias: number
  seed: number
  initNegatives: number
}

export interface SvmJob {
  kind: 'svm'
  phase: 'full' | 'fold'
  /** The calibration fold left out (phase `fold`). */
  fold: number
  classes: number[]
  options: SvmJobOptions
}

const HELD_OUT_TOL = 0.5

function solverOptions(o: SvmJobOptions, k: number, stream: number): WorkingSetOptions {
  return {
    cPos: o.c * (o.classWeight[k] ?? 1),
    cNeg: o.c,
    tol: o.tol,
    maxIter: o.maxIter,
    bias: o.bias,
    seed: deriveSeed(o.seed, stream),
    initNegatives: o.initNegatives,
  }
}

/** Run one job against the shared arrays. */
export function runSvmJob(s: SvmShared, job: SvmJob): void {
  const F1 = s.cols + 1
  const N = s.nRows
  const K = s.nClasses
  if (job.phase === 'full') {
    const rows = new Int32Array(N)
    for (let i = 0; i < N; i++) rows[i] = i
    for (const k of job.classes) {
      const w = s.wFull.subarray(k * F1, (k + 1) * F1)
      const alpha = s.alphaFull.subarray(k * N, (k + 1) * N)
      w.fill(0)
      alpha.fill(0)
      solveSvmWorkingSet(s, rows, k, solverOptions(job.options, k, k), w, alpha)
    }
    return
  }
  const f = job.fold
  let nTrain = 0
  for (let i = 0; i < N; i++) if (s.fold[i] !== f) nTrain++
  const train = new Int32Array(nTrain)
  const held = new Int32Array(N - nTrain)
  for (let i = 0, a = 0, b = 0; i < N; i++) {
    if (s.fold[i] !== f) train[a++] = i
    else held[b++] = i
  }
  const { indptr, indices, values, labels } = s
  const bias = job.options.bias
  for (const k of job.classes) {
    const w = s.wFull.slice(k * F1, (k + 1) * F1)
    const alpha = s.alphaFull.slice(k * N, (k + 1) * N)
    // Warm start: take the held-out rows' contributions out of the full solution.
    for (let h = 0; h < held.length; h++) {
      const i = held[h]!
      const ai = alpha[i]!
      if (ai === 0) continue
      const d = -ai * (labels[i] === k ? 1 : -1)
      for (let j = indptr[i]!, e = indptr[i + 1]!; j < e; j++) w[indices[j]!]! += d * values[j]!
      w[s.cols]! += d * bias
      alpha[i] = 0
    }
    const options = solverOptions(job.options, k, (f + 1) * K + k)
    // Calibration needs held-out scores, not a converged model: stopping earlier costs nothing measurable in
    // calibration quality and halves the time of the held-out fits.
    options.tol = Math.max(options.tol, HELD_OUT_TOL)
    solveSvmWorkingSet(s, train, k, options, w, alpha)
    const wb = w[s.cols]! * bias
    for (let h = 0; h < held.length; h++) {
      const i = held[h]!
      let dot = wb
      for (let j = indptr[i]!, e = indptr[i + 1]!; j < e; j++) dot += w[indices[j]!]! * values[j]!
      s.heldOut[i * K + k] = dot
    }
  }
}
