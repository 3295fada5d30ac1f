/**
 * The learned entity tagger: a linear-chain conditional random field over BILOU tags.
 *
 * Training maximises the L2-regularised conditional log-likelihood with L-BFGS. Features are hashed
 * (`crf-features.ts`), and, as in CRFsuite, a state weight exists only for a (feature, tag) pair seen in the training
 * data, which keeps the model small and training fast. Transitions are dense over the tags, but BILOU-invalid ones
 * (`O → I-x`, `B-x → O`, …) are fixed at -∞ in training and decoding, so the output is always well-formed.
 * Each entity's confidence is the exact marginal probability of its span's tag sequence.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import type { EntityAnnotation, Example, TrainingData } from '../../data/types.js'
import { createError, type IntentopsError } from '../../errors.js'
import { newRegexCheckTally } from '../../util/regex-safety.js'
import type {
  ComponentState,
  EntityExtractor,
  FitContext,
  FittedEntityExtractor,
  JsonValue,
  LoadContext,
  NumericArray,
} from '../component.js'
import { paramError, validateParams } from '../params.js'
import { tokenize } from '../tokenizer.js'
import type { EntityPrediction } from '../types.js'
import { parseTag, toBilou } from './bilou.js'
import {
  addBlockCounts,
  type CrfBlock,
  type CrfBlockScratch,
  crfBlock,
  crfBlockCounts,
  crfBlockForwardBackward,
  crfBlockScratch,
  crfBlockSpanProb,
  crfBlockViterbi,
  resetBlockCounts,
  setBlockWeights,
} from './crf-block.js'
import { CrfFeaturizer, type CrfLookupSource, type CrfRegexSource, type FeatureToken } from './crf-features.js'
import {
  type CrfPotentials,
  crfBackward,
  crfExpectations,
  crfForward,
  crfPotentials,
  crfSpanLogProb,
  crfStructure,
} from './crf-inference.js'
import { minimizeLbfgs } from './crf-lbfgs.js'
import {
  CRF_BEGIN,
  CRF_INSIDE,
  CRF_LAST,
  CRF_OUTSIDE,
  CRF_UNIT,
  crfSpansFromTags,
  crfTag,
  crfTagCount,
} from './crf-tags.js'
import { mergeTables } from './lookup.js'
import { checkPatterns, mergePatterns } from './regex.js'

const POSITION = { B: CRF_BEGIN, I: CRF_INSIDE, L: CRF_LAST, U: CRF_UNIT } as const

export const CrfParamsSchema = Type.Object(
  {
    l2: Type.Number({
      default: 0.1,
      minimum: 0,
      maximum: 1_000_000,
      description: 'L2 penalty λ: training minimises the negative log-likelihood plus λ/2·‖w‖². Larger is smoother.',
    }),
    maxIterations: Type.Integer({ default: 50, minimum: 1, maximum: 10_000, description: 'Most L-BFGS iterations.' }),
    tolerance: Type.Number({
      default: 0.001,
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description: 'Stop when the objective improved by less than this fraction over the last 10 iterations.',
    }),
    memory: Type.Integer({
      default: 6,
      minimum: 1,
      maximum: 50,
      description: 'L-BFGS correction pairs kept; training memory grows by 16 bytes × this × the number of weights.',
    }),
    hashBits: Type.Integer({
      default: 20,
      minimum: 10,
      maximum: 30,
      description: 'Token features are hashed into 2^hashBits keys (no vocabulary is kept).',
    }),
    window: Type.Integer({ default: 2, minimum: 0, maximum: 4, description: 'Context words on each side of a token.' }),
    caseSensitive: Type.Boolean({ default: false, description: 'Regex features match letter case exactly.' }),
  },
  { additionalProperties: false },
)

/** Parameters of the `crf` entity extractor. */
export type CrfParams = Static<typeof CrfParamsSchema>

/** Applies defaults and validates; throws ERR_NLU_PARAM_INVALID naming the first bad parameter. */
export function crfParams(raw: unknown): CrfParams {
  return validateParams('crf', CrfParamsSchema, raw)
}

/**
 * The defaults. `l2` is of the order CRF taggers use (Rasa's c2 = 0.1 is λ = 0.2 here, as CRFsuite adds
 * c2·‖w‖²); `maxIterations` was chosen on the valid split of `bench/entity-data.ts` (never its test split), where
 * stopping at 50 iterations scored as well as running to convergence, in half the time.
 */
export const DEFAULT_CRF_PARAMS: Readonly<CrfParams> = Object.freeze(crfParams({}))

