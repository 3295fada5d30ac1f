/**
 * PII handling before anything reaches the prediction log: regex masking of text and fields, and a keyed hash of the
 * sender id so the same sender can be grouped without the id being stored.
 * @module
 */
import { createHmac } from 'node:crypto'
import { createError } from '../errors.js'
import {
  judgedBefore,
  longestTextWithin,
  MAX_CHECKED_TEXT,
  newRegexCheckTally,
  type RegexCheckTally,
  type RegexRisk,
  regexCheckLimit,
  regexRisk,
} from '../util/regex-safety.js'

export interface RedactionRule {
  /** JavaScript regular expression source; every match is replaced. */
  pattern: string
  replacement: string
  /** Extra flags besides `g` (e.g. `i`). */
  flags?: string
}

/** The rules `store.redaction` defaults to (see the config schema for what each masks and why it is safe). */
export { DEFAULT_REDACTION_RULES } from '../config/schema.js'

/**
 * Masks the PII of a text. One from {@link createRedactor} keeps its `rules`, so that a server can judge them on the
 * longest text it takes (`buildApp` does), longer than the 10,000 characters they were judged on.
 */
export type Redactor = ((text: string) => string) & { readonly rules?: readonly RedactionRule[] }

function flagsOf(rule: RedactionRule): string {
  return `g${(rule.flags ?? '').replace(/g/g, '')}`
}

/** The longest text the server can hand to redaction (see {@link longestRedactedText}). */
export interface RedactedTextLength {
  /** In characters (Unicode code points), as `serve.maxTextLength` counts them. */
  characters: number
  /**
   * In UTF-16 code units, as a rule without the `u` (or `v`) flag reads a text: a character past U+FFFF, such as an
   * emoji, is two to it.
   */
  units: number
}

/**
 * The longest text the server can hand to redaction: a message's text, one of its fields, or an entity value found
 * in it. `serve.maxTextLength` bounds its characters, so its code units at twice that, and `serve.bodyLimitBytes`
 * bounds both, as a JSON body holds no more characters or code units than bytes (a character past U+FFFF is four
 * bytes in UTF-8). Rules are never judged on less than the length every other pattern is judged at.
 */
export function longestRedactedText(serve: { maxTextLength: number; bodyLimitBytes: number }): RedactedTextLength {
  return {
    characters: Math.min(serve.maxTextLength, serve.bodyLimitBytes),
    units: Math.min(2 * serve.maxTextLength, serve.bodyLimitBytes),
  }
}

/** Whether a rule reads a text by code points (the `u` or `v` flag) rather than by UTF-16 code units. */
function readsCodePoints(rule: RedactionRule): boolean {
  return /[uv]/.test(rule.flags ?? '')
}

/**
 * Why a rule's pattern can take too long on some text of up to `textLength` characters (code units for a rule
 * without the `u` flag, which reads them), or undefined. A rule runs on every logged message on the log writer's
 * thread (or the server's), and V8 cannot interrupt a regex: one that backtracks catastrophically would stall logging
 * for good.
 */
function redactionRisk(
  rule: RedactionRule,
  tally: RegexCheckTally,
  textLength = MAX_CHECKED_TEXT,
): RegexRisk | undefined {
  return regexRisk(rule.pattern, flagsOf(rule), {
    tally,
    textLength,
    unit: readsCodePoints(rule) ? 'characters' : 'code units',
  })
}

const REWRITE_ADVICE =
  'make each part match a text one way only (`(a|aa)+` → `a+`, `(\\w|\\d)+` → `\\w+`, `a?a?a?aaa` → `a{3,6}`)'

/**
 * Why a rule cannot be used on the texts of `lengths` (see {@link longestRedactedText}), in words that say how to fix
 * it, or undefined when it can. A rule without the `u` flag is judged on their code units, and its message says so. The
 * rules of one config share a `tally`, which {@link redactionRuleIssues} asks `regexCheckLimit` about before each
 * rule.
 */
