/**
 * The NLP.js corpus JSON: `{"name", "locale", "data": [{"intent", "utterances", "answers"}], "entities"}`.
 * Enum entities (`options`) become synonyms plus a lookup table; regex entities become regexes.
 * @module
 */
import { errorDiagnostic } from '../diagnostics.js'
import type { TrainingData } from '../types.js'
import { isObject, parseJsonDoc } from './json-doc.js'
import { emptyParsedFile, type ParsedDataFile } from './parsed-file.js'

/** Parse an NLP.js corpus with positions. */
export function parseNlpjs(text: string, file: string): ParsedDataFile {
  const out = emptyParsedFile()
  const doc = parseJsonDoc(text, file, out.diagnostics)
  if (!doc) return out
  const schema = (detail: string, path: Array<string | number>) =>
    out.diagnostics.push(errorDiagnostic('ERR_DATA_SCHEMA', { detail }, doc.at(path)))
  const root = doc.value
  if (!isObject(root) || !Array.isArray(root.data)) {
    schema('an NLP.js corpus needs a "data" list of {"intent", "utterances"}', [])
    return out
  }
  for (const [i, item] of root.data.entries()) {
    if (!isObject(item) || typeof item.intent !== 'string' || !Array.isArray(item.utterances)) {
      schema('each corpus item must be {"intent": "...", "utterances": ["...", ...]}', ['data', i])
      continue
    }
    const intent = item.intent
    if (item.utterances.length === 0)
      schema(`intent "${intent}" has no utterances: add at least one, or remove the item`, ['data', i])
    if (!out.data.intents.some((x) => x.name === intent))
      out.data.intents.push({ name: intent, source: doc.at(['data', i]) })
    for (const [j, u] of item.utterances.entries()) {
      const at = doc.at(['data', i, 'utterances', j])
      if (typeof u !== 'string') {
        schema('utterances must be strings', ['data', i, 'utterances', j])
        continue
      }
      if (u.trim() === '') {
        out.diagnostics.push(errorDiagnostic('ERR_DATA_EMPTY_EXAMPLE', { intent }, at))
        continue
      }
      out.data.examples.push({ text: u, intent, entities: [], source: at })
    }
  }
  if (isObject(root.entities)) {
    for (const [name, def] of Object.entries(root.entities)) {
      const at = doc.at(['entities', name])
      if (typeof def === 'string') {
        out.data.regexes.push({ name, patterns: [stripSlashes(def)], source: at })
        continue
      }
      if (!isObject(def)) {
        schema(`entity "${name}" must be an object with "options" or "regex"`, ['entities', name])
        continue
      }
      if (isObject(def.options)) {
        const elements: string[] = []
        for (const [value, variants] of Object.entries(def.options)) {
          const vs = Array.isArray(variants) ? variants.filter((v): v is string => typeof v === 'string') : []
          elements.push(value, ...vs.filter((v) => v !== value))
          const others = vs.filter((v) => v !== value)
          if (others.length) out.data.synonyms.push({ value, examples: others, source: at })
        }
        out.data.lookups.push({ name, elements: [...new Set(elements)], source: at })
      }
      if (typeof def.regex === 'string' || Array.isArray(def.regex)) {
        const patterns = (Array.isArray(def.regex) ? def.regex : [def.regex]).filter(
          (p): p is string => typeof p === 'string',
        )
        out.data.regexes.push({ name, patterns: patterns.map(stripSlashes), source: at })
      }
    }
  }
  return out
}

/** NLP.js writes regexes as `/pattern/flags`. */
function stripSlashes(p: string): string {
  const m = /^\/(.*)\/[a-z]*$/s.exec(p)
  return m ? m[1]! : p
}

/** Render an NLP.js corpus: intents with utterances, lookups as enum entities, regexes as regex entities. */
export function formatNlpjs(data: TrainingData, options: { locale?: string; name?: string } = {}): string {
  const byIntent = new Map<string, string[]>()
  for (const i of data.intents) byIntent.set(i.name, [])
  for (const ex of data.examples) {
    if (!byIntent.has(ex.intent)) byIntent.set(ex.intent, [])
    byIntent.get(ex.intent)!.push(ex.text)
  }
  const entities: Record<string, unknown> = {}
  for (const l of data.lookups) {
    const options: Record<string, string[]> = {}
    for (const el of l.elements) {
      const syn = data.synonyms.find((s) => s.examples.includes(el))
      const key = syn ? syn.value : el
      options[key] ??= [key]
      if (!options[key].includes(el)) options[key].push(el)
    }
    entities[l.name] = { options }
  }
  for (const r of data.regexes) {
    const prev = entities[r.name]
    const regex = r.patterns.length === 1 ? `/${r.patterns[0]}/` : r.patterns.map((p) => `/${p}/`)
    entities[r.name] = isObject(prev) ? { ...prev, regex } : { regex }
  }
  const corpus = {
    name: options.name ?? 'intentops corpus',
    locale: options.locale ?? 'en-US',
    data: [...byIntent].map(([intent, utterances]) => ({ intent, utterances, answers: [] })),
    ...(Object.keys(entities).length ? { entities } : {}),
  }
  return `${JSON.stringify(corpus, null, 2)}\n`
}
