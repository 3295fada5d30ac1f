/**
 * Linear SVM, one-vs-rest: L2-regularised squared hinge loss solved by dual coordinate descent (as liblinear),
 * classes trained in parallel worker threads, confidences calibrated by temperature scaling on held-out folds.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import type { Classifier, ClassifierFitContext, JsonValue } from '../component.js'
import { defaultWorkerCount, inThreadRunner, type JobRunner, jobArrays, workerRunner } from '../parallel.js'
import { Nullable, paramError, validateParams } from '../params.js'
import type { CsrMatrix } from '../sparse.js'
import { fitTemperature, foldRows, softmaxInPlace, stratifiedFolds } from './calibration.js'
import {
  applyClassOffsets,
  ClassBiasSchema,
  classOffsets,
  FittedLinearClassifier,
  WeightPrecisionSchema,
} from './linear-model.js'
import { weightMatrix } from './score-kernel.js'
import type { SvmJob, SvmShared } from './svm-jobs.js'
import { rowSqNorms } from './svm-solver.js'

export const CalibrationSchema = Type.Union([Type.Literal('temperature'), Type.Literal('none')], {
  default: 'temperature',
  description: 'Fit a softmax temperature on held-out folds so confidences match accuracy; none uses T = 1.',
})

/** Per-class weights by intent name; `description` says what a weight multiplies in the classifier at hand. */
export function classWeightSchema(description: string) {
  return Type.Union(
    [
      Type.Literal('balanced'),
      Type.Null(),
      Type.Record(Type.String({ minLength: 1 }), Type.Number({ exclusiveMinimum: 0, maximum: 1000 })),
    ],
    { default: null, description },
  )
}

export const ClassWeightSchema = classWeightSchema(
  "Multiplier of C for each class's positives: 'balanced' is n / (classes × n_class); a mapping of intent names to multipliers weighs the listed intents (e.g. `{oos: 2}`) and 1 the others; null weighs all classes equally.",
)

export const LinearSvmParamsSchema = Type.Object(
  {
    C: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1e6,
      default: 1,
      description: 'Inverse regularisation strength: larger fits the training data more closely.',
    }),
    tol: Type.Number({
      exclusiveMinimum: 0,
      maximum: 10,
      default: 0.1,
      description: 'Stopping tolerance on the projected gradient.',
    }),
    maxIter: Type.Integer({ minimum: 1, maximum: 100000, default: 1000, description: 'Most passes over the data.' }),
    interceptScaling: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1000,
      default: 1,
      description: 'Value of the constant feature that carries the (regularised) intercept.',
    }),
    classWeight: ClassWeightSchema,
    classBias: ClassBiasSchema,
    weightPrecision: WeightPrecisionSchema,
    calibration: CalibrationSchema,
    calibrationFolds: Type.Integer({
      minimum: 2,
      maximum: 10,
      default: 3,
      description: 'Folds for the held-out scores that calibration is fitted on.',
    }),
    calibrationRounds: Type.Integer({
      minimum: 1,
      maximum: 10,
      default: 1,
      description:
        'Folds held out in turn for the temperature fit (each costs one re-fit on the other folds); at most calibrationFolds. Held-out confidences asked for by threshold selection cover every fold.',
    }),
    workers: Nullable(
      Type.Integer({ minimum: 0, maximum: 64 }),
      'Worker threads; null picks by problem size and cores, 0 trains in the calling thread.',
    ),
  },
  { additionalProperties: false },
)

export type LinearSvmParams = Static<typeof LinearSvmParamsSchema>

export function linearSvmParams(raw: unknown): LinearSvmParams {
  return validateParams('linear_svm', LinearSvmParamsSchema, raw)
}

/** Negatives in the first working set of each class, as a multiple of its positives. */
const INIT_NEGATIVES = 2

export class LinearSvm implements Classifier<LinearSvmParams> {
  readonly type = 'linear_svm'
  constructor(readonly params: Readonly<LinearSvmParams>) {}

  getParams(): Record<string, JsonValue> {
    return structuredClone(this.params) as unknown as Record<string, JsonValue>
  }

