import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runScriptAs } from '../../test/helpers/as-user.js'
import {
  commonAttributes,
  createEmptyFileSync,
  createTempFileFor,
  ensureDir,
  ensureDirSync,
  writeFileAtomic,
} from './fs.js'

const modeOf = (f: string) => statSync(f).mode & 0o777
/** Root may give files away and create files owned by others; the tests of owners need it. */
const asRoot = process.platform === 'linux' && process.getuid?.() === 0

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

describe('writeFileAtomic without a mode', () => {
  it('keeps the permission bits of a file it replaces, whatever the umask, and gives a new file the umask', async () => {
    const out = path.join(dir, 'kept')
    mkdirSync(out)
    const bits = [0o600, 0o640, 0o755, 0o400, 0o664]
    for (const b of bits) {
      const f = path.join(out, `${b.toString(8)}.yml`)
      writeFileSync(f, 'old\n')
      chmodSync(f, b)
    }
    const umask = process.umask(0o022)
    try {
      for (const b of bits) await writeFileAtomic(path.join(out, `${b.toString(8)}.yml`), 'new\n')
      await writeFileAtomic(path.join(out, 'fresh.yml'), 'new\n')
    } finally {
      process.umask(umask)
    }
    expect(bits.map((b) => modeOf(path.join(out, `${b.toString(8)}.yml`)))).toEqual(bits)
    expect(modeOf(path.join(out, 'fresh.yml'))).toBe(0o644)
    for (const f of readdirSync(out)) expect(readFileSync(path.join(out, f), 'utf8'), f).toBe('new\n')
    expect(readdirSync(out)).toHaveLength(bits.length + 1)
  })

  it('creates the temporary file no more open than the file it replaces, before the first byte', async () => {
    const out = path.join(dir, 'kept-tmp')
    mkdirSync(out)
    const seen: number[] = []
    async function* produce() {
      const tmp = readdirSync(out).filter((f) => f.endsWith('.tmp'))
      expect(tmp).toHaveLength(1)
      seen.push(modeOf(path.join(out, tmp[0]!)))
      yield 'new\n'
    }
    for (const b of [0o600, 0o640]) {
      const f = path.join(out, `${b.toString(8)}.jsonl`)
      writeFileSync(f, 'old\n')
      chmodSync(f, b)
    }
    // No umask to narrow what open gives: the bits are the helper's alone.
    const umask = process.umask(0)
    try {
      await writeFileAtomic(path.join(out, '600.jsonl'), produce())
      await writeFileAtomic(path.join(out, '640.jsonl'), produce())
    } finally {
      process.umask(umask)
    }
    expect(seen).toEqual([0o600, 0o640])
  })

  it('gives the replacement the group of the file it replaces', async () => {
    const file = path.join(dir, 'grouped.yml')
    writeFileSync(file, 'old\n')
    // Root may give any group; another user only one of its own.
    const gid =
      process.getuid?.() === 0
        ? 4242
        : (process.getgroups?.().find((g) => g !== process.getgid?.()) ?? process.getgid?.() ?? 0)
    chownSync(file, statSync(file).uid, gid)
    chmodSync(file, 0o660)
    await writeFileAtomic(file, 'new\n')
    expect([statSync(file).gid, modeOf(file), readFileSync(file, 'utf8')]).toEqual([gid, 0o660, 'new\n'])
  })

  it('never opens a temporary name that exists, and leaves that file alone', async () => {
    const file = path.join(dir, 'tmp-exists.yml')
    const tmp = path.join(dir, '.tmp-exists.yml.taken.tmp')
    writeFileSync(tmp, 'someone else\n')
    // `wx`: a temporary name that exists is never opened, so its owner and mode cannot leak into the write.
    await expect(createTempFileFor(file, tmp)).rejects.toMatchObject({ code: 'EEXIST' })
    expect(readFileSync(tmp, 'utf8')).toBe('someone else\n')
    rmSync(tmp)
  })

  it.runIf(asRoot && existsSync('/usr/bin/setpriv'))(
    'a writer that may not give files away keeps the file, and drops the bits of a group it cannot give',
    async () => {
      const out = mkdtempSync(path.join(tmpdir(), 'io-fs-group-'))
      try {
        chmodSync(out, 0o777)
        // The writer (nobody) owns the first two, in root's group, which nobody is not a member of; the third is
        // another user's, in that user's group.
        const files = { groupRead: [65534, 0, 0o640], allRead: [65534, 0, 0o644], othersFile: [4242, 4242, 0o664] }
        for (const [name, [uid, gid, bits]] of Object.entries(files)) {
          const f = path.join(out, name)
          writeFileSync(f, 'old\n')
          chownSync(f, uid!, gid!)
          chmodSync(f, bits!)
        }
        await asNobody(
          out,
          Object.keys(files).map((n) => path.join(out, n)),
        )
        const after = Object.keys(files).map((n) => {
          const st = statSync(path.join(out, n))
          return [st.uid, st.gid, st.mode & 0o777, readFileSync(path.join(out, n), 'utf8')]
        })
        expect(after).toEqual([
          [65534, 65534, 0o600, 'new\n'],
          [65534, 65534, 0o604, 'new\n'],
          [65534, 65534, 0o604, 'new\n'],
        ])
        expect(readdirSync(out).sort()).toEqual(['allRead', 'groupRead', 'othersFile'])
      } finally {
        rmSync(out, { recursive: true, force: true })
      }
    },
  )
})

