/**
 * The trainable pipeline: named, typed steps built from `intentops.yml` through the component catalog. Featurizers
 * come first and their blocks are concatenated; exactly one classifier turns them into intent confidences; every
 * entity extractor runs on every message and their results are merged, then synonyms are applied.
 * @module
 */
import type { PipelineStepConfig } from '../config/schema.js'
import type { Example, MessageInput, TrainingData } from '../data/types.js'
import { createError, isIntentopsError, type SourceLocation } from '../errors.js'
import { newRegexCheckTally } from '../util/regex-safety.js'
import { catalogEntry, componentTypes } from './catalog.js'
import type {
  Classifier,
  ComponentState,
  EntityExtractor,
  Featurizer,
  FittedClassifier,
  FittedEntityExtractor,
  FittedFeaturizer,
  JsonValue,
} from './component.js'
import { shareLookupMatchers } from './entities/lookup.js'
import { mergeEntities, type RankedEntity } from './entities/merge.js'
import { applySynonyms, buildSynonymMap, type SynonymMap } from './entities/synonyms.js'
import { CsrBuilder, SparseVector } from './sparse.js'
import { shareScanners, type Token, tokenize } from './tokenizer.js'
import type { EntityPrediction, ManifestStep } from './types.js'

/**
 * The default pipeline, used when `pipeline` is empty: word 1–2-grams and character 2–5-grams inside words (TF-IDF,
 * sublinear tf), regex and lookup features, a one-vs-rest linear SVM calibrated on held-out folds, and the regex
 * and lookup entity extractors.
 */
export const DEFAULT_PIPELINE: readonly Readonly<PipelineStepConfig>[] = Object.freeze([
  { type: 'tfidf', name: 'words', analyzer: 'word', ngramMin: 1, ngramMax: 2 },
  { type: 'tfidf', name: 'chars', analyzer: 'char_wb', ngramMin: 2, ngramMax: 5 },
  { type: 'regex_features', name: 'regexes' },
  { type: 'linear_svm', name: 'classifier' },
  { type: 'regex_entities', name: 'regex_entities' },
  { type: 'lookup_entities', name: 'lookup_entities' },
])

/**
 * The most steps a pipeline, and so a model file, may have. Each regex step checks its patterns for catastrophic
 * backtracking; one budget for the whole pipeline bounds that work, and this bounds the rest of a model load.
 * Pipelines have a handful of steps.
 */
export const MAX_PIPELINE_STEPS = 64

type Untrained =
  | { kind: 'featurizer'; component: Featurizer }
  | { kind: 'classifier'; component: Classifier }
  | { kind: 'entity_extractor'; component: EntityExtractor }

export type PipelineStep = { name: string; type: string } & Untrained

export type FittedStep = { name: string; type: string; params: Record<string, JsonValue> } & (
  | { kind: 'featurizer'; fitted: FittedFeaturizer }
  | { kind: 'classifier'; fitted: FittedClassifier }
  | { kind: 'entity_extractor'; fitted: FittedEntityExtractor }
)

/** Progress of a pipeline fit, for progress bars. */
export interface PipelineProgress {
  stage: 'featurize' | 'classify' | 'entities'
  /** Overall fraction done, in [0, 1]. */
  fraction: number
}

export interface PipelineFitOptions {
  seed: number
  /** Weights of message fields; unlisted fields weigh 1, a weight of 0 leaves a field out of the intent. */
  fields: Readonly<Record<string, number>>
  workers?: number
  signal?: AbortSignal
  onProgress?: (p: PipelineProgress) => void
  /** Receives the classifier's held-out probabilities (rows in `examples` order × labels). */
  onHeldOut?: (proba: Float32Array) => void
}

/**
 * Where a step (by index; undefined for the whole list) or one of its keys sits in the config file, so that
 * errors read `intentops.yml:line:column`.
 */
export type StepLocator = (index: number | undefined, key?: string) => SourceLocation | undefined

