import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CATALOG } from '../errors.js'
import {
  compareDiagnostics,
  diagnosticToError,
  errorDiagnostic,
  formatDiagnostic,
  WARNING_CATALOG,
  warningDiagnostic,
} from './diagnostics.js'

const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
const documented = new Set([...docs.matchAll(/^### (WARN_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]))

describe('warning catalog', () => {
  it('documents every warning code in docs/errors.md, and no other', () => {
    expect([...documented].sort()).toEqual(Object.keys(WARNING_CATALOG).sort())
  })
  it('never shares a code with the error catalog', () => {
    for (const code of Object.keys(WARNING_CATALOG)) expect(code in ERROR_CATALOG).toBe(false)
  })
})

describe('diagnostics', () => {
  it('fill templates and keep hints and positions', () => {
    const d = errorDiagnostic('ERR_DATA_EMPTY_EXAMPLE', { intent: 'greet' }, { file: 'a.yml', line: 3, column: 7 })
    expect(d).toEqual({
      severity: 'error',
      code: 'ERR_DATA_EMPTY_EXAMPLE',
      message: 'Empty example in intent greet',
      location: { file: 'a.yml', line: 3, column: 7 },
      hint: ERROR_CATALOG.ERR_DATA_EMPTY_EXAMPLE.hint,
    })
    expect(formatDiagnostic(d)).toBe('a.yml:3:7: error ERR_DATA_EMPTY_EXAMPLE: Empty example in intent greet')
    const err = diagnosticToError(d)
    expect(err.code).toBe('ERR_DATA_EMPTY_EXAMPLE')
    expect(err.describe()).toBe('a.yml:3:7: Empty example in intent greet')
  })
  it('fill every placeholder of each message and hint from the params they name', () => {
    const placeholder = /\{(\w+)\}/g
    const params = (entry: { message: string; hint?: string }) =>
      Object.fromEntries(
        [...`${entry.message} ${entry.hint ?? ''}`.matchAll(placeholder)].map((m) => [m[1]!, `<${m[1]}>`]),
      )
    const at = { file: 'a.yml' }
    const made = [
      ...Object.entries(ERROR_CATALOG).map(([code, entry]) =>
        errorDiagnostic(code as keyof typeof ERROR_CATALOG, params(entry), at),
      ),
      ...Object.entries(WARNING_CATALOG).map(([code, entry]) =>
        warningDiagnostic(code as keyof typeof WARNING_CATALOG, params(entry), at),
      ),
    ]
    const unfilled = made.filter((d) => /\{\w+\}/.test(`${d.message} ${d.hint ?? ''}`)).map((d) => d.code)
    expect(unfilled).toEqual([])
  })
  it('sort by file, line, column, errors first', () => {
    const w = warningDiagnostic(
      'WARN_DATA_FEW_EXAMPLES',
      { intent: 'x', count: 1, s: '', min: 5 },
      { file: 'a.yml', line: 2 },
    )
    const e1 = errorDiagnostic('ERR_DATA_EMPTY_EXAMPLE', { intent: 'x' }, { file: 'a.yml', line: 2 })
    const e2 = errorDiagnostic('ERR_DATA_EMPTY_EXAMPLE', { intent: 'x' }, { file: 'a.yml', line: 1, column: 9 })
    const e3 = errorDiagnostic('ERR_DATA_EMPTY_EXAMPLE', { intent: 'x' }, { file: 'B.yml', line: 1 })
    expect([w, e1, e3, e2].sort(compareDiagnostics)).toEqual([e3, e2, e1, w])
  })
})
