/**
 * Lookup tables: lists of phrases (cities, products, ...) matched token by token, ignoring case (and accents when
 * asked). Used as an entity extractor (`lookup_entities`) and, through {@link LookupMatcher}, as features.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import type { LookupTable, TrainingData } from '../../data/types.js'
import type { ComponentState, EntityExtractor, FitContext, FittedEntityExtractor, JsonValue } from '../component.js'
import { fmix32, H1_INIT, H2_INIT, hashCodeUnits, KeyTable, step1, step2 } from '../hash.js'
import { Nullable, paramError, validateParams } from '../params.js'
import { type ScannerPool, type ScannerUser, TextScanner, type Token } from '../tokenizer.js'
import type { EntityPrediction } from '../types.js'

/** Phrases longer than this many tokens are never matched. */
export const MAX_LOOKUP_TOKENS = 32

/**
 * Matches the phrases of several lookup tables in a text, allocating nothing per call. A phrase matches a run of
 * whole tokens whose normalised forms equal the phrase's tokens.
 *
 * The occurrences of the last text are kept: a featurizer and an extractor that share one matcher (see
 * {@link shareLookupMatchers}) scan each message once.
 */
export class LookupMatcher {
  /** Replaced by a pipeline's shared scanner (see {@link useScanners}). */
  scanner: TextScanner
  private readonly keys = new KeyTable(64)
  /** Keys of every proper prefix of a phrase: a run of tokens that is none stops the search from its first token. */
  private readonly prefixes = new KeyTable(64)
  /** For each distinct phrase key, the tables that list it. */
  private readonly owners: number[][] = []
  private readonly maxLen: number
  /** Occurrences in `lastText` (table, first and last token), by first token, then last token, then owner order. */
  private occTable: Int32Array = new Int32Array(16)
  private occFirst: Int32Array = new Int32Array(16)
  private occLast: Int32Array = new Int32Array(16)
  private occCount = 0
  /** Indexes of the leftmost-longest occurrences, from {@link longest}. */
  private sel: Int32Array = new Int32Array(16)
  private lastText: string | undefined = undefined

  constructor(
    readonly tables: ReadonlyArray<{ name: string; elements: readonly string[] }>,
    readonly foldAccents: boolean,
  ) {
    this.scanner = new TextScanner({ lowercase: true, foldAccents })
    const sc = new TextScanner({ lowercase: true, foldAccents })
    let maxLen = 0
    tables.forEach((table, t) => {
      for (const el of table.elements) {
        const n = sc.scan(el)
        if (n === 0 || n > MAX_LOOKUP_TOKENS) continue
        let a = H1_INIT
        let b = H2_INIT
        for (let i = 0; i < n; i++) {
          const [x, y] = hashCodeUnits(sc.chars, sc.tokStart[i]!, sc.tokEnd[i]!)
          a = step1(a, x)
          b = step2(b, y)
          if (i < n - 1) this.prefixes.intern(runKeyA(a, i + 1), runKeyB(b, i + 1), 0)
        }
        const size = this.keys.size
        const id = this.keys.intern(runKeyA(a, n), runKeyB(b, n), size)
        if (id === size) this.owners.push([])
        const owners = this.owners[id]!
        if (!owners.includes(t)) owners.push(t)
        maxLen = Math.max(maxLen, n)
      }
    })
    this.maxLen = maxLen
  }

  /** Scan with the pool's scanner of this matcher's normalisation. */
  useScanners(pool: ScannerPool): void {
    this.scanner = pool.get({ lowercase: true, foldAccents: this.foldAccents })
  }

  /** Whether `other` matches exactly as this one: same tables, in the same order, and the same normalisation. */
  sameAs(other: LookupMatcher): boolean {
    if (other === this) return true
    if (other.foldAccents !== this.foldAccents || other.tables.length !== this.tables.length) return false
    for (let t = 0; t < this.tables.length; t++) {
      const a = this.tables[t]!
      const b = other.tables[t]!
      if (a.name !== b.name || a.elements.length !== b.elements.length) return false
      for (let e = 0; e < a.elements.length; e++) if (a.elements[e] !== b.elements[e]) return false
    }
    return true
  }

  /**
   * Find every phrase occurrence in `text`; returns how many. Occurrence `k` is phrase table `tableOf(k)` over
   * tokens `firstOf(k)..lastOf(k)`, in order of first token, then last token. Token offsets are in `this.scanner`.
   */
  find(text: string): number {
    // Scanned again if another text went through a shared scanner since: callers read token offsets from it.
    const n = this.scanner.scanOnce(text)
    if (text === this.lastText) return this.occCount
    this.lastText = undefined
    this.occCount = 0
    if (n > 0 && this.maxLen > 0) this.findAll(n)
    this.lastText = text
    return this.occCount
  }

