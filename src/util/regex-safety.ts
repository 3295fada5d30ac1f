/**
 * Refusing regular expressions that can backtrack catastrophically. V8 runs a regex on the event loop and cannot
 * interrupt it, so one pattern such as `(a+)+$` and one crafted message can freeze `predict` or the server for good.
 * The verdict comes from the ambiguity of the pattern's automaton (`regex-analysis.ts`): exponential backtracking is
 * refused, and so is polynomial backtracking above {@link MAX_DEGREE}. Time that grows as the square of the text is
 * accepted: texts are bounded ({@link MAX_CHECKED_TEXT} characters for the regex steps and by default for the
 * server), where a quadratic pattern costs tens of milliseconds, and such patterns are common (`\d+\.\d+`, e-mail
 * shapes). What the growth leaves out is then counted: the steps a pattern can take on a text of that length, which
 * items that split the same text in many ways multiply without any repetition (`a?a?a?…aaa`, `\d?\d?\d+x`), and
 * the n²/2 of a single attempt that is quadratic by itself (`^\d+\d+x`; n² for `^\d?\d+\d+x`), which only one
 * start does not bound, are refused above {@link MAX_MATCH_STEPS}. A pattern the analysis cannot read falls back to
 * safe-regex2's star-height check and a count of variable-length items in a row; one whose steps cannot be counted
 * within {@link MAX_JUDGE_STEPS} is refused.
 * @module
 */
import safeRegex from 'safe-regex2'
import {
  AnalysisTooLarge,
  type Attack,
  analyseBacktracking,
  estimateWork,
  MAX_POSITIONS,
  type Work,
} from './regex-analysis.js'
import { RegexSyntaxUnsupported } from './regex-parse.js'

/** The highest power of the text length a pattern's backtracking may grow as. */
export const MAX_DEGREE = 2

/** safe-regex2's default cap on the quantifiers of one pattern, named so a fallback refusal can state it. */
export const MAX_QUANTIFIERS = 25

/**
 * The text length patterns are judged at unless longer texts reach them: the regex steps read at most this many
 * characters of a message (`MAX_REGEX_INPUT`), and the server's `serve.maxTextLength` is this by default. Redaction
 * rules run on whole texts, so they are judged at the longest the server takes when that is longer.
 */
export const MAX_CHECKED_TEXT = 10_000

/**
 * The most backtracking steps a pattern may take on a text of {@link MAX_CHECKED_TEXT} characters: five times the
 * n²/2 = 5·10^7 of a plain quadratic pattern such as `\d+\.\d+`, which V8 runs in 50 to 80 ms on such a text. Four
 * ways through a quadratic part pass: the common e-mail shapes, `[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.` (1.0·10^8,
 * about 150 ms measured) and the RFC 5322 one with dotted parts (2.0·10^8, about 140 ms), and `\d?\d?\d+x` (2.0·10^8,
 * 200 to 245 ms). Eight ways (`\d?\d?\d?\d+x`, 4·10^8) do not, nor do sixteen optional `a?` before sixteen `a`
 * (6·10^9, a second measured) or eight `\d?` before `\d+x` (1.3·10^10, 21 s). The estimate counts steps, where V8 runs
 * some much faster (a run of one letter): `a?` twelve times before twelve `a` is refused at 4.9·10^8, measured 27 ms.
 */
export const MAX_MATCH_STEPS = 2.5e8

/**
 * The steps the check may spend on one pattern as run (a data pattern is checked twice: alone and between word
 * boundaries), a few hundred nanoseconds each: half a second at most. Typical patterns take a few thousand.
 */
export const MAX_JUDGE_STEPS = 1_000_000

/**
 * The longest pattern the check reads, in characters: parsing one takes about a microsecond per character, which
 * the steps do not count. Lists of words that long belong in a lookup table.
 */
export const MAX_PATTERN_LENGTH = 50_000

/**
 * Distinct patterns one check of many may judge: the regexes of a data set, of a training run or of a model file
 * (all its steps together), or a config's redaction rules. With {@link MAX_CHECK_STEPS} it bounds how long a file
 * full of patterns can hold up validation, training, a model load or a server start.
 */
export const MAX_CHECKED_PATTERNS = 1000

/**
 * Steps one check of many may spend in all, each distinct pattern charged what judging it cost (also when the
 * verdict is remembered, so the total does not depend on what was checked before): about ten seconds at most. A
 * typical pattern costs a few thousand; only patterns near {@link MAX_JUDGE_STEPS} each use it up in tens.
 */
