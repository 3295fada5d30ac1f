import { describe, expect, it } from 'vitest'
import { createRandom } from '../../eval/random.js'
import { jsonSyntaxProblem, lineColumn, scanForProblem } from './json-syntax.js'
import { parseJsonl } from './jsonl.js'
import { parseNlpjs } from './nlpjs.js'
import { parseRasaJson } from './rasa-json.js'

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

const VALID = `{"rasa_nlu_data": {"common_examples": [
  {"text": "fly to Paris", "intent": "book", "entities": [{"start": 7, "end": 12, "value": "Paris", "entity": "city"}]},
  {"text": "caf\\u00e9 \\"au lait\\"\\n\\/", "intent": "order", "metadata": {"n": -1.5e+3, "z": 0, "ok": true, "x": null}}
], "entity_synonyms": [], "regex_features": [{"name": "zip", "pattern": "\\\\d{5}"}]}}
`

describe('jsonSyntaxProblem', () => {
  it.each([
    ['{"a": [1, 2,]}', 12, "a comma before ']' (a trailing comma)", /Delete the comma after the last item/],
    ['{"a": 1,\n}', 9, "a comma before '}' (a trailing comma)", /Delete the comma/],
    ['{"a": 1 // note\n}', 8, 'a // comment', /JSON has no comments/],
    ['/* header */ {}', 0, 'a /* */ comment', /JSON has no comments/],
    ['# header\n{}', 0, 'a # comment', /JSON has no comments/],
    ['{text: "hi"}', 1, 'the key text is not in double quotes', /\{"key": value\}/],
    ["{'text': 'hi'}", 1, 'a string in single quotes', /double quotes/],
    ['{"a" 1}', 5, "expected ':' after the key, found '1'", /colon/],
    ['[1 2]', 3, "expected ',' or ']', found '2'", /comma/],
    ['"a\nb"', 2, 'a line break inside a string (or a string whose closing quote is missing)', /\\n/],
    ['"\\x"', 1, 'an invalid escape \\x in a string', /\\uXXXX/],
    ['[01]', 1, '"01" is not a JSON number', /leading zeros/],
    ['[1.]', 1, '"1." is not a JSON number', /decimal point/],
    ['[NaN]', 1, 'NaN is not a JSON number', /NaN/],
    ['[True]', 1, '"True" is not a JSON value', /true, false and null/],
    ['{"a":}', 5, "expected a value, found '}'", /Write a value here/],
    ['[1,,2]', 3, 'a comma where a value should be (an empty item)', /extra comma/],
    ['[1, 2', 5, "the file ends before the closing ']'", /ends too early/],
    ['"abc', 0, 'a string that is never closed', /ends too early/],
    ['{} {}', 3, "text after the end of the JSON value: '{'", /one value/],
    [' \n ', 0, 'the file is empty', /one JSON value/],
  ])('%j at offset %i: %s', (text, offset, detail, hint) => {
    const p = jsonSyntaxProblem(text)
    expect(p).toMatchObject({ offset, detail })
    expect(p!.hint).toMatch(hint)
    expect(parses(text)).toBe(false)
  })

  it('accepts strict JSON, however deeply nested', () => {
    expect(jsonSyntaxProblem(VALID)).toBeUndefined()
    expect(jsonSyntaxProblem(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined()
    expect(jsonSyntaxProblem('[-0, 1E5, 2e-3, "", {}, []]')).toBeUndefined()
    // The scan alone, which JSON.parse spares a valid text, accepts them too.
    expect(scanForProblem(VALID)).toBeUndefined()
    expect(scanForProblem(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined()
    expect(scanForProblem('[-0, 1E5, 2e-3, "", {}, []]')).toBeUndefined()
  })

  it('agrees with JSON.parse on every one-character change of a valid document, the scan alone too', () => {
    const random = createRandom(11)
    const alphabet = [...'{}[],:"\'/ *#\\\n\tu0123456789.eE+-abtnrfxlsN']
    let changed = 0
    for (let k = 0; k < 3000; k++) {
      const at = Math.floor(random() * VALID.length)
      const c = alphabet[Math.floor(random() * alphabet.length)]!
      const op = k % 3
      const text =
        op === 0
          ? VALID.slice(0, at) + c + VALID.slice(at)
          : op === 1
            ? VALID.slice(0, at) + VALID.slice(at + 1)
            : VALID.slice(0, at) + c + VALID.slice(at + 1)
      const p = jsonSyntaxProblem(text)
      expect(p === undefined, `${JSON.stringify(text)}: ${JSON.stringify(p)}`).toBe(parses(text))
      const scanned = scanForProblem(text)
      expect(scanned === undefined, `scan of ${JSON.stringify(text)}: ${JSON.stringify(scanned)}`).toBe(parses(text))
      if (p) {
        changed++
        expect(p.offset).toBeGreaterThanOrEqual(0)
        expect(p.offset).toBeLessThanOrEqual(text.length)
      }
    }
    expect(changed).toBeGreaterThan(1000)
  })

  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd\nef', 0)).toEqual({ line: 1, column: 1 })
    expect(lineColumn('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 })
    expect(lineColumn('ab\ncd\nef', 6)).toEqual({ line: 3, column: 1 })
  })
})

describe('JSON data files are read strictly, as Rasa reads them', () => {
  it('Rasa JSON with a trailing comma or a comment is a syntax error at its line and column, with the fix', () => {
    const trailing = parseRasaJson(
      '{"rasa_nlu_data": {"common_examples": [\n  {"text": "hi", "intent": "greet"},\n]}}\n',
      'data/nlu.json',
    )
    expect(trailing.data.examples).toEqual([])
    expect(trailing.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'ERR_DATA_SYNTAX',
        message: "Invalid JSON: a comma before ']' (a trailing comma)",
        location: { file: 'data/nlu.json', line: 3, column: 1 },
        hint: 'Delete the comma after the last item: JSON allows no comma before a closing bracket.',
      },
    ])
    const comment = parseRasaJson(
      '{"rasa_nlu_data": {\n  // greetings\n  "common_examples": [{"text": "hi", "intent": "greet"}]}}\n',
      'nlu.json',
    )
    expect(comment.diagnostics.map((d) => [d.code, d.message, d.location])).toEqual([
      ['ERR_DATA_SYNTAX', 'Invalid JSON: a // comment', { file: 'nlu.json', line: 2, column: 3 }],
    ])
    expect(comment.diagnostics[0]!.hint).toMatch(/JSON has no comments/)
    // The same data without the comment loads.
    const clean = parseRasaJson(
      '{"rasa_nlu_data": {\n  "common_examples": [{"text": "hi", "intent": "greet"}]}}\n',
      'nlu.json',
    )
    expect(clean.diagnostics).toEqual([])
    expect(clean.data.examples.map((e) => e.text)).toEqual(['hi'])
  })

  it('a key given twice is refused with its own fix, where Python would keep the last silently', () => {
    const r = parseRasaJson('{"rasa_nlu_data": {"common_examples": [],\n "common_examples": []}}', 'a.json')
    expect(r.diagnostics.map((d) => [d.code, d.location.line, d.hint])).toEqual([
      ['ERR_DATA_SYNTAX', 2, 'Each key may appear once in a mapping; remove or rename the duplicate.'],
    ])
  })

  it('an NLP.js corpus with a bare key is refused', () => {
    const r = parseNlpjs('{\n  name: "c", "locale": "en-US", "data": []\n}\n', 'corpus.json')
    expect(r.diagnostics.map((d) => [d.message, d.location.line, d.location.column])).toEqual([
      ['Invalid JSON: the key name is not in double quotes', 2, 3],
    ])
  })

  it('a JSON line names the column of its problem and keeps the other lines', () => {
    const r = parseJsonl('{"text": "hi", "intent": "greet"}\n{"text": "bye", "intent": "bye",}\n', 'x.jsonl')
    expect(r.data.examples.map((e) => e.text)).toEqual(['hi'])
    expect(r.diagnostics.map((d) => [d.message, d.location])).toEqual([
      ["Invalid JSON line: a comma before '}' (a trailing comma)", { file: 'x.jsonl', line: 2, column: 33 }],
    ])
    expect(r.diagnostics[0]!.hint).toMatch(/Each line holds one whole JSON object/)
  })
})