  tableOf(k: number): number {
    return this.occTable[k]!
  }

  firstOf(k: number): number {
    return this.occFirst[k]!
  }

  lastOf(k: number): number {
    return this.occLast[k]!
  }

  /**
   * Find the leftmost-longest non-overlapping occurrences in `text`; returns how many. The `s`-th is occurrence
   * `selected(s)` of {@link find}'s numbering.
   */
  longest(text: string): number {
    const count = this.find(text)
    if (this.sel.length < count) this.sel = new Int32Array(this.occTable.length)
    const sel = this.sel
    let m = 0
    let from = 0
    for (let k = 0; k < count; ) {
      const first = this.occFirst[k]!
      let end = k + 1
      while (end < count && this.occFirst[end] === first) end++
      if (first >= from) {
        // The run's occurrences end with the longest, one per table that lists that phrase.
        const last = this.occLast[end - 1]!
        let s = end - 1
        while (s > k && this.occLast[s - 1] === last) s--
        for (; s < end; s++) sel[m++] = s
        from = last + 1
      }
      k = end
    }
    return m
  }

  selected(s: number): number {
    return this.sel[s]!
  }

  /**
   * Call `onMatch(table, firstToken, lastToken)` for every phrase occurrence; with `longest`, keep only the
   * leftmost-longest non-overlapping occurrences. Token offsets are in `this.scanner` after the call.
   */
  match(text: string, longest: boolean, onMatch: (table: number, first: number, last: number) => void): void {
    if (longest) {
      const m = this.longest(text)
      for (let s = 0; s < m; s++) {
        const k = this.sel[s]!
        onMatch(this.occTable[k]!, this.occFirst[k]!, this.occLast[k]!)
      }
      return
    }
    const count = this.find(text)
    for (let k = 0; k < count; k++) onMatch(this.occTable[k]!, this.occFirst[k]!, this.occLast[k]!)
  }

  private findAll(n: number): void {
    const sc = this.scanner
    sc.hashTokens()
    const ha = sc.tokHashA
    const hb = sc.tokHashB
    for (let i = 0; i < n; i++) {
      const stop = Math.min(n, i + this.maxLen)
      // The run's hash grows a token at a time; it ends where no phrase continues it (most runs: at its first token).
      let a = H1_INIT
      let b = H2_INIT
      for (let j = i; j < stop; j++) {
        a = step1(a, ha[j]!)
        b = step2(b, hb[j]!)
        const len = j - i + 1
        const ka = runKeyA(a, len)
        const kb = runKeyB(b, len)
        const id = this.keys.get(ka, kb)
        if (id >= 0) for (const t of this.owners[id]!) this.push(t, i, j)
        if (this.prefixes.get(ka, kb) < 0) break
      }
    }
  }

  private push(table: number, first: number, last: number): void {
    const k = this.occCount
    if (k === this.occTable.length) {
      this.occTable = grow(this.occTable)
      this.occFirst = grow(this.occFirst)
      this.occLast = grow(this.occLast)
    }
    this.occTable[k] = table
    this.occFirst[k] = first
    this.occLast[k] = last
    this.occCount = k + 1
  }
}

/** A component that matches lookup tables with a matcher that a pipeline may replace by an equivalent one. */
interface LookupMatcherUser {
  lookupMatcher: LookupMatcher
}

/**
 * Let components whose lookup matchers match alike (same tables, same normalisation) use one matcher, so a message
 * is scanned for phrases once for all of them. Components with different tables or params keep their own.
 */
export function shareLookupMatchers(components: readonly object[]): void {
  const shared: LookupMatcher[] = []
  for (const c of components) {
    const own = (c as Partial<LookupMatcherUser>).lookupMatcher
    if (!(own instanceof LookupMatcher)) continue
    const same = shared.find((m) => m.sameAs(own))
    if (same) (c as LookupMatcherUser).lookupMatcher = same
    else shared.push(own)
  }
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2)
  b.set(a)
  return b
}

/** The key of a run of `len` tokens from its rolled hashes; the length keeps runs of different sizes apart. */
function runKeyA(a: number, len: number): number {
  return fmix32(a ^ Math.imul(len, 0x9e3779b1))
}
function runKeyB(b: number, len: number): number {
  return fmix32(b ^ Math.imul(len, 0x85ebca77))
}

// ── the entity extractor ─────────────────────────────────────────────────────────

