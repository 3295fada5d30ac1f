/**
 * The frozen component catalog: the only place a pipeline step's `type` (from `intentops.yml` or from a model
 * file) turns into code. `create` validates params and returns an untrained component; `fromState` rebuilds a
 * fitted one from the JSON and typed arrays of a model file, given what the steps of one load share (`LoadContext`).
 * An unknown type is an error, never a lookup of code.
 * @module
 */
import type { TObject } from '@sinclair/typebox'
import { createError } from '../errors.js'
import { newRegexCheckTally } from '../util/regex-safety.js'
import { FittedLinearClassifier } from './classifiers/linear-model.js'
import { LinearSvm, LinearSvmParamsSchema, linearSvmParams } from './classifiers/linear-svm.js'
import {
  LogisticRegression,
  LogisticRegressionParamsSchema,
  logisticRegressionParams,
} from './classifiers/logistic-regression.js'
import type {
  Classifier,
  ComponentState,
  EntityExtractor,
  Featurizer,
  FittedClassifier,
  FittedEntityExtractor,
  FittedFeaturizer,
  LoadContext,
} from './component.js'
import { CrfEntityExtractor, CrfParamsSchema, crfFromState, crfParams } from './entities/crf.js'
import {
  FittedLookupEntities,
  LookupEntities,
  LookupEntitiesParamsSchema,
  lookupEntitiesParams,
} from './entities/lookup.js'
import { FittedRegexEntities, RegexEntities, RegexEntitiesParamsSchema, regexEntitiesParams } from './entities/regex.js'
import {
  FittedRegexFeatures,
  RegexFeaturesParamsSchema,
  RegexFeaturizer,
  regexFeaturesParams,
} from './featurizers/regex-features.js'
import { FittedTfidf, TfidfFeaturizer, TfidfParamsSchema, tfidfParams } from './featurizers/tfidf.js'

interface EntryBase {
  /** One line for docs and error hints. */
  description: string
  /** The params schema (TypeBox), with defaults and descriptions. */
  schema: TObject
}

export interface FeaturizerEntry extends EntryBase {
  kind: 'featurizer'
  create(params: unknown): Featurizer
  fromState(state: ComponentState, ctx: LoadContext): FittedFeaturizer
}

export interface ClassifierEntry extends EntryBase {
  kind: 'classifier'
  create(params: unknown): Classifier
  fromState(state: ComponentState, ctx: LoadContext): FittedClassifier
}

export interface EntityExtractorEntry extends EntryBase {
  kind: 'entity_extractor'
  create(params: unknown): EntityExtractor
  fromState(state: ComponentState, ctx: LoadContext): FittedEntityExtractor
}

export type CatalogEntry = FeaturizerEntry | ClassifierEntry | EntityExtractorEntry
export type ComponentKind = CatalogEntry['kind']

export const COMPONENT_CATALOG: Readonly<Record<string, Readonly<CatalogEntry>>> = Object.freeze({
  tfidf: Object.freeze({
    kind: 'featurizer',
    description: 'TF-IDF of word n-grams or of character n-grams inside words, from a vocabulary or hashed.',
    schema: TfidfParamsSchema,
    create: (params: unknown) => new TfidfFeaturizer(tfidfParams(params)),
    fromState: (state: ComponentState) => FittedTfidf.fromState(state),
  }),
  regex_features: Object.freeze({
    kind: 'featurizer',
    description: 'One binary feature per regex and per lookup table of the training data.',
    schema: RegexFeaturesParamsSchema,
    create: (params: unknown) => new RegexFeaturizer(regexFeaturesParams(params)),
    fromState: (state: ComponentState, ctx: LoadContext) => FittedRegexFeatures.fromState(state, ctx),
  }),
  linear_svm: Object.freeze({
    kind: 'classifier',
    description: 'One-vs-rest linear SVM (dual coordinate descent), temperature-calibrated on held-out folds.',
    schema: LinearSvmParamsSchema,
    create: (params: unknown) => new LinearSvm(linearSvmParams(params)),
    fromState: (state: ComponentState) => FittedLinearClassifier.fromState('linear_svm', state),
  }),
  logistic_regression: Object.freeze({
    kind: 'classifier',
    description: 'Multinomial logistic regression (L2), temperature-calibrated on held-out folds.',
    schema: LogisticRegressionParamsSchema,
    create: (params: unknown) => new LogisticRegression(logisticRegressionParams(params)),
    fromState: (state: ComponentState) => FittedLinearClassifier.fromState('logistic_regression', state),
  }),
  regex_entities: Object.freeze({
    kind: 'entity_extractor',
    description: "Entities from the training data's regexes named like annotated entities.",
    schema: RegexEntitiesParamsSchema,
    create: (params: unknown) => new RegexEntities(regexEntitiesParams(params)),
    fromState: (state: ComponentState, ctx: LoadContext) => FittedRegexEntities.fromState(state, ctx),
  }),
  lookup_entities: Object.freeze({
    kind: 'entity_extractor',
    description: "Entities from the training data's lookup tables named like annotated entities.",
    schema: LookupEntitiesParamsSchema,
    create: (params: unknown) => new LookupEntities(lookupEntitiesParams(params)),
    fromState: (state: ComponentState) => FittedLookupEntities.fromState(state),
  }),
  crf: Object.freeze({
    kind: 'entity_extractor',
    description:
      'Learned entity tagger: a linear-chain CRF over BILOU tags with word, shape, affix, context, lookup and regex ' +
      'features; learns roles and groups, and gives each entity the marginal probability of its span.',
    schema: CrfParamsSchema,
    create: (params: unknown) => new CrfEntityExtractor(crfParams(params)),
    fromState: (state: ComponentState, ctx: LoadContext) => crfFromState(state, ctx),
  }),
} satisfies Record<string, CatalogEntry>)

/** What one model load may spend (see {@link newLoadContext}). */
export interface LoadContextOptions {
  /**
   * The steps the regex safety check of all the load's steps together may spend, a positive integer: `MAX_CHECK_STEPS`
   * (2×10^7, about ten seconds) by default. Past it the load stops with ERR_REGEX_CHECK_LIMIT.
   */
  regexCheckSteps?: number
}

/** A context for one model load: pass the same one to the `fromState` of each of its steps. */
export function newLoadContext(options: LoadContextOptions = {}): LoadContext {
  const { regexCheckSteps } = options
  if (regexCheckSteps === undefined) return { regexTally: newRegexCheckTally() }
  if (!Number.isSafeInteger(regexCheckSteps) || regexCheckSteps < 1) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `regexCheckSteps must be a positive integer, got ${String(regexCheckSteps)}`,
    })
  }
  return { regexTally: newRegexCheckTally({ maxSteps: regexCheckSteps }) }
}

/** The catalog entry of `type`, or undefined. Own keys only: `constructor` or `__proto__` are not types. */
export function catalogEntry(type: string): Readonly<CatalogEntry> | undefined {
  return Object.hasOwn(COMPONENT_CATALOG, type) ? COMPONENT_CATALOG[type] : undefined
}

/** Every known type name, sorted. */
export function componentTypes(): string[] {
  return Object.keys(COMPONENT_CATALOG).sort()
}
