/**
 * Validation of a training set: duplicates, conflicts between intents, synonym conflicts, regexes that do not
 * compile or can backtrack catastrophically, small or unbalanced intents, rare entities and near-duplicates across
 * intents. Every check returns diagnostics with positions; nothing throws. Near-duplicate search uses prefix filtering on token sets, so it
 * stays close to linear on 100k examples instead of comparing every pair.
 * @module
 */
import type { ValidationConfig } from '../config/schema.js'
import { formatLocation, type SourceLocation } from '../errors.js'
import {
  dataRegexJudged,
  dataRegexRisk,
  dataRegexSyntaxError,
  newRegexCheckTally,
  regexCheckLimit,
} from '../util/regex-safety.js'
import { compareDiagnostics, type Diagnostic, errorDiagnostic, warningDiagnostic } from './diagnostics.js'
import { type NameKind, nameHint, nameProblem } from './names.js'
import { exampleTokens, indexTokens, type TokenIndex } from './token-index.js'
import type { Example, SourceRef, TrainingData } from './types.js'

export interface ValidateOptions {
  /** Thresholds: `config.validation` (see docs/configuration.md). */
  validation: ValidationConfig
  /** `config.fields`: when it names fields, examples using other fields get a warning. */
  fields?: Readonly<Record<string, number>>
  /**
   * The data is held out (`train --validation`), small and unbalanced on purpose: the warnings about how many
   * examples an intent or entity has, and about class balance, are left out. Every error and other warning stays.
   */
  heldOut?: boolean
}

export { exampleTokens }

/** Token ids of every example plus what tells exact duplicates apart, computed once per validation. */
interface Prepared {
  idx: TokenIndex
  /** For multi-field and token-less examples: the normalised key as a string (otherwise the id sequence is the key). */
  strKey: Array<string | undefined>
  seqHash: Int32Array
}

function prepare(examples: readonly Example[]): Prepared {
  const idx = indexTokens(examples.map((ex) => (ex.fields ? Object.values(ex.fields).join(' ') : ex.text)))
  const n = examples.length
  const strKey: Array<string | undefined> = new Array(n)
  const seqHash = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const ex = examples[i]!
    const from = idx.start[i]!
    const to = idx.start[i + 1]!
    if (ex.fields) strKey[i] = normalizeExample(ex)
    else if (from === to) strKey[i] = ex.text.trim()
    let h = 0x9e3779b9
    for (let k = from; k < to; k++) h = Math.imul(h ^ idx.seq[k]!, 0x85ebca6b) ^ (h >>> 13)
    seqHash[i] = h
  }
  return { idx, strKey, seqHash }
}

/** Whether two examples are the same after normalisation. */
function sameKey(p: Prepared, i: number, j: number): boolean {
  const a = p.strKey[i]
  const b = p.strKey[j]
  if (a !== undefined || b !== undefined) return a === b
  if (p.seqHash[i] !== p.seqHash[j]) return false
  const { seq, start } = p.idx
  const la = start[i + 1]! - start[i]!
  if (la !== start[j + 1]! - start[j]!) return false
  for (let k = 0; k < la; k++) if (seq[start[i]! + k] !== seq[start[j]! + k]) return false
  return true
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
  // Tokens and normalised keys are computed once and shared by the duplicate and near-duplicate checks.
  const prepared = prepare(data.examples)
  const repeated = checkDuplicates(data, prepared, out)
  checkNames(data, out)
  checkSynonyms(data, out)
  checkRegexes(data, out)
  if (!options.heldOut) {
    checkCounts(data, options.validation, out)
    checkEntities(data, options.validation, out)
  }
  checkFields(data, options.fields, out)
  for (const pair of nearDuplicateWarnings(
    data.examples,
    options.validation.nearDuplicateThreshold,
    prepared,
    repeated,
  )) {
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

/** Report duplicates and conflicts; returns which examples repeat an earlier one. */
function checkDuplicates(data: TrainingData, p: Prepared, out: Diagnostic[]): Uint8Array {
  const repeated = new Uint8Array(data.examples.length)
  const byString = new Map<string, number>()
  const byHash = new Map<number, number[]>()
  for (let i = 0; i < data.examples.length; i++) {
    let first: number | undefined
    const sk = p.strKey[i]
    if (sk !== undefined) {
      first = byString.get(sk)
      if (first === undefined) byString.set(sk, i)
    } else {
      const bucket = byHash.get(p.seqHash[i]!)
      if (bucket) first = bucket.find((j) => sameKey(p, i, j))
      if (first === undefined) {
        if (bucket) bucket.push(i)
        else byHash.set(p.seqHash[i]!, [i])
      }
    }
    if (first === undefined) continue
    repeated[i] = 1
    const ex = data.examples[i]!
    const prev = data.examples[first]!
    const firstAt = formatLocation(where(prev.source))
    if (prev.intent === ex.intent) {
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
          { text: short(ex.text), intent: ex.intent, other: prev.intent, first: firstAt },
          where(ex.source),
        ),
      )
    }
  }
  return repeated
}

