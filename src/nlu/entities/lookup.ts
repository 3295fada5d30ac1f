/**
 * Lookup tables: lists of phrases (cities, products, ...) matched token by token, ignoring case (and accents when
 * asked). Used as an entity extractor (`lookup_entities`) and, through {@link LookupMatcher}, as features.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import type { LookupTable, TrainingData } from '../../data/types.js'
import type { ComponentState, EntityExtractor, FitContext, FittedEntityExtractor, JsonValue } from '../component.js'
import { fmix32, H1_INIT, H2_INIT, KeyTable, step1, step2 } from '../hash.js'
import { Nullable, paramError, validateParams } from '../params.js'
import { TextScanner, type Token } from '../tokenizer.js'
import type { EntityPrediction } from '../types.js'

/** Phrases longer than this many tokens are never matched. */
export const MAX_LOOKUP_TOKENS = 32

/**
 * Matches the phrases of several lookup tables in a text, allocating nothing per call. A phrase matches a run of
 * whole tokens whose normalised forms equal the phrase's tokens.
 */
export class LookupMatcher {
  readonly scanner: TextScanner
  private readonly keys = new KeyTable(64)
  /** Keys of every proper prefix of a phrase: a run of tokens that is none stops the search from its first token. */
  private readonly prefixes = new KeyTable(64)
  /** For each distinct phrase key, the tables that list it. */
  private readonly owners: number[][] = []
  private readonly maxLen: number
  private ha = new Uint32Array(64)
  private hb = new Uint32Array(64)

  constructor(
    readonly tables: ReadonlyArray<{ name: string; elements: readonly string[] }>,
    foldAccents: boolean,
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
          const [x, y] = tokenHash(sc, i)
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

  /**
   * Call `onMatch(table, firstToken, lastToken)` for every phrase occurrence; with `longest`, keep only the
   * leftmost-longest non-overlapping occurrences. Token offsets are in `this.scanner` after the call.
   */
  match(text: string, longest: boolean, onMatch: (table: number, first: number, last: number) => void): void {
    const sc = this.scanner
    const n = sc.scan(text)
    if (n === 0 || this.maxLen === 0) return
    if (n > this.ha.length) {
      this.ha = new Uint32Array(n * 2)
      this.hb = new Uint32Array(n * 2)
    }
    for (let i = 0; i < n; i++) {
      const [x, y] = tokenHash(sc, i)
      this.ha[i] = x
      this.hb[i] = y
    }
    for (let i = 0; i < n; i++) {
      let bestId = -1
      let bestLast = -1
      const stop = Math.min(n, i + this.maxLen)
      // The run's hash grows a token at a time; it ends where no phrase continues it (most runs: at its first token).
      let a = H1_INIT
      let b = H2_INIT
      for (let j = i; j < stop; j++) {
        a = step1(a, this.ha[j]!)
        b = step2(b, this.hb[j]!)
        const len = j - i + 1
        const ka = runKeyA(a, len)
        const kb = runKeyB(b, len)
        const id = this.keys.get(ka, kb)
        if (id >= 0) {
          if (longest) {
            bestId = id
            bestLast = j
          } else for (const t of this.owners[id]!) onMatch(t, i, j)
        }
        if (this.prefixes.get(ka, kb) < 0) break
      }
      if (longest && bestId >= 0) {
        for (const t of this.owners[bestId]!) onMatch(t, i, bestLast)
        i = bestLast
      }
    }
  }
}

/** The key of a run of `len` tokens from its rolled hashes; the length keeps runs of different sizes apart. */
function runKeyA(a: number, len: number): number {
  return fmix32(a ^ Math.imul(len, 0x9e3779b1))
}
function runKeyB(b: number, len: number): number {
  return fmix32(b ^ Math.imul(len, 0x85ebca77))
}

function tokenHash(sc: TextScanner, i: number): [number, number] {
  let a = H1_INIT
  let b = H2_INIT
  for (let j = sc.tokStart[i]!; j < sc.tokEnd[i]!; j++) {
    a = step1(a, sc.chars[j]!)
    b = step2(b, sc.chars[j]!)
  }
  return [fmix32(a), fmix32(b ^ 0x5bd1e995)]
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

export class FittedLookupEntities implements FittedEntityExtractor {
  readonly type = 'lookup_entities'
  // Its matcher scans the text itself, with its own normalisation.
  readonly usesTokens = false
  readonly entityTypes: readonly string[]
  private readonly matcher: LookupMatcher

  constructor(
    readonly params: Readonly<LookupEntitiesParams>,
    private readonly tables: Array<{ name: string; elements: string[] }>,
  ) {
    this.matcher = new LookupMatcher(tables, params.foldAccents)
    this.entityTypes = tables.map((t) => t.name)
  }

  extract(text: string, _tokens: readonly Token[]): EntityPrediction[] {
    const out: EntityPrediction[] = []
    const sc = this.matcher.scanner
    this.matcher.match(text, true, (t, first, last) => {
      const start = sc.srcStart[first]!
      const end = sc.srcEnd[last]!
      out.push({
        start,
        end,
        entity: this.tables[t]!.name,
        value: text.slice(start, end),
        extractor: this.type,
        confidence_entity: 1,
      })
    })
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
