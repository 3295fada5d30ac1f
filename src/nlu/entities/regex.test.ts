import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { validateTrainingData } from '../../data/validate.js'
import { IntentopsError } from '../../errors.js'
import { MAX_CHECKED_PATTERNS } from '../../util/regex-safety.js'
import { isAscii } from '../../util/text.js'
import { asciiTwin, checkPatterns, compilePattern } from './regex.js'

// Patterns whose Unicode and plain readings could part ways: case-insensitive classes, word boundaries, `\w`/`\W`,
// negated classes, back-references, lookarounds, byte escapes, and ranges over the characters Unicode case folding
// maps onto ASCII (U+017F ſ folds to s, U+212A K to k).
const PATTERNS = [
  '\\b(?=[A-Z]*\\d)(?![A-Z]{2}\\d{4}\\b)[A-Z0-9]{6}\\b',
  '\\b[A-Z]{2}\\d{2,4}\\b',
  '\\bk\\w+',
  '[^s]+',
  '\\W+s',
  '(\\w)\\1',
  '(?<=a)b+',
  '[\\x41-\\x5a]{2}',
  '[\\x00-\\xff]k',
  '\\d{3}-\\d{4}',
  '[a-z]+@[a-z]+\\.(?:com|org)',
  'K',
  's',
  '[\\s\\S]{2}',
]
// Not eligible: they name characters beyond ASCII, which case folding may map onto ASCII letters.
const UNICODE_ONLY = ['\\u017F', '\\u212A', 'ſ', '[\\u0100-\\u0200]', '\\p{L}+', '\\P{L}', '\\u{4b}', 'caf\u00e9']

const asciiText = fc.string({ unit: fc.constantFrom(...'aksKS019 _-@.AbZ\tx'.split('')), maxLength: 24 })
const anyText = fc.string({
  unit: fc.constantFrom(...'aksKS01 _'.split(''), '\u017f', '\u212a', 'é', '\ud83d\ude00'),
  maxLength: 16,
})

