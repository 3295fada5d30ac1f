import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { catchError } from '../../test/helpers/catch-error.js'
import { defaultConfig } from '../config/defaults.js'
import type { IntentopsError } from '../errors.js'
import { loadConfig, parseConfig } from './config.js'

describe('config', () => {
  it('applies defaults and deep-freezes', () => {
    const c = parseConfig('fields: {subject: 2, body: 1}\n', 'intentops.yml')
    expect(c.fields).toEqual({ subject: 2, body: 1 })
    expect(c.fallback.intent).toBe('nlu_fallback')
    expect(c.data).toEqual(['data'])
    expect(Object.isFrozen(c.fallback)).toBe(true)
  })
  it('points unknown keys at their line and column', () => {
    const e = catchError(() => parseConfig('name: x\nfallback:\n  threshhold: 0.2\n', 'intentops.yml'))
    expect(e.code).toBe('ERR_CONFIG_INVALID')
    expect(e.location).toEqual({ file: 'intentops.yml', line: 3, column: 3 })
    expect(e.message).toContain('unknown key `fallback.threshhold`')
  })
  it('reports wrong types and ranges with positions', () => {
    const e = catchError(() => parseConfig('data: 3\nfallback:\n  threshold: 2\n', 'c.yml'))
    expect(e.message).toContain('2 problems')
    expect(e.message).toContain('c.yml:1:7: `data`: expected array')
    expect(e.message).toContain('c.yml:3:14: `fallback.threshold`')
  })
  it('holds the fallback intent to the intent naming rules, at its position', () => {
    const e = catchError(() => parseConfig('name: x\nfallback:\n  intent: out of scope\n', 'c.yml'))
    expect(e.code).toBe('ERR_CONFIG_INVALID')
    expect(e.location).toEqual({ file: 'c.yml', line: 3, column: 11 })
    expect(e.message).toBe(
      "Invalid config: `fallback.intent` 'out of scope' is not a valid intent name: it contains a space. Intent names are letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`; one `/` may join two such names (faq/opening_hours); YAML keywords and numbers (null, true, 42) are not names. Rename it, e.g. to out_of_scope.",
    )
    const keyword = catchError(() => parseConfig("fallback:\n  intent: 'null'\n", 'c.yml'))
    expect(keyword.message).toContain("`fallback.intent` 'null' is not a valid intent name: YAML reads it as null")
    // listed with the other problems of the file
    const both = catchError(() => parseConfig('data: 3\nfallback:\n  intent: "a:b"\n', 'c.yml'))
    expect(both.message).toContain('c.yml:1:7: `data`: expected array')
    expect(parseConfig('fallback:\n  intent: faq/out_of_scope\n', 'c.yml').fallback.intent).toBe('faq/out_of_scope')
  })
  it('reads the monitor reference and window at load, pointing at the key', () => {
    const bad = catchError(() => parseConfig('monitor:\n  reference: 2026-02-30..3d\n', 'c.yml'))
    expect(bad.code).toBe('ERR_CONFIG_INVALID')
    expect(bad.location).toEqual({ file: 'c.yml', line: 2, column: 14 })
    expect(bad.message).toContain('`monitor.reference`: Cannot read the reference "2026-02-30..3d": FROM')
    expect(bad.message).toContain('February 2026 has only 28 days')
    const backwards = catchError(() => parseConfig('monitor:\n  reference: 7d..30d\n', 'c.yml'))
    expect(backwards.message).toContain('FROM must be before TO')
    const alone = catchError(() => parseConfig('monitor:\n  reference: 2026-01-31\n', 'c.yml'))
    expect(alone.location).toEqual({ file: 'c.yml', line: 2, column: 14 })
    const window = catchError(() => parseConfig('monitor:\n  window: 0d\n', 'c.yml'))
    expect(window.message).toContain('`monitor.window`')
    for (const reference of ['training', '14d', '30d..7d', '2026-01-01..2026-02-01T12:00Z', '2w', '2w..90m'])
      expect(parseConfig(`monitor:\n  reference: ${reference}\n`, 'c.yml').monitor.reference).toBe(reference)
    for (const window of ['30m', '24h', '7d', '2w'])
      expect(parseConfig(`monitor:\n  window: ${window}\n`, 'c.yml').monitor.window).toBe(window)
    // an age takes the units of a duration, no others: `mo` is named, at its line
    const months = catchError(() => parseConfig('monitor:\n  reference: 2mo..1w\n', 'c.yml'))
    expect([months.code, months.location]).toEqual(['ERR_CONFIG_INVALID', { file: 'c.yml', line: 2, column: 14 }])
    expect(months.message).toContain(
      'FROM "2mo" is not a date ("mo" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks))',
    )
    const upper = catchError(() => parseConfig('monitor:\n  window: 30M\n', 'c.yml'))
    expect([upper.code, upper.location]).toEqual(['ERR_CONFIG_INVALID', { file: 'c.yml', line: 2, column: 11 }])
    expect(upper.message).toContain(
      '`monitor.window`: Cannot read the window "30M": "M" is not a unit of time: use m (minutes, not months), h (hours), d (days) or w (weeks)',
    )
    const fraction = catchError(() => parseConfig('monitor:\n  window: 1.5d\n', 'c.yml'))
    expect(fraction.message).toContain(
      '`monitor.window`: Cannot read the window "1.5d": expected a positive whole number',
    )
  })
  it('checks the pipeline components at load, pointing at the offending step or parameter', () => {
    const unknown = catchError(() => parseConfig('name: x\npipeline:\n  - type: nonexistent_component\n', 'c.yml'))
    expect(unknown.code).toBe('ERR_NLU_UNKNOWN_COMPONENT')
    expect(unknown.location).toEqual({ file: 'c.yml', line: 3, column: 5 })
    const range = catchError(() =>
      parseConfig('pipeline:\n  - type: tfidf\n    name: words\n    ngramMax: 99\n  - type: linear_svm\n', 'c.yml'),
    )
    expect(range.code).toBe('ERR_NLU_PARAM_INVALID')
    expect(range.location).toEqual({ file: 'c.yml', line: 4, column: 5 })
    expect(range.message).toContain("The 'ngramMax' parameter of tfidf must be an int in [1, 8]. Got 99 instead.")
    const order = catchError(() => parseConfig('pipeline:\n  - type: linear_svm\n  - {type: tfidf}\n', 'c.yml'))
    expect(order.code).toBe('ERR_NLU_PIPELINE_INVALID')
    expect(order.location).toEqual({ file: 'c.yml', line: 3, column: 5 })
    const none = catchError(() => parseConfig('name: x\npipeline:\n  - type: tfidf\n', 'c.yml'))
    expect(none.message).toContain('found 0')
    expect(none.location).toEqual({ file: 'c.yml', line: 2, column: 1 })
    expect(parseConfig('pipeline:\n  - type: tfidf\n  - type: linear_svm\n', 'c.yml').pipeline).toHaveLength(2)
  })
  it('reports YAML syntax errors with a position', () => {
    const e = catchError(() => parseConfig('name: x\nname: y\n', 'c.yml'))
    expect(e.code).toBe('ERR_YAML_SYNTAX')
    expect(e.location?.line).toBe(2)
  })
  it('refuses a file of two YAML documents at the second marker', () => {
    const e = catchError(() => parseConfig('---\nname: x\n---\nname: y\n', 'c.yml'))
    expect(e.code).toBe('ERR_YAML_SYNTAX')
    expect(e.message).toBe('YAML syntax error: the file holds more than one YAML document; only one is allowed')
    expect(e.location).toEqual({ file: 'c.yml', line: 3, column: 1 })
  })
  it('refuses YAML nested thousands deep with ERR_YAML_TOO_DEEP and a position', () => {
    const e = catchError(() => parseConfig(`name: x\nextra:\n  ${'- '.repeat(3000)}x\n`, 'c.yml'))
    expect(e.code).toBe('ERR_YAML_TOO_DEEP')
    expect(e.location).toMatchObject({ file: 'c.yml', line: 3 })
  })
  it('refuses alias bombs', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
      )
    const e = catchError(() => parseConfig(`${bomb.join('\n')}\n`, 'c.yml'))
    expect(e.code).toBe('ERR_YAML_ALIAS_BOMB')
  })
  it('refuses a redaction rule that can backtrack catastrophically, naming its path and the rewrite', () => {
    const text = [
      'store:',
      '  redaction:',
      "    - { pattern: '\\b\\d{6}\\b', replacement: '[id]' }",
      "    - { pattern: '(a+)+$', replacement: '[x]' }",
      '',
    ].join('\n')
    const e = catchError(() => parseConfig(text, 'c.yml'))
    expect(e.code).toBe('ERR_CONFIG_INVALID')
    expect(e.location).toMatchObject({ file: 'c.yml', line: 4 })
    expect(e.message).toContain('`store.redaction.1.pattern` /(a+)+$/ can take too long on some inputs')
    expect(e.message).toContain('exponential backtracking in `(a+)+`')
    expect(e.message).toContain('make each part match a text one way only')
    const overlapping = catchError(() => parseConfig(text.replace('(a+)+$', '(\\w|\\d)+$'), 'c.yml'))
    expect(overlapping.message).toContain('exponential backtracking in `(\\w|\\d)+`')
    const words = parseConfig(text.replace('(a+)+$', '\\w+(?:\\s\\w+)*'), 'c.yml')
    expect(words.store.redaction[1]!.pattern).toBe('\\w+(?:\\s\\w+)*')
  })
  it('stops checking redaction rules past what one check may judge, at the first rule not checked', () => {
    const rules = Array.from({ length: 1001 }, (_, i) => `    - { pattern: '\\b\\d{6}-${i}\\b', replacement: '[id]' }`)
    const e = catchError(() => parseConfig(`store:\n  redaction:\n${rules.join('\n')}\n`, 'c.yml'))
    expect(e.code).toBe('ERR_CONFIG_INVALID')
    expect(e.location).toMatchObject({ file: 'c.yml', line: 1003 })
    expect(e.message).toContain('`store.redaction.1000` and the rules after it are not checked')
    expect(e.message).toContain('it has checked 1,000 patterns')
  })
  it('judges redaction rules on the longest text the server takes, and says how long a text they pass on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-cfg-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const write = (serve: string) => {
      const yml = `name: bot\nserve:\n${serve}store:\n  redaction:\n    - { pattern: '\\d+\\.\\d+', replacement: '[n]' }\n`
      writeFileSync(path.join(dir, 'intentops.yml'), yml)
    }
    // Tried from each digit of a long run: n²/2 steps, within the limit on 10,000 characters, not on 100,000.
    write('  maxTextLength: 100000\n')
    const e = await loadConfig({ dir }).then(
      () => expect.fail('the config loaded'),
      (err: unknown) => err as IntentopsError,
    )
    expect(e).toMatchObject({ code: 'ERR_CONFIG_INVALID', location: { line: 6 } })
    // Without the `u` flag the rule reads an emoji as two: 100,000 characters can be 200,000 code units.
    expect(e.message).toContain(
      '`store.redaction.0.pattern` /\\d+\\.\\d+/ can take too long on the texts of up to 100,000 characters the server can log, which it reads as up to 200,000 code units',
    )
    // The length judged is in the unit the rule reads.
    expect(e.message).toContain('over the 2.5×10^8 allowed on 200,000 UTF-16 code units;')
    expect(e.message).toContain(
      'it passes on texts of up to 11,000 characters, 22,000 code units: set `serve.maxTextLength` to 11,000 or less',
    )
    expect(e.message).toContain('with a lookbehind in front (`\\d+\\.\\d+` → `(?<!\\d)\\d+\\.\\d+`)')
    expect(e.message).toContain('a lookbehind in front, such as `(?<![…])`, takes no character')
    // Both fixes it gives pass, shorter texts and the lookbehind; and a body limit below the text limit bounds texts too.
    write('  maxTextLength: 11000\n')
    expect((await loadConfig({ dir })).config.serve.maxTextLength).toBe(11_000)
    writeFileSync(
      path.join(dir, 'intentops.yml'),
      "name: bot\nserve:\n  maxTextLength: 100000\nstore:\n  redaction:\n    - { pattern: '(?<!\\d)\\d+\\.\\d+', replacement: '[n]' }\n",
    )
    expect((await loadConfig({ dir })).config.store.redaction[0]!.pattern).toBe('(?<!\\d)\\d+\\.\\d+')
    write('  maxTextLength: 100000\n  bodyLimitBytes: 20000\n')
    expect((await loadConfig({ dir })).config.serve.bodyLimitBytes).toBe(20_000)
    // The default rules pass on any text the default body limit holds.
    writeFileSync(path.join(dir, 'intentops.yml'), 'name: bot\nserve:\n  maxTextLength: 1000000000\n')
    expect((await loadConfig({ dir })).config.store.redaction).toEqual(defaultConfig().store.redaction)
  })
  it('refuses a redaction rule that does not compile, and keeps the built-in rules when copied', () => {
    const e = catchError(() => parseConfig("store:\n  redaction:\n    - { pattern: '(', replacement: x }\n", 'c.yml'))
    expect(e.code).toBe('ERR_CONFIG_INVALID')
    expect(e.message).toContain('`store.redaction.0.pattern` /(/ does not compile')
    const copied = defaultConfig().store.redaction.map((r) => `    - ${JSON.stringify(r)}`)
    const c = parseConfig(`store:\n  redaction:\n${copied.join('\n')}\n`, 'c.yml')
    expect(c.store.redaction).toEqual(defaultConfig().store.redaction)
  })
  it('takes the log queue shares of store.writerBehindAt and writerCaughtUpAt, caught up below behind', () => {
    expect(defaultConfig().store).toMatchObject({ writerBehindAt: 0.25, writerCaughtUpAt: 0.05 })
    const c = parseConfig('store:\n  writerBehindAt: 0.5\n  writerCaughtUpAt: 0.1\n', 'c.yml')
    expect(c.store).toMatchObject({ writerBehindAt: 0.5, writerCaughtUpAt: 0.1 })
    expect(parseConfig('store:\n  writerBehindAt: 1\n', 'c.yml').store.writerBehindAt).toBe(1)
    // Out of range, each at its own key.
    const range = catchError(() => parseConfig('store:\n  writerBehindAt: 1.5\n  writerCaughtUpAt: 0\n', 'c.yml'))
    expect(range.code).toBe('ERR_CONFIG_INVALID')
    expect(range.message).toContain('2 problems')
    expect(range.message).toContain('c.yml:2:19: `store.writerBehindAt`: expected number to be less or equal to 1')
    expect(range.message).toContain('c.yml:3:21: `store.writerCaughtUpAt`: expected number to be greater than 0')
    // In range alone, but caught up not below behind: at caught up when the file sets it, else at behind.
    const crossed = catchError(() => parseConfig('store:\n  writerBehindAt: 0.2\n  writerCaughtUpAt: 0.2\n', 'c.yml'))
    expect(crossed.code).toBe('ERR_CONFIG_INVALID')
    expect(crossed.location).toEqual({ file: 'c.yml', line: 3, column: 21 })
    expect(crossed.message).toBe(
      'Invalid config: `store.writerCaughtUpAt` (0.2) must be below `store.writerBehindAt` (0.2): the log counts as behind from the first share of store.queueSize and as caught up again at the second, so lower writerCaughtUpAt or raise writerBehindAt',
    )
    const low = catchError(() => parseConfig('store:\n  queueSize: 100\n  writerBehindAt: 0.04\n', 'c.yml'))
    expect(low.location).toEqual({ file: 'c.yml', line: 3, column: 19 })
    expect(low.message).toContain('`store.writerCaughtUpAt` (0.05) must be below `store.writerBehindAt` (0.04)')
  })
  it('uses defaults when there is no intentops.yml', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-cfg-'))
    const loaded = await loadConfig({ dir })
    expect(loaded.file).toBeUndefined()
    expect(loaded.config).toEqual(defaultConfig())
    await expect(loadConfig({ dir, required: true })).rejects.toMatchObject({ code: 'ERR_CONFIG_NOT_FOUND' })
    writeFileSync(path.join(dir, 'intentops.yml'), 'language: de\n')
    expect((await loadConfig({ dir })).config.language).toBe('de')
  })
})
