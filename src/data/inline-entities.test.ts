import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatAnnotatedText, parseAnnotatedText } from './inline-entities.js'
import type { EntityAnnotation } from './types.js'

describe('parseAnnotatedText', () => {
  it('reads the short form, the value form and the JSON form', () => {
    const r = parseAnnotatedText(
      'fly from [Berlin](city) to [NYC](city:New York) with [two]{"entity": "count", "value": "2", "role": "adults", "group": "1"}',
    )
    expect(r.issues).toEqual([])
    expect(r.text).toBe('fly from Berlin to NYC with two')
    expect(r.entities).toEqual([
      { start: 9, end: 15, entity: 'city', value: 'Berlin' },
      { start: 19, end: 22, entity: 'city', value: 'New York' },
      { start: 28, end: 31, entity: 'count', value: '2', role: 'adults', group: '1' },
    ])
  })
  it('reads several labels on one span', () => {
    const r = parseAnnotatedText('[Paris][{"entity": "city"}, {"entity": "destination", "value": "PAR"}] please')
    expect(r.issues).toEqual([])
    expect(r.text).toBe('Paris please')
    expect(r.entities).toEqual([
      { start: 0, end: 5, entity: 'city', value: 'Paris' },
      { start: 0, end: 5, entity: 'destination', value: 'PAR' },
    ])
  })
  it('keeps brackets that are not annotations as text', () => {
    const r = parseAnnotatedText('see [note] below')
    expect(r).toEqual({ text: 'see [note] below', entities: [], issues: [] })
  })
  it.each([
    ['an unclosed (', 'book [Paris](city', 12, /'\(' after \[Paris\] is never closed/],
    ['bad JSON', 'book [Paris]{"entity": city}', 12, /bad JSON/],
    ['an empty span', 'book [](city) now', 5, /empty entity span/],
    ['a missing entity name', 'book [Paris]() now', 12, /missing entity name/],
    ['a JSON label without entity', 'book [Paris]{"value": "x"}', 12, /needs a non-empty string "entity"/],
    ['an unknown JSON key', 'book [Paris]{"entity": "city", "colour": "red"}', 12, /unknown key "colour"/],
    ['nested brackets', 'book [New [York](city)', 10, /entities cannot nest/],
  ])('reports %s with its offset', (_name, input, offset, message) => {
    const r = parseAnnotatedText(input)
    expect(r.issues.length).toBeGreaterThan(0)
    expect(r.issues[0]!.offset).toBe(offset)
    expect(r.issues[0]!.message).toMatch(message)
  })
})

describe('a [ that is never closed', () => {
  it('is plain text with a warning, as in Rasa', () => {
    const r = parseAnnotatedText('book [Paris now')
    expect(r.text).toBe('book [Paris now')
    expect(r.entities).toEqual([])
    expect(r.issues).toEqual([
      { message: expect.stringMatching(/'\[' is never closed/), offset: 5, severity: 'warning' },
    ])
  })
  it('keeps the entities before it', () => {
    const r = parseAnnotatedText('[Rome](city) or [somewhere')
    expect(r.text).toBe('Rome or [somewhere')
    expect(r.entities).toEqual([{ start: 0, end: 4, entity: 'city', value: 'Rome' }])
    expect(r.issues.map((i) => i.severity)).toEqual(['warning'])
  })
})

describe('formatAnnotatedText', () => {
  const fails = (text: string, entities: EntityAnnotation[] = []) => {
    try {
      formatAnnotatedText(text, entities, { file: 'in.jsonl', line: 3 })
    } catch (err) {
      return err as { code: string; message: string; location: unknown }
    }
    throw new Error(`formatAnnotatedText(${JSON.stringify(text)}) did not throw`)
  }
  it.each([
    ['markup in plain text', 'press [ok](btn) now', [], /marking "ok" as entity btn/],
    ['a JSON label in plain text', 'see [x]{"entity": "e"}', [], /marking "x" as entity e/],
    ['brackets that would break the line', 'a [b [c](d)', [], /broken entity markup.*cannot nest/],
    ['an unclosed label after brackets', 'see [x](y', [], /broken entity markup/],
    [
      'brackets next to an entity',
      'go to [ Rome',
      [{ start: 8, end: 12, entity: 'city', value: 'Rome' }],
      /broken entity markup/,
    ],
  ])('refuses %s instead of changing its meaning', (_name, text, entities, detail) => {
    const err = fails(text, entities as EntityAnnotation[])
    expect(err.code).toBe('ERR_DATA_TEXT_LOOKS_ANNOTATED')
    expect(err.message).toContain(`Example "${text}" cannot be written as Rasa YAML`)
    expect(err.message).toMatch(detail)
    expect(err.location).toEqual({ file: 'in.jsonl', line: 3 })
  })
  it('writes brackets Rasa reads as text unchanged', () => {
    for (const text of ['a [ lone bracket', 'see [note] below', 'x ] y', 'f(x) = [1, 2]']) {
      expect(formatAnnotatedText(text, [])).toBe(text)
      expect(parseAnnotatedText(text).text).toBe(text)
    }
    expect(formatAnnotatedText('fly to Rome [soon', [{ start: 7, end: 11, entity: 'city', value: 'Rome' }])).toBe(
      'fly to [Rome](city) [soon',
    )
  })
})

// Words without markup characters; spans are whole words so they never touch each other's brackets.
const word = fc.stringMatching(/^[a-zA-Z0-9éü' -]{1,12}$/).filter((w) => w.trim().length > 0)
const name = fc.stringMatching(/^[a-z_]{1,8}$/)
const optional = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined })

describe('inline entities round-trip', () => {
  it('parse(format(text, entities)) gives back the same text and entities', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            before: word,
            span: word,
            entity: name,
            value: optional(word),
            role: optional(name),
            group: optional(name),
            annotate: fc.boolean(),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (parts) => {
          let text = ''
          const entities: EntityAnnotation[] = []
          for (const p of parts) {
            text += `${p.before} `
            const start = text.length
            text += p.span
            if (p.annotate) {
              entities.push({
                start,
                end: text.length,
                entity: p.entity,
                value: p.value ?? p.span,
                ...(p.role !== undefined ? { role: p.role } : {}),
                ...(p.group !== undefined ? { group: p.group } : {}),
              })
            }
            text += ' '
          }
          const parsed = parseAnnotatedText(formatAnnotatedText(text, entities))
          expect(parsed.issues).toEqual([])
          expect(parsed.text).toBe(text)
          expect(parsed.entities).toEqual(entities)
        },
      ),
      { numRuns: 300 },
    )
  })
  it('never throws and keeps offsets inside the text, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('[', ']', '(', ')', '{', '}', '"', ':', 'a', ' ', ',', '\\') }),
        (s) => {
          const r = parseAnnotatedText(s)
          for (const e of r.entities) {
            expect(e.start).toBeGreaterThanOrEqual(0)
            expect(e.end).toBeLessThanOrEqual(r.text.length)
            expect(e.start).toBeLessThan(e.end)
          }
          for (const issue of r.issues) expect(issue.offset).toBeLessThanOrEqual(s.length)
        },
      ),
      { numRuns: 2000 },
    )
  })
})