const CRF_STATE_VERSION = 1
// Tags are stored as Uint16.
const MAX_LABELS = 16_000
// Retained inference buffers are capped; longer texts use one-off buffers.
const RETAINED_TOKENS = 2048

/** What one label of the tagger stands for: an entity type with its optional role and group. */
export interface CrfLabel {
  entity: string
  role?: string
  group?: string
}

/** `city`, `city#destination`, `amount@2`, `city#origin@1`. */
export function crfLabelName(label: CrfLabel): string {
  return `${label.entity}${label.role !== undefined ? `#${label.role}` : ''}${label.group !== undefined ? `@${label.group}` : ''}`
}

/** How training ended. */
export interface CrfFitInfo {
  iterations: number
  evaluations: number
  stop: string
  /** Final objective (regularised negative log-likelihood). */
  loss: number
  sequences: number
  tokens: number
  /** Annotations left out because they covered no token or overlapped another. */
  droppedAnnotations: number
}

interface CrfModel {
  params: CrfParams
  labels: CrfLabel[]
  lookups: CrfLookupSource[]
  regexes: CrfRegexSource[]
  /** Hashed key of each attribute (a feature with at least one weight). */
  attrKeys: Uint32Array
  /** Attribute `a` owns pairs `attrOffsets[a] … attrOffsets[a+1])`. */
  attrOffsets: Uint32Array
  pairTags: Uint16Array
  pairWeights: Float32Array
  transitions: Float32Array
  startWeights: Float32Array
  endWeights: Float32Array
  fit: CrfFitInfo
}

/**
 * The untrained `crf` entity extractor: holds its params, nothing else.
 * @example
 * const crf = new CrfEntityExtractor(crfParams({ l2: 0.1 }))
 * const tagger = crf.fit(trainingData, { seed: 1 })
 * tagger.extract('fly to Paris', tokenize('fly to Paris'))
 * // [{ start: 7, end: 12, value: 'Paris', entity: 'city', extractor: 'crf', confidence_entity: 0.98, ... }]
 */
export class CrfEntityExtractor implements EntityExtractor<CrfParams> {
  readonly type = 'crf'
  constructor(readonly params: Readonly<CrfParams>) {}

  getParams(): Record<string, JsonValue> {
    return structuredClone(this.params) as unknown as Record<string, JsonValue>
  }

  /**
   * Trains on every example (examples without entities teach what is not an entity); with no annotated entity at
   * all, returns a tagger that finds none, without training. Deterministic: the optimiser uses no randomness, so
   * `ctx.seed` changes nothing. Throws ERR_NLU_PARAM_INVALID, ERR_DATA_BAD_ANNOTATION or ERR_NLU_REGEX_INVALID, and the
   * signal's reason when aborted.
   */
  fit(data: TrainingData, ctx: FitContext): FittedCrfEntityExtractor {
    const params = crfParams(this.params)
    ctx.signal?.throwIfAborted()
    const sequences = collectSequences(data)
    const labels = collectLabels(sequences)
    if (labels.length === 0) {
      ctx.onProgress?.(1)
      return new FittedCrfEntityExtractor(emptyModel(params, sequences.length))
    }
    const tally = ctx.regexTally ?? newRegexCheckTally()
    checkPatterns(data.regexes, params.caseSensitive, tally)
    const lookups = mergeTables(data.lookups)
    const regexes = mergePatterns(data.regexes)
    const featurizer = new CrfFeaturizer(params.hashBits, params.window, lookups, regexes, params.caseSensitive, tally)
    const corpus = buildCorpus(sequences, labels, featurizer, ctx.signal)
    const weights = train(corpus, params, ctx)
    const L = corpus.L
    const P = corpus.pairTags.length
    const model: CrfModel = {
      params,
      labels,
      lookups,
      regexes,
      attrKeys: corpus.attrKeys,
      attrOffsets: corpus.attrOffsets,
      pairTags: corpus.pairTags,
      pairWeights: Float32Array.from(weights.x.subarray(0, P)),
      transitions: Float32Array.from(weights.x.subarray(P, P + L * L)),
      startWeights: Float32Array.from(weights.x.subarray(P + L * L, P + L * L + L)),
      endWeights: Float32Array.from(weights.x.subarray(P + L * L + L, P + L * L + 2 * L)),
      fit: {
        iterations: weights.iterations,
        evaluations: weights.evaluations,
        stop: weights.stop,
        loss: weights.value,
        sequences: corpus.numSequences,
        tokens: corpus.numTokens,
        droppedAnnotations: corpus.dropped,
      },
    }
    ctx.onProgress?.(1)
    return new FittedCrfEntityExtractor(model, featurizer)
  }
}