export const MAX_CHECK_STEPS = 20_000_000

/**
 * What a check of many patterns has spent so far: start one per data set, training run, model load or config. A
 * pattern the check has judged before (same source, flags and text length) is not charged again, so steps that
 * share their patterns cost what one of them does.
 */
export interface RegexCheckTally {
  patterns: number
  steps: number
  /** The verdicts charged, by {@link verdictKey}. */
  readonly judged: Set<string>
  /** The steps this check may spend in all: {@link MAX_CHECK_STEPS} unless it was made with fewer. */
  readonly maxSteps: number
}

/** `maxSteps`: the steps the check may spend in all, {@link MAX_CHECK_STEPS} by default. */
export function newRegexCheckTally(options: { maxSteps?: number } = {}): RegexCheckTally {
  return { patterns: 0, steps: 0, judged: new Set(), maxSteps: options.maxSteps ?? MAX_CHECK_STEPS }
}

/**
 * Why a check of many patterns may judge no further pattern after what `tally` counts, or undefined while it may.
 * Callers ask before each pattern the check has not judged yet ({@link judgedBefore}, {@link dataRegexJudged}) and
 * stop with ERR_REGEX_CHECK_LIMIT.
 */
export function regexCheckLimit(
  tally: Pick<RegexCheckTally, 'patterns' | 'steps'> & { readonly maxSteps?: number },
): string | undefined {
  if (tally.patterns >= MAX_CHECKED_PATTERNS) {
    return `it has checked ${MAX_CHECKED_PATTERNS.toLocaleString('en-US')} patterns, as many as one check may`
  }
  const most = tally.maxSteps ?? MAX_CHECK_STEPS
  if (tally.steps >= most) {
    const count = (n: number) => (n < 100_000 ? n.toLocaleString('en-US') : scientific(n))
    const patterns = tally.patterns === 1 ? 'its 1 pattern' : `its ${tally.patterns.toLocaleString('en-US')} patterns`
    return `${patterns} so far took ${count(tally.steps)} steps to check, over the ${count(most)} one check may spend`
  }
  return undefined
}

/** Whether the check of `tally` has judged `source` run with `flags` on `textLength` characters: again, it is free. */
export function judgedBefore(
  tally: RegexCheckTally,
  source: string,
  flags: string,
  textLength = MAX_CHECKED_TEXT,
): boolean {
  return tally.judged.has(verdictKey(source, flags, textLength))
}

/** Why a pattern can take too long, for an error message. */
export interface RegexRisk {
  /**
   * `combinatorial`: no repetition makes the time grow faster than the square of the text, but items that split the
   * same text in many ways multiply it past {@link MAX_MATCH_STEPS}. `unanalysed`: too large or unusual for the
   * analysis, and refused by the fallback check; too many ways to count; or longer than {@link MAX_PATTERN_LENGTH}.
   */
  complexity: 'exponential' | 'polynomial' | 'combinatorial' | 'unanalysed'
  /** For `polynomial`: time grows as the text length to this power. */
  degree?: number
  /** For `combinatorial`: the steps counted on a text of the length judged ({@link MAX_CHECKED_TEXT} by default). */
  steps?: number
  /**
   * For `combinatorial`: `search` when the steps are mostly a search's attempts along one long run, each going through
   * the rest of it, which a lookbehind in front that fails inside such a run stops; `attempt` when they are the ways
   * each attempt can match (a whole run's in one attempt, as `^\d+\d+x` splits it), which only matching one way stops.
   */
  cause?: 'search' | 'attempt'
  /** An input that shows it, as a JavaScript expression. */
  attack?: string
  detail: string
}

/**
 * The flags every regex of the training data runs with, whatever the step: Unicode mode. In it `\p{L}` is a letter
 * and `\u{1F600}` one code point, where without it they are the literal texts `p{L}` and `u{1F600}`; and an escape
 * with no meaning (`\-` outside `[...]`, `\_`), a lone `{`, `}` or `]`, or a range next to `\w` is an error rather
 * than a plain character.
 */
export const DATA_REGEX_FLAGS = 'u'

/**
 * Compile a training-data pattern as the pipeline runs it, with `extra` flags (`g`, `i`) added. `intentops data
 * validate`, training and loading a model all compile data regexes here, so a pattern that validates also trains,
 * and matches the same. Throws the engine's SyntaxError; {@link dataRegexSyntaxError} says it for people.
 */
