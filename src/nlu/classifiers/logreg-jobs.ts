/**
 * The unit of work of logistic-regression calibration, run in the calling thread or in workers: a held-out fit,
 * warm-started from the full solution for a few epochs, that scores its fold.
 * @module
 */
import { deriveSeed } from '../random.js'
import { solveSag } from './sag-solver.js'

export interface LogregShared {
  indptr: Int32Array
  indices: Int32Array
  values: Float32Array
  labels: Int32Array
  cols: number
  nRows: number
  nClasses: number
  fold: Int32Array
  /** Full-data solution, feature-major `cols × nClasses`. */
  wFull: Float64Array
  bFull: Float64Array
  /** Held-out scores, row-major `nRows × nClasses`. Written by `fold`. */
  heldOut: Float64Array
}

/** A held-out fit: re-train without fold `fold`, warm-started from the full solution, and score that fold. */
export interface LogregJob {
  kind: 'logreg'
  fold: number
  options: { c: number; tol: number; maxEpochs: number; calibrationEpochs: number; seed: number; classWeight: number[] }
}

export function runLogregJob(s: LogregShared, job: LogregJob): void {
  const N = s.nRows
  const K = s.nClasses
  const o = job.options
  const f = job.fold
  let nTrain = 0
  for (let i = 0; i < N; i++) if (s.fold[i] !== f) nTrain++
  const train = new Int32Array(nTrain)
  const held: number[] = []
  for (let i = 0, a = 0; i < N; i++) {
    if (s.fold[i] !== f) train[a++] = i
    else held.push(i)
  }
  const w = s.wFull.slice()
  const b = s.bFull.slice()
  // The held-out rows pulled the full solution towards themselves; a few warm-started epochs without them undo
  // most of that, which is what calibration needs.
  solveSag(
    s,
    train,
    K,
    {
      c: o.c,
      tol: o.tol,
      maxEpochs: o.calibrationEpochs,
      seed: deriveSeed(o.seed, f + 1),
      warmStart: true,
      classWeight: o.classWeight,
    },
    w,
    b,
  )
  const { indptr, indices, values } = s
  for (const i of held) {
    const off = i * K
    for (let k = 0; k < K; k++) s.heldOut[off + k] = b[k]!
    for (let j = indptr[i]!, e = indptr[i + 1]!; j < e; j++) {
      const wo = indices[j]! * K
      const x = values[j]!
      for (let k = 0; k < K; k++) s.heldOut[off + k]! += x * w[wo + k]!
    }
  }
}
