/**
 * The fitted form shared by the linear classifiers: a feature-major weight matrix (one contiguous row of class
 * weights per feature, so scoring a sparse message is a few hundred short contiguous loops), intercepts, and the
 * calibration temperature.
 * @module
 */
import { Type } from '@sinclair/typebox'
import type { ComponentState, FittedClassifier, JsonValue } from '../component.js'
import { roundToHalf } from '../half.js'
import { paramError } from '../params.js'
import type { SparseVector } from '../sparse.js'
import { softmaxInPlace } from './calibration.js'

export const WeightPrecisionSchema = Type.Union([Type.Literal('f16'), Type.Literal('f32')], {
  default: 'f16',
  description:
    'Precision of the weights in the model file: f16 (half precision) halves the file; the model predicts with the rounded weights, so it answers the same before and after saving.',
})

export class FittedLinearClassifier implements FittedClassifier {
  /** Weights are half-precision values, saved as `f16`. */
  readonly half: boolean

  constructor(
    readonly type: string,
    readonly nClasses: number,
    readonly nFeatures: number,
    /** `nFeatures × nClasses`, feature-major. */
    readonly weights: Float32Array,
    readonly intercept: Float32Array,
    /** Scores are divided by this before the softmax. */
    readonly temperature: number,
    /** The params the classifier was trained with, kept for `toState`. */
    readonly params: Record<string, JsonValue>,
    /** The weights are already half values (loaded from an `f16` section): skip rounding them. */
    rounded = false,
  ) {
    this.half = params.weightPrecision === 'f16'
    if (this.half && !rounded) roundToHalf(weights)
  }

  /** Raw scores (before calibration) of every class. */
  decision(x: SparseVector, out: Float64Array): void {
    const K = this.nClasses
    const W = this.weights
    for (let c = 0; c < K; c++) out[c] = this.intercept[c]!
    const { idx, val } = x
    for (let j = 0; j < x.n; j++) {
      const f = idx[j]!
      if (f >= this.nFeatures) continue
      const v = val[j]!
      const off = f * K
      for (let c = 0; c < K; c++) out[c]! += v * W[off + c]!
    }
  }

  predictProba(x: SparseVector, out: Float64Array): void {
    this.decision(x, out)
    softmaxInPlace(out, this.nClasses, this.temperature)
  }

  toState(): ComponentState {
    return {
      json: {
        params: this.params,
        nClasses: this.nClasses,
        nFeatures: this.nFeatures,
        temperature: this.temperature,
      },
      arrays: { weights: this.weights, intercept: this.intercept },
      ...(this.half ? { half: ['weights'] } : {}),
    }
  }

  /** Rebuild from `toState()`; checks every shape against the JSON. */
  static fromState(type: string, state: ComponentState): FittedLinearClassifier {
    const json = state.json as { params?: unknown; nClasses?: unknown; nFeatures?: unknown; temperature?: unknown }
    const { weights, intercept } = state.arrays
    const K = json.nClasses
    const F = json.nFeatures
    const T = json.temperature
    if (!Number.isInteger(K) || (K as number) < 1 || !Number.isInteger(F) || (F as number) < 0) {
      throw paramError(type, `The saved state of ${type} has bad class or feature counts.`)
    }
    if (typeof T !== 'number' || !(T > 0) || !Number.isFinite(T)) {
      throw paramError(type, `The saved state of ${type} has a bad temperature.`)
    }
    if (!(weights instanceof Float32Array) || weights.length !== (K as number) * (F as number)) {
      throw paramError(type, `The saved state of ${type} has a bad 'weights' section.`)
    }
    if (!(intercept instanceof Float32Array) || intercept.length !== K) {
      throw paramError(type, `The saved state of ${type} has a bad 'intercept' section.`)
    }
    for (const a of [weights, intercept]) {
      for (let i = 0; i < a.length; i++) {
        if (!Number.isFinite(a[i]!))
          throw paramError(type, `The saved state of ${type} has a weight that is not finite.`)
      }
    }
    const params = (json.params ?? {}) as Record<string, JsonValue>
    const half = params.weightPrecision === 'f16'
    if (half !== (state.half ?? []).includes('weights')) {
      throw paramError(type, `The saved state of ${type} stores its weights in another precision than its params say.`)
    }
    return new FittedLinearClassifier(type, K as number, F as number, weights, intercept, T, params, half)
  }
}