export function compileDataRegex(pattern: string, extra = ''): RegExp {
  return new RegExp(pattern, DATA_REGEX_FLAGS + extra)
}

/** Why a data pattern does not compile, for a message, and how to fix it, for a hint. */
export interface RegexSyntaxProblem {
  /** The engine's words with the pattern and flags, e.g. `/\-/u: Invalid escape`. */
  detail: string
  advice: string
}

/** Advice by the engine's (V8's) reason; a reason not listed gets the general advice alone. */
const SYNTAX_ADVICE: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /Invalid escape$/,
    'Escape only characters that mean something in a pattern (`\\.`, `\\(`, `\\[`, `\\{`, `\\\\`, ...): write `-`, `_`, a space or a letter without `\\`; `\\-` is allowed inside `[...]` only, and a back-reference such as `\\2` needs that many groups in the pattern.',
  ],
  [/Lone quantifier brackets$/, 'Write a literal `{`, `}` or `]` as `\\{`, `\\}` or `\\]`.'],
  [/Incomplete quantifier$/, '`{` starts a count such as `{2}` or `{1,3}`; write a literal `{` as `\\{`.'],
  [
    /Invalid character class$/,
    'A `-` between two members of `[...]` makes a range (`a-z`), and a class such as `\\w` or `\\d` cannot end one: write the `-` first or last (`[\\w.-]`), or escape it (`[\\w\\-.]`).',
  ],
  [
    /Invalid Unicode escape$/,
    'Write `\\u` with four hex digits (`\\u00e9`) or with braces (`\\u{1F600}`), and `\\c` with a letter (`\\cJ`).',
  ],
  [
    /Invalid property name$/,
    '`\\p{...}` and `\\P{...}` take a Unicode property: `\\p{L}` (letters), `\\p{N}` (numbers), `\\p{Script=Greek}`; write a literal `p` without `\\`.',
  ],
  [/Invalid named capture referenced$/, '`\\k<name>` must name a group `(?<name>...)` of the same pattern.'],
  [/Invalid decimal escape$/, 'Write NUL as `\\0` alone; `\\01` and the like are not escapes in Unicode mode.'],
]

/**
 * Why `pattern` does not compile as the pipeline runs data regexes ({@link compileDataRegex}), or undefined when it
 * compiles. The advice says when the pattern compiles without the `u` flag, since that is what a pattern tried in a
 * browser console or an online tester usually was.
 */
export function dataRegexSyntaxError(pattern: string): RegexSyntaxProblem | undefined {
  try {
    compileDataRegex(pattern)
    return undefined
  } catch (err) {
    const detail = (err as Error).message.replace(/^Invalid regular expression: /, '')
    const specific = SYNTAX_ADVICE.find(([reason]) => reason.test(detail))?.[1]
    let plain = true
    try {
      new RegExp(pattern)
    } catch {
      plain = false
    }
    const mode = plain
      ? 'It compiles without the `u` flag, but every step runs data regexes in Unicode mode (`u`), where it does not. '
      : ''
    const general = 'Patterns are JavaScript regular expressions in Unicode mode (the `u` flag).'
    return { detail, advice: `${mode}${specific ?? general}` }
  }
}

/**
 * Verdicts by flags and source, with the steps each cost: training, validation and each model load of a server check
 * the same patterns.
 */
const verdicts = new Map<string, { risk: Judged; steps: number }>()

/** A verdict; a risk whose words depend on what the text length counts is worded for each caller. */
type Judged = RegexRisk | ((unit: TextUnit) => RegexRisk) | undefined
const MAX_VERDICTS = 10_000

const BEFORE_WORD = '(?:^|[^\\p{L}\\p{N}_])(?:'

/** How a data regex runs between word boundaries in `regex_entities` (see `compilePattern`), as a plain pattern. */
function betweenWordBoundaries(pattern: string): string {
  return `${BEFORE_WORD}${pattern})(?:[^\\p{L}\\p{N}_]|$)`
}

/** The flags a data regex is judged with: those it runs with, ignoring case, which can only add ways to match. */
const DATA_CHECK_FLAGS = `${DATA_REGEX_FLAGS}i`

/** Whether the check of `tally` has judged `pattern` as a data regex ({@link dataRegexRisk}): again, it is free. */
export function dataRegexJudged(tally: RegexCheckTally, pattern: string): boolean {
  return judgedBefore(tally, pattern, DATA_CHECK_FLAGS)
}

