/**
 * The model file format: data only, never code.
 *
 * ```
 * offset 0   magic  89 49 4F 4D 0D 0A 1A 0A      ("\x89IOM\r\n\x1a\n": catches text-mode and truncating copies)
 *        8   u16    format major, u16 format minor
 *       12   u32    flags (0)
 *       16   u32    header length H (bytes of UTF-8 JSON)
 *       20   u32    reserved (0)
 *       24   u64    total file length
 *       32   H      header JSON: { manifest, components: [{ name, json, arrays: [{ name, dtype, offset, length }] }],
 *                   synonyms }
 *            pad    zeros to a multiple of 8
 *        D   ...    array sections, little-endian, each at D + offset (offsets are multiples of 8)
 *   end-32   32     SHA-256 of every byte before it
 * ```
 *
 * Loading checks the size limit, the magic, the declared length, the digest, the format version, then every
 * section against the file's real size before allocating it, so a hostile header cannot make the loader allocate
 * more than the file holds. Component types are looked up in the frozen catalog; nothing named in a file is
 * imported or executed. Encoding is deterministic, so a model round-trips bit-exactly.
 * @module
 */
import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { createError, type ErrorCode, isIntentopsError } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { catalogEntry, type LoadContextOptions, newLoadContext } from './catalog.js'
import type { ComponentState, NumericArray } from './component.js'
import { fromHalfBits, toHalfBits } from './half.js'
import { NluModel } from './model.js'
import { FittedPipeline, type FittedStep, MAX_PIPELINE_STEPS } from './pipeline.js'
import type { ModelManifest, TrainedModel } from './types.js'

/**
 * The format this version writes; files with the same major and any minor are read. 1.1 added `f16` sections, 1.2
 * the manifest's `trainedFields`. A file is written as the lowest version that holds what it uses, and never lower
 * than its manifest records, so a 1.0 or 1.1 file round-trips bit-exactly.
 */
export const MODEL_FORMAT_VERSION = Object.freeze({ major: 1, minor: 2 })

/** The first minor version with `f16` sections. */
const HALF_MINOR = 1
/** The first minor version whose manifest records `trainedFields`. */
const TRAINED_FIELDS_MINOR = 2

/** Files larger than this are refused unless the caller raises the limit. */
export const DEFAULT_MAX_MODEL_BYTES = 1024 * 1024 * 1024

const MAGIC = Uint8Array.of(0x89, 0x49, 0x4f, 0x4d, 0x0d, 0x0a, 0x1a, 0x0a)
const FIXED = 32
const DIGEST = 32
/** Flags bit 0: the file holds one component state (`encodeComponentState`), not a model. */
const COMPONENT_FLAG = 1

const DTYPES = {
  f32: { ctor: Float32Array, size: 4 },
  f64: { ctor: Float64Array, size: 8 },
  i32: { ctor: Int32Array, size: 4 },
  u32: { ctor: Uint32Array, size: 4 },
  u16: { ctor: Uint16Array, size: 2 },
  u8: { ctor: Uint8Array, size: 1 },
  // Half precision: 2 bytes a value in the file, widened to a Float32Array when read.
  f16: { ctor: Float32Array, size: 2 },
} as const
type Dtype = keyof typeof DTYPES

const ManifestSchema = Type.Object({
  format: Type.Literal('intentops-model'),
  formatVersion: Type.Object({ major: Type.Integer(), minor: Type.Integer() }),
  name: Type.String(),
  labels: Type.Array(Type.String()),
  entities: Type.Array(Type.String()),
  steps: Type.Array(
    Type.Object({ name: Type.String(), type: Type.String(), params: Type.Record(Type.String(), Type.Unknown()) }),
  ),
  fields: Type.Record(Type.String(), Type.Number()),
  trainedFields: Type.Optional(Type.Array(Type.String())),
  fallback: Type.Object({ intent: Type.String(), threshold: Type.Number(), ambiguityThreshold: Type.Number() }),
  language: Type.String(),
  dataFingerprint: Type.String(),
  configFingerprint: Type.String(),
  seed: Type.Number(),
  toolkitVersion: Type.String(),
  nodeVersion: Type.String(),
  trainedAt: Type.String(),
  trainingMs: Type.Number(),
  examples: Type.Integer({ minimum: 0 }),
})

const HeaderSchema = Type.Object({
  manifest: ManifestSchema,
  components: Type.Array(
    Type.Object({
      name: Type.String(),
      json: Type.Unknown(),
      arrays: Type.Array(
        Type.Object({
          name: Type.String(),
          dtype: Type.Union(Object.keys(DTYPES).map((d) => Type.Literal(d))),
          offset: Type.Integer({ minimum: 0 }),
          length: Type.Integer({ minimum: 0 }),
        }),
      ),
    }),
  ),
  synonyms: Type.Record(Type.String(), Type.String()),
})

