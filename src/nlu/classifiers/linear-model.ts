/**
 * The fitted form shared by the linear classifiers: a feature-major weight matrix (one contiguous row of class
 * weights per feature, so scoring a sparse message is a few hundred short contiguous loops), intercepts, and the
 * calibration temperature. When most weights are exactly zero (a one-vs-rest SVM's weights are sums over its
 * support vectors, and most n-grams occur in none of a class's), the model file stores only the non-zero
 * (class, weight) pairs of each feature; memory keeps the dense matrix, whose contiguous rows score faster than
 * scattered pairs would (a message's n-grams are the frequent ones, which have weights in most classes).
 * @module
 */
import { Type } from '@sinclair/typebox'
import type { ComponentState, FittedClassifier, JsonValue } from '../component.js'
import { roundToHalf } from '../half.js'
import { paramError } from '../params.js'
import type { SparseVector } from '../sparse.js'
import { softmaxInPlace } from './calibration.js'
import { kernelHolding, ScoreKernel } from './score-kernel.js'

export const WeightPrecisionSchema = Type.Union([Type.Literal('f16'), Type.Literal('f32')], {
  default: 'f16',
  description:
    'Precision of the weights in the model file: f16 (half precision) halves the file; the model predicts with the rounded weights, so it answers the same before and after saving.',
})

export const ClassBiasSchema = Type.Record(
  Type.String({ minLength: 1 }),
  Type.Number({ minimum: -100, maximum: 100 }),
  {
    default: {},
    description:
      "Offsets added to the named intents' decision values after training (in decision-value units, before the temperature), e.g. `{oos: 0.3}` to answer the out-of-scope intent more often; choose them on held-out data. Every name must be an intent of the training data.",
  },
)

/**
 * `classBias` as a per-class offset vector (null when empty). A name that is not a label is an error rather than a
 * silent no-op, so a misspelt intent cannot pass unnoticed.
 */
export function classOffsets(
  component: string,
  spec: Readonly<Record<string, number>>,
  labels: readonly string[] | undefined,
  nClasses: number,
): Float64Array | null {
  const names = Object.keys(spec)
  if (names.length === 0) return null
  const out = new Float64Array(nClasses)
  for (const name of names) {
    const k = labels ? labels.indexOf(name) : -1
    if (k === -1) throw paramError(component, `classBias names '${name}', which is not an intent of the training data.`)
    out[k] = spec[name]!
  }
  return out
}

/** Add `offsets` to the intercepts and to every row of row-major `rows × K` held-out scores. */
export function applyClassOffsets(offsets: Float64Array | null, intercept: Float32Array, heldOut: Float64Array): void {
  if (!offsets) return
  const K = offsets.length
  for (let k = 0; k < K; k++) intercept[k] = intercept[k]! + offsets[k]!
  for (let i = 0; i < heldOut.length; i++) heldOut[i] = heldOut[i]! + offsets[i % K]!
}

/** The non-zero weights of each feature: feature `f`'s pairs are `[offsets[f], offsets[f + 1])`. */
interface SparseWeights {
  offsets: Uint32Array
  /** Class of each pair, increasing within a feature. */
  classes: Uint16Array | Uint32Array
  values: Float32Array
}

export class FittedLinearClassifier implements FittedClassifier {
  /** Weights are half-precision values, saved as `f16`. */
  readonly half: boolean
  /** `nFeatures × nClasses`, feature-major. */
  readonly weights: Float32Array
  /** Holds `weights` and scores a message with SIMD; undefined where WebAssembly SIMD is unavailable. */
  private readonly kernel: ScoreKernel | undefined