/**
 * Why a training-data regex can take too long, or undefined when it cannot. It is checked as the pipeline may run
 * it: alone (`regex_features`, `crf`) and between word boundaries (`regex_entities`), ignoring case, which can only
 * add ways to match; so `intentops data validate`, training and loading a model agree whatever the steps.
 *
 * @example
 * dataRegexRisk('(a+)+$')?.complexity // 'exponential'
 * dataRegexRisk('[A-Z]{2}\\d{6}') // undefined
 */
export function dataRegexRisk(pattern: string, tally?: RegexCheckTally): RegexRisk | undefined {
  const flags = DATA_CHECK_FLAGS
  if (tally && !dataRegexJudged(tally, pattern)) tally.patterns++
  return (
    regexRisk(pattern, flags, { tally }) ??
    regexRisk(betweenWordBoundaries(pattern), flags, { shown: pattern, at: BEFORE_WORD.length, tally })
  )
}

/**
 * What a text length counts: `characters` (Unicode code points) or UTF-16 `code units`, where a character past
 * U+FFFF, such as an emoji, is two. A pattern with the `u` or `v` flag reads a text by characters, one without by code
 * units.
 */
export type TextUnit = 'characters' | 'code units'

export interface RegexRiskOptions {
  /** The pattern to name in the message when the source judged wraps it, starting at index `at` of it. */
  shown?: string
  at?: number
  /** Charged what the verdict cost, once: a verdict it was charged already is free. */
  tally?: RegexCheckTally
  /** The longest text the pattern runs on, in `unit`s; {@link MAX_CHECKED_TEXT} by default. */
  textLength?: number
  /**
   * What `textLength` counts, as the message says it; `characters` by default. The verdict does not depend on it: the
   * check counts a step per character the pattern reads, which without the `u` or `v` flag is a code unit.
   */
  unit?: TextUnit
}

/**
 * Why `source`, run with `flags` by `exec`, `test` or `replace`, can take too long on some text, or undefined when it
 * cannot.
 */
export function regexRisk(source: string, flags: string, options: RegexRiskOptions = {}): RegexRisk | undefined {
  const { shown = source, at = 0, tally, textLength = MAX_CHECKED_TEXT, unit = 'characters' } = options
  const key = verdictKey(source, flags, textLength)
  let verdict = verdicts.get(key)
  if (verdict === undefined) {
    const budget = { steps: MAX_JUDGE_STEPS }
    const risk = judge(source, flags, shown, at, textLength, budget)
    // Parsing and building the automaton are not counted in steps; they take about four steps' time per character.
    verdict = { risk, steps: Math.min(MAX_JUDGE_STEPS, MAX_JUDGE_STEPS - budget.steps) + 4 * source.length }
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear()
    verdicts.set(key, verdict)
  }
  if (tally && !tally.judged.has(key)) {
    tally.judged.add(key)
    tally.steps += verdict.steps
  }
  return typeof verdict.risk === 'function' ? verdict.risk(unit) : verdict.risk
}

/** Flags in any order name the same verdict. */
function verdictKey(source: string, flags: string, textLength: number): string {
  return `${[...flags].sort().join('')}/${textLength}/${source}`
}

/**
 * The longest text on which `source`, run with `flags`, stays within the steps allowed, as a multiple of 1,000
 * characters from `from` up to `to`, given that it does on `from` and not on `to`. Its steps grow with the text, so a
 * bisection finds it; each length judged is charged to `tally`.
 */
export function longestTextWithin(
  source: string,
  flags: string,
  from: number,
  to: number,
  tally?: RegexCheckTally,
): number {
  // In thousands of characters: `ok` passes, `over` does not.
  let ok = Math.floor(from / 1000)
  let over = Math.ceil(to / 1000)
  while (over - ok > 1) {
    const mid = Math.floor((ok + over) / 2)
    if (regexRisk(source, flags, { tally, textLength: mid * 1000 }) === undefined) ok = mid
    else over = mid
  }
  return Math.max(from, ok * 1000)
}