describe('the owner of a file replaced', () => {
  it.runIf(asRoot)("stays the file's when root rewrites another user's file, from before the first byte", async () => {
    const out = path.join(dir, 'owned')
    mkdirSync(out)
    const file = path.join(out, 'nlu.yml')
    writeFileSync(file, 'old\n')
    chownSync(file, 65534, 4242)
    chmodSync(file, 0o640)
    const seen: number[][] = []
    async function* produce() {
      const tmp = readdirSync(out).filter((f) => f.endsWith('.tmp'))
      expect(tmp).toHaveLength(1)
      const st = statSync(path.join(out, tmp[0]!))
      seen.push([st.uid, st.gid, st.mode & 0o777])
      yield 'new\n'
    }
    await writeFileAtomic(file, produce())
    const owner = (f: string) => {
      const st = statSync(f)
      return [st.uid, st.gid, st.mode & 0o777, readFileSync(f, 'utf8')]
    }
    expect(seen).toEqual([[65534, 4242, 0o640]])
    expect(owner(file)).toEqual([65534, 4242, 0o640, 'new\n'])
    // With a mode as well (a private key regenerated by root stays its owner's).
    await writeFileAtomic(file, 'newer\n', { mode: 0o600 })
    expect(owner(file)).toEqual([65534, 4242, 0o600, 'newer\n'])
    // A new file is the writer's.
    await writeFileAtomic(path.join(out, 'fresh.yml'), 'x\n')
    expect(statSync(path.join(out, 'fresh.yml')).uid).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['fresh.yml', 'nlu.yml'])
  })
})

