/**
 * The scoring loop of the linear classifiers as a tiny WebAssembly SIMD function: `out[c] += v · W[f·K + c]` for
 * every (feature f, value v) of a message. Each float32 weight is widened to float64 and multiplied and added in
 * float64, exactly the operations of the plain JavaScript loop, so both give bit-identical scores; SIMD does two
 * classes per instruction and skips the bounds checks. The module is assembled here from named opcodes (about
 * 150 bytes) rather than shipped as a binary, so what it does can be read below.
 *
 * ```wat
 * (func (export "score") (param $n $K $w $idx $val $out i32)
 *   (local $j $c $row $o $K4 $stride $K8 i32) (local $v f64) (local $vv $x $y v128)
 *   K4 = K & ~3; K8 = K & ~7; stride = K * 4
 *   for j in 0..n:
 *     row = w + idx[j] * stride; v = f64(val[j]); vv = f64x2.splat(v)
 *     for c in 0..K8 step 8:               ;; the same as below on two f32x4 loads, x and y
 *     for c in K8..K4 step 4:              ;; four classes: two f64x2 lanes each from one f32x4 load
 *       x = v128.load(row + 4c)
 *       out[c..c+2]   += vv * f64x2.promote_low_f32x4(x)
 *       out[c+2..c+4] += vv * f64x2.promote_low_f32x4(shuffle(x, lanes 2,3))
 *     for c in K4..K: out[c] += v * f64(W[row + 4c])
 * ```
 * @module
 */

// Value types and opcodes (WebAssembly core spec 1.0 plus the fixed-width SIMD proposal, standard since 2021).
const I32 = 0x7f
const F64 = 0x7c
const V128 = 0x7b
const BLOCK = 0x02
const LOOP = 0x03
const END = 0x0b
const BR = 0x0c
const BR_IF = 0x0d
const EMPTY = 0x40
const GET = 0x20
const SET = 0x21
const TEE = 0x22
const I32_LOAD = 0x28
const F32_LOAD = 0x2a
const F64_LOAD = 0x2b
const F64_STORE = 0x39
const I32_CONST = 0x41
const I32_GE_U = 0x4f
const I32_ADD = 0x6a
const I32_MUL = 0x6c
const I32_AND = 0x71
const I32_SHL = 0x74
const F64_ADD = 0xa0
const F64_MUL = 0xa2
const F64_PROMOTE_F32 = 0xbb
const SIMD = 0xfd
// SIMD sub-opcodes, already LEB128-encoded.
const V128_LOAD = [0x00]
const V128_STORE = [0x0b]
const I8X16_SHUFFLE = [0x0d]
const F64X2_SPLAT = [0x14]
const F64X2_PROMOTE_LOW_F32X4 = [0x5f]
const F64X2_ADD = [0xf0, 0x01]
const F64X2_MUL = [0xf2, 0x01]

// Parameters and locals, by index.
const N = 0
const K = 1
const W = 2
const IDX = 3
const VAL = 4
const OUT = 5
const J = 6
const C = 7
const ROW = 8
const O = 9
const K4 = 10
const STRIDE = 11
const K8 = 12
const V = 13
const VV = 14
const X = 15
const Y = 16

/** memarg: alignment exponent, then offset. */
const mem = (align: number, offset = 0) => [align, offset]
const simd = (op: number[], ...rest: number[]) => [SIMD, ...op, ...rest]
const inc = (local: number, by: number) => [GET, local, I32_CONST, by, I32_ADD, SET, local]
/** `out[O + offset .. +16) += vv * (low or high two lanes of x, widened)`. */
const lanes = (x: number, offset: number, high: boolean) => [
  GET,
  O,
  GET,
  O,
  ...simd(V128_LOAD, ...mem(0, offset)),
  GET,
  VV,
  GET,
  x,
  ...(high ? [GET, x, ...simd(I8X16_SHUFFLE, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15)] : []),
  ...simd(F64X2_PROMOTE_LOW_F32X4),
  ...simd(F64X2_MUL),
  ...simd(F64X2_ADD),
  ...simd(V128_STORE, ...mem(0, offset)),
]