function judge(
  source: string,
  flags: string,
  shown: string,
  at: number,
  textLength: number,
  budget: { steps: number },
): Judged {
  if (source.length > MAX_PATTERN_LENGTH) {
    return {
      complexity: 'unanalysed',
      detail: `it is ${shown.length.toLocaleString('en-US')} characters long, more than the ${MAX_PATTERN_LENGTH.toLocaleString('en-US')} the check reads; put a long list of words in a lookup table`,
    }
  }
  let found: ReturnType<typeof analyseBacktracking>
  const runFlags = flags.replace(/[gdy]/g, '')
  const search = !flags.includes('y')
  try {
    found = analyseBacktracking(source, runFlags, { search }, budget)
  } catch (err) {
    if (!(err instanceof AnalysisTooLarge) && !(err instanceof RegexSyntaxUnsupported)) throw err
    const why =
      err instanceof RegexSyntaxUnsupported
        ? `outside what the exact check reads (${err.message})`
        : budget.steps < 0
          ? `too costly for the exact check (over ${MAX_JUDGE_STEPS.toLocaleString('en-US')} steps)`
          : `too large for the exact check (over ${MAX_POSITIONS} characters and classes once counts are unrolled)`
    const nested = heuristicRisk(shown)
    return nested === undefined ? undefined : { complexity: 'unanalysed', detail: `${why}, and ${nested}` }
  }
  if (found === undefined || (found.kind === 'polynomial' && found.degree <= MAX_DEGREE)) {
    let work: Work
    try {
      work = estimateWork(source, runFlags, { search }, textLength, MAX_MATCH_STEPS, budget)
    } catch (err) {
      if (!(err instanceof AnalysisTooLarge)) throw err
      // The automaton was small enough for the analysis above, so what the count could not follow is the number of
      // ways its items split texts: too many to judge, and refused rather than run blind.
      return {
        complexity: 'unanalysed',
        detail: `its items can split a text in too many ways for the check to count the steps they take (${GENERIC_ADVICE})`,
      }
    }
    return work.steps > MAX_MATCH_STEPS ? combinatorial(work, shown, at, textLength) : undefined
  }
  if (found.kind === 'exponential') {
    const attack = render(found.attack, 30)
    return {
      complexity: 'exponential',
      attack,
      detail: `exponential backtracking in \`${found.culprit}\`, which can match a repeated ${JSON.stringify(found.attack.pump)} in more than one way: a text like ${attack} takes over 2^30 steps`,
    }
  }
  const attack = found.attack ? render(found.attack, 10_000) : undefined
  const parts =
    found.culprits.length > 0 ? ` in ${[...new Set(found.culprits)].map((c) => `\`${c}\``).join(' and ')}` : ''
  const example = attack ? `: a text like ${attack} takes about 10^${4 * found.degree} steps` : ''
  return {
    complexity: 'polynomial',
    degree: found.degree,
    ...(attack ? { attack } : {}),
    detail: `backtracking time that grows as the text length to the power ${found.degree}${parts}, which can split the same text in many ways${example}`,
  }
}

const GENERIC_ADVICE =
  'make its items match a text one way only: one counted repetition for optional items in a row (`a?a?a?` → `a{0,3}`), no optional item beside a repetition of the same characters (`\\d?\\d+` → `\\d+`), alternatives that start differently (`\\d+a|\\d+b` → `\\d+[ab]`)'

const SEARCH_ADVICE =
  'let a match start only after a character such a run cannot hold, with a lookbehind in front (`\\d+\\.\\d+` → `(?<!\\d)\\d+\\.\\d+`), so that each run is gone through from its start alone'

/**
 * The risk of a pattern whose steps `work` counts on a text of `textLength`, in the words of the unit the caller counts
 * it in; `shown` starts at `offset` in the source counted.
 */
function combinatorial(work: Work, shown: string, offset: number, textLength: number): (unit: TextUnit) => RegexRisk {
  const attack = renderFilled(work.attack, textLength)
  const ways = work.ways >= 1e15 ? 'more than 10^15' : work.ways.toLocaleString('en-US')
  let from = Math.max(0, work.span[0] - offset)
  let to = Math.min(shown.length, work.span[1] - offset)
  if (to <= from) [from, to] = [0, shown.length]
  const rewrite = rewriteOf(shown, from, to)
  if (rewrite) [from, to] = [Math.min(from, rewrite.start), Math.max(to, rewrite.end)]
  const culprit = excerpt(shown.slice(from, to))
  const cost = (unit: TextUnit) =>
    `a text like ${attack} takes ${work.steps >= 1e15 ? 'more than 10^15' : `about ${scientific(work.steps)}`} steps, over the ${scientific(MAX_MATCH_STEPS)} allowed on ${textLength.toLocaleString('en-US')} ${unit === 'code units' ? 'UTF-16 code units' : 'characters'}`
  // One way to match: only the search's new attempt at each character of a long run, over texts longer than the
  // default, adds up.
  if (work.ways <= 1) {
    return (unit) => ({
      complexity: 'combinatorial',
      steps: work.steps,
      cause: work.cause,
      attack,
      detail: `\`${culprit}\` is tried again from each character of a long run it matches: ${cost(unit)}; ${SEARCH_ADVICE}`,
    })
  }
  const advice = rewrite
    ? `write \`${excerpt(shown.slice(rewrite.start, rewrite.end))}\` as \`${rewrite.to}\``
    : GENERIC_ADVICE
  return (unit) => ({
    complexity: 'combinatorial',
    steps: work.steps,
    cause: work.cause,
    attack,
    detail: `\`${culprit}\` can match the same text in ${ways} ways, each tried in turn: ${cost(unit)}; ${advice}`,
  })
}