describe('directories made for an output', () => {
  const attrs = (d: string) => {
    const st = statSync(d)
    return [st.uid, st.gid, st.mode & 0o7777]
  }
  const withUmask = async <T>(umask: number, fn: () => Promise<T> | T): Promise<T> => {
    const old = process.umask(umask)
    try {
      return await fn()
    } finally {
      process.umask(old)
    }
  }

  it.runIf(asRoot)(
    "take the owner, group and at most the bits of the user's directory root makes them in",
    async () => {
      const user = mkdtempSync(path.join(dir, 'user-'))
      chownSync(user, 65534, 4242)
      chmodSync(user, 0o750)
      await withUmask(0o022, async () => {
        await ensureDir(path.join(user, 'reports', 'charts'))
        await writeFileAtomic(path.join(user, 'split', 'a', 'train.yml'), 'x\n')
      })
      for (const d of ['reports', 'reports/charts', 'split', 'split/a'])
        expect([d, ...attrs(path.join(user, d))]).toEqual([d, 65534, 4242, 0o750])
      // The new file is the user's too, no more open than the directory.
      expect(attrs(path.join(user, 'split', 'a', 'train.yml'))).toEqual([65534, 4242, 0o640])

      // The umask still narrows; a set-group-ID directory passes its bit on, as the system does.
      const shared = path.join(user, 'shared')
      mkdirSync(shared)
      chownSync(shared, 65534, 4242)
      chmodSync(shared, 0o2775)
      await withUmask(0o027, () => ensureDirSync(path.join(shared, 'sync', 'deeper')))
      expect([attrs(path.join(shared, 'sync')), attrs(path.join(shared, 'sync', 'deeper'))]).toEqual([
        [65534, 4242, 0o2750],
        [65534, 4242, 0o2750],
      ])
      // A private directory gives no one more than it had.
      const own = path.join(user, 'own')
      mkdirSync(own)
      chownSync(own, 65534, 65534)
      chmodSync(own, 0o700)
      await withUmask(0o022, () => ensureDir(path.join(own, 'out')))
      expect(attrs(path.join(own, 'out'))).toEqual([65534, 65534, 0o700])
      // A directory that exists is left as it is.
      chownSync(path.join(user, 'reports'), 0, 0)
      chmodSync(path.join(user, 'reports'), 0o755)
      await ensureDir(path.join(user, 'reports', 'charts'))
      expect(attrs(path.join(user, 'reports'))).toEqual([0, 0, 0o755])
    },
  )

  it("are made as mkdir -p makes them in a directory of the writer's own", async () => {
    const own = mkdtempSync(path.join(dir, 'own-'))
    chmodSync(own, 0o700)
    await withUmask(0o022, () => writeFileAtomic(path.join(own, 'a', 'b', 'c.txt'), 'x\n'))
    const me = [process.getuid?.(), process.getgid?.()]
    expect([attrs(path.join(own, 'a')), attrs(path.join(own, 'a', 'b'))]).toEqual([
      [...me, 0o755],
      [...me, 0o755],
    ])
  })

  it('are refused with the reason when a file is in the way, and nothing is made', async () => {
    const base = mkdtempSync(path.join(dir, 'way-'))
    writeFileSync(path.join(base, 'file'), 'x\n')
    expect(() => ensureDirSync(path.join(base, 'file', 'sub'))).toThrow(
      `Cannot write ${path.join(base, 'file', 'sub')}: ${path.join(base, 'file')} is a file, not a directory (ENOTDIR)`,
    )
    expect(readdirSync(base)).toEqual(['file'])
  })
})

