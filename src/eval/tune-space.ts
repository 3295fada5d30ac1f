/**
 * The search space of `intentops tune`: parameters addressed by pipeline step and parameter name, each with a list
 * of values or a numeric range; grid expansion, seeded random sampling, and applying a trial's values to a pipeline.
 * @module
 */
import type { PipelineStepConfig, TuneParamConfig } from '../config/schema.js'
import { createError, type SourceLocation } from '../errors.js'
import { createRandom } from './random.js'

export type ParamValue = number | string | boolean

/** One parameter set to one value in a trial. */
export interface Assignment {
  step: string
  param: string
  value: ParamValue
}

/** A space parameter with defaults applied (`log`, `integer`, `steps`). */
export type TuneParam = TuneParamConfig

/** The name a step is addressed by: its `name`, or its `type` when it has none. */
export function stepName(step: PipelineStepConfig): string {
  const name = (step as { name?: unknown }).name
  return typeof name === 'string' && name.length > 0 ? name : step.type
}

/** Index of the step called `name`; throws ERR_TUNE_INVALID_PARAM when there is none or more than one. */
export function findStep(
  pipeline: readonly PipelineStepConfig[],
  name: string,
  param: string,
  location?: SourceLocation,
): number {
  const hits = pipeline.map((s, i) => (stepName(s) === name ? i : -1)).filter((i) => i >= 0)
  const opts = location ? { location } : {}
  if (hits.length === 0) {
    throw createError(
      'ERR_TUNE_INVALID_PARAM',
      {
        param: `${name}.${param}`,
        detail: `the pipeline has no step "${name}"; its steps are ${pipeline.map((s) => `"${stepName(s)}"`).join(', ')}`,
      },
      opts,
    )
  }
  if (hits.length > 1) {
    throw createError(
      'ERR_TUNE_INVALID_PARAM',
      { param: `${name}.${param}`, detail: `${hits.length} steps are called "${name}"; give them distinct \`name\`s` },
      opts,
    )
  }
  return hits[0]!
}

/**
 * Check a space against the pipeline: every step exists, every parameter has values or a usable range. `locate`
 * maps a parameter's index to its position in intentops.yml, for errors.
 */
export function validateSpace(
  params: readonly TuneParam[],
  pipeline: readonly PipelineStepConfig[],
  locate: (index: number) => SourceLocation | undefined = () => undefined,
): void {
  if (params.length === 0) throw createError('ERR_TUNE_NO_PARAMS', {})
  const seen = new Set<string>()
  params.forEach((p, i) => {
    const location = locate(i)
    const opts = location ? { location } : {}
    const key = `${p.step}.${p.param}`
    const fail = (detail: string) => createError('ERR_TUNE_INVALID_PARAM', { param: key, detail }, opts)
    if (p.param === 'type' || p.param === 'name') throw fail(`\`${p.param}\` names the step; it is not a parameter`)
    if (seen.has(key)) throw fail('it is listed twice')
    seen.add(key)
    findStep(pipeline, p.step, p.param, location)
    const hasRange = p.min !== undefined || p.max !== undefined
    if (p.values && hasRange) throw fail('give either `values` or `min`/`max`, not both')
    if (!p.values && !hasRange) throw fail('give `values` to try, or a `min`/`max` range')
    if (hasRange) {
      if (p.min === undefined || p.max === undefined) throw fail('a range needs both `min` and `max`')
      if (!(p.min <= p.max)) throw fail(`the range is empty: min ${p.min} > max ${p.max}`)
      if (p.log && p.min <= 0) throw fail(`a log range must be positive, got min ${p.min}`)
      if (p.integer && Math.ceil(p.min) > Math.floor(p.max)) throw fail('the range holds no integer')
    }
  })
}

/** The values a parameter takes in a grid: its list, or `steps` points spread over its range. */
export function gridValues(p: TuneParam): ParamValue[] {
  if (p.values) return [...p.values]
  const min = p.min!
  const max = p.max!
  const n = p.steps ?? 5
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t = n === 1 ? 0 : i / (n - 1)
    let v = p.log ? Math.exp(Math.log(min) + t * (Math.log(max) - Math.log(min))) : min + t * (max - min)
    if (p.integer) v = Math.round(v)
    else v = Number(v.toPrecision(12))
    out.push(v)
  }
  return [...new Set(out)]
}

