import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import type { ErrorCode } from '../errors.js'
import { halfBits, halfValue } from './half.js'
import { type NluModel, trainedFieldNames } from './model.js'
import {
  decodeComponentState,
  decodeModel,
  encodeComponentState,
  encodeModel,
  loadModel,
  readManifest,
  saveModel,
} from './model-file.js'
import { MAX_PIPELINE_STEPS } from './pipeline.js'
import { toyTrainingData } from './testing.js'
import { trainModel } from './train.js'
import type { TrainedModel } from './types.js'

let model: TrainedModel
let bytes: Uint8Array

beforeAll(async () => {
  model = await trainModel(toyTrainingData(), { config: defaultConfig(), seed: 3, workers: 0 })
  bytes = encodeModel(model)
})

/** Rewrite the header JSON of a model file and fix its length fields and digest, as a hostile writer would. */
// biome-ignore lint/suspicious/noExplicitAny: the test rewrites arbitrary header fields
type AnyHeader = any

function forge(
  mutate: (header: AnyHeader) => void,
  opts: { major?: number; minor?: number } = {},
  from = bytes,
): Uint8Array {
  const view = new DataView(from.buffer, from.byteOffset, from.byteLength)
  const headerLength = view.getUint32(16, true)
  const header = JSON.parse(new TextDecoder().decode(from.subarray(32, 32 + headerLength)))
  mutate(header)
  const json = new TextEncoder().encode(JSON.stringify(header))
  const oldDataStart = Math.ceil((32 + headerLength) / 8) * 8
  const newDataStart = Math.ceil((32 + json.length) / 8) * 8
  const data = from.subarray(oldDataStart, from.length - 32)
  const out = new Uint8Array(newDataStart + data.length + 32)
  out.set(from.subarray(0, 32))
  out.set(json, 32)
  out.set(data, newDataStart)
  const v = new DataView(out.buffer)
  v.setUint32(16, json.length, true)
  v.setBigUint64(24, BigInt(out.length), true)
  if (opts.major !== undefined) v.setUint16(8, opts.major, true)
  if (opts.minor !== undefined) v.setUint16(10, opts.minor, true)
  out.set(
    createHash('sha256')
      .update(out.subarray(0, out.length - 32))
      .digest(),
    out.length - 32,
  )
  return out
}

function refused(fn: () => unknown, code: ErrorCode, message: RegExp) {
  try {
    fn()
  } catch (err) {
    expect((err as { code?: string }).code).toBe(code)
    expect((err as Error).message).toMatch(message)
    return
  }
  throw new Error(`expected ${code}`)
}

