import { describe, expect, it } from 'vitest'
import { minimizeLbfgs } from './crf-lbfgs.js'

const options = { memory: 5, maxIterations: 500, epsilon: 1e-8, delta: 1e-14, period: 10 }

describe('minimizeLbfgs', () => {
  it('finds the minimum of an ill-conditioned quadratic', () => {
    // f(x) = Σ c_i (x_i - i)², conditioning 100 (SciPy's L-BFGS-B with 5 pairs needs 89 iterations).
    const c = Float64Array.from({ length: 20 }, (_, i) => 10 ** ((2 * i) / 19))
    const f = (x: Float64Array, g: Float64Array) => {
      let v = 0
      for (let i = 0; i < x.length; i++) {
        const d = x[i]! - i
        v += c[i]! * d * d
        g[i] = 2 * c[i]! * d
      }
      return v
    }
    const x0 = new Float64Array(20)
    const r = minimizeLbfgs(f, x0, options)
    expect(r.stop).toBe('gradient')
    expect(r.iterations).toBeLessThan(200)
    for (let i = 0; i < 20; i++) expect(r.x[i]).toBeCloseTo(i, 5)
    expect(x0.every((v) => v === 0)).toBe(true)
  })

  it('minimises the Rosenbrock function', () => {
    const f = (x: Float64Array, g: Float64Array) => {
      const a = x[0]!
      const b = x[1]!
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a)
      g[1] = 200 * (b - a * a)
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2
    }
    const r = minimizeLbfgs(f, Float64Array.of(-1.2, 1), options)
    expect(r.x[0]).toBeCloseTo(1, 4)
    expect(r.x[1]).toBeCloseTo(1, 4)
    expect(r.value).toBeLessThan(1e-8)
  })

  it('reports every iteration, stops on max iterations, and lets the callback abort', () => {
    const f = (x: Float64Array, g: Float64Array) => {
      g[0] = 4 * x[0]! ** 3
      return x[0]! ** 4
    }
    const seen: number[] = []
    const r = minimizeLbfgs(f, Float64Array.of(3), { ...options, maxIterations: 4, onIteration: (i) => seen.push(i) })
    expect(r.stop).toBe('max-iterations')
    expect(seen).toEqual([1, 2, 3, 4])
    expect(() =>
      minimizeLbfgs(f, Float64Array.of(3), {
        ...options,
        onIteration: () => {
          throw new Error('stop')
        },
      }),
    ).toThrow('stop')
  })

  it('gives up cleanly when the objective is not finite', () => {
    const r = minimizeLbfgs(() => Number.NaN, Float64Array.of(1), options)
    expect(r.stop).toBe('line-search')
    expect(r.iterations).toBe(0)
  })
})