  async fit(x: CsrMatrix, y: Int32Array, nClasses: number, ctx: ClassifierFitContext): Promise<FittedLinearClassifier> {
    const p = this.params
    const N = x.rows
    const F = x.cols
    const K = nClasses
    const params = this.getParams()
    if (K < 2 || N === 0) {
      return new FittedLinearClassifier(this.type, K, F, new Float32Array(F * K), new Float32Array(K), 1, params)
    }
    const calibrate = p.calibration === 'temperature' && N >= 2 * p.calibrationFolds
    const nWorkers = p.workers ?? ctx.workers ?? defaultWorkerCount(N * K)
    const useWorkers = nWorkers > 1
    const { float64: alloc64, share } = jobArrays(useWorkers)
    const counts = new Float64Array(K)
    for (let i = 0; i < N; i++) counts[y[i]!]!++
    const classWeight = classWeights(this.type, p.classWeight, counts, ctx.labels)
    const offsets = classOffsets(this.type, p.classBias, ctx.labels, K)
    // The solvers see the columns renumbered by falling frequency: the weights of the common n-grams, which nearly
    // every row touches, then share a few cache lines instead of being spread over the whole weight vector. Each
    // row keeps its entries in their order, so every sum runs in the same order and the model is bit-identical.
    const colOf = columnsByFrequency(x.indices, F)
    const indices = new Int32Array(x.indices.length)
    for (let j = 0; j < indices.length; j++) indices[j] = colOf[x.indices[j]!]!
    const shared: SvmShared = {
      indptr: share(x.indptr),
      indices: share(indices),
      values: share(x.values),
      labels: share(y),
      sqnorm: share(rowSqNorms(x.indptr, x.values)),
      cols: F,
      nRows: N,
      nClasses: K,
      fold: share(calibrate ? stratifiedFolds(y, K, p.calibrationFolds, ctx.seed) : new Int32Array(N).fill(-1)),
      wFull: alloc64(K * (F + 1)),
      alphaFull: alloc64(K * N),
      heldOut: alloc64(calibrate ? N * K : 0),
    }
    const options = {
      c: p.C,
      classWeight,
      tol: p.tol,
      maxIter: p.maxIter,
      bias: p.interceptScaling,
      seed: ctx.seed,
      initNegatives: INIT_NEGATIVES,
    }
    const chunk = Math.max(1, Math.ceil(K / Math.max(1, nWorkers * 6)))
    const jobs = (phase: 'full' | 'fold', fold: number): SvmJob[] => {
      const out: SvmJob[] = []
      for (let k = 0; k < K; k += chunk) {
        const classes = Array.from({ length: Math.min(chunk, K - k) }, (_, j) => k + j)
        out.push({ kind: 'svm', phase, fold, classes, options })
      }
      return out
    }
    const full = jobs('full', -1)
    // The temperature is one number: a fold or two of held-out scores fit it as well as all of them, at a fraction
    // of the cost. Every fold is scored only when the caller wants held-out confidences for every row.
    const rounds = Math.min(p.calibrationRounds, p.calibrationFolds)
    const nFolds = calibrate ? (ctx.onHeldOut ? p.calibrationFolds : rounds) : 0
    const folds = Array.from({ length: nFolds }, (_, f) => jobs('fold', f)).flat()
    const total = full.length + folds.length
    let done = 0
    const tick = () => ctx.onProgress?.(++done / total)
    const runner: JobRunner = useWorkers
      ? workerRunner(Math.min(nWorkers, full.length), shared, ctx.signal)
      : inThreadRunner(shared, ctx.signal)
    try {
      await runner.runAll(full, tick)
      await runner.runAll(folds, tick)
    } finally {
      await runner.close()
    }

    const weights = weightMatrix(F, K)
    const intercept = new Float32Array(K)
    for (let k = 0; k < K; k++) {
      const base = k * (F + 1)
      for (let f = 0; f < F; f++) weights[f * K + k] = shared.wFull[base + colOf[f]!]!
      intercept[k] = shared.wFull[base + F]! * p.interceptScaling
    }
    let temperature = 1
    if (calibrate) {
      // The temperature is fitted on the scores the classifier learnt; the offsets are a choice made on top of them.
      temperature = fitHeldOutTemperature(shared.heldOut, y, K, shared.fold, rounds)
      applyClassOffsets(offsets, intercept, shared.heldOut)
      if (ctx.onHeldOut) {
        const proba = new Float32Array(N * K)
        const row = new Float64Array(K)
        for (let i = 0; i < N; i++) {
          for (let k = 0; k < K; k++) row[k] = shared.heldOut[i * K + k]!
          softmaxInPlace(row, K, temperature)
          proba.set(row, i * K)
        }
        ctx.onHeldOut(proba)
      }
    } else applyClassOffsets(offsets, intercept, new Float64Array(0))
    return new FittedLinearClassifier(this.type, K, F, weights, intercept, temperature, params)
  }
}

/**
 * The multiplier of C for each class (empty: all 1). A mapping names intents, so it needs the labels; a name that is
 * not a label is an error rather than a silent no-op.
 */
export function classWeights(
  component: string,
  spec: LinearSvmParams['classWeight'],
  counts: Float64Array,
  labels: readonly string[] | undefined,
): number[] {
  const K = counts.length
  if (spec === null) return []
  if (spec === 'balanced') {
    let N = 0
    for (const n of counts) N += n
    return Array.from(counts, (n) => (n > 0 ? N / (K * n) : 1))
  }
  const out = new Array<number>(K).fill(1)
  for (const [name, w] of Object.entries(spec)) {
    const k = labels ? labels.indexOf(name) : -1
    if (k === -1) {
      throw paramError(component, `classWeight names '${name}', which is not an intent of the training data.`)
    }
    out[k] = w
  }
  return out
}

/** `colOf[f]`: the solvers' column for feature `f`, numbering columns by falling number of entries (ties by f). */
function columnsByFrequency(indices: Int32Array, F: number): Int32Array {
  const count = new Int32Array(F)
  for (let j = 0; j < indices.length; j++) count[indices[j]!]!++
  const byFreq = Array.from({ length: F }, (_, f) => f).sort((a, b) => count[b]! - count[a]! || a - b)
  const colOf = new Int32Array(F)
  for (let c = 0; c < F; c++) colOf[byFreq[c]!] = c
  return colOf
}

/** The temperature fitted on the held-out scores of the rows in folds `0..rounds-1`. */
function fitHeldOutTemperature(
  heldOut: Float64Array,
  y: Int32Array,
  K: number,
  fold: Int32Array,
  rounds: number,
): number {
  const inRounds = new Int32Array(fold.length)
  for (let i = 0; i < fold.length; i++) inRounds[i] = fold[i]! < rounds ? 0 : 1
  const rows = foldRows(inRounds, 0, true)
  if (rows.length === fold.length) return fitTemperature(heldOut, y, K)
  const scores = new Float64Array(rows.length * K)
  const labels = new Int32Array(rows.length)
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!
    scores.set(heldOut.subarray(i * K, (i + 1) * K), r * K)
    labels[r] = y[i]!
  }
  return fitTemperature(scores, labels, K)
}
