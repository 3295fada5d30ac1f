/**
 * Content fingerprints of training data and config, for caching and lineage. They ignore key order, whitespace,
 * comments, example order and how the data is split into files; they change when any example, label, entity,
 * synonym, regex or lookup changes.
 * @module
 */
import { createHash } from 'node:crypto'
import type { Config } from '../config/schema.js'
import type { EntityAnnotation, Example, TrainingData } from './types.js'

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) out[key] = sortKeys(v)
    }
    return out
  }
  return value
}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function entityKey(e: EntityAnnotation) {
  return { start: e.start, end: e.end, entity: e.entity, value: e.value, role: e.role, group: e.group, field: e.field }
}

/** The part of an example that training sees; `source` is where it came from, not what it is. */
export function canonicalExample(ex: Example): string {
  const entities = ex.entities
    .map(entityKey)
    .sort((a, b) => compareStrings(a.field ?? '', b.field ?? '') || a.start - b.start || a.end - b.end)
  return canonicalJson({
    intent: ex.intent,
    ...(ex.fields ? { fields: ex.fields } : { text: ex.text }),
    entities,
    metadata: ex.metadata,
  })
}

function digest(parts: string[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p).update('\n')
  return `sha256:${h.digest('hex')}`
}

/** Fingerprint of a training set: `sha256:<hex>`. */
export function fingerprintTrainingData(data: TrainingData): string {
  const sortedStrings = (xs: readonly string[]) => [...xs].sort(compareStrings)
  const parts = [
    'intentops-data/1',
    ...data.examples.map(canonicalExample).sort(compareStrings),
    ...data.intents
      .filter((i) => i.metadata !== undefined)
      .map((i) => canonicalJson({ intent: i.name, metadata: i.metadata }))
      .sort(compareStrings),
    ...data.synonyms
      .map((s) => canonicalJson({ synonym: s.value, examples: sortedStrings(s.examples) }))
      .sort(compareStrings),
    ...data.regexes
      .map((r) => canonicalJson({ regex: r.name, patterns: sortedStrings(r.patterns) }))
      .sort(compareStrings),
    ...data.lookups
      .map((l) => canonicalJson({ lookup: l.name, elements: sortedStrings(l.elements) }))
      .sort(compareStrings),
  ]
  return digest(parts)
}

/**
 * The training set in the order its fingerprint reads it: examples by their canonical text, everything else by name.
 * Training takes its data through this, so two sets with one fingerprint train the same model with the same seed
 * however their examples and files are ordered (the classifiers' folds and passes follow example order).
 */
export function canonicalOrder(data: TrainingData): TrainingData {
  const keyed = data.examples.map((ex) => ({ ex, key: canonicalExample(ex) }))
  keyed.sort((a, b) => compareStrings(a.key, b.key))
  const byName =
    <T>(name: (x: T) => string) =>
    (a: T, b: T) =>
      compareStrings(name(a), name(b))
  const sortedStrings = (xs: readonly string[]) => [...xs].sort(compareStrings)
  return {
    intents: [...data.intents].sort(byName((i) => i.name)),
    examples: keyed.map((k) => k.ex),
    // Inner lists keep their order (a regex's `sources` run beside its patterns); the steps that use them sort them.
    synonyms: [...data.synonyms].sort(
      byName((syn) => canonicalJson({ synonym: syn.value, examples: sortedStrings(syn.examples) })),
    ),
    regexes: [...data.regexes].sort(
      byName((r) => canonicalJson({ regex: r.name, patterns: sortedStrings(r.patterns) })),
    ),
    lookups: [...data.lookups].sort(
      byName((l) => canonicalJson({ lookup: l.name, elements: sortedStrings(l.elements) })),
    ),
  }
}

/** The config keys that change what training produces; gates, notify and paths do not. */
export const TRAINING_CONFIG_KEYS = ['language', 'pipeline', 'fields', 'fallback'] as const

/** Fingerprint of the training-relevant part of a config: `sha256:<hex>`. */
export function fingerprintConfig(config: Pick<Config, (typeof TRAINING_CONFIG_KEYS)[number]>): string {
  const picked = Object.fromEntries(TRAINING_CONFIG_KEYS.map((k) => [k, config[k]]))
  return digest(['intentops-config/1', canonicalJson(picked)])
}