describe("a new file in another user's directory", () => {
  const attrs = (f: string) => {
    const st = statSync(f)
    return [st.uid, st.gid, st.mode & 0o7777]
  }
  /** A directory of user 65534 and group 4242 with the permission `bits`. */
  const usersDir = (bits: number) => {
    const d = mkdtempSync(path.join(dir, 'users-'))
    chownSync(d, 65534, 4242)
    chmodSync(d, bits)
    return d
  }

  it.runIf(asRoot)(
    "is the directory's owner's and group's when root writes it, no more open than the directory, from before the first byte",
    async () => {
      const user = usersDir(0o750)
      const seen: number[][] = []
      async function* produce() {
        const tmp = readdirSync(user).filter((f) => f.endsWith('.tmp'))
        expect(tmp).toHaveLength(1)
        seen.push(attrs(path.join(user, tmp[0]!)))
        yield 'new\n'
      }
      const old = process.umask(0o022)
      try {
        await writeFileAtomic(path.join(user, 'report.md'), produce())
        // A private file stays private, the user's.
        await writeFileAtomic(path.join(user, 'signing.key'), 'k\n', { mode: 0o600 })
        // Files to follow still decide, as `review export` gives them.
        await writeFileAtomic(path.join(user, 'reviewed.yml'), 'x\n', { newFileLike: { mode: 0o644, uid: 4243 } })
      } finally {
        process.umask(old)
      }
      expect(seen).toEqual([[65534, 4242, 0o640]])
      expect([attrs(path.join(user, 'report.md')), readFileSync(path.join(user, 'report.md'), 'utf8')]).toEqual([
        [65534, 4242, 0o640],
        'new\n',
      ])
      expect(attrs(path.join(user, 'signing.key'))).toEqual([65534, 4242, 0o600])
      expect(attrs(path.join(user, 'reviewed.yml'))).toEqual([4243, 0, 0o644])

      // The group gets what the directory's group has, the file's mode allowing: not write in a 0755 directory, write
      // in a 0775 one only where the mode gives it; a 0700 directory's files are the owner's alone.
      const old2 = process.umask(0o002)
      try {
        for (const [bits, want] of [
          [0o755, 0o644],
          [0o775, 0o664],
          [0o700, 0o600],
        ] as const) {
          const d = usersDir(bits)
          await writeFileAtomic(path.join(d, 'out.txt'), 'x\n')
          expect([bits, ...attrs(path.join(d, 'out.txt'))]).toEqual([bits, 65534, 4242, want])
        }
      } finally {
        process.umask(old2)
      }
      // In a directory of root's own, root's, as before.
      const own = mkdtempSync(path.join(dir, 'roots-'))
      await writeFileAtomic(path.join(own, 'out.txt'), 'x\n', { mode: 0o640 })
      expect(attrs(path.join(own, 'out.txt'))).toEqual([0, 0, 0o640])
      expect(readdirSync(user).sort()).toEqual(['report.md', 'reviewed.yml', 'signing.key'])
    },
  )

  it.runIf(asRoot && existsSync('/usr/bin/setpriv'))(
    "is the writer's, as before, when it may not give files away, and the directory's owner's when it may",
    async () => {
      const other = othersOpenDir()
      const bits = 0o666 & ~process.umask()
      await asNobody(other, [path.join(other, 'plain.txt')])
      // A member of the directory's group may give it the group, not the owner: the file stays as it was.
      await asNobody(other, [path.join(other, 'member.txt')], { groups: [4243] })
      expect([attrs(path.join(other, 'plain.txt')), attrs(path.join(other, 'member.txt'))]).toEqual([
        [65534, 65534, bits],
        [65534, 65534, bits],
      ])
      // A process that may give files away and no more (CAP_CHOWN): it writes through the handle it opened.
      await asNobody(other, [path.join(other, 'given.txt')], { chown: true })
      expect(attrs(path.join(other, 'given.txt'))).toEqual([4243, 4243, bits])
      expect(readFileSync(path.join(other, 'given.txt'), 'utf8')).toBe('new\n')
    },
  )
})

describe('a writer that may give files away and no more (CAP_CHOWN)', () => {
  it.runIf(asRoot && existsSync('/usr/bin/setpriv'))(
    "sets a replaced file's bits and a made directory's before it gives them away, when it still may",
    async () => {
      const other = othersOpenDir()
      const shared = path.join(other, 'shared.yml')
      writeFileSync(shared, 'old\n')
      chownSync(shared, 4243, 4243)
      chmodSync(shared, 0o664)
      const script = `(f.endsWith('.yml') ? writeFileAtomic(f, 'new\\n') : makeOutputDir(f))`
      await asNobody(other, [shared, path.join(other, 'made')], { chown: true, script })
      const st = (f: string) => {
        const s = statSync(f)
        return [s.uid, s.gid, s.mode & 0o777]
      }
      // Given back to its owner and group with its own bits, where chmod after chown left it 0600.
      expect(st(shared)).toEqual([4243, 4243, 0o664])
      expect(readFileSync(shared, 'utf8')).toBe('new\n')
      // The directory's owner and group, the bits mkdir gave narrowed to the directory's (0777 here).
      expect(st(path.join(other, 'made'))).toEqual([4243, 4243, 0o777 & ~0o022])
    },
  )
})

