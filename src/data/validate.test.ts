import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ValidationConfig } from '../config/schema.js'
import { loadTrainingDataDetailed } from './load.js'
import { loadMustPassDetailed, validateMustPass } from './must-pass.js'
import { type Example, emptyTrainingData, type TrainingData } from './types.js'
import {
  exampleTokens,
  findNearDuplicates,
  findNearDuplicatesBruteForce,
  normalizeExample,
  validateTrainingData,
} from './validate.js'

const root = new URL('../../test/fixtures/validation/', import.meta.url).pathname
const validation: ValidationConfig = {
  minExamples: 3,
  imbalanceRatio: 5,
  minEntityExamples: 2,
  nearDuplicateThreshold: 0.8,
}

async function check(file: string, fields: Record<string, number> = {}) {
  const r = await loadTrainingDataDetailed([file], { root })
  return [...r.diagnostics, ...validateTrainingData(r.data, { validation, fields })]
}

// One fixture per check: the code, the exact position and the message it must produce.
const cases: Array<[string, string, string, RegExp, Record<string, number>?]> = [
  [
    'yaml-syntax.yml',
    'ERR_YAML_SYNTAX',
    '6:1',
    /YAML syntax error: A block sequence may not be used as an implicit map key/,
  ],
  [
    'unknown-key.yml',
    'ERR_DATA_SCHEMA',
    '4:3',
    /^unknown key `exmaples` in an intent block; allowed: intent, examples, metadata$/,
  ],
  ['wrong-type.yml', 'ERR_DATA_SCHEMA', '4:13', /^`examples` of intent `greet` must be a block/],
  ['empty-example.yml', 'ERR_DATA_EMPTY_EXAMPLE', '6:6', /^Empty example in intent greet$/],
  [
    'duplicate.yml',
    'ERR_DATA_DUPLICATE_EXAMPLE',
    '7:7',
    /^Duplicate example "Hello there!" in intent greet \(first at duplicate\.yml:5:7\)$/,
  ],
  [
    'conflict.yml',
    'ERR_DATA_CONFLICT',
    '10:7',
    /^Example "Hey there" is labelled goodbye here and greet at conflict\.yml:6:7$/,
  ],
  [
    'bad-annotation-bracket.yml',
    'ERR_DATA_BAD_ANNOTATION',
    '5:21',
    /unbalanced brackets: '\(' after \[Paris\] is never closed with '\)'/,
  ],
  // Rasa reads a '[' that is never closed as text: a warning, and the example is kept
  [
    'unclosed-bracket.yml',
    'WARN_DATA_UNCLOSED_BRACKET',
    '5:14',
    /^A '\[' is never closed, so it is read as plain text/,
  ],
  ['bad-annotation-json.yml', 'ERR_DATA_BAD_ANNOTATION', '5:21', /bad JSON in entity annotation \{"entity": city\}/],
  ['bad-annotation-empty.yml', 'ERR_DATA_BAD_ANNOTATION', '5:14', /empty entity span/],
  [
    'synonym-conflict.yml',
    'ERR_DATA_SYNONYM_CONFLICT',
    '5:7',
    /^"NYC" maps to "Newark" here and to "New York" at synonym-conflict\.yml:8:7$/,
  ],
  ['bad-regex.yml', 'ERR_DATA_BAD_REGEX', '6:7', /^Regex zipcode does not compile: .*Unterminated character class/],
  [
    'unsafe-regex.yml',
    'ERR_DATA_UNSAFE_REGEX',
    '6:7',
    /^Regex x: the pattern can take too long on some inputs: exponential backtracking in `\(a\+\)\+`, which can match a repeated "a" in more than one way: a text like "a" \+ "a"\.repeat\(30\) \+ "0" takes over 2\^30 steps$/,
  ],
  [
    'missing-lookup.yml',
    'ERR_DATA_LOOKUP_NOT_FOUND',
    '4:13',
    /^Lookup table city reads lookups\/nowhere\.txt, which does not exist$/,
  ],
  [
    'lookup-outside.yml',
    'ERR_PATH_OUTSIDE_PROJECT',
    '4:13',
    /^\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd is outside the project directory/,
  ],
  ['bad.json', 'ERR_DATA_SYNTAX', '3:18', /^Invalid JSON: expected ',' or '}', found '"'$/],
  ['bad.jsonl', 'ERR_DATA_SYNTAX', '2:17', /^Invalid JSON line: the key intent is not in double quotes$/],
  ['bad.csv', 'ERR_DATA_SYNTAX', '3:', /^Invalid CSV: Quote Not Closed/],
  ['few-examples.yml', 'WARN_DATA_FEW_EXAMPLES', '3:3', /^Intent greet has 2 examples, fewer than 3$/],
  ['imbalance.yml', 'WARN_DATA_IMBALANCE', '21:3', /^Intent small has 3 examples, 5\.3× fewer than big \(16\)$/],
  [
    'few-entity-examples.yml',
    'WARN_DATA_FEW_ENTITY_EXAMPLES',
    '5:7',
    /^Entity city is annotated in 1 example, fewer than 2$/,
  ],
  [
    'near-duplicate.yml',
    'WARN_DATA_NEAR_DUPLICATE',
    '8:7',
    /^Example "please where is my order right now" \(cancel_order\) is nearly the same as "where is my order right now please" \(order_status\) at near-duplicate\.yml:5:7$/,
  ],
  [
    'unknown-field.yml',
    'WARN_DATA_UNKNOWN_FIELD',
    '5:5',
    /^Field boddy has no weight in intentops\.yml `fields` \(known: subject, body\)$/,
    { subject: 2, body: 1 },
  ],
  ['not-nlu.yml', 'WARN_DATA_IGNORED_FILE', '2:1', /^not-nlu\.yml holds no NLU training data/],
  ['bad-intent-name.yml', 'ERR_DATA_BAD_NAME', '6:3', /^Invalid intent name 'a:b': it contains ':'$/],
  ['bad-entity-name.yml', 'ERR_DATA_BAD_NAME', '6:7', /^Invalid entity name 'Bad Name': it contains a space$/],
]

