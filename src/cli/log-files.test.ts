import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from './io.js'
import { exposedLogWarning, warnIfLogExposed } from './log-files.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-log-files-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('exposedLogWarning', () => {
  it('names each exposed file with its mode, and a chmod that runs as pasted when a path has a space or a quote', () => {
    const sub = path.join(dir, "bob's logs")
    const log = path.join(sub, 'store.db')
    mkdirSync(sub)
    writeFileSync(log, '')
    chmodSync(log, 0o640)
    writeFileSync(`${log}-wal`, '')
    chmodSync(`${log}-wal`, 0o606)
    writeFileSync(`${log}-shm`, '')
    chmodSync(`${log}-shm`, 0o600)
    const quoted = (p: string) => `'${p.replaceAll("'", `'\\''`)}'`
    expect(exposedLogWarning({ dialect: 'sqlite', location: log })).toEqual({
      message: `the prediction log holds message text, and other users may open these files of it: ${log} (0640), ${log}-wal (0606); \`chmod 600 ${quoted(log)} ${quoted(`${log}-wal`)}\` unless that is intended`,
      files: [`${log} (0640)`, `${log}-wal (0606)`],
    })
  })

  it('says nothing of a private log, a missing one, :memory: or PostgreSQL', () => {
    const log = path.join(dir, 'private.db')
    writeFileSync(log, '')
    chmodSync(log, 0o600)
    expect(exposedLogWarning({ dialect: 'sqlite', location: log })).toBeUndefined()
    expect(exposedLogWarning({ dialect: 'sqlite', location: path.join(dir, 'none.db') })).toBeUndefined()
    expect(exposedLogWarning({ dialect: 'sqlite', location: ':memory:' })).toBeUndefined()
    // The grants of the database decide there, even were a readable file to carry the name.
    const named = path.join(dir, 'postgres.db')
    writeFileSync(named, '')
    chmodSync(named, 0o644)
    expect(exposedLogWarning({ dialect: 'postgres', location: named })).toBeUndefined()
    const io = memoryIO(dir)
    warnIfLogExposed(io, { dialect: 'postgres', location: named })
    warnIfLogExposed(io, { dialect: 'sqlite', location: log })
    expect(io.err()).toBe('')
    warnIfLogExposed(io, { dialect: 'sqlite', location: named })
    expect(io.err()).toMatch(
      /^warning: the prediction log holds message text, .*postgres\.db \(0644\); `chmod 600 .*\n$/,
    )
  })
})