/** A part of a pattern short enough to quote in a message. */
function excerpt(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 60)}…${text.slice(-15)}`
}

/** `4×10^8`, `2.5×10^8`, or `10^8` for a round power. */
function scientific(n: number): string {
  let exp = Math.floor(Math.log10(n))
  let mantissa = Number((n / 10 ** exp).toPrecision(3))
  if (mantissa >= 10) {
    mantissa /= 10
    exp += 1
  }
  return mantissa === 1 ? `10^${exp}` : `${mantissa}×10^${exp}`
}

/** An attack of {@link estimateWork} as a JavaScript expression of about `length` characters. */
function renderFilled(a: Attack, length: number): string {
  if (a.pump === '') return JSON.stringify(a.prefix + a.suffix)
  const times = Math.max(1, Math.floor((length - a.prefix.length - a.suffix.length) / a.pump.length))
  return render(a, times)
}

function render(a: Attack, times: number): string {
  const parts = [
    a.prefix ? JSON.stringify(a.prefix) : '',
    `${JSON.stringify(a.pump)}.repeat(${times})`,
    a.suffix ? JSON.stringify(a.suffix) : '',
  ]
  return parts.filter((p) => p !== '').join(' + ')
}

/**
 * The fallback: safe-regex2's star-height check, which refuses a quantified group holding another quantifier (with
 * the shaping below), for patterns the exact analysis does not read. Returns e.g. "nested quantifier `(a+)+`".
 */
export function heuristicRisk(pattern: string): string | undefined {
  const tokens = tokenize(pattern)
  const run = longestVariableRun(tokens)
  if (run.length > MAX_VARIABLE_RUN) {
    const text = excerpt(pattern.slice(run.start, run.end))
    return `the fallback check finds ${run.length} items of variable length in a row (\`${text}\`), which can split a text in more ways than it can tell apart`
  }
  const { shaped, quantifiers } = shape(tokens)
  if (safeRegex(shaped, { limit: MAX_QUANTIFIERS })) return undefined
  // Inner groups close first, so the first unsafe one is the smallest that shows the problem; each is shaped on its
  // own, as a pattern by itself.
  for (const g of repeatedGroups(pattern, tokens)) {
    if (!safeRegex(shape(tokenize(g)).shaped, { limit: MAX_QUANTIFIERS }))
      return `the fallback check finds a nested quantifier \`${g}\``
  }
  if (quantifiers > MAX_QUANTIFIERS)
    return `the fallback check counts ${quantifiers} quantifiers, more than the ${MAX_QUANTIFIERS} it allows`
  return 'the fallback check cannot read it'
}

/**
 * Items of variable length in a row the fallback accepts: without the exact analysis it cannot tell whether they can
 * take the same characters, as in `a?a?a?…aaa`, where each one doubles the ways.
 */
export const MAX_VARIABLE_RUN = 10

/**
 * The longest run of items in a row that each match a variable number of characters: a quantified item (`a?`, `\d*`,
 * `(ab)?`) or a group holding one or alternatives (`(?:a?)`, `(a|bc)`).
 */
