/**
 * A real `intentops` process (run from source through tsx) writing into a pipe whose reader closes early, as
 * `intentops data stats | head -1` does: it stops quietly with 0.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const repo = path.resolve(import.meta.dirname, '..')
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('a closed stdout', () => {
  it('ends the command with 0 and nothing on stderr, not an EPIPE stack', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-pipe-'))
    dirs.push(dir)
    mkdirSync(path.join(dir, 'data'))
    // Enough intents that `data stats` prints far more than a pipe buffer holds (64 KiB), so it is still writing
    // when the reader goes away.
    const intents = Array.from(
      { length: 3000 },
      (_, i) => `  - intent: intent_${i}\n    examples: |\n      - hello number ${i}\n      - another one ${i}\n`,
    )
    writeFileSync(path.join(dir, 'data', 'nlu.yml'), `version: "3.1"\nnlu:\n${intents.join('')}`)
    const child = spawn(
      process.execPath,
      [
        '--import',
        path.join(repo, 'node_modules/tsx/dist/loader.mjs'),
        path.join(repo, 'src/cli/main.ts'),
        'data',
        'stats',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let err = ''
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    let first = ''
    // Read the first chunk, then close the read end, as `head -c1` does.
    child.stdout.once('data', (d: Buffer) => {
      first = d.toString()
      child.stdout.destroy()
    })
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)))
    expect(first).toMatch(/^3000 intents|examples/)
    expect(err).toBe('')
    expect(code).toBe(0)
  }, 30_000)
})