export const LookupEntitiesParamsSchema = Type.Object(
  {
    foldAccents: Type.Boolean({ default: false, description: 'Match "Zurich" to "Zürich".' }),
    entities: Nullable(
      Type.Array(Type.String({ minLength: 1 })),
      'Lookup tables to use, by name; null uses every table named like an entity annotated in the training data.',
    ),
  },
  { additionalProperties: false },
)

export type LookupEntitiesParams = Static<typeof LookupEntitiesParamsSchema>

export function lookupEntitiesParams(raw: unknown): LookupEntitiesParams {
  return validateParams('lookup_entities', LookupEntitiesParamsSchema, raw)
}

/** Entity types annotated anywhere in the training data. */
export function annotatedEntityTypes(data: TrainingData): Set<string> {
  const out = new Set<string>()
  for (const ex of data.examples) for (const e of ex.entities) out.add(e.entity)
  return out
}

export class LookupEntities implements EntityExtractor<LookupEntitiesParams> {
  readonly type = 'lookup_entities'
  constructor(readonly params: Readonly<LookupEntitiesParams>) {}

  getParams(): Record<string, JsonValue> {
    return structuredClone(this.params) as unknown as Record<string, JsonValue>
  }

  fit(data: TrainingData, _ctx: FitContext): FittedLookupEntities {
    const wanted = this.params.entities ? new Set(this.params.entities) : annotatedEntityTypes(data)
    const tables = mergeTables(data.lookups.filter((l) => wanted.has(l.name)))
    return new FittedLookupEntities(this.params, tables)
  }
}

/** Tables of the same name merged; elements deduplicated and sorted so the state does not depend on data order. */
export function mergeTables(lookups: readonly LookupTable[]): Array<{ name: string; elements: string[] }> {
  const byName = new Map<string, Set<string>>()
  for (const l of lookups) {
    const set = byName.get(l.name) ?? new Set<string>()
    for (const e of l.elements) set.add(e)
    byName.set(l.name, set)
  }
  return [...byName.keys()].sort().map((name) => ({ name, elements: [...byName.get(name)!].sort() }))
}

export class FittedLookupEntities implements FittedEntityExtractor, ScannerUser {
  readonly type = 'lookup_entities'
  // Its matcher scans the text itself, with its own normalisation.
  readonly usesTokens = false
  readonly entityTypes: readonly string[]
  /** Replaced by an equivalent matcher when a pipeline shares one (see {@link shareLookupMatchers}). */
  lookupMatcher: LookupMatcher

  constructor(
    readonly params: Readonly<LookupEntitiesParams>,
    private readonly tables: Array<{ name: string; elements: string[] }>,
  ) {
    this.lookupMatcher = new LookupMatcher(tables, params.foldAccents)
    this.entityTypes = tables.map((t) => t.name)
  }

  useScanners(pool: ScannerPool): void {
    this.lookupMatcher.useScanners(pool)
  }

  extract(text: string, _tokens: readonly Token[]): EntityPrediction[] {
    const out: EntityPrediction[] = []
    const matcher = this.lookupMatcher
    const m = matcher.longest(text)
    const sc = matcher.scanner
    for (let s = 0; s < m; s++) {
      const k = matcher.selected(s)
      const start = sc.srcStart[matcher.firstOf(k)]!
      const end = sc.srcEnd[matcher.lastOf(k)]!
      out.push({
        start,
        end,
        entity: this.tables[matcher.tableOf(k)]!.name,
        value: text.slice(start, end),
        extractor: this.type,
        confidence_entity: 1,
      })
    }
    return out
  }

  toState(): ComponentState {
    return {
      json: { params: this.params as unknown as JsonValue, tables: this.tables as unknown as JsonValue },
      arrays: {},
    }
  }

  static fromState(state: ComponentState): FittedLookupEntities {
    const json = state.json as { params?: unknown; tables?: unknown }
    return new FittedLookupEntities(lookupEntitiesParams(json.params), checkTables('lookup_entities', json.tables))
  }
}

/** Check the shape of saved lookup tables. */
export function checkTables(component: string, raw: unknown): Array<{ name: string; elements: string[] }> {
  const ok =
    Array.isArray(raw) &&
    raw.every(
      (t) =>
        t &&
        typeof t === 'object' &&
        typeof (t as { name?: unknown }).name === 'string' &&
        Array.isArray((t as { elements?: unknown }).elements) &&
        (t as { elements: unknown[] }).elements.every((e) => typeof e === 'string'),
    )
  if (!ok) throw paramError(component, `The saved state of ${component} has bad lookup tables.`)
  return raw as Array<{ name: string; elements: string[] }>
}
