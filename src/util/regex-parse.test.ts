import { describe, expect, it } from 'vitest'
import { contains, parseRegex, type Ranges } from './regex-parse.js'

/** The characters the check reads a class (or escape) `atom` as, with `flags`. */
function classOf(atom: string, flags: string): Ranges {
  const { root } = parseRegex(atom, flags)
  if (root.t !== 'set') throw new Error(`${atom} is not one class`)
  return root.ranges
}

/**
 * The code points V8 matches with `atom` and `flags` that the check's class lacks, over every code point a pattern
 * with them reads as one character (without `u`, a code unit; surrogates alone are left out).
 */
function missed(atom: string, flags: string): string[] {
  const ranges = classOf(atom, flags)
  const re = new RegExp(`^${atom}$`, flags)
  const last = flags.includes('u') ? 0x2ffff : 0xffff
  const out: string[] = []
  for (let cp = 0; cp <= last; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue
    if (!contains(ranges, cp) && re.test(String.fromCodePoint(cp))) out.push(`U+${cp.toString(16).toUpperCase()}`)
  }
  return out
}

describe('classes ignoring case', () => {
  const negated = ['[^a-z]', '[^s]', '[^k]', '[^i]', '[^\\w]', '[^\\W]', '[^\\d]', '[^ß]', '[^\\u1e9e]', '[^\\u0390]']
  it.each(['i', 'iu'])('never hold fewer characters than V8 matches with %s, negated or not', (flags) => {
    const unicodeOnly = flags.includes('u') ? ['[^\\p{Lu}]', '[^\\p{Ll}\\d]', '\\P{L}'] : []
    for (const atom of [...negated, ...unicodeOnly, '[a-z]', '[\\u0390]', '[\\u1fd3]', 'ſ', '\\w', '\\W', '.']) {
      expect(missed(atom, flags), `/${atom}/${flags}`).toEqual([])
    }
  })

  it('hold what V8 folds otherwise than toUpperCase and toLowerCase: ſ, the Kelvin sign, ı', () => {
    // Without `u` V8 folds no character outside ASCII onto ASCII: `[^a-z]` takes `ſ` (U+017F), `K` (U+212A), `ı`.
    const plain = classOf('[^a-z]', 'i')
    for (const ch of ['ſ', '\u212a', 'ı']) expect(contains(plain, ch.codePointAt(0)!), ch).toBe(true)
    // With `u` it folds `ſ` to s and `K` to k, but `ı` still to nothing of a-z.
    const unicode = classOf('[^a-z]', 'iu')
    expect(contains(unicode, 'ſ'.codePointAt(0)!)).toBe(false)
    expect(contains(unicode, 0x212a)).toBe(false)
    expect(contains(unicode, 'ı'.codePointAt(0)!)).toBe(true)
    // Unicode's simple case folding joins ΐ (U+1FD3) with ΐ (U+0390), which share a capital of three characters.
    expect(contains(classOf('[\\u0390]', 'iu'), 0x1fd3)).toBe(true)
    for (const [atom, flags] of [
      ['[^a-z]', 'i'],
      ['[^a-z]', 'iu'],
    ] as const) {
      expect(new RegExp(`^${atom}$`, flags).test('ı'), `/${atom}/${flags}`).toBe(true)
    }
  })
})