export function redactionRuleProblem(
  rule: RedactionRule,
  tally: RegexCheckTally = newRegexCheckTally(),
  lengths: RedactedTextLength = { characters: MAX_CHECKED_TEXT, units: MAX_CHECKED_TEXT },
): string | undefined {
  try {
    new RegExp(rule.pattern, flagsOf(rule))
  } catch (err) {
    return `does not compile: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`
  }
  if (!judgedBefore(tally, rule.pattern, flagsOf(rule))) tally.patterns++
  const risk = redactionRisk(rule, tally)
  if (risk !== undefined) {
    return `can take too long on some inputs (${risk.detail}), and redaction runs on every logged message; ${REWRITE_ADVICE}`
  }
  const byCodePoint = readsCodePoints(rule)
  const textLength = Math.max(MAX_CHECKED_TEXT, byCodePoint ? lengths.characters : lengths.units)
  if (textLength <= MAX_CHECKED_TEXT) return undefined
  const long = redactionRisk(rule, tally, textLength)
  if (long === undefined) return undefined
  const fits = longestTextWithin(rule.pattern, flagsOf(rule), MAX_CHECKED_TEXT, textLength, tally)
  const n = (x: number) => x.toLocaleString('en-US')
  // A lookbehind stops a search from going through a run again from each character; it does nothing for a rule one
  // attempt of which splits a run many ways, which the detail says how to write instead.
  const rewrite =
    long.cause === 'search'
      ? 'rewrite it (a lookbehind in front, such as `(?<![…])`, takes no character, so the replacement stays as it is)'
      : 'rewrite it as above, so that it can match a text one way only'
  if (byCodePoint) {
    return `can take too long on the texts of up to ${n(textLength)} characters the server can log (${long.detail}); it passes on texts of up to ${n(fits)} characters: set \`serve.maxTextLength\` to ${n(fits)} or less, or ${rewrite}`
  }
  // Without `u`, a text of n characters can be 2n code units long: emoji.
  const fitsCharacters = Math.floor(fits / 2)
  return `can take too long on the texts of up to ${n(lengths.characters)} characters the server can log, which it reads as up to ${n(textLength)} code units: without the \`u\` flag a rule reads a character past U+FFFF, such as an emoji, as two (${long.detail}); it passes on texts of up to ${n(fitsCharacters)} characters, ${n(fits)} code units: set \`serve.maxTextLength\` to ${n(fitsCharacters)} or less, give the rule the \`u\` flag, or ${rewrite}`
}

/** What keeps a rule of a list from use (see {@link redactionRuleIssues}). */
export interface RedactionRuleIssue {
  /** The rule's index in the list. */
  index: number
  /**
   * `rule`: `message` is the rule's pattern and its problem (`/\d+\.\d+/ can take too long …`). `limit`: the check
   * stopped before this rule, past what one check may judge, and `message` says why (see ERR_REGEX_CHECK_LIMIT).
   */
  kind: 'rule' | 'limit'
  message: string
}

/**
 * What keeps each of `rules` from redacting every text a server with the `serve` options can log, as one check of
 * many patterns: config loading, `resolveServeConfig` and `buildApp` all judge rules here. A rule written twice is
 * judged once, and verdicts are remembered, so judging the same rules again in a process costs little.
 */
export function redactionRuleIssues(
  rules: readonly RedactionRule[],
  serve: { maxTextLength: number; bodyLimitBytes: number },
): RedactionRuleIssue[] {
  const tally = newRegexCheckTally()
  const lengths = longestRedactedText(serve)
  const issues: RedactionRuleIssue[] = []
  for (const [index, rule] of rules.entries()) {
    const limit = judgedBefore(tally, rule.pattern, flagsOf(rule)) ? undefined : regexCheckLimit(tally)
    if (limit !== undefined) {
      issues.push({ index, kind: 'limit', message: limit })
      break
    }
    const problem = redactionRuleProblem(rule, tally, lengths)
    if (problem !== undefined) issues.push({ index, kind: 'rule', message: `/${rule.pattern}/ ${problem}` })
  }
  return issues
}