/** The model of data without entities: one tag (O), no features. */
function emptyModel(params: CrfParams, sequences: number): CrfModel {
  return {
    params,
    labels: [],
    lookups: [],
    regexes: [],
    attrKeys: new Uint32Array(0),
    attrOffsets: new Uint32Array(1),
    pairTags: new Uint16Array(0),
    pairWeights: new Float32Array(0),
    transitions: new Float32Array(1),
    startWeights: new Float32Array(1),
    endWeights: new Float32Array(1),
    fit: { iterations: 0, evaluations: 0, stop: 'no-entities', loss: 0, sequences, tokens: 0, droppedAnnotations: 0 },
  }
}

// ── training data → sequences ────────────────────────────────────────────────

interface Sequence {
  text: string
  entities: EntityAnnotation[]
  example: Example
}

/**
 * One sequence per plain example; a multi-field example whose entities name their field gives one sequence per
 * field, as the pipeline tags each field on its own.
 */
function collectSequences(data: TrainingData): Sequence[] {
  const out: Sequence[] = []
  for (const example of data.examples) {
    const entities = example.entities ?? []
    if (example.fields && entities.some((e) => e.field !== undefined)) {
      for (const [field, text] of Object.entries(example.fields)) {
        out.push({ text, entities: entities.filter((e) => e.field === field), example })
      }
    } else {
      out.push({ text: example.text, entities: entities.filter((e) => e.field === undefined), example })
    }
  }
  for (const seq of out) {
    for (const e of seq.entities) {
      if (
        !Number.isInteger(e.start) ||
        !Number.isInteger(e.end) ||
        e.start < 0 ||
        e.end <= e.start ||
        e.end > seq.text.length
      ) {
        throw createError(
          'ERR_DATA_BAD_ANNOTATION',
          {
            detail: `entity '${e.entity}' at ${e.start}-${e.end} does not fit a text of ${seq.text.length} characters`,
          },
          {
            hint: 'Entity offsets are UTF-16 positions into the text, end exclusive; fix or re-annotate the example.',
            ...(seq.example.source ? { location: seq.example.source } : {}),
          },
        )
      }
    }
  }
  return out
}

function labelKey(e: { entity: string; role?: string | undefined; group?: string | undefined }): string {
  return JSON.stringify([e.entity, e.role ?? null, e.group ?? null])
}

/** Distinct labels, sorted by name so the tag numbering does not depend on example order. */
function collectLabels(sequences: Sequence[]): CrfLabel[] {
  const seen = new Map<string, CrfLabel>()
  for (const seq of sequences) {
    for (const e of seq.entities) {
      const key = labelKey(e)
      if (seen.has(key)) continue
      const label: CrfLabel = { entity: e.entity }
      if (e.role !== undefined) label.role = e.role
      if (e.group !== undefined) label.group = e.group
      seen.set(key, label)
    }
  }
  const labels = [...seen.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1])
  if (labels.length > MAX_LABELS) {
    throw paramError(
      'crf',
      `crf tags at most ${MAX_LABELS} entity/role/group combinations; the data has ${labels.length}.`,
    )
  }
  return labels
}

/** The training set as flat typed arrays: tags, attribute ids per token, and the (attribute, tag) pairs. */
interface Corpus {
  L: number
  numSequences: number
  numTokens: number
  dropped: number
  /** Sequence `s` owns tokens `seqStart[s] … seqStart[s+1])`. */
  seqStart: Int32Array
  tags: Uint16Array
  /** Token `t` owns attributes `featStart[t] … featStart[t+1])` of `featAttr`. */
  featStart: Int32Array
  featAttr: Int32Array
  attrKeys: Uint32Array
  attrOffsets: Uint32Array
  pairTags: Uint16Array
  /** For each token feature, the pair index of (attribute, gold tag). */
  featGoldPair: Int32Array
}

