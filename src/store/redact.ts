/**
 * PII handling before anything reaches the prediction log: regex masking of text and fields, and a keyed hash of the
 * sender id so the same sender can be grouped without the id being stored.
 * @module
 */
import { createHmac } from 'node:crypto'
import { createError } from '../errors.js'
import {
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

/**
 * E-mail addresses, card-like digit runs (13–19 digits, spaces or dashes allowed), then phone numbers: `+` and 8–20
 * digits, North-American `(555) 123-4567` shapes, or national numbers with a leading 0. Dates and short numbers stay.
 * An address starts after a character it cannot hold, put back by `$1`: searched from each character of a long run
 * instead, it would take time that grows as the square of the text, too long for texts past 18,000 characters. As it
 * is, every rule passes the check on texts up to the default body limit (1 MiB).
 */
export const DEFAULT_REDACTION_RULES: readonly RedactionRule[] = Object.freeze([
  {
    pattern: '(^|[^A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}',
    replacement: '$1[email]',
  },
  { pattern: '\\b(?:\\d[ -]?){12,18}\\d\\b', replacement: '[card]' },
  {
    pattern:
      '(?<![\\w+])(?:\\+\\d[\\d ()./-]{6,18}\\d|\\(?\\d{3}\\)?[ .-]?\\d{3}[ .-]?\\d{4}|0\\d{2,4}[ /-]?\\d{5,9})(?!\\w)',
    replacement: '[phone]',
  },
])

export type Redactor = (text: string) => string

function flagsOf(rule: RedactionRule): string {
  return `g${(rule.flags ?? '').replace(/g/g, '')}`
}

/**
 * The longest text, in characters, the server can hand to redaction: a message's text, one of its fields, or an
 * entity value found in it. `serve.maxTextLength` bounds them, and so does `serve.bodyLimitBytes`, as a JSON body
 * holds fewer characters than bytes. Never less than the length every other pattern is judged at.
 */
export function longestRedactedText(serve: { maxTextLength: number; bodyLimitBytes: number }): number {
  return Math.max(MAX_CHECKED_TEXT, Math.min(serve.maxTextLength, serve.bodyLimitBytes))
}

/**
 * Why a rule's pattern can take too long on some text of up to `textLength` characters, or undefined. A rule runs on
 * every logged message on the log writer's thread (or the server's), and V8 cannot interrupt a regex: one that
 * backtracks catastrophically would stall logging for good.
 */
function redactionRisk(
  rule: RedactionRule,
  tally: RegexCheckTally,
  textLength = MAX_CHECKED_TEXT,
): RegexRisk | undefined {
  return regexRisk(rule.pattern, flagsOf(rule), { tally, textLength })
}

const REWRITE_ADVICE =
  'make each part match a text one way only (`(a|aa)+` → `a+`, `(\\w|\\d)+` → `\\w+`, `a?a?a?aaa` → `a{3,6}`)'

/**
 * Why a rule cannot be used on texts of up to `textLength` characters (see {@link longestRedactedText}), in words that
 * say how to fix it, or undefined when it can. The rules of one config share a `tally`, which the caller asks
 * `regexCheckLimit` about before each rule.
 */
export function redactionRuleProblem(
  rule: RedactionRule,
  tally: RegexCheckTally = newRegexCheckTally(),
  textLength = MAX_CHECKED_TEXT,
): string | undefined {
  try {
    new RegExp(rule.pattern, flagsOf(rule))
  } catch (err) {
    return `does not compile: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`
  }
  tally.patterns++
  const risk = redactionRisk(rule, tally)
  if (risk !== undefined) {
    return `can take too long on some inputs (${risk.detail}), and redaction runs on every logged message; ${REWRITE_ADVICE}`
  }
  if (textLength <= MAX_CHECKED_TEXT) return undefined
  const long = redactionRisk(rule, tally, textLength)
  if (long === undefined) return undefined
  const fits = longestTextWithin(rule.pattern, flagsOf(rule), MAX_CHECKED_TEXT, textLength, tally)
  const n = (x: number) => x.toLocaleString('en-US')
  return `can take too long on the texts of up to ${n(textLength)} characters the server can log (${long.detail}); it passes on texts of up to ${n(fits)} characters: set \`serve.maxTextLength\` to ${n(fits)} or less, or rewrite it (a group in front that takes a character, such as \`(^|[^…])\`, needs \`$1\` at the start of the replacement to keep it)`
}

/**
 * Compile the rules once. A rule that does not compile is ERR_STORE_REDACTION_INVALID and one that can backtrack
 * catastrophically ERR_STORE_REDACTION_UNSAFE, naming its index: config loading refuses both first, and a library
 * caller gets the same check.
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
    const limit = regexCheckLimit(tally)
    if (limit !== undefined) throw createError('ERR_REGEX_CHECK_LIMIT', { where: `${where}[${i}]`, detail: limit })
    tally.patterns++
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
  if (compiled.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const { re, replacement } of compiled) {
      re.lastIndex = 0
      out = out.replace(re, replacement)
    }
    return out
  }
}

/** HMAC-SHA-256 of the sender id under the store's key, hex. */
export function hashSender(key: string, senderId: string): string {
  return createHmac('sha256', key).update(senderId, 'utf8').digest('hex')
}
