import { describe, expect, it } from 'vitest'
import { catchError } from '../../test/helpers/catch-error.js'
import { MAX_YAML_DEPTH, parseYaml } from './yaml.js'

describe('parseYaml', () => {
  it('refuses block sequences nested thousands deep at the first level past the limit', () => {
    const text = `metadata:\n    ${'- '.repeat(3000)}x\n`
    const e = catchError(() => parseYaml(text, 'deep.yml'))
    expect(e.code).toBe('ERR_YAML_TOO_DEEP')
    // the top mapping is level 0, so the first refused item is the 64th "- " on line 2
    expect(e.location).toEqual({ file: 'deep.yml', line: 2, column: 5 + 2 * (MAX_YAML_DEPTH - 1) })
    expect(e.hint).toBeTruthy()
  })

  it('refuses flow brackets nested thousands deep with a position', () => {
    const e = catchError(() => parseYaml(`a: ${'['.repeat(20000)}${']'.repeat(20000)}\n`, 'flow.yml'))
    expect(e.code).toBe('ERR_YAML_TOO_DEEP')
    expect(e.location).toMatchObject({ file: 'flow.yml', line: 1 })
    expect(e.location?.column).toBeGreaterThan(MAX_YAML_DEPTH)
    const maps = catchError(() => parseYaml(`a: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}\n`, 'map.yml'))
    expect(maps.code).toBe('ERR_YAML_TOO_DEEP')
  })

  it('accepts nesting up to the limit', () => {
    const ok = `a: ${'['.repeat(MAX_YAML_DEPTH - 1)}1${']'.repeat(MAX_YAML_DEPTH - 1)}\n`
    expect(() => parseYaml(ok, 'ok.yml')).not.toThrow()
    const over = `a: ${'['.repeat(MAX_YAML_DEPTH)}1${']'.repeat(MAX_YAML_DEPTH)}\n`
    expect(catchError(() => parseYaml(over, 'over.yml')).code).toBe('ERR_YAML_TOO_DEEP')
  })

  it('says a file holds more than one document and points at the marker that starts the second', () => {
    const e = catchError(() => parseYaml('---\na: 1\n---\nb: 2\n', 'two.yml'))
    expect(e.code).toBe('ERR_YAML_SYNTAX')
    expect(e.message).toContain('more than one YAML document')
    expect(e.message).not.toContain('parseAllDocuments')
    expect(e.location).toEqual({ file: 'two.yml', line: 3, column: 1 })
    expect(e.hint).toContain('---')
  })
})