function longestVariableRun(tokens: readonly Token[]): { length: number; start: number; end: number } {
  let best = { length: 0, start: 0, end: 0 }
  type Frame = { length: number; start: number; variable: boolean }
  const frames: Frame[] = [{ length: 0, start: 0, variable: false }]
  const item = (from: number, to: number, variable: boolean, next: Token | undefined) => {
    const frame = frames[frames.length - 1]!
    const quantified = next?.kind === 'quant' && !next.exact
    if (!variable && !quantified) {
      frame.length = 0
      return
    }
    frame.variable = true
    if (frame.length === 0) frame.start = from
    frame.length++
    const end = quantified ? next.at + next.text.length : to
    if (frame.length > best.length) best = { length: frame.length, start: frame.start, end }
  }
  const openAt = new Map<number, number>()
  for (const tok of tokens) if (tok.kind === 'open' && tok.close !== undefined) openAt.set(tok.close, tok.at)
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!
    if (tok.kind === 'open') frames.push({ length: 0, start: 0, variable: false })
    else if (tok.kind === 'close') {
      const inner = frames.length > 1 ? frames.pop()! : undefined
      item(openAt.get(t) ?? tok.at, tok.at + 1, inner?.variable ?? false, tokens[t + 1])
    } else if (tok.kind === 'atom') item(tok.at, tok.at + tok.text.length, false, tokens[t + 1])
    else if (tok.kind === 'other') {
      const frame = frames[frames.length - 1]!
      frame.length = 0
      if (tok.text === '|') frame.variable = true
    }
  }
  return best
}

type Token =
  | { kind: 'atom' | 'other' | 'close'; at: number; text: string }
  | { kind: 'open'; at: number; text: string; close?: number }
  | { kind: 'quant'; at: number; text: string; optional: boolean; exact: boolean }

const COUNT = /^\{(\d+)(?:(,)(\d*))?\}/

/**
 * Split a pattern into atoms (a character, escape or class), group openings and closings, quantifiers (with their
 * lazy `?`) and the rest (`|`, `^`, `$`). Lookbehinds open as lookaheads, which safe-regex2's parser reads and which
 * nest alike.
 */
function tokenize(pattern: string): Token[] {
  const out: Token[] = []
  const open: number[] = []
  const n = pattern.length
  let i = 0
  while (i < n) {
    const c = pattern[i]!
    const at = i
    if (c === '\\') {
      const next = pattern[i + 1] ?? ''
      let end = i + 2
      // `\u{…}`, `\p{…}`, `\P{…}` and `\k<…>` are one escape: their braces are not a count.
      if ((next === 'u' || next === 'p' || next === 'P') && pattern[end] === '{') end = pattern.indexOf('}', end) + 1
      else if (next === 'k' && pattern[end] === '<') end = pattern.indexOf('>', end) + 1
      if (end <= i) end = n
      out.push({ kind: 'atom', at, text: pattern.slice(i, end) })
      i = end
    } else if (c === '[') {
      let j = i + 1
      while (j < n && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1
      out.push({ kind: 'atom', at, text: pattern.slice(i, j + 1) })
      i = j + 1
    } else if (c === '(') {
      let end = i + 1
      let text: string | undefined
      if (pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) {
        end = i + 4
        text = `(?${pattern[i + 3]}`
      } else if (pattern.startsWith('(?<', i)) end = pattern.indexOf('>', i) + 1 || n
      else if (pattern[i + 1] === '?') end = i + 3
      open.push(out.length)
      out.push({ kind: 'open', at, text: text ?? pattern.slice(i, end) })
      i = end
    } else if (c === ')') {
      const o = open.pop()
      const opening = o === undefined ? undefined : out[o]
      if (opening?.kind === 'open') opening.close = out.length
      out.push({ kind: 'close', at, text: ')' })
      i += 1
    } else {
      const q = quantifierAt(pattern, i)
      if (q) {
        out.push({ kind: 'quant', at, ...q })
        i += q.text.length
      } else {
        out.push({ kind: c === '|' || c === '^' || c === '$' ? 'other' : 'atom', at, text: c })
        i += 1
      }
    }
  }
  return out
}

/** The quantifier starting at `i` with its lazy `?`, if any; `optional` when it repeats at most once. */
function quantifierAt(pattern: string, i: number): { text: string; optional: boolean; exact: boolean } | undefined {
  const c = pattern[i]
  let text: string
  let optional = false
  let exact = false
  if (c === '?' || c === '*' || c === '+') {
    text = c
    optional = c === '?'
  } else if (c === '{') {
    const m = COUNT.exec(pattern.slice(i))
    if (!m) return undefined
    text = m[0]
    exact = m[2] === undefined || m[1] === m[3]
    const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3])
    optional = max <= 1
  } else {
    return undefined
  }
  if (pattern[i + text.length] === '?') text += '?'
  return { text, optional, exact }
}