function buildCorpus(
  sequences: Sequence[],
  labels: CrfLabel[],
  featurizer: CrfFeaturizer,
  signal: AbortSignal | undefined,
): Corpus {
  const L = crfTagCount(labels.length)
  const labelIndex = new Map(labels.map((l, i) => [labelKey(l), i]))
  const seqStart: number[] = [0]
  const tags: number[] = []
  const featStart: number[] = [0]
  const featAttr: number[] = []
  const attrByKey = new Map<number, number>()
  const attrKeys: number[] = []
  let dropped = 0
  for (let s = 0; s < sequences.length; s++) {
    if ((s & 255) === 0) signal?.throwIfAborted()
    const seq = sequences[s]!
    const tokens = tokenize(seq.text)
    if (tokens.length === 0) {
      dropped += seq.entities.length
      continue
    }
    const names = toBilou(tokens, seq.entities, labelKey)
    const seqTags = names.map((name) => {
      const { prefix, label } = parseTag(name)
      return prefix === 'O' ? CRF_OUTSIDE : crfTag(labelIndex.get(label)!, POSITION[prefix])
    })
    dropped += seq.entities.length - crfSpansFromTags(seqTags).length
    const { keys, offsets } = featurizer.extract(seq.text, tokens)
    for (let t = 0; t < tokens.length; t++) {
      tags.push(seqTags[t]!)
      for (let k = offsets[t]!; k < offsets[t + 1]!; k++) {
        const key = keys[k]!
        let a = attrByKey.get(key)
        if (a === undefined) {
          a = attrKeys.length
          attrByKey.set(key, a)
          attrKeys.push(key)
        }
        featAttr.push(a)
      }
      featStart.push(featAttr.length)
    }
    seqStart.push(tags.length)
  }
  // A state weight exists for each (attribute, tag) seen together in training.
  const pairSet = new Set<number>()
  for (let t = 0; t < tags.length; t++) {
    for (let k = featStart[t]!; k < featStart[t + 1]!; k++) pairSet.add(featAttr[k]! * L + tags[t]!)
  }
  const pairs = Float64Array.from(pairSet).sort()
  const attrOffsets = new Uint32Array(attrKeys.length + 1)
  const pairTags = new Uint16Array(pairs.length)
  for (let p = 0; p < pairs.length; p++) {
    const a = Math.floor(pairs[p]! / L)
    pairTags[p] = pairs[p]! - a * L
    attrOffsets[a + 1] = p + 1
  }
  for (let a = 1; a <= attrKeys.length; a++) attrOffsets[a] = Math.max(attrOffsets[a]!, attrOffsets[a - 1]!)
  const featGoldPair = new Int32Array(featAttr.length)
  for (let t = 0; t < tags.length; t++) {
    for (let k = featStart[t]!; k < featStart[t + 1]!; k++) {
      const a = featAttr[k]!
      let p = attrOffsets[a]!
      while (pairTags[p] !== tags[t]) p++
      featGoldPair[k] = p
    }
  }
  return {
    L,
    numSequences: seqStart.length - 1,
    numTokens: tags.length,
    dropped,
    seqStart: Int32Array.from(seqStart),
    tags: Uint16Array.from(tags),
    featStart: Int32Array.from(featStart),
    featAttr: Int32Array.from(featAttr),
    attrKeys: Uint32Array.from(attrKeys),
    attrOffsets,
    pairTags,
    featGoldPair,
  }
}

// ── training ─────────────────────────────────────────────────────────────────

/**
 * The objective: Σ_sequences (log Z − score(gold)) + λ/2·‖w‖², and its gradient
 * E_model[features] − E_data[features] + λ·w. Weights: pairs, then L×L transitions, then start and end.
 */
