/**
 * What changed between two versions of the training data: examples added and removed per intent, examples moved
 * between intents, annotation changes, and entity, synonym, regex and lookup changes. `diffTrainingData` returns
 * structured JSON; `renderDiffMarkdown` turns it into a pull-request comment.
 * @module
 */
import { canonicalJson, fingerprintTrainingData } from './fingerprint.js'
import { showAnnotatedText } from './inline-entities.js'
import type { Example, SourceRef, TrainingData } from './types.js'

export interface DiffExample {
  /** The example as written in YAML: annotated text, or `field: text` pairs joined with ` | `. */
  text: string
  intent: string
  source?: SourceRef
}

export interface IntentDiff {
  intent: string
  before: number
  after: number
  added: DiffExample[]
  removed: DiffExample[]
  /** Same text and intent, different entity annotations or metadata. */
  changed: Array<{ before: DiffExample; after: DiffExample }>
}

export interface MovedExample {
  text: string
  from: string
  to: string
  source?: SourceRef
}

export interface EntityCountChange {
  entity: string
  before: number
  after: number
}

export interface ListChange {
  name: string
  status: 'added' | 'removed' | 'changed'
  added: string[]
  removed: string[]
}

export interface DataDiff {
  /** Labels of the two versions, e.g. `main` and `working tree`. */
  from: string
  to: string
  summary: {
    examplesBefore: number
    examplesAfter: number
    added: number
    removed: number
    moved: number
    changed: number
    intentsAdded: string[]
    intentsRemoved: string[]
  }
  /** Intents with any change, sorted by name. Moved examples are not counted as added or removed here. */
  intents: IntentDiff[]
  moved: MovedExample[]
  entities: EntityCountChange[]
  synonyms: ListChange[]
  regexes: ListChange[]
  lookups: ListChange[]
  fingerprints: { before: string; after: string }
  /** True when nothing that training sees changed. */
  unchanged: boolean
}

/** The example as a person reads it in a data file. */
export function displayExample(ex: Example): string {
  if (ex.fields) {
    return Object.entries(ex.fields)
      .map(
        ([k, v]) =>
          `${k}: ${showAnnotatedText(
            v,
            ex.entities.filter((e) => e.field === k),
          )}`,
      )
      .join(' | ')
  }
  return showAnnotatedText(ex.text, ex.entities)
}