/**
 * Build a pipeline from config steps (`{type, name?, ...params}`); an empty list gives {@link DEFAULT_PIPELINE}.
 * Validates every step's params and the order of steps. Config loading calls it with `locate` to check the
 * pipeline at start-up.
 */
export function buildPipeline(steps: readonly Readonly<PipelineStepConfig>[], locate?: StepLocator): Pipeline {
  const source = steps.length === 0 ? DEFAULT_PIPELINE : steps
  // The default pipeline is not in the file: its errors (none expected) get no position.
  const at = (index: number | undefined, key?: string) => {
    const location = steps.length === 0 ? undefined : locate?.(index, key)
    return location ? { location } : {}
  }
  if (source.length > MAX_PIPELINE_STEPS) {
    throw createError(
      'ERR_NLU_PIPELINE_INVALID',
      { detail: `it has ${source.length} steps, more than the ${MAX_PIPELINE_STEPS} a pipeline may have` },
      at(MAX_PIPELINE_STEPS),
    )
  }
  const built: PipelineStep[] = []
  const names = new Set<string>()
  source.forEach((raw, i) => {
    const { type, name, ...params } = raw as PipelineStepConfig & { name?: unknown }
    const where = `pipeline[${i}]`
    const entry = typeof type === 'string' ? catalogEntry(type) : undefined
    if (!entry) {
      throw createError(
        'ERR_NLU_UNKNOWN_COMPONENT',
        { type: String(type), where, known: componentTypes().join(', ') },
        at(i, 'type'),
      )
    }
    if (name !== undefined && (typeof name !== 'string' || name === '')) {
      throw createError(
        'ERR_NLU_PIPELINE_INVALID',
        { detail: `the 'name' of ${where} must be a non-empty string` },
        at(i, 'name'),
      )
    }
    let stepName = name ?? type
    for (let n = 2; name === undefined && names.has(stepName); n++) stepName = `${type}_${n}`
    if (names.has(stepName)) {
      throw createError(
        'ERR_NLU_PIPELINE_INVALID',
        { detail: `two steps are named '${stepName}'; names must be unique` },
        at(i, name === undefined ? undefined : 'name'),
      )
    }
    names.add(stepName)
    let component: Featurizer | Classifier | EntityExtractor
    try {
      component = entry.create(params)
    } catch (err) {
      if (isIntentopsError(err) && err.code === 'ERR_NLU_PARAM_INVALID') {
        throw createError(
          'ERR_NLU_PARAM_INVALID',
          { component: `step '${stepName}' (${where}, ${type})`, detail: err.params.detail },
          { cause: err, ...at(i, typeof err.params.param === 'string' ? err.params.param : undefined) },
        )
      }
      throw err
    }
    built.push({ name: stepName, type, kind: entry.kind, component } as PipelineStep)
  })
  const classifiers = built.filter((s) => s.kind === 'classifier')
  const firstClassifier = built.findIndex((s) => s.kind === 'classifier')
  if (classifiers.length !== 1) {
    const second = built.findIndex((s, i) => s.kind === 'classifier' && i > firstClassifier)
    throw createError(
      'ERR_NLU_PIPELINE_INVALID',
      { detail: `it needs exactly one classifier step, found ${classifiers.length}` },
      at(second === -1 ? undefined : second),
    )
  }
  const featurizers = built.filter((s) => s.kind === 'featurizer')
  if (featurizers.length === 0) {
    throw createError('ERR_NLU_PIPELINE_INVALID', { detail: 'it has no featurizer step' }, at(undefined))
  }
  const late = built.findIndex((s, i) => s.kind === 'featurizer' && i > firstClassifier)
  if (late !== -1) {
    throw createError(
      'ERR_NLU_PIPELINE_INVALID',
      { detail: `the featurizer '${built[late]!.name}' comes after the classifier; featurizers must come first` },
      at(late),
    )
  }
  return new Pipeline(built)
}

