/**
 * The inline entity syntax of Rasa's nlu.yml: `[text](entity)`, `[text](entity:value)`,
 * `[text]{"entity": "e", "value": "v", "role": "r", "group": "g"}` and `[text][{...}, {...}]` (several labels on
 * one span). Parsing never throws: problems come back with their 0-based offset in the annotated string, so the
 * caller can turn them into file:line:column.
 * @module
 */
import { createError } from '../errors.js'
import type { EntityAnnotation, SourceRef } from './types.js'

export interface InlineIssue {
  message: string
  /** 0-based UTF-16 offset into the annotated string. */
  offset: number
  /** A warning keeps the example (the text is read as Rasa reads it); absent means an error. */
  severity?: 'warning'
}

export interface ParsedAnnotatedText {
  /** The text with annotation markup removed. */
  text: string
  /** Spans are offsets into `text`. */
  entities: EntityAnnotation[]
  issues: InlineIssue[]
}

const ALLOWED_KEYS = new Set(['entity', 'value', 'role', 'group'])

/** Parse annotated text; plain brackets that are not followed by `(`, `{` or `[{` stay literal text, as in Rasa. */
export function parseAnnotatedText(source: string): ParsedAnnotatedText {
  // Most examples carry no annotation at all.
  if (source.indexOf('[') === -1) return { text: source, entities: [], issues: [] }
  let text = ''
  const entities: EntityAnnotation[] = []
  const issues: InlineIssue[] = []
  let i = 0
  while (i < source.length) {
    if (source[i] !== '[') {
      // copy the run up to the next '[' in one slice
      const next = source.indexOf('[', i)
      const end = next === -1 ? source.length : next
      text += source.slice(i, end)
      i = end
      continue
    }
    const close = findSpanEnd(source, i + 1)
    if (close === -1) {
      // Rasa reads a '[' that is never closed as plain text, so a Rasa project holding one must load.
      issues.push({
        message: "'[' is never closed, so it is read as plain text (as Rasa does)",
        offset: i,
        severity: 'warning',
      })
      text += source.slice(i)
      break
    }
    if (close.nested !== undefined) {
      issues.push({
        message: "unbalanced brackets: '[' opens again before the first one is closed; entities cannot nest",
        offset: close.nested,
      })
    }
    const spanText = source.slice(i + 1, close.at)
    const after = source[close.at + 1]
    const isList = after === '[' && source[close.at + 2] === '{'
    if (after !== '(' && after !== '{' && !isList) {
      // Not an annotation: keep the brackets as literal text.
      text += source.slice(i, close.at + 1)
      i = close.at + 1
      continue
    }
    const labelStart = close.at + 1
    const labelEnd = findLabelEnd(source, labelStart)
    if (labelEnd === -1) {
      const closer = after === '(' ? ')' : after === '{' ? '}' : ']'
      issues.push({
        message: `unbalanced brackets: '${after}' after [${spanText}] is never closed with '${closer}'`,
        offset: labelStart,
      })
      text += spanText
      i = source.length
      break
    }
    const label = source.slice(labelStart, labelEnd + 1)
    const start = text.length
    text += spanText
    const end = text.length
    if (spanText.trim() === '') {
      issues.push({ message: 'empty entity span: the text inside [ ] is empty', offset: i })
    } else {
      for (const parsed of parseLabel(label, labelStart, issues)) {
        entities.push({
          start,
          end,
          entity: parsed.entity,
          value: parsed.value ?? spanText,
          ...(parsed.role !== undefined ? { role: parsed.role } : {}),
          ...(parsed.group !== undefined ? { group: parsed.group } : {}),
        })
      }
    }
    i = labelEnd + 1
  }
  return { text, entities, issues }
}

/** Index of the `]` closing a span that starts at `from`, or -1; notes a nested `[` on the way. */
function findSpanEnd(s: string, from: number): { at: number; nested?: number } | -1 {
  let nested: number | undefined
  for (let j = from; j < s.length; j++) {
    if (s[j] === ']') return nested === undefined ? { at: j } : { at: j, nested }
    if (s[j] === '[' && nested === undefined) nested = j
  }
  return -1
}

/** Index of the last character of the label that starts at `from` (`(...)`, `{...}` or `[{...}]`), or -1. */
function findLabelEnd(s: string, from: number): number {
  const open = s[from]
  if (open === '(') {
    const j = s.indexOf(')', from + 1)
    return j
  }
  // JSON: balance braces and brackets outside of strings.
  let depth = 0
  let inString = false
  for (let j = from; j < s.length; j++) {
    const c = s[j]
    if (inString) {
      if (c === '\\') j++
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') {
      depth--
      if (depth === 0) return j
    }
  }
  return -1
}

interface Label {
  entity: string
  value?: string
  role?: string
  group?: string
}

