/**
 * Inference for a linear-chain CRF over BILOU tags: Viterbi, forward-backward in log space, marginals.
 *
 * Sequences are given as state scores `scores[t·L + j]` (the summed feature weights of tag `j` at token `t`);
 * `CrfPotentials` hold the transition, start and end weights. Disallowed BILOU transitions are -∞, so every sum and
 * max runs only over allowed predecessor (or successor) lists. Every log-sum-exp subtracts the maximum of its own
 * terms, so these passes are exact for weights of any magnitude. They are the reference implementation and the
 * fallback; training and prediction normally run the faster kernels of `crf-block.ts`.
 * @module
 */
import { crfEndAllowed, crfStartAllowed, crfTransitionAllowed } from './crf-tags.js'

/** Transition structure and weights of a CRF with `L` tags, ready for inference. */
export interface CrfPotentials {
  /** Number of tags. */
  readonly L: number
  /** Log potentials `trans[i·L + j]` of tag `i` followed by `j`; -∞ when not allowed. */
  readonly trans: Float64Array
  /** Log potentials of starting (ending) with each tag; -∞ when not allowed. */
  readonly start: Float64Array
  readonly end: Float64Array
  /** For tag `j`, its allowed predecessors are `predIdx[predStart[j] … predStart[j+1])`. */
  readonly predStart: Int32Array
  readonly predIdx: Int32Array
  /** For tag `i`, its allowed successors are `succIdx[succStart[i] … succStart[i+1])`. */
  readonly succStart: Int32Array
  readonly succIdx: Int32Array
}

/** Allowed BILOU transitions for `L` tags as predecessor and successor lists. */
export interface CrfStructure {
  readonly L: number
  readonly predStart: Int32Array
  readonly predIdx: Int32Array
  readonly succStart: Int32Array
  readonly succIdx: Int32Array
}

/** The allowed-transition lists of `L` BILOU tags. */
export function crfStructure(L: number): CrfStructure {
  const predStart = new Int32Array(L + 1)
  const succStart = new Int32Array(L + 1)
  const pred: number[] = []
  const succ: number[] = []
  for (let j = 0; j < L; j++) {
    predStart[j] = pred.length
    for (let i = 0; i < L; i++) if (crfTransitionAllowed(i, j)) pred.push(i)
  }
  predStart[L] = pred.length
  for (let i = 0; i < L; i++) {
    succStart[i] = succ.length
    for (let j = 0; j < L; j++) if (crfTransitionAllowed(i, j)) succ.push(j)
  }
  succStart[L] = succ.length
  return { L, predStart, predIdx: Int32Array.from(pred), succStart, succIdx: Int32Array.from(succ) }
}

/**
 * Potentials from raw weights: `trans` is L×L (entries of disallowed transitions are ignored), `start` and `end`
 * have L entries.
 */
export function crfPotentials(
  structure: CrfStructure,
  trans: ArrayLike<number>,
  start: ArrayLike<number>,
  end: ArrayLike<number>,
): CrfPotentials {
  const { L, predStart, predIdx, succStart, succIdx } = structure
  const pot: CrfPotentials = {
    L,
    trans: new Float64Array(L * L).fill(Number.NEGATIVE_INFINITY),
    start: new Float64Array(L),
    end: new Float64Array(L),
    predStart,
    predIdx,
    succStart,
    succIdx,
  }
  for (let j = 0; j < L; j++) {
    pot.start[j] = crfStartAllowed(j) ? start[j]! : Number.NEGATIVE_INFINITY
    pot.end[j] = crfEndAllowed(j) ? end[j]! : Number.NEGATIVE_INFINITY
    for (let k = predStart[j]!; k < predStart[j + 1]!; k++) pot.trans[predIdx[k]! * L + j] = trans[predIdx[k]! * L + j]!
  }
  return pot
}

/**
 * Forward pass: `alpha[t·L + j]` = log of the summed potentials of all prefixes ending in tag `j` at `t`.
 * Returns log Z, the log partition function.
 */
export function crfForward(pot: CrfPotentials, scores: Float64Array, n: number, alpha: Float64Array): number {
  const { L, predStart, predIdx, trans } = pot
  for (let j = 0; j < L; j++) alpha[j] = pot.start[j]! + scores[j]!
  for (let t = 1; t < n; t++) {
    const prev = (t - 1) * L
    const cur = t * L
    for (let j = 0; j < L; j++) {
      let max = Number.NEGATIVE_INFINITY
      for (let k = predStart[j]!; k < predStart[j + 1]!; k++) {
        const i = predIdx[k]!
        max = Math.max(max, alpha[prev + i]! + trans[i * L + j]!)
      }
      let sum = 0
      if (max > Number.NEGATIVE_INFINITY) {
        for (let k = predStart[j]!; k < predStart[j + 1]!; k++) {
          const i = predIdx[k]!
          sum += Math.exp(alpha[prev + i]! + trans[i * L + j]! - max)
        }
      }
      alpha[cur + j] = sum > 0 ? scores[cur + j]! + max + Math.log(sum) : Number.NEGATIVE_INFINITY
    }
  }
  const last = (n - 1) * L
  let max = Number.NEGATIVE_INFINITY
  for (let j = 0; j < L; j++) max = Math.max(max, alpha[last + j]! + pot.end[j]!)
  let sum = 0
  for (let j = 0; j < L; j++) sum += Math.exp(alpha[last + j]! + pot.end[j]! - max)
  return max + Math.log(sum)
}