/** One text of a message, with the weight of its field. */
interface WeightedText {
  field: string | undefined
  text: string
  weight: number
}

/** The texts of a message: `text`, or each field with its weight (fields in sorted order). */
function messageParts(m: MessageInput, fields: Readonly<Record<string, number>>): WeightedText[] {
  if (m.fields) {
    return Object.keys(m.fields)
      .sort()
      .map((f) => ({ field: f, text: m.fields![f]!, weight: Object.hasOwn(fields, f) ? fields[f]! : 1 }))
  }
  return [{ field: undefined, text: m.text ?? '', weight: 1 }]
}

/** An untrained pipeline: named steps with validated params. */
export class Pipeline {
  constructor(readonly steps: readonly PipelineStep[]) {}

  /** The steps as JSON: enough to rebuild an untrained copy with `buildPipeline`. */
  getParams(): ManifestStep[] {
    return this.steps.map((s) => ({ name: s.name, type: s.type, params: s.component.getParams?.() ?? {} }))
  }

  /** Fit every step on `data` (never mutated). Labels are the sorted intent names of the examples. */
  async fit(data: TrainingData, options: PipelineFitOptions): Promise<FittedPipeline> {
    const examples = data.examples
    const labels = [...new Set(examples.map((e) => e.intent))].sort()
    const labelIndex = new Map(labels.map((l, i) => [l, i]))
    const report = (stage: PipelineProgress['stage'], fraction: number) =>
      options.onProgress?.({ stage, fraction: Math.min(1, Math.max(0, fraction)) })
    // One regex check for the whole run: a pattern several steps use is charged once.
    const ctxBase = {
      seed: options.seed,
      regexTally: newRegexCheckTally(),
      ...(options.signal ? { signal: options.signal } : {}),
    }

    // Featurizers learn from every text of every example (each field of a multi-field example counts as one).
    report('featurize', 0)
    const parts = examples.map((ex) => exampleParts(ex, options.fields))
    const texts = parts.flat().map((p) => p.text)
    const fittedSteps: FittedStep[] = []
    const featurizers: FittedFeaturizer[] = []
    for (const step of this.steps) {
      if (step.kind !== 'featurizer') continue
      const fitted = step.component.fit(texts, { ...ctxBase, data })
      featurizers.push(fitted)
      fittedSteps.push({ name: step.name, type: step.type, kind: 'featurizer', fitted, params: getParams(step) })
    }
    const featurize = new Featurize(featurizers)
    const dim = featurize.dim
    const builder = new CsrBuilder(examples.length, dim, examples.length * 64)
    const v = new SparseVector()
    for (let i = 0; i < examples.length; i++) {
      featurize.run(parts[i]!, v)
      builder.pushRow(v)
      if ((i & 511) === 511) {
        options.signal?.throwIfAborted()
        report('featurize', (0.1 * i) / examples.length)
      }
    }
    const x = builder.build()
    const y = new Int32Array(examples.length)
    for (let i = 0; i < examples.length; i++) y[i] = labelIndex.get(examples[i]!.intent)!

    report('classify', 0.1)
    for (const step of this.steps) {
      if (step.kind !== 'classifier') continue
      const fitted = await step.component.fit(x, y, labels.length, {
        ...ctxBase,
        ...(options.workers !== undefined ? { workers: options.workers } : {}),
        ...(options.onHeldOut ? { onHeldOut: options.onHeldOut } : {}),
        labels,
        onProgress: (f) => report('classify', 0.1 + 0.85 * f),
      })
      fittedSteps.push({ name: step.name, type: step.type, kind: 'classifier', fitted, params: getParams(step) })
    }

    report('entities', 0.95)
    for (const step of this.steps) {
      if (step.kind !== 'entity_extractor') continue
      const fitted = step.component.fit(data, ctxBase)
      fittedSteps.push({ name: step.name, type: step.type, kind: 'entity_extractor', fitted, params: getParams(step) })
    }
    // Keep the declared step order in the fitted pipeline.
    const order = new Map(this.steps.map((s, i) => [s.name, i]))
    fittedSteps.sort((a, b) => order.get(a.name)! - order.get(b.name)!)
    report('entities', 1)
    return new FittedPipeline(fittedSteps, labels, buildSynonymMap(data), options.fields)
  }
}