// biome-ignore format: laid out as one instruction group per line, like assembly
const body = [
  // locals: 6 × i32, 1 × f64, 2 × v128
  3, 7, I32, 1, F64, 3, V128,
  GET, K, I32_CONST, 0x7c /* -4 */, I32_AND, SET, K4,
  GET, K, I32_CONST, 0x78 /* -8 */, I32_AND, SET, K8,
  GET, K, I32_CONST, 2, I32_SHL, SET, STRIDE,
  I32_CONST, 0, SET, J,
  BLOCK, EMPTY, LOOP, EMPTY,
  GET, J, GET, N, I32_GE_U, BR_IF, 1,
  // row = w + idx[j] * stride
  GET, W, GET, IDX, GET, J, I32_CONST, 2, I32_SHL, I32_ADD, I32_LOAD, ...mem(2), GET, STRIDE, I32_MUL, I32_ADD, SET, ROW,
  // v = f64(val[j]); vv = splat(v)
  GET, VAL, GET, J, I32_CONST, 2, I32_SHL, I32_ADD, F32_LOAD, ...mem(2), F64_PROMOTE_F32, TEE, V,
  ...simd(F64X2_SPLAT), SET, VV,
  I32_CONST, 0, SET, C,
  // eight classes a step: two f32x4 loads, four f64x2 lanes
  BLOCK, EMPTY, LOOP, EMPTY,
  GET, C, GET, K8, I32_GE_U, BR_IF, 1,
  GET, ROW, GET, C, I32_CONST, 2, I32_SHL, I32_ADD, TEE, O,
  ...simd(V128_LOAD, ...mem(0)), SET, X,
  GET, O, ...simd(V128_LOAD, ...mem(0, 16)), SET, Y,
  GET, OUT, GET, C, I32_CONST, 3, I32_SHL, I32_ADD, SET, O,
  ...lanes(X, 0, false), ...lanes(X, 16, true), ...lanes(Y, 32, false), ...lanes(Y, 48, true),
  ...inc(C, 8),
  BR, 0,
  END, END,
  BLOCK, EMPTY, LOOP, EMPTY,
  GET, C, GET, K4, I32_GE_U, BR_IF, 1,
  GET, ROW, GET, C, I32_CONST, 2, I32_SHL, I32_ADD, ...simd(V128_LOAD, ...mem(0)), SET, X,
  GET, OUT, GET, C, I32_CONST, 3, I32_SHL, I32_ADD, SET, O,
  // out[c..c+2] += vv * low(x)
  GET, O,
  GET, O, ...simd(V128_LOAD, ...mem(0)),
  GET, VV, GET, X, ...simd(F64X2_PROMOTE_LOW_F32X4), ...simd(F64X2_MUL),
  ...simd(F64X2_ADD),
  ...simd(V128_STORE, ...mem(0)),
  // out[c+2..c+4] += vv * high(x)
  GET, O,
  GET, O, ...simd(V128_LOAD, ...mem(0, 16)),
  GET, VV, GET, X, GET, X,
  ...simd(I8X16_SHUFFLE, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15),
  ...simd(F64X2_PROMOTE_LOW_F32X4), ...simd(F64X2_MUL),
  ...simd(F64X2_ADD),
  ...simd(V128_STORE, ...mem(0, 16)),
  ...inc(C, 4),
  BR, 0,
  END, END,
  // tail: out[c] += v * f64(W[row + 4c])
  BLOCK, EMPTY, LOOP, EMPTY,
  GET, C, GET, K, I32_GE_U, BR_IF, 1,
  GET, OUT, GET, C, I32_CONST, 3, I32_SHL, I32_ADD, TEE, O,
  GET, O, F64_LOAD, ...mem(3),
  GET, V, GET, ROW, GET, C, I32_CONST, 2, I32_SHL, I32_ADD, F32_LOAD, ...mem(2), F64_PROMOTE_F32, F64_MUL,
  F64_ADD,
  F64_STORE, ...mem(3),
  ...inc(C, 1),
  BR, 0,
  END, END,
  ...inc(J, 1),
  BR, 0,
  END, END,
  END,
]

function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content]
const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))]

function moduleBytes(): Uint8Array {
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]),
    // The memory is imported so that each classifier sizes its own, once, and views on it never detach.
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 0x00]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('score'), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ])
}

/** The slice of the WebAssembly JS API used here (the project's TypeScript lib has no DOM types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer }
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> }
}

const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly

let compiled: object | null | undefined

/** The compiled module, or null where WebAssembly or its SIMD extension is unavailable. */
function scoreModule(): object | null {
  if (compiled !== undefined) return compiled
  compiled = null
  try {
    const bytes = moduleBytes()
    if (wasm?.validate(bytes)) compiled = new wasm.Module(bytes)
  } catch {
    compiled = null
  }
  return compiled
}

