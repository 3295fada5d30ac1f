/**
 * Validation of a training set: duplicates, conflicts between intents, synonym conflicts, regexes that do not
 * compile, small or unbalanced intents, rare entities and near-duplicates across intents. Every check returns
 * diagnostics with positions; nothing throws. Near-duplicate search uses prefix filtering on token sets, so it
 * stays close to linear on 100k examples instead of comparing every pair.
 * @module
 */
import type { ValidationConfig } from '../config/schema.js'
import { formatLocation, type SourceLocation } from '../errors.js'
import { compareDiagnostics, type Diagnostic, errorDiagnostic, warningDiagnostic } from './diagnostics.js'
import type { Example, SourceRef, TrainingData } from './types.js'

export interface ValidateOptions {
  /** Thresholds: `config.validation` (see docs/configuration.md). */
  validation: ValidationConfig
  /** `config.fields`: when it names fields, examples using other fields get a warning. */
  fields?: Readonly<Record<string, number>>
}

const WORD_RE = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu

/** Lowercased word tokens of a text (NFKC), the unit both duplicate checks compare. */
export function exampleTokens(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(WORD_RE) ?? []
}

/**
 * The normalised form used to find duplicates and conflicts: case, width, spacing and punctuation do not count.
 * Multi-field examples compare field by field.
 */
export function normalizeExample(ex: Pick<Example, 'text' | 'fields'>): string {
  const norm = (t: string) => {
    const tokens = exampleTokens(t)
    return tokens.length ? tokens.join(' ') : t.trim()
  }
  if (ex.fields) {
    return Object.keys(ex.fields)
      .sort()
      .map((k) => `${k}\u0001${norm(ex.fields![k]!)}`)
      .join('\u0002')
  }
  return norm(ex.text)
}

function where(s: SourceRef | undefined): SourceLocation {
  return s
    ? {
        file: s.file,
        ...(s.line !== undefined ? { line: s.line } : {}),
        ...(s.column !== undefined ? { column: s.column } : {}),
      }
    : { file: '(unknown)' }
}

function short(text: string, max = 60): string {
  const one = text.replace(/\s+/g, ' ').trim()
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}

/** Run every check on a loaded training set. Diagnostics come back sorted by file and position. */
export function validateTrainingData(data: TrainingData, options: ValidateOptions): Diagnostic[] {
  const out: Diagnostic[] = []
  checkDuplicates(data, out)
  checkSynonyms(data, out)
  checkRegexes(data, out)
  checkCounts(data, options.validation, out)
  checkEntities(data, options.validation, out)
  checkFields(data, options.fields, out)
  const best = new Map<number, NearDuplicatePair>()
  for (const p of findNearDuplicates(data.examples, options.validation.nearDuplicateThreshold)) {
    const prev = best.get(p.b)
    if (!prev || p.similarity > prev.similarity) best.set(p.b, p)
  }
  for (const pair of best.values()) {
    const a = data.examples[pair.a]!
    const b = data.examples[pair.b]!
    out.push(
      warningDiagnostic(
        'WARN_DATA_NEAR_DUPLICATE',
        {
          text: short(b.text),
          intent: b.intent,
          otherText: short(a.text),
          other: a.intent,
          first: formatLocation(where(a.source)),
        },
        where(b.source),
      ),
    )
  }
  return out.sort(compareDiagnostics)
}

function checkDuplicates(data: TrainingData, out: Diagnostic[]): void {
  const seen = new Map<string, Example>()
  for (const ex of data.examples) {
    const key = normalizeExample(ex)
    const first = seen.get(key)
    if (!first) {
      seen.set(key, ex)
      continue
    }
    const firstAt = formatLocation(where(first.source))
    if (first.intent === ex.intent) {
      out.push(
        errorDiagnostic(
          'ERR_DATA_DUPLICATE_EXAMPLE',
          { text: short(ex.text), intent: ex.intent, first: firstAt },
          where(ex.source),
        ),
      )
    } else {
      out.push(
        errorDiagnostic(
          'ERR_DATA_CONFLICT',
          { text: short(ex.text), intent: ex.intent, other: first.intent, first: firstAt },
          where(ex.source),
        ),
      )
    }
  }
}

