import { describe, expect, it } from 'vitest'
import { catchError } from '../../../test/helpers/catch-error.js'
import type { EntityAnnotation, Example, TrainingData } from '../../data/types.js'
import type { ComponentState } from '../component.js'
import { roundTripState } from '../testing.js'
import { tokenize } from '../tokenizer.js'
import {
  CrfEntityExtractor,
  type CrfParams,
  crfFromState,
  crfLabelName,
  crfParams,
  crfTrainingObjective,
} from './crf.js'

/** Builds an example from text with `[covered](entity#role)` marks. */
function ex(marked: string, intent = 'any'): Example {
  const entities: EntityAnnotation[] = []
  let text = ''
  const re = /\[([^\]]+)\]\(([^)#@]+)(?:#([^)@]+))?(?:@([^)]+))?\)/g
  let last = 0
  for (let m = re.exec(marked); m !== null; m = re.exec(marked)) {
    text += marked.slice(last, m.index)
    const e: EntityAnnotation = { start: text.length, end: text.length + m[1]!.length, entity: m[2]!, value: m[1]! }
    if (m[3]) e.role = m[3]
    if (m[4]) e.group = m[4]
    entities.push(e)
    text += m[1]
    last = m.index + m[0].length
  }
  text += marked.slice(last)
  return { text, intent, entities }
}

const crf = (params: Partial<CrfParams> = {}) => new CrfEntityExtractor(crfParams(params))

function data(examples: Example[], extra: Partial<TrainingData> = {}): TrainingData {
  return { intents: [], examples, synonyms: [], regexes: [], lookups: [], ...extra }
}

const TRAIN_CITIES = ['Paris', 'London', 'Berlin', 'New York', 'Tokyo', 'Rome', 'Madrid', 'San Francisco', 'Oslo']
const TEST_CITIES = ['Lisbon', 'Cairo', 'Buenos Aires', 'Sydney']

function travelData(): TrainingData {
  const examples: Example[] = []
  TRAIN_CITIES.forEach((a, i) => {
    const b = TRAIN_CITIES[(i + 3) % TRAIN_CITIES.length]!
    examples.push(ex(`fly from [${a}](city#origin) to [${b}](city#destination) on [monday](date)`))
    examples.push(ex(`I need a flight to [${b}](city#destination) from [${a}](city#origin)`))
    examples.push(ex(`book a hotel in [${a}](city) for [${(i % 5) + 2}](nights) nights`))
    examples.push(ex(`what is the weather like in [${b}](city) [tomorrow](date)`))
  })
  examples.push(ex('hello there'), ex('thanks a lot'), ex('cancel everything'))
  return data(examples)
}

const fitted = crf().fit(travelData(), { seed: 1 })

function run(tagger: { extract: typeof fitted.extract }, text: string) {
  return tagger.extract(text, tokenize(text))
}

function simple(tagger: { extract: typeof fitted.extract }, text: string) {
  return run(tagger, text).map((e) => [e.value, crfLabelName(e)])
}

describe('CrfEntityExtractor', () => {
  it('learns the training data perfectly', () => {
    for (const example of travelData().examples) {
      const got = run(fitted, example.text).map((e) => ({ start: e.start, end: e.end, entity: e.entity, role: e.role }))
      const want = example.entities.map((e) => ({ start: e.start, end: e.end, entity: e.entity, role: e.role }))
      expect(got, example.text).toEqual(want)
    }
  })

  it('generalises to unseen values from context, with roles, offsets and confidences', () => {
    const text = 'fly from Lisbon to Buenos Aires on friday'
    const got = run(fitted, text)
    expect(got.map((e) => [e.value, crfLabelName(e)])).toEqual([
      ['Lisbon', 'city#origin'],
      ['Buenos Aires', 'city#destination'],
      ['friday', 'date'],
    ])
    for (const e of got) {
      expect(text.slice(e.start, e.end)).toBe(e.value)
      expect(e.extractor).toBe('crf')
      expect(e.confidence_entity).toBeGreaterThan(0.5)
      expect(e.confidence_entity).toBeLessThanOrEqual(1)
    }
    expect(simple(fitted, `I need a flight to ${TEST_CITIES[2]} from ${TEST_CITIES[1]}`)).toEqual([
      ['Buenos Aires', 'city#destination'],
      ['Cairo', 'city#origin'],
    ])
    expect(run(fitted, 'hello there')).toEqual([])
  })

  it('is less confident where the context is ambiguous', () => {
    const [clear] = run(fitted, 'book a hotel in Sydney for 3 nights')
    const [vague] = run(fitted, 'Sydney')
    expect(clear!.confidence_entity).toBeGreaterThan(vague?.confidence_entity ?? 0)
  })

  it('decodes groups and keeps multi-token spans whole', () => {
    const examples = ['large', 'small', 'medium', 'extra large'].flatMap((size, i) => {
      const topping = ['ham', 'olives', 'mushrooms', 'pineapple'][i]!
      return [
        ex(`one [${size}](size@1) with [${topping}](topping@1) and a [small](size@2) with [cheese](topping@2)`),
        ex(`a [${size}](size@1) pizza with [${topping}](topping@1)`),
      ]
    })
    const tagger = crf().fit(data(examples), { seed: 1 })
    const got = run(tagger, 'one extra large with pineapple and a small with cheese')
    expect(got.map((e) => [e.value, e.entity, e.group])).toEqual([
      ['extra large', 'size', '1'],
      ['pineapple', 'topping', '1'],
      ['small', 'size', '2'],
      ['cheese', 'topping', '2'],
    ])
    expect(got[0]!.role).toBeUndefined()
  })

  it('uses lookup tables as features', () => {
    // Same contexts for currencies and other words: only the lookup table tells them apart.
    const currencies = ['dollars', 'euros', 'pounds', 'yen', 'francs', 'rupees']
    const others = ['cash', 'installments', 'parts', 'bits', 'coins', 'pieces']
    const examples = currencies
      .slice(0, 4)
      .flatMap((c, i) => [
        ex(`pay in [${c}](currency) please`),
        ex(`pay in ${others[i]} please`),
        ex(`can I pay in [${c}](currency)`),
        ex(`can I pay in ${others[i]}`),
      ])
    const lookups = [{ name: 'currency', elements: currencies }]
    const withLookup = crf().fit(data(examples, { lookups }), { seed: 1 })
    expect(simple(withLookup, 'pay in rupees please')).toEqual([['rupees', 'currency']])
    expect(simple(withLookup, 'can I pay in francs')).toEqual([['francs', 'currency']])
    expect(simple(withLookup, 'pay in pieces please')).toEqual([])
    // Without the table, two unseen words in the same context get the same answer.
    const without = crf().fit(data(examples), { seed: 1 })
    expect(simple(without, 'pay in rupees please').length).toBe(simple(without, 'pay in pieces please').length)
  })

  it('tags each field of a multi-field example on its own', () => {
    const examples: Example[] = ['Paris', 'Rome', 'Oslo', 'Berlin'].map((city) => {
      const subject = `Trip to ${city}`
      const body = `Please book ${city} for me`
      return {
        text: `${subject}\n${body}`,
        fields: { subject, body },
        intent: 'book',
        entities: [
          { start: 8, end: 8 + city.length, entity: 'city', value: city, field: 'subject' },
          { start: 12, end: 12 + city.length, entity: 'city', value: city, field: 'body' },
        ],
      }
    })
    const tagger = crf().fit(data(examples), { seed: 1 })
    expect(simple(tagger, 'Trip to Madrid')).toEqual([['Madrid', 'city']])
    expect(simple(tagger, 'Please book Madrid for me')).toEqual([['Madrid', 'city']])
  })

  it('tags with a regex that can match empty text, past emoji', () => {
    const input = travelData()
    input.regexes.push({ name: 'maybe', patterns: ['\\d*', '(?:)'] })
    const tagger = crf({ maxIterations: 20 }).fit(input, { seed: 1 })
    // each of these looped forever on the empty match before the emoji
    for (const text of ['😀', 'fly to Rome 😀', '😀12 nights in Oslo😀']) {
      expect(run(tagger, text).every((e) => e.end <= text.length)).toBe(true)
    }
  })

  it('is deterministic for a seed and does not mutate its input', () => {
    const input = travelData()
    input.lookups.push({ name: 'city', elements: ['Paris', 'Rome'] })
    input.regexes.push({ name: 'nights', patterns: ['\\d+'] })
    const before = structuredClone(input)
    const tagger = crf({ maxIterations: 40 })
    const a = tagger.fit(input, { seed: 7 }).toState()
    const b = tagger.fit(input, { seed: 7 }).toState()
    const c = tagger.fit(input, { seed: 8 }).toState()
    expect(input).toEqual(before)
    expect(b).toEqual(a)
    // The optimiser has no randomness: the seed changes nothing.
    expect(c).toEqual(a)
    expect(tagger.params.maxIterations).toBe(40)
  })

  it('reports progress and honours the abort signal', () => {
    const progress: number[] = []
    crf({ maxIterations: 20 }).fit(travelData(), { seed: 1, onProgress: (f) => progress.push(f) })
    expect(progress.length).toBeGreaterThan(2)
    expect(progress.at(-1)).toBe(1)
    expect([...progress].sort((x, y) => x - y)).toEqual(progress)

    const before = new AbortController()
    before.abort()
    expect(() => crf().fit(travelData(), { seed: 1, signal: before.signal })).toThrow(
      expect.objectContaining({ name: 'AbortError' }),
    )
    const during = new AbortController()
    let calls = 0
    const onProgress = () => {
      if (++calls === 3) during.abort()
    }
    expect(() => crf().fit(travelData(), { seed: 1, signal: during.signal, onProgress })).toThrow(
      expect.objectContaining({ name: 'AbortError' }),
    )
    expect(calls).toBe(3)
  })

  it('fits data without entities into a tagger that finds none', () => {
    const tagger = crf().fit(data([ex('hello'), ex('bye now')]), { seed: 1 })
    expect(run(tagger, 'hello Paris')).toEqual([])
    expect(crfFromState(tagger.toState()).labels).toEqual([])
    const empty = crf().fit(data([]), { seed: 1 })
    expect(run(empty, 'anything')).toEqual([])
  })

  it('refuses bad params and bad annotations with catalog errors', () => {
    const bad = [{ l2: -1 }, { maxIterations: 0 }, { hashBits: 40 }, { window: 1.5 }, { tolerance: 0 }, { l3: 1 }]
    for (const params of bad) {
      const err = catchError(() =>
        new CrfEntityExtractor({ ...crfParams({}), ...params } as CrfParams).fit(travelData(), { seed: 1 }),
      )
      expect(err.code, JSON.stringify(params)).toBe('ERR_NLU_PARAM_INVALID')
      expect(err.message).toMatch(
        /^Invalid params for crf: (The '\w+' parameter of crf must be |crf has no parameter 'l3')/,
      )
    }
    expect(catchError(() => crfParams({ l2: '1' })).message).toBe(
      `Invalid params for crf: The 'l2' parameter of crf must be a number in [0, 1000000]. Got '1' instead.`,
    )
    const broken = ex('fly to [Paris](city)')
    broken.entities[0]!.end = 99
    broken.source = { file: 'data/nlu.yml', line: 12, column: 7 }
    const err = catchError(() => crf().fit(data([broken]), { seed: 1 }))
    expect(err.code).toBe('ERR_DATA_BAD_ANNOTATION')
    expect(err.describe()).toBe(
      "data/nlu.yml:12:7: Malformed entity annotation: entity 'city' at 7-99 does not fit a text of 12 characters",
    )
    const regex = catchError(() =>
      crf().fit(data([ex('to [Rome](city)')], { regexes: [{ name: 'r', patterns: ['(unclosed'] }] }), { seed: 1 }),
    )
    expect(regex.code).toBe('ERR_NLU_REGEX_INVALID')
  })

  it('does not crash on empty, huge, emoji, mixed-script or control-character text', () => {
    expect(run(fitted, '')).toEqual([])
    expect(run(fitted, '   \t\n')).toEqual([])
    const odd = [
      '😀 fly from 🇫🇷 Paris to 東京 🙂',
      'fly\u0000from\u0007Paris\u001bto\u202eRome',
      'ﬂy from Zürich to Москва',
      '\ud800 lone surrogate to Rome',
    ]
    for (const text of odd) {
      for (const e of run(fitted, text)) {
        expect(text.slice(e.start, e.end)).toBe(e.value)
        expect(Number.isFinite(e.confidence_entity)).toBe(true)
      }
    }
    const small = run(fitted, 'fly from Oslo to Rome')
    expect(small.length).toBe(2)
    const big = 'fly from Paris to Rome on monday. '.repeat(3000)
    expect(big.length).toBeGreaterThan(100_000)
    const found = run(fitted, big)
    expect(found.length).toBeGreaterThan(6000)
    expect(found.slice(0, 2).map((e) => crfLabelName(e))).toEqual(['city#origin', 'city#destination'])
    for (const e of found) expect(big.slice(e.start, e.end)).toBe(e.value)
    // A small text after a huge one gets the same answer as before it (buffers are not left in a bad state).
    expect(run(fitted, 'fly from Oslo to Rome')).toEqual(small)
  })

  it('reads features from the text, not from how the pipeline normalised the tokens', () => {
    const text = 'fly from Lisbon to Cairo'
    const plain = tokenize(text, { lowercase: false, foldAccents: false })
    const folded = tokenize(text, { lowercase: true, foldAccents: true })
    expect(fitted.extract(text, plain)).toEqual(fitted.extract(text, folded))
  })
})

describe('crf training objective', () => {
  it('has a gradient that matches finite differences', () => {
    const d = data(
      [
        ex('fly from [Paris](city#origin) to [New York](city#destination)'),
        ex('to [Rome](city#destination) on [monday](date)'),
        ex('nothing here'),
      ],
      { lookups: [{ name: 'city', elements: ['Rome', 'Oslo'] }], regexes: [{ name: 'day', patterns: ['day'] }] },
    )
    const { size, evaluate } = crfTrainingObjective(d, { l2: 0.3 })
    let seed = 3
    const w = Float64Array.from({ length: size }, () => {
      seed = (seed * 16807) % 2147483647
      return (seed / 2147483647 - 0.5) * 0.6
    })
    const grad = new Float64Array(size)
    const f0 = evaluate(w, grad)
    expect(Number.isFinite(f0)).toBe(true)
    const scratch = new Float64Array(size)
    const h = 1e-5
    let checked = 0
    for (let i = 0; i < size; i += Math.max(1, Math.floor(size / 150))) {
      const orig = w[i]!
      w[i] = orig + h
      const fp = evaluate(w, scratch)
      w[i] = orig - h
      const fm = evaluate(w, scratch)
      w[i] = orig
      const numeric = (fp - fm) / (2 * h)
      expect(Math.abs(numeric - grad[i]!), `weight ${i}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)))
      checked++
    }
    expect(checked).toBeGreaterThan(100)
  })
})

describe('crf state', () => {
  /** Through the model file's container (JSON header plus little-endian sections) and back. */
  const throughBytes = roundTripState

  const texts = [
    'fly from Lisbon to Buenos Aires on friday',
    'book a hotel in Sydney for 4 nights',
    'weather in Paris tomorrow',
    'hello',
  ]

  it('round-trips through JSON and typed arrays with bit-exact predictions', () => {
    const state = fitted.toState()
    const restored = crfFromState(throughBytes(state))
    for (const text of texts) expect(run(restored, text)).toEqual(run(fitted, text))
    expect(restored.toState()).toEqual(state)
    expect(restored.labels).toEqual(fitted.labels)
    expect(restored.fitInfo).toEqual(fitted.fitInfo)
    expect(fitted.entityTypes).toEqual(['city', 'date', 'nights'])
  })

  it('hands out copies: changing a state does not change the tagger', () => {
    const before = run(fitted, texts[0]!)
    expect(before.length).toBe(3)
    const state = fitted.toState()
    ;(state.arrays.pairWeights as Float32Array).fill(0)
    ;(state.arrays.transitions as Float32Array).fill(0)
    expect(run(fitted, texts[0]!)).toEqual(before)
  })

  it('keeps confidences finite and exact when weights are too large for probability space', () => {
    const state = throughBytes(fitted.toState())
    const scaled = crfFromState(state)
    for (const name of ['pairWeights', 'transitions', 'startWeights', 'endWeights']) {
      const a = state.arrays[name] as Float32Array
      for (let i = 0; i < a.length; i++) a[i] = a[i]! * 2000
    }
    const huge = crfFromState(state)
    const text = texts[0]!
    const got = run(huge, text)
    // Scaling every weight keeps the best path, and makes it near-certain.
    expect(got.map((e) => [e.start, e.end, e.entity])).toEqual(run(scaled, text).map((e) => [e.start, e.end, e.entity]))
    for (const e of got) {
      expect(Number.isFinite(e.confidence_entity)).toBe(true)
      expect(e.confidence_entity).toBeGreaterThan(0.99)
    }
  })

  function mutated(change: (s: { json: Record<string, unknown>; arrays: Record<string, unknown> }) => void) {
    const s = throughBytes(fitted.toState()) as unknown as {
      json: Record<string, unknown>
      arrays: Record<string, unknown>
    }
    change(s)
    return s as unknown as ComponentState
  }

  const hostile: [string, ComponentState][] = [
    ['not an object', null as unknown as ComponentState],
    ['no arrays', { json: {} } as unknown as ComponentState],
    ['a future version', mutated((s) => (s.json.version = 2))],
    ['invalid params', mutated((s) => ((s.json.params as Record<string, unknown>).hashBits = 99))],
    ['a label without entity', mutated((s) => (s.json.labels as unknown[]).push({ role: 'x' }))],
    ['a duplicate label', mutated((s) => (s.json.labels as unknown[]).push((s.json.labels as unknown[])[0]))],
    [
      'too many labels for the arrays',
      mutated((s) => (s.json.labels = Array.from({ length: 15_000 }, (_, i) => ({ entity: `e${i}` })))),
    ],
    ['a missing array', mutated((s) => delete s.arrays.transitions)],
    [
      'a mistyped array',
      mutated((s) => (s.arrays.pairWeights = new Float64Array(s.arrays.pairWeights as Float32Array))),
    ],
    ['a plain array', mutated((s) => (s.arrays.startWeights = Array.from(s.arrays.startWeights as Float32Array)))],
    ['a truncated array', mutated((s) => (s.arrays.pairTags = (s.arrays.pairTags as Uint16Array).subarray(1)))],
    ['offsets past the pairs', mutated((s) => ((s.arrays.attrOffsets as Uint32Array)[1] = 4_000_000_000))],
    ['a tag out of range', mutated((s) => ((s.arrays.pairTags as Uint16Array)[0] = 60_000))],
    ['a key outside the hash space', mutated((s) => ((s.arrays.attrKeys as Uint32Array)[0] = 0xffffffff))],
    [
      'a duplicate key',
      mutated((s) => ((s.arrays.attrKeys as Uint32Array)[1] = (s.arrays.attrKeys as Uint32Array)[0]!)),
    ],
    ['a NaN weight', mutated((s) => ((s.arrays.transitions as Float32Array)[3] = Number.NaN))],
    ['an infinite weight', mutated((s) => ((s.arrays.pairWeights as Float32Array)[0] = Number.POSITIVE_INFINITY))],
    ['lookups of numbers', mutated((s) => (s.json.lookups = [{ name: 'x', elements: [1, 2] }]))],
  ]
  for (const [what, state] of hostile) {
    it(`refuses a state with ${what}`, () => {
      const err = catchError(() => crfFromState(state))
      expect(err.code).toBe('ERR_NLU_PARAM_INVALID')
      expect(err.message).toMatch(/^Invalid params for crf: (The saved state of crf is invalid: |The 'hashBits')/)
    })
  }

  it('refuses a state whose regex does not compile', () => {
    const state = mutated((s) => (s.json.regexes = [{ name: 'bad', patterns: ['(?<'] }]))
    expect(catchError(() => crfFromState(state)).code).toBe('ERR_NLU_REGEX_INVALID')
  })
})