type Header = Static<typeof HeaderSchema>

export interface DecodeOptions extends LoadContextOptions {
  /** How errors name the file (a path, a registry reference). Default: "the model file". */
  source?: string
  /** Refuse inputs larger than this. Default {@link DEFAULT_MAX_MODEL_BYTES}. */
  maxBytes?: number
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1

function dtypeOf(a: NumericArray): Dtype {
  if (a instanceof Float32Array) return 'f32'
  if (a instanceof Float64Array) return 'f64'
  if (a instanceof Int32Array) return 'i32'
  if (a instanceof Uint32Array) return 'u32'
  if (a instanceof Uint16Array) return 'u16'
  return 'u8'
}

const align8 = (n: number) => Math.ceil(n / 8) * 8

/**
 * The bytes of a model file.
 * @example
 * const bytes = encodeModel(await trainModel(data, { config }))
 */
export function encodeModel(model: TrainedModel): Uint8Array {
  if (!(model instanceof NluModel)) {
    throw createError('ERR_INVALID_ARGUMENT', { detail: 'encodeModel needs a model from trainModel or decodeModel' })
  }
  const components: Header['components'] = []
  const blobs: Array<{ offset: number; array: NumericArray }> = []
  let offset = 0
  let half = false
  for (const s of model.pipeline.states()) {
    const { arrays, end } = layoutSections(s.state, offset, blobs)
    if (arrays.some((a) => a.dtype === 'f16')) half = true
    offset = end
    components.push({ name: s.name, json: s.state.json, arrays })
  }
  const header: Header = { manifest: model.manifest, components, synonyms: { ...model.pipeline.synonyms } }
  const recorded = model.manifest.formatVersion
  const minor = Math.max(
    recorded.major === MODEL_FORMAT_VERSION.major ? Math.min(recorded.minor, MODEL_FORMAT_VERSION.minor) : 0,
    half ? HALF_MINOR : 0,
    model.manifest.trainedFields !== undefined ? TRAINED_FIELDS_MINOR : 0,
  )
  return sealFile(header, minor, 0, offset, blobs)
}

/**
 * The file around a JSON header and its sections: the fixed part (magic, format version, flags, header length,
 * total length), the header, each section little-endian at its 8-aligned offset, and the SHA-256 of all before it.
 */
function sealFile(
  header: unknown,
  minor: number,
  flags: number,
  sectionsEnd: number,
  blobs: ReadonlyArray<{ offset: number; array: NumericArray }>,
): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const dataStart = align8(FIXED + json.length)
  const total = dataStart + align8(sectionsEnd) + DIGEST
  const buf = new Uint8Array(total)
  const view = new DataView(buf.buffer)
  buf.set(MAGIC, 0)
  view.setUint16(8, MODEL_FORMAT_VERSION.major, true)
  view.setUint16(10, minor, true)
  view.setUint32(12, flags, true)
  view.setUint32(16, json.length, true)
  view.setUint32(20, 0, true)
  view.setBigUint64(24, BigInt(total), true)
  buf.set(json, FIXED)
  for (const { offset: off, array } of blobs) writeLittleEndian(buf, dataStart + off, array)
  buf.set(
    createHash('sha256')
      .update(buf.subarray(0, total - DIGEST))
      .digest(),
    total - DIGEST,
  )
  return buf
}

/**
 * Lay out a state's sections from `offset` on (sorted by name, 8-byte aligned), pushing what to write onto
 * `blobs`; arrays named in `state.half` become `f16` sections of their half bit patterns.
 */
function layoutSections(
  state: ComponentState,
  offset: number,
  blobs: Array<{ offset: number; array: NumericArray }>,
): { arrays: Header['components'][number]['arrays']; end: number } {
  const arrays: Header['components'][number]['arrays'] = []
  const half = new Set(state.half ?? [])
  for (const name of Object.keys(state.arrays).sort()) {
    const source = state.arrays[name]!
    const asHalf = half.has(name) && source instanceof Float32Array
    const array = asHalf ? toHalfBits(source) : source
    offset = align8(offset)
    arrays.push({ name, dtype: asHalf ? 'f16' : dtypeOf(array), offset, length: array.length })
    blobs.push({ offset, array })
    offset += array.byteLength
  }
  return { arrays, end: offset }
}