describe('an empty file made for a program to open', () => {
  it('is made with exactly the bits, whatever the umask, and a name that exists, a link too, is left alone', () => {
    const out = mkdtempSync(path.join(dir, 'empty-'))
    const file = path.join(out, 'store.db')
    const old = process.umask(0o277)
    try {
      expect(createEmptyFileSync(file, 0o600)).toBe(true)
    } finally {
      process.umask(old)
    }
    expect([modeOf(file), readFileSync(file, 'utf8')]).toEqual([0o600, ''])
    writeFileSync(file, 'data')
    expect(createEmptyFileSync(file, 0o644)).toBe(false)
    expect([modeOf(file), readFileSync(file, 'utf8')]).toEqual([0o600, 'data'])
    symlinkSync('missing.db', path.join(out, 'link.db'))
    expect(createEmptyFileSync(path.join(out, 'link.db'), 0o600)).toBe(false)
    expect(readdirSync(out).sort()).toEqual(['link.db', 'store.db'])
  })

  it.runIf(asRoot)("is the user's in the user's directory, and a link there gives nothing away", () => {
    const user = mkdtempSync(path.join(dir, 'users-'))
    chownSync(user, 65534, 4242)
    chmodSync(user, 0o750)
    expect(createEmptyFileSync(path.join(user, 'store.db'), 0o600)).toBe(true)
    expect(createEmptyFileSync(path.join(user, 'pipeline'), 0o664)).toBe(true)
    const st = (f: string) => [statSync(f).uid, statSync(f).gid, modeOf(f)]
    expect([st(path.join(user, 'store.db')), st(path.join(user, 'pipeline'))]).toEqual([
      [65534, 4242, 0o600],
      [65534, 4242, 0o640],
    ])
    const roots = path.join(dir, 'roots-file')
    writeFileSync(roots, 'x')
    symlinkSync(roots, path.join(user, 'planted.db'))
    expect(createEmptyFileSync(path.join(user, 'planted.db'), 0o600)).toBe(false)
    expect(st(roots)).toEqual([0, 0, 0o644 & ~process.umask()])
  })

  it.runIf(asRoot && existsSync('/usr/bin/setpriv'))(
    'is kept by a writer that may give it away but could then not open it itself',
    async () => {
      const other = othersOpenDir()
      await asNobody(other, [path.join(other, 'private.db'), path.join(other, 'open.db')], {
        chown: true,
        script: `createEmptyFileSync(f, f.endsWith('private.db') ? 0o600 : 0o666)`,
      })
      const st = (f: string) => [statSync(f).uid, statSync(f).gid, modeOf(f)]
      // 0600 given to user 4243 would shut the writer out: it keeps it. 0666 it could still open: given.
      expect([st(path.join(other, 'private.db')), st(path.join(other, 'open.db'))]).toEqual([
        [65534, 65534, 0o600],
        [4243, 4243, 0o666],
      ])
    },
  )
})