function matches(re: RegExp, text: string): Array<[number, string]> {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`)
  const out: Array<[number, string]> = []
  for (let m = g.exec(text); m !== null; m = g.exec(text)) {
    out.push([m.index, m[0]])
    if (m[0].length === 0) g.lastIndex++
  }
  return out
}

describe('asciiTwin', () => {
  it('finds the same matches as the Unicode pattern on any ASCII text', () => {
    for (const pattern of PATTERNS) {
      for (const caseSensitive of [false, true]) {
        for (const wordBoundaries of [false, true]) {
          const unicode = compilePattern(pattern, 'p', caseSensitive, wordBoundaries)
          const twin = asciiTwin(pattern, caseSensitive, wordBoundaries, true)
          expect(twin, pattern).toBeDefined()
          fc.assert(
            fc.property(asciiText, (text) => {
              expect(matches(twin!, text)).toEqual(matches(unicode, text))
            }),
            { numRuns: 300 },
          )
        }
      }
    }
  })

  it('is not made for patterns that name characters beyond ASCII', () => {
    for (const pattern of UNICODE_ONLY) expect(asciiTwin(pattern, false, false, false), pattern).toBeUndefined()
    // Why: on ASCII text the Unicode reading of such a pattern can match where a plain one would not.
    expect(compilePattern('\\u212A', 'p', false, false).test('k')).toBe(true)
    expect(compilePattern('[\\u0100-\\u0200]', 'p', false, false).test('S')).toBe(true)
  })

  it('would differ off ASCII, which is why it is only used on ASCII text', () => {
    const unicode = compilePattern('\\bk\\w+', 'p', false, false)
    const twin = asciiTwin('\\bk\\w+', false, false, true)!
    // U+212A KELVIN SIGN folds to k in Unicode mode only.
    expect(matches(unicode, '\u212aelvin')).not.toEqual(matches(twin, '\u212aelvin'))
    fc.assert(
      fc.property(anyText, (text) => {
        if (isAscii(text)) expect(matches(twin, text)).toEqual(matches(unicode, text))
      }),
    )
  })

  it('tells ASCII text apart', () => {
    expect(isAscii('Book BA117, please')).toBe(true)
    expect(isAscii('')).toBe(true)
    expect(isAscii('caf\u00e9')).toBe(false)
    expect(isAscii('\u007f')).toBe(true)
    expect(isAscii('\u0080')).toBe(false)
  })
})

describe('data validate and training', () => {
  /** What `data validate` says of a pattern, and what training says: the code each reports, or 'ok'. */
  function verdicts(pattern: string): [string, string] {
    const regexes = [{ name: 'r', patterns: [pattern], source: { file: 'nlu.yml', line: 5, column: 7 } }]
    const diags = validateTrainingData(
      { intents: [], examples: [], synonyms: [], regexes, lookups: [] },
      { validation: { minExamples: 0, imbalanceRatio: 10, minEntityExamples: 0, nearDuplicateThreshold: 1 } },
    )
    const validated = diags.find((d) => d.code.includes('REGEX'))?.code ?? 'ok'
    let trained = 'ok'
    try {
      checkPatterns(regexes, false)
    } catch (err) {
      if (!(err instanceof IntentopsError)) throw err
      trained = err.code
    }
    return [validated, trained]
  }
  const same = { ok: 'ok', ERR_DATA_BAD_REGEX: 'ERR_NLU_REGEX_INVALID', ERR_DATA_UNSAFE_REGEX: 'ERR_NLU_REGEX_UNSAFE' }

  it('agree on every pattern, including those only plain JavaScript accepts', () => {
    const plainOnly = ['\\-', '\\_', 'a{', '}', ']', '[\\w-.]', '\\c', '\\k<x>', '\\01', '\\2(a)', '\\xZ', '\\ ']
    for (const p of plainOnly) expect([p, ...verdicts(p)]).toEqual([p, 'ERR_DATA_BAD_REGEX', 'ERR_NLU_REGEX_INVALID'])
    for (const p of ['\\p{L}+', '\\u{1F600}', '[-\\w.]+', '\\{\\d+\\}', '(a+)+$', '\\d?\\d?\\d+x'])
      expect(same[verdicts(p)[0] as keyof typeof same]).toBe(verdicts(p)[1])
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'\\-_{}[]()pLu1a.w+*?|^$<>k,2'.split('')), maxLength: 10 }),
        (p) => {
          const [validated, trained] = verdicts(p)
          expect(same[validated as keyof typeof same], p).toBe(trained)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('stop at the same pattern once the distinct patterns are more than one check may judge', () => {
    // Every pattern twice: a pattern judged once is free the second time.
    const patterns = Array.from({ length: 2 * MAX_CHECKED_PATTERNS + 5 }, (_, i) => `\\d{5}-${i >> 1}`)
    const sources = patterns.map((_, i) => ({ file: 'nlu.yml', line: i + 3, column: 7 }))
    const regexes = [{ name: 'zip', patterns, sources }]
    const diags = validateTrainingData(
      { intents: [], examples: [], synonyms: [], regexes, lookups: [] },
      { validation: { minExamples: 0, imbalanceRatio: 10, minEntityExamples: 0, nearDuplicateThreshold: 1 } },
    ).filter((d) => d.code.includes('REGEX'))
    expect(diags).toMatchObject([
      {
        code: 'ERR_REGEX_CHECK_LIMIT',
        message:
          'Too many regex patterns to check in the training data: it has checked 1,000 patterns, as many as one check may',
        location: sources[2 * MAX_CHECKED_PATTERNS],
      },
    ])
    expect(() => checkPatterns(regexes, false)).toThrow(
      expect.objectContaining({ code: 'ERR_REGEX_CHECK_LIMIT', location: sources[2 * MAX_CHECKED_PATTERNS] }),
    )
    expect(() =>
      checkPatterns([{ ...regexes[0]!, patterns: patterns.slice(0, 2 * MAX_CHECKED_PATTERNS) }], false),
    ).not.toThrow()
  })
})