function writeLittleEndian(buf: Uint8Array, at: number, a: NumericArray): void {
  if (littleEndian || a.BYTES_PER_ELEMENT === 1) {
    buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at)
    return
  }
  const view = new DataView(buf.buffer, buf.byteOffset + at, a.byteLength)
  const d = dtypeOf(a)
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!
    if (d === 'f32') view.setFloat32(i * 4, v, true)
    else if (d === 'f64') view.setFloat64(i * 8, v, true)
    else if (d === 'i32') view.setInt32(i * 4, v, true)
    else if (d === 'u32') view.setUint32(i * 4, v, true)
    else view.setUint16(i * 2, v, true)
  }
}

function fail(code: ErrorCode, source: string, params: Record<string, unknown> = {}): never {
  throw createError(code, { source, ...params })
}

/** Verify size, magic, length, digest and version; return the parsed header JSON, the data start and the minor. */
function verifyContainer(
  bytes: Uint8Array,
  options: DecodeOptions,
): { raw: unknown; dataStart: number; minor: number } {
  const source = options.source ?? 'the model file'
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES
  if (bytes.length > maxBytes) fail('ERR_MODEL_TOO_LARGE', source, { size: bytes.length, limit: maxBytes })
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('ERR_MODEL_NOT_A_MODEL', source, { detail: 'it does not start with the model magic bytes' })
  }
  if (bytes.length < FIXED + DIGEST) {
    fail('ERR_MODEL_TRUNCATED', source, { size: bytes.length, expected: `at least ${FIXED + DIGEST}` })
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const declared = view.getBigUint64(24, true)
  if (declared > BigInt(bytes.length)) {
    fail('ERR_MODEL_TRUNCATED', source, { size: bytes.length, expected: declared.toString() })
  }
  if (declared < BigInt(bytes.length)) {
    fail('ERR_MODEL_CORRUPT', source, {
      detail: `it has ${bytes.length - Number(declared)} bytes after the end its header declares`,
    })
  }
  const digest = createHash('sha256')
    .update(bytes.subarray(0, bytes.length - DIGEST))
    .digest()
  const stored = bytes.subarray(bytes.length - DIGEST)
  for (let i = 0; i < DIGEST; i++) if (digest[i] !== stored[i]) fail('ERR_MODEL_DIGEST', source)
  const major = view.getUint16(8, true)
  const minor = view.getUint16(10, true)
  if (major !== MODEL_FORMAT_VERSION.major) {
    fail('ERR_MODEL_VERSION', source, { found: `${major}.${minor}`, supported: MODEL_FORMAT_VERSION.major })
  }
  const headerLength = view.getUint32(16, true)
  if (FIXED + headerLength > bytes.length - DIGEST) {
    fail('ERR_MODEL_CORRUPT', source, { detail: `its header length ${headerLength} runs past the end of the file` })
  }
  let raw: unknown
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(FIXED, FIXED + headerLength)))
  } catch (err) {
    fail('ERR_MODEL_CORRUPT', source, { detail: `its header is not valid JSON (${(err as Error).message})` })
  }
  return { raw, dataStart: align8(FIXED + headerLength), minor }
}

/** Verify the container and check the header against the model format. */
function readHeader(bytes: Uint8Array, options: DecodeOptions): { header: Header; dataStart: number } {
  const source = options.source ?? 'the model file'
  const { raw, dataStart, minor } = verifyContainer(bytes, options)
  if (new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true) !== 0) {
    fail('ERR_MODEL_NOT_A_MODEL', source, { detail: 'it holds a single component state, not a model' })
  }
  if (!Value.Check(HeaderSchema, raw)) {
    const first = Value.Errors(HeaderSchema, raw).First()
    fail('ERR_MODEL_CORRUPT', source, {
      detail: `its header does not match the format (${first ? `${first.path || '/'}: ${first.message}` : 'unknown'})`,
    })
  }
  // From 1.2 on the trained field names are part of the model: without them the server could not tell a typo.
  if (minor >= TRAINED_FIELDS_MINOR && raw.manifest.trainedFields === undefined) {
    fail('ERR_MODEL_CORRUPT', source, {
      detail: `its manifest lacks trainedFields, which format 1.${minor} records`,
    })
  }
  // Training never writes more; the bound keeps a crafted file from making the loader build steps without end.
  for (const [what, n] of [
    ['pipeline steps', raw.manifest.steps.length],
    ['component states', raw.components.length],
  ] as const) {
    if (n > MAX_PIPELINE_STEPS) {
      fail('ERR_MODEL_CORRUPT', source, {
        detail: `it has ${n} ${what}, more than the ${MAX_PIPELINE_STEPS} a model may have`,
      })
    }
  }
  return { header: raw, dataStart }
}

