/**
 * Promotion gates: the policy of `gates` in `intentops.yml`, evaluated against the candidate's evaluation summary
 * and the current alias holder's, on the same test set. The result has one entry per rule, each passed, failed or
 * skipped (not configured, or not applicable) with the reason in words.
 * @module
 */
import type { GateConfig } from '../config/schema.js'
import type { EvalSummary } from '../eval/types.js'

export type GateRuleStatus = 'pass' | 'fail' | 'skip'

/** The outcome of one rule, with the reason in words and the numbers compared. */
export interface GateRuleResult {
  /** `evaluation`, `sameTestSet`, or the policy key: `minMacroF1`, `minDelta`, `mustPass`, ... */
  rule: string
  status: GateRuleStatus
  reason: string
  actual?: number | string | null
  limit?: number | string | null
}

/** The outcome of a gate: passed only when no rule failed. */
export interface GateResult {
  passed: boolean
  rules: GateRuleResult[]
  candidate: { version: number | null }
  /** The holder the candidate was compared with; null when the alias had none. */
  baseline: { version: number | null } | null
}

/** The version that wants the alias. */
export interface GateCandidate {
  version?: number | null
  /** Its evaluation summary; null when none was given (the gate then fails). */
  summary: EvalSummary | null
  /** Size of the model file. */
  modelBytes: number
}

/** The alias's current holder. */
export interface GateBaseline {
  version?: number | null
  summary: EvalSummary | null
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4).replace(/0+$/, '').replace(/\.$/, ''))

/**
 * Evaluate a gate policy. Pure: no IO.
 * @param baseline the current holder of the alias, or null when the alias has none (relative rules then pass)
 * @example
 * const result = evaluateGate(config.gates, { summary: candidateEval, modelBytes: 120_000 }, { summary: prodEval })
 * if (!result.passed) for (const r of result.rules) if (r.status === 'fail') console.log(r.rule, r.reason)
 */
