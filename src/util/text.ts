/**
 * Small string helpers shared by the NLU engine and the store.
 * @module
 */

/** Whether every code unit of `text` is ASCII: the test behind the ASCII fast paths of regexes and search words. */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

/**
 * Characters (code points) in `text`: its UTF-16 length less one per surrogate pair, so an emoji counts once. Length
 * limits call it only when `text.length` is over the limit (it can then still be within it), so texts under the limit
 * pay nothing.
 */
export function codePointLength(text: string): number {
  let n = text.length
  for (let i = 0; i < text.length - 1; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--
        i++
      }
    }
  }
  return n
}