describe('model file', () => {
  it('round-trips bit-exactly and parses identically', () => {
    const loaded = decodeModel(bytes)
    expect(Buffer.from(encodeModel(loaded)).equals(Buffer.from(bytes))).toBe(true)
    for (const text of ['book a flight to Rome', 'hello', 'zip 10115 forecast', '']) {
      expect(loaded.parse(text)).toEqual(model.parse(text))
    }
    expect(loaded.manifest).toEqual(model.manifest)
  })
  it('records lineage in the manifest, readable without loading the model', () => {
    const m = readManifest(bytes)
    expect(m).toMatchObject({
      format: 'intentops-model',
      formatVersion: { major: 1, minor: 2 },
      labels: ['book_flight', 'goodbye', 'greet', 'weather'],
      trainedFields: [],
      entities: ['city', 'zipcode'],
      seed: 3,
      examples: 20,
      nodeVersion: process.versions.node,
    })
    expect(m.dataFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(m.steps.map((s) => s.type)).toEqual([
      'tfidf',
      'tfidf',
      'regex_features',
      'linear_svm',
      'regex_entities',
      'lookup_entities',
    ])
  })
  it('refuses a truncated file', () => {
    refused(
      () => decodeModel(bytes.subarray(0, bytes.length - 100)),
      'ERR_MODEL_TRUNCATED',
      /is truncated: it has \d+ bytes, its header says \d+/,
    )
    refused(() => decodeModel(bytes.subarray(0, 40)), 'ERR_MODEL_TRUNCATED', /truncated/)
    refused(() => readManifest(bytes.subarray(0, 20)), 'ERR_MODEL_TRUNCATED', /at least 64/)
  })
  it('refuses a tampered file', () => {
    for (const at of [40, Math.floor(bytes.length / 2), bytes.length - 40, bytes.length - 1]) {
      const bad = bytes.slice()
      bad[at]! ^= 0x01
      refused(() => decodeModel(bad), 'ERR_MODEL_DIGEST', /fails its SHA-256 check/)
    }
  })
  it('refuses another format major version, even with a valid digest', () => {
    refused(
      () => decodeModel(forge(() => {}, { major: 2 })),
      'ERR_MODEL_VERSION',
      /has model format 2\.2; this intentops reads format 1\.x/,
    )
    expect(decodeModel(forge(() => {})).labels).toEqual(model.labels)
  })
  it('refuses files over the size limit before reading them', async () => {
    refused(() => decodeModel(bytes, { maxBytes: 1000 }), 'ERR_MODEL_TOO_LARGE', /over the 1000-byte model size limit/)
    const dir = mkdtempSync(path.join(tmpdir(), 'io-model-'))
    const file = path.join(dir, 'm.iom')
    writeFileSync(file, bytes)
    await expect(loadModel(file, { maxBytes: 1000 })).rejects.toMatchObject({ code: 'ERR_MODEL_TOO_LARGE' })
  })
  it('refuses a hostile header that claims huge sections, without allocating them', () => {
    const huge = forge((h) => {
      h.components[0].arrays[0].length = 2 ** 40
    })
    refused(() => decodeModel(huge), 'ERR_MODEL_CORRUPT', /lies outside the file/)
    const shifted = forge((h) => {
      h.components[0].arrays[0].offset = 1e9
    })
    refused(() => decodeModel(shifted), 'ERR_MODEL_CORRUPT', /lies outside the file/)
  })
  it('refuses unknown component types instead of importing anything', () => {
    const evil = forge((h) => {
      h.manifest.steps[0].type = '../../../../tmp/evil.js'
    })
    refused(() => decodeModel(evil), 'ERR_MODEL_UNKNOWN_COMPONENT', /component type '..\/..\/..\/..\/tmp\/evil.js'/)
    const proto = forge((h) => {
      h.manifest.steps[0].type = 'constructor'
    })
    refused(() => decodeModel(proto), 'ERR_MODEL_UNKNOWN_COMPONENT', /'constructor'/)
  })
  it('refuses inconsistent contents with a valid digest', () => {
    refused(
      () => decodeModel(forge((h) => (h.manifest.labels = ['a', 'b']))),
      'ERR_MODEL_CORRUPT',
      /classifier has 4 classes/,
    )
    refused(() => decodeModel(forge((h) => delete h.manifest.fallback)), 'ERR_MODEL_CORRUPT', /header does not match/)
    refused(() => decodeModel(forge((h) => (h.components[0].json.dim = 3))), 'ERR_MODEL_CORRUPT', /bad 'idf' section/)
  })
  it('refuses a model whose regex can backtrack catastrophically, even with a valid digest', () => {
    for (const type of ['regex_features', 'regex_entities']) {
      const forged = forge((h) => {
        const step = h.manifest.steps.find((s: AnyHeader) => s.type === type)
        h.components.find((c: AnyHeader) => c.name === step.name).json.patterns[0].patterns = ['(a+)+$']
      })
      refused(
        () => decodeModel(forged, { source: 'model.iom' }),
        'ERR_MODEL_UNSAFE_REGEX',
        /^model\.iom is refused: step '[\w-]+' has the regex '\w+' \/\(a\+\)\+\$\/, which can take too long on some inputs: exponential backtracking in `\(a\+\)\+`/,
      )
    }
  })
  it('refuses overlapping alternatives in a model regex, and loads unambiguous repetitions', () => {
    const withPatterns = (patterns: string[]) =>
      forge((h) => {
        const step = h.manifest.steps.find((s: AnyHeader) => s.type === 'regex_entities')
        h.components.find((c: AnyHeader) => c.name === step.name).json.patterns[0].patterns = patterns
      })
    refused(
      () => decodeModel(withPatterns(['(\\w|\\d)+$']), { source: 'model.iom' }),
      'ERR_MODEL_UNSAFE_REGEX',
      /\/\(\\w\|\\d\)\+\$\/, which can take too long on some inputs: exponential backtracking in `\(\\w\|\\d\)\+`/,
    )
    const loaded = decodeModel(withPatterns(['\\w+(?:\\s\\w+)*', '(\\d{3}-)*\\d{4}']), { source: 'model.iom' })
    expect(loaded.parse({ text: 'hello there' }).intent.name).toBeTruthy()
    refused(
      () => decodeModel(withPatterns([`${'a?'.repeat(16)}${'a'.repeat(16)}`]), { source: 'model.iom' }),
      'ERR_MODEL_UNSAFE_REGEX',
      /can match the same text in 65,535 ways, each tried in turn/,
    )
    // The same pattern written many times is judged, and charged, once.
    const same = decodeModel(withPatterns(Array.from({ length: 1001 }, () => '\\d{5}')), { source: 'model.iom' })
    expect(same.parse('zip 10115').entities.map((e) => e.value)).toContain('10115')
  })
  it('stops loading where the regex check of all its steps runs out of the steps it may spend', async () => {
    // A model trained from three patterns, saved to a file: loading judges each once, for all its regex steps.
    const data = toyTrainingData()
    data.regexes = [{ name: 'code', patterns: ['\\d{5}', '[A-Z]{2}\\d{4}', '\\d{3}-\\d{4}'] }]
    const trained = await trainModel(data, { config: defaultConfig(), seed: 3, workers: 0 })
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'io-model-')), 'model.iom')
    await saveModel(file, trained)
    expect((await loadModel(file)).parse('see you later').intent.name).toBe('goodbye')
    // Judging the first pattern takes thousands of steps, over a budget of 1,000: the second is not judged.
    const first = trained.manifest.steps.find((s) => s.type.startsWith('regex_'))!
    await expect(loadModel(file, { regexCheckSteps: 1000 })).rejects.toMatchObject({
      code: 'ERR_REGEX_CHECK_LIMIT',
      message: expect.stringMatching(
        new RegExp(
          `^Too many regex patterns to check in ${file.replace(/[.\\]/g, '\\$&')} \\(its steps share one check, which ran out in step '${first.name}'\\): its 1 pattern so far took [\\d,]+ steps to check, over the 1,000 one check may spend$`,
        ),
      ),
    })
    await expect(loadModel(file, { regexCheckSteps: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'regexCheckSteps must be a positive integer, got 0',
    })
  })
  it('refuses files that are not model files', () => {
    refused(() => decodeModel(new TextEncoder().encode('{"json": true}')), 'ERR_MODEL_NOT_A_MODEL', /magic bytes/)
    refused(() => decodeModel(new Uint8Array(0)), 'ERR_MODEL_NOT_A_MODEL', /magic bytes/)
    refused(
      () => decodeModel(encodeComponentState({ json: {}, arrays: {} })),
      'ERR_MODEL_NOT_A_MODEL',
      /single component/,
    )
  })
  it('saves atomically and loads from disk', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-model-'))
    const file = path.join(dir, 'models', 'model.iom')
    await saveModel(file, model)
    expect(readdirSync(path.dirname(file))).toEqual(['model.iom'])
    const loaded = await loadModel(file)
    expect(loaded.parse('see you later').intent.name).toBe('goodbye')
    await expect(loadModel(path.join(dir, 'missing.iom'))).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' })
  })
  it('stores linear weights as half precision (format 1.1 on) and predicts the same after loading', async () => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    expect([view.getUint16(8, true), view.getUint16(10, true)]).toEqual([1, 2])
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(32, 32 + view.getUint32(16, true))))
    const classifier = header.components.find((c: AnyHeader) => c.name === 'classifier')
    const stored = classifier.arrays.find((a: AnyHeader) => a.name === 'weights' || a.name === 'weightValues')
    expect(stored.dtype).toBe('f16')
    expect(classifier.arrays.find((a: AnyHeader) => a.name === 'intercept').dtype).toBe('f32')

    const config = defaultConfig()
    const svm32 = { type: 'linear_svm', weightPrecision: 'f32' }
    const f32 = await trainModel(toyTrainingData(), {
      config: { ...config, pipeline: [{ type: 'tfidf' }, svm32] },
      seed: 3,
      workers: 0,
    })
    const f16 = await trainModel(toyTrainingData(), {
      config: { ...config, pipeline: [{ type: 'tfidf' }, { type: 'linear_svm' }] },
      seed: 3,
      workers: 0,
    })
    const [b32, b16] = [encodeModel(f32), encodeModel(f16)]
    const state = (m: TrainedModel) => (m as NluModel).pipeline.classifier.toState()
    const values = (m: TrainedModel) => (state(m).arrays.weights ?? state(m).arrays.weightValues)!
    expect(values(f16).length).toBe(values(f32).length)
    expect(b32.length - b16.length).toBeGreaterThanOrEqual(values(f32).byteLength / 2 - 64)
    // Without f16 sections, readers of 1.0 load the file too: they read any 1.x and pass over trainedFields.
    expect(new DataView(b32.buffer).getUint16(10, true)).toBe(2)
    expect(f32.manifest.formatVersion).toEqual({ major: 1, minor: 2 })
    const header32 = JSON.parse(
      new TextDecoder().decode(b32.subarray(32, 32 + new DataView(b32.buffer).getUint32(16, true))),
    )
    expect(header32.components.flatMap((c: AnyHeader) => c.arrays.map((a: AnyHeader) => a.dtype))).not.toContain('f16')
    const loaded = decodeModel(b16)
    expect(Buffer.from(encodeModel(loaded)).equals(Buffer.from(b16))).toBe(true)
    for (const text of ['book a flight to Rome', 'hello', 'zip 10115 forecast', 'weather in Paris']) {
      expect(loaded.parse(text)).toEqual(f16.parse(text))
      expect(f16.parse(text).intent.name).toBe(f32.parse(text).intent.name)
      expect(f16.parse(text).intent.confidence).toBeCloseTo(f32.parse(text).intent.confidence, 2)
    }
  })
  it('loads a format 1.0 file written by the previous release, bit-exactly and with the same parses', () => {
    const dir = new URL('../../test/fixtures/models/', import.meta.url)
    const old = new Uint8Array(readFileSync(new URL('model-1.0.iom', dir)))
    const expected = JSON.parse(readFileSync(new URL('model-1.0.parse.json', dir), 'utf8'))
    const loaded = decodeModel(old)
    expect(loaded.manifest.formatVersion).toEqual({ major: 1, minor: 0 })
    expect(Buffer.from(encodeModel(loaded)).equals(Buffer.from(old))).toBe(true)
    // It records no trained field names: the fields its config weighted (none) stand in.
    expect(loaded.manifest.trainedFields).toBeUndefined()
    expect(trainedFieldNames(loaded.manifest)).toEqual([])
    const probes = ['book a flight to Rome', 'hello', 'zip 10115 forecast', '', 'weather in Paris tomorrow']
    expect(probes.map((t) => loaded.parse(t))).toEqual(expected)
  })
  it('records the field names the model was trained on, whatever the config weighs (format 1.2)', async () => {
    const data = toyTrainingData()
    data.examples = data.examples.map((e, i) =>
      i % 2 === 0 ? { ...e, fields: { subject: e.text, body: 'thanks', ...(i % 4 === 0 ? { sig: 'bob' } : {}) } } : e,
    )
    const fielded = await trainModel(data, {
      config: { ...defaultConfig(), fields: { subject: 2, title: 1 } },
      workers: 0,
    })
    expect(fielded.manifest.trainedFields).toEqual(['body', 'sig', 'subject'])
    expect(fielded.manifest.fields).toEqual({ subject: 2, title: 1 })
    const back = decodeModel(encodeModel(fielded))
    expect(back.manifest.trainedFields).toEqual(['body', 'sig', 'subject'])
    expect(trainedFieldNames(back.manifest)).toEqual(['body', 'sig', 'subject'])
  })
  it('loads a format 1.1 file, which records no trained fields, bit-exactly; their config weights stand in', () => {
    // What the previous release wrote: f16 weights, format 1.1, no trainedFields.
    const older = forge(
      (h) => {
        delete h.manifest.trainedFields
        h.manifest.formatVersion = { major: 1, minor: 1 }
        h.manifest.fields = { subject: 2, body: 1 }
      },
      { minor: 1 },
    )
    const loaded = decodeModel(older)
    expect(Buffer.from(encodeModel(loaded)).equals(Buffer.from(older))).toBe(true)
    expect(trainedFieldNames(loaded.manifest)).toEqual(['body', 'subject'])
    expect(loaded.parse('book a flight to Rome')).toEqual(model.parse('book a flight to Rome'))
  })
  it('refuses a format 1.2 file whose manifest lacks the trained fields', () => {
    refused(
      () => decodeModel(forge((h) => delete h.manifest.trainedFields)),
      'ERR_MODEL_CORRUPT',
      /its manifest lacks trainedFields, which format 1\.2 records/,
    )
    refused(
      () => decodeModel(forge((h) => (h.manifest.trainedFields = 'subject'))),
      'ERR_MODEL_CORRUPT',
      /header does not match the format \(\/manifest\/trainedFields/,
    )
  })
  it('refuses half-precision weights whose params say f32, and non-finite weights', () => {
    refused(
      () =>
        decodeModel(
          forge((h) => {
            h.components.find((c: AnyHeader) => c.name === 'classifier').json.params.weightPrecision = 'f32'
          }),
        ),
      'ERR_MODEL_CORRUPT',
      /another precision than its params say/,
    )
    const inf = bytes.slice()
    const view = new DataView(inf.buffer)
    const header = JSON.parse(new TextDecoder().decode(inf.subarray(32, 32 + view.getUint32(16, true))))
    const w = header.components
      .find((c: AnyHeader) => c.name === 'classifier')
      .arrays.find((a: AnyHeader) => a.name === 'weights' || a.name === 'weightValues')
    const at = Math.ceil((32 + view.getUint32(16, true)) / 8) * 8 + w.offset
    view.setUint16(at, 0x7c00, true)
    inf.set(
      createHash('sha256')
        .update(inf.subarray(0, inf.length - 32))
        .digest(),
      inf.length - 32,
    )
    refused(() => decodeModel(inf), 'ERR_MODEL_CORRUPT', /not finite/)
  })
  it('round-trips a component state with every array type', () => {
    const state = {
      json: { a: 1, nested: [true, null, 'x'] },
      arrays: {
        f32: Float32Array.of(1.5, -0, Number.NaN, 3.4e38),
        f64: Float64Array.of(Math.PI, -1e-300),
        i32: Int32Array.of(-2147483648, 7),
        u32: Uint32Array.of(4294967295),
        u16: Uint16Array.of(65535, 1, 2),
        u8: Uint8Array.of(255, 0, 1),
        half: Float32Array.of(1.5, -(2 ** -14) * 0.999, 65504, -2).map((v) => halfValue(halfBits(v))),
      },
      half: ['half'],
    }
    const back = decodeComponentState(encodeComponentState(state))
    expect(back.half).toEqual(['half'])
    expect(back.json).toEqual(state.json)
    for (const [k, a] of Object.entries(state.arrays)) {
      expect(back.arrays[k]!.constructor).toBe(a.constructor)
      expect(Buffer.from(back.arrays[k]!.buffer).equals(Buffer.from(a.buffer))).toBe(true)
    }
  })
})

