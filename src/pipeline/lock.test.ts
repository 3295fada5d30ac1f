import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { withPipelineLock } from './lock.js'

describe('withPipelineLock', () => {
  it('serialises two runs on one project', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-lock-'))
    const events: string[] = []
    const run = (name: string) =>
      withPipelineLock(dir, async () => {
        events.push(`${name}:start`)
        await new Promise((r) => setTimeout(r, 150))
        events.push(`${name}:end`)
      })
    await Promise.all([run('a'), run('b')])
    expect(events[0]!.endsWith(':start')).toBe(true)
    expect(events[1]).toBe(events[0]!.replace('start', 'end'))
  })

  it('gives up with ERR_PIPELINE_LOCKED when the holder does not finish in time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-lock-'))
    let release!: () => void
    const holder = withPipelineLock(dir, () => new Promise<void>((r) => (release = r)))
    await new Promise((r) => setTimeout(r, 50))
    await expect(withPipelineLock(dir, async () => {}, { waitMs: 300 })).rejects.toMatchObject({
      code: 'ERR_PIPELINE_LOCKED',
    })
    release()
    await holder
  })

  it('takes over the lock of a process that was killed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-lock-'))
    const lockUrl = new URL('./lock.ts', import.meta.url).pathname
    const script = `import { withPipelineLock } from ${JSON.stringify(lockUrl)}
      await withPipelineLock(${JSON.stringify(dir)}, () => { console.log('held'); return new Promise(() => {}) }, { staleMs: 2000 })`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('held')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`holder exited early with ${code}: ${out}`)))
    })
    expect(existsSync(path.join(dir, 'pipeline.lock'))).toBe(true)
    child.kill('SIGKILL')
    let ran = false
    await withPipelineLock(
      dir,
      async () => {
        ran = true
      },
      { staleMs: 2000, waitMs: 10_000 },
    )
    expect(ran).toBe(true)
  })
})