describe('a new file like others', () => {
  it('takes the bits every one of the files has, and no group bits when their groups differ', async () => {
    const out = mkdtempSync(path.join(dir, 'like-'))
    const files = { a: 0o640, b: 0o604, c: 0o664 }
    for (const [name, bits] of Object.entries(files)) {
      writeFileSync(path.join(out, name), 'x\n')
      chmodSync(path.join(out, name), bits)
    }
    const of = (...names: string[]) => commonAttributes(names.map((n) => path.join(out, n)))
    const own = { uid: process.getuid?.(), gid: process.getgid?.() }
    expect(await of('a', 'c')).toEqual({ mode: 0o640, ...own })
    expect(await of('a', 'b', 'c')).toEqual({ mode: 0o600, ...own })
    // Missing files and directories are left out; with nothing left, there is nothing to follow.
    expect(await of('c', 'missing', '.')).toEqual({ mode: 0o664, ...own })
    expect(await of('missing')).toBeUndefined()
    if (asRoot) {
      chownSync(path.join(out, 'c'), 65534, 4242)
      expect(await of('a', 'c')).toEqual({ mode: 0o600 })
      chownSync(path.join(out, 'a'), 65534, 4243)
      expect(await of('a', 'c')).toEqual({ mode: 0o600, uid: 65534 })
    }
  })

  it('is created with those bits whatever the umask, narrowed by a mode, and a file that exists keeps its own', async () => {
    const out = mkdtempSync(path.join(dir, 'like-'))
    const seen: number[] = []
    async function* produce() {
      const tmp = readdirSync(out).filter((f) => f.endsWith('.tmp'))
      seen.push(modeOf(path.join(out, tmp[0]!)))
      yield 'new\n'
    }
    writeFileSync(path.join(out, 'kept.yml'), 'old\n')
    chmodSync(path.join(out, 'kept.yml'), 0o644)
    const umask = process.umask(0)
    try {
      await writeFileAtomic(path.join(out, 'new.yml'), produce(), { newFileLike: { mode: 0o640 } })
      await writeFileAtomic(path.join(out, 'narrowed.yml'), 'new\n', { newFileLike: { mode: 0o644 }, mode: 0o600 })
      await writeFileAtomic(path.join(out, 'kept.yml'), 'new\n', { newFileLike: { mode: 0o600 } })
    } finally {
      process.umask(umask)
    }
    expect(seen).toEqual([0o640])
    expect(['new.yml', 'narrowed.yml', 'kept.yml'].map((f) => modeOf(path.join(out, f)))).toEqual([0o640, 0o600, 0o644])
  })

  it.runIf(asRoot)('is given their owner and group by a writer that may give files away', async () => {
    const out = mkdtempSync(path.join(dir, 'like-'))
    const file = path.join(out, 'reviewed.yml')
    await writeFileAtomic(file, 'new\n', { newFileLike: { mode: 0o640, uid: 65534, gid: 4242 } })
    const st = statSync(file)
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 4242, 0o640])
  })
})