  /** `weights` is `nFeatures × nClasses`, feature-major, or sparse (from a model file). */
  constructor(
    readonly type: string,
    readonly nClasses: number,
    readonly nFeatures: number,
    weights: Float32Array | SparseWeights,
    readonly intercept: Float32Array,
    /** Scores are divided by this before the softmax. */
    readonly temperature: number,
    /** The params the classifier was trained with, kept for `toState`. */
    readonly params: Record<string, JsonValue>,
    /** The weights are already half values (loaded from an `f16` section): skip rounding them. */
    rounded = false,
  ) {
    this.half = params.weightPrecision === 'f16'
    const adopted = weights instanceof Float32Array ? kernelHolding(weights, nFeatures, nClasses) : undefined
    this.kernel = adopted ?? ScoreKernel.create(nFeatures, nClasses)
    if (adopted) this.weights = weights as Float32Array
    else if (this.kernel) {
      this.weights = this.kernel.weights
      if (weights instanceof Float32Array) this.weights.set(weights)
      else densify(weights, nFeatures, nClasses, this.weights)
    } else {
      this.weights =
        weights instanceof Float32Array
          ? weights
          : densify(weights, nFeatures, nClasses, new Float32Array(nFeatures * nClasses))
    }
    if (this.half && !rounded) roundToHalf(this.weights)
  }

  /** Raw scores (before calibration) of every class. */
  decision(x: SparseVector, out: Float64Array): void {
    if (this.kernel) {
      this.kernel.score(x.idx, x.val, x.n, this.intercept, out)
      return
    }
    this.decisionJs(x, out)
  }

  /** {@link decision} in plain JavaScript: the same operations in the same order, so bit-identical scores. */
  decisionJs(x: SparseVector, out: Float64Array): void {
    const K = this.nClasses
    const F = this.nFeatures
    const b = this.intercept
    for (let c = 0; c < K; c++) out[c] = b[c]!
    const { idx, val } = x
    const n = x.n
    const W = this.weights
    const K4 = K - (K & 3)
    // The hot loop of parsing: one contiguous row of class weights per feature, unrolled by four.
    for (let j = 0; j < n; j++) {
      const f = idx[j]!
      if (f >= F) continue
      const v = val[j]!
      const off = f * K
      let c = 0
      for (; c < K4; c += 4) {
        out[c] = out[c]! + v * W[off + c]!
        out[c + 1] = out[c + 1]! + v * W[off + c + 1]!
        out[c + 2] = out[c + 2]! + v * W[off + c + 2]!
        out[c + 3] = out[c + 3]! + v * W[off + c + 3]!
      }
      for (; c < K; c++) out[c] = out[c]! + v * W[off + c]!
    }
  }

  predictProba(x: SparseVector, out: Float64Array): void {
    this.decision(x, out)
    softmaxInPlace(out, this.nClasses, this.temperature)
  }

  toState(): ComponentState {
    const json = {
      params: this.params,
      nClasses: this.nClasses,
      nFeatures: this.nFeatures,
      temperature: this.temperature,
    }
    // The sparse layout came with f16 sections (format 1.1); f32 weights keep the dense layout of format 1.0, which
    // older readers load, and a 1.0 file round-trips bit-exactly.
    const sparse = this.half ? sparsify(this.weights, this.nFeatures, this.nClasses, 2) : undefined
    if (sparse) {
      return {
        json: { ...json, weightLayout: 'sparse' },
        arrays: {
          weightOffsets: sparse.offsets,
          weightClasses: sparse.classes,
          weightValues: sparse.values,
          intercept: this.intercept,
        },
        ...(this.half ? { half: ['weightValues'] } : {}),
      }
    }
    return {
      json,
      // A copy: `weights` may be a view on the scoring kernel's memory, whose buffer holds more than the weights.
      arrays: { weights: this.weights.slice(), intercept: this.intercept },
      ...(this.half ? { half: ['weights'] } : {}),
    }
  }

