/**
 * Contract suites for components, exported so that every implementation (ours and users') runs the same checks:
 * fit never mutates its input, is idempotent and deterministic for a seed, and the fitted state round-trips
 * through the model file format with identical predictions. Each suite returns named checks (for `it.each`) and
 * has a `check*` shorthand that runs them all; a failed check throws an `AssertionError` naming the check.
 *
 * @example
 * import { entityExtractorChecks, toyTrainingData } from 'intentops'
 * for (const c of entityExtractorChecks(() => new MyCrf(params), toyTrainingData())) it(c.name, c.run)
 * @module
 */
import assert from 'node:assert/strict'
import type { TrainingData } from '../data/types.js'
import { catalogEntry, newLoadContext } from './catalog.js'
import type { Classifier, ComponentState, EntityExtractor, Featurizer, FittedFeaturizer } from './component.js'
import { decodeComponentState, encodeComponentState } from './model-file.js'
import { CsrBuilder, type CsrMatrix, SparseVector } from './sparse.js'
import { tokenize } from './tokenizer.js'

export interface NamedCheck {
  name: string
  run: () => Promise<void>
}

/** Texts that have broken tokenizers and featurizers elsewhere. */
export const HOSTILE_TEXTS: readonly string[] = Object.freeze([
  '',
  ' ',
  '\u0000\u0001\u0007\u001b[31m\u007f',
  '😀🎉👩‍👩‍👧 emoji only 🇫🇷',
  'Mixed scripts: Москва 東京 القاهرة Ελλάδα नमस्ते',
  'e\u0301cole cafe\u0301 ÉCOLE',
  '\uD800 lone surrogate \uDFFF',
  'x'.repeat(5000),
  'word '.repeat(20000),
])

/** A small training set with intents, annotated entities, a synonym, a regex and a lookup table. */
export function toyTrainingData(): TrainingData {
  const ex = (text: string, intent: string, entities: TrainingData['examples'][number]['entities'] = []) => ({
    text,
    intent,
    entities,
  })
  const city = (text: string, word: string, value = word) => {
    const start = text.indexOf(word)
    return [{ start, end: start + word.length, entity: 'city', value }]
  }
  const zip = (text: string, code: string) => {
    const start = text.indexOf(code)
    return [{ start, end: start + code.length, entity: 'zipcode', value: code }]
  }
  return {
    intents: [{ name: 'greet' }, { name: 'goodbye' }, { name: 'book_flight' }, { name: 'weather' }],
    examples: [
      ex('hello there', 'greet'),
      ex('hi', 'greet'),
      ex('good morning to you', 'greet'),
      ex('hey, how are you', 'greet'),
      ex('hello hello', 'greet'),
      ex('goodbye', 'goodbye'),
      ex('bye for now', 'goodbye'),
      ex('see you later', 'goodbye'),
      ex('talk to you soon, bye', 'goodbye'),
      ex('farewell my friend', 'goodbye'),
      ex('book a flight to Paris', 'book_flight', city('book a flight to Paris', 'Paris')),
      ex('I want to fly to Berlin tomorrow', 'book_flight', city('I want to fly to Berlin tomorrow', 'Berlin')),
      ex('get me a plane ticket to NYC', 'book_flight', city('get me a plane ticket to NYC', 'NYC', 'New York')),
      ex('flights to San Francisco please', 'book_flight', city('flights to San Francisco please', 'San Francisco')),
      ex('fly me to Tokyo', 'book_flight', city('fly me to Tokyo', 'Tokyo')),
      ex('what is the weather in 10115', 'weather', zip('what is the weather in 10115', '10115')),
      ex('will it rain in Paris', 'weather', city('will it rain in Paris', 'Paris')),
      ex('weather forecast for 94103', 'weather', zip('weather forecast for 94103', '94103')),
      ex('is it sunny today', 'weather'),
      ex('how cold is it outside', 'weather'),
    ],
    synonyms: [{ value: 'New York', examples: ['NYC', 'big apple'] }],
    regexes: [{ name: 'zipcode', patterns: ['\\d{5}'] }],
    lookups: [{ name: 'city', elements: ['Paris', 'Berlin', 'New York', 'NYC', 'San Francisco', 'Tokyo', 'Rome'] }],
  }
}

