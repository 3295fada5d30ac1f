import { once } from 'node:events'
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { runScriptAs } from '../../test/helpers/as-user.js'
import { samplePrediction } from './contract.js'
import { exposedStoreFiles, openSqliteStore } from './sqlite.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
function tmpFile(name = 'log.db'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'intentops-sqlite-'))
  dirs.push(dir)
  return path.join(dir, name)
}
const mode = (file: string) => statSync(file).mode & 0o777
/** Root may give files away; the tests of owners need it. */
const asRoot = process.platform === 'linux' && process.getuid?.() === 0
const NOBODY = 65534
const umask = process.umask()
afterEach(() => {
  process.umask(umask)
})

/** Opens a store on `file`, writes a few predictions and returns the modes of the files while it is still open. */
async function modesWhileOpen(file: string): Promise<Record<string, number>> {
  const store = openSqliteStore({ file })
  try {
    await store.migrate()
    await store.insertPredictions([samplePrediction(1), samplePrediction(2)])
    // WAL mode: both side files exist while a connection is open.
    expect(existsSync(`${file}-wal`) && existsSync(`${file}-shm`)).toBe(true)
    return { db: mode(file), wal: mode(`${file}-wal`), shm: mode(`${file}-shm`) }
  } finally {
    await store.close()
  }
}

describe('releaseMemory', () => {
  it('frees the cache of a connection that keeps working after it, and is a no-op once closed', async () => {
    const store = openSqliteStore({ file: tmpFile() })
    await store.migrate()
    await store.insertPredictions(Array.from({ length: 500 }, (_, i) => samplePrediction(i)))
    store.releaseMemory()
    await store.insertPredictions(Array.from({ length: 500 }, (_, i) => samplePrediction(500 + i)))
    expect(await store.countPredictions()).toBe(1000)
    expect((await store.getPrediction('p-00042'))?.text).toBe(samplePrediction(42).text)
    await store.close()
    expect(() => store.releaseMemory()).not.toThrow()
  })
})

describe('the permissions of a SQLite log', () => {
  it('creates the database 0600, and SQLite gives its -wal and -shm the same, under a umask that would allow more', async () => {
    process.umask(0)
    const file = tmpFile()
    expect(await modesWhileOpen(file)).toEqual({ db: 0o600, wal: 0o600, shm: 0o600 })
    expect(exposedStoreFiles(file)).toEqual([])
  })

  it('keeps the owner able to write under a umask that would take that away too', async () => {
    process.umask(0o277)
    const file = tmpFile()
    expect(await modesWhileOpen(file)).toEqual({ db: 0o600, wal: 0o600, shm: 0o600 })
    process.umask(umask)
    // Opened again, it is a log like any other.
    const store = openSqliteStore({ file })
    try {
      expect(await store.countPredictions()).toBe(2)
    } finally {
      await store.close()
    }
  })

  it('creates the directories on the way, and a new log in them 0600', async () => {
    process.umask(0o002)
    const file = path.join(path.dirname(tmpFile()), 'deep', 'er', 'store.db')
    expect((await modesWhileOpen(file)).db).toBe(0o600)
  })

  it("leaves an existing file's mode alone; SQLite gives the side files that mode, and both are reported", async () => {
    process.umask(0o022)
    const file = tmpFile()
    writeFileSync(file, '', { mode: 0o640 })
    expect(await modesWhileOpen(file)).toEqual({ db: 0o640, wal: 0o640, shm: 0o640 })
    // Open again to list the side files too (closing the last connection removes them).
    const store = openSqliteStore({ file })
    try {
      await store.countPredictions()
      expect(exposedStoreFiles(file)).toEqual([
        { path: file, mode: 0o640 },
        { path: `${file}-wal`, mode: 0o640 },
        { path: `${file}-shm`, mode: 0o640 },
      ])
    } finally {
      await store.close()
    }
  })

  it('creates nothing for a read-only open of a missing file, and reports nothing for it', () => {
    const file = tmpFile()
    expect(() => openSqliteStore({ file, readonly: true })).toThrow(
      expect.objectContaining({ code: 'ERR_STORE_UNAVAILABLE' }),
    )
    expect(existsSync(file)).toBe(false)
    expect(exposedStoreFiles(file)).toEqual([])
  })
})

