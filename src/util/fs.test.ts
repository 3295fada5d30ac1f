import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
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
