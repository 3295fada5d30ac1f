/**
 * Pieces of JSON text written by hand on the serving path: the parse answer (serve/serialize.ts) and the prediction
 * log's record (store/record-json.ts). Each writes what `JSON.stringify` would, byte for byte.
 * @module
 */

/** `JSON.stringify(s)`, without the native call for the usual short string that needs no escape. */
export function jsonString(s: string): string {
  const n = s.length
  if (n > 64) return JSON.stringify(s)
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    // Control characters, `"`, `\` and surrogates (a lone one is escaped) take the general path.
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return `"${s}"`
}

/**
 * A number as JSON; a non-finite one as `null`. The same digits as `${x}` at half the cost: V8 writes a number
 * inside `JSON.stringify` directly, where a template goes through the runtime and its number-to-string cache, which
 * a fresh confidence always misses (~200 against ~380–430 ns).
 */
export function jsonNumber(x: number): string {
  return JSON.stringify(x)
}

const MAX_PREFIXES = 4096
const prefixes = new Map<string, string>()

/**
 * `{"name":<name>,"confidence":`, escaped once per intent name: every answer and every record repeats the model's
 * intent names. Bounded, since names come from models.
 */
export function scorePrefix(name: string): string {
  let p = prefixes.get(name)
  if (p === undefined) {
    if (prefixes.size >= MAX_PREFIXES) prefixes.clear()
    p = `{"name":${jsonString(name)},"confidence":`
    prefixes.set(name, p)
  }
  return p
}