/**
 * Refuse `rules` that cannot redact every text a server with the `serve` options can log ({@link redactionRuleIssues}),
 * with ERR_CONFIG_INVALID naming each rule's key under `store.redaction`: `buildApp` and a log writer thread given the
 * server's lengths (`WorkerLogWriter`) judge them here, so both say the same.
 */
export function assertRedactionRules(
  rules: readonly RedactionRule[],
  serve: { maxTextLength: number; bodyLimitBytes: number },
): void {
  const problems = redactionRuleIssues(rules, serve).map(({ index, kind, message }) =>
    kind === 'limit'
      ? `\`store.redaction.${index}\` and the rules after it are not checked: there are too many redaction rules to check (${message}, see ERR_REGEX_CHECK_LIMIT)`
      : `\`store.redaction.${index}.pattern\` ${message}`,
  )
  if (problems.length > 0) throw createError('ERR_CONFIG_INVALID', { detail: problems.join('; ') })
}

/**
 * Compile the rules once. A rule that does not compile is ERR_STORE_REDACTION_INVALID and one that can backtrack
 * catastrophically on 10,000 characters ERR_STORE_REDACTION_UNSAFE, naming its index: config loading refuses both
 * first, and a library caller gets the same check. Longer texts are the server's to judge
 * ({@link redactionRuleIssues}), which knows how long a text it takes.
 */
export function createRedactor(rules: readonly RedactionRule[], where = 'store.redaction'): Redactor {
  const tally = newRegexCheckTally()
  const compiled = rules.map((rule, i) => {
    let re: RegExp
    try {
      re = new RegExp(rule.pattern, flagsOf(rule))
    } catch (err) {
      throw createError(
        'ERR_STORE_REDACTION_INVALID',
        { where: `${where}[${i}]`, detail: (err as Error).message },
        { cause: err },
      )
    }
    if (!judgedBefore(tally, rule.pattern, flagsOf(rule))) {
      const limit = regexCheckLimit(tally)
      if (limit !== undefined) throw createError('ERR_REGEX_CHECK_LIMIT', { where: `${where}[${i}]`, detail: limit })
      tally.patterns++
    }
    const risk = redactionRisk(rule, tally)
    if (risk !== undefined) {
      throw createError('ERR_STORE_REDACTION_UNSAFE', {
        where: `${where}[${i}]`,
        pattern: rule.pattern,
        detail: risk.detail,
      })
    }
    return { re, replacement: rule.replacement }
  })
  return redactorOf(rules, compiled)
}

/**
 * The redactor of `rules` that {@link createRedactor} judged in the thread that hands them over, compiled without
 * judging them again: the log writer thread's (see `WorkerLogWriter`), whose rules its writer judged on the main
 * thread, on the lengths the server takes, before starting it. Not for rules from anywhere else.
 */
export function compileJudgedRedactor(rules: readonly RedactionRule[]): Redactor {
  return redactorOf(
    rules,
    rules.map((rule) => ({ re: new RegExp(rule.pattern, flagsOf(rule)), replacement: rule.replacement })),
  )
}

function redactorOf(
  rules: readonly RedactionRule[],
  compiled: ReadonlyArray<{ re: RegExp; replacement: string }>,
): Redactor {
  const kept = { rules: Object.freeze(rules.map((r) => Object.freeze({ ...r }))) }
  if (compiled.length === 0) return Object.assign((text: string) => text, kept)
  return Object.assign((text: string) => {
    let out = text
    for (const { re, replacement } of compiled) {
      re.lastIndex = 0
      out = out.replace(re, replacement)
    }
    return out
  }, kept)
}

/** HMAC-SHA-256 of the sender id under the store's key, hex. */
export function hashSender(key: string, senderId: string): string {
  return createHmac('sha256', key).update(senderId, 'utf8').digest('hex')
}
