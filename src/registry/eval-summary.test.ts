import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evalSummary, trainedModelBytes } from '../../test/helpers/registry.js'
import { evaluate } from '../eval/evaluate.js'
import { summarize } from '../eval/summary.js'
import type { EvalReport } from '../eval/types.js'
import { decodeModel } from '../nlu/model-file.js'
import { toyTrainingData } from '../nlu/testing.js'
import { assertEvaluates, readEvaluation } from './eval-summary.js'
import { trainingLineage } from './model-lineage.js'

let dir: string
let report: EvalReport
let lineage: ReturnType<typeof trainingLineage>
const file = (name: string, content: unknown) => {
  const p = path.join(dir, name)
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content))
  return p
}

describe('reading --eval files', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'io-evalfile-'))
    const { bytes, manifest } = await trainedModelBytes()
    report = await evaluate(decodeModel(bytes), toyTrainingData().examples)
    lineage = trainingLineage(manifest)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('summarizes an `intentops test` report and remembers which model it evaluated', async () => {
    const evaluation = await readEvaluation(file('report.json', report))
    expect(evaluation.summary).toEqual(summarize(report))
    expect(evaluation.model).toEqual({
      dataFingerprint: lineage.dataFingerprint,
      configFingerprint: lineage.configFingerprint,
      trainedAt: lineage.trainedAt,
    })
    expect(() => assertEvaluates(evaluation, lineage, 'bot.iom')).not.toThrow()
  })

  it('refuses to attach a report to another model', async () => {
    const evaluation = await readEvaluation(file('report.json', report))
    const other = { ...lineage, trainedAt: '2020-01-01T00:00:00.000Z', dataFingerprint: 'sha256:other' }
    expect(() => assertEvaluates(evaluation, other, 'bot v2')).toThrow(
      expect.objectContaining({
        code: 'ERR_REGISTRY_EVAL_MISMATCH',
        message: expect.stringMatching(/evaluates another model than bot v2: trained at .*, not 2020-01-01.*; data /),
      }),
    )
  })

  it('accepts a bare summary or a `summary` member, which name no model', async () => {
    const bare = await readEvaluation(file('bare.json', evalSummary(0.9)))
    expect(bare).toMatchObject({ summary: { macroF1: 0.9 }, model: null })
    const wrapped = await readEvaluation(file('wrapped.json', { summary: evalSummary(0.7), note: 'from CI' }))
    expect(wrapped.summary.macroF1).toBe(0.7)
    expect(() => assertEvaluates(bare, lineage, 'x')).not.toThrow()
  })

  it('explains files that are not evaluations', async () => {
    await expect(readEvaluation(file('text.json', 'macro f1 = 0.9'))).rejects.toMatchObject({
      code: 'ERR_REGISTRY_EVAL_INVALID',
      message: expect.stringContaining('not valid JSON'),
    })
    await expect(readEvaluation(file('partial.json', { accuracy: 0.9, macroF1: 2 }))).rejects.toMatchObject({
      code: 'ERR_REGISTRY_EVAL_INVALID',
    })
    await expect(readEvaluation(file('old.json', { ...report, formatVersion: 99 }))).rejects.toMatchObject({
      code: 'ERR_EVAL_BAD_REPORT',
    })
    await expect(readEvaluation(path.join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' })
  })
})