describe('validation checks', () => {
  it.each(cases)('%s reports %s at %s', async (file, code, at, message, fields) => {
    const diags = await check(file, fields)
    const hit = diags.find((d) => d.code === code)
    expect(hit, JSON.stringify(diags)).toBeDefined()
    expect(`${hit!.location.line}:${hit!.location.column ?? ''}`).toBe(at)
    expect(hit!.location.file).toBe(file)
    expect(hit!.message).toMatch(message)
    expect(hit!.hint).toBeTruthy()
    expect(hit!.severity).toBe(code.startsWith('WARN') ? 'warning' : 'error')
  })

  it('leaves out the warnings about how many examples there are for held-out data, keeping every other problem', () => {
    let line = 0
    const ex = (text: string, intent: string, entities: Example['entities'] = []): Example => ({
      text,
      intent,
      entities,
      source: { file: 'held.yml', line: ++line, column: 7 },
    })
    const data: TrainingData = {
      ...emptyTrainingData(),
      examples: [
        // one greeting: too few; three weather questions against twenty-two bookings: unbalanced
        ex('hello there', 'greet'),
        ex('is it raining', 'weather'),
        ex('will it snow', 'weather'),
        ex('is it sunny', 'weather'),
        ...Array.from({ length: 20 }, (_, i) => ex(`flight number ${i + 1}`, 'book_flight')),
        // a city annotated once: too few entity examples
        ex('fly to Oslo', 'book_flight', [{ start: 7, end: 11, entity: 'city', value: 'Oslo' }]),
        // nearly the same sentence under two intents, and a duplicate
        ex('book a table for two people tonight', 'restaurant'),
        ex('book a table for two people tonight please', 'book_flight'),
        ex('is it sunny', 'weather'),
      ],
    }
    const codes = (heldOut: boolean) =>
      [...new Set(validateTrainingData(data, { validation, heldOut }).map((d) => d.code))].sort()
    const others = ['ERR_DATA_DUPLICATE_EXAMPLE', 'WARN_DATA_NEAR_DUPLICATE']
    expect(codes(false)).toEqual(
      [...others, 'WARN_DATA_FEW_ENTITY_EXAMPLES', 'WARN_DATA_FEW_EXAMPLES', 'WARN_DATA_IMBALANCE'].sort(),
    )
    expect(codes(true)).toEqual(others)
  })

  it('holds entity roles and groups to the rules of entity names, each bad one once, where it first is', async () => {
    const diags = (await check('bad-role-name.yml')).filter((d) => d.code === 'ERR_DATA_BAD_NAME')
    expect(diags.map((d) => [`${d.location.line}:${d.location.column}`, d.message, d.hint])).toEqual([
      [
        '5:7',
        "Invalid role name 'from city': it contains a space",
        'Entity roles follow the rules of entity names: letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`; a number is allowed (1, 2), but not YAML keywords (null, true) or numbers written otherwise (01, 1e3). Rename it, e.g. to from_city.',
      ],
      [
        '6:7',
        "Invalid group name 'null': YAML reads it as null, not as a name, wherever it is unquoted",
        'Entity groups follow the rules of entity names: letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`; a number is allowed (1, 2), but not YAML keywords (null, true) or numbers written otherwise (01, 1e3). Rename it.',
      ],
      // Rasa numbers groups: "1" passes, "01" (which YAML reads as 1) does not
      [
        '8:7',
        "Invalid group name '01': YAML reads it as 1, not as a name, wherever it is unquoted",
        expect.any(String),
      ],
    ])
  })

  it('refuses overlapping repetitions and accepts unambiguous ones, at their lines', async () => {
    const r = await loadTrainingDataDetailed(['nlu.yml'], {
      root: new URL('../../test/fixtures/regex-safety/', import.meta.url).pathname,
    })
    const unsafe = validateTrainingData(r.data, { validation, fields: {} }).filter(
      (d) => d.code === 'ERR_DATA_UNSAFE_REGEX',
    )
    // Lines 8 and 9 (`\w+(?:\s\w+)*`, `(\d{3}-)*\d{4}`) pass: the old star-height check refused both.
    expect(unsafe.map((d) => `${d.location.line}:${d.location.column}`)).toEqual(['10:7', '11:7', '12:7'])
    expect(unsafe[0]!.message).toContain('exponential backtracking in `(a|aa)+`')
    expect(unsafe[1]!.message).toContain('exponential backtracking in `(\\w|\\d)+`')
    expect(unsafe[1]!.message).toMatch(/a text like "0" \+ "00"\.repeat\(30\) \+ "!"/)
    expect(unsafe[0]!.hint).toContain('`(a|aa)+` → `a+`')
    // Line 12, `\d?\d?\d?\d+ ?kg`, has no ambiguous repetition, but tries `\d+` eight ways from every start.
    expect(unsafe[2]!.message).toContain('`\\d?\\d?\\d?\\d+` can match the same text in 8 ways')
    expect(unsafe[2]!.message).toContain('write `\\d?\\d?\\d?\\d+` as `\\d+`')
    expect(unsafe[2]!.hint).toContain('`a?a?a?aaa` → `a{3,6}`')
  })

  it('compiles regexes in Unicode mode, as training does, and says how to fix what only plain mode accepts', async () => {
    const diags = (await check('regex-unicode.yml')).filter((d) => d.code === 'ERR_DATA_BAD_REGEX')
    // `\p{Lu}\p{Ll}+` and `\u{1F600}` (lines 7 and 8) compile, and mean a letter class and one emoji, as in training.
    expect(diags.map((d) => [`${d.location.line}:${d.location.column}`, d.message])).toEqual([
      ['5:7', 'Regex code does not compile: /[A-Z]\\-\\d{4}/u: Invalid escape'],
      ['6:7', 'Regex code does not compile: /[\\w-.]+@example\\.com/u: Invalid character class'],
      ['9:7', 'Regex code does not compile: /a{2/u: Incomplete quantifier'],
    ])
    const mode =
      'It compiles without the `u` flag, but every step runs data regexes in Unicode mode (`u`), where it does not.'
    expect(diags.map((d) => d.hint?.startsWith(mode))).toEqual([true, true, true])
    expect(diags[0]!.hint).toContain('`\\-` is allowed inside `[...]` only')
    expect(diags[1]!.hint).toContain('write the `-` first or last (`[\\w.-]`)')
    expect(diags[2]!.hint).toContain('write a literal `{` as `\\{`')
    // a pattern no mode accepts gets the advice without the note on the `u` flag
    const [plain] = (await check('bad-regex.yml')).filter((d) => d.code === 'ERR_DATA_BAD_REGEX')
    expect(plain!.hint).toBe('Patterns are JavaScript regular expressions in Unicode mode (the `u` flag).')
  })

  it('reports unknown intents (error) and entities (warning) in must-pass files', async () => {
    const tests = await loadMustPassDetailed(['must-pass-unknown.yml'], { root })
    const data = (await loadTrainingDataDetailed(['few-examples.yml'], { root })).data
    const diags = validateMustPass(tests.cases, data)
    expect(diags.map((d) => [d.code, d.severity, `${d.location.line}:${d.location.column}`, d.message])).toEqual([
      [
        'ERR_MUST_PASS_UNKNOWN_INTENT',
        'error',
        '3:5',
        'Must-pass case expects intent book_flight, which has no training examples',
      ],
      [
        'WARN_MUST_PASS_UNKNOWN_ENTITY',
        'warning',
        '3:5',
        'Must-pass case expects entity city, which no training example annotates',
      ],
    ])
  })

  it('collects the problems of many files in one pass', async () => {
    const r = await loadTrainingDataDetailed(['yaml-syntax.yml', 'bad.json', 'bad-regex.yml', 'conflict.yml'], { root })
    const all = [...r.diagnostics, ...validateTrainingData(r.data, { validation, fields: {} })]
    const codes = new Set(all.map((d) => d.code))
    for (const c of ['ERR_YAML_SYNTAX', 'ERR_DATA_SYNTAX', 'ERR_DATA_BAD_REGEX', 'ERR_DATA_CONFLICT'])
      expect(codes).toContain(c)
  })

  it('is clean on a good data set', async () => {
    const r = await loadTrainingDataDetailed(['data'], {
      root: new URL('../../templates/default/', import.meta.url).pathname,
    })
    expect(r.diagnostics).toEqual([])
    const diags = validateTrainingData(r.data, {
      validation: { minExamples: 10, imbalanceRatio: 5, minEntityExamples: 3, nearDuplicateThreshold: 0.9 },
    })
    expect(diags).toEqual([])
  })
})

