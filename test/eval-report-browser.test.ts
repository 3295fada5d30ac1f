import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrialResult } from '../src/eval/jobs.js'
import { renderHtml } from '../src/eval/render/html.js'
import { renderTuneHtml } from '../src/eval/render/tune.js'
import { TUNE_REPORT_FORMAT, TUNE_REPORT_VERSION, type TuneReport } from '../src/eval/tune.js'
import { bigReport } from './helpers/eval-fixtures.js'

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

let browser: Browser
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
})
afterAll(async () => {
  await browser?.close()
})

describe('HTML report in a browser', () => {
  it('shows every chart as SVG, makes no network request, and sorts tables', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-eval-html-'))
    const file = path.join(dir, 'report.html')
    writeFileSync(file, await renderHtml(bigReport()))
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const requests: string[] = []
    const errors: string[] = []
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url())
    })
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`file://${file}`)

    for (const chart of ['confusion', 'f1', 'confidence', 'reliability', 'learningCurve']) {
      const svg = page.locator(`figure[data-chart="${chart}"] svg`)
      await expect(svg.count()).resolves.toBe(1)
      const box = await svg.boundingBox()
      expect(box!.width).toBeGreaterThan(100)
      expect(box!.height).toBeGreaterThan(100)
      // marks were drawn: bars / cells / lines are paths inside the SVG
      expect(await svg.locator('path').count()).toBeGreaterThan(3)
    }
    const shot = await page.screenshot({ fullPage: true, path: path.join(dir, 'report.png') })
    expect(shot.byteLength).toBeGreaterThan(20_000)

    // the F1 column sorts descending on the second click
    const f1Header = page.locator('#intents th', { hasText: /^F1$/ })
    await f1Header.click()
    await f1Header.click()
    const firstF1 = Number(await page.locator('#intents tbody tr:first-child td:nth-child(4)').getAttribute('data-v'))
    const lastF1 = Number(await page.locator('#intents tbody tr:last-child td:nth-child(4)').getAttribute('data-v'))
    expect(firstF1).toBeGreaterThanOrEqual(lastF1)
    expect(await f1Header.getAttribute('aria-sort')).toBe('descending')

    expect(requests).toEqual([])
    expect(errors).toEqual([])
    await page.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('sorts the tuning table, a failed trial (no score) before every score ascending and after them descending', async () => {
    const ok = (trial: number, score: number): TrialResult => ({
      kind: 'trial',
      trial,
      assignments: [{ step: 'clf', param: 'C', value: 10 ** (trial - 2) }],
      status: 'ok',
      score,
      mean: { accuracy: score, macroF1: score, weightedF1: score },
      std: { accuracy: 0.01, macroF1: 0.01, weightedF1: 0.01 },
      trainingMs: 10,
      durationMs: 12,
    })
    const failed: TrialResult = {
      kind: 'trial',
      trial: 2,
      assignments: [{ step: 'clf', param: 'C', value: 1 }],
      status: 'failed',
      trainingMs: 0,
      durationMs: 1,
      error: { message: 'refused' },
    }
    const trials = [ok(0, 0.5), ok(1, 0.9), failed, ok(3, 0.7)]
    const report: TuneReport = {
      format: TUNE_REPORT_FORMAT,
      formatVersion: TUNE_REPORT_VERSION,
      toolkitVersion: '0.0.0',
      status: 'complete',
      method: 'grid',
      metric: 'macroF1',
      folds: 3,
      seed: 1,
      space: [{ step: 'clf', param: 'C', values: [0.01, 0.1, 1, 10] }] as TuneReport['space'],
      dataFingerprint: 'x',
      examples: 40,
      plannedTrials: 4,
      startedAt: new Date(0).toISOString(),
      best: trials[1],
      trials,
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'io-tune-html-'))
    const file = path.join(dir, 'tune.html')
    writeFileSync(file, await renderTuneHtml(report))
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`file://${file}`)
    const trialOrder = () => page.locator('#trials tbody tr td:first-child').allTextContents()
    const scoreHeader = page.locator('#trials th', { hasText: /^macroF1$/ })
    await scoreHeader.click()
    expect(await scoreHeader.getAttribute('aria-sort')).toBe('ascending')
    expect(await trialOrder()).toEqual(['3', '1', '4', '2'])
    await scoreHeader.click()
    expect(await trialOrder()).toEqual(['2', '4', '1', '3'])
    expect(errors).toEqual([])
    await page.close()
    rmSync(dir, { recursive: true, force: true })
  })
})