/** The kernel whose memory holds each matrix handed out by {@link weightMatrix}. */
const kernelOf = new WeakMap<Float32Array, ScoreKernel>()

/**
 * A zeroed `nFeatures × nClasses` weight matrix for a classifier to fill: a kernel's weights where WebAssembly SIMD
 * is available (the classifier then adopts the kernel instead of copying the matrix into one), else a plain array.
 */
export function weightMatrix(nFeatures: number, nClasses: number): Float32Array {
  const kernel = ScoreKernel.create(nFeatures, nClasses)
  if (!kernel) return new Float32Array(nFeatures * nClasses)
  kernelOf.set(kernel.weights, kernel)
  return kernel.weights
}

/** The kernel holding `weights` when they came from {@link weightMatrix} with this shape. */
export function kernelHolding(weights: Float32Array, nFeatures: number, nClasses: number): ScoreKernel | undefined {
  const kernel = kernelOf.get(weights)
  return kernel && kernel.nFeatures === nFeatures && kernel.nClasses === nClasses ? kernel : undefined
}

/** Entries of a message copied into the kernel's memory per call; longer messages take several calls. */
const CHUNK = 1024

/**
 * A feature-major `nFeatures × nClasses` float32 weight matrix living in WebAssembly memory, with the scratch the
 * kernel reads a message from and writes scores to. `weights` is a view on that memory (the memory never grows,
 * so the view stays valid).
 */
export class ScoreKernel {
  readonly weights: Float32Array
  private readonly idx: Int32Array
  private readonly val: Float32Array
  private readonly scores: Float64Array
  private readonly idxBase: number
  private readonly valBase: number
  private readonly wBase: number
  private readonly run: (n: number, k: number, w: number, idx: number, val: number, out: number) => void

  private constructor(
    wasmApi: WasmApi,
    module: object,
    readonly nFeatures: number,
    readonly nClasses: number,
  ) {
    const align = (n: number) => Math.ceil(n / 16) * 16
    this.idxBase = align(nClasses * 8)
    this.valBase = this.idxBase + CHUNK * 4
    this.wBase = this.valBase + CHUNK * 4
    const bytes = this.wBase + nFeatures * nClasses * 4
    const memory = new wasmApi.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) })
    const instance = new wasmApi.Instance(module, { env: { mem: memory } })
    this.run = instance.exports.score as ScoreKernel['run']
    const buf = memory.buffer
    this.scores = new Float64Array(buf, 0, nClasses)
    this.idx = new Int32Array(buf, this.idxBase, CHUNK)
    this.val = new Float32Array(buf, this.valBase, CHUNK)
    this.weights = new Float32Array(buf, this.wBase, nFeatures * nClasses)
  }

  /** A kernel with zeroed weights, or undefined where WebAssembly SIMD is unavailable. */
  static create(nFeatures: number, nClasses: number): ScoreKernel | undefined {
    const module = scoreModule()
    if (!module || !wasm) return undefined
    try {
      return new ScoreKernel(wasm, module, nFeatures, nClasses)
    } catch {
      // No memory for it (a 32-bit address space is 4 GiB): the caller keeps its weights in a plain array.
      return undefined
    }
  }

  /**
   * `out[c] = intercept[c] + Σ_j val[j] · W[idx[j]][c]` over the entries of a message whose feature is in range,
   * in entry order.
   */
  score(idx: Int32Array, val: Float32Array, n: number, intercept: Float32Array, out: Float64Array): void {
    const K = this.nClasses
    const F = this.nFeatures
    const scores = this.scores
    for (let c = 0; c < K; c++) scores[c] = intercept[c]!
    let m = 0
    for (let j = 0; j < n; j++) {
      const f = idx[j]!
      if (f >= F) continue
      this.idx[m] = f
      this.val[m] = val[j]!
      if (++m === CHUNK) {
        this.run(m, K, this.wBase, this.idxBase, this.valBase, 0)
        m = 0
      }
    }
    if (m > 0) this.run(m, K, this.wBase, this.idxBase, this.valBase, 0)
    for (let c = 0; c < K; c++) out[c] = scores[c]!
  }
}
