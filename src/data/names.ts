/**
 * The rules for intent and entity names, in one place: the data validator applies them to the training data, and
 * everything that makes a new name (review decisions, the review export) applies the same ones, so a name that
 * would fail validation never reaches a data file. Entity roles and groups (`[Berlin]{"entity": "city", "role":
 * "departure"}`) follow the entity rules, as Rasa lists them in the domain and stories as it lists entities, except
 * that they may be numbers, as Rasa's groups usually are.
 *
 * A name is letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`; an intent may join two such
 * names with one `/` (a Rasa retrieval intent, `faq/opening_hours`). Spaces, `:`, `#`, brackets, quotes and the
 * like are refused: they break the inline entity markup (`[text](entity:value)`), Rasa's domain and stories, and
 * command lines. A name that YAML reads as something other than text when it stands unquoted (`null`, `true`,
 * `42`) is refused too, since anyone editing a data file by hand writes it unquoted.
 * @module
 */
import { parse } from 'yaml'

export type NameKind = 'intent' | 'entity' | 'role' | 'group'

const PART = String.raw`[\p{L}\p{N}_][\p{L}\p{M}\p{N}_.\-]*`
const ENTITY_PATTERN = new RegExp(`^${PART}$`, 'u')
const NAME_PATTERNS: Readonly<Record<NameKind, RegExp>> = {
  intent: new RegExp(`^${PART}(?:/${PART})?$`, 'u'),
  entity: ENTITY_PATTERN,
  role: ENTITY_PATTERN,
  group: ENTITY_PATTERN,
}
const NAME_CHAR = /^[\p{L}\p{M}\p{N}_.-]$/u
const NAME_START = /^[\p{L}\p{N}_]$/u

/** The rule in words, for hints. */
export const NAME_RULE: Readonly<Record<NameKind, string>> = {
  intent:
    'Intent names are letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`; one `/` may join two such names (faq/opening_hours); YAML keywords and numbers (null, true, 42) are not names.',
  entity:
    'Entity names are letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`; YAML keywords and numbers (null, true, 42) are not names.',
  role: 'Entity roles follow the rules of entity names: letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`; a number is allowed (1, 2), but not YAML keywords (null, true) or numbers written otherwise (01, 1e3).',
  group:
    'Entity groups follow the rules of entity names: letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`; a number is allowed (1, 2), but not YAML keywords (null, true) or numbers written otherwise (01, 1e3).',
}

/** What is wrong with a name, in words (`it contains ':'`), or undefined when it follows the rules. */
export function nameProblem(kind: NameKind, name: string): string | undefined {
  if (name === '') return 'it is empty'
  if (!NAME_PATTERNS[kind].test(name)) return patternProblem(kind, name)
  const value: unknown = parse(name)
  // Rasa numbers groups (`"group": "1"`) and lists them unquoted in the domain, which reads a number back as the same
  // text; `01` or `1e3` would not.
  if (typeof value === 'number' && (kind === 'role' || kind === 'group') && String(value) === name) return undefined
  if (typeof value !== 'string')
    return `YAML reads it as ${JSON.stringify(value)}, not as a name, wherever it is unquoted`
  return undefined
}

function patternProblem(kind: NameKind, name: string): string {
  const chars = [...name]
  const slashes = chars.filter((c) => c === '/').length
  for (const c of chars) {
    if (/\s/u.test(c)) return 'it contains a space'
    if (c === '/' && kind === 'intent') continue
    if (!NAME_CHAR.test(c)) return `it contains ${quote(c)}`
  }
  if (slashes > 1) return "it contains more than one '/'"
  // every character is allowed: a part starts badly or a '/' has no name on one side
  for (const part of name.split('/')) {
    if (part === '') return "'/' must join two names, as in faq/opening_hours"
    const first = [...part][0]!
    if (!NAME_START.test(first)) return `${part === name ? 'it' : `'${part}'`} starts with ${quote(first)}`
  }
  return 'it does not follow the naming rules'
}

/** One character for a message: in single quotes, escaped when it would not show. */
function quote(c: string): string {
  if (/\p{C}/u.test(c)) return JSON.stringify(c)
  return c === "'" ? `"'"` : `'${c}'`
}

/** A name close to `name` that follows the rules (`Bad Name` → `Bad_Name`), or undefined when none is obvious. */
export function suggestName(kind: NameKind, name: string): string | undefined {
  if (nameProblem(kind, name) === undefined) return undefined
  const allowed = (c: string) => NAME_CHAR.test(c) || (kind === 'intent' && c === '/')
  let s = [...name.trim()].map((c) => (allowed(c) ? c : '_')).join('')
  s = s.replace(/_+/g, '_').replace(/^[_.\-/]+|[_.\-/]+$/g, '')
  if (kind === 'intent') {
    const [first, ...rest] = s.split('/')
    s = rest.length ? `${first}/${rest.join('_')}` : first!
  }
  if (s === '' || s === name || nameProblem(kind, s) !== undefined) return undefined
  return s
}

/** The hint for a refused name: the rule, and a close name that follows it when there is one. */
export function nameHint(kind: NameKind, name: string): string {
  const close = suggestName(kind, name)
  return close ? `${NAME_RULE[kind]} Rename it, e.g. to ${close}.` : `${NAME_RULE[kind]} Rename it.`
}
