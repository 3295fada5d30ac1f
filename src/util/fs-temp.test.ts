import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { writeStreamAtomic } from '../store/export.js'
import { removePendingTempFilesSync, writeFileAtomic } from './fs.js'

const dir = mkdtempSync(path.join(tmpdir(), 'io-fs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('temporary files of atomic writes', () => {
  it('are registered while a write is in progress, so a signal handler can remove them', async () => {
    const file = path.join(dir, 'out.jsonl')
    let during: string[] = []
    await expect(
      writeStreamAtomic(file, async (write) => {
        await write('{"a":1}\n')
        const temps = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'))
        // the stream opens its file asynchronously
        while (temps().length === 0) await new Promise((r) => setTimeout(r, 1))
        const tmp = temps()
        expect(tmp).toHaveLength(1)
        during = removePendingTempFilesSync()
        expect(during).toEqual([path.join(dir, tmp[0]!)])
        expect(existsSync(during[0]!)).toBe(false)
        throw new Error('the process would have ended here')
      }),
    ).rejects.toThrow('the process would have ended here')
    expect(existsSync(file)).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })

  it('are released when the write ends, renamed or failed', async () => {
    const file = path.join(dir, 'a', 'b.txt')
    await writeFileAtomic(file, 'done\n')
    await writeStreamAtomic(path.join(dir, 'c.txt'), async (write) => write('x'))
    await expect(writeFileAtomic(path.join(file, 'under-a-file'), 'x')).rejects.toMatchObject({
      code: 'ERR_WRITE_FAILED',
    })
    expect(removePendingTempFilesSync()).toEqual([])
    expect(readFileSync(file, 'utf8')).toBe('done\n')
  })

  it('an export keeps a stricter mode of the file it replaces and can still sync it', async () => {
    const file = path.join(dir, 'strict.jsonl')
    writeFileSync(file, 'old\n')
    chmodSync(file, 0o400)
    const n = await writeStreamAtomic(file, async (write) => {
      await write('{"a":1}\n')
      await write('{"a":2}\n')
      return 2
    })
    expect(n).toBe(2)
    expect(statSync(file).mode & 0o777).toBe(0o400)
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"a":2}\n')
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it.runIf(process.platform === 'linux' && process.getuid?.() === 0)(
    "an export root writes over another user's file stays that user's, 0600",
    async () => {
      const file = path.join(dir, 'users.jsonl')
      writeFileSync(file, 'old\n')
      chownSync(file, 65534, 4242)
      chmodSync(file, 0o644)
      await writeStreamAtomic(file, (write) => write('{"a":1}\n'))
      const st = statSync(file)
      expect([st.uid, st.gid, st.mode & 0o777, readFileSync(file, 'utf8')]).toEqual([65534, 4242, 0o600, '{"a":1}\n'])
    },
  )
})
