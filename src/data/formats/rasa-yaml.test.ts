import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalExample, fingerprintTrainingData } from '../fingerprint.js'
import { type Example, emptyTrainingData, type TrainingData } from '../types.js'
import { formatRasaYaml, parseRasaYaml } from './rasa-yaml.js'

describe('parseRasaYaml', () => {
  it('keeps the exact line and column of every example inside a | block, with CRLF line ends too', () => {
    const text = [
      'version: "3.1"',
      'nlu:',
      '- intent: greet',
      '  # a comment',
      '  examples: |',
      '      - hi',
      '',
      '      -   hello [there](who)',
      '- intent: bye',
      '  examples: |-',
      '    - ciao',
    ].join('\n')
    for (const t of [text, text.replace(/\n/g, '\r\n')]) {
      const r = parseRasaYaml(t, 'nlu.yml')
      expect(r.diagnostics).toEqual([])
      expect(r.data.examples.map((e) => [e.text, e.source])).toEqual([
        ['hi', { file: 'nlu.yml', line: 6, column: 9 }],
        ['hello there', { file: 'nlu.yml', line: 8, column: 11 }],
        ['ciao', { file: 'nlu.yml', line: 11, column: 7 }],
      ])
      expect(r.data.examples[1]!.entities).toEqual([{ start: 6, end: 11, entity: 'who', value: 'there' }])
    }
  })

  it('reads the list form with metadata and multi-field examples', () => {
    const r = parseRasaYaml(
      `version: "3.1"
nlu:
- intent: refund
  metadata: {team: billing}
  examples:
  - text: |
      I want my money back
    metadata:
      sentiment: negative
  - text: "refund order [123456](order)"
  - fields:
      subject: Refund for [123456](order)
      body: charged twice
`,
      'f.yml',
    )
    expect(r.diagnostics).toEqual([])
    expect(r.data.intents).toEqual([
      { name: 'refund', source: { file: 'f.yml', line: 3, column: 3 }, metadata: { team: 'billing' } },
    ])
    const [a, b, c] = r.data.examples
    expect(a).toMatchObject({
      text: 'I want my money back',
      metadata: { sentiment: 'negative' },
      source: { line: 7, column: 7 },
    })
    expect(b).toMatchObject({ text: 'refund order 123456', source: { line: 10, column: 12 } })
    expect(c).toMatchObject({
      text: 'Refund for 123456\ncharged twice',
      fields: { subject: 'Refund for 123456', body: 'charged twice' },
      entities: [{ start: 11, end: 17, entity: 'order', value: '123456', field: 'subject' }],
    })
  })

  it('skips Rasa domain and story files quietly but reports unknown keys next to nlu', () => {
    expect(parseRasaYaml('version: "3.1"\nstories:\n- story: x\n  steps: []\n', 's.yml')).toMatchObject({
      isNlu: false,
      diagnostics: [],
    })
    expect(parseRasaYaml('intents:\n  - greet\nresponses: {}\n', 'domain.yml').diagnostics).toEqual([])
    const r = parseRasaYaml('version: "3.1"\nnlu: []\nnlux: []\n', 'n.yml')
    expect(r.diagnostics).toMatchObject([{ code: 'ERR_DATA_SCHEMA', location: { line: 3, column: 1 } }])
  })

  it('reports a bad version, a line without "- " and an empty file quietly', () => {
    const r = parseRasaYaml('version: 3.1\nnlu:\n- intent: a\n  examples: |\n    - ok\n    not an example\n', 'v.yml')
    expect(r.diagnostics.map((d) => [d.message, d.location.line, d.location.column])).toEqual([
      ['`version` must be a string', 1, 10],
      ['example line must start with "- " in intent `a`', 6, 5],
    ])
    expect(parseRasaYaml('', 'e.yml')).toMatchObject({ isNlu: false, diagnostics: [] })
  })

  it('refuses alias bombs and deep nesting with a diagnostic, not a crash', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 8; i++)
      bomb.push(
        `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10)
          .fill(`*${'abcdefghij'[i - 1]}`)
          .join(',')}]`,
      )
    bomb.push('nlu: []')
    const r = parseRasaYaml(bomb.join('\n'), 'bomb.yml')
    expect(r.diagnostics[0]!.code).toBe('ERR_YAML_ALIAS_BOMB')
    const deep = `nlu: ${'['.repeat(100)}${']'.repeat(100)}\n`
    expect(parseRasaYaml(deep, 'deep.yml').diagnostics[0]!.code).toBe('ERR_YAML_TOO_DEEP')
  })
})

