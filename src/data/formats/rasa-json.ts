/**
 * Rasa's JSON training data: `{"rasa_nlu_data": {"common_examples", "entity_synonyms", "regex_features",
 * "lookup_tables"}}`, entities with character offsets.
 * @module
 */
import { errorDiagnostic } from '../diagnostics.js'
import type { SourceRef, TrainingData } from '../types.js'
import { entitiesToJson, exampleFromRecord } from './common.js'
import { isObject, parseJsonDoc } from './json-doc.js'
import { addIntents } from './jsonl.js'
import { emptyParsedFile, type ParsedDataFile } from './parsed-file.js'

const SECTIONS = new Set([
  'common_examples',
  'intent_examples',
  'entity_examples',
  'entity_synonyms',
  'regex_features',
  'lookup_tables',
])

/** Parse Rasa JSON training data with positions. */
export function parseRasaJson(text: string, file: string): ParsedDataFile {
  const out = emptyParsedFile()
  const doc = parseJsonDoc(text, file, out.diagnostics)
  if (!doc) return out
  const schema = (detail: string, path: Array<string | number>) =>
    out.diagnostics.push(errorDiagnostic('ERR_DATA_SCHEMA', { detail }, doc.at(path)))
  const root = doc.value
  if (!isObject(root) || !isObject(root.rasa_nlu_data)) {
    schema('Rasa JSON needs a top-level "rasa_nlu_data" object', [])
    return out
  }
  const nlu = root.rasa_nlu_data
  for (const key of Object.keys(nlu))
    if (!SECTIONS.has(key)) schema(`unknown key "${key}" in rasa_nlu_data`, ['rasa_nlu_data', key])
  const list = (key: string): unknown[] => {
    const v = nlu[key]
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) {
      schema(`"${key}" must be a list`, ['rasa_nlu_data', key])
      return []
    }
    return v
  }
  for (const key of ['common_examples', 'intent_examples', 'entity_examples']) {
    for (const [i, item] of list(key).entries()) {
      const path = ['rasa_nlu_data', key, i]
      if (!isObject(item)) {
        schema('each example must be an object {"text", "intent"}', path)
        continue
      }
      const unknown = Object.keys(item).filter((k) => !['text', 'intent', 'entities', 'metadata'].includes(k))
      if (unknown.length) {
        schema(`unknown key "${unknown[0]}" in an example; allowed: text, intent, entities, metadata`, [
          ...path,
          unknown[0]!,
        ])
        continue
      }
      const ex = exampleFromRecord(item, doc.at(path) as SourceRef, out.diagnostics)
      if (ex) out.data.examples.push(ex)
    }
  }
  for (const [i, s] of list('entity_synonyms').entries()) {
    const path = ['rasa_nlu_data', 'entity_synonyms', i]
    if (
      !isObject(s) ||
      typeof s.value !== 'string' ||
      !Array.isArray(s.synonyms) ||
      !s.synonyms.every((x) => typeof x === 'string')
    ) {
      schema('each entity synonym must be {"value": "...", "synonyms": ["...", ...]}', path)
      continue
    }
    out.data.synonyms.push({
      value: s.value,
      examples: s.synonyms as string[],
      source: doc.at(path),
      sources: (s.synonyms as string[]).map((_, j) => doc.at([...path, 'synonyms', j])),
    })
  }
  const regexes = new Map<string, TrainingData['regexes'][number]>()
  for (const [i, r] of list('regex_features').entries()) {
    const path = ['rasa_nlu_data', 'regex_features', i]
    if (!isObject(r) || typeof r.name !== 'string' || typeof r.pattern !== 'string') {
      schema('each regex feature must be {"name": "...", "pattern": "..."}', path)
      continue
    }
    let feat = regexes.get(r.name)
    if (!feat) {
      feat = { name: r.name, patterns: [], source: doc.at(path), sources: [] }
      regexes.set(r.name, feat)
      out.data.regexes.push(feat)
    }
    feat.patterns.push(r.pattern)
    feat.sources!.push(doc.at([...path, 'pattern']))
  }
  for (const [i, l] of list('lookup_tables').entries()) {
    const path = ['rasa_nlu_data', 'lookup_tables', i]
    if (!isObject(l) || typeof l.name !== 'string') {
      schema('each lookup table must be {"name": "...", "elements": [...]}', path)
      continue
    }
    if (typeof l.elements === 'string') {
      const lookup = { name: l.name, elements: [] as string[], source: doc.at(path) }
      out.data.lookups.push(lookup)
      out.lookupFiles.push({ lookup, path: l.elements, location: doc.at([...path, 'elements']) })
    } else if (Array.isArray(l.elements) && l.elements.every((x) => typeof x === 'string')) {
      out.data.lookups.push({
        name: l.name,
        elements: l.elements as string[],
        source: doc.at(path),
        sources: (l.elements as string[]).map((_, j) => doc.at([...path, 'elements', j])),
      })
    } else schema('"elements" must be a list of strings or a file path', [...path, 'elements'])
  }
  addIntents(out.data)
  return out
}

/** Render Rasa JSON; example fields go into example metadata, since the format has none. */
export function formatRasaJson(data: TrainingData): string {
  const doc = {
    rasa_nlu_data: {
      common_examples: data.examples.map((ex) => ({
        text: ex.text,
        intent: ex.intent,
        entities: entitiesToJson(ex.entities.filter((e) => e.field === undefined)),
        ...(ex.metadata || ex.fields
          ? { metadata: { ...(ex.metadata ?? {}), ...(ex.fields ? { fields: ex.fields } : {}) } }
          : {}),
      })),
      regex_features: data.regexes.flatMap((r) => r.patterns.map((pattern) => ({ name: r.name, pattern }))),
      lookup_tables: data.lookups.map((l) => ({ name: l.name, elements: l.elements })),
      entity_synonyms: data.synonyms.map((s) => ({ value: s.value, synonyms: s.examples })),
    },
  }
  return `${JSON.stringify(doc, null, 2)}\n`
}
