/**
 * Sparse rows on typed arrays: CSR matrices for training, and a reusable sparse vector for one message on the
 * predict path.
 * @module
 */

/** Compressed sparse rows: row `r` holds `indices/values[indptr[r]..indptr[r+1])`. */
export interface CsrMatrix {
  rows: number
  cols: number
  indptr: Int32Array
  indices: Int32Array
  values: Float32Array
}

/** A growable sparse vector that is cleared and refilled for each message, so predicting allocates nothing. */
export class SparseVector {
  idx: Int32Array
  val: Float32Array
  n = 0

  constructor(capacity = 256) {
    this.idx = new Int32Array(capacity)
    this.val = new Float32Array(capacity)
  }

  clear(): void {
    this.n = 0
  }

  push(index: number, value: number): void {
    if (this.n === this.idx.length) {
      const idx = new Int32Array(this.idx.length * 2)
      idx.set(this.idx)
      const val = new Float32Array(this.val.length * 2)
      val.set(this.val)
      this.idx = idx
      this.val = val
    }
    this.idx[this.n] = index
    this.val[this.n] = value
    this.n++
  }

  /** The squared L2 norm of entries `[from, n)`. */
  sumSquares(from = 0): number {
    let s = 0
    for (let i = from; i < this.n; i++) s += this.val[i]! * this.val[i]!
    return s
  }

  /** Multiply entries `[from, n)` by `factor`. */
  scale(factor: number, from = 0): void {
    for (let i = from; i < this.n; i++) this.val[i]! *= factor
  }
}

/** Builds a CSR matrix row by row. */
export class CsrBuilder {
  private indices: Int32Array
  private values: Float32Array
  private readonly indptr: Int32Array
  private nnz = 0
  private row = 0

  constructor(
    readonly rows: number,
    readonly cols: number,
    expectedNnz = rows * 16,
  ) {
    this.indptr = new Int32Array(rows + 1)
    this.indices = new Int32Array(Math.max(16, expectedNnz))
    this.values = new Float32Array(Math.max(16, expectedNnz))
  }

  /** Append entries `[from, to)` of `v` as the next row, adding `offset` to every index. */
  pushRow(v: SparseVector, from = 0, to = v.n, offset = 0): void {
    const need = this.nnz + (to - from)
    if (need > this.indices.length) {
      let cap = this.indices.length * 2
      while (cap < need) cap *= 2
      const i2 = new Int32Array(cap)
      i2.set(this.indices.subarray(0, this.nnz))
      const v2 = new Float32Array(cap)
      v2.set(this.values.subarray(0, this.nnz))
      this.indices = i2
      this.values = v2
    }
    for (let i = from; i < to; i++) {
      this.indices[this.nnz] = v.idx[i]! + offset
      this.values[this.nnz] = v.val[i]!
      this.nnz++
    }
    this.row++
    this.indptr[this.row] = this.nnz
  }

  build(): CsrMatrix {
    if (this.row !== this.rows) throw new RangeError(`CsrBuilder: ${this.row} of ${this.rows} rows pushed`)
    return {
      rows: this.rows,
      cols: this.cols,
      indptr: this.indptr,
      indices: this.indices.slice(0, this.nnz),
      values: this.values.slice(0, this.nnz),
    }
  }
}

/** Concatenate matrices with equal row counts side by side. */
export function hstack(blocks: readonly CsrMatrix[]): CsrMatrix {
  const rows = blocks[0]?.rows ?? 0
  let cols = 0
  let nnz = 0
  for (const b of blocks) {
    if (b.rows !== rows) throw new RangeError('hstack: row counts differ')
    cols += b.cols
    nnz += b.indices.length
  }
  const indptr = new Int32Array(rows + 1)
  const indices = new Int32Array(nnz)
  const values = new Float32Array(nnz)
  let k = 0
  for (let r = 0; r < rows; r++) {
    let offset = 0
    for (const b of blocks) {
      for (let j = b.indptr[r]!, end = b.indptr[r + 1]!; j < end; j++) {
        indices[k] = b.indices[j]! + offset
        values[k] = b.values[j]!
        k++
      }
      offset += b.cols
    }
    indptr[r + 1] = k
  }
  return { rows, cols, indptr, indices, values }
}

/** The rows of `m` listed in `rowIds`, in that order. */
export function selectRows(m: CsrMatrix, rowIds: ArrayLike<number>): CsrMatrix {
  let nnz = 0
  for (let i = 0; i < rowIds.length; i++) nnz += m.indptr[rowIds[i]! + 1]! - m.indptr[rowIds[i]!]!
  const indptr = new Int32Array(rowIds.length + 1)
  const indices = new Int32Array(nnz)
  const values = new Float32Array(nnz)
  let k = 0
  for (let i = 0; i < rowIds.length; i++) {
    const r = rowIds[i]!
    const a = m.indptr[r]!
    const b = m.indptr[r + 1]!
    indices.set(m.indices.subarray(a, b), k)
    values.set(m.values.subarray(a, b), k)
    k += b - a
    indptr[i + 1] = k
  }
  return { rows: rowIds.length, cols: m.cols, indptr, indices, values }
}

/** Row `r` of `m` copied into `out` (cleared first). */
export function rowToVector(m: CsrMatrix, r: number, out: SparseVector): SparseVector {
  out.clear()
  for (let j = m.indptr[r]!, end = m.indptr[r + 1]!; j < end; j++) out.push(m.indices[j]!, m.values[j]!)
  return out
}
