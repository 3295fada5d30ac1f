import { readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadTrainingDataDetailed } from '../data/load.js'
import { DEFAULT_REDACTION_RULES } from '../store/redact.js'
import { dataRegexRisk, heuristicRisk, regexRisk } from './regex-safety.js'

const repo = new URL('../../', import.meta.url).pathname

describe('dataRegexRisk', () => {
  it.each([
    ['(a+)+$', '(a+)+'],
    ['(a*)*b', '(a*)*'],
    ['(a|a)*$', '(a|a)*'],
    ['(\\d+\\s?)+$', '(\\d+\\s?)+'],
    ['(a?a?)+$', '(a?a?)+'],
    ['((a+)?)+$', '((a+)?)+'],
    ['(a|b|ab)*c', '(a|b|ab)*'],
    // Counted repetitions are finite but can still take 2^30 steps.
    ['(?:\\w|\\d){1,30}$', '(?:\\w|\\d){1,30}'],
    ['(?:a|a){30}x', '(?:a|a){30}'],
    // Iterations up to the minimum may be empty, so "a" × 15 splits C(30, 15) ways.
    ['(?:a?){30}x', '(?:a?){30}'],
    ['(?:\\s*\\w+){1,20}$', '(?:\\s*\\w+){1,20}'],
    ['(ab{2}|abb)+$', '(ab{2}|abb)+'],
    ['(?=(a+)+$)', '(a+)+'],
    // Overlapping alternatives that the old star-height check passed.
    ['(\\w|\\d)+$', '(\\w|\\d)+'],
    // Safe alone (the first way a match ends wins), exponential between word boundaries as regex_entities runs it.
    ['(a|aa)+', '(a|aa)+'],
    ['(\\w|\\d)+', '(\\w|\\d)+'],
  ])('refuses %s as exponential, naming %s and an attack string', (pattern, culprit) => {
    new RegExp(pattern, 'u')
    const risk = dataRegexRisk(pattern)
    expect(risk).toMatchObject({ complexity: 'exponential', attack: expect.stringContaining('.repeat(30)') })
    expect(risk!.detail).toContain(`exponential backtracking in \`${culprit}\``)
  })

  it.each([
    ['.*a.*b', 3],
    ['\\d+\\d+$', 3],
    ['.*.*=.*', 3],
  ])('refuses %s, whose time grows as n^%i', (pattern, degree) => {
    const risk = dataRegexRisk(pattern)
    expect(risk).toMatchObject({ complexity: 'polynomial', degree })
    expect(risk!.detail).toContain(`to the power ${degree}`)
    expect(risk!.attack).toContain('.repeat(10000)')
  })

  it('shows an attack string that really is slow in V8', () => {
    const risk = dataRegexRisk('(\\w|\\d)+$')!
    // With 30 repetitions the attack takes over 2^30 steps; 12 against 6 is 2^12 times the work if it doubles with
    // each repetition and twice if it grows linearly: the margin leaves room for a noisy clock.
    const attack = (times: number) =>
      new Function(`return ${risk.attack!.replace('.repeat(30)', `.repeat(${times})`)}`)() as string
    const re = /(\w|\d)+$/u
    const time = (s: string) => {
      const start = performance.now()
      re.test(s)
      return performance.now() - start
    }
    time(attack(6))
    expect(time(attack(12))).toBeGreaterThan(50 * time(attack(6)))
  })

  it.each([
    'a+$',
    '\\d{5}',
    '[A-Z]{2}\\d{6}',
    '\\b[0-9]{4}\\b',
    '[\\w.+-]+@[\\w-]+\\.[\\w.]+',
    '[^\\s@]+@[^\\s@]+\\.[^\\s@]+',
    '\\d{3}[- ]?\\d{4}',
    '(?:\\+?1[-. ]?)?\\(?\\d{3}\\)?[-. ]?\\d{3}[-. ]?\\d{4}',
    '(\\+\\d{1,2}\\s)?\\(?\\d{3}\\)?[\\s.-]\\d{3}[\\s.-]\\d{4}',
    '\\d{1,3}(,\\d{3})*(\\.\\d+)?',
    '\\b\\d{4}-\\d{2}-\\d{2}\\b',
    '\\d{1,2}/\\d{1,2}/\\d{2,4}',
    '(?<zip>\\d{5})(?:-\\d{4})?',
    '(?<=\\$)\\d+(?:\\.\\d{2})?',
    '(?<![\\p{L}])\\p{Lu}{2}\\d+',
    '\\u{1F600}+',
    '(?<n>a+)\\k<n>',
    '[(]+(a)+',
    '(?:\\d{1,3}\\.){3}\\d{1,3}',
    '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
    '(?=[A-Z]*\\d)[A-Z0-9]{6}',
    '(a?)*b',
    // Refused by the old star-height check although every repetition starts where the previous cannot go on.
    '\\w+(?:\\s\\w+)*',
    '(\\d{3}-)*\\d{4}',
    'x(?:y(\\w+\\s)*z)',
    '(?<word>\\p{L}+\\s)+$',
    '[A-Z][a-z]+\\s?[A-Z][a-z]+',
  ])('accepts %s', (pattern) => {
    new RegExp(pattern, 'u')
    expect(dataRegexRisk(pattern)).toBeUndefined()
  })

  it('accepts quadratic patterns, which bounded texts keep to milliseconds', () => {
    // `a+$` is tried at every start of a long run of a's: n²/2 steps.
    expect(regexRisk('a+$', 'iu')).toBeUndefined()
    expect(dataRegexRisk('\\s*,\\s*')).toBeUndefined()
  })

  it('falls back to the star-height check for what the analysis does not read', () => {
    // The v flag's class set operations are outside the parser.
    expect(regexRisk('[\\w--\\d]+', 'v')).toBeUndefined()
    expect(regexRisk('([\\w--\\d]+)+$', 'v')).toMatchObject({
      complexity: 'unanalysed',
      detail: expect.stringContaining('the fallback check finds a nested quantifier `([\\w--\\d]+)+`'),
    })
    expect(heuristicRisk('(a+)+')).toBe('the fallback check finds a nested quantifier `(a+)+`')
  })

  it('accepts a hundred typical patterns', () => {
    const shapes = [
      '[A-Z]{2}\\d{6}',
      '\\d{5}(?:-\\d{4})?',
      '[\\w.+-]+@[\\w-]+\\.[\\w.]+',
      '\\d{1,3}(,\\d{3})*(\\.\\d+)?',
    ]
    for (let i = 0; i < 100; i++) expect(dataRegexRisk(`${shapes[i % shapes.length]}x${i}`)).toBeUndefined()
  })

  it('accepts the built-in redaction rules', () => {
    for (const rule of DEFAULT_REDACTION_RULES) expect(regexRisk(rule.pattern, 'g')).toBeUndefined()
  })

  it('accepts every regex of the bundled templates and the test fixtures', async () => {
    const dirs = [
      ...readdirSync(path.join(repo, 'templates')).map((t) => path.join(repo, 'templates', t, 'data')),
      path.join(repo, 'test/fixtures/rasa-project/data'),
    ]
    const files = [
      path.join(repo, 'test/fixtures/diff-v1.yml'),
      path.join(repo, 'test/fixtures/validation/bad-regex.yml'),
    ]
    const patterns: string[] = []
    for (const p of [...dirs, ...files]) {
      const r = await loadTrainingDataDetailed([path.basename(p)], { root: path.dirname(p) })
      for (const re of r.data.regexes) patterns.push(...re.patterns)
    }
    const compiling = patterns.filter((p) => {
      try {
        return new RegExp(p, 'u') !== undefined
      } catch {
        return false
      }
    })
    expect(compiling.length).toBeGreaterThanOrEqual(6)
    expect(compiling.filter((p) => dataRegexRisk(p) !== undefined)).toEqual([])
  })
})