// Texts made of words, punctuation and characters YAML cares about; spans are whole words.
const word = fc.stringMatching(/^[a-zA-Zéü0-9'’#:&*!?,.-]{1,10}$/)
const name = fc.stringMatching(/^[a-z][a-z_]{0,7}$/)

const exampleArb = fc
  .record({
    words: fc.array(word, { minLength: 1, maxLength: 6 }),
    spans: fc.array(fc.record({ at: fc.nat(5), entity: name, role: fc.option(name, { nil: undefined }) }), {
      maxLength: 2,
    }),
    intent: name,
    meta: fc.option(fc.record({ source: name }), { nil: undefined }),
    multi: fc.boolean(),
  })
  .map((r): Example => {
    let text = ''
    const starts: number[] = []
    r.words.forEach((w, i) => {
      if (i) text += ' '
      starts.push(text.length)
      text += w
    })
    const used = new Set<number>()
    const entities = r.spans
      .filter((s) => s.at < r.words.length && !used.has(s.at) && used.add(s.at))
      .map((s) => ({
        start: starts[s.at]!,
        end: starts[s.at]! + r.words[s.at]!.length,
        entity: s.entity,
        value: r.words[s.at]!,
        ...(s.role ? { role: s.role } : {}),
      }))
      .sort((a, b) => a.start - b.start)
    if (r.multi) {
      return {
        text: `${text}\nbody ${text}`,
        fields: { subject: text, body: `body ${text}` },
        intent: r.intent,
        entities: entities.map((e) => ({ ...e, field: 'subject' })),
        ...(r.meta ? { metadata: r.meta } : {}),
      }
    }
    return { text, intent: r.intent, entities, ...(r.meta ? { metadata: r.meta } : {}) }
  })

describe('formatRasaYaml', () => {
  it('round-trips: parse(format(data)) is the same data', () => {
    fc.assert(
      fc.property(
        fc.array(exampleArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ value: word, examples: fc.array(word, { minLength: 1, maxLength: 3 }) }), {
          maxLength: 2,
        }),
        (examples, synonyms) => {
          const data: TrainingData = emptyTrainingData()
          data.examples = examples
          data.synonyms = synonyms
          data.regexes = [{ name: 'zip', patterns: ['\\b\\d{5}\\b', '[A-Z]{2}#'] }]
          data.lookups = [{ name: 'city', elements: ['Paris', 'New York'] }]
          const text = formatRasaYaml(data)
          const back = parseRasaYaml(text, 'x.yml')
          expect(back.diagnostics).toEqual([])
          // examples come back grouped by intent, so compare them as multisets
          expect(back.data.examples.map(canonicalExample).sort()).toEqual(examples.map(canonicalExample).sort())
          expect(fingerprintTrainingData(back.data)).toBe(fingerprintTrainingData(data))
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('scalar names', () => {
  it('stay on one line even when YAML would prefer a block', () => {
    const data = emptyTrainingData()
    data.synonyms.push({ value: '...0', examples: ['.'] })
    data.examples.push({ text: 'x', intent: 'a: b', entities: [] })
    const back = parseRasaYaml(formatRasaYaml(data), 'x.yml')
    expect(back.diagnostics).toEqual([])
    expect(back.data.synonyms[0]!.value).toBe('...0')
    expect(back.data.intents[0]!.name).toBe('a: b')
  })
})
