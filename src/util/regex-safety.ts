/**
 * Refusing regular expressions that can backtrack catastrophically. V8 runs a regex on the event loop and cannot
 * interrupt it, so one pattern such as `(a+)+$` and one crafted message can freeze `predict` or the server for good.
 * The verdict comes from the ambiguity of the pattern's automaton (`regex-analysis.ts`): exponential backtracking is
 * refused, and so is polynomial backtracking above {@link MAX_DEGREE}. Time that grows as the square of the text is
 * accepted: texts are bounded (10,000 characters for the regex steps and by default for the server), where a
 * quadratic pattern costs tens of milliseconds at worst, and such patterns are common (`\d+\.\d+`, e-mail shapes).
 * A pattern the analysis cannot read falls back to safe-regex2's star-height check.
 * @module
 */
import safeRegex from 'safe-regex2'
import { AnalysisTooLarge, type Attack, analyseBacktracking, MAX_POSITIONS } from './regex-analysis.js'
import { RegexSyntaxUnsupported } from './regex-parse.js'

/** The highest power of the text length a pattern's backtracking may grow as. */
export const MAX_DEGREE = 2

/** safe-regex2's default cap on the quantifiers of one pattern, named so a fallback refusal can state it. */
export const MAX_QUANTIFIERS = 25

/** Why a pattern can take too long, for an error message. */
export interface RegexRisk {
  /** `unanalysed`: too large or unusual for the analysis, and refused by the fallback check. */
  complexity: 'exponential' | 'polynomial' | 'unanalysed'
  /** For `polynomial`: time grows as the text length to this power. */
  degree?: number
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

/** Verdicts by flags and source: training, validation and each model load of a server check the same patterns. */
const verdicts = new Map<string, RegexRisk | null>()
const MAX_VERDICTS = 10_000

/** How a data regex runs between word boundaries in `regex_entities` (see `compilePattern`), as a plain pattern. */
function betweenWordBoundaries(pattern: string): string {
  return `(?:^|[^\\p{L}\\p{N}_])(?:${pattern})(?:[^\\p{L}\\p{N}_]|$)`
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
export function dataRegexRisk(pattern: string): RegexRisk | undefined {
  const flags = `${DATA_REGEX_FLAGS}i`
  return regexRisk(pattern, flags) ?? regexRisk(betweenWordBoundaries(pattern), flags, pattern)
}

/**
 * Why `source`, run with `flags` by `exec`, `test` or `replace`, can take too long on some text, or undefined when it
 * cannot. `shown` is the pattern to name in the message when `source` wraps it.
 */
export function regexRisk(source: string, flags: string, shown = source): RegexRisk | undefined {
  const key = `${flags}/${source}`
  const known = verdicts.get(key)
  if (known !== undefined) return known ?? undefined
  const risk = judge(source, flags, shown)
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear()
  verdicts.set(key, risk ?? null)
  return risk
}

function judge(source: string, flags: string, shown: string): RegexRisk | undefined {
  let found: ReturnType<typeof analyseBacktracking>
  try {
    found = analyseBacktracking(source, flags.replace(/[gdy]/g, ''), { search: !flags.includes('y') })
  } catch (err) {
    if (!(err instanceof AnalysisTooLarge) && !(err instanceof RegexSyntaxUnsupported)) throw err
    const why =
      err instanceof AnalysisTooLarge
        ? `too large for the exact check (over ${MAX_POSITIONS} characters and classes once counts are unrolled)`
        : `outside what the exact check reads (${err.message})`
    const nested = heuristicRisk(shown)
    return nested === undefined ? undefined : { complexity: 'unanalysed', detail: `${why}, and ${nested}` }
  }
  if (found === undefined) return undefined
  if (found.kind === 'exponential') {
    const attack = render(found.attack, 30)
    return {
      complexity: 'exponential',
      attack,
      detail: `exponential backtracking in \`${found.culprit}\`, which can match a repeated ${JSON.stringify(found.attack.pump)} in more than one way: a text like ${attack} takes over 2^30 steps`,
    }
  }
  if (found.degree <= MAX_DEGREE) return undefined
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

function render(a: Attack, times: number): string {
  const parts = [
    a.prefix ? JSON.stringify(a.prefix) : '',
    `${JSON.stringify(a.pump)}.repeat(${times})`,
    JSON.stringify(a.suffix),
  ]
  return parts.filter((p) => p !== '').join(' + ')
}

/**
 * The fallback: safe-regex2's star-height check, which refuses a quantified group holding another quantifier (with
 * the shaping below), for patterns the exact analysis does not read. Returns e.g. "nested quantifier `(a+)+`".
 */
export function heuristicRisk(pattern: string): string | undefined {
  const tokens = tokenize(pattern)
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
