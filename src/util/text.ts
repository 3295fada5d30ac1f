/**
 * Small string helpers shared by the NLU engine and the store.
 * @module
 */

/** Whether every code unit of `text` is ASCII: the test behind the ASCII fast paths of regexes and search words. */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}
