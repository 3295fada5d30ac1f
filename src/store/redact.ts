/**
 * PII handling before anything reaches the prediction log: regex masking of text and fields, and a keyed hash of the
 * sender id so the same sender can be grouped without the id being stored.
 * @module
 */
import { createHmac } from 'node:crypto'
import { createError } from '../errors.js'
import { regexRisk } from '../util/regex-safety.js'

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
 */
export const DEFAULT_REDACTION_RULES: readonly RedactionRule[] = Object.freeze([
  { pattern: '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}', replacement: '[email]' },
  { pattern: '\\b(?:\\d[ -]?){12,18}\\d\\b', replacement: '[card]' },
  {
    pattern:
      '(?<![\\w+])(?:\\+\\d[\\d ()./-]{6,18}\\d|\\(?\\d{3}\\)?[ .-]?\\d{3}[ .-]?\\d{4}|0\\d{2,4}[ /-]?\\d{5,9})(?!\\w)',
    replacement: '[phone]',
  },
])

export type Redactor = (text: string) => string

const DEFAULT_PATTERNS = new Set(DEFAULT_REDACTION_RULES.map((r) => r.pattern))

/**
 * Why a rule cannot be used, in words that say how to fix it, or undefined when it can. A rule runs on every logged
 * message on the log writer's thread (or the server's), and V8 cannot interrupt a regex: one that backtracks
 * catastrophically would stall logging for good. The built-in rules are exempt: the check reads their nested groups
 * as risky, but each repetition there starts with a character (`.`, a digit) the inner loop cannot take, so a text
 * splits into repetitions one way only.
 */
export function redactionRuleProblem(rule: RedactionRule): string | undefined {
  try {
    new RegExp(rule.pattern, `g${(rule.flags ?? '').replace(/g/g, '')}`)
  } catch (err) {
    return `does not compile: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`
  }
  if (DEFAULT_PATTERNS.has(rule.pattern)) return undefined
  const risk = regexRisk(rule.pattern)
  if (risk === undefined) return undefined
  return `can take exponential time on some inputs (${risk}), and redaction runs on every logged message; rewrite it without a quantified group that holds another quantifier (\`(a+)+$\` matches what \`a+$\` does)`
}

/** Compile the rules once; a rule that does not compile is a config error naming its index. */
export function createRedactor(rules: readonly RedactionRule[], where = 'store.redaction'): Redactor {
  const compiled = rules.map((rule, i) => {
    const flags = `g${(rule.flags ?? '').replace(/g/g, '')}`
    try {
      return { re: new RegExp(rule.pattern, flags), replacement: rule.replacement }
    } catch (err) {
      throw createError(
        'ERR_STORE_REDACTION_INVALID',
        { where: `${where}[${i}]`, detail: (err as Error).message },
        { cause: err },
      )
    }
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