describe('normalizeExample', () => {
  it('ignores case, width, spacing and punctuation but not words', () => {
    expect(normalizeExample({ text: '  Hello,   THERE! ' })).toBe(normalizeExample({ text: 'hello there' }))
    expect(normalizeExample({ text: 'ｈｅｌｌｏ' })).toBe('hello')
    expect(normalizeExample({ text: 'hello there' })).not.toBe(normalizeExample({ text: 'hello here' }))
    expect(normalizeExample({ text: '?' })).toBe('?')
  })
})

describe('findNearDuplicates', () => {
  const words = ['where', 'is', 'my', 'order', 'cancel', 'the', 'flight', 'refund', 'please', 'now', 'a', 'book']
  const example = fc.record({
    tokens: fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 7 }),
    intent: fc.constantFrom('a', 'b', 'c'),
  })
  it('finds exactly the pairs the brute-force search finds', () => {
    fc.assert(
      fc.property(fc.array(example, { maxLength: 40 }), fc.constantFrom(0.5, 0.6, 0.75, 0.8, 0.9, 1), (rows, t) => {
        const exs: Example[] = rows.map((r) => ({ text: r.tokens.join(' '), intent: r.intent, entities: [] }))
        const key = (p: { a: number; b: number }) => `${p.a}-${p.b}`
        const fast = findNearDuplicates(exs, t).map(key).sort()
        const slow = findNearDuplicatesBruteForce(exs, t).map(key).sort()
        expect(fast).toEqual(slow)
      }),
      { numRuns: 200 },
    )
  })
  it('never pairs examples of the same intent or exact duplicates', () => {
    const exs: Example[] = [
      { text: 'where is my order', intent: 'a', entities: [] },
      { text: 'where is my order now', intent: 'a', entities: [] },
      { text: 'Where is my order?', intent: 'b', entities: [] },
    ]
    expect(findNearDuplicates(exs, 0.7)).toEqual([{ a: 1, b: 2, similarity: 0.8 }])
  })
})

