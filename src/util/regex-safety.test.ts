import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadTrainingDataDetailed } from '../data/load.js'
import { DEFAULT_REDACTION_RULES } from '../store/redact.js'
import { estimateWork } from './regex-analysis.js'
import {
  dataRegexJudged,
  dataRegexRisk,
  heuristicRisk,
  judgedBefore,
  longestTextWithin,
  MAX_CHECK_STEPS,
  MAX_CHECKED_PATTERNS,
  MAX_CHECKED_TEXT,
  MAX_MATCH_STEPS,
  MAX_PATTERN_LENGTH,
  newRegexCheckTally,
  regexCheckLimit,
  regexRisk,
} from './regex-safety.js'

const repo = new URL('../../', import.meta.url).pathname

/**
 * Whether V8 backtracks more than `limit` times running `pattern` (no flags) over `text`, in a process of its own:
 * with these flags V8 counts a match's backtracks and, past `limit`, hands the match to its linear-time engine and
 * says so on stdout. A count, not a clock, so the answer is the same on a busy machine; and the handover bounds the
 * run, which would otherwise take as long as the backtracking.
 */
function backtracksOver(pattern: string, text: string, limit: number): boolean {
  const run = spawnSync(
    process.execPath,
    [
      '--enable-experimental-regexp-engine-on-excessive-backtracks',
      `--regexp-backtracks-before-fallback=${limit}`,
      '--trace-experimental-regexp-engine',
      '-e',
      'new RegExp(process.argv[1]).test(process.argv[2])',
      pattern,
      text,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  expect(run.status, run.stderr).toBe(0)
  return run.stdout.includes('Experimental execution')
}

/**
 * Whether V8 finds the only match of `pattern` with `flags`, at the end of `text`, within `limit` backtracks of the
 * whole search, in a process of its own. {@link backtracksOver} cannot count a pattern with a lookaround: V8 hands a
 * match over only to a linear engine that can run it, and Node 20's runs none. A regex made by the V8 intrinsic
 * `%NewRegExpWithBacktrackLimit` gives up instead, as if it found nothing. A count, not a clock.
 */
function findsWithin(pattern: string, text: string, limit: number, flags = ''): boolean {
  const run = spawnSync(
    process.execPath,
    [
      '--allow-natives-syntax',
      '-e',
      'const [p, f, t, l] = process.argv.slice(1); console.log(%NewRegExpWithBacktrackLimit(p, f, Number(l)).exec(t) !== null)',
      pattern,
      flags,
      text,
      String(limit),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  expect(run.status, run.stderr).toBe(0)
  return run.stdout.trim() === 'true'
}

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

  it.each([
    // n optional items before n required ones: a run of a's splits C(2n, n) ways, with no repetition at all.
    ['a?'.repeat(16) + 'a'.repeat(16), 'a?'.repeat(16) + 'a'.repeat(16), 'a{16,32}'],
    ['\\d?'.repeat(12) + '\\d'.repeat(12), '\\d?'.repeat(12) + '\\d'.repeat(12), '\\d{12,24}'],
    ['[a-z]{1,32}'.repeat(6), '[a-z]{1,32}'.repeat(6), '[a-z]{6,192}'],
    // Optional items beside a repetition of the same characters multiply the n² of a search along a long run.
    ['\\d?\\d?\\d?\\d+x', '\\d?\\d?\\d?\\d+', '\\d+'],
    ['\\d+\\d?\\d?\\d?x', '\\d+\\d?\\d?\\d?', '\\d+'],
  ])('refuses %s, whose items split a text in many ways, and says how to write it', (pattern, run, rewrite) => {
    new RegExp(pattern, 'u')
    const risk = dataRegexRisk(pattern)
    expect(risk).toMatchObject({ complexity: 'combinatorial' })
    expect(risk!.steps).toBeGreaterThan(MAX_MATCH_STEPS)
    expect(risk!.detail).toContain(`write \`${run}\` as \`${rewrite}\``)
    // The text shown fits the bound the check assumes, and the rewrite it suggests passes.
    const attack = new Function(`return ${risk!.attack}`)() as string
    expect(attack.length).toBeGreaterThan(MAX_CHECKED_TEXT / 2)
    expect(attack.length).toBeLessThanOrEqual(MAX_CHECKED_TEXT)
    expect(dataRegexRisk(pattern.replace(run, rewrite))).toBeUndefined()
  })

  it.each([
    [`${'(?:a|a?)'.repeat(12)}x`, '(?:a|a?)(?:a|a?)'],
    [`${'(?:[a-m]?[f-z]?)'.repeat(20)}x`, '(?:[a-m]?[f-z]?)(?:[a-m]?[f-z]?)'],
    // Six alternatives each run over the same digits: six times the n² of one.
    ['\\d+a|\\d+b|\\d+c|\\d+d|\\d+e|\\d+f', '\\d+a|\\d+b|\\d+c|\\d+d|\\d+e|\\d+'],
  ])('refuses %s, naming %s, with the general way to write it', (pattern, culprit) => {
    const risk = dataRegexRisk(pattern)
    expect(risk).toMatchObject({ complexity: 'combinatorial' })
    expect(risk!.detail).toContain(`\`${culprit}`)
    expect(risk!.detail).toContain('make its items match a text one way only')
    expect(risk!.detail).toContain('over the 2.5×10^8 allowed on 10,000 characters')
  })

  it('counts one attempt for a sticky pattern and one for a pattern anchored at the start', () => {
    expect(regexRisk('\\d?\\d?\\d?\\d+x', 'g')).toMatchObject({ complexity: 'combinatorial' })
    expect(regexRisk('\\d?\\d?\\d?\\d+x', 'y')).toBeUndefined()
    expect(dataRegexRisk(`^${'a?'.repeat(12)}${'a'.repeat(12)}`)).toBeUndefined()
  })

  it('refuses a pattern whose ways to match are too many to count', () => {
    // Four overlapping runs of up to 30 letters: V8 takes seconds on a few thousand letters.
    const risk = dataRegexRisk('[\\p{L}\\p{N}]{0,30}[\\p{Lu}]{0,30}[\\p{Ll}\\d]{0,30}[\\p{Script=Greek}\\w]{0,30}x')
    expect(risk).toMatchObject({ complexity: 'unanalysed' })
    expect(risk!.detail).toContain('too many ways for the check to count')
  })

  it('shows an attack string that really makes V8 backtrack exponentially', () => {
    const risk = dataRegexRisk('(\\w|\\d)+$')!
    expect(risk.attack).toContain('.repeat(30)')
    const attack = (times: number) =>
      new Function(`return ${risk.attack!.replace('.repeat(30)', `.repeat(${times})`)}`)() as string
    // Run without the data flags `iu`: Node 20's linear engine takes neither, and V8 would never hand the match over.
    // On digits `\w` and `\d` match the same with or without them, and V8 backtracks the same.
    const pattern = '(\\w|\\d)+$'
    // Each repetition of the pump multiplies V8's backtracks by four: past 2^10 at 4, not 2^12, and past 2^18 at 8.
    expect(backtracksOver(pattern, attack(4), 2 ** 10)).toBe(true)
    expect(backtracksOver(pattern, attack(4), 2 ** 12)).toBe(false)
    expect(backtracksOver(pattern, attack(8), 2 ** 18)).toBe(true)
    // The text shown goes far past what can be counted here, and the rewrite the hint gives takes it in a few.
    expect(backtracksOver(pattern, attack(30), 2 ** 20)).toBe(true)
    expect(backtracksOver('\\w+$', attack(30), 2 ** 10)).toBe(false)
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
    '[A-Z]{2}\\d{3,4}',
    // Near the limit on steps: up to four ways through a quadratic part, or ten optional items.
    '[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}',
    "(?:[a-z0-9!#$%&'*+/=?^_{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_{|}~-]+)*)@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
    '\\d?\\d+x',
    '\\d?\\d?\\d+x',
    '\\d+a|\\d+b',
    '\\d+a|\\d+b|\\d+c',
    '\\d{1,3}(?:[ ,.]?\\d{3})* ?(?:EUR|USD)',
    'a?'.repeat(10) + 'a'.repeat(10),
    '\\d{1,3}(?:[ ,.]\\d{3})* ?(?:EUR|USD)',
    '\\d{1,3}(?:[ ,.]?\\d{3})*',
    '(0?[1-9]|1[0-2])/(0?[1-9]|[12]\\d|3[01])/(\\d{2}|\\d{4})',
    '(?:[01]?\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d)?',
    '\\+?\\d{1,3}[\\s-]?\\(?\\d{1,4}\\)?[\\s-]?\\d{1,4}[\\s-]?\\d{1,9}',
    '\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\\b',
    '\\b(?:\\d[ -]?){12,18}\\d\\b',
    // Counted repetitions run as counted: `{1,256}` is not `+`.
    'https?:\\/\\/(?:www\\.)?[-a-zA-Z0-9@:%._\\+~#=]{1,256}\\.[a-zA-Z0-9()]{1,6}\\b(?:[-a-zA-Z0-9()@:%_\\+.~#?&\\/=]*)',
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

  it('falls back to counting variable-length items in a row, which the star-height check lets through', () => {
    expect(heuristicRisk(`${'a?'.repeat(11)}b`)).toContain('11 items of variable length in a row')
    expect(heuristicRisk(`${'a?'.repeat(10)}b`)).toBeUndefined()
    expect(heuristicRisk('\\d{3}[- ]?\\d{4}[- ]?\\d{4}')).toBeUndefined()
    // Too large for the exact check: 3,000 optional items, each a group.
    expect(dataRegexRisk('(?:a?)'.repeat(3000))).toMatchObject({
      complexity: 'unanalysed',
      detail: expect.stringContaining('3000 items of variable length in a row'),
    })
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

  it('accepts the built-in redaction rules, up to the default body limit', () => {
    for (const rule of DEFAULT_REDACTION_RULES) {
      expect(regexRisk(rule.pattern, 'g')).toBeUndefined()
      expect(regexRisk(rule.pattern, 'g', { textLength: 1_048_576 })).toBeUndefined()
    }
    // The e-mail rule without its lookbehind, searched from each character of a long run: fine on 10,000 characters,
    // not 20,000; and so with a lookbehind that lets an attempt start after a `.`, which the address can hold.
    const address = '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}'
    for (const unguarded of [address, `(?<![A-Za-z0-9_%+-])${address}`]) {
      expect(regexRisk(unguarded, 'g')).toBeUndefined()
      expect(regexRisk(unguarded, 'g', { textLength: 20_000 })).toMatchObject({ complexity: 'combinatorial' })
    }
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

describe('lookbehinds and \\b in front of a run', () => {
  // Runs of a group, which V8 backtracks a step at a time (a plain class it goes back over without counting), on texts
  // that only match at their end: a long run of what the pump repeats, then what the pattern needs.
  const n = 2000
  const email = (guard: string) =>
    `(?<![${guard}])([A-Za-z0-9._%+-])+@([A-Za-z0-9-])+(?:\\.([A-Za-z0-9-])+)*\\.[A-Za-z]{2,}`
  it.each([
    // The run takes a digit, which the lookbehind lets through.
    { guarded: '(?<![a-z])([a-z])+@', near: '(?<![a-z])([a-z0-9])+@', pumps: ['a', '0'], tail: ' b@' },
    { guarded: '(?<=\\s)([a-z])+x', near: '(?<=[\\sa])([a-z])+x', pumps: ['a', 'a'], tail: ' ax' },
    // An address may hold a `.`, which the lookbehind lets through.
    { guarded: email('A-Za-z0-9._%+-'), near: email('A-Za-z0-9_%+-'), pumps: ['.a', '.a'], tail: ' a@b.co' },
    // `\b` fails between two word characters: an attempt inside a run of them fails at once. Not so inside a run that
    // holds a `.`, where every character is a boundary, nor for `\B`, which passes between two word characters.
    { guarded: '\\b([a-z])+@', near: '\\b([a-z.])+@', pumps: ['a', '.a'], tail: ' b@' },
    { guarded: '\\b(\\w)+@', near: '\\B(\\w)+@', pumps: ['a', 'a'], tail: ' bb@' },
  ])(
    'passes $guarded, where V8 goes through a run once, and refuses $near on 1 MiB',
    ({ guarded, near, pumps, tail }) => {
      const [ok, slow] = pumps.map((pump) => pump!.repeat(n / pump!.length) + tail)
      // A search from each character of the run takes n²/2 backtracks; one from its start, a few per character.
      expect(findsWithin(guarded, ok!, 4 * n)).toBe(true)
      expect(findsWithin(near, slow!, (n * n) / 8)).toBe(false)
      expect(regexRisk(guarded, 'g', { textLength: 1_048_576 })).toBeUndefined()
      expect(regexRisk(near, 'g', { textLength: 1_048_576 })).toMatchObject({ complexity: 'combinatorial' })
      // Quadratic, so fine on the 10,000 characters the check takes by default.
      expect(regexRisk(near, 'g')).toBeUndefined()
    },
  )

  it('counts as word characters for \\b what V8 does, which ignoring case with u holds ſ', () => {
    // With `iu`, `ſ` (U+017F) is a word character to `\b` and a run of `aſ` one word; with `i` alone it is not, and
    // every character of the run is a boundary.
    const pattern = '\\b([a-zſ])+@'
    const text = `${'aſ'.repeat(n / 2)} b@`
    expect(findsWithin(pattern, text, 4 * n, 'iu')).toBe(true)
    expect(findsWithin(pattern, text, (n * n) / 8, 'i')).toBe(false)
    expect(regexRisk(pattern, 'giu', { textLength: 1_048_576 })).toBeUndefined()
    expect(regexRisk(pattern, 'gi', { textLength: 1_048_576 })).toMatchObject({ complexity: 'combinatorial' })
    // Without `ſ` in the class, `\b` guards a run of `[a-z]` with either: the check's `[a-z]` holds `ſ` with `i`, but
    // V8's does not, so no run holds it.
    for (const flags of ['gi', 'giu']) {
      expect(regexRisk('\\b([a-z])+@', flags, { textLength: 1_048_576 })).toBeUndefined()
    }
  })

  it('asks V8 how it folds the characters it folds otherwise than the check', () => {
    // Ignoring case without `u`, V8 matches `ſ` with `[ſ]` but not with `[s]`, which it does with `u`: after an `ſ`
    // the lookbehind lets an attempt through, and the run takes it.
    const pattern = '(?<![s])([sſ])+@'
    const text = `${'ſ'.repeat(n)} s@`
    expect(findsWithin(pattern, text, 4 * n, 'iu')).toBe(true)
    expect(findsWithin(pattern, text, (n * n) / 8, 'i')).toBe(false)
    expect(regexRisk(pattern, 'giu', { textLength: 1_048_576 })).toBeUndefined()
    expect(regexRisk(pattern, 'gi', { textLength: 1_048_576 })).toMatchObject({ complexity: 'combinatorial' })
    // The guard stays where what V8 folds otherwise is refused or taken by no class: `ı`, which the check folds with
    // `i` and V8 does not, is in no `[a-z]` to V8.
    for (const flags of ['gi', 'giu']) {
      expect(regexRisk('(?<![a-z])([a-z])+@', flags, { textLength: 1_048_576 })).toBeUndefined()
    }
  })
})

describe('lookaheads', () => {
  it('count a lookahead as often as it is tried: once where an anchor allows one attempt, at every start otherwise', () => {
    // The lookahead splits a run of digits between two repetitions, n²/2 ways, each time it is tried. Anchored, it is
    // tried once; the search then goes on to find `y` at the end. Without the anchor it is tried at every digit: n³/6.
    const n = 2000
    const text = `${'0'.repeat(n)}ay`
    const anchored = '(?:^(?=(\\d)+(\\d)+x)|y$)'
    const searched = '(?:(?=(\\d)+(\\d)+x)|y$)'
    expect(findsWithin(anchored, text, n * n)).toBe(true)
    expect(findsWithin(anchored, text, (n * n) / 4)).toBe(false)
    expect(findsWithin(searched, text, 4 * n * n)).toBe(false)
    expect(regexRisk(anchored, 'g')).toBeUndefined()
    expect(regexRisk(searched, 'g')).toMatchObject({ complexity: 'polynomial', degree: 3 })
    // Quadratic within its one attempt: fine on 10,000 characters, not on 1 MiB, where the message shows the
    // lookahead's repetitions and a text that makes them split a run.
    expect(regexRisk('^(?=\\d+\\d+x)', 'g')).toBeUndefined()
    const risk = regexRisk('^(?=\\d+\\d+x)', 'g', { textLength: 1_048_576 })!
    expect(risk).toMatchObject({ complexity: 'combinatorial', attack: '"0" + "0".repeat(1048574) + "a"' })
    expect(risk.steps).toBeGreaterThan(MAX_MATCH_STEPS)
    expect(risk.detail).toContain('write `\\d+\\d+` as `\\d{2,}`')
    expect(regexRisk('(?=\\d+\\d+x)', 'g')).toMatchObject({ complexity: 'polynomial', degree: 3 })
  })
})

describe('negated classes ignoring case', () => {
  it('sees the two ways a negated class and a letter it takes in V8 match the same character', () => {
    // Without `u`, V8 folds `ſ` (U+017F) to nothing of a-z, so `[^a-z]` takes it, and so does `ſ`: each `ſ` of a run
    // matches two ways. With `u` it folds to s, and only `ſ` takes it.
    const pattern = '(?:[^a-z]|ſ)+$'
    const text = `${'ſ'.repeat(16)}a!`
    expect(findsWithin(pattern, text, 2 ** 16, 'i')).toBe(false)
    expect(findsWithin(pattern, text, 1000, 'iu')).toBe(true)
    expect(regexRisk(pattern, 'gi')).toMatchObject({ complexity: 'exponential' })
    expect(regexRisk(pattern, 'giu')).toBeUndefined()
  })
})

describe('patterns judged on longer texts', () => {
  it('counts the steps on the length asked for, and says so', () => {
    // Tried again from each digit of a run: n²/2 steps, 5×10^7 on 10,000 characters and 5×10^9 on 100,000.
    expect(regexRisk('\\d+\\.\\d+', 'g')).toBeUndefined()
    const risk = regexRisk('\\d+\\.\\d+', 'g', { textLength: 100_000 })!
    expect(risk).toMatchObject({ complexity: 'combinatorial', steps: expect.closeTo(5e9, -8) })
    expect(risk.detail).toContain('`\\d+` is tried again from each character of a long run it matches')
    expect(risk.detail).toContain('over the 2.5×10^8 allowed on 100,000 characters')
    expect(risk.detail).toContain('`\\d+\\.\\d+` → `(?<!\\d)\\d+\\.\\d+`')
    const attack = new Function(`return ${risk.attack}`)() as string
    expect(attack.length).toBeGreaterThan(99_000)
    expect(attack.length).toBeLessThanOrEqual(100_000)
    // The rewrite it gives goes through each run once, as a group in front that takes a character does.
    expect(regexRisk('(?<!\\d)\\d+\\.\\d+', 'g', { textLength: 1_048_576 })).toBeUndefined()
    expect(regexRisk('(?:^|\\D)\\d+\\.\\d+', 'g', { textLength: 1_048_576 })).toBeUndefined()
  })

  it('counts the n²/2 steps of a single attempt that splits a run between two repetitions', () => {
    // Anchored: one attempt, which tries each split of the digits between the runs before the end refuses them.
    // n²/2 = 5×10^7 on 10,000 characters, within the steps allowed; 5.5×10^11 on 1 MiB, far over them.
    expect(dataRegexRisk('^\\d+\\d+x')).toBeUndefined()
    expect(regexRisk('^\\d+\\d+x', 'y')).toBeUndefined()
    const risk = regexRisk('^\\d+\\d+x', 'g', { textLength: 1_048_576 })!
    expect(risk).toMatchObject({ complexity: 'combinatorial', steps: (1_048_576 * 1_048_575) / 2 })
    expect(risk.attack).toBe('"0" + "0".repeat(1048574) + "a"')
    expect(risk.detail).toContain('`\\d+\\d+` can match the same text in 1,048,575 ways, each tried in turn')
    expect(risk.detail).toContain('over the 2.5×10^8 allowed on 1,048,576 characters')
    expect(risk.detail).toContain('write `\\d+\\d+` as `\\d{2,}`')
    // The same for a sticky pattern, and the rewrite passes.
    expect(regexRisk('\\d+\\d+x', 'y', { textLength: 1_048_576 })).toMatchObject({ complexity: 'combinatorial' })
    expect(regexRisk('^\\d{2,}x', 'g', { textLength: 1_048_576 })).toBeUndefined()
    expect(longestTextWithin('^\\d+\\d+x', 'g', MAX_CHECKED_TEXT, 1_048_576)).toBe(22_000)
  })

  it('counts the steps of a single quadratic attempt within a small factor of what V8 backtracks', () => {
    // Runs of a group, which V8 backtracks a step at a time, over n digits and a letter that ends every attempt.
    const n = 1000
    const text = `${'0'.repeat(n)}a`
    for (const pattern of [
      '^(\\d)+(\\d)+x',
      '^(\\d)?(\\d)+(\\d)+x',
      '^(\\d)+(\\d)+(\\d)?x',
      '^(\\d)?(\\d)?(\\d)+(\\d)+x',
    ]) {
      const { steps } = estimateWork(pattern, '', { search: true }, text.length)
      expect(backtracksOver(pattern, text, Math.floor(steps / 2)), pattern).toBe(true)
      expect(backtracksOver(pattern, text, 2 * steps), pattern).toBe(false)
    }
  })

  it('says the length in the unit the caller counts it in, with the same verdict and charge', () => {
    const tally = newRegexCheckTally()
    const inCharacters = regexRisk('\\d+\\.\\d+', 'g', { textLength: 100_000, tally })!
    const charged = tally.steps
    const inUnits = regexRisk('\\d+\\.\\d+', 'g', { textLength: 100_000, tally, unit: 'code units' })!
    expect(inUnits.detail).toContain('over the 2.5×10^8 allowed on 100,000 UTF-16 code units;')
    expect(inUnits.detail).toBe(inCharacters.detail.replace('100,000 characters', '100,000 UTF-16 code units'))
    expect(inUnits).toMatchObject({ complexity: inCharacters.complexity, steps: inCharacters.steps })
    expect(tally.steps).toBe(charged)
  })

  it('finds the longest text, in thousands of characters, a pattern passes on', () => {
    const tally = newRegexCheckTally()
    const longest = longestTextWithin('\\d+\\.\\d+', 'g', MAX_CHECKED_TEXT, 100_000, tally)
    expect(longest % 1000).toBe(0)
    expect(regexRisk('\\d+\\.\\d+', 'g', { textLength: longest })).toBeUndefined()
    expect(regexRisk('\\d+\\.\\d+', 'g', { textLength: longest + 1000 })).toBeDefined()
    // √(2 · 2.5×10^8) ≈ 22,360
    expect(longest).toBe(22_000)
    expect(tally.steps).toBeGreaterThan(0)
    // Nothing longer than the start passes: the start.
    expect(longestTextWithin('\\d?\\d?\\d?\\d+x', 'g', MAX_CHECKED_TEXT, 100_000)).toBe(MAX_CHECKED_TEXT)
  })
})

describe('checks of many patterns', () => {
  it('charges each pattern what judging it cost, the same when the verdict is remembered', () => {
    const first = newRegexCheckTally()
    const pattern = '(?<order>[A-Z]{2}\\d{3,4})-\\d{2}'
    dataRegexRisk(pattern, first)
    expect(first.patterns).toBe(1)
    // Two verdicts (alone, between word boundaries), each at least its parse.
    expect(first.steps).toBeGreaterThan(2 * 4 * pattern.length)
    const again = newRegexCheckTally()
    dataRegexRisk(pattern, again)
    expect(again).toEqual(first)
    // A pattern refused alone is not judged between word boundaries: one verdict.
    const refused = newRegexCheckTally()
    dataRegexRisk('(a+)+$', refused)
    const alone = newRegexCheckTally()
    regexRisk('(a+)+$', 'iu', { tally: alone })
    expect(refused).toMatchObject({ patterns: 1, steps: alone.steps })
  })

  it('charges a pattern once per check, however many times it is judged', () => {
    const tally = newRegexCheckTally()
    const pattern = '(?<order>[A-Z]{2}\\d{3,4})-\\d{2}'
    expect(dataRegexJudged(tally, pattern)).toBe(false)
    dataRegexRisk(pattern, tally)
    const once = { patterns: tally.patterns, steps: tally.steps }
    expect(dataRegexJudged(tally, pattern)).toBe(true)
    dataRegexRisk(pattern, tally)
    expect(tally).toMatchObject(once)
    // Another length or other flags make another verdict, charged on its own.
    expect(judgedBefore(tally, pattern, 'iu')).toBe(true)
    expect(judgedBefore(tally, pattern, 'iu', 20_000)).toBe(false)
    regexRisk(pattern, 'iu', { tally, textLength: 20_000 })
    expect(tally.steps).toBeGreaterThan(once.steps)
    expect(judgedBefore(tally, pattern, 'iu', 20_000)).toBe(true)
    // A new check charges it again, what the first did.
    const next = newRegexCheckTally()
    dataRegexRisk(pattern, next)
    expect(next).toMatchObject(once)
  })

  it('says when a check may judge no further pattern: past its patterns or its steps', () => {
    expect(regexCheckLimit({ patterns: MAX_CHECKED_PATTERNS - 1, steps: MAX_CHECK_STEPS - 1 })).toBeUndefined()
    expect(regexCheckLimit({ patterns: MAX_CHECKED_PATTERNS, steps: 0 })).toBe(
      'it has checked 1,000 patterns, as many as one check may',
    )
    expect(regexCheckLimit({ patterns: 12, steps: MAX_CHECK_STEPS })).toBe(
      'its 12 patterns so far took 2×10^7 steps to check, over the 2×10^7 one check may spend',
    )
    // A check made with fewer steps stops at those.
    const small = { ...newRegexCheckTally({ maxSteps: 1000 }), patterns: 1, steps: 999 }
    expect(regexCheckLimit(small)).toBeUndefined()
    expect(regexCheckLimit({ ...small, steps: 4321 })).toBe(
      'its 1 pattern so far took 4,321 steps to check, over the 1,000 one check may spend',
    )
  })

  it('refuses a pattern longer than the check reads, before reading it', () => {
    const words = Array.from({ length: 9000 }, (_, i) => `w${i}`).join('|')
    expect(words.length).toBeGreaterThan(MAX_PATTERN_LENGTH)
    const tally = newRegexCheckTally()
    expect(dataRegexRisk(`(?:${words})`, tally)).toMatchObject({
      complexity: 'unanalysed',
      detail: expect.stringContaining(
        'more than the 50,000 the check reads; put a long list of words in a lookup table',
      ),
    })
    // Charged its length, which is what reading it would have cost.
    expect(tally.steps).toBeLessThan(5 * (words.length + 4))
  })
})