  /** Rebuild from `toState()`; checks every shape, offset, class and weight against the JSON. */
  static fromState(type: string, state: ComponentState): FittedLinearClassifier {
    const json = state.json as {
      params?: unknown
      nClasses?: unknown
      nFeatures?: unknown
      temperature?: unknown
      weightLayout?: unknown
    }
    const { intercept } = state.arrays
    const K = json.nClasses
    const F = json.nFeatures
    const T = json.temperature
    const bad = (what: string) => paramError(type, `The saved state of ${type} has ${what}.`)
    if (!Number.isInteger(K) || (K as number) < 1 || !Number.isInteger(F) || (F as number) < 0) {
      throw bad('bad class or feature counts')
    }
    if (typeof T !== 'number' || !(T > 0) || !Number.isFinite(T)) throw bad('a bad temperature')
    if (!(intercept instanceof Float32Array) || intercept.length !== K) throw bad("a bad 'intercept' section")
    const params = (json.params ?? {}) as Record<string, JsonValue>
    const half = params.weightPrecision === 'f16'
    const valuesName = json.weightLayout === 'sparse' ? 'weightValues' : 'weights'
    if (half !== (state.half ?? []).includes(valuesName)) {
      throw bad('weights stored in another precision than its params say')
    }
    let weights: Float32Array | SparseWeights
    if (json.weightLayout === 'sparse') {
      // The dense matrix is built from the pairs: bound it, as the file's size bounds every other section.
      if ((K as number) * (F as number) > MAX_DENSE_WEIGHTS) throw bad('more weights than a model may have')
      const { weightOffsets: offsets, weightClasses: classes, weightValues: values } = state.arrays
      if (!(offsets instanceof Uint32Array) || offsets.length !== (F as number) + 1 || offsets[0] !== 0) {
        throw bad("a bad 'weightOffsets' section")
      }
      if (!(values instanceof Float32Array) || offsets[F as number] !== values.length) {
        throw bad("a bad 'weightValues' section")
      }
      if (!(classes instanceof Uint16Array || classes instanceof Uint32Array) || classes.length !== values.length) {
        throw bad("a bad 'weightClasses' section")
      }
      for (let f = 0; f < (F as number); f++) {
        const a = offsets[f]!
        const e = offsets[f + 1]!
        if (e < a || e > values.length) throw bad("a bad 'weightOffsets' section")
        for (let t = a; t < e; t++) {
          if (classes[t]! >= (K as number) || (t > a && classes[t]! <= classes[t - 1]!)) {
            throw bad("a bad 'weightClasses' section")
          }
        }
      }
      weights = { offsets, classes, values }
      checkFinite(values, bad)
    } else if (json.weightLayout === undefined) {
      const dense = state.arrays.weights
      if (!(dense instanceof Float32Array) || dense.length !== (K as number) * (F as number)) {
        throw bad("a bad 'weights' section")
      }
      weights = dense
      checkFinite(dense, bad)
    } else {
      throw bad('an unknown weight layout')
    }
    checkFinite(intercept, bad)
    return new FittedLinearClassifier(type, K as number, F as number, weights, intercept, T, params, true)
  }
}

/** Most weights (features × classes) a sparse state may expand to: 1 GiB of float32. */
const MAX_DENSE_WEIGHTS = 2 ** 28

function densify(w: SparseWeights, F: number, K: number, out: Float32Array): Float32Array {
  for (let f = 0; f < F; f++) {
    for (let t = w.offsets[f]!, e = w.offsets[f + 1]!; t < e; t++) out[f * K + w.classes[t]!] = w.values[t]!
  }
  return out
}

function checkFinite(a: Float32Array, bad: (what: string) => Error): void {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw bad('a weight that is not finite')
}

/** The non-zero weights of a dense matrix, or undefined when keeping it dense takes fewer bytes. */
function sparsify(w: Float32Array, F: number, K: number, valueBytes: number): SparseWeights | undefined {
  let nnz = 0
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) nnz++
  const classBytes = K <= 0x10000 ? 2 : 4
  if (nnz * (valueBytes + classBytes) + 4 * (F + 1) >= w.length * valueBytes) return undefined
  const offsets = new Uint32Array(F + 1)
  const classes = classBytes === 2 ? new Uint16Array(nnz) : new Uint32Array(nnz)
  const values = new Float32Array(nnz)
  let t = 0
  for (let f = 0; f < F; f++) {
    const off = f * K
    for (let c = 0; c < K; c++) {
      const v = w[off + c]!
      if (v === 0) continue
      classes[t] = c
      values[t++] = v
    }
    offsets[f + 1] = t
  }
  return { offsets, classes, values }
}