function parseLabel(label: string, offset: number, issues: InlineIssue[]): Label[] {
  if (label.startsWith('(')) {
    const inner = label.slice(1, -1)
    const colon = inner.indexOf(':')
    const entity = (colon === -1 ? inner : inner.slice(0, colon)).trim()
    const value = colon === -1 ? undefined : inner.slice(colon + 1).trim()
    if (!entity) {
      issues.push({ message: 'missing entity name: write [text](entity)', offset })
      return []
    }
    if (value !== undefined && !value) {
      issues.push({ message: `empty value after '${entity}:'; write [text](entity:value) or drop the ':'`, offset })
      return []
    }
    return [value === undefined ? { entity } : { entity, value }]
  }
  let json: unknown
  try {
    json = JSON.parse(label)
  } catch (err) {
    issues.push({
      message: `bad JSON in entity annotation ${label}: ${(err as Error).message}; write [text]{"entity": "name"}`,
      offset,
    })
    return []
  }
  const items = Array.isArray(json) ? json : [json]
  const out: Label[] = []
  for (const item of items) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      issues.push({ message: `entity annotation ${label} must be a JSON object or a list of objects`, offset })
      continue
    }
    const obj = item as Record<string, unknown>
    const unknown = Object.keys(obj).filter((k) => !ALLOWED_KEYS.has(k))
    if (unknown.length) {
      issues.push({
        message: `unknown key ${unknown.map((k) => `"${k}"`).join(', ')} in entity annotation; allowed: entity, value, role, group`,
        offset,
      })
    }
    if (typeof obj.entity !== 'string' || !obj.entity.trim()) {
      issues.push({ message: 'entity annotation needs a non-empty string "entity"', offset })
      continue
    }
    const bad = ['value', 'role', 'group'].filter((k) => obj[k] !== undefined && typeof obj[k] !== 'string')
    if (bad.length) {
      issues.push({ message: `"${bad.join('", "')}" must be a string in entity annotation ${label}`, offset })
      continue
    }
    const l: Label = { entity: obj.entity.trim() }
    if (typeof obj.value === 'string') l.value = obj.value
    if (typeof obj.role === 'string') l.role = obj.role
    if (typeof obj.group === 'string') l.group = obj.group
    out.push(l)
  }
  return out
}

/**
 * Write text with entities back in the inline syntax: the shortest form that keeps every field. Throws
 * ERR_DATA_TEXT_LOOKS_ANNOTATED when the result would not read back as the same text and entities: the syntax has
 * no escape, so plain text such as `press [ok](btn)` would turn into an entity. `source` names the example.
 */
export function formatAnnotatedText(text: string, entities: readonly EntityAnnotation[], source?: SourceRef): string {
  const { out, written } = renderAnnotatedText(text, entities)
  const problem = roundTripProblem(out, text, written)
  if (problem) {
    const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text
    throw createError(
      'ERR_DATA_TEXT_LOOKS_ANNOTATED',
      { text: shown.replace(/\n/g, '\\n'), detail: problem },
      source ? { location: source } : {},
    )
  }
  return out
}

/** The inline form without the round-trip check, for showing examples to people (diffs). */
export function showAnnotatedText(text: string, entities: readonly EntityAnnotation[]): string {
  return renderAnnotatedText(text, entities).out
}

function renderAnnotatedText(
  text: string,
  entities: readonly EntityAnnotation[],
): { out: string; written: EntityAnnotation[] } {
  const sorted = [...entities].sort((a, b) => a.start - b.start || a.end - b.end)
  const written: EntityAnnotation[] = []
  let out = ''
  let pos = 0
  let k = 0
  while (k < sorted.length) {
    const first = sorted[k]!
    // several labels on one span share one [text]
    const same: EntityAnnotation[] = []
    while (k < sorted.length && sorted[k]!.start === first.start && sorted[k]!.end === first.end)
      same.push(sorted[k++]!)
    if (first.start < pos) continue // overlapping spans cannot be written inline; keep the first
    const span = text.slice(first.start, first.end)
    out += text.slice(pos, first.start)
    out += `[${span}]${formatLabel(span, same)}`
    written.push(...same)
    pos = first.end
  }
  return { out: out + text.slice(pos), written }
}

/** Whether two annotations say the same of the same span (the field aside: inline markup belongs to one text). */
export function sameAnnotation(a: EntityAnnotation, b: EntityAnnotation): boolean {
  return (
    a.start === b.start &&
    a.end === b.end &&
    a.entity === b.entity &&
    a.value === b.value &&
    a.role === b.role &&
    a.group === b.group
  )
}

/** Why `annotated` does not read back as `text` with `entities`, or undefined when it does. */
function roundTripProblem(annotated: string, text: string, entities: readonly EntityAnnotation[]): string | undefined {
  const back = parseAnnotatedText(annotated)
  const error = back.issues.find((i) => i.severity !== 'warning')
  if (error) return `it would be read as broken entity markup (${error.message})`
  const extra = back.entities.find((e) => !entities.some((o) => sameAnnotation(o, e)))
  if (extra) {
    const span = `"${back.text.slice(extra.start, extra.end)}"`
    return entities.some((o) => o.start === extra.start && o.end === extra.end)
      ? `the annotation of ${span} would read back differently (entity ${extra.entity})`
      : `the brackets in it would be read as an entity annotation, marking ${span} as entity ${extra.entity}`
  }
  if (back.text !== text || back.entities.length !== entities.length) {
    return 'its brackets would be read as entity markup and change the text'
  }
  return undefined
}

function formatLabel(span: string, labels: EntityAnnotation[]): string {
  const one = labels[0]!
  if (labels.length === 1 && one.role === undefined && one.group === undefined && !/[():]/.test(one.entity)) {
    if (one.value === span) return `(${one.entity})`
  }
  const objs = labels.map((e) => ({
    entity: e.entity,
    ...(e.value !== span ? { value: e.value } : {}),
    ...(e.role !== undefined ? { role: e.role } : {}),
    ...(e.group !== undefined ? { group: e.group } : {}),
  }))
  return labels.length === 1 ? JSON.stringify(objs[0]) : JSON.stringify(objs)
}
