/**
 * Counts per intent, entity and field: what `intentops data stats` prints.
 * @module
 */
import type { TrainingData } from './types.js'

export interface DataStats {
  examples: number
  intents: Array<{ intent: string; examples: number; share: number; entities: number }>
  entities: Array<{ entity: string; annotations: number; examples: number; roles: string[]; groups: string[] }>
  fields: Array<{ field: string; examples: number }>
  synonyms: number
  regexes: number
  lookups: Array<{ name: string; elements: number }>
  /** Mean words per example. */
  meanWords: number
}

/** Counts of a training set; intents and entities sorted by count, largest first. */
export function dataStats(data: TrainingData): DataStats {
  const intents = new Map<string, { examples: number; entities: number }>()
  for (const i of data.intents) intents.set(i.name, { examples: 0, entities: 0 })
  const entities = new Map<string, { annotations: number; examples: number; roles: Set<string>; groups: Set<string> }>()
  const fields = new Map<string, number>()
  let words = 0
  for (const ex of data.examples) {
    let it = intents.get(ex.intent)
    if (!it) {
      it = { examples: 0, entities: 0 }
      intents.set(ex.intent, it)
    }
    it.examples++
    it.entities += ex.entities.length
    words += ex.text.split(/\s+/).filter(Boolean).length
    const seen = new Set<string>()
    for (const e of ex.entities) {
      let s = entities.get(e.entity)
      if (!s) {
        s = { annotations: 0, examples: 0, roles: new Set(), groups: new Set() }
        entities.set(e.entity, s)
      }
      s.annotations++
      if (!seen.has(e.entity)) s.examples++
      seen.add(e.entity)
      if (e.role !== undefined) s.roles.add(e.role)
      if (e.group !== undefined) s.groups.add(e.group)
    }
    for (const f of Object.keys(ex.fields ?? {})) fields.set(f, (fields.get(f) ?? 0) + 1)
  }
  const n = data.examples.length
  return {
    examples: n,
    intents: [...intents]
      .map(([intent, s]) => ({ intent, examples: s.examples, share: n ? s.examples / n : 0, entities: s.entities }))
      .sort((a, b) => b.examples - a.examples || (a.intent < b.intent ? -1 : 1)),
    entities: [...entities]
      .map(([entity, s]) => ({
        entity,
        annotations: s.annotations,
        examples: s.examples,
        roles: [...s.roles].sort(),
        groups: [...s.groups].sort(),
      }))
      .sort((a, b) => b.annotations - a.annotations || (a.entity < b.entity ? -1 : 1)),
    fields: [...fields].map(([field, examples]) => ({ field, examples })),
    synonyms: data.synonyms.length,
    regexes: data.regexes.length,
    lookups: data.lookups.map((l) => ({ name: l.name, elements: l.elements.length })),
    meanWords: n ? words / n : 0,
  }
}
