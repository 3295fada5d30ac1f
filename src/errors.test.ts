import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { WARNING_CATALOG } from './data/diagnostics.js'
import { createError, ERROR_CATALOG, type ErrorCode, IntentopsError } from './errors.js'
import { describeTimeForms } from './util/time.js'

const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
const documented = new Set([...docs.matchAll(/^### (ERR_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]))

describe('error catalog', () => {
  it('documents every code in docs/errors.md', () => {
    const missing = Object.keys(ERROR_CATALOG).filter((c) => !documented.has(c))
    expect(missing).toEqual([])
  })
  it('documents no code that does not exist', () => {
    const extra = [...documented].filter((c) => c !== undefined && !(c in ERROR_CATALOG))
    expect(extra).toEqual([])
  })
  it('gives each code of docs/errors.md one section, headed by the code alone', () => {
    // a heading the two checks above skip (`### ERR_X (removed)`, `### \`ERR_X\``) would hide a code from both
    const headings = [...docs.matchAll(/^### (.*)$/gm)].map((m) => m[1]!.trim())
    const known = (h: string) => h in ERROR_CATALOG || h in WARNING_CATALOG
    expect(headings.filter((h) => !known(h))).toEqual([])
    expect(headings.filter((h, i) => headings.indexOf(h) !== i)).toEqual([])
  })
  it('names in the docs and README only codes that exist', () => {
    const root = new URL('../', import.meta.url)
    const files = ['README.md', ...readdirSync(new URL('docs/', root)).map((f) => `docs/${f}`)]
    const unknown = files.flatMap((file) =>
      [...readFileSync(new URL(file, root), 'utf8').matchAll(/\b(?:ERR|WARN)_[A-Z0-9_]*[A-Z0-9]\b/g)]
        .map((m) => m[0])
        .filter((code) => !(code in ERROR_CATALOG) && !(code in WARNING_CATALOG))
        .map((code) => `${file}: ${code}`),
    )
    expect(unknown).toEqual([])
  })
  it('lists the time forms the monitor window reads in its hint, as util/time.ts describes them', () => {
    expect(ERROR_CATALOG.ERR_MONITOR_WINDOW.hint).toContain(`each ${describeTimeForms()}.`)
  })
  it('fills templates, keeps status and location', () => {
    const e = createError(
      'ERR_FILE_TOO_LARGE',
      { path: 'a.yml', size: 10, limit: 5 },
      { location: { file: 'a.yml', line: 3, column: 2 } },
    )
    expect(e).toBeInstanceOf(IntentopsError)
    expect(e.message).toBe('a.yml is 10 bytes, over the 5-byte limit')
    expect(e.statusCode).toBe(413)
    expect(e.describe()).toBe('a.yml:3:2: a.yml is 10 bytes, over the 5-byte limit')
    expect(e.toJSON()).toMatchObject({ code: 'ERR_FILE_TOO_LARGE', location: { line: 3 } })
  })
  it('fills every placeholder of each message and hint from the params they name', () => {
    const placeholder = /\{(\w+)\}/g
    const unfilled: string[] = []
    for (const [code, entry] of Object.entries(ERROR_CATALOG) as [ErrorCode, { message: string; hint?: string }][]) {
      const names = [...`${entry.message} ${entry.hint ?? ''}`.matchAll(placeholder)].map((m) => m[1]!)
      const e = createError(code, Object.fromEntries(names.map((n) => [n, `<${n}>`])))
      for (const text of [e.message, e.hint ?? '']) {
        const left = text.match(placeholder)
        if (left) unfilled.push(`${code}: ${left.join(', ')}`)
      }
      for (const n of names) expect(`${e.message} ${e.hint ?? ''}`).toContain(`<${n}>`)
    }
    expect(unfilled).toEqual([])
  })
  it('fills the hint from the params', () => {
    const e = createError('ERR_REGISTRY_ALIAS_NOT_SET', { name: 'bot', alias: 'staging' })
    expect(e.hint).toBe('Promote a version first: `intentops promote <version> --to staging`.')
    expect(e.toJSON().hint).toBe(e.hint)
  })
  it('uses valid HTTP statuses and non-empty messages', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      expect(code).toMatch(/^ERR_[A-Z0-9_]+$/)
      expect(entry.status).toBeGreaterThanOrEqual(400)
      expect(entry.status).toBeLessThan(600)
      expect(entry.message.length).toBeGreaterThan(0)
    }
  })
})