/**
 * Read only the manifest, after verifying the digest and format version. Cheap next to `decodeModel`: no section
 * is copied and no component is built.
 */
export function readManifest(bytes: Uint8Array, options: DecodeOptions = {}): ModelManifest {
  return readHeader(bytes, options).header.manifest as ModelManifest
}

/**
 * Verify and load a model file's bytes.
 * @example
 * const model = decodeModel(await readFile('models/model.iom'))
 * model.parse('I lost my card').intent.name
 */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): TrainedModel {
  const source = options.source ?? 'the model file'
  // One regex check for the whole file: its steps together judge no more patterns than one check may.
  const load = newLoadContext(options.regexCheckSteps === undefined ? {} : { regexCheckSteps: options.regexCheckSteps })
  const { header, dataStart } = readHeader(bytes, options)
  const manifest = header.manifest as ModelManifest
  const byName = new Map<string, ComponentState>()
  for (const c of header.components) {
    if (byName.has(c.name)) fail('ERR_MODEL_CORRUPT', source, { detail: `component '${c.name}' appears twice` })
    byName.set(c.name, readComponent(bytes, c, dataStart, source))
  }
  const steps: FittedStep[] = []
  for (const step of manifest.steps) {
    const entry = catalogEntry(step.type)
    if (!entry) fail('ERR_MODEL_UNKNOWN_COMPONENT', source, { type: step.type })
    const state = byName.get(step.name)
    if (!state) fail('ERR_MODEL_CORRUPT', source, { detail: `step '${step.name}' has no saved state` })
    let fitted: FittedStep['fitted']
    try {
      fitted = entry.fromState(state, load)
    } catch (err) {
      // Not "malformed": an older intentops wrote such files; the data needs fixing, not the file.
      if (isIntentopsError(err) && err.code === 'ERR_NLU_REGEX_UNSAFE') {
        const { name, pattern, detail } = err.params
        fail('ERR_MODEL_UNSAFE_REGEX', source, { step: step.name, name, pattern, detail })
      }
      if (isIntentopsError(err) && err.code === 'ERR_REGEX_CHECK_LIMIT') {
        fail('ERR_REGEX_CHECK_LIMIT', source, {
          where: `${source} (its steps share one check, which ran out in step '${step.name}')`,
          detail: err.params.detail,
        })
      }
      const detail = isIntentopsError(err) ? err.message : String((err as Error)?.message ?? err)
      fail('ERR_MODEL_CORRUPT', source, { detail: `step '${step.name}' (${step.type}): ${detail}` })
    }
    steps.push({ name: step.name, type: step.type, kind: entry.kind, fitted, params: step.params } as FittedStep)
  }
  checkShapes(steps, manifest, source)
  let pipeline: FittedPipeline
  try {
    pipeline = new FittedPipeline(steps, manifest.labels, header.synonyms, manifest.fields)
  } catch (err) {
    fail('ERR_MODEL_CORRUPT', source, { detail: (err as Error).message })
  }
  return new NluModel(manifest, pipeline)
}

/** Copy a component's sections out of the file, each checked against the file's real size first. */
function readComponent(
  bytes: Uint8Array,
  c: Header['components'][number],
  dataStart: number,
  source: string,
): ComponentState {
  const dataEnd = bytes.length - DIGEST
  const arrays: Record<string, NumericArray> = {}
  const half: string[] = []
  for (const spec of c.arrays) {
    const { ctor, size } = DTYPES[spec.dtype as Dtype]
    const start = dataStart + spec.offset
    // Bounds before allocation: the section must lie inside the data area of this very file.
    if (spec.offset % size !== 0 || start > dataEnd || spec.length > (dataEnd - start) / size) {
      fail('ERR_MODEL_CORRUPT', source, {
        detail: `section '${c.name}.${spec.name}' (${spec.length} × ${spec.dtype} at ${spec.offset}) lies outside the file`,
      })
    }
    if (Object.hasOwn(arrays, spec.name)) {
      fail('ERR_MODEL_CORRUPT', source, { detail: `section '${c.name}.${spec.name}' appears twice` })
    }
    if (spec.dtype === 'f16') {
      arrays[spec.name] = fromHalfBits(readLittleEndian(bytes, start, spec.length, 'u16', Uint16Array) as Uint16Array)
      half.push(spec.name)
    } else arrays[spec.name] = readLittleEndian(bytes, start, spec.length, spec.dtype as Dtype, ctor)
  }
  return { json: c.json as ComponentState['json'], arrays, ...(half.length > 0 ? { half: half.sort() } : {}) }
}