function crfObjective(corpus: Corpus, l2: number): (w: Float64Array, grad: Float64Array) => number {
  const { L, seqStart, tags, featStart, featAttr, attrOffsets, pairTags, featGoldPair } = corpus
  const P = pairTags.length
  const transOff = P
  const startOff = P + L * L
  const endOff = startOff + L
  const structure = crfStructure(L)
  let maxLen = 1
  for (let s = 0; s + 1 < seqStart.length; s++) maxLen = Math.max(maxLen, seqStart[s + 1]! - seqStart[s]!)
  const scores = new Float64Array(maxLen * L)
  const alpha = new Float64Array(maxLen * L)
  const beta = new Float64Array(maxLen * L)
  const node = new Float64Array(maxLen * L)
  const block = crfBlock((L - 1) / 4)
  const blockScratch = crfBlockScratch(block, maxLen)
  const blockCounts = crfBlockCounts(block.K)
  const transCsr = new Float64Array(structure.predIdx.length)
  // Empirical feature counts are constant: count them once.
  const empirical = new Float64Array(P + L * L + 2 * L)
  for (let k = 0; k < featGoldPair.length; k++) empirical[featGoldPair[k]!]!++
  for (let s = 0; s + 1 < seqStart.length; s++) {
    const a = seqStart[s]!
    const b = seqStart[s + 1]!
    empirical[startOff + tags[a]!]!++
    empirical[endOff + tags[b - 1]!]!++
    for (let t = a + 1; t < b; t++) empirical[transOff + tags[t - 1]! * L + tags[t]!]!++
  }
  return (w, grad) => {
    // Log-space potentials are built only if a sequence needs the fallback.
    let pot: CrfPotentials | undefined
    setBlockWeights(block, w.subarray(transOff, startOff), w.subarray(startOff, endOff), w.subarray(endOff, endOff + L))
    grad.fill(0)
    transCsr.fill(0)
    resetBlockCounts(blockCounts)
    let value = 0
    for (let s = 0; s + 1 < seqStart.length; s++) {
      const first = seqStart[s]!
      const n = seqStart[s + 1]! - first
      scores.fill(0, 0, n * L)
      for (let t = 0; t < n; t++) {
        const row = t * L
        for (let k = featStart[first + t]!; k < featStart[first + t + 1]!; k++) {
          const attr = featAttr[k]!
          for (let p = attrOffsets[attr]!; p < attrOffsets[attr + 1]!; p++) scores[row + pairTags[p]!]! += w[p]!
        }
      }
      let logZ = crfBlockForwardBackward(block, scores, n, blockScratch, node, blockCounts)
      if (Number.isNaN(logZ)) {
        // Scores too far apart for probability space: the log-space passes handle any magnitude.
        pot ??= crfPotentials(
          structure,
          w.subarray(transOff, startOff),
          w.subarray(startOff, endOff),
          w.subarray(endOff, endOff + L),
        )
        logZ = crfForward(pot, scores, n, alpha)
        crfBackward(pot, scores, n, beta)
        crfExpectations(pot, scores, n, alpha, beta, logZ, node, transCsr)
      }
      value += logZ
      for (let t = 0; t < n; t++) {
        const row = t * L
        for (let k = featStart[first + t]!; k < featStart[first + t + 1]!; k++) {
          const attr = featAttr[k]!
          for (let p = attrOffsets[attr]!; p < attrOffsets[attr + 1]!; p++) grad[p]! += node[row + pairTags[p]!]!
        }
      }
      for (let j = 0; j < L; j++) {
        grad[startOff + j]! += node[j]!
        grad[endOff + j]! += node[(n - 1) * L + j]!
      }
    }
    addBlockCounts(block, blockCounts, grad.subarray(transOff, startOff))
    const { predStart, predIdx } = structure
    for (let j = 0; j < L; j++) {
      for (let k = predStart[j]!; k < predStart[j + 1]!; k++) grad[transOff + predIdx[k]! * L + j]! += transCsr[k]!
    }
    let norm = 0
    for (let i = 0; i < w.length; i++) {
      const wi = w[i]!
      value -= wi * empirical[i]!
      norm += wi * wi
      grad[i] = grad[i]! - empirical[i]! + l2 * wi
    }
    return value + 0.5 * l2 * norm
  }
}

/**
 * The training objective (regularised negative log-likelihood) of `data` as a function of the weight vector, for
 * diagnostics and gradient checks. Weights are laid out as (feature, tag) pairs, then the L×L transitions, then
 * the start and end weights of each tag.
 */
export function crfTrainingObjective(
  data: TrainingData,
  params: Partial<CrfParams> = {},
): { size: number; labels: CrfLabel[]; evaluate: (w: Float64Array, grad: Float64Array) => number } {
  const p = crfParams(params)
  const featurizer = new CrfFeaturizer(
    p.hashBits,
    p.window,
    mergeTables(data.lookups),
    mergePatterns(data.regexes),
    p.caseSensitive,
  )
  const sequences = collectSequences(data)
  const labels = collectLabels(sequences)
  const corpus = buildCorpus(sequences, labels, featurizer, undefined)
  return {
    size: corpus.pairTags.length + corpus.L * corpus.L + 2 * corpus.L,
    labels,
    evaluate: crfObjective(corpus, p.l2),
  }
}

function train(corpus: Corpus, params: CrfParams, ctx: FitContext) {
  const L = corpus.L
  const size = corpus.pairTags.length + L * L + 2 * L
  if (corpus.numTokens === 0) {
    return { x: new Float64Array(size), value: 0, iterations: 0, evaluations: 0, stop: 'no-data' }
  }
  return minimizeLbfgs(crfObjective(corpus, params.l2), new Float64Array(size), {
    memory: params.memory,
    maxIterations: params.maxIterations,
    epsilon: 1e-5,
    delta: params.tolerance,
    period: 10,
    onIteration: (iteration) => {
      ctx.signal?.throwIfAborted()
      ctx.onProgress?.(iteration / params.maxIterations)
    },
  })
}

// ── the fitted tagger ────────────────────────────────────────────────────────

