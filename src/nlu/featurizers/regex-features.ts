/**
 * Binary features from the training data's regexes and lookup tables: one column per regex name ("some pattern of
 * `zipcode` matches") and one per lookup table ("some phrase of `city` occurs"). They let the intent classifier
 * use knowledge that the examples alone may not cover.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'
import { compileDataRegex, newRegexCheckTally, type RegexCheckTally } from '../../util/regex-safety.js'
import { isAscii } from '../../util/text.js'
import type {
  ComponentState,
  Featurizer,
  FeaturizerFitContext,
  FittedFeaturizer,
  JsonValue,
  LoadContext,
} from '../component.js'
import { checkTables, LookupMatcher, mergeTables } from '../entities/lookup.js'
import {
  asciiTwin,
  checkPatternSets,
  checkPatterns,
  compilePattern,
  MAX_REGEX_INPUT,
  mergePatterns,
} from '../entities/regex.js'
import { validateParams } from '../params.js'
import type { SparseVector } from '../sparse.js'
import type { ScannerPool, ScannerUser } from '../tokenizer.js'

export const RegexFeaturesParamsSchema = Type.Object(
  {
    useRegexes: Type.Boolean({ default: true, description: 'One feature per regex name.' }),
    useLookups: Type.Boolean({ default: true, description: 'One feature per lookup table.' }),
    caseSensitive: Type.Boolean({ default: false, description: 'Regexes match letter case exactly.' }),
    foldAccents: Type.Boolean({ default: false, description: 'Lookup phrases match regardless of accents.' }),
    weight: Type.Number({
      exclusiveMinimum: 0,
      maximum: 100,
      default: 1,
      description: 'Value of a feature that fires.',
    }),
  },
  { additionalProperties: false },
)

export type RegexFeaturesParams = Static<typeof RegexFeaturesParamsSchema>

export function regexFeaturesParams(raw: unknown): RegexFeaturesParams {
  return validateParams('regex_features', RegexFeaturesParamsSchema, raw)
}

export class RegexFeaturizer implements Featurizer<RegexFeaturesParams> {
  readonly type = 'regex_features'
  constructor(readonly params: Readonly<RegexFeaturesParams>) {}

  getParams(): Record<string, JsonValue> {
    return structuredClone(this.params) as unknown as Record<string, JsonValue>
  }

  fit(_texts: readonly string[], ctx: FeaturizerFitContext): FittedRegexFeatures {
    const p = this.params
    const tally = ctx.regexTally ?? newRegexCheckTally()
    if (p.useRegexes) checkPatterns(ctx.data.regexes, p.caseSensitive, tally)
    return new FittedRegexFeatures(
      p,
      p.useRegexes ? mergePatterns(ctx.data.regexes) : [],
      p.useLookups ? mergeTables(ctx.data.lookups) : [],
      tally,
    )
  }
}

export class FittedRegexFeatures implements FittedFeaturizer, ScannerUser {
  readonly type = 'regex_features'
  readonly dim: number
  private readonly regexes: RegExp[][]
  /** The same patterns for ASCII messages (see {@link asciiTwin}); a pattern without a twin keeps its own. */
  private readonly asciiRegexes: RegExp[][]
  /** Replaced by an equivalent matcher when a pipeline shares one (see {@link shareLookupMatchers}). */
  lookupMatcher: LookupMatcher
  private readonly hit: Uint8Array

  /** `tally`: the training run's or model load's (see `compilePattern`). */
  constructor(
    readonly params: Readonly<RegexFeaturesParams>,
    private readonly patterns: ReturnType<typeof mergePatterns>,
    private readonly tables: ReturnType<typeof mergeTables>,
    tally: RegexCheckTally = newRegexCheckTally(),
  ) {
    this.regexes = patterns.map((s) =>
      // Sticky-free, non-global copies: `test` must not carry lastIndex from one message to the next.
      s.patterns.map((p) =>
        compileDataRegex(
          compilePattern(p, s.name, params.caseSensitive, false, undefined, tally).source,
          params.caseSensitive ? '' : 'i',
        ),
      ),
    )
    this.asciiRegexes = patterns.map((s, i) =>
      s.patterns.map((p, j) => asciiTwin(p, params.caseSensitive, false, false) ?? this.regexes[i]![j]!),
    )
    this.lookupMatcher = new LookupMatcher(tables, params.foldAccents)
    this.dim = patterns.length + tables.length
    this.hit = new Uint8Array(tables.length)
  }

  useScanners(pool: ScannerPool): void {
    this.lookupMatcher.useScanners(pool)
  }

  transformOne(text: string, out: SparseVector, offset: number, scale: number): void {
    if (this.dim === 0) return
    const value = this.params.weight * scale
    if (this.regexes.length > 0) {
      const input = text.length > MAX_REGEX_INPUT ? text.slice(0, MAX_REGEX_INPUT) : text
      const regexes = isAscii(input) ? this.asciiRegexes : this.regexes
      for (let r = 0; r < regexes.length; r++) {
        if (anyTest(regexes[r]!, input)) out.push(offset + r, value)
      }
    }
    if (this.tables.length > 0) {
      const hit = this.hit
      const matcher = this.lookupMatcher
      const count = matcher.find(text)
      if (count > 0) {
        hit.fill(0)
        for (let k = 0; k < count; k++) hit[matcher.tableOf(k)] = 1
        const base = offset + this.patterns.length
        for (let t = 0; t < hit.length; t++) if (hit[t] === 1) out.push(base + t, value)
      }
    }
  }

  toState(): ComponentState {
    return {
      json: {
        params: this.params as unknown as JsonValue,
        patterns: this.patterns as unknown as JsonValue,
        tables: this.tables as unknown as JsonValue,
      },
      arrays: {},
    }
  }

  static fromState(state: ComponentState, ctx?: LoadContext): FittedRegexFeatures {
    const json = state.json as { params?: unknown; patterns?: unknown; tables?: unknown }
    return new FittedRegexFeatures(
      regexFeaturesParams(json.params),
      checkPatternSets('regex_features', json.patterns),
      checkTables('regex_features', json.tables),
      ctx?.regexTally,
    )
  }
}

function anyTest(res: readonly RegExp[], input: string): boolean {
  for (let i = 0; i < res.length; i++) if (res[i]!.test(input)) return true
  return false
}
