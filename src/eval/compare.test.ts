import { describe, expect, it } from 'vitest'
import { syntheticPredictions } from '../../test/helpers/eval-fixtures.js'
import { compareReports } from './compare.js'
import { buildReport } from './evaluate.js'
import { renderComparisonMarkdown } from './render/compare-markdown.js'
import type { Prediction } from './types.js'

const base = syntheticPredictions(10, 30, 4)
const intents = [...new Set(base.map((p) => p.gold))]
const report = (preds: Prediction[], fingerprint = 'sha256:test') =>
  buildReport(preds, { testSetFingerprint: fingerprint, createdAt: '2024-01-01T00:00:00.000Z' })

describe('compareReports', () => {
  it('finds no significant difference between identical predictions', () => {
    const c = compareReports(report(base), report(base))
    expect(c.verdict).toBe('no significant difference')
    expect(c.changes).toMatchObject({ fixed: [], broken: [], changedStillWrong: [], unchanged: base.length })
    expect(c.perIntent.every((r) => r.status === 'unchanged')).toBe(true)
    expect(c.overall.find((m) => m.metric === 'macro F1')!.delta).toBe(0)
  })

  it('reports an intent the candidate no longer recognises as broken, first, and the difference as significant', () => {
    const victim = intents[3]!
    const other = intents[4]!
    let fixedOne = false
    const b = base.map((p) => {
      if (p.gold === victim) return { ...p, predicted: other, top: other }
      if (!fixedOne && p.predicted !== p.gold && p.gold !== victim) {
        fixedOne = true
        return { ...p, predicted: p.gold, top: p.gold }
      }
      return p
    })
    const c = compareReports(report(base), report(b), { labelA: 'prod.model', labelB: 'cand.model' })
    expect(c.perIntent[0]).toMatchObject({ intent: victim, status: 'broken' })
    expect(c.perIntent[0]!.b!.recall).toBe(0)
    expect(c.perIntent[0]!.broken).toBe(base.filter((p) => p.gold === victim && p.predicted === victim).length)
    expect(c.changes.fixed).toHaveLength(1)
    expect(c.changes.broken.every((x) => x.gold === victim)).toBe(true)
    expect(c.mcnemar.pValue).toBeLessThan(0.001)
    expect(c.verdict).toBe('B is significantly worse')
    const md = renderComparisonMarkdown(c)
    expect(md).toContain('B is significantly worse')
    expect(md).toContain(`\`${victim}\` | 🔴 broken`)
    expect(md.indexOf('broken')).toBeLessThan(md.indexOf('<details>'))
  })

  it('separates fixed, broken and changed-but-still-wrong predictions', () => {
    const wrong = base.filter((p) => p.predicted !== p.gold)
    const right = base.filter((p) => p.predicted === p.gold)
    const changes = new Map<string, Partial<Prediction>>([
      [wrong[0]!.id, { predicted: wrong[0]!.gold }],
      [right[0]!.id, { predicted: 'something_else' }],
      [wrong[1]!.id, { predicted: 'yet_another' }],
    ])
    const b = base.map((p) => ({ ...p, ...(changes.get(p.id) ?? {}) }))
    const c = compareReports(report(base), report(b))
    expect(c.changes.fixed.map((x) => x.id)).toEqual([wrong[0]!.id])
    expect(c.changes.broken.map((x) => x.id)).toEqual([right[0]!.id])
    expect(c.changes.changedStillWrong.map((x) => x.id)).toEqual([wrong[1]!.id])
    expect(c.mcnemar).toMatchObject({ method: 'exact', aOnly: 1, bOnly: 1, pValue: 1 })
    expect(c.perIntent.find((r) => r.intent === 'something_else')?.status).toBe('new')
  })

  it('refuses reports from different test sets', () => {
    expect(() => compareReports(report(base, 'sha256:aaa'), report(base, 'sha256:bbb'))).toThrow(
      expect.objectContaining({ code: 'ERR_EVAL_TEST_SET_MISMATCH' }),
    )
  })
})
