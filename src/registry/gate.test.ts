import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import type { GateConfig } from '../config/schema.js'
import type { EvalSummary } from '../eval/types.js'
import { evaluateGate, failedRules } from './gate.js'

const summary = (macroF1: number, extra: Partial<EvalSummary> = {}): EvalSummary => ({
  testSetFingerprint: 'sha256:test-a',
  accuracy: macroF1,
  macroF1,
  weightedF1: macroF1,
  perIntent: {
    greet: { precision: 1, recall: 1, f1: 0.95, support: 10 },
    refund: { precision: 0.8, recall: 0.8, f1: macroF1, support: 10 },
  },
  mustPass: { total: 4, passed: 4, failed: 0, failedRequired: 0 },
  latencyP99Ms: 2,
  ...extra,
})
const policy = (p: Partial<GateConfig> = {}): GateConfig => ({ ...defaultConfig().gates, ...p })
const rule = (r: ReturnType<typeof evaluateGate>, name: string) => r.rules.find((x) => x.rule === name)!

describe('evaluateGate', () => {
  it('passes a first promotion on absolute rules alone and reports every rule', () => {
    const r = evaluateGate(policy({ minMacroF1: 0.8 }), { version: 1, summary: summary(0.85), modelBytes: 100 }, null)
    expect(r.passed).toBe(true)
    expect(r.rules.map((x) => x.rule)).toEqual([
      'evaluation',
      'sameTestSet',
      'minMacroF1',
      'minAccuracy',
      'minDelta',
      'maxIntentF1Drop',
      'mustPass',
      'maxModelBytes',
      'maxLatencyP99Ms',
    ])
    expect(rule(r, 'minMacroF1')).toMatchObject({ status: 'pass', actual: 0.85, limit: 0.8 })
    expect(rule(r, 'minAccuracy').status).toBe('skip')
    expect(rule(r, 'minDelta').status).toBe('pass')
    expect(r.baseline).toBeNull()
  })

  it('requires the candidate to beat the holder strictly by more than minDelta', () => {
    const base = { version: 1, summary: summary(0.8) }
    expect(evaluateGate(policy(), { summary: summary(0.81), modelBytes: 1 }, base).passed).toBe(true)
    const equal = evaluateGate(policy(), { summary: summary(0.8), modelBytes: 1 }, base)
    expect(equal.passed).toBe(false)
    expect(rule(equal, 'minDelta')).toMatchObject({ status: 'fail', actual: 0 })
    expect(rule(equal, 'minDelta').reason).toContain('v1')
    const small = evaluateGate(policy({ minDelta: 0.02 }), { summary: summary(0.81), modelBytes: 1 }, base)
    expect(rule(small, 'minDelta').status).toBe('fail')
    expect(failedRules(small)).toEqual([
      expect.stringMatching(/^minDelta: macro-F1 0\.81 vs 0\.8 of v1: \+0\.01 <= 0\.02/),
    ])
  })

  it('refuses to compare evaluations of different or unknown test sets', () => {
    const other = evaluateGate(
      policy(),
      { summary: summary(0.9, { testSetFingerprint: 'sha256:test-b' }), modelBytes: 1 },
      { version: 3, summary: summary(0.5) },
    )
    expect(other.passed).toBe(false)
    expect(rule(other, 'sameTestSet')).toMatchObject({
      status: 'fail',
      actual: 'sha256:test-b',
      limit: 'sha256:test-a',
    })
    expect(rule(other, 'minDelta').status).toBe('fail')
    const unknown = evaluateGate(
      policy(),
      { summary: summary(0.9, { testSetFingerprint: undefined }), modelBytes: 1 },
      { version: 3, summary: summary(0.5) },
    )
    expect(rule(unknown, 'sameTestSet').status).toBe('fail')
    const noBaselineEval = evaluateGate(
      policy(),
      { summary: summary(0.9), modelBytes: 1 },
      { version: 3, summary: null },
    )
    expect(rule(noBaselineEval, 'sameTestSet').reason).toContain('--baseline-eval')
    expect(noBaselineEval.passed).toBe(false)
  })

  it('fails without a candidate evaluation', () => {
    const r = evaluateGate(policy(), { summary: null, modelBytes: 1 }, null)
    expect(r.passed).toBe(false)
    expect(rule(r, 'evaluation').status).toBe('fail')
    expect(rule(r, 'mustPass').status).toBe('fail')
  })

  it('names every intent whose F1 dropped too far, including intents the candidate lost', () => {
    const candidate = summary(0.9, {
      perIntent: { refund: { precision: 1, recall: 1, f1: 0.9, support: 10 } },
    })
    const r = evaluateGate(
      policy({ maxIntentF1Drop: 0.05 }),
      { summary: candidate, modelBytes: 1 },
      {
        version: 1,
        summary: summary(0.8),
      },
    )
    expect(rule(r, 'maxIntentF1Drop')).toMatchObject({ status: 'fail', actual: 0.95, limit: 0.05 })
    expect(rule(r, 'maxIntentF1Drop').reason).toContain('greet 0.95 → 0')
    const fine = evaluateGate(
      policy({ maxIntentF1Drop: 0.05 }),
      { summary: summary(0.85), modelBytes: 1 },
      {
        version: 1,
        summary: summary(0.8),
      },
    )
    expect(rule(fine, 'maxIntentF1Drop').status).toBe('pass')
  })

  it('fails on required must-pass failures but not on allowed ones', () => {
    const failing = summary(0.9, { mustPass: { total: 5, passed: 3, failed: 2, failedRequired: 1 } })
    const r = evaluateGate(policy(), { summary: failing, modelBytes: 1 }, null)
    expect(rule(r, 'mustPass')).toMatchObject({
      status: 'fail',
      actual: 1,
      reason: '1 required must-pass sentence failed',
    })
    const allowed = summary(0.9, { mustPass: { total: 5, passed: 4, failed: 1, failedRequired: 0 } })
    expect(rule(evaluateGate(policy(), { summary: allowed, modelBytes: 1 }, null), 'mustPass').status).toBe('pass')
    expect(
      rule(evaluateGate(policy({ mustPass: false }), { summary: failing, modelBytes: 1 }, null), 'mustPass').status,
    ).toBe('skip')
  })

  it('bounds model size and p99 latency, and fails when latency was not measured', () => {
    const p = policy({ maxModelBytes: 1000, maxLatencyP99Ms: 5 })
    expect(evaluateGate(p, { summary: summary(0.9), modelBytes: 1000 }, null).passed).toBe(true)
    const big = evaluateGate(p, { summary: summary(0.9), modelBytes: 1001 }, null)
    expect(rule(big, 'maxModelBytes')).toMatchObject({ status: 'fail', actual: 1001, limit: 1000 })
    const slow = evaluateGate(p, { summary: summary(0.9, { latencyP99Ms: 7.5 }), modelBytes: 1 }, null)
    expect(rule(slow, 'maxLatencyP99Ms')).toMatchObject({ status: 'fail', reason: 'p99 latency 7.5 ms > 5 ms' })
    const unmeasured = evaluateGate(p, { summary: summary(0.9, { latencyP99Ms: undefined }), modelBytes: 1 }, null)
    expect(rule(unmeasured, 'maxLatencyP99Ms').status).toBe('fail')
  })
})
