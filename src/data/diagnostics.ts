/**
 * Diagnostics: the problems loading and validation find, each with a code, a position and how to fix it. Loaders
 * collect them instead of throwing, so `intentops data validate` reports every problem of every file in one pass.
 * Error codes come from the catalog in `src/errors.ts`; warning codes live here. `docs/errors.md` lists both.
 * @module
 */
import {
  createError,
  ERROR_CATALOG,
  type ErrorCode,
  formatLocation,
  type IntentopsError,
  isIntentopsError,
  type SourceLocation,
} from '../errors.js'

/** Warning codes of data validation. Like error codes, they are never renamed or reused. */
export const WARNING_CATALOG = Object.freeze({
  WARN_DATA_FEW_EXAMPLES: {
    message: 'Intent {intent} has {count} example{s}, fewer than {min}',
    hint: 'Add varied examples (different words, lengths and word orders); set validation.minExamples to change the bar.',
  },
  WARN_DATA_IMBALANCE: {
    message: 'Intent {intent} has {count} examples, {ratio}× fewer than {largest} ({largestCount})',
    hint: 'Add examples to the small intent or trim the large one; set validation.imbalanceRatio to change the bar.',
  },
  WARN_DATA_FEW_ENTITY_EXAMPLES: {
    message: 'Entity {entity} is annotated in {count} example{s}, fewer than {min}',
    hint: 'Annotate it in more examples, in different positions; set validation.minEntityExamples to change the bar.',
  },
  WARN_DATA_NEAR_DUPLICATE: {
    message: 'Example "{text}" ({intent}) is nearly the same as "{otherText}" ({other}) at {first}',
    hint: 'Near-identical sentences under two intents confuse the classifier: reword one or merge the intents.',
  },
  WARN_DATA_IGNORED_FILE: {
    message: '{path} holds no NLU training data ({reason}); ignored',
    hint: 'Move the file out of the data directory, or give it an `nlu:` list.',
  },
  WARN_DATA_UNCLOSED_BRACKET: {
    message: "A '[' is never closed, so it is read as plain text, as Rasa does",
    hint: "To annotate an entity, write [text](entity); otherwise remove the '[' or leave it: the example is kept.",
  },
  WARN_DATA_UNKNOWN_FIELD: {
    message: 'Field {field} has no weight in intentops.yml `fields` (known: {known})',
    hint: 'Add the field to `fields` in intentops.yml, or rename it.',
  },
  WARN_MUST_PASS_UNKNOWN_ENTITY: {
    message: 'Must-pass case expects entity {entity}, which no training example annotates',
    hint: 'Fix the entity name, or annotate it in the training data.',
  },
} satisfies Record<string, { message: string; hint: string }>)

/** A code of `WARNING_CATALOG`. */
export type WarningCode = keyof typeof WARNING_CATALOG
/** Errors fail validation; warnings fail it only with `--strict`. */
export type Severity = 'error' | 'warning'

/** One problem found in the data. `location` always names a file; line and column are 1-based. */
export interface Diagnostic {
  severity: Severity
  code: ErrorCode | WarningCode
  message: string
  location: SourceLocation
  hint?: string
}

function fill(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (m, key: string) => (key in params ? String(params[key]) : m))
}

/** An error diagnostic from a catalog code; the message is the catalog's template filled with `params`. */
export function errorDiagnostic(
  code: ErrorCode,
  params: Record<string, unknown>,
  location: SourceLocation,
  hint?: string,
): Diagnostic {
  const entry: { message: string; hint?: string } = ERROR_CATALOG[code]
  const h = hint ?? (entry.hint === undefined ? undefined : fill(entry.hint, params))
  return { severity: 'error', code, message: fill(entry.message, params), location, ...(h ? { hint: h } : {}) }
}

/** A warning diagnostic from `WARNING_CATALOG`. */
export function warningDiagnostic(
  code: WarningCode,
  params: Record<string, unknown>,
  location: SourceLocation,
): Diagnostic {
  const entry = WARNING_CATALOG[code]
  return { severity: 'warning', code, message: fill(entry.message, params), location, hint: fill(entry.hint, params) }
}

/** Turn a thrown error (unreadable file, YAML syntax, ...) into a diagnostic for `file`. */
export function diagnosticFromError(err: unknown, file: string): Diagnostic {
  if (isIntentopsError(err)) {
    return {
      severity: 'error',
      code: err.code,
      message: err.message,
      location: err.location ?? { file },
      ...(err.hint ? { hint: err.hint } : {}),
    }
  }
  return {
    severity: 'error',
    code: 'ERR_INTERNAL',
    message: (err as Error)?.message ?? String(err),
    location: { file },
  }
}

/** The error to throw for an error diagnostic, for callers that stop at the first problem. */
export function diagnosticToError(d: Diagnostic): IntentopsError {
  const code = (d.code in ERROR_CATALOG ? d.code : 'ERR_DATA_SCHEMA') as ErrorCode
  const err = createError(code, {}, { location: d.location, ...(d.hint ? { hint: d.hint } : {}) })
  // The catalog template was already filled when the diagnostic was made: keep that text.
  Object.defineProperty(err, 'message', { value: d.message })
  return err
}

/** `file:line:column: severity CODE: message` for people. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${formatLocation(d.location)}: ${d.severity} ${d.code}: ${d.message}`
}

/** Sort by file, line, column, then errors before warnings. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const fa = a.location.file
  const fb = b.location.file
  if (fa !== fb) return fa < fb ? -1 : 1
  return (
    (a.location.line ?? 0) - (b.location.line ?? 0) ||
    (a.location.column ?? 0) - (b.location.column ?? 0) ||
    (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1)
  )
}