describe('writeFileAtomic through a symbolic link', () => {
  const linked = () => {
    const out = mkdtempSync(path.join(dir, 'links-'))
    mkdirSync(path.join(out, 'shared'))
    mkdirSync(path.join(out, 'project'))
    return out
  }
  const isLink = (f: string) => lstatSync(f).isSymbolicLink()

  it('replaces the file the link leads to, with a temporary file beside it, and keeps the link', async () => {
    const out = linked()
    const target = path.join(out, 'shared', 'nlu.yml')
    const link = path.join(out, 'project', 'nlu.yml')
    writeFileSync(target, 'old\n')
    chmodSync(target, 0o640)
    symlinkSync('../shared/nlu.yml', link)
    const seen: string[][] = []
    async function* produce() {
      const temps = (d: string) => readdirSync(path.join(out, d)).filter((f) => f.endsWith('.tmp'))
      seen.push(temps('shared'), temps('project'))
      yield 'new\n'
    }
    await writeFileAtomic(link, produce())
    expect(seen.map((t) => t.length)).toEqual([1, 0])
    expect([isLink(link), readlinkSync(link), readFileSync(link, 'utf8')]).toEqual([true, '../shared/nlu.yml', 'new\n'])
    expect([readFileSync(target, 'utf8'), modeOf(target)]).toEqual(['new\n', 0o640])
    // Through a chain of links, and with a mode, likewise; `root` lets a link inside it through.
    symlinkSync('nlu.yml', path.join(out, 'project', 'again.yml'))
    await writeFileAtomic(path.join(out, 'project', 'again.yml'), 'newer\n', { mode: 0o600, root: out })
    expect([isLink(path.join(out, 'project', 'again.yml')), readFileSync(target, 'utf8'), modeOf(target)]).toEqual([
      true,
      'newer\n',
      0o600,
    ])
    expect(readdirSync(path.join(out, 'shared'))).toEqual(['nlu.yml'])
    expect(readdirSync(path.join(out, 'project')).sort()).toEqual(['again.yml', 'nlu.yml'])
  })

  it('reads a relative link from the directory a linked directory leads to, as the system does', async () => {
    const out = linked()
    mkdirSync(path.join(out, 'shared', 'deep'))
    writeFileSync(path.join(out, 'shared', 'nlu.yml'), 'old\n')
    symlinkSync('../nlu.yml', path.join(out, 'shared', 'deep', 'nlu.yml'))
    // project/data -> shared/deep: `..` from there is shared/, not project/.
    symlinkSync('../shared/deep', path.join(out, 'project', 'data'))
    await writeFileAtomic(path.join(out, 'project', 'data', 'nlu.yml'), 'new\n')
    expect(readFileSync(path.join(out, 'shared', 'nlu.yml'), 'utf8')).toBe('new\n')
    expect(readdirSync(path.join(out, 'project'))).toEqual(['data'])
  })

  it('writes the file a dangling link names when its directory exists, and keeps the link', async () => {
    const out = linked()
    const link = path.join(out, 'project', 'reviewed.yml')
    symlinkSync('../shared/reviewed.yml', link)
    await writeFileAtomic(link, 'new\n')
    expect([isLink(link), readFileSync(path.join(out, 'shared', 'reviewed.yml'), 'utf8')]).toEqual([true, 'new\n'])
  })

  it('refuses a dangling link whose directory does not exist, and makes none', async () => {
    const out = linked()
    const link = path.join(out, 'project', 'nlu.yml')
    const target = path.join(out, 'unmounted', 'nlu.yml')
    symlinkSync(target, link)
    const err = await writeFileAtomic(link, 'new\n').catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'ERR_WRITE_DANGLING_LINK',
      message: `Cannot write ${link}: it is a symbolic link to ${target}, and ${path.join(out, 'unmounted')} does not exist`,
    })
    expect((err as { hint: string }).hint).toMatch(/not mounted.*remove the link/)
    writeFileSync(path.join(out, 'shared', 'file'), '')
    symlinkSync('../shared/file/nlu.yml', path.join(out, 'project', 'under-a-file.yml'))
    await expect(writeFileAtomic(path.join(out, 'project', 'under-a-file.yml'), 'x')).rejects.toMatchObject({
      code: 'ERR_WRITE_DANGLING_LINK',
      message: expect.stringMatching(/shared\/file is a file, not a directory$/),
    })
    expect(readdirSync(out).sort()).toEqual(['project', 'shared'])
    expect(isLink(link)).toBe(true)
  })

  it('refuses a loop of links, and a link that leads out of `root`', async () => {
    const out = linked()
    const a = path.join(out, 'project', 'a.yml')
    symlinkSync('b.yml', a)
    symlinkSync('a.yml', path.join(out, 'project', 'b.yml'))
    await expect(writeFileAtomic(a, 'x')).rejects.toMatchObject({
      code: 'ERR_WRITE_FAILED',
      message: `Cannot write ${a}: its symbolic links lead round in a loop (or through more than 40 links) (ELOOP)`,
    })
    const target = path.join(out, 'shared', 'nlu.yml')
    writeFileSync(target, 'old\n')
    const link = path.join(out, 'project', 'nlu.yml')
    symlinkSync(target, link)
    const root = path.join(out, 'project')
    await expect(writeFileAtomic(link, 'new\n', { root })).rejects.toMatchObject({
      code: 'ERR_PATH_OUTSIDE_PROJECT',
      message: `${link} (${realpathSync(target)}) is outside the project directory ${root}`,
    })
    // A linked directory leads out as well, for a new file too.
    symlinkSync('../shared', path.join(root, 'data'))
    await expect(writeFileAtomic(path.join(root, 'data', 'new', 'x.yml'), 'x', { root })).rejects.toMatchObject({
      code: 'ERR_PATH_OUTSIDE_PROJECT',
    })
    expect([readFileSync(target, 'utf8'), readdirSync(path.join(out, 'shared'))]).toEqual(['old\n', ['nlu.yml']])
  })

  it.runIf(asRoot)("follows another user's link only to what that user owns", async () => {
    const out = linked()
    const own = path.join(out, 'shared', 'users.yml')
    const roots = path.join(out, 'shared', 'roots.yml')
    writeFileSync(own, 'old\n')
    writeFileSync(roots, 'old\n')
    chownSync(own, 65534, 65534)
    const link = (name: string, to: string) => {
      const l = path.join(out, 'project', name)
      symlinkSync(to, l)
      lchownSync(l, 65534, 65534)
      return l
    }
    await writeFileAtomic(link('users.yml', own), 'new\n')
    expect([readFileSync(own, 'utf8'), statSync(own).uid]).toEqual(['new\n', 65534])
    const toRoots = link('roots.yml', roots)
    await expect(writeFileAtomic(toRoots, 'new\n')).rejects.toMatchObject({
      code: 'ERR_WRITE_LINK_UNTRUSTED',
      message: `Cannot write ${toRoots}: it is a symbolic link of user 65534, and ${roots}, where it leads, is user 0's`,
    })
    // Nor through a link of root's on the way, nor to a new file in a directory of root's.
    const chain = path.join(out, 'project', 'chain.yml')
    symlinkSync(roots, chain)
    await expect(writeFileAtomic(link('via.yml', chain), 'new\n')).rejects.toMatchObject({
      code: 'ERR_WRITE_LINK_UNTRUSTED',
    })
    await expect(writeFileAtomic(link('new.yml', path.join(out, 'shared', 'new.yml')), 'x')).rejects.toMatchObject({
      code: 'ERR_WRITE_LINK_UNTRUSTED',
      message: expect.stringContaining(`${path.join(out, 'shared')}, where it leads, is user 0's`),
    })
    expect(readFileSync(roots, 'utf8')).toBe('old\n')
    expect(readdirSync(path.join(out, 'shared')).sort()).toEqual(['roots.yml', 'users.yml'])
  })

  it('cannot keep a hard link: the other name keeps the old content', async () => {
    const out = linked()
    const file = path.join(out, 'project', 'nlu.yml')
    const other = path.join(out, 'shared', 'nlu.yml')
    writeFileSync(file, 'old\n')
    linkSync(file, other)
    await writeFileAtomic(file, 'new\n')
    expect([readFileSync(file, 'utf8'), readFileSync(other, 'utf8')]).toEqual(['new\n', 'old\n'])
    expect([statSync(file).nlink, statSync(other).nlink]).toEqual([1, 1])
  })
})