describe('the regex check of a model load', () => {
  /** Distinct patterns, more than half of what one check may judge. */
  const distinct = (tag: string) => Array.from({ length: 600 }, (_, i) => `${tag}${i}\\d{5}`)
  let shared: Uint8Array
  const regexSteps = ['regexes_1', 'regexes_2', 'entities_1', 'entities_2', 'tagger']

  beforeAll(async () => {
    const data = toyTrainingData()
    data.regexes = [{ name: 'zipcode', patterns: ['\\d{5}', ...distinct('z')] }]
    const pipeline = [
      { type: 'tfidf', name: 'words' },
      { type: 'regex_features', name: 'regexes_1' },
      { type: 'regex_features', name: 'regexes_2', useLookups: false },
      { type: 'linear_svm', name: 'classifier' },
      { type: 'regex_entities', name: 'entities_1' },
      { type: 'regex_entities', name: 'entities_2', useWordBoundaries: false },
      { type: 'crf', name: 'tagger', maxIterations: 5 },
    ]
    // Five steps use the same 601 patterns: one training run charges them once, or it would stop past 1,000.
    shared = encodeModel(await trainModel(data, { config: { ...defaultConfig(), pipeline }, seed: 3, workers: 0 }))
  })

  /** The model with the patterns of each named step replaced (`crf` keeps them under `regexes`). */
  const withStepPatterns = (patterns: Record<string, string[]>) =>
    forge(
      (h) => {
        for (const [name, list] of Object.entries(patterns)) {
          const json = h.components.find((c: AnyHeader) => c.name === name).json
          ;(json.patterns ?? json.regexes)[0].patterns = list
        }
      },
      {},
      shared,
    )

  it('charges the patterns its steps share once: five steps of 601 patterns load', () => {
    const header = readManifest(shared)
    expect(header.steps.map((s) => s.name)).toEqual([
      'words',
      ...regexSteps.slice(0, 2),
      'classifier',
      ...regexSteps.slice(2),
    ])
    const loaded = decodeModel(shared, { source: 'model.iom' })
    expect(loaded.parse('weather in 10115').entities.map((e) => e.value)).toContain('10115')
  })

  it('refuses distinct patterns past one check across its steps, at the step where the budget ran out', () => {
    // 601 in regexes_1, then 600 new ones in regexes_2 (the limit falls at its 400th), and 600 more in the tagger,
    // which the load never reaches.
    const forged = withStepPatterns({ regexes_2: distinct('y'), tagger: distinct('x') })
    refused(
      () => decodeModel(forged, { source: 'model.iom' }),
      'ERR_REGEX_CHECK_LIMIT',
      /^Too many regex patterns to check in model\.iom \(its steps share one check, which ran out in step 'regexes_2'\): it has checked 1,000 patterns, as many as one check may$/,
    )
  })

  it('refuses a manifest with more steps than a pipeline may have, before building any', () => {
    refused(
      () =>
        decodeModel(
          forge(
            (h) => {
              const step = h.manifest.steps.find((s: AnyHeader) => s.name === 'regexes_1')
              h.manifest.steps.push(...Array.from({ length: MAX_PIPELINE_STEPS }, () => step))
            },
            {},
            shared,
          ),
          { source: 'model.iom' },
        ),
      'ERR_MODEL_CORRUPT',
      /^model\.iom is malformed: it has 71 pipeline steps, more than the 64 a model may have$/,
    )
  })
})