/** Every combination, first parameter varying slowest. */
export function gridPoints(params: readonly TuneParam[]): Assignment[][] {
  let points: Assignment[][] = [[]]
  for (const p of params) {
    const values = gridValues(p)
    points = points.flatMap((pt) => values.map((value) => [...pt, { step: p.step, param: p.param, value }]))
  }
  return points
}

function sampleValue(p: TuneParam, random: () => number): ParamValue {
  if (p.values) return p.values[Math.floor(random() * p.values.length)]!
  const min = p.min!
  const max = p.max!
  if (p.integer) {
    const lo = Math.ceil(min)
    const hi = Math.floor(max)
    if (p.log) return Math.min(hi, Math.max(lo, Math.round(Math.exp(Math.log(lo) + random() * Math.log(hi / lo)))))
    return lo + Math.floor(random() * (hi - lo + 1))
  }
  const v = p.log ? Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))) : min + random() * (max - min)
  return Number(v.toPrecision(6))
}

/**
 * `n` random points, reproducible for a seed. Duplicates are skipped while the space has unseen points, so a small
 * discrete space is covered without repeats.
 */
export function randomPoints(params: readonly TuneParam[], n: number, seed: number): Assignment[][] {
  const random = createRandom(seed)
  const out: Assignment[][] = []
  const seen = new Set<string>()
  const discrete = params.every((p) => p.values || p.integer)
  const size = discrete ? gridPointsCount(params) : Infinity
  const target = Math.min(n, size)
  let attempts = 0
  while (out.length < target && attempts < target * 50) {
    attempts++
    const point = params.map((p) => ({ step: p.step, param: p.param, value: sampleValue(p, random) }))
    const key = JSON.stringify(point.map((a) => a.value))
    if (seen.has(key)) continue
    seen.add(key)
    out.push(point)
  }
  return out
}

function gridPointsCount(params: readonly TuneParam[]): number {
  return params.reduce((n, p) => {
    if (p.values) return n * new Set(p.values).size
    return n * (Math.floor(p.max!) - Math.ceil(p.min!) + 1)
  }, 1)
}

/** The pipeline with a trial's values set; the input is not modified. */
export function applyAssignments(
  pipeline: readonly PipelineStepConfig[],
  assignments: readonly Assignment[],
): PipelineStepConfig[] {
  const out = pipeline.map((s) => ({ ...s }))
  for (const a of assignments) {
    const i = findStep(out, a.step, a.param)
    ;(out[i] as Record<string, unknown>)[a.param] = a.value
  }
  return out
}

/**
 * Parse a `--param` flag: `step.param=v1,v2,v3` for values (numbers and booleans are recognised), or
 * `step.param=min..max` for a range, optionally followed by `:log` and/or `:int`.
 * @example
 * parseParamFlag('classifier.C=0.01..100:log') // { step: 'classifier', param: 'C', min: 0.01, max: 100, log: true, ... }
 */
export function parseParamFlag(flag: string): TuneParam {
  const m = /^([^.=\s]+)\.([^=\s]+)=(.+)$/.exec(flag.trim())
  const usage = (detail: string) =>
    createError('ERR_CLI_USAGE', {
      detail: `--param ${flag}: ${detail}. Use step.param=v1,v2 or step.param=min..max[:log][:int]`,
    })
  if (!m) throw usage('expected step.param=values')
  const [, step, param, spec] = m as unknown as [string, string, string, string]
  const range = /^(-?[\d.eE+-]+)\.\.(-?[\d.eE+-]+)((?::(?:log|int))*)$/.exec(spec)
  if (range) {
    const min = Number(range[1])
    const max = Number(range[2])
    if (!Number.isFinite(min) || !Number.isFinite(max)) throw usage('the range ends must be numbers')
    const flags = range[3] ?? ''
    return { step, param, min, max, log: flags.includes(':log'), integer: flags.includes(':int'), steps: 5 }
  }
  const values = spec.split(',').map((raw): ParamValue => {
    const v = raw.trim()
    if (v === 'true') return true
    if (v === 'false') return false
    const n = Number(v)
    return v !== '' && Number.isFinite(n) ? n : v
  })
  if (values.some((v) => v === '')) throw usage('a value is empty')
  return { step, param, values, log: false, integer: false, steps: 5 }
}

/** `step.param=value` for people. */
export function formatAssignment(a: Assignment): string {
  return `${a.step}.${a.param}=${typeof a.value === 'string' ? a.value : JSON.stringify(a.value)}`
}