/** A trained CRF tagger. Build it with `CrfEntityExtractor.fit` or `crfFromState`. */
export class FittedCrfEntityExtractor implements FittedEntityExtractor {
  readonly type = 'crf'
  readonly params: Readonly<CrfParams>
  readonly labels: readonly CrfLabel[]
  /** How training ended (iterations, final loss, dropped annotations). */
  readonly fitInfo: Readonly<CrfFitInfo>
  /** The distinct entity types the tagger can return, sorted. */
  readonly entityTypes: readonly string[]
  private readonly model: CrfModel
  private readonly featurizer: CrfFeaturizer
  private readonly L: number
  private readonly potentials: CrfPotentials
  // Open-addressing table from hashed feature key to attribute id.
  private readonly tableKeys: Uint32Array
  private readonly tableIds: Int32Array
  private readonly tableShift: number
  private readonly block: CrfBlock
  private scratch: CrfBlockScratch
  private scores: Float64Array
  private tags: Uint16Array

  /** @internal Use `fit` or `crfFromState`. */
  constructor(model: CrfModel, featurizer?: CrfFeaturizer) {
    this.model = model
    const p = model.params
    this.featurizer =
      featurizer ?? new CrfFeaturizer(p.hashBits, p.window, model.lookups, model.regexes, p.caseSensitive)
    this.params = Object.freeze({ ...model.params })
    this.labels = Object.freeze(model.labels.map((l) => Object.freeze({ ...l })))
    this.fitInfo = Object.freeze({ ...model.fit })
    this.entityTypes = Object.freeze([...new Set(model.labels.map((l) => l.entity))].sort())
    this.L = crfTagCount(model.labels.length)
    this.potentials = crfPotentials(crfStructure(this.L), model.transitions, model.startWeights, model.endWeights)
    this.block = crfBlock(model.labels.length)
    setBlockWeights(this.block, model.transitions, model.startWeights, model.endWeights)
    this.scratch = crfBlockScratch(this.block, 32)
    this.scores = new Float64Array(32 * this.L)
    this.tags = new Uint16Array(32)
    const n = model.attrKeys.length
    let bits = 1
    while (1 << bits < 2 * n) bits++
    this.tableShift = 32 - bits
    this.tableKeys = new Uint32Array(1 << bits)
    this.tableIds = new Int32Array(1 << bits).fill(-1)
    const mask = (1 << bits) - 1
    for (let a = 0; a < n; a++) {
      const key = model.attrKeys[a]!
      let slot = Math.imul(key, 0x9e3779b1) >>> this.tableShift
      while (this.tableIds[slot] !== -1) {
        if (this.tableKeys[slot] === key) throw invalid(`attribute key ${key} appears twice`)
        slot = (slot + 1) & mask
      }
      this.tableKeys[slot] = key
      this.tableIds[slot] = a
    }
  }

  /** Label names as they appear in reports, e.g. `city#destination`. */
  get labelNames(): string[] {
    return this.model.labels.map(crfLabelName)
  }

  /**
   * Entities in `text`. `tokens` give the boundaries (from the pipeline's tokenizer); features are read from the
   * original characters, so tokens lowercased or accent-folded by the pipeline do not change the result.
   */
  extract(text: string, tokens: readonly FeatureToken[]): EntityPrediction[] {
    const n = tokens.length
    if (n === 0 || this.model.labels.length === 0) return []
    const L = this.L
    const { scores, scratch, tags } = this.buffers(n)
    const { keys, offsets } = this.featurizer.extract(text, tokens)
    const { attrOffsets, pairTags, pairWeights } = this.model
    const { tableKeys, tableIds, tableShift } = this
    const mask = tableKeys.length - 1
    scores.fill(0, 0, n * L)
    for (let t = 0; t < n; t++) {
      const row = t * L
      for (let k = offsets[t]!; k < offsets[t + 1]!; k++) {
        const key = keys[k]!
        let slot = Math.imul(key, 0x9e3779b1) >>> tableShift
        let a = tableIds[slot]!
        while (a !== -1 && tableKeys[slot] !== key) {
          slot = (slot + 1) & mask
          a = tableIds[slot]!
        }
        if (a === -1) continue
        for (let p = attrOffsets[a]!; p < attrOffsets[a + 1]!; p++) scores[row + pairTags[p]!]! += pairWeights[p]!
      }
    }
    crfBlockViterbi(this.block, scores, n, scratch, tags)
    const spans = crfSpansFromTags(tags, n)
    if (spans.length === 0) return []
    const confidence = this.spanConfidence(scores, n, scratch, tags, spans)
    const out: EntityPrediction[] = []
    spans.forEach((span, i) => {
      const label = this.model.labels[span.label]!
      const start = tokens[span.first]!.start
      const end = tokens[span.last]!.end
      const prediction: EntityPrediction = {
        start,
        end,
        value: text.slice(start, end),
        entity: label.entity,
        extractor: 'crf',
        confidence_entity: Math.min(1, Math.max(0, confidence[i]!)),
      }
      if (label.role !== undefined) prediction.role = label.role
      if (label.group !== undefined) prediction.group = label.group
      out.push(prediction)
    })
    return out
  }

