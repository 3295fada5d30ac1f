/**
 * Multinomial logistic regression with an L2 penalty, solved by SAG; confidences calibrated by temperature scaling
 * on held-out folds (warm-started from the full fit and run in parallel worker threads).
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import type { Classifier, ClassifierFitContext, JsonValue } from '../component.js'
import { defaultWorkerCount, inThreadRunner, type JobRunner, jobArrays, workerRunner } from '../parallel.js'
import { Nullable, validateParams } from '../params.js'
import type { CsrMatrix } from '../sparse.js'
import { fitTemperature, softmaxInPlace, stratifiedFolds } from './calibration.js'
import {
  applyClassOffsets,
  ClassBiasSchema,
  classOffsets,
  FittedLinearClassifier,
  WeightPrecisionSchema,
} from './linear-model.js'
import { CalibrationSchema, classWeightSchema, classWeights } from './linear-svm.js'
import type { LogregJob, LogregShared } from './logreg-jobs.js'
import { solveSag } from './sag-solver.js'
import { weightMatrix } from './score-kernel.js'

export const LogisticRegressionParamsSchema = Type.Object(
  {
    C: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1e6,
      default: 10,
      description: 'Inverse regularisation strength (the penalty is ‖W‖² / (2·C·n), as in scikit-learn).',
    }),
    tol: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.001,
      description: 'Stop when an epoch changes no weight by more than this fraction of the largest weight.',
    }),
    maxEpochs: Type.Integer({ minimum: 1, maximum: 10000, default: 30, description: 'Most passes over the data.' }),
    classWeight: classWeightSchema(
      "Weight of each class's messages in the loss: 'balanced' is n / (classes × n_class); a mapping of intent names to weights weighs the listed intents (e.g. `{oos: 2}`) and 1 the others; null weighs all classes equally.",
    ),
    classBias: ClassBiasSchema,
    weightPrecision: WeightPrecisionSchema,
    calibration: CalibrationSchema,
    calibrationFolds: Type.Integer({
      minimum: 2,
      maximum: 10,
      default: 3,
      description: 'Folds for the held-out scores that calibration is fitted on.',
    }),
    calibrationEpochs: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description: 'Epochs of each held-out fit, warm-started from the full fit.',
    }),
    workers: Nullable(
      Type.Integer({ minimum: 0, maximum: 64 }),
      'Worker threads for the held-out fits; null picks by problem size and cores, 0 uses the calling thread.',
    ),
  },
  { additionalProperties: false },
)

export type LogisticRegressionParams = Static<typeof LogisticRegressionParamsSchema>

export function logisticRegressionParams(raw: unknown): LogisticRegressionParams {
  return validateParams('logistic_regression', LogisticRegressionParamsSchema, raw)
}

export class LogisticRegression implements Classifier<LogisticRegressionParams> {
  readonly type = 'logistic_regression'
  constructor(readonly params: Readonly<LogisticRegressionParams>) {}

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
    const offsets = classOffsets(this.type, p.classBias, ctx.labels, K)
    const counts = new Float64Array(K)
    for (let i = 0; i < N; i++) counts[y[i]!]!++
    const classWeight = classWeights(this.type, p.classWeight, counts, ctx.labels)
    const nWorkers = calibrate ? (p.workers ?? ctx.workers ?? defaultWorkerCount(N * K)) : 0
    const useWorkers = nWorkers > 1
    const { float64: alloc, share } = jobArrays(useWorkers)
    const shared: LogregShared = {
      indptr: share(x.indptr),
      indices: share(x.indices),
      values: share(x.values),
      labels: share(y),
      cols: F,
      nRows: N,
      nClasses: K,
      fold: share(calibrate ? stratifiedFolds(y, K, p.calibrationFolds, ctx.seed) : new Int32Array(N).fill(-1)),
      wFull: alloc(F * K),
      bFull: alloc(K),
      heldOut: alloc(calibrate ? N * K : 0),
    }
    const options = {
      c: p.C,
      tol: p.tol,
      maxEpochs: p.maxEpochs,
      calibrationEpochs: p.calibrationEpochs,
      seed: ctx.seed,
      classWeight,
    }
    const folds: LogregJob[] = calibrate
      ? Array.from({ length: p.calibrationFolds }, (_, f) => ({ kind: 'logreg', fold: f, options }))
      : []
    // The full fit dominates and is sequential; weigh it as most of the progress.
    const fullShare = calibrate ? 0.75 : 1
    const rows = new Int32Array(N)
    for (let i = 0; i < N; i++) rows[i] = i
    const sagOptions = { c: p.C, tol: p.tol, maxEpochs: p.maxEpochs, seed: ctx.seed, warmStart: false, classWeight }
    solveSag(
      shared,
      rows,
      K,
      {
        ...sagOptions,
        onEpoch: (epoch) => {
          ctx.signal?.throwIfAborted()
          ctx.onProgress?.((fullShare * epoch) / p.maxEpochs)
          return true
        },
      },
      shared.wFull,
      shared.bFull,
    )
    ctx.onProgress?.(fullShare)
    const local = inThreadRunner(shared, ctx.signal)
    let done = 0
    const runner: JobRunner = useWorkers ? workerRunner(Math.min(nWorkers, folds.length), shared, ctx.signal) : local
    try {
      await runner.runAll(folds, () => ctx.onProgress?.(fullShare + ((1 - fullShare) * ++done) / folds.length))
    } finally {
      await runner.close()
    }

    const weights = weightMatrix(F, K)
    weights.set(shared.wFull)
    const intercept = Float32Array.from(shared.bFull)
    let temperature = 1
    if (calibrate) {
      temperature = fitTemperature(shared.heldOut, y, K)
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