describe('exampleTokens', () => {
  it('finds the same words on the ASCII fast path as the Unicode pattern', () => {
    const unicode = (t: string) =>
      t
        .normalize('NFKC')
        .toLowerCase()
        .match(/[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu) ?? []
    fc.assert(
      fc.property(fc.stringMatching(/^[ -~]{0,40}$/), (t) => {
        expect(exampleTokens(t)).toEqual(unicode(t))
      }),
      { numRuns: 500 },
    )
    expect(exampleTokens("Don't  STOP-me'now 42x")).toEqual(["don't", 'stop', "me'now", '42x'])
    expect(exampleTokens('Café Straße')).toEqual(['café', 'straße'])
  })
})

describe('near-duplicate warnings', () => {
  const words = ['where', 'is', 'my', 'order', 'cancel', 'the', 'flight', 'please', 'now', 'book']
  it('flag exactly the examples with an earlier near-duplicate under another intent, naming the closest', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            tokens: fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 5 }),
            intent: fc.constantFrom('a', 'b', 'c'),
          }),
          { maxLength: 40 },
        ),
        fc.constantFrom(0.5, 0.75, 0.9),
        (rows, t) => {
          const exs: Example[] = rows.map((r, i) => ({
            text: r.tokens.join(' '),
            intent: r.intent,
            entities: [],
            source: { file: 'f', line: i + 1, column: 1 },
          }))
          const diags = validateTrainingData(
            { intents: [], examples: exs, synonyms: [], regexes: [], lookups: [] },
            { validation: { minExamples: 0, imbalanceRatio: 1e9, minEntityExamples: 0, nearDuplicateThreshold: t } },
          )
          const warned = new Map(
            diags
              .filter((d) => d.code === 'WARN_DATA_NEAR_DUPLICATE')
              .map((d) => [d.location.line! - 1, Number(/at f:(\d+):1$/.exec(d.message)![1]) - 1]),
          )
          // expected: brute force over examples that do not repeat an earlier one
          const seen = new Set<string>()
          const repeated = exs.map((e) => {
            const k = normalizeExample(e)
            const r = seen.has(k)
            seen.add(k)
            return r
          })
          const pairs = findNearDuplicatesBruteForce(exs, t).filter((p) => !repeated[p.a] && !repeated[p.b])
          const best = new Map<number, number>()
          for (const p of pairs) best.set(p.b, Math.max(best.get(p.b) ?? 0, p.similarity))
          expect([...warned.keys()].sort((x, y) => x - y)).toEqual([...best.keys()].sort((x, y) => x - y))
          for (const [b, a] of warned) {
            expect(pairs.find((p) => p.a === a && p.b === b)?.similarity).toBeCloseTo(best.get(b)!, 9)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
