/**
 * The README's quick start: `npm run demo` on the built CLI, in a temporary directory.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const root = path.resolve(import.meta.dirname, '..')
const dir = mkdtempSync(path.join(tmpdir(), 'io-demo-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('npm run demo', () => {
  it('runs the whole loop on the example bot, serving, reviewing and retraining, then trains nothing', async () => {
    const demo = path.join(dir, 'demo')
    const { stdout } = await promisify(execFile)('bash', [path.join(root, 'scripts', 'demo.sh')], {
      cwd: root,
      env: { ...process.env, INTENTOPS_DEMO_DIR: demo },
      maxBuffer: 16 * 1024 * 1024,
    })
    expect(stdout).toContain('travel-assistant v1 is now production')
    // served, asked, reviewed, exported, retrained, promoted again, and picked up by the running server
    expect(stdout).toMatch(/"intent":\{"name":"book_flight"/)
    expect(stdout).toMatch(/"action":"relabel","intent":"book_flight"/)
    expect(stdout).toMatch(/^exported 1 reviewed example into data\/nlu\.yml on branch reviews-1/m)
    expect(stdout).toContain('travel-assistant v2 is now production')
    expect(stdout).toContain('"model_id":"travel-assistant@2"')
    expect(stdout).toMatch(/verified\s+yes: record, signature/)
    expect(stdout).toContain('training data and config unchanged: trained nothing')
    expect(stdout).toContain('production already serves this model (v2)')
    expect(stdout).toMatch(/chart: .*metrics-history\.svg/)
    expect(existsSync(path.join(demo, '.intentops', 'report', 'report.md'))).toBe(true)
  }, 300_000) // trains three times, and builds the CLI first when dist/ is missing
})
