import { readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadTrainingDataDetailed } from '../data/load.js'
import { MAX_QUANTIFIERS, regexRisk } from './regex-safety.js'

const repo = new URL('../../', import.meta.url).pathname

describe('regexRisk', () => {
  it.each([
    ['(a+)+$', '(a+)+'],
    ['(a*)*', '(a*)*'],
    ['(\\d+\\s?)+', '(\\d+\\s?)+'],
    ['(a?a?)+$', '(a?a?)+'],
    ['(a{1,3})+', '(a{1,3})+'],
    ['((a+)?)+', '((a+)?)+'],
    ['(.*a){12}', '(.*a){12}'],
    ['x(?:y(\\w+\\s)*z)', '(\\w+\\s)*'],
    ['(?<=(a+)+)b', '(a+)+'],
    ['(?<word>\\p{L}+\\s)+$', '(?<word>\\p{L}+\\s)+'],
  ])('refuses %s, naming the nested quantifier %s', (pattern, culprit) => {
    new RegExp(pattern, 'u')
    expect(regexRisk(pattern)).toBe(`nested quantifier \`${culprit}\``)
  })

  it('refuses a pattern with too many quantifiers', () => {
    const many = '\\d+-'.repeat(MAX_QUANTIFIERS + 1)
    expect(regexRisk(many)).toBe(`${MAX_QUANTIFIERS + 1} quantifiers, more than the ${MAX_QUANTIFIERS} allowed`)
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
  ])('accepts %s', (pattern) => {
    new RegExp(pattern, 'u')
    expect(regexRisk(pattern)).toBeUndefined()
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
    expect(compiling.filter((p) => regexRisk(p) !== undefined)).toEqual([])
  })
})
