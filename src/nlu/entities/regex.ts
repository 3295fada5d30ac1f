/**
 * Regular-expression entities: every `regex` of the training data named like an annotated entity becomes an
 * extractor of that entity (as Rasa's RegexEntityExtractor). Also the pattern compiler shared with the regex
 * featurizer.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import type { RegexFeature, TrainingData } from '../../data/types.js'
import { createError } from '../../errors.js'
import {
  compileDataRegex,
  dataRegexJudged,
  dataRegexRisk,
  dataRegexSyntaxError,
  MAX_CHECKED_TEXT,
  newRegexCheckTally,
  type RegexCheckTally,
  regexCheckLimit,
} from '../../util/regex-safety.js'
import { isAscii } from '../../util/text.js'
import type {
  ComponentState,
  EntityExtractor,
  FitContext,
  FittedEntityExtractor,
  JsonValue,
  LoadContext,
} from '../component.js'
import { Nullable, paramError, validateParams } from '../params.js'
import type { Token } from '../tokenizer.js'
import type { EntityPrediction } from '../types.js'
import { annotatedEntityTypes } from './lookup.js'

/**
 * Patterns are run on at most this many leading characters of a message, bounding the time a slow pattern can take
 * on a huge message; the safety check judges patterns at this length.
 */
export const MAX_REGEX_INPUT = MAX_CHECKED_TEXT

/** One named group of patterns, as stored in a model file. */
export interface PatternSet {
  name: string
  patterns: string[]
}

/**
 * Compile a pattern as every data regex compiles (`compileDataRegex`: Unicode mode); `wordBoundaries` requires the
 * match not to touch a letter or digit on either side (Unicode-aware, unlike `\b`). Throws ERR_NLU_REGEX_INVALID, or ERR_NLU_REGEX_UNSAFE for a pattern that
 * can backtrack catastrophically, with the data file position. Every pattern of training data and model files goes
 * through here, so a model with such a pattern can neither be trained nor loaded. The patterns of one training run
 * or model load share a `tally` (see `regexCheckLimit`), which charges a pattern once however many steps use it:
 * past its limits this throws ERR_REGEX_CHECK_LIMIT.
 */
export function compilePattern(
  pattern: string,
  name: string,
  caseSensitive: boolean,
  wordBoundaries: boolean,
  source?: RegexFeature['source'],
  tally: RegexCheckTally = newRegexCheckTally(),
): RegExp {
  const body = wordBoundaries ? `(?<![\\p{L}\\p{N}_])(?:${pattern})(?![\\p{L}\\p{N}_])` : pattern
  const location = source ? { location: source } : {}
  // The bare pattern first, so an error message shows the user's pattern, not our wrapper; a pattern that compiles
  // alone compiles wrapped.
  const bad = dataRegexSyntaxError(pattern)
  if (bad !== undefined) {
    throw createError('ERR_NLU_REGEX_INVALID', { name, pattern, detail: bad.detail, advice: bad.advice }, location)
  }
  const compiled = compileDataRegex(body, caseSensitive ? 'g' : 'gi')
  const limit = dataRegexJudged(tally, pattern) ? undefined : regexCheckLimit(tally)
  if (limit !== undefined) {
    throw createError(
      'ERR_REGEX_CHECK_LIMIT',
      { where: `the pipeline's regexes (at '${name}')`, detail: limit },
      location,
    )
  }
  // Checked as every step may run it, whatever this one does, so validation, training and loading agree.
  const risk = dataRegexRisk(pattern, tally)
  if (risk !== undefined) throw createError('ERR_NLU_REGEX_UNSAFE', { name, pattern, detail: risk.detail }, location)
  return compiled
}

/**
 * A copy of a pattern without Unicode mode that gives the same matches on ASCII text, or undefined when the pattern
 * cannot promise that. V8 runs a case-insensitive Unicode regex several times slower than the same regex without
 * `u` (about 1.1 µs against 0.3 for the default template's two patterns on a CLINC150 message). On ASCII text the two
 * agree when the pattern's source is printable ASCII with no `\u`, `\p` or `\P` escape: the pattern then names no
 * character beyond U+00FF, and the only characters Unicode case folding maps onto ASCII (U+017F ſ and U+212A K) are
 * neither in it nor in the text. The word-boundary wrapper's letters and digits are, in ASCII, `[A-Za-z0-9]`.
 */