function ref(ex: Example): DiffExample {
  return { text: displayExample(ex), intent: ex.intent, ...(ex.source ? { source: ex.source } : {}) }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Compare two training sets. */
export function diffTrainingData(
  before: TrainingData,
  after: TrainingData,
  labels: { from?: string; to?: string } = {},
): DataDiff {
  const textKey = (ex: Example) => canonicalJson(ex.fields ?? ex.text)
  const detailKey = (ex: Example) =>
    canonicalJson({
      entities: [...ex.entities].sort((a, b) => a.start - b.start || a.end - b.end || cmp(a.entity, b.entity)),
      metadata: ex.metadata,
    })
  const group = (xs: Example[]) => {
    const m = new Map<string, Example[]>()
    for (const ex of xs) {
      const k = textKey(ex)
      const list = m.get(k)
      if (list) list.push(ex)
      else m.set(k, [ex])
    }
    return m
  }
  const b = group(before.examples)
  const a = group(after.examples)
  const intents = new Map<string, IntentDiff>()
  const intentDiff = (name: string) => {
    let d = intents.get(name)
    if (!d) {
      d = { intent: name, before: 0, after: 0, added: [], removed: [], changed: [] }
      intents.set(name, d)
    }
    return d
  }
  for (const ex of before.examples) intentDiff(ex.intent).before++
  for (const ex of after.examples) intentDiff(ex.intent).after++
  const moved: MovedExample[] = []
  for (const key of new Set([...b.keys(), ...a.keys()])) {
    const olds = [...(b.get(key) ?? [])]
    const news = [...(a.get(key) ?? [])]
    // same text, same intent: unchanged, or changed annotations
    for (let i = olds.length - 1; i >= 0; i--) {
      const o = olds[i]!
      let j = news.findIndex((n) => n.intent === o.intent && detailKey(n) === detailKey(o))
      if (j === -1) j = news.findIndex((n) => n.intent === o.intent)
      if (j === -1) continue
      const n = news[j]!
      if (detailKey(n) !== detailKey(o)) intentDiff(o.intent).changed.push({ before: ref(o), after: ref(n) })
      olds.splice(i, 1)
      news.splice(j, 1)
    }
    // same text under another intent: moved
    while (olds.length && news.length) {
      const o = olds.shift()!
      const n = news.shift()!
      moved.push({ text: displayExample(n), from: o.intent, to: n.intent, ...(n.source ? { source: n.source } : {}) })
    }
    for (const o of olds) intentDiff(o.intent).removed.push(ref(o))
    for (const n of news) intentDiff(n.intent).added.push(ref(n))
  }
  const changedIntents = [...intents.values()]
    .filter((d) => d.added.length || d.removed.length || d.changed.length || d.before !== d.after)
    .sort((x, y) => cmp(x.intent, y.intent))
  for (const d of changedIntents) {
    const bySource = (x: DiffExample, y: DiffExample) =>
      cmp(x.source?.file ?? '', y.source?.file ?? '') ||
      (x.source?.line ?? 0) - (y.source?.line ?? 0) ||
      cmp(x.text, y.text)
    d.added.sort(bySource)
    d.removed.sort(bySource)
  }
  moved.sort((x, y) => cmp(x.from, y.from) || cmp(x.to, y.to) || cmp(x.text, y.text))

  const entityCounts = (data: TrainingData) => {
    const m = new Map<string, number>()
    for (const ex of data.examples) for (const e of ex.entities) m.set(e.entity, (m.get(e.entity) ?? 0) + 1)
    return m
  }
  const eb = entityCounts(before)
  const ea = entityCounts(after)
  const entities = [...new Set([...eb.keys(), ...ea.keys()])]
    .map((entity) => ({ entity, before: eb.get(entity) ?? 0, after: ea.get(entity) ?? 0 }))
    .filter((e) => e.before !== e.after)
    .sort((x, y) => cmp(x.entity, y.entity))

  const namesWithExamples = (data: TrainingData) => new Set(data.examples.map((e) => e.intent))
  const ib = namesWithExamples(before)
  const ia = namesWithExamples(after)
  const sum = (f: (d: IntentDiff) => number) => changedIntents.reduce((s, d) => s + f(d), 0)
  const fpBefore = fingerprintTrainingData(before)
  const fpAfter = fingerprintTrainingData(after)
  return {
    from: labels.from ?? 'before',
    to: labels.to ?? 'after',
    summary: {
      examplesBefore: before.examples.length,
      examplesAfter: after.examples.length,
      added: sum((d) => d.added.length),
      removed: sum((d) => d.removed.length),
      moved: moved.length,
      changed: sum((d) => d.changed.length),
      intentsAdded: [...ia].filter((i) => !ib.has(i)).sort(cmp),
      intentsRemoved: [...ib].filter((i) => !ia.has(i)).sort(cmp),
    },
    intents: changedIntents,
    moved,
    entities,
    synonyms: listChanges(
      before.synonyms.map((s) => [s.value, s.examples]),
      after.synonyms.map((s) => [s.value, s.examples]),
    ),
    regexes: listChanges(
      before.regexes.map((r) => [r.name, r.patterns]),
      after.regexes.map((r) => [r.name, r.patterns]),
    ),
    lookups: listChanges(
      before.lookups.map((l) => [l.name, l.elements]),
      after.lookups.map((l) => [l.name, l.elements]),
    ),
    fingerprints: { before: fpBefore, after: fpAfter },
    unchanged: fpBefore === fpAfter,
  }
}

function listChanges(before: Array<[string, string[]]>, after: Array<[string, string[]]>): ListChange[] {
  const merge = (xs: Array<[string, string[]]>) => {
    const m = new Map<string, Set<string>>()
    for (const [k, v] of xs) {
      const s = m.get(k) ?? new Set<string>()
      for (const e of v) s.add(e)
      m.set(k, s)
    }
    return m
  }
  const b = merge(before)
  const a = merge(after)
  const out: ListChange[] = []
  for (const name of [...new Set([...b.keys(), ...a.keys()])].sort(cmp)) {
    const old = b.get(name)
    const now = a.get(name)
    if (!old) out.push({ name, status: 'added', added: [...now!], removed: [] })
    else if (!now) out.push({ name, status: 'removed', added: [], removed: [...old] })
    else {
      const added = [...now].filter((x) => !old.has(x))
      const removed = [...old].filter((x) => !now.has(x))
      if (added.length || removed.length) out.push({ name, status: 'changed', added, removed })
    }
  }
  return out
}

export interface MarkdownOptions {
  /** Examples listed per intent and section before "… and N more". Default 20. */
  maxExamples?: number
}

/** Inline code that survives any backticks in the text. */
function code(text: string): string {
  const ticks = text.match(/`+/g)?.reduce((m, t) => Math.max(m, t.length), 0) ?? 0
  const fence = '`'.repeat(ticks + 1)
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${text}${pad}${fence}`
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

function where(s: SourceRef | undefined): string {
  return s?.line !== undefined ? ` (${s.file}:${s.line})` : ''
}

/** Render a diff as Markdown for a pull-request comment. */
export function renderDiffMarkdown(diff: DataDiff, options: MarkdownOptions = {}): string {
  const max = options.maxExamples ?? 20
  const s = diff.summary
  const lines: string[] = [`### Training data: ${code(diff.from)} → ${code(diff.to)}`, '']
  if (diff.unchanged) {
    lines.push('No changes to the training data.', '')
    return `${lines.join('\n')}`
  }
  const parts = [`**+${s.added} −${s.removed}** examples (${s.examplesBefore} → ${s.examplesAfter})`]
  if (s.moved) parts.push(`${plural(s.moved, 'example')} moved`)
  if (s.changed) parts.push(`${plural(s.changed, 'annotation change')}`)
  if (s.intentsAdded.length)
    parts.push(`new ${s.intentsAdded.length === 1 ? 'intent' : 'intents'} ${s.intentsAdded.map(code).join(', ')}`)
  if (s.intentsRemoved.length) {
    parts.push(
      `removed ${s.intentsRemoved.length === 1 ? 'intent' : 'intents'} ${s.intentsRemoved.map(code).join(', ')}`,
    )
  }
  lines.push(parts.join(' · '), '')
  if (diff.intents.length) {
    lines.push('| Intent | Before | After | Added | Removed |', '|---|---:|---:|---:|---:|')
    for (const d of diff.intents) {
      lines.push(`| ${code(d.intent)} | ${d.before} | ${d.after} | +${d.added.length} | −${d.removed.length} |`)
    }
    lines.push('')
  }
  const cap = <T>(xs: T[], render: (x: T) => string) => {
    for (const x of xs.slice(0, max)) lines.push(render(x))
    if (xs.length > max) lines.push(`- … and ${xs.length - max} more`)
  }
  const detailed = diff.intents.filter((d) => d.added.length || d.removed.length || d.changed.length)
  if (detailed.length) {
    lines.push('#### Examples', '')
    for (const d of detailed) {
      lines.push(`**${code(d.intent)}**`, '')
      cap(d.added, (e) => `- ➕ ${code(e.text)}${where(e.source)}`)
      cap(d.removed, (e) => `- ➖ ${code(e.text)}${where(e.source)}`)
      cap(d.changed, (c) => `- ✏️ ${code(c.before.text)} → ${code(c.after.text)}${where(c.after.source)}`)
      lines.push('')
    }
  }
  if (diff.moved.length) {
    lines.push('#### Moved between intents', '')
    cap(diff.moved, (m) => `- ${code(m.text)}: ${code(m.from)} → ${code(m.to)}${where(m.source)}`)
    lines.push('')
  }
  if (diff.entities.length) {
    lines.push('#### Entities', '', '| Entity | Before | After |', '|---|---:|---:|')
    for (const e of diff.entities) lines.push(`| ${code(e.entity)} | ${e.before} | ${e.after} |`)
    lines.push('')
  }
  const lists: Array<[string, ListChange[]]> = [
    ['synonym', diff.synonyms],
    ['regex', diff.regexes],
    ['lookup', diff.lookups],
  ]
  if (lists.some(([, xs]) => xs.length)) {
    lines.push('#### Synonyms, regexes and lookups', '')
    for (const [kind, xs] of lists) {
      for (const c of xs) {
        const show = (ys: string[]) =>
          ys.slice(0, max).map(code).join(', ') + (ys.length > max ? ` … and ${ys.length - max} more` : '')
        if (c.status === 'added') lines.push(`- ➕ ${kind} ${code(c.name)}: ${show(c.added)}`)
        else if (c.status === 'removed') lines.push(`- ➖ ${kind} ${code(c.name)}`)
        else {
          const bits = []
          if (c.added.length) bits.push(`added ${show(c.added)}`)
          if (c.removed.length) bits.push(`removed ${show(c.removed)}`)
          lines.push(`- ✏️ ${kind} ${code(c.name)}: ${bits.join('; ')}`)
        }
      }
    }
    lines.push('')
  }
  return lines.join('\n')
}