  /** The exact marginal probability of each span's tags: scaled forward-backward, or log space if that underflows. */
  private spanConfidence(
    scores: Float64Array,
    n: number,
    scratch: CrfBlockScratch,
    tags: Uint16Array,
    spans: readonly { first: number; last: number }[],
  ): number[] {
    if (!Number.isNaN(crfBlockForwardBackward(this.block, scores, n, scratch))) {
      return spans.map((s) => crfBlockSpanProb(this.block, scratch, tags, s.first, s.last))
    }
    const { alpha, beta } = scratch
    const logZ = crfForward(this.potentials, scores, n, alpha)
    crfBackward(this.potentials, scores, n, beta)
    return spans.map((s) => Math.exp(crfSpanLogProb(this.potentials, scores, alpha, beta, logZ, tags, s.first, s.last)))
  }

  private buffers(n: number): { scores: Float64Array; scratch: CrfBlockScratch; tags: Uint16Array } {
    const L = this.L
    if (n > RETAINED_TOKENS) {
      return { scores: new Float64Array(n * L), scratch: crfBlockScratch(this.block, n), tags: new Uint16Array(n) }
    }
    if (n > this.scratch.capacity) {
      const cap = Math.min(RETAINED_TOKENS, Math.max(n, 2 * this.scratch.capacity))
      this.scratch = crfBlockScratch(this.block, cap)
      this.scores = new Float64Array(cap * L)
      this.tags = new Uint16Array(cap)
    }
    return { scores: this.scores, scratch: this.scratch, tags: this.tags }
  }

  /** JSON (params, labels, lookup tables, regexes) plus typed arrays (keys and weights); copies, safe to keep. */
  toState(): ComponentState {
    const m = this.model
    const json = {
      version: CRF_STATE_VERSION,
      params: { ...m.params },
      labels: m.labels.map((l) => ({ ...l })),
      lookups: m.lookups.map((l) => ({ name: l.name, elements: [...l.elements] })),
      regexes: m.regexes.map((r) => ({ name: r.name, patterns: [...r.patterns] })),
      fit: { ...m.fit },
    }
    return {
      // A round trip through JSON text: proves the header is plain JSON and shares nothing with the model.
      json: JSON.parse(JSON.stringify(json)) as JsonValue,
      arrays: {
        attrKeys: m.attrKeys.slice(),
        attrOffsets: m.attrOffsets.slice(),
        pairTags: m.pairTags.slice(),
        pairWeights: m.pairWeights.slice(),
        transitions: m.transitions.slice(),
        startWeights: m.startWeights.slice(),
        endWeights: m.endWeights.slice(),
      },
    }
  }
}

// ── state ────────────────────────────────────────────────────────────────────

function invalid(detail: string): IntentopsError {
  return paramError('crf', `The saved state of crf is invalid: ${detail}.`)
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function stringArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw invalid(`${what} must be an array of strings`)
  return [...v]
}

function typedArray<T extends NumericArray>(
  arrays: Record<string, unknown>,
  name: string,
  ctor: new (n: number) => T,
  length: number | undefined,
): T {
  const a = arrays[name]
  if (!(a instanceof ctor)) throw invalid(`array '${name}' is missing or is not a ${ctor.name}`)
  if (length !== undefined && a.length !== length) {
    throw invalid(`array '${name}' has ${a.length} entries, the header implies ${length}`)
  }
  return a
}

function allFinite(a: Float32Array, name: string): void {
  for (let i = 0; i < a.length; i++)
    if (!Number.isFinite(a[i]!)) throw invalid(`array '${name}' holds a non-finite weight at ${i}`)
}

/**
 * Rebuilds a fitted tagger from `toState()` output (as read back from a model file). Every array's type and length
 * is checked against the JSON header and every index against its range before anything is derived from them, so
 * a damaged or hostile state throws ERR_NLU_PARAM_INVALID ("The saved state of crf is invalid: …"; the model loader
 * reports it as ERR_MODEL_CORRUPT) and never allocates more than the state's own size. Its regexes are checked on
 * the budget of `ctx`, the model load's, when given.
 */