export function asciiTwin(
  pattern: string,
  caseSensitive: boolean,
  wordBoundaries: boolean,
  global: boolean,
): RegExp | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i)
    if (c < 0x20 || c > 0x7e) return undefined
    if (c === 0x5c) {
      const next = pattern[++i]
      if (next === 'u' || next === 'p' || next === 'P') return undefined
    }
  }
  const body = wordBoundaries ? `(?<![A-Za-z0-9_])(?:${pattern})(?![A-Za-z0-9_])` : pattern
  try {
    return new RegExp(body, (global ? 'g' : '') + (caseSensitive ? '' : 'i'))
  } catch {
    return undefined
  }
}

/** Regexes of the same name merged; patterns deduplicated and sorted so the state does not depend on data order. */
export function mergePatterns(regexes: readonly RegexFeature[]): PatternSet[] {
  const byName = new Map<string, Set<string>>()
  for (const r of regexes) {
    const set = byName.get(r.name) ?? new Set<string>()
    for (const p of r.patterns) set.add(p)
    byName.set(r.name, set)
  }
  return [...byName.keys()].sort().map((name) => ({ name, patterns: [...byName.get(name)!].sort() }))
}

/**
 * Check every pattern of the training data compiles and is safe, reporting the first bad one with its position;
 * `tally` is the training run's (see {@link compilePattern}).
 */
export function checkPatterns(
  regexes: readonly RegexFeature[],
  caseSensitive: boolean,
  tally: RegexCheckTally = newRegexCheckTally(),
): void {
  for (const r of regexes) {
    for (let i = 0; i < r.patterns.length; i++) {
      compilePattern(r.patterns[i]!, r.name, caseSensitive, false, r.sources?.[i] ?? r.source, tally)
    }
  }
}

export const RegexEntitiesParamsSchema = Type.Object(
  {
    caseSensitive: Type.Boolean({ default: false, description: 'Match letter case exactly.' }),
    useWordBoundaries: Type.Boolean({
      default: true,
      description: 'A match may not start or end inside a word.',
    }),
    entities: Nullable(
      Type.Array(Type.String({ minLength: 1 })),
      'Regexes to use, by name; null uses every regex named like an entity annotated in the training data.',
    ),
  },
  { additionalProperties: false },
)

export type RegexEntitiesParams = Static<typeof RegexEntitiesParamsSchema>

export function regexEntitiesParams(raw: unknown): RegexEntitiesParams {
  return validateParams('regex_entities', RegexEntitiesParamsSchema, raw)
}

export class RegexEntities implements EntityExtractor<RegexEntitiesParams> {
  readonly type = 'regex_entities'
  constructor(readonly params: Readonly<RegexEntitiesParams>) {}

  getParams(): Record<string, JsonValue> {
    return structuredClone(this.params) as unknown as Record<string, JsonValue>
  }

  fit(data: TrainingData, ctx: FitContext): FittedRegexEntities {
    const wanted = this.params.entities ? new Set(this.params.entities) : annotatedEntityTypes(data)
    const chosen = data.regexes.filter((r) => wanted.has(r.name))
    const tally = ctx.regexTally ?? newRegexCheckTally()
    checkPatterns(chosen, this.params.caseSensitive, tally)
    return new FittedRegexEntities(this.params, mergePatterns(chosen), tally)
  }
}

export class FittedRegexEntities implements FittedEntityExtractor {
  readonly type = 'regex_entities'
  readonly usesTokens = false
  readonly entityTypes: readonly string[]
  /**
   * `dedupe`: an earlier pattern has the same name, so a span it found may come again. `ascii`: the same matches on
   * ASCII text, faster (see {@link asciiTwin}).
   */
  private readonly compiled: Array<{ name: string; re: RegExp; ascii: RegExp | undefined; dedupe: boolean }>