function getParams(step: PipelineStep): Record<string, JsonValue> {
  return step.component.getParams?.() ?? {}
}

function exampleParts(ex: Example, fields: Readonly<Record<string, number>>): WeightedText[] {
  return messageParts(ex.fields ? { fields: ex.fields } : { text: ex.text }, fields)
}

/**
 * Turns the texts of a message into one sparse row: each featurizer's block at its column offset. For a
 * multi-field message each field's block is scaled by `weight / sqrt(Σ weight²)`, so a message whose fields share
 * no n-grams keeps unit length per block, and entries of the same column are merged.
 */
class Featurize {
  readonly dim: number
  private readonly offsets: number[]
  private scratch: Float64Array | undefined
  private touched = new Int32Array(256)

  constructor(private readonly featurizers: readonly FittedFeaturizer[]) {
    let off = 0
    this.offsets = featurizers.map((f) => {
      const o = off
      off += f.dim
      return o
    })
    this.dim = off
  }

  /** One plain text, weight 1: the common case, without building parts. */
  runText(text: string, out: SparseVector): void {
    out.clear()
    for (let k = 0; k < this.featurizers.length; k++) this.featurizers[k]!.transformOne(text, out, this.offsets[k]!, 1)
  }

  run(parts: readonly WeightedText[], out: SparseVector): void {
    out.clear()
    const used = parts.filter((p) => p.weight > 0)
    if (used.length === 1 && used[0]!.weight === 1) {
      const text = used[0]!.text
      for (let k = 0; k < this.featurizers.length; k++)
        this.featurizers[k]!.transformOne(text, out, this.offsets[k]!, 1)
      return
    }
    if (used.length === 0) return
    let norm = 0
    for (const p of used) norm += p.weight * p.weight
    norm = Math.sqrt(norm)
    for (let k = 0; k < this.featurizers.length; k++) {
      for (const p of used) this.featurizers[k]!.transformOne(p.text, out, this.offsets[k]!, p.weight / norm)
    }
    this.mergeDuplicates(out)
  }

  private mergeDuplicates(v: SparseVector): void {
    if (!this.scratch) this.scratch = new Float64Array(this.dim)
    if (this.touched.length < v.n) this.touched = new Int32Array(v.n * 2)
    const acc = this.scratch
    let m = 0
    for (let j = 0; j < v.n; j++) {
      const f = v.idx[j]!
      if (acc[f] === 0) this.touched[m++] = f
      acc[f]! += v.val[j]!
    }
    v.clear()
    for (let t = 0; t < m; t++) {
      const f = this.touched[t]!
      if (acc[f] !== 0) v.push(f, acc[f]!)
      acc[f] = 0
    }
  }
}

/** The reusable result of classifying one message. */
export interface IntentScores {
  /** Probability of each label, in `labels` order. Overwritten by the next call. */
  proba: Float64Array
}

const NO_TOKENS: readonly Token[] = Object.freeze([])

/** A fitted pipeline: featurizers, classifier and entity extractors, ready to parse messages. */
export class FittedPipeline {
  readonly classifier: FittedClassifier
  readonly entitySteps: ReadonlyArray<{ name: string; fitted: FittedEntityExtractor }>
  private readonly activeEntitySteps: ReadonlyArray<{ fitted: FittedEntityExtractor; priority: number }>
  /** Whether an active extractor reads the tokenizer's output. */
  private readonly entityTokens: boolean
  private readonly featurize: Featurize
  private readonly vector = new SparseVector()
  private readonly proba: Float64Array
  private readonly hasSynonyms: boolean

