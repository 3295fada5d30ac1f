import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureDir, writeFileAtomic } from './fs.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-fs-'))
  writeFileSync(path.join(dir, 'a.yml'), 'x: 1\n')
  mkdirSync(path.join(dir, 'sub'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('output paths that cannot be written', () => {
  it.each([
    ['a file as the directory', 'a.yml', /a\.yml is a file, not a directory \(EEXIST\)$/],
    ['a file as a parent directory', 'a.yml/charts', /a\.yml is a file, not a directory \(ENOTDIR\)$/],
    ['a name over the system limit', `sub/${'n'.repeat(300)}`, /: the name is too long \(ENAMETOOLONG\)$/],
  ])('ensureDir names the path and the reason for %s', async (_what, rel, reason) => {
    const target = path.join(dir, rel)
    const err = await ensureDir(target).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_WRITE_FAILED', message: expect.stringMatching(reason) })
    expect((err as Error).message.startsWith(`Cannot write ${target}: `)).toBe(true)
    expect((err as { hint?: string }).hint).toMatch(/writ.*no part of the path is a file/)
  })

  it('writeFileAtomic names the file, the file in the way, and leaves nothing behind', async () => {
    const target = path.join(dir, 'a.yml', 'chart.svg')
    await expect(writeFileAtomic(target, '<svg/>')).rejects.toMatchObject({
      code: 'ERR_WRITE_FAILED',
      message: `Cannot write ${target}: ${path.join(dir, 'a.yml')} is a file, not a directory (EEXIST)`,
    })
    const over = path.join(dir, 'sub')
    await expect(writeFileAtomic(over, 'x')).rejects.toMatchObject({
      code: 'ERR_WRITE_FAILED',
      message: `Cannot write ${over}: it is a directory (EISDIR)`,
    })
    expect(readdirSync(dir).sort()).toEqual(['a.yml', 'sub'])
    expect(readdirSync(over)).toEqual([])
  })
})

describe('writeFileAtomic with a mode', () => {
  it('creates the temporary file with the mode before the first byte, whatever the umask', async () => {
    const out = path.join(dir, 'modes')
    mkdirSync(out)
    const file = path.join(out, 'secret.key')
    const seen: number[] = []
    async function* produce() {
      // Runs once the temporary file is open and before anything is written to it.
      const tmp = readdirSync(out).filter((f) => f.endsWith('.tmp'))
      expect(tmp).toHaveLength(1)
      seen.push(statSync(path.join(out, tmp[0]!)).mode & 0o777)
      yield 'private\n'
    }
    const umask = process.umask(0)
    try {
      await writeFileAtomic(file, produce(), { mode: 0o600 })
      await writeFileAtomic(path.join(out, 'public.txt'), 'shared\n')
    } finally {
      process.umask(umask)
    }
    expect(seen).toEqual([0o600])
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toBe('private\n')
    // Without a mode, the usual 0666 less the umask (here none).
    expect(statSync(path.join(out, 'public.txt')).mode & 0o777).toBe(0o666)
  })

  it('sets the exact mode even when the umask would narrow it', async () => {
    const file = path.join(dir, 'modes', 'shared.txt')
    const umask = process.umask(0o077)
    try {
      await writeFileAtomic(file, 'x', { mode: 0o640 })
    } finally {
      process.umask(umask)
    }
    expect(statSync(file).mode & 0o777).toBe(0o640)
  })

  it('never opens a file it replaces wider than it was, and narrows a wider one to the mode', async () => {
    const out = path.join(dir, 'replaced')
    mkdirSync(out)
    const strict = path.join(out, 'strict.txt')
    const wide = path.join(out, 'wide.txt')
    writeFileSync(strict, 'old\n')
    writeFileSync(wide, 'old\n')
    chmodSync(strict, 0o400)
    chmodSync(wide, 0o644)
    await writeFileAtomic(strict, 'new\n', { mode: 0o600 })
    await writeFileAtomic(wide, 'new\n', { mode: 0o600 })
    expect(statSync(strict).mode & 0o777).toBe(0o400)
    expect(statSync(wide).mode & 0o777).toBe(0o600)
    expect([readFileSync(strict, 'utf8'), readFileSync(wide, 'utf8')]).toEqual(['new\n', 'new\n'])
    expect(readdirSync(out).sort()).toEqual(['strict.txt', 'wide.txt'])
  })
})