/**
 * Backward pass: `beta[t·L + i]` = log of the summed potentials of all suffixes after tag `i` at `t`
 * (including the end potential, excluding the score at `t`).
 */
export function crfBackward(pot: CrfPotentials, scores: Float64Array, n: number, beta: Float64Array): void {
  const { L, succStart, succIdx, trans } = pot
  const last = (n - 1) * L
  for (let i = 0; i < L; i++) beta[last + i] = pot.end[i]!
  for (let t = n - 2; t >= 0; t--) {
    const next = (t + 1) * L
    const cur = t * L
    for (let i = 0; i < L; i++) {
      let max = Number.NEGATIVE_INFINITY
      for (let k = succStart[i]!; k < succStart[i + 1]!; k++) {
        const j = succIdx[k]!
        max = Math.max(max, trans[i * L + j]! + scores[next + j]! + beta[next + j]!)
      }
      let sum = 0
      if (max > Number.NEGATIVE_INFINITY) {
        for (let k = succStart[i]!; k < succStart[i + 1]!; k++) {
          const j = succIdx[k]!
          sum += Math.exp(trans[i * L + j]! + scores[next + j]! + beta[next + j]! - max)
        }
      }
      beta[cur + i] = sum > 0 ? max + Math.log(sum) : Number.NEGATIVE_INFINITY
    }
  }
}

/**
 * Viterbi decoding: writes the best tag sequence into `tags` and returns its score. `delta` needs n·L entries and
 * `back` n·L entries. Ties go to the lower tag index, so decoding is deterministic.
 */
export function crfViterbi(
  pot: CrfPotentials,
  scores: Float64Array,
  n: number,
  tags: Uint16Array | Int32Array,
  delta: Float64Array,
  back: Int32Array,
): number {
  const { L, predStart, predIdx, trans } = pot
  for (let j = 0; j < L; j++) delta[j] = pot.start[j]! + scores[j]!
  for (let t = 1; t < n; t++) {
    const prev = (t - 1) * L
    const cur = t * L
    for (let j = 0; j < L; j++) {
      let best = Number.NEGATIVE_INFINITY
      let arg = predIdx[predStart[j]!] ?? 0
      for (let k = predStart[j]!; k < predStart[j + 1]!; k++) {
        const i = predIdx[k]!
        const v = delta[prev + i]! + trans[i * L + j]!
        if (v > best) {
          best = v
          arg = i
        }
      }
      delta[cur + j] = best + scores[cur + j]!
      back[cur + j] = arg
    }
  }
  const last = (n - 1) * L
  let best = Number.NEGATIVE_INFINITY
  let arg = 0
  for (let j = 0; j < L; j++) {
    const v = delta[last + j]! + pot.end[j]!
    if (v > best) {
      best = v
      arg = j
    }
  }
  tags[n - 1] = arg
  for (let t = n - 1; t > 0; t--) {
    arg = back[t * L + arg]!
    tags[t - 1] = arg
  }
  return best
}

/** The unnormalised log score of one tag sequence (-∞ if it takes a disallowed transition). */
export function crfSequenceScore(pot: CrfPotentials, scores: Float64Array, n: number, tags: ArrayLike<number>): number {
  const L = pot.L
  let s = pot.start[tags[0]!]! + scores[tags[0]!]!
  for (let t = 1; t < n; t++) s += pot.trans[tags[t - 1]! * L + tags[t]!]! + scores[t * L + tags[t]!]!
  return s + pot.end[tags[n - 1]!]!
}

/**
 * Log probability that tokens `first … last` carry exactly `tags[first … last]`, from forward and backward values:
 * the exact joint marginal of a span's tags, used as an entity's confidence.
 */
export function crfSpanLogProb(
  pot: CrfPotentials,
  scores: Float64Array,
  alpha: Float64Array,
  beta: Float64Array,
  logZ: number,
  tags: ArrayLike<number>,
  first: number,
  last: number,
): number {
  const L = pot.L
  let s = alpha[first * L + tags[first]!]!
  for (let t = first + 1; t <= last; t++) s += pot.trans[tags[t - 1]! * L + tags[t]!]! + scores[t * L + tags[t]!]!
  return s + beta[last * L + tags[last]!]! - logZ
}

/**
 * Adds the expected transition counts of one sequence to `transOut[k]` (k indexes the allowed transitions in
 * predecessor order, as `predIdx`), and writes the node marginals P(y_t = j) to `nodeOut[t·L + j]`.
 */
export function crfExpectations(
  pot: CrfPotentials,
  scores: Float64Array,
  n: number,
  alpha: Float64Array,
  beta: Float64Array,
  logZ: number,
  nodeOut: Float64Array,
  transOut: Float64Array,
): void {
  const { L, predStart, predIdx, trans } = pot
  for (let k = 0; k < n * L; k++) nodeOut[k] = Math.exp(alpha[k]! + beta[k]! - logZ)
  for (let t = 1; t < n; t++) {
    const prev = (t - 1) * L
    const cur = t * L
    for (let j = 0; j < L; j++) {
      const right = scores[cur + j]! + beta[cur + j]! - logZ
      for (let k = predStart[j]!; k < predStart[j + 1]!; k++) {
        const i = predIdx[k]!
        transOut[k] = transOut[k]! + Math.exp(alpha[prev + i]! + trans[i * L + j]! + right)
      }
    }
  }
}
