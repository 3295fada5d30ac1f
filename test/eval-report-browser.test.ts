import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderHtml } from '../src/eval/render/html.js'
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
})
