/**
 * Helpers shared by the offset-based formats (Rasa JSON, JSONL, CSV): reading entity lists with character offsets
 * and splitting extra keys into fields or metadata.
 * @module
 */
import type { SourceLocation } from '../../errors.js'
import { type Diagnostic, errorDiagnostic } from '../diagnostics.js'
import type { EntityAnnotation, Example, SourceRef } from '../types.js'

const ENTITY_KEYS = new Set([
  'start',
  'end',
  'entity',
  'value',
  'role',
  'group',
  'field',
  'extractor',
  'confidence_entity',
  'processors',
])

/**
 * Read a list of `{start, end, entity, value?, role?, group?, field?}` objects. Offsets are UTF-16 code units, end
 * exclusive; `value` defaults to the covered text. Problems are pushed to `diags`; bad entities are dropped.
 */
export function readOffsetEntities(
  raw: unknown,
  texts: { text: string; fields?: Record<string, string> },
  at: SourceLocation,
  diags: Diagnostic[],
): EntityAnnotation[] | undefined {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw)) {
    diags.push(errorDiagnostic('ERR_DATA_BAD_ANNOTATION', { detail: '`entities` must be a list' }, at))
    return undefined
  }
  const out: EntityAnnotation[] = []
  let ok = true
  for (const [i, e] of raw.entries()) {
    const bad = (detail: string) => {
      diags.push(errorDiagnostic('ERR_DATA_BAD_ANNOTATION', { detail: `entities[${i}]: ${detail}` }, at))
      ok = false
    }
    if (!e || typeof e !== 'object' || Array.isArray(e)) {
      bad('must be an object {start, end, entity}')
      continue
    }
    const o = e as Record<string, unknown>
    const unknown = Object.keys(o).filter((k) => !ENTITY_KEYS.has(k))
    if (unknown.length) {
      bad(`unknown key ${unknown.map((k) => `"${k}"`).join(', ')}`)
      continue
    }
    if (typeof o.entity !== 'string' || o.entity.trim() === '') {
      bad('needs a non-empty string "entity"')
      continue
    }
    if (o.field !== undefined && (typeof o.field !== 'string' || !texts.fields || !(o.field in texts.fields))) {
      bad(`"field" ${JSON.stringify(o.field)} is not one of the example's fields`)
      continue
    }
    const target = o.field !== undefined ? texts.fields![o.field as string]! : texts.text
    if (!Number.isInteger(o.start) || !Number.isInteger(o.end)) {
      bad('"start" and "end" must be integers')
      continue
    }
    const start = o.start as number
    const end = o.end as number
    if (start < 0 || end > target.length || start >= end) {
      bad(`span ${start}..${end} is empty or outside the text (length ${target.length})`)
      continue
    }
    for (const k of ['value', 'role', 'group'] as const) {
      if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') {
        bad(`"${k}" must be a string`)
      }
    }
    const ann: EntityAnnotation = {
      start,
      end,
      entity: o.entity.trim(),
      value: typeof o.value === 'string' ? o.value : target.slice(start, end),
    }
    if (typeof o.role === 'string') ann.role = o.role
    if (typeof o.group === 'string') ann.group = o.group
    if (o.field !== undefined) ann.field = o.field as string
    out.push(ann)
  }
  return ok ? out : undefined
}

/** Entities as offset objects for export, without undefined keys. */
export function entitiesToJson(entities: readonly EntityAnnotation[]): Array<Record<string, unknown>> {
  return entities.map((e) => ({
    start: e.start,
    end: e.end,
    entity: e.entity,
    value: e.value,
    ...(e.role !== undefined ? { role: e.role } : {}),
    ...(e.group !== undefined ? { group: e.group } : {}),
    ...(e.field !== undefined ? { field: e.field } : {}),
  }))
}

/**
 * Build an example from a flat record (a JSONL object or a CSV row). `text` or `fields` carry the message; without
 * either, every other string key is a field (`{subject, body, intent}`); with `text`, extra keys go to metadata.
 */
export function exampleFromRecord(
  rec: Record<string, unknown>,
  at: SourceRef,
  diags: Diagnostic[],
  reserved: ReadonlySet<string> = new Set(['text', 'intent', 'entities', 'metadata', 'fields']),
): Example | undefined {
  const loc: SourceLocation = at
  const schema = (detail: string) => diags.push(errorDiagnostic('ERR_DATA_SCHEMA', { detail }, loc))
  if (typeof rec.intent !== 'string' || rec.intent.trim() === '') {
    schema('each record needs a non-empty string `intent`')
    return undefined
  }
  const intent = rec.intent.trim()
  const extra = Object.keys(rec).filter((k) => !reserved.has(k) && rec[k] !== undefined && rec[k] !== '')
  let metadata: Record<string, unknown> | undefined
  if (rec.metadata !== undefined && rec.metadata !== null && rec.metadata !== '') {
    if (typeof rec.metadata !== 'object' || Array.isArray(rec.metadata)) {
      schema('`metadata` must be an object')
      return undefined
    }
    metadata = { ...(rec.metadata as Record<string, unknown>) }
  }
  let fields: Record<string, string> | undefined
  if (rec.fields !== undefined && rec.fields !== null && rec.fields !== '') {
    if (typeof rec.fields !== 'object' || Array.isArray(rec.fields)) {
      schema('`fields` must be an object of field name to text')
      return undefined
    }
    fields = {}
    for (const [k, v] of Object.entries(rec.fields as Record<string, unknown>)) {
      if (typeof v !== 'string') {
        schema(`field \`${k}\` must be text`)
        return undefined
      }
      fields[k] = v
    }
  }
  const hasText = typeof rec.text === 'string' && rec.text !== ''
  if (rec.text !== undefined && rec.text !== '' && typeof rec.text !== 'string') {
    schema('`text` must be a string')
    return undefined
  }
  if (hasText && fields) {
    schema('a record has `text` or `fields`, not both')
    return undefined
  }
  if (!hasText && !fields && extra.length) {
    fields = {}
    for (const k of extra) fields[k] = String(rec[k])
  } else if (extra.length) {
    metadata = { ...(metadata ?? {}) }
    for (const k of extra) metadata[k] = rec[k]
  }
  const text = hasText ? (rec.text as string) : fields ? Object.values(fields).join('\n') : ''
  if (text.trim() === '') {
    diags.push(errorDiagnostic('ERR_DATA_EMPTY_EXAMPLE', { intent }, loc))
    return undefined
  }
  const entities = readOffsetEntities(rec.entities, { text, ...(fields ? { fields } : {}) }, loc, diags)
  if (!entities) return undefined
  return {
    text,
    intent,
    entities,
    source: at,
    ...(fields ? { fields } : {}),
    ...(metadata ? { metadata } : {}),
  }
}

/** The flat record an example exports to (JSONL line), the inverse of `exampleFromRecord`. */
export function exampleToRecord(ex: Example): Record<string, unknown> {
  return {
    ...(ex.fields ? { fields: ex.fields } : { text: ex.text }),
    intent: ex.intent,
    ...(ex.entities.length ? { entities: entitiesToJson(ex.entities) } : {}),
    ...(ex.metadata ? { metadata: ex.metadata } : {}),
  }
}