const texts = (data: TrainingData) => data.examples.map((e) => e.text)

function probeTexts(data: TrainingData): string[] {
  return [...texts(data).slice(0, 6), 'book a trip to Rome', 'zip 12345 weather', ...HOSTILE_TEXTS]
}

/** Serialise through the model file's container and back, as saving and loading a model does. */
export function roundTripState(state: ComponentState): ComponentState {
  return decodeComponentState(encodeComponentState(state))
}

function fromState(type: string, state: ComponentState) {
  const entry = catalogEntry(type)
  assert.ok(entry, `'${type}' is in the component catalog`)
  return entry.fromState(roundTripState(state), newLoadContext())
}

function sameState(a: ComponentState, b: ComponentState, message: string): void {
  assert.deepStrictEqual(a.json, b.json, `${message}: JSON state`)
  assert.deepStrictEqual(Object.keys(a.arrays).sort(), Object.keys(b.arrays).sort(), `${message}: array names`)
  for (const k of Object.keys(a.arrays)) {
    const x = a.arrays[k]!
    const y = b.arrays[k]!
    assert.equal(x.constructor, y.constructor, `${message}: type of array '${k}'`)
    assert.ok(
      Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)),
      `${message}: array '${k}' differs`,
    )
  }
}

function rowOf(f: FittedFeaturizer, text: string): Array<[number, number]> {
  const v = new SparseVector(4)
  f.transformOne(text, v, 0, 1)
  return Array.from({ length: v.n }, (_, i) => [v.idx[i]!, v.val[i]!] as [number, number])
}

/** Checks for a featurizer made by `factory` (a fresh untrained instance per call), fitted on `data`. */
export function featurizerChecks(factory: () => Featurizer, data: TrainingData = toyTrainingData()): NamedCheck[] {
  const ctx = (seed = 7) => ({ seed, data })
  return [
    {
      name: 'fit does not mutate its input',
      run: async () => {
        const t = texts(data)
        const before = structuredClone({ t, data })
        factory().fit(t, ctx())
        assert.deepStrictEqual({ t, data }, before)
      },
    },
    {
      name: 'fit is idempotent and deterministic for a seed',
      run: async () => {
        const f = factory()
        const a = f.fit(texts(data), ctx()).toState()
        const b = f.fit(texts(data), ctx()).toState()
        const c = factory().fit(texts(data), ctx()).toState()
        sameState(a, b, 'fitting twice')
        sameState(a, c, 'fitting a fresh instance')
      },
    },
    {
      name: 'getParams rebuilds an equal untrained copy through the catalog',
      run: async () => {
        const f = factory()
        const entry = catalogEntry(f.type)
        assert.ok(entry && entry.kind === 'featurizer', `'${f.type}' is a featurizer in the catalog`)
        assert.deepStrictEqual(entry.create(f.getParams()).getParams(), f.getParams())
        assert.deepStrictEqual(JSON.parse(JSON.stringify(f.getParams())), f.getParams(), 'params are plain JSON')
      },
    },
    {
      name: 'features stay in range, finite and unique, whatever the text',
      run: async () => {
        const fitted = factory().fit(texts(data), ctx())
        for (const text of probeTexts(data)) {
          const v = new SparseVector(2)
          fitted.transformOne(text, v, 100, 0.5)
          const seen = new Set<number>()
          for (let i = 0; i < v.n; i++) {
            assert.ok(v.idx[i]! >= 100 && v.idx[i]! < 100 + fitted.dim, `column ${v.idx[i]} out of range`)
            assert.ok(Number.isFinite(v.val[i]!), 'finite value')
            assert.ok(!seen.has(v.idx[i]!), `column ${v.idx[i]} appears twice`)
            seen.add(v.idx[i]!)
          }
        }
      },
    },
    {
      name: 'state round-trips through the model file with identical features',
      run: async () => {
        const fitted = factory().fit(texts(data), ctx())
        const loaded = fromState(fitted.type, fitted.toState()) as FittedFeaturizer
        assert.equal(loaded.dim, fitted.dim)
        sameState(loaded.toState(), fitted.toState(), 'reloaded state')
        for (const text of probeTexts(data)) assert.deepStrictEqual(rowOf(loaded, text), rowOf(fitted, text))
      },
    },
  ]
}