/**
 * Intent and entity names, and entity roles and groups, must follow the naming rules (names.ts); each bad name is
 * reported once, where it first is.
 */
function checkNames(data: TrainingData, out: Diagnostic[]): void {
  const seen = new Set<string>()
  const check = (kind: NameKind, name: string, at: SourceRef | undefined) => {
    const key = `${kind}\u0000${name}`
    if (seen.has(key)) return
    seen.add(key)
    const detail = nameProblem(kind, name)
    if (detail === undefined) return
    out.push(errorDiagnostic('ERR_DATA_BAD_NAME', { kind, name, detail, advice: nameHint(kind, name) }, where(at)))
  }
  for (const i of data.intents) check('intent', i.name, i.source)
  for (const ex of data.examples) {
    check('intent', ex.intent, ex.source)
    for (const e of ex.entities) {
      check('entity', e.entity, ex.source)
      if (e.role !== undefined) check('role', e.role, ex.source)
      if (e.group !== undefined) check('group', e.group, ex.source)
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

/**
 * Each pattern compiled and judged as training compiles and judges it (regex-safety.ts), so the verdicts agree; as
 * there, a pattern written twice is charged once, and the check stops at the first pattern past the limits of one
 * check.
 */
function checkRegexes(data: TrainingData, out: Diagnostic[]): void {
  const tally = newRegexCheckTally()
  for (const r of data.regexes) {
    for (let i = 0; i < r.patterns.length; i++) {
      const p = r.patterns[i]!
      const at = where(r.sources?.[i] ?? r.source)
      const bad = dataRegexSyntaxError(p)
      if (bad !== undefined) {
        out.push(errorDiagnostic('ERR_DATA_BAD_REGEX', { name: r.name, detail: bad.detail, advice: bad.advice }, at))
        continue
      }
      const limit = dataRegexJudged(tally, p) ? undefined : regexCheckLimit(tally)
      if (limit !== undefined) {
        out.push(errorDiagnostic('ERR_REGEX_CHECK_LIMIT', { where: 'the training data', detail: limit }, at))
        return
      }
      const risk = dataRegexRisk(p, tally)
      if (risk !== undefined) {
        out.push(errorDiagnostic('ERR_DATA_UNSAFE_REGEX', { name: r.name, detail: risk.detail }, at))
      }
    }
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
    // an intent declared with no examples at all is already an error where it is declared
    if (n === 0) continue
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
    if (ex.entities.length === 0) continue
    const inThis = ex.entities.length === 1 ? [ex.entities[0]!.entity] : new Set(ex.entities.map((e) => e.entity))
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
 * Exact, and close to linear on real data (PPJoin): sets are processed by size with tokens ordered rarest first.
 * Two sets with Jaccard ≥ t share a token among the first |x| − ⌈t·|x|⌉ + 1 of the probing set and the first
 * |y| − ⌈2t/(1+t)·|y|⌉ + 1 of the indexed one; candidates must also fit the size bound and the positional bound
 * before the exact similarity is computed.
 */
export function findNearDuplicates(examples: readonly Example[], threshold: number): NearDuplicatePair[] {
  return nearDuplicatePairs(examples, threshold, prepare(examples))
}

/** Token sets of every example, sorted rarest token first, in one flat array. */
interface SetTable {
  /** Set i is tok[start[i]] .. tok[start[i + 1] - 1], ascending by token rarity rank. */
  tok: Int32Array
  start: Int32Array
  vocabSize: number
  intentOf: Int32Array
}

function buildSets(examples: readonly Example[], prepared: Prepared): SetTable {
  const n = examples.length
  const tok = new Int32Array(prepared.idx.seq.length)
  const start = new Int32Array(n + 1)
  let w = 0
  for (let i = 0; i < n; i++) {
    start[i] = w
    const from = prepared.idx.start[i]!
    const to = prepared.idx.start[i + 1]!
    for (let k = from; k < to; k++) tok[w++] = prepared.idx.seq[k]!
    w = start[i]! + sortUnique(tok, start[i]!, w)
  }
  start[n] = w
  const df = new Int32Array(prepared.idx.vocabSize)
  for (let k = 0; k < w; k++) df[tok[k]!]!++
  // Rank tokens rarest first (ties by id, a total order) and sort each set by rank.
  const order = Array.from(df.keys()).sort((x, y) => df[x]! - df[y]! || x - y)
  const rank = new Int32Array(df.length)
  for (let r = 0; r < order.length; r++) rank[order[r]!] = r
  for (let k = 0; k < w; k++) tok[k] = rank[tok[k]!]!
  for (let i = 0; i < n; i++) sortUnique(tok, start[i]!, start[i + 1]!)
  const intentIds = new Map<string, number>()
  const intentOf = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const name = examples[i]!.intent
    let id = intentIds.get(name)
    if (id === undefined) {
      id = intentIds.size
      intentIds.set(name, id)
    }
    intentOf[i] = id
  }
  return { tok, start, vocabSize: df.length, intentOf }
}

/**
 * PPJoin over the sets `ids`: calls `found(i, j, similarity)` for every pair with Jaccard ≥ `threshold` that
 * `accept(i, j)` lets through. Sets are processed by size; a pair must share a token among the first
 * |x| − ⌈t·|x|⌉ + 1 of the probing set and the first |y| − ⌈2t/(1+t)·|y|⌉ + 1 of the indexed one, fit the size
 * bound, and fit the positional bound before its similarity is computed.
 */
function ppjoin(
  sets: SetTable,
  ids: readonly number[],
  threshold: number,
  accept: (i: number, j: number) => boolean,
  found: (i: number, j: number, similarity: number) => void,
): void {
  const { tok, start } = sets
  const eps = 1e-9
  const size = (i: number) => start[i + 1]! - start[i]!
  const bySize = [...ids].sort((x, y) => size(x) - size(y) || x - y)
  // Postings hold (set, position) pairs in processing order, so sizes along a posting never decrease.
  const postIds: number[][] = Array.from({ length: sets.vocabSize }, () => [])
  const postPos: number[][] = Array.from({ length: sets.vocabSize }, () => [])
  const stamp = new Int32Array(start.length).fill(-1)
  for (const i of bySize) {
    const lx = size(i)
    if (lx === 0) continue
    const xs = start[i]!
    const probe = lx - Math.ceil(threshold * lx - eps) + 1
    const minSize = Math.ceil(threshold * lx - eps)
    for (let p = 0; p < probe && p < lx; p++) {
      const post = postIds[tok[xs + p]!]!
      const pos = postPos[tok[xs + p]!]!
      // first entry whose size reaches minSize
      let lo = 0
      let hi = post.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (size(post[mid]!) < minSize) lo = mid + 1
        else hi = mid
      }
      for (let k = lo; k < post.length; k++) {
        const j = post[k]!
        if (stamp[j] === i) continue
        stamp[j] = i
        const ly = size(j)
        const need = Math.ceil((threshold / (1 + threshold)) * (lx + ly) - eps)
        // positional bound: this match plus the tokens after it in the shorter remainder
        if (1 + Math.min(lx - p - 1, ly - pos[k]! - 1) < need) continue
        if (!accept(i, j)) continue
        const inter = overlap(tok, xs, lx, start[j]!, ly)
        const sim = inter / (lx + ly - inter)
        if (sim + eps >= threshold) found(i, j, sim)
      }
    }
    const index = lx - Math.ceil(((2 * threshold) / (1 + threshold)) * lx - eps) + 1
    for (let p = 0; p < index && p < lx; p++) {
      postIds[tok[xs + p]!]!.push(i)
      postPos[tok[xs + p]!]!.push(p)
    }
  }
}

/** Every near-duplicate pair across intents (exact duplicates excluded), sorted by the later example. */
function nearDuplicatePairs(examples: readonly Example[], threshold: number, prepared: Prepared): NearDuplicatePair[] {
  if (!(threshold > 0 && threshold <= 1)) return []
  const sets = buildSets(examples, prepared)
  const pairs: NearDuplicatePair[] = []
  ppjoin(
    sets,
    Array.from(examples.keys()),
    threshold,
    (i, j) => sets.intentOf[i] !== sets.intentOf[j] && !sameKey(prepared, i, j),
    (i, j, similarity) => pairs.push(i < j ? { a: i, b: j, similarity } : { a: j, b: i, similarity }),
  )
  return pairs.sort((x, y) => x.b - y.b || x.a - y.a)
}

/**
 * For each example that has an earlier near-duplicate under another intent, the most similar such earlier example.
 * Examples flagged in `skip` (exact repeats, already errors) take no part. Examples with identical token sets are
 * joined once as a group, so many repeated short commands cannot make the search quadratic.
 */
function nearDuplicateWarnings(
  examples: readonly Example[],
  threshold: number,
  prepared: Prepared,
  skip: Uint8Array,
): NearDuplicatePair[] {
  if (!(threshold > 0 && threshold <= 1)) return []
  const sets = buildSets(examples, prepared)
  const { tok, start, intentOf } = sets
  // Group the remaining examples by identical token set; members are in index order.
  const groups: number[][] = []
  const groupOf = new Int32Array(examples.length).fill(-1)
  const byHash = new Map<number, number[]>()
  for (let i = 0; i < examples.length; i++) {
    if (skip[i] || start[i + 1] === start[i]) continue
    let h = 0x2545f491
    for (let k = start[i]!; k < start[i + 1]!; k++) h = Math.imul(h ^ tok[k]!, 0x9e3779b1) ^ (h >>> 15)
    const candidates = byHash.get(h)
    const same = candidates?.find((g) => sameSet(sets, groups[g]![0]!, i))
    if (same !== undefined) {
      groups[same]!.push(i)
      groupOf[i] = same
    } else {
      groupOf[i] = groups.length
      if (candidates) candidates.push(groups.length)
      else byHash.set(h, [groups.length])
      groups.push([i])
    }
  }
  // The earliest member of a group, and the earliest whose intent differs from it: enough to find, for any
  // example, the earliest member of the group under another intent.
  const first = groups.map((g) => g[0]!)
  const firstOther = groups.map((g) => g.find((m) => intentOf[m] !== intentOf[g[0]!]) ?? -1)
  const partnerIn = (g: number, x: number) => (intentOf[first[g]!] !== intentOf[x] ? first[g]! : firstOther[g]!)
  const bestPartner = new Int32Array(examples.length).fill(-1)
  const bestSim = new Float64Array(examples.length)
  const offer = (x: number, g: number, sim: number) => {
    const p = partnerIn(g, x)
    if (p !== -1 && p < x && (bestPartner[x] === -1 || sim > bestSim[x]!)) {
      bestPartner[x] = p
      bestSim[x] = sim
    }
  }
  // Same token set, different wording (exact repeats were skipped): similarity 1.
  for (let g = 0; g < groups.length; g++) for (const x of groups[g]!) offer(x, g, 1)
  ppjoin(
    sets,
    first,
    threshold,
    () => true,
    (i, j, sim) => {
      const gi = groupOf[i]!
      const gj = groupOf[j]!
      for (const x of groups[gi]!) offer(x, gj, sim)
      for (const x of groups[gj]!) offer(x, gi, sim)
    },
  )
  const out: NearDuplicatePair[] = []
  for (let x = 0; x < examples.length; x++) {
    if (bestPartner[x] !== -1) out.push({ a: bestPartner[x]!, b: x, similarity: bestSim[x]! })
  }
  return out
}

function sameSet(sets: SetTable, i: number, j: number): boolean {
  const { tok, start } = sets
  const l = start[i + 1]! - start[i]!
  if (l !== start[j + 1]! - start[j]!) return false
  for (let k = 0; k < l; k++) if (tok[start[i]! + k] !== tok[start[j]! + k]) return false
  return true
}

/** Sort a[from..to) in place (insertion sort: sets are small) and drop repeats; returns the new length. */
function sortUnique(a: Int32Array, from: number, to: number): number {
  for (let k = from + 1; k < to; k++) {
    const v = a[k]!
    let m = k - 1
    while (m >= from && a[m]! > v) {
      a[m + 1] = a[m]!
      m--
    }
    a[m + 1] = v
  }
  let out = from
  for (let k = from; k < to; k++) if (k === from || a[k] !== a[out - 1]) a[out++] = a[k]!
  return out - from
}

function overlap(a: Int32Array, as: number, la: number, bs: number, lb: number): number {
  let i = 0
  let j = 0
  let inter = 0
  while (i < la && j < lb) {
    const x = a[as + i]!
    const y = a[bs + j]!
    if (x === y) {
      inter++
      i++
      j++
    } else if (x < y) i++
    else j++
  }
  return inter
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