/** A text may map to one canonical value, whether the mapping comes from a synonym block or an annotation. */
function checkSynonyms(data: TrainingData, out: Diagnostic[]): void {
  const canon = new Map<string, { value: string; at: SourceLocation }>()
  const add = (text: string, value: string, at: SourceLocation) => {
    const key = text.trim().toLowerCase()
    const prev = canon.get(key)
    if (!prev) {
      canon.set(key, { value, at })
      return
    }
    if (prev.value !== value) {
      out.push(
        errorDiagnostic(
          'ERR_DATA_SYNONYM_CONFLICT',
          { text, value, other: prev.value, first: formatLocation(prev.at) },
          at,
        ),
      )
    }
  }
  for (const s of data.synonyms) {
    s.examples.forEach((text, i) => {
      add(text, s.value, where(s.sources?.[i] ?? s.source))
    })
  }
  for (const ex of data.examples) {
    for (const e of ex.entities) {
      const covered = (e.field !== undefined ? (ex.fields?.[e.field] ?? '') : ex.text).slice(e.start, e.end)
      if (covered !== e.value && covered.trim().toLowerCase() !== e.value.trim().toLowerCase()) {
        add(covered, e.value, where(ex.source))
      }
    }
  }
}

function checkRegexes(data: TrainingData, out: Diagnostic[]): void {
  for (const r of data.regexes) {
    r.patterns.forEach((p, i) => {
      try {
        new RegExp(p)
      } catch (err) {
        const detail = (err as Error).message.replace(/^Invalid regular expression: /, '')
        out.push(errorDiagnostic('ERR_DATA_BAD_REGEX', { name: r.name, detail }, where(r.sources?.[i] ?? r.source)))
      }
    })
  }
}

function checkCounts(data: TrainingData, v: ValidationConfig, out: Diagnostic[]): void {
  const counts = new Map<string, number>()
  const firstAt = new Map<string, SourceRef | undefined>()
  for (const i of data.intents) {
    counts.set(i.name, 0)
    firstAt.set(i.name, i.source)
  }
  for (const ex of data.examples) {
    counts.set(ex.intent, (counts.get(ex.intent) ?? 0) + 1)
    if (!firstAt.get(ex.intent)) firstAt.set(ex.intent, ex.source)
  }
  let largest = ''
  let max = 0
  for (const [name, n] of counts) {
    if (n > max) {
      max = n
      largest = name
    }
  }
  for (const [name, n] of counts) {
    const at = where(firstAt.get(name))
    if (n < v.minExamples) {
      out.push(
        warningDiagnostic(
          'WARN_DATA_FEW_EXAMPLES',
          { intent: name, count: n, s: n === 1 ? '' : 's', min: v.minExamples },
          at,
        ),
      )
    } else if (n > 0 && n * v.imbalanceRatio < max) {
      const ratio = Math.round((max / n) * 10) / 10
      out.push(
        warningDiagnostic('WARN_DATA_IMBALANCE', { intent: name, count: n, ratio, largest, largestCount: max }, at),
      )
    }
  }
}

function checkEntities(data: TrainingData, v: ValidationConfig, out: Diagnostic[]): void {
  const counts = new Map<string, { n: number; at: SourceLocation }>()
  for (const ex of data.examples) {
    const inThis = new Set(ex.entities.map((e) => e.entity))
    for (const entity of inThis) {
      const c = counts.get(entity)
      if (c) c.n++
      else counts.set(entity, { n: 1, at: where(ex.source) })
    }
  }
  for (const [entity, { n, at }] of counts) {
    if (n < v.minEntityExamples) {
      out.push(
        warningDiagnostic(
          'WARN_DATA_FEW_ENTITY_EXAMPLES',
          { entity, count: n, s: n === 1 ? '' : 's', min: v.minEntityExamples },
          at,
        ),
      )
    }
  }
}

function checkFields(
  data: TrainingData,
  weights: Readonly<Record<string, number>> | undefined,
  out: Diagnostic[],
): void {
  const known = Object.keys(weights ?? {})
  if (known.length === 0) return
  const reported = new Set<string>()
  for (const ex of data.examples) {
    for (const f of Object.keys(ex.fields ?? {})) {
      if (known.includes(f) || reported.has(f)) continue
      reported.add(f)
      out.push(warningDiagnostic('WARN_DATA_UNKNOWN_FIELD', { field: f, known: known.join(', ') }, where(ex.source)))
    }
  }
}

export interface NearDuplicatePair {
  /** Index of the earlier example. */
  a: number
  /** Index of the later example, the one the warning points at. */
  b: number
  similarity: number
}