describe.runIf(asRoot && existsSync('/usr/bin/setpriv'))("a log root starts in a user's directory", () => {
  it("is the user's, its -wal and -shm too, and the user can write it while root has it open and after", async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'intentops-sqlite-user-'))
    dirs.push(project)
    chownSync(project, NOBODY, 4242)
    chmodSync(project, 0o750)
    process.umask(0o022)
    const file = path.join(project, '.intentops', 'store.db')
    const owner = (f: string) => {
      const st = statSync(f)
      return [st.uid, st.gid, st.mode & 0o777]
    }
    const store = openSqliteStore({ file })
    try {
      await store.migrate()
      await store.insertPredictions([samplePrediction(1)])
      expect([file, `${file}-wal`, `${file}-shm`, path.dirname(file)].map(owner)).toEqual([
        [NOBODY, 4242, 0o600],
        [NOBODY, 4242, 0o600],
        [NOBODY, 4242, 0o600],
        [NOBODY, 4242, 0o750],
      ])
      // The user's own CLI writing beside root's server.
      expect(await insertAsNobody(file, 2)).toBe('2\n')
      expect(await store.countPredictions()).toBe(2)
    } finally {
      await store.close()
    }
    expect(await insertAsNobody(file, 3)).toBe('3\n')
    // Closing removed the side files; opened again by root, the log stays the user's, and so do the side files
    // SQLite makes anew.
    expect([existsSync(`${file}-wal`), existsSync(`${file}-shm`)]).toEqual([false, false])
    const again = openSqliteStore({ file })
    try {
      await again.insertPredictions([samplePrediction(4)])
      expect([file, `${file}-wal`, `${file}-shm`].map(owner)).toEqual([
        [NOBODY, 4242, 0o600],
        [NOBODY, 4242, 0o600],
        [NOBODY, 4242, 0o600],
      ])
      expect(await again.countPredictions()).toBe(4)
    } finally {
      await again.close()
    }
  }, 30_000)
})

/** As nobody (uid and gid 65534, no other groups): open the log at `file`, add prediction `i`, print the count. */
async function insertAsNobody(file: string, i: number): Promise<string> {
  const repo = path.resolve(import.meta.dirname, '../..')
  const script = `import { openSqliteStore } from ${JSON.stringify(path.join(repo, 'src/store/sqlite.ts'))}
import { samplePrediction } from ${JSON.stringify(path.join(repo, 'src/store/contract.ts'))}
const store = openSqliteStore({ file: process.argv[1] })
await store.insertPredictions([samplePrediction(Number(process.argv[2]))])
console.log(await store.countPredictions())
await store.close()`
  const { stdout } = await runScriptAs(script, [file, String(i)], { cwd: path.dirname(file) })
  return stdout
}

describe('transactions against another writer', () => {
  it('take the write lock first, so a commit by another connection after their first read is waited for, not a "database is locked" failure', async () => {
    const file = tmpFile()
    const store = openSqliteStore({ file })
    await store.migrate()
    // Another writer on the same file, on a thread of its own as the server's log writer is.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads')
       const db = new (require(workerData.driver))(workerData.file)
       db.pragma('busy_timeout = 5000')
       parentPort.on('message', () => {
         try {
           db.prepare('insert into store_meta (key, value) values (?, ?)').run('other', 'writer')
           parentPort.postMessage('committed')
         } catch (err) {
           parentPort.postMessage('failed: ' + err.message)
         }
       })`,
      { eval: true, workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3') } },
    )
    try {
      const next = () => once(worker, 'message').then(([m]) => m as string)
      const seenDuring = await store.db.transaction().execute(async (trx) => {
        await trx.selectFrom('store_meta').selectAll().execute()
        const reply = next()
        worker.postMessage('write')
        // The other writer commits at once if this transaction holds no write lock yet.
        const during = await Promise.race([reply, delay(300).then(() => 'waiting')])
        await trx.insertInto('store_meta').values({ key: 'mine', value: 'written' }).execute()
        return { during, reply }
      })
      expect(seenDuring.during).toBe('waiting')
      expect(await seenDuring.reply).toBe('committed')
      const keys = (await store.db.selectFrom('store_meta').select('key').execute()).map((r) => r.key)
      expect(keys).toEqual(expect.arrayContaining(['mine', 'other']))
    } finally {
      await worker.terminate()
      await store.close()
    }
  })
})