export function crfFromState(state: ComponentState, ctx?: LoadContext): FittedCrfEntityExtractor {
  if (!isRecord(state) || !isRecord(state.json) || !isRecord(state.arrays)) {
    throw invalid('expected { json: object, arrays: object }')
  }
  const json = state.json
  const arrays = state.arrays as Record<string, unknown>
  if (json.version !== CRF_STATE_VERSION) {
    throw invalid(`unsupported version ${JSON.stringify(json.version)} (this build reads ${CRF_STATE_VERSION})`)
  }
  if (!isRecord(json.params)) throw invalid('params must be an object')
  const params = crfParams(json.params)
  if (!Array.isArray(json.labels) || json.labels.length > MAX_LABELS)
    throw invalid(`labels must be an array of at most ${MAX_LABELS}`)
  const seen = new Set<string>()
  const labels: CrfLabel[] = json.labels.map((l, i) => {
    if (!isRecord(l) || typeof l.entity !== 'string' || l.entity === '')
      throw invalid(`label ${i} needs a non-empty entity`)
    const label: CrfLabel = { entity: l.entity }
    for (const key of ['role', 'group'] as const) {
      const v = l[key]
      if (v === undefined) continue
      if (typeof v !== 'string') throw invalid(`label ${i}: ${key} must be a string`)
      label[key] = v
    }
    const k = labelKey(label)
    if (seen.has(k)) throw invalid(`label ${crfLabelName(label)} appears twice`)
    seen.add(k)
    return label
  })
  if (!Array.isArray(json.lookups) || !Array.isArray(json.regexes)) throw invalid('lookups and regexes must be arrays')
  const lookups = json.lookups.map((l, i) => {
    if (!isRecord(l) || typeof l.name !== 'string') throw invalid(`lookup ${i} needs a name`)
    return { name: l.name, elements: stringArray(l.elements, `lookup ${l.name} elements`) }
  })
  const regexes = json.regexes.map((r, i) => {
    if (!isRecord(r) || typeof r.name !== 'string') throw invalid(`regex ${i} needs a name`)
    return { name: r.name, patterns: stringArray(r.patterns, `regex ${r.name} patterns`) }
  })
  const fit = isRecord(json.fit) ? json.fit : {}
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)

  const L = crfTagCount(labels.length)
  const attrKeys = typedArray(arrays, 'attrKeys', Uint32Array, undefined)
  const attrOffsets = typedArray(arrays, 'attrOffsets', Uint32Array, attrKeys.length + 1)
  const pairTags = typedArray(arrays, 'pairTags', Uint16Array, undefined)
  const pairWeights = typedArray(arrays, 'pairWeights', Float32Array, pairTags.length)
  const transitions = typedArray(arrays, 'transitions', Float32Array, L * L)
  const startWeights = typedArray(arrays, 'startWeights', Float32Array, L)
  const endWeights = typedArray(arrays, 'endWeights', Float32Array, L)
  if (attrOffsets[0] !== 0 || attrOffsets[attrKeys.length] !== pairTags.length) {
    throw invalid('attrOffsets must start at 0 and end at the number of pairs')
  }
  for (let a = 0; a < attrKeys.length; a++) {
    if (attrOffsets[a + 1]! < attrOffsets[a]!) throw invalid(`attrOffsets decreases at ${a}`)
    if (params.hashBits < 32 && attrKeys[a]! >= 2 ** params.hashBits)
      throw invalid(`attribute key ${attrKeys[a]} is outside 2^hashBits`)
  }
  for (let p = 0; p < pairTags.length; p++)
    if (pairTags[p]! >= L) throw invalid(`pair ${p} names tag ${pairTags[p]} of ${L}`)
  allFinite(pairWeights, 'pairWeights')
  allFinite(transitions, 'transitions')
  allFinite(startWeights, 'startWeights')
  allFinite(endWeights, 'endWeights')

  const model: CrfModel = {
    params,
    labels,
    lookups,
    regexes,
    attrKeys: attrKeys.slice(),
    attrOffsets: attrOffsets.slice(),
    pairTags: pairTags.slice(),
    pairWeights: pairWeights.slice(),
    transitions: transitions.slice(),
    startWeights: startWeights.slice(),
    endWeights: endWeights.slice(),
    fit: {
      iterations: num(fit.iterations),
      evaluations: num(fit.evaluations),
      stop: typeof fit.stop === 'string' ? fit.stop : '',
      loss: num(fit.loss),
      sequences: num(fit.sequences),
      tokens: num(fit.tokens),
      droppedAnnotations: num(fit.droppedAnnotations),
    },
  }
  const featurizer = new CrfFeaturizer(
    params.hashBits,
    params.window,
    lookups,
    regexes,
    params.caseSensitive,
    ctx?.regexTally,
  )
  return new FittedCrfEntityExtractor(model, featurizer)
}