/** A toy classification problem: each class owns a block of features, so a linear model separates it exactly. */
export function toyClassification(nClasses = 4, perClass = 12, seed = 1): { x: CsrMatrix; y: Int32Array } {
  const dim = nClasses * 4 + 3
  const rows = nClasses * perClass
  const b = new CsrBuilder(rows, dim)
  const y = new Int32Array(rows)
  const v = new SparseVector()
  let s = seed >>> 0
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
  for (let r = 0; r < rows; r++) {
    const c = r % nClasses
    y[r] = c
    v.clear()
    v.push(c * 4 + (r % 4), 0.6 + 0.4 * rand())
    v.push(c * 4 + ((r + 1) % 4), 0.3 * rand())
    v.push(nClasses * 4 + (r % 3), 0.2 * rand())
    let n = 0
    for (let i = 0; i < v.n; i++) n += v.val[i]! * v.val[i]!
    for (let i = 0; i < v.n; i++) v.val[i]! /= Math.sqrt(n)
    b.pushRow(v)
  }
  return { x: b.build(), y }
}

/** Checks for a classifier made by `factory`, on a separable toy problem. */
export function classifierChecks(factory: () => Classifier): NamedCheck[] {
  const { x, y } = toyClassification()
  const K = 4
  // Named classes, for params that name intents (class weights, class biases).
  const labels = ['a', 'b', 'c', 'd']
  const fitToy = (seed = 3) => factory().fit(x, y, K, { seed, labels })
  const predictAll = (m: Awaited<ReturnType<typeof fitToy>>) => {
    const out: number[][] = []
    const v = new SparseVector()
    const p = new Float64Array(K)
    for (let r = 0; r < x.rows; r++) {
      v.clear()
      for (let j = x.indptr[r]!; j < x.indptr[r + 1]!; j++) v.push(x.indices[j]!, x.values[j]!)
      m.predictProba(v, p)
      out.push(Array.from(p))
    }
    return out
  }
  return [
    {
      name: 'separates separable toy data perfectly',
      run: async () => {
        const probs = predictAll(await fitToy())
        probs.forEach((p, r) => {
          assert.equal(p.indexOf(Math.max(...p)), y[r], `row ${r} is misclassified`)
        })
      },
    },
    {
      name: 'returns probabilities that sum to 1',
      run: async () => {
        for (const p of predictAll(await fitToy())) {
          assert.ok(
            p.every((q) => q >= 0 && q <= 1 && Number.isFinite(q)),
            'each probability in [0, 1]',
          )
          assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9, 'probabilities sum to 1')
        }
      },
    },
    {
      name: 'fit does not mutate its input',
      run: async () => {
        const before = structuredClone({ x, y })
        await fitToy()
        assert.deepStrictEqual({ x, y }, before)
      },
    },
    {
      name: 'fit is idempotent and deterministic for a seed',
      run: async () => {
        const c = factory()
        const a = (await c.fit(x, y, K, { seed: 5, labels })).toState()
        const b = (await c.fit(x, y, K, { seed: 5, labels })).toState()
        const d = (await factory().fit(x, y, K, { seed: 5, labels })).toState()
        sameState(a, b, 'fitting twice')
        sameState(a, d, 'fitting a fresh instance')
      },
    },
    {
      name: 'getParams rebuilds an equal untrained copy through the catalog',
      run: async () => {
        const c = factory()
        const entry = catalogEntry(c.type)
        assert.ok(entry && entry.kind === 'classifier', `'${c.type}' is a classifier in the catalog`)
        assert.deepStrictEqual(entry.create(c.getParams()).getParams(), c.getParams())
      },
    },
    {
      name: 'state round-trips through the model file with identical predictions',
      run: async () => {
        const m = await fitToy()
        const loaded = fromState(m.type, m.toState()) as typeof m
        sameState(loaded.toState(), m.toState(), 'reloaded state')
        assert.deepStrictEqual(predictAll(loaded), predictAll(m))
      },
    },
  ]
}

