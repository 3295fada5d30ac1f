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

/** Entries of the memory of numbers written lately, direct-mapped by their bits. */
const NUMBERS = 64
const numberKeys = new Float64Array(NUMBERS).fill(Number.NaN)
const numberTexts: string[] = new Array<string>(NUMBERS).fill('null')
const bits = new Float64Array(1)
const bitWords = new Uint32Array(bits.buffer)

/**
 * A number as JSON; a non-finite one as `null`. The same digits as `${x}` at half the cost: V8 writes a number
 * inside `JSON.stringify` directly, where a template goes through the runtime and its number-to-string cache, which
 * a fresh confidence always misses (~200 against ~380–430 ns). The last numbers written are remembered: a logged
 * request's record repeats the answer's confidence and first three scores, and reads them back here rather than
 * writing their digits again. NaN equals no key, so it is never found; 0 and -0 are both written `0`.
 */
export function jsonNumber(x: number): string {
  bits[0] = x
  const slot = (bitWords[0]! ^ bitWords[1]!) & (NUMBERS - 1)
  if (numberKeys[slot] === x) return numberTexts[slot]!
  const text = JSON.stringify(x)
  numberKeys[slot] = x
  numberTexts[slot] = text
  return text
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
