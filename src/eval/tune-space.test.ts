import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { PipelineStepConfig } from '../config/schema.js'
import { parseConfig } from '../project/config.js'
import {
  applyAssignments,
  gridPoints,
  gridValues,
  parseParamFlag,
  randomPoints,
  type TuneParam,
  validateSpace,
} from './tune-space.js'
import { writeBestConfig } from './tune-write.js'

const pipeline: Array<PipelineStepConfig & Record<string, unknown>> = [
  { type: 'tfidf', ngramMax: 2 },
  { type: 'logistic_regression', name: 'classifier', C: 1 },
]
const p = (x: Partial<TuneParam> & { step: string; param: string }): TuneParam => ({
  log: false,
  integer: false,
  steps: 5,
  ...x,
})

describe('search space', () => {
  it('spreads ranges linearly, on a log scale, and over integers', () => {
    expect(gridValues(p({ step: 's', param: 'x', min: 0, max: 1, steps: 5 }))).toEqual([0, 0.25, 0.5, 0.75, 1])
    expect(gridValues(p({ step: 's', param: 'x', min: 0.01, max: 100, log: true, steps: 5 }))).toEqual([
      0.01, 0.1, 1, 10, 100,
    ])
    expect(gridValues(p({ step: 's', param: 'x', min: 1, max: 3, integer: true, steps: 5 }))).toEqual([1, 2, 3])
  })

  it('expands a grid to every combination', () => {
    const pts = gridPoints([
      p({ step: 'tfidf', param: 'ngramMax', values: [1, 2, 3] }),
      p({ step: 'classifier', param: 'C', values: [0.1, 1] }),
    ])
    expect(pts).toHaveLength(6)
    expect(pts[1]).toEqual([
      { step: 'tfidf', param: 'ngramMax', value: 1 },
      { step: 'classifier', param: 'C', value: 1 },
    ])
  })

  it('samples randomly, reproducibly for a seed, without repeats in a small discrete space', () => {
    const space = [
      p({ step: 'classifier', param: 'C', min: 0.001, max: 1000, log: true }),
      p({ step: 'tfidf', param: 'ngramMax', values: [1, 2] }),
    ]
    expect(randomPoints(space, 8, 3)).toEqual(randomPoints(space, 8, 3))
    expect(randomPoints(space, 8, 3)).not.toEqual(randomPoints(space, 8, 4))
    for (const pt of randomPoints(space, 50, 1)) {
      expect(pt[0]!.value).toBeGreaterThanOrEqual(0.001)
      expect(pt[0]!.value).toBeLessThanOrEqual(1000)
    }
    const small = randomPoints([p({ step: 'tfidf', param: 'ngramMax', values: [1, 2, 3] })], 10, 1)
    expect(small.map((x) => x[0]!.value).sort()).toEqual([1, 2, 3])
  })

  it('applies a trial to a copy of the pipeline, addressing steps by name or type', () => {
    const out = applyAssignments(pipeline, [
      { step: 'classifier', param: 'C', value: 10 },
      { step: 'tfidf', param: 'ngramMax', value: 3 },
    ])
    expect(out).toEqual([
      { type: 'tfidf', ngramMax: 3 },
      { type: 'logistic_regression', name: 'classifier', C: 10 },
    ])
    expect(pipeline[1]).toEqual({ type: 'logistic_regression', name: 'classifier', C: 1 })
  })

  it('rejects unknown steps, missing values, bad ranges, with the position', () => {
    const loc = { file: 'intentops.yml', line: 7, column: 7 }
    const bad = (x: TuneParam) => () => validateSpace([x], pipeline, () => loc)
    expect(bad(p({ step: 'svm', param: 'C', values: [1] }))).toThrow(
      /no step "svm"; its steps are "tfidf", "classifier"/,
    )
    expect(bad(p({ step: 'classifier', param: 'C' }))).toThrow(/give `values` to try/)
    expect(bad(p({ step: 'classifier', param: 'C', min: 5, max: 1 }))).toThrow(/range is empty/)
    expect(bad(p({ step: 'classifier', param: 'C', min: 0, max: 1, log: true }))).toThrow(/must be positive/)
    try {
      bad(p({ step: 'svm', param: 'C', values: [1] }))()
    } catch (e) {
      expect(e).toMatchObject({ code: 'ERR_TUNE_INVALID_PARAM', location: loc })
    }
    expect(() => validateSpace([], pipeline)).toThrow(expect.objectContaining({ code: 'ERR_TUNE_NO_PARAMS' }))
  })

  it('parses --param flags', () => {
    expect(parseParamFlag('classifier.C=0.1,1,10')).toMatchObject({
      step: 'classifier',
      param: 'C',
      values: [0.1, 1, 10],
    })
    expect(parseParamFlag('tfidf.analyzer=word,char_wb')).toMatchObject({ values: ['word', 'char_wb'] })
    expect(parseParamFlag('tfidf.sublinear=true,false')).toMatchObject({ values: [true, false] })
    expect(parseParamFlag('classifier.C=0.01..100:log')).toMatchObject({
      min: 0.01,
      max: 100,
      log: true,
      integer: false,
    })
    expect(parseParamFlag('tfidf.ngramMax=1..3:int')).toMatchObject({ min: 1, max: 3, integer: true })
    expect(() => parseParamFlag('classifier=1')).toThrow(/step\.param=values/)
  })
})

describe('writeBestConfig', () => {
  const dirs: string[] = []
  const tempDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'io-tune-'))
    dirs.push(d)
    return d
  }
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('sets values in place, keeping comments and layout, and the result still validates', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'intentops.yml')
    writeFileSync(
      file,
      [
        '# the bot',
        'name: travel # model name',
        'pipeline:',
        '  - type: tfidf # word n-grams',
        '    ngramMax: 2',
        '  - type: logistic_regression',
        '    name: classifier',
        '    C: 1 # regularisation',
        'tune:',
        '  params:',
        '    - { step: classifier, param: C, values: [0.1, 1, 10] }',
        '',
      ].join('\n'),
    )
    await writeBestConfig(file, [{ step: 'classifier', param: 'C', value: 10 }], [])
    const text = readFileSync(file, 'utf8')
    expect(text).toContain('# the bot')
    expect(text).toContain('name: travel # model name')
    expect(text).toContain('  - type: tfidf # word n-grams')
    expect(text).toMatch(/C: 10 # regularisation/)
    expect(parseConfig(text, file).pipeline[1]).toMatchObject({ C: 10 })
  })

  it('writes the default pipeline out when the config has none, and creates a missing file', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'intentops.yml')
    writeFileSync(file, '# keep me\nname: bot\n')
    await writeBestConfig(file, [{ step: 'tfidf', param: 'ngramMax', value: 3 }], pipeline)
    const cfg = parseConfig(readFileSync(file, 'utf8'), file)
    expect(cfg.pipeline).toEqual([
      { type: 'tfidf', ngramMax: 3 },
      { type: 'logistic_regression', name: 'classifier', C: 1 },
    ])
    expect(readFileSync(file, 'utf8')).toContain('# keep me')
    const fresh = path.join(dir, 'new', 'intentops.yml')
    await writeBestConfig(fresh, [{ step: 'classifier', param: 'C', value: 2 }], pipeline)
    expect(parseConfig(readFileSync(fresh, 'utf8'), fresh).pipeline[1]).toMatchObject({ C: 2 })
  })
})
