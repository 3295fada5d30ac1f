import { describe, expect, it } from 'vitest'
import { loadMustPass, parseMustPass } from './must-pass.js'

const parse = (text: string) => {
  const out = { cases: [] as ReturnType<typeof Array<never>>, diagnostics: [] as never[] } as unknown as Parameters<
    typeof parseMustPass
  >[2]
  const isMustPass = parseMustPass(text, 't.yml', out)
  return { isMustPass, ...out }
}

describe('must-pass files', () => {
  it('read text and fields cases with entities, thresholds and positions', () => {
    const r = parse(`version: "1"
must_pass:
  - text: 'book a flight to [Paris]{"entity": "city", "role": "destination"}'
    intent: book_flight
    min_confidence: 0.5
  - fields: { subject: "Refund", body: "charged for [123456](order) twice" }
    intent: refund
    allow_failure: true
  - text: hello
    intent: greet
`)
    expect(r.diagnostics).toEqual([])
    expect(r.cases).toEqual([
      {
        text: 'book a flight to Paris',
        intent: 'book_flight',
        entities: [{ start: 17, end: 22, entity: 'city', value: 'Paris', role: 'destination' }],
        minConfidence: 0.5,
        allowFailure: false,
        source: { file: 't.yml', line: 3, column: 5 },
      },
      {
        text: 'Refund\ncharged for 123456 twice',
        fields: { subject: 'Refund', body: 'charged for 123456 twice' },
        intent: 'refund',
        entities: [{ start: 12, end: 18, entity: 'order', value: '123456', field: 'body' }],
        allowFailure: true,
        source: { file: 't.yml', line: 6, column: 5 },
      },
      { text: 'hello', intent: 'greet', allowFailure: false, source: { file: 't.yml', line: 9, column: 5 } },
    ])
  })

  it('report every problem with its position', () => {
    const r = parse(`version: "1"
must_pass:
  - text: hi
  - text: yo
    intent: greet
    min_confidence: 2
  - text: fly to [Paris(city)
    intent: book
    colour: red
`)
    expect(r.diagnostics.map((d) => [d.code, d.location.line, d.location.column, d.message])).toEqual([
      ['ERR_DATA_SCHEMA', 3, 5, 'a must-pass case needs a string `intent`'],
      ['ERR_DATA_SCHEMA', 6, 21, '`min_confidence` must be a number from 0 to 1'],
      [
        'ERR_DATA_SCHEMA',
        9,
        5,
        'unknown key `colour` in a must-pass case; allowed: text, fields, intent, min_confidence, allow_failure',
      ],
      ['WARN_DATA_UNCLOSED_BRACKET', 7, 18, expect.stringContaining("'[' is never closed")],
    ])
  })

  it('skip YAML files without must_pass, such as Rasa test stories', () => {
    expect(parse('stories:\n- story: a\n  steps: []\n')).toMatchObject({
      isMustPass: false,
      cases: [],
      diagnostics: [],
    })
  })

  it('load from the template and throw the first problem with its position', async () => {
    const root = new URL('../../templates/default/', import.meta.url).pathname
    const cases = await loadMustPass(['tests'], { root })
    expect(cases.length).toBeGreaterThanOrEqual(10)
    expect(cases.find((c) => c.intent === 'change_seat')?.entities).toEqual([
      { start: 16, end: 21, entity: 'seat_type', value: 'aisle' },
    ])
    await expect(
      loadMustPass(['must-pass-broken.yml'], { root: new URL('../../test/fixtures/', import.meta.url).pathname }),
    ).rejects.toMatchObject({ code: 'ERR_DATA_SCHEMA', location: { file: 'must-pass-broken.yml', line: 3 } })
  })
})