  constructor(
    readonly steps: readonly FittedStep[],
    readonly labels: readonly string[],
    readonly synonyms: Readonly<SynonymMap>,
    readonly fields: Readonly<Record<string, number>>,
  ) {
    const featurizers: FittedFeaturizer[] = []
    let classifier: FittedClassifier | undefined
    const entitySteps: Array<{ name: string; fitted: FittedEntityExtractor }> = []
    for (const s of steps) {
      if (s.kind === 'featurizer') featurizers.push(s.fitted)
      else if (s.kind === 'classifier') classifier = s.fitted
      else entitySteps.push({ name: s.name, fitted: s.fitted })
    }
    if (!classifier) throw createError('ERR_NLU_PIPELINE_INVALID', { detail: 'it has no classifier step' })
    this.classifier = classifier
    this.entitySteps = entitySteps
    // An extractor that can return no entity type (a regex or lookup step with nothing to match) is skipped, and
    // with it the tokenizing, when parsing; its position still sets the priority of the others.
    this.activeEntitySteps = entitySteps
      .map((s, priority) => ({ fitted: s.fitted, priority }))
      .filter((s) => s.fitted.entityTypes === undefined || s.fitted.entityTypes.length > 0)
    // Regex and lookup extractors match on the text: with only those, tokens (an object and a string per word)
    // would be built for nothing on every parse.
    this.entityTokens = this.activeEntitySteps.some((s) => s.fitted.usesTokens !== false)
    this.featurize = new Featurize(featurizers)
    this.proba = new Float64Array(Math.max(1, labels.length))
    this.hasSynonyms = Object.keys(synonyms).length > 0
    // Regex features and lookup entities usually match the same tables: one phrase search of each message serves
    // both; and the featurizers and matchers that normalise alike tokenize each message once.
    const components = steps.map((s) => s.fitted)
    shareLookupMatchers(components)
    shareScanners(components)
  }

  /** Entity types any extractor can return, sorted. */
  get entityTypes(): string[] {
    return [...new Set(this.entitySteps.flatMap((s) => s.fitted.entityTypes ?? []))].sort()
  }

  /** Classify a message; the returned array is reused by the next call. */
  classify(message: MessageInput): Float64Array {
    if (message.fields) this.featurize.run(messageParts(message, this.fields), this.vector)
    else this.featurize.runText(message.text ?? '', this.vector)
    if (this.labels.length === 1) this.proba[0] = 1
    else this.classifier.predictProba(this.vector, this.proba)
    return this.proba
  }

  /**
   * Entities of a message from every extractor, with synonyms applied. Overlapping spans are resolved by
   * {@link mergeEntities}: the longer span wins, then the earlier step in the pipeline, then the higher confidence.
   */
  extractEntities(message: MessageInput): EntityPrediction[] {
    if (this.activeEntitySteps.length === 0) return []
    const found: RankedEntity[] = []
    if (message.fields) {
      for (const f of Object.keys(message.fields).sort()) this.extractPart(f, message.fields[f]!, found)
    } else this.extractPart(undefined, message.text ?? '', found)
    const out = mergeEntities(found)
    if (out.length > 0 && this.hasSynonyms) applySynonyms(out, this.synonyms)
    return out
  }

  private extractPart(field: string | undefined, text: string, found: RankedEntity[]): void {
    if (text === '') return
    const steps = this.activeEntitySteps
    const tokens = this.entityTokens ? tokenize(text) : NO_TOKENS
    for (let s = 0; s < steps.length; s++) {
      const { fitted, priority } = steps[s]!
      const entities = fitted.extract(text, tokens)
      for (let i = 0; i < entities.length; i++) {
        const e = entities[i]!
        found.push({ entity: field !== undefined ? { ...e, field } : e, priority })
      }
    }
  }

  /** Every step's state, by step name. */
  states(): Array<{ name: string; type: string; kind: FittedStep['kind']; state: ComponentState }> {
    return this.steps.map((s) => ({ name: s.name, type: s.type, kind: s.kind, state: s.fitted.toState() }))
  }
}