  /** `tally`: the training run's or model load's (see {@link compilePattern}). */
  constructor(
    readonly params: Readonly<RegexEntitiesParams>,
    private readonly sets: PatternSet[],
    tally: RegexCheckTally = newRegexCheckTally(),
  ) {
    const names = new Set<string>()
    this.compiled = sets.flatMap((s) =>
      s.patterns.map((p) => {
        const dedupe = names.has(s.name)
        names.add(s.name)
        return {
          name: s.name,
          re: compilePattern(p, s.name, params.caseSensitive, params.useWordBoundaries, undefined, tally),
          ascii: asciiTwin(p, params.caseSensitive, params.useWordBoundaries, true),
          dedupe,
        }
      }),
    )
    this.entityTypes = sets.map((s) => s.name)
  }

  extract(text: string, _tokens: readonly Token[]): EntityPrediction[] {
    const input = text.length > MAX_REGEX_INPUT ? text.slice(0, MAX_REGEX_INPUT) : text
    const out: EntityPrediction[] = []
    // Spans found so far, built from the first pattern whose name came before: one pattern never finds a span twice
    // (matches of a global regex start past the previous one), so a name with one pattern needs no set.
    let seen: Set<string> | undefined
    const ascii = isAscii(input)
    for (let c = 0; c < this.compiled.length; c++) {
      const entry = this.compiled[c]!
      const { name, dedupe } = entry
      const re = ascii && entry.ascii !== undefined ? entry.ascii : entry.re
      if (dedupe && seen === undefined) {
        seen = new Set()
        for (const e of out) seen.add(spanKey(e.entity, e.start, e.end))
      }
      re.lastIndex = 0
      for (let m = re.exec(input); m !== null; m = re.exec(input)) {
        if (m[0].length === 0) {
          re.lastIndex = pastEmptyMatch(input, re)
          continue
        }
        const start = m.index
        const end = start + m[0].length
        if (seen !== undefined) {
          const key = spanKey(name, start, end)
          if (seen.has(key)) continue
          seen.add(key)
        }
        out.push({ start, end, entity: name, value: m[0], extractor: this.type, confidence_entity: 1 })
      }
    }
    return out.length > 1 ? out.sort(byStartEnd) : out
  }

  toState(): ComponentState {
    return {
      json: { params: this.params as unknown as JsonValue, patterns: this.sets as unknown as JsonValue },
      arrays: {},
    }
  }

  static fromState(state: ComponentState, ctx?: LoadContext): FittedRegexEntities {
    const json = state.json as { params?: unknown; patterns?: unknown }
    return new FittedRegexEntities(
      regexEntitiesParams(json.params),
      checkPatternSets('regex_entities', json.patterns),
      ctx?.regexTally,
    )
  }
}

/**
 * Where a global regex searches next after an empty match at `re.lastIndex`. In unicode mode the engine moves an index
 * that falls inside a surrogate pair back to the pair's start, so stepping one code unit past an empty match before
 * an emoji finds the same empty match again, forever: step over the whole code point, as `String.prototype.matchAll`
 * does (AdvanceStringIndex).
 */
export function pastEmptyMatch(input: string, re: RegExp): number {
  const i = re.lastIndex
  if (re.unicode && i + 1 < input.length) {
    const c = input.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = input.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) return i + 2
    }
  }
  return i + 1
}

function spanKey(name: string, start: number, end: number): string {
  return `${name}\u0000${start}\u0000${end}`
}

function byStartEnd(a: EntityPrediction, b: EntityPrediction): number {
  return a.start - b.start || a.end - b.end
}

/** Check the shape of saved pattern sets. */
export function checkPatternSets(component: string, raw: unknown): PatternSet[] {
  const ok =
    Array.isArray(raw) &&
    raw.every(
      (s) =>
        s &&
        typeof s === 'object' &&
        typeof (s as { name?: unknown }).name === 'string' &&
        Array.isArray((s as { patterns?: unknown }).patterns) &&
        (s as { patterns: unknown[] }).patterns.every((p) => typeof p === 'string'),
    )
  if (!ok) throw paramError(component, `The saved state of ${component} has bad patterns.`)
  return raw as PatternSet[]
}