/** Checks for an entity extractor made by `factory`, fitted on `data` (which should annotate some entities). */
export function entityExtractorChecks(
  factory: () => EntityExtractor,
  data: TrainingData = toyTrainingData(),
): NamedCheck[] {
  const extractAll = (e: ReturnType<EntityExtractor['fit']>) =>
    probeTexts(data).map((text) => e.extract(text, tokenize(text)))
  return [
    {
      name: 'fit does not mutate its input',
      run: async () => {
        const before = structuredClone(data)
        factory().fit(data, { seed: 1 })
        assert.deepStrictEqual(data, before)
      },
    },
    {
      name: 'fit is idempotent and deterministic for a seed',
      run: async () => {
        const x = factory()
        const a = x.fit(data, { seed: 9 }).toState()
        const b = x.fit(data, { seed: 9 }).toState()
        const c = factory().fit(data, { seed: 9 }).toState()
        sameState(a, b, 'fitting twice')
        sameState(a, c, 'fitting a fresh instance')
      },
    },
    {
      name: 'entities are well formed, whatever the text',
      run: async () => {
        const fitted = factory().fit(data, { seed: 1 })
        const all = extractAll(fitted)
        probeTexts(data).forEach((text, i) => {
          for (const e of all[i]!) {
            assert.ok(Number.isInteger(e.start) && Number.isInteger(e.end), 'integer offsets')
            assert.ok(e.start >= 0 && e.start < e.end && e.end <= text.length, `span [${e.start}, ${e.end}) inside`)
            assert.ok(typeof e.entity === 'string' && e.entity !== '', 'entity type')
            assert.equal(typeof e.value, 'string')
            assert.equal(e.extractor, fitted.type)
            assert.ok(e.confidence_entity >= 0 && e.confidence_entity <= 1, 'confidence in [0, 1]')
          }
        })
      },
    },
    {
      name: 'finds most annotated entities of the training data that it extracts',
      run: async () => {
        const fitted = factory().fit(data, { seed: 1 })
        const types = fitted.entityTypes ? new Set(fitted.entityTypes) : undefined
        let found = 0
        let total = 0
        for (const ex of data.examples) {
          const got = fitted.extract(ex.text, tokenize(ex.text))
          for (const a of ex.entities) {
            if (types && !types.has(a.entity)) continue
            total++
            if (got.some((g) => g.start === a.start && g.end === a.end && g.entity === a.entity)) found++
          }
        }
        assert.ok(total === 0 || found / total >= 0.5, `found ${found} of ${total} training entities`)
      },
    },
    {
      name: 'state round-trips through the model file with identical entities',
      run: async () => {
        const fitted = factory().fit(data, { seed: 1 })
        const loaded = fromState(fitted.type, fitted.toState()) as typeof fitted
        sameState(loaded.toState(), fitted.toState(), 'reloaded state')
        assert.deepStrictEqual(extractAll(loaded), extractAll(fitted))
      },
    },
  ]
}

async function runAll(checks: NamedCheck[], what: string): Promise<void> {
  for (const c of checks) {
    try {
      await c.run()
    } catch (err) {
      throw new assert.AssertionError({ message: `${what}: ${c.name}: ${(err as Error).message}` })
    }
  }
}

/** Run every featurizer check; throws on the first failure. */
export function checkFeaturizer(factory: () => Featurizer, data?: TrainingData): Promise<void> {
  return runAll(featurizerChecks(factory, data), factory().type)
}

/** Run every classifier check; throws on the first failure. */
export function checkClassifier(factory: () => Classifier): Promise<void> {
  return runAll(classifierChecks(factory), factory().type)
}

/** Run every entity extractor check; throws on the first failure. */
export function checkEntityExtractor(factory: () => EntityExtractor, data?: TrainingData): Promise<void> {
  return runAll(entityExtractorChecks(factory, data), factory().type)
}
