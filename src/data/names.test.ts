import { describe, expect, it } from 'vitest'
import { nameHint, nameProblem, suggestName } from './names.js'

describe('intent and entity names', () => {
  it('accepts names in any script, with _ - . and, for intents, one / between two names', () => {
    for (const n of [
      'greet',
      'book_flight',
      'book-flight',
      'faq.hours',
      'café',
      'größe',
      '日本語',
      '_x',
      'yes',
      'a1',
    ]) {
      expect([n, nameProblem('intent', n), nameProblem('entity', n)]).toEqual([n, undefined, undefined])
    }
    expect(nameProblem('intent', 'faq/opening_hours')).toBeUndefined()
    expect(nameProblem('entity', 'faq/opening_hours')).toBe("it contains '/'")
  })

  it('holds entity roles and groups to the entity rules, but lets them be numbers, as Rasa numbers groups', () => {
    for (const kind of ['role', 'group'] as const) {
      expect(['departure', '1', '2', '10', 'trip.1'].map((n) => nameProblem(kind, n))).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
      ])
      expect(['from city', 'a/b', '01', '1e3', 'null', 'true'].map((n) => nameProblem(kind, n))).toEqual([
        'it contains a space',
        "it contains '/'",
        'YAML reads it as 1, not as a name, wherever it is unquoted',
        'YAML reads it as 1000, not as a name, wherever it is unquoted',
        'YAML reads it as null, not as a name, wherever it is unquoted',
        'YAML reads it as true, not as a name, wherever it is unquoted',
      ])
    }
    // entities and intents stay as they were
    expect(nameProblem('entity', '1')).toBe('YAML reads it as 1, not as a name, wherever it is unquoted')
    expect(nameHint('group', 'a b')).toMatch(
      /^Entity groups follow the rules of entity names: .* Rename it, e\.g\. to a_b\.$/,
    )
  })

  it('says what is wrong with each refused name', () => {
    const cases: Array<[string, string]> = [
      ['', 'it is empty'],
      ['a:b', "it contains ':'"],
      ['#c', "it contains '#'"],
      ['Bad Name', 'it contains a space'],
      [' greet', 'it contains a space'],
      ['a]b', "it contains ']'"],
      ["don't", `it contains "'"`],
      ['a\u0000b', 'it contains "\\u0000"'],
      ['-x', "it starts with '-'"],
      ['.x', "it starts with '.'"],
      ['a/b/c', "it contains more than one '/'"],
      ['/x', "'/' must join two names, as in faq/opening_hours"],
      ['faq/-x', "'-x' starts with '-'"],
      ['null', 'YAML reads it as null, not as a name, wherever it is unquoted'],
      ['TRUE', 'YAML reads it as true, not as a name, wherever it is unquoted'],
      ['42', 'YAML reads it as 42, not as a name, wherever it is unquoted'],
      ['1e3', 'YAML reads it as 1000, not as a name, wherever it is unquoted'],
    ]
    expect(cases.map(([n]) => [n, nameProblem('intent', n)])).toEqual(cases)
  })

  it('suggests a close name that follows the rules, and none when there is no obvious one', () => {
    expect(suggestName('entity', 'Bad Name')).toBe('Bad_Name')
    expect(suggestName('intent', 'a:b')).toBe('a_b')
    expect(suggestName('intent', '#c')).toBe('c')
    expect(suggestName('intent', 'a/b/c')).toBe('a/b_c')
    expect(suggestName('entity', 'a/b')).toBe('a_b')
    expect(suggestName('intent', 'null')).toBeUndefined()
    expect(suggestName('intent', 'greet')).toBeUndefined()
    expect(nameHint('entity', 'Bad Name')).toMatch(/^Entity names are letters, .* Rename it, e\.g\. to Bad_Name\.$/)
    expect(nameHint('intent', 'null')).toMatch(/^Intent names are .*\(null, true, 42\) are not names\. Rename it\.$/)
  })
})