/**
 * Every pair of examples under different intents whose token sets have Jaccard similarity ≥ `threshold` but that
 * are not exact duplicates (those are conflicts), sorted by the later example.
 *
 * Prefix filtering: with tokens ordered rarest first, two sets with Jaccard ≥ t must share a token among the
 * first |S| − ⌈t·|S|⌉ + 1 of each; only such candidates are compared, which keeps the search near linear.
 */
export function findNearDuplicates(examples: readonly Example[], threshold: number): NearDuplicatePair[] {
  if (threshold <= 0 || threshold > 1) return []
  const n = examples.length
  const vocab = new Map<string, number>()
  const sets: Int32Array[] = new Array(n)
  const keys: string[] = new Array(n)
  const df: number[] = []
  for (let i = 0; i < n; i++) {
    const ex = examples[i]!
    keys[i] = normalizeExample(ex)
    const toks = new Set(exampleTokens(ex.fields ? Object.values(ex.fields).join(' ') : ex.text))
    const ids = new Int32Array(toks.size)
    let k = 0
    for (const t of toks) {
      let id = vocab.get(t)
      if (id === undefined) {
        id = df.length
        vocab.set(t, id)
        df.push(0)
      }
      df[id]!++
      ids[k++] = id
    }
    sets[i] = ids
  }
  // Rank tokens rarest first; ties by id for a total order.
  const order = Array.from(df.keys()).sort((x, y) => df[x]! - df[y]! || x - y)
  const rank = new Int32Array(df.length)
  order.forEach((id, r) => {
    rank[id] = r
  })
  for (const s of sets) {
    for (let k = 0; k < s.length; k++) s[k] = rank[s[k]!]!
    s.sort()
  }
  const bySize = Array.from(sets.keys()).sort((x, y) => sets[x]!.length - sets[y]!.length || x - y)
  const index = new Map<number, number[]>()
  const pairs: NearDuplicatePair[] = []
  const eps = 1e-9
  for (const i of bySize) {
    const s = sets[i]!
    if (s.length === 0) continue
    const prefix = s.length - Math.ceil(threshold * s.length - eps) + 1
    const minSize = Math.ceil(threshold * s.length - eps)
    const seen = new Set<number>()
    for (let k = 0; k < prefix && k < s.length; k++) {
      const posting = index.get(s[k]!)
      if (!posting) continue
      for (const j of posting) {
        if (seen.has(j)) continue
        seen.add(j)
        const t = sets[j]!
        if (t.length < minSize) continue
        if (examples[j]!.intent === examples[i]!.intent || keys[j] === keys[i]) continue
        const sim = jaccardSorted(s, t)
        if (sim + eps >= threshold)
          pairs.push(i < j ? { a: i, b: j, similarity: sim } : { a: j, b: i, similarity: sim })
      }
    }
    for (let k = 0; k < prefix && k < s.length; k++) {
      const tok = s[k]!
      const posting = index.get(tok)
      if (posting) posting.push(i)
      else index.set(tok, [i])
    }
  }
  return pairs.sort((x, y) => x.b - y.b || x.a - y.a)
}

function jaccardSorted(a: Int32Array, b: Int32Array): number {
  let i = 0
  let j = 0
  let inter = 0
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++
      i++
      j++
    } else if (a[i]! < b[j]!) i++
    else j++
  }
  return inter / (a.length + b.length - inter)
}

/** Exact O(n²) near-duplicate search, kept as the reference for tests and the benchmark. */
export function findNearDuplicatesBruteForce(examples: readonly Example[], threshold: number): NearDuplicatePair[] {
  const sets = examples.map((ex) => new Set(exampleTokens(ex.fields ? Object.values(ex.fields).join(' ') : ex.text)))
  const keys = examples.map(normalizeExample)
  const pairs: NearDuplicatePair[] = []
  for (let b = 0; b < examples.length; b++) {
    for (let a = 0; a < b; a++) {
      if (examples[a]!.intent === examples[b]!.intent || keys[a] === keys[b]) continue
      const A = sets[a]!
      const B = sets[b]!
      if (A.size === 0 || B.size === 0) continue
      let inter = 0
      for (const t of A) if (B.has(t)) inter++
      const sim = inter / (A.size + B.size - inter)
      if (sim + 1e-9 >= threshold) pairs.push({ a, b, similarity: sim })
    }
  }
  return pairs
}