export function evaluateGate(policy: GateConfig, candidate: GateCandidate, baseline: GateBaseline | null): GateResult {
  const rules: GateRuleResult[] = []
  const add = (r: GateRuleResult) => rules.push(r)
  const c = candidate.summary
  const b = baseline?.summary ?? null
  const holder = baseline ? `v${baseline.version ?? '?'}` : ''

  add(
    c
      ? { rule: 'evaluation', status: 'pass', reason: 'the candidate has an evaluation summary' }
      : {
          rule: 'evaluation',
          status: 'fail',
          reason: 'the candidate has no evaluation: publish it with --eval report.json or pass --eval to promote',
        },
  )

  // Relative rules compare only summaries of the same test set.
  let comparable = false
  if (!baseline) {
    add({ rule: 'sameTestSet', status: 'skip', reason: 'the alias has no current holder to compare with' })
  } else if (!c) {
    add({ rule: 'sameTestSet', status: 'skip', reason: 'no candidate evaluation' })
  } else if (!b) {
    add({
      rule: 'sameTestSet',
      status: 'fail',
      reason: `the current holder ${holder} has no evaluation: evaluate it on the same test set and pass --baseline-eval`,
    })
  } else if (!c.testSetFingerprint || !b.testSetFingerprint) {
    add({
      rule: 'sameTestSet',
      status: 'fail',
      reason: 'an evaluation has no test-set fingerprint, so it cannot be shown that both used the same test set',
      actual: c.testSetFingerprint ?? null,
      limit: b.testSetFingerprint ?? null,
    })
  } else if (c.testSetFingerprint !== b.testSetFingerprint) {
    add({
      rule: 'sameTestSet',
      status: 'fail',
      reason: `the candidate and ${holder} were evaluated on different test sets: evaluate both on one and pass --baseline-eval`,
      actual: c.testSetFingerprint,
      limit: b.testSetFingerprint,
    })
  } else {
    comparable = true
    add({
      rule: 'sameTestSet',
      status: 'pass',
      reason: `both evaluated on test set ${c.testSetFingerprint.slice(0, 19)}`,
      actual: c.testSetFingerprint,
    })
  }

  const minimum = (rule: 'minMacroF1' | 'minAccuracy', label: string, value: number | undefined) => {
    const limit = policy[rule]
    if (limit === undefined) return add({ rule, status: 'skip', reason: 'not configured' })
    if (value === undefined) return add({ rule, status: 'fail', reason: 'no candidate evaluation', limit })
    const ok = value >= limit
    add({
      rule,
      status: ok ? 'pass' : 'fail',
      reason: `${label} ${fmt(value)} ${ok ? '>=' : '<'} ${fmt(limit)}`,
      actual: value,
      limit,
    })
  }
  minimum('minMacroF1', 'macro-F1', c?.macroF1)
  minimum('minAccuracy', 'accuracy', c?.accuracy)

  // minDelta: the candidate must beat the holder, strictly, by more than the delta.
  if (!baseline) {
    add({
      rule: 'minDelta',
      status: 'pass',
      reason: 'first holder of the alias: nothing to beat',
      limit: policy.minDelta,
    })
  } else if (!comparable || !c || !b) {
    add({
      rule: 'minDelta',
      status: 'fail',
      reason: 'no comparable evaluations (see sameTestSet)',
      limit: policy.minDelta,
    })
  } else {
    const delta = c.macroF1 - b.macroF1
    const ok = delta > policy.minDelta
    add({
      rule: 'minDelta',
      status: ok ? 'pass' : 'fail',
      reason: `macro-F1 ${fmt(c.macroF1)} vs ${fmt(b.macroF1)} of ${holder}: ${delta >= 0 ? '+' : ''}${fmt(delta)} ${
        ok ? '>' : '<='
      } ${fmt(policy.minDelta)}`,
      actual: delta,
      limit: policy.minDelta,
    })
  }

  if (policy.maxIntentF1Drop === undefined) {
    add({ rule: 'maxIntentF1Drop', status: 'skip', reason: 'not configured' })
  } else if (!baseline) {
    add({ rule: 'maxIntentF1Drop', status: 'pass', reason: 'first holder of the alias', limit: policy.maxIntentF1Drop })
  } else if (!comparable || !c || !b) {
    add({
      rule: 'maxIntentF1Drop',
      status: 'fail',
      reason: 'no comparable evaluations (see sameTestSet)',
      limit: policy.maxIntentF1Drop,
    })
  } else {
    const limit = policy.maxIntentF1Drop
    let worst: { intent: string; drop: number } | undefined
    const offenders: string[] = []
    for (const [intent, before] of Object.entries(b.perIntent)) {
      // An intent the candidate no longer knows has dropped to F1 0.
      const after = c.perIntent[intent]?.f1 ?? 0
      const drop = before.f1 - after
      if (!worst || drop > worst.drop) worst = { intent, drop }
      if (drop > limit + 1e-12) offenders.push(`${intent} ${fmt(before.f1)} → ${fmt(after)}`)
    }
    add(
      offenders.length > 0
        ? {
            rule: 'maxIntentF1Drop',
            status: 'fail',
            reason: `F1 dropped by more than ${fmt(limit)}: ${offenders.join(', ')}`,
            actual: worst?.drop ?? 0,
            limit,
          }
        : {
            rule: 'maxIntentF1Drop',
            status: 'pass',
            reason: worst
              ? `largest drop ${fmt(Math.max(0, worst.drop))} (${worst.intent}) <= ${fmt(limit)}`
              : 'the holder has no per-intent scores',
            actual: Math.max(0, worst?.drop ?? 0),
            limit,
          },
    )
  }

  if (!policy.mustPass) {
    add({ rule: 'mustPass', status: 'skip', reason: 'not required (gates.mustPass: false)' })
  } else if (!c) {
    add({ rule: 'mustPass', status: 'fail', reason: 'no candidate evaluation' })
  } else if (!c.mustPass || c.mustPass.total === 0) {
    add({ rule: 'mustPass', status: 'pass', reason: 'the evaluation has no must-pass sentences', actual: 0 })
  } else {
    const m = c.mustPass
    const ok = m.failedRequired === 0
    add({
      rule: 'mustPass',
      status: ok ? 'pass' : 'fail',
      reason: ok
        ? `${m.passed}/${m.total} must-pass sentences pass${m.failed > 0 ? ` (${m.failed} allowed to fail)` : ''}`
        : `${m.failedRequired} required must-pass sentence${m.failedRequired === 1 ? '' : 's'} failed`,
      actual: m.failedRequired,
      limit: 0,
    })
  }

  if (policy.maxModelBytes === undefined) {
    add({ rule: 'maxModelBytes', status: 'skip', reason: 'not configured' })
  } else {
    const ok = candidate.modelBytes <= policy.maxModelBytes
    add({
      rule: 'maxModelBytes',
      status: ok ? 'pass' : 'fail',
      reason: `model file ${candidate.modelBytes} bytes ${ok ? '<=' : '>'} ${policy.maxModelBytes}`,
      actual: candidate.modelBytes,
      limit: policy.maxModelBytes,
    })
  }

  if (policy.maxLatencyP99Ms === undefined) {
    add({ rule: 'maxLatencyP99Ms', status: 'skip', reason: 'not configured' })
  } else if (c?.latencyP99Ms === undefined) {
    add({
      rule: 'maxLatencyP99Ms',
      status: 'fail',
      reason: 'the evaluation measured no p99 latency',
      limit: policy.maxLatencyP99Ms,
    })
  } else {
    const ok = c.latencyP99Ms <= policy.maxLatencyP99Ms
    add({
      rule: 'maxLatencyP99Ms',
      status: ok ? 'pass' : 'fail',
      reason: `p99 latency ${fmt(c.latencyP99Ms)} ms ${ok ? '<=' : '>'} ${fmt(policy.maxLatencyP99Ms)} ms`,
      actual: c.latencyP99Ms,
      limit: policy.maxLatencyP99Ms,
    })
  }

  return {
    passed: rules.every((r) => r.status !== 'fail'),
    rules,
    candidate: { version: candidate.version ?? null },
    baseline: baseline ? { version: baseline.version ?? null } : null,
  }
}

/** One line per failed rule, for messages. */
export function failedRules(result: GateResult): string[] {
  return result.rules.filter((r) => r.status === 'fail').map((r) => `${r.rule}: ${r.reason}`)
}
