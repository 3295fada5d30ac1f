/**
 * The training-data model shared by every module: intents, examples (single- or multi-field), entities,
 * synonyms, regexes and lookup tables. Every element remembers where it came from. Also the predicted intent and
 * entity shapes, which the engine returns and the prediction log keeps.
 * @module
 */

/** Where an element was read from. `line`/`column` are 1-based; absent for formats without lines. */
export interface SourceRef {
  file: string
  line?: number
  column?: number
}

/**
 * One annotated entity span. `start`/`end` are UTF-16 offsets into the example's text (or into `fields[field]`
 * for a multi-field message), end exclusive.
 */
export interface EntityAnnotation {
  start: number
  end: number
  /** The entity type, e.g. `city`. */
  entity: string
  /** The canonical value; equals the covered text unless a synonym value was given. */
  value: string
  role?: string
  group?: string
  /** For multi-field messages: which field the offsets refer to. Absent means `text`. */
  field?: string
}

/** An intent and its confidence, as the engine predicts it (and the prediction log keeps it). */
export interface IntentScore {
  name: string
  confidence: number
}

/** An entity the engine found in a message, which the prediction log keeps too: a span as annotated, and its finder. */
export interface EntityPrediction extends EntityAnnotation {
  /** The pipeline step type that found it, e.g. `regex_entities`, `lookup_entities`, `crf`. */
  extractor: string
  confidence_entity: number
  /** Present when a synonym replaced the covered text. */
  processors?: string[]
}

/** A message is either plain text or a set of named fields (e.g. subject and body) with weights in the config. */
export interface MessageInput {
  text?: string
  fields?: Record<string, string>
}

export interface Example {
  /** The plain text (with inline annotations removed). For multi-field messages, the fields joined by newlines. */
  text: string
  /** Present for multi-field messages. */
  fields?: Record<string, string>
  intent: string
  entities: EntityAnnotation[]
  metadata?: Record<string, unknown>
  source?: SourceRef
}

export interface IntentInfo {
  name: string
  metadata?: Record<string, unknown>
  source?: SourceRef
}

/** Maps every example string to one canonical value. */
export interface Synonym {
  value: string
  examples: string[]
  source?: SourceRef
  /** Where each of `examples` was written, index for index, when known. */
  sources?: SourceRef[]
}

export interface RegexFeature {
  name: string
  patterns: string[]
  source?: SourceRef
  /** Where each of `patterns` was written, index for index, when known. */
  sources?: SourceRef[]
}

export interface LookupTable {
  name: string
  elements: string[]
  /**
   * When the elements were read from a file (`examples: path/to/file.txt`): that file's path relative to the
   * project root, with `/` separators.
   */
  file?: string
  source?: SourceRef
  /** Where each of `elements` was written, index for index, when known. */
  sources?: SourceRef[]
}

export interface TrainingData {
  intents: IntentInfo[]
  examples: Example[]
  synonyms: Synonym[]
  regexes: RegexFeature[]
  lookups: LookupTable[]
}

/** A training set with nothing in it. */
export function emptyTrainingData(): TrainingData {
  return { intents: [], examples: [], synonyms: [], regexes: [], lookups: [] }
}

/** The text the engine sees for an example or message: `text`, or the fields joined in key order. */
export function messageText(m: MessageInput): string {
  if (m.text !== undefined) return m.text
  if (!m.fields) return ''
  return Object.values(m.fields).join('\n')
}

/**
 * One must-pass sentence from `tests/*.yml`: a message and the intent (and, when the text carries inline
 * annotations, the entities) the model must return.
 */
export interface MustPassCase {
  /** Plain text with annotations removed; for multi-field cases, the fields joined like `messageText`. */
  text: string
  fields?: Record<string, string>
  intent: string
  /** Checked only when the case's text had annotations: each must be predicted with the same span and value. */
  entities?: EntityAnnotation[]
  /** The intent's confidence must be at least this. */
  minConfidence?: number
  /** A failure is reported but does not fail the command or the gate. */
  allowFailure: boolean
  source?: SourceRef
}