/** A directory of user 4243 that anyone may write into, where nobody can reach it (`dir` is root's alone). */
function othersOpenDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'io-fs-others-'))
  otherDirs.push(d)
  chownSync(d, 4243, 4243)
  chmodSync(d, 0o777)
  return d
}
const otherDirs: string[] = []
afterAll(() => {
  for (const d of otherDirs) rmSync(d, { recursive: true, force: true })
})

/**
 * Run `script` (by default writeFileAtomic writing `new\n`) as nobody (uid and gid 65534, no other groups) on each of
 * `files`, as `f`; with `chown`, nobody may give files away (CAP_CHOWN) and no more; with `groups`, it is a member
 * of those.
 */
async function asNobody(
  cwd: string,
  files: string[],
  options: { chown?: boolean; script?: string; groups?: number[] } = {},
): Promise<void> {
  const repo = path.resolve(import.meta.dirname, '../..')
  const script = `import { createEmptyFileSync, makeOutputDir, writeFileAtomic } from ${JSON.stringify(path.join(repo, 'src/util/fs.ts'))}
for (const f of process.argv.slice(1)) await ${options.script ?? "writeFileAtomic(f, 'new\\n')"}`
  await runScriptAs(script, files, { cwd, ...(options.groups ? { groups: options.groups } : {}), chown: options.chown })
}
