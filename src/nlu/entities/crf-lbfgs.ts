/**
 * Limited-memory BFGS for smooth convex objectives such as the CRF's L2-regularised negative log-likelihood.
 * Two-loop recursion for the direction, a backtracking line search with the Armijo condition and quadratic
 * interpolation, and the stopping rules of CRFsuite: a small gradient relative to the weights, or too little
 * relative improvement of the objective over a window of iterations.
 * @module
 */

/** Writes the gradient at `x` into `grad` and returns the objective at `x`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number

export interface LbfgsOptions {
  /** Number of correction pairs kept. */
  memory: number
  /** Iterations (accepted steps) before giving up. */
  maxIterations: number
  /** Stop when ‖g‖ / max(1, ‖x‖) falls below this. */
  epsilon: number
  /** Stop when the objective improved by less than this fraction over the last `period` iterations. */
  delta: number
  period: number
  /** Called after every accepted step; throw from it to stop (e.g. on abort). */
  onIteration?: (iteration: number, value: number) => void
}

export type LbfgsStop = 'gradient' | 'delta' | 'max-iterations' | 'line-search'

export interface LbfgsResult {
  x: Float64Array
  value: number
  iterations: number
  evaluations: number
  stop: LbfgsStop
}

const ARMIJO = 1e-4
const MAX_LINE_SEARCH = 30

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/** Minimises `f` from `x0` (which is not modified). Deterministic: no randomness anywhere. */
export function minimizeLbfgs(f: Objective, x0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const n = x0.length
  const m = Math.max(1, options.memory)
  const x = Float64Array.from(x0)
  const g = new Float64Array(n)
  const xNew = new Float64Array(n)
  const gNew = new Float64Array(n)
  const d = new Float64Array(n)
  const s = Array.from({ length: m }, () => new Float64Array(n))
  const y = Array.from({ length: m }, () => new Float64Array(n))
  const rho = new Float64Array(m)
  const alpha = new Float64Array(m)
  const history = new Float64Array(options.period + 1)
  let stored = 0
  let head = 0 // next slot to overwrite

  let value = f(x, g)
  let evaluations = 1
  if (!Number.isFinite(value)) return { x, value, iterations: 0, evaluations, stop: 'line-search' }
  history[0] = value
  if (Math.sqrt(dot(g, g)) / Math.max(1, Math.sqrt(dot(x, x))) < options.epsilon) {
    return { x, value, iterations: 0, evaluations, stop: 'gradient' }
  }

  for (let iter = 1; iter <= options.maxIterations; iter++) {
    // Direction d = -H·g by the two-loop recursion over the stored pairs, newest first.
    for (let i = 0; i < n; i++) d[i] = -g[i]!
    for (let k = 0; k < stored; k++) {
      const j = (head - 1 - k + m) % m
      const a = rho[j]! * dot(s[j]!, d)
      alpha[j] = a
      const yj = y[j]!
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * yj[i]!
    }
    if (stored > 0) {
      const j = (head - 1 + m) % m
      const scale = 1 / (rho[j]! * dot(y[j]!, y[j]!))
      for (let i = 0; i < n; i++) d[i] = d[i]! * scale
    }
    for (let k = stored - 1; k >= 0; k--) {
      const j = (head - 1 - k + m) % m
      const b = rho[j]! * dot(y[j]!, d)
      const sj = s[j]!
      const coef = alpha[j]! - b
      for (let i = 0; i < n; i++) d[i] = d[i]! + coef * sj[i]!
    }
    let slope = dot(g, d)
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      stored = 0
      for (let i = 0; i < n; i++) d[i] = -g[i]!
      slope = dot(g, d)
    }

    // First step: unit length along -g; afterwards the quasi-Newton step of 1.
    let step = stored === 0 ? 1 / Math.sqrt(-slope) : 1
    let accepted = false
    let valueNew = value
    for (let ls = 0; ls < MAX_LINE_SEARCH; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * d[i]!
      valueNew = f(xNew, gNew)
      evaluations++
      if (Number.isFinite(valueNew) && valueNew <= value + ARMIJO * step * slope) {
        accepted = true
        break
      }
      // Minimum of the quadratic through f(0), f'(0) and f(step), kept within [0.1, 0.5] of the current step.
      const q = Number.isFinite(valueNew) ? (-slope * step * step) / (2 * (valueNew - value - slope * step)) : 0
      step = Math.min(0.5 * step, Math.max(0.1 * step, q))
    }
    if (!accepted) return { x, value, iterations: iter - 1, evaluations, stop: 'line-search' }

    const sj = s[head]!
    const yj = y[head]!
    for (let i = 0; i < n; i++) {
      sj[i] = xNew[i]! - x[i]!
      yj[i] = gNew[i]! - g[i]!
    }
    const ys = dot(yj, sj)
    x.set(xNew)
    g.set(gNew)
    value = valueNew
    // Keep the pair only when the curvature condition holds, so the inverse Hessian stays positive definite.
    if (ys > 1e-12) {
      rho[head] = 1 / ys
      head = (head + 1) % m
      stored = Math.min(stored + 1, m)
    }
    options.onIteration?.(iter, value)

    if (Math.sqrt(dot(g, g)) / Math.max(1, Math.sqrt(dot(x, x))) < options.epsilon) {
      return { x, value, iterations: iter, evaluations, stop: 'gradient' }
    }
    if (iter >= options.period) {
      const past = history[iter % options.period]!
      if ((past - value) / Math.max(Math.abs(value), 1e-12) < options.delta) {
        return { x, value, iterations: iter, evaluations, stop: 'delta' }
      }
    }
    history[iter % options.period] = value
  }
  return { x, value, iterations: options.maxIterations, evaluations, stop: 'max-iterations' }
}