function checkShapes(steps: readonly FittedStep[], manifest: ModelManifest, source: string): void {
  let dim = 0
  let classifiers = 0
  for (const s of steps) {
    if (s.kind === 'featurizer') dim += s.fitted.dim
    if (s.kind !== 'classifier') continue
    classifiers++
    if (s.fitted.nClasses !== manifest.labels.length) {
      fail('ERR_MODEL_CORRUPT', source, {
        detail: `the classifier has ${s.fitted.nClasses} classes but the manifest lists ${manifest.labels.length} labels`,
      })
    }
    if (s.fitted.nFeatures !== dim) {
      fail('ERR_MODEL_CORRUPT', source, {
        detail: `the classifier expects ${s.fitted.nFeatures} features but the featurizers give ${dim}`,
      })
    }
  }
  if (classifiers !== 1) fail('ERR_MODEL_CORRUPT', source, { detail: `it has ${classifiers} classifiers, not 1` })
  if (manifest.labels.length === 0) fail('ERR_MODEL_CORRUPT', source, { detail: 'it has no labels' })
}

function readLittleEndian(
  bytes: Uint8Array,
  start: number,
  length: number,
  dtype: Dtype,
  ctor: (typeof DTYPES)[Dtype]['ctor'],
): NumericArray {
  const size = DTYPES[dtype].size
  if (littleEndian || size === 1) {
    // Copy into a fresh, aligned buffer: the loaded model must not keep the whole file alive.
    const copy = new Uint8Array(length * size)
    copy.set(bytes.subarray(start, start + length * size))
    return new ctor(copy.buffer)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, length * size)
  const out = new ctor(length)
  for (let i = 0; i < length; i++) {
    if (dtype === 'f32') out[i] = view.getFloat32(i * 4, true)
    else if (dtype === 'f64') out[i] = view.getFloat64(i * 8, true)
    else if (dtype === 'i32') out[i] = view.getInt32(i * 4, true)
    else if (dtype === 'u32') out[i] = view.getUint32(i * 4, true)
    else out[i] = view.getUint16(i * 2, true)
  }
  return out
}

/** Write a model file atomically (temp file, fsync, rename). */
export async function saveModel(file: string, model: TrainedModel): Promise<void> {
  await writeFileAtomic(file, encodeModel(model))
}

/** Read, verify and load a model file; the size limit is checked before the file is read. */
export async function loadModel(file: string, options: Omit<DecodeOptions, 'source'> = {}): Promise<TrainedModel> {
  const bytes = await readModelBytes(file, options.maxBytes)
  return decodeModel(bytes, { ...options, source: file })
}

/** Read a model file's bytes with the size limit applied before reading. */
export async function readModelBytes(file: string, maxBytes = DEFAULT_MAX_MODEL_BYTES): Promise<Uint8Array> {
  let size: number
  try {
    size = (await fsp.stat(file)).size
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') throw createError('ERR_FILE_NOT_FOUND', { path: file }, { cause: err })
    throw createError('ERR_FILE_UNREADABLE', { path: file, detail: e.code ?? e.message }, { cause: err })
  }
  if (size > maxBytes) throw createError('ERR_MODEL_TOO_LARGE', { source: file, size, limit: maxBytes })
  try {
    return new Uint8Array(await fsp.readFile(file))
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw createError('ERR_FILE_UNREADABLE', { path: file, detail: e.code ?? e.message }, { cause: err })
  }
}

/**
 * A component's state alone in the model file's layout (JSON header, aligned little-endian sections, SHA-256),
 * for contract tests and tools that move single components. `decodeComponentState` applies the same checks as
 * `decodeModel`.
 */
export function encodeComponentState(state: ComponentState): Uint8Array {
  const blobs: Array<{ offset: number; array: NumericArray }> = []
  const { arrays, end: offset } = layoutSections(state, 0, blobs)
  const minor = arrays.some((a) => a.dtype === 'f16') ? HALF_MINOR : 0
  return sealFile({ json: state.json, arrays }, minor, COMPONENT_FLAG, offset, blobs)
}

/** Read bytes written by {@link encodeComponentState}. */
export function decodeComponentState(bytes: Uint8Array, options: DecodeOptions = {}): ComponentState {
  const source = options.source ?? 'the component state'
  const { raw, dataStart } = verifyContainer(bytes, options)
  const c = raw as { json?: unknown; arrays?: unknown }
  const spec = { name: 'component', json: c.json, arrays: c.arrays }
  if (!Value.Check(HeaderSchema.properties.components.items, spec)) {
    fail('ERR_MODEL_CORRUPT', source, { detail: 'its header does not match the component format' })
  }
  return readComponent(bytes, spec as Header['components'][number], dataStart, source)
}
