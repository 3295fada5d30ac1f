/**
 * Entity synonyms: surface forms mapped to one canonical value, learned from the training data's `synonyms` and
 * from annotations whose value differs from the text they cover (`[NYC](city:New York)`). Matching ignores case and
 * surrounding whitespace, as Rasa's synonym mapper does.
 * @module
 */
import type { TrainingData } from '../../data/types.js'
import { messageText } from '../../data/types.js'
import type { EntityPrediction } from '../types.js'

export const SYNONYM_PROCESSOR = 'synonyms'

/** Surface form (lowercased, trimmed) → canonical value. */
export type SynonymMap = Record<string, string>

/** Build the synonym map of a training set. Explicit synonyms win over annotations when they disagree. */
export function buildSynonymMap(data: TrainingData): SynonymMap {
  const map = new Map<string, string>()
  for (const ex of data.examples) {
    for (const e of ex.entities) {
      const source = e.field !== undefined ? ex.fields?.[e.field] : messageText(ex)
      if (source === undefined) continue
      const surface = source.slice(e.start, e.end)
      if (surface !== e.value && surface.trim() !== '') map.set(synonymKey(surface), e.value)
    }
  }
  for (const s of data.synonyms) {
    for (const ex of s.examples) if (ex.trim() !== '') map.set(synonymKey(ex), s.value)
  }
  const out: SynonymMap = {}
  for (const key of [...map.keys()].sort()) out[key] = map.get(key)!
  return out
}

export function synonymKey(text: string): string {
  return text.trim().toLowerCase()
}

/** Replace the value of every entity whose value is a known surface form; marks it with the processor name. */
export function applySynonyms(entities: EntityPrediction[], map: Readonly<SynonymMap>): void {
  for (const e of entities) {
    const key = synonymKey(e.value)
    const canonical = Object.hasOwn(map, key) ? map[key] : undefined
    if (canonical !== undefined && canonical !== e.value) {
      e.value = canonical
      e.processors = [...(e.processors ?? []), SYNONYM_PROCESSOR]
    }
  }
}
