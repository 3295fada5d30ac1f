import { spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runScriptAs } from '../../test/helpers/as-user.js'
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

  it('a state directory it cannot make is ERR_WRITE_FAILED naming the file in the way', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-lock-'))
    writeFileSync(path.join(dir, '.intentops'), 'not a directory\n')
    const stateDir = path.join(dir, '.intentops', 'state')
    let ran = false
    const err = await withPipelineLock(stateDir, async () => {
      ran = true
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'ERR_WRITE_FAILED',
      message: `Cannot write ${stateDir}: ${path.join(dir, '.intentops')} is a file, not a directory (ENOTDIR)`,
      hint: expect.stringContaining('no part of the path is a file'),
    })
    expect(ran).toBe(false)
  })

  it.runIf(process.platform === 'linux' && process.getuid?.() === 0)(
    "lets the user run after root ran in the user's project",
    async () => {
      const project = mkdtempSync(path.join(tmpdir(), 'io-lock-'))
      chownSync(project, 65534, 65534)
      const stateDir = path.join(project, '.intentops')
      await withPipelineLock(stateDir, async () => {})
      expect([statSync(stateDir).uid, statSync(path.join(stateDir, 'pipeline')).uid]).toEqual([65534, 65534])
      // As an earlier release left it: root's, which the user's run must not need to open.
      chownSync(path.join(stateDir, 'pipeline'), 0, 0)
      const lockUrl = new URL('./lock.ts', import.meta.url).pathname
      const script = `import { withPipelineLock } from ${JSON.stringify(lockUrl)}
        await withPipelineLock(${JSON.stringify(stateDir)}, async () => console.log('ran'))`
      const { stdout, stderr } = await runScriptAs(script, [], { cwd: project })
      expect([stdout, stderr]).toEqual(['ran\n', ''])
    },
    30_000,
  )

  it('takes over the lock of a process that was killed', async () => {
    // The holder must stay alive on its own: the lock library's refresh timer is unref'd, so a holder waiting on a
    // bare promise exits at once and removes its lock on exit, racing the checks below. And staleness is decided by
    // the lock's mtime: rather than wait for real time to pass (a loaded machine delays the child's refreshes and
    // the parent's retries alike), the holder keeps the default 30 s window and the dead holder's lock is aged by hand.
    const dir = mkdtempSync(path.join(tmpdir(), 'io-lock-'))
    const lockUrl = new URL('./lock.ts', import.meta.url).pathname
    const script = `import { withPipelineLock } from ${JSON.stringify(lockUrl)}
      setInterval(() => {}, 60_000)
      await withPipelineLock(${JSON.stringify(dir)}, () => { console.log('held'); return new Promise(() => {}) })`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('held')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`holder exited early with ${code}: ${out}`)))
    })
    const lockDir = path.join(dir, 'pipeline.lock')
    expect(existsSync(lockDir)).toBe(true)
    // A live holder's lock is respected.
    await expect(withPipelineLock(dir, async () => {}, { waitMs: 300 })).rejects.toMatchObject({
      code: 'ERR_PIPELINE_LOCKED',
    })
    child.kill('SIGKILL')
    await exited
    expect(existsSync(lockDir)).toBe(true)
    const past = new Date(Date.now() - 60_000)
    utimesSync(lockDir, past, past)
    let ran = false
    await withPipelineLock(
      dir,
      async () => {
        ran = true
      },
      { waitMs: 5000 },
    )
    expect(ran).toBe(true)
  })
})
