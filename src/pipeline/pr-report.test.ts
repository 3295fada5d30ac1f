import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import { type PrRunView, writePrReport } from './pr-report.js'

const dirs: string[] = []
const PATH = process.env.PATH
afterEach(() => {
  process.env.PATH = PATH
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'io-pr-report-'))
  dirs.push(dir)
  mkdirSync(path.join(dir, 'data'))
  writeFileSync(
    path.join(dir, 'data', 'nlu.yml'),
    'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n',
  )
  return dir
}

const aborted: PrRunView = {
  halted: 'aborted',
  interrupted: 'train',
  stages: [{ name: 'train', status: 'failed', durationMs: 5 }],
}

describe('writePrReport after Ctrl-C', () => {
  it('keeps to its deadline: a data comparison still running when it passes is left out, and report.md is written', async () => {
    const dir = project()
    // A git that never answers, as one reading a huge history over a slow disk would.
    const bin = path.join(dir, 'bin')
    mkdirSync(bin)
    writeFileSync(path.join(bin, 'git'), '#!/bin/sh\nexec sleep 30\n')
    chmodSync(path.join(bin, 'git'), 0o755)
    process.env.PATH = `${bin}${path.delimiter}${PATH}`
    const config = { ...defaultConfig(), stages: { ...defaultConfig().stages, baseRef: 'main' } }
    const t0 = Date.now()
    const written = await writePrReport({ root: dir, config, env: {} }, {}, aborted, AbortSignal.timeout(300))
    expect(Date.now() - t0).toBeLessThan(3000)
    const md = readFileSync(written.markdown, 'utf8')
    expect(md).toContain('pipeline aborted: interrupted during train')
    expect(md).toContain('The data was not compared with `main`: the time left after the interruption ran out.')
    expect(written.dataDiff).toBeNull()
  })

  it('with its deadline already past, leaves out the charts too and still writes the report', async () => {
    const dir = project()
    const reportFile = path.join(dir, 'eval-report.json')
    // a real evaluation report, so that there is a chart to draw
    const { evaluate } = await import('../eval/evaluate.js')
    const { trainModel } = await import('../nlu/train.js')
    const { toyTrainingData } = await import('../nlu/testing.js')
    const data = toyTrainingData()
    const model = await trainModel(data, { config: defaultConfig(), seed: 1, workers: 0 })
    writeFileSync(reportFile, JSON.stringify(await evaluate(model, data.examples)))
    const outputs = { test: { report: 'eval-report.json' } }
    const config = defaultConfig()
    const late = await writePrReport({ root: dir, config, env: {} }, outputs, aborted, AbortSignal.abort())
    const md = readFileSync(late.markdown, 'utf8')
    expect(md).toContain('Charts left out: the time left after the interruption ran out.')
    expect(late.charts).toEqual([])
    expect(existsSync(path.join(path.dirname(late.markdown), 'charts', 'intent-f1.svg'))).toBe(false)
    // in time, the same report has its chart
    const inTime = await writePrReport({ root: dir, config, env: {} }, outputs, aborted)
    expect(inTime.charts.map((c) => path.basename(c))).toEqual(['intent-f1.svg'])
  })
})