/** Whether the token after a group's closing is a quantifier that repeats it more than once. */
function repeats(tokens: readonly Token[], close: number | undefined): boolean {
  const q = close === undefined ? undefined : tokens[close + 1]
  return q?.kind === 'quant' && !q.optional
}

/**
 * The pattern as safe-regex2 should see it. Its check counts every quantifier as a loop, but some cannot multiply
 * the ways a loop matches and are removed: an exact count on one character or class (`\d{3}` is a fixed sequence),
 * and, outside every repeated group, `?` (zero or one time). That keeps common safe patterns such as
 * `(\+\d{1,2}\s)?` and `\d{1,3}(,\d{3})*` accepted, while `(a?a?)+` still counts as nested.
 */
function shape(tokens: readonly Token[]): { shaped: string; quantifiers: number } {
  let out = ''
  let quantifiers = 0
  const loops: boolean[] = []
  let depth = 0
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!
    if (tok.kind === 'open') {
      const loop = repeats(tokens, tok.close)
      loops.push(loop)
      if (loop) depth++
    } else if (tok.kind === 'close') {
      if (loops.pop()) depth--
    } else if (tok.kind === 'quant') {
      const prev = tokens[t - 1]
      if ((tok.optional && depth === 0) || (tok.exact && prev?.kind === 'atom')) continue
      quantifiers++
    }
    out += tok.text
  }
  return { shaped: out, quantifiers }
}

/** The text of every group repeated more than once, with its quantifier, innermost first. */
function repeatedGroups(pattern: string, tokens: readonly Token[]): string[] {
  const out: Array<{ close: number; text: string }> = []
  for (const tok of tokens) {
    if (tok.kind !== 'open' || !repeats(tokens, tok.close)) continue
    const q = tokens[tok.close! + 1]!
    out.push({ close: tok.close!, text: pattern.slice(tok.at, q.at + q.text.length) })
  }
  return out.sort((a, b) => a.close - b.close).map((g) => g.text)
}

/**
 * The first run of one character or class quantified several times in a row (`\d?\d?\d+`, `a?a?aa`) that overlaps
 * `pattern.slice(from, to)`, with the one counted repetition that matches the same texts in one way each. Undefined
 * when there is none.
 */
function rewriteOf(pattern: string, from: number, to: number): { start: number; end: number; to: string } | undefined {
  const tokens = tokenize(pattern)
  type Item = { atom: string; min: number; max: number; start: number; end: number }
  const runs: Item[][] = []
  let run: Item[] = []
  const close = () => {
    const overlaps = run.length > 0 && run[0]!.start < to && run[run.length - 1]!.end > from
    if (overlaps && run.length > 1 && run.filter((i) => i.min < i.max).length >= 2) runs.push(run)
    run = []
  }
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!
    if (tok.kind !== 'atom') {
      close()
      continue
    }
    const q = tokens[t + 1]
    const bounds = q?.kind === 'quant' ? boundsOf(q.text) : { min: 1, max: 1 }
    if (bounds === undefined) {
      close()
      continue
    }
    const end = q?.kind === 'quant' ? q.at + q.text.length : tok.at + tok.text.length
    if (run.length > 0 && run[0]!.atom !== tok.text) close()
    run.push({ atom: tok.text, ...bounds, start: tok.at, end })
    if (q?.kind === 'quant') t++
  }
  close()
  const first = runs[0]
  if (!first) return undefined
  const min = first.reduce((s, i) => s + i.min, 0)
  const max = first.reduce((s, i) => s + i.max, 0)
  const count = max === Number.POSITIVE_INFINITY ? (min === 0 ? '*' : min === 1 ? '+' : `{${min},}`) : `{${min},${max}}`
  return { start: first[0]!.start, end: first[first.length - 1]!.end, to: first[0]!.atom + count }
}

/** The counts of a greedy quantifier; undefined for a lazy one, whose rewrite would change what it matches first. */
function boundsOf(q: string): { min: number; max: number } | undefined {
  if (q.length > 1 && q.endsWith('?')) return undefined
  if (q === '?') return { min: 0, max: 1 }
  if (q === '*') return { min: 0, max: Number.POSITIVE_INFINITY }
  if (q === '+') return { min: 1, max: Number.POSITIVE_INFINITY }
  const m = COUNT.exec(q)
  if (!m) return undefined
  const min = Number(m[1])
  return { min, max: m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]) }
}
