/**
 * A parser for JavaScript regular expressions into a small syntax tree, for the backtracking analysis in
 * `regex-analysis.ts`. It reads patterns that already compile in V8, so it is lenient where V8 is (Annex B syntax
 * without the `u` flag) and throws {@link RegexSyntaxUnsupported} for what the analysis does not model (the `v`
 * flag's set operations, inline modifiers).
 * @module
 */

/** Sorted, disjoint, non-adjacent inclusive code point ranges: [from0, to0, from1, to1, …]. */
export type Ranges = number[]

export type RegexNode =
  | { t: 'set'; ranges: Ranges; start: number; end: number }
  | { t: 'seq'; items: RegexNode[] }
  | { t: 'alt'; alts: RegexNode[] }
  | { t: 'group'; body: RegexNode; index?: number; name?: string; start: number; end: number }
  | { t: 'look'; body: RegexNode; behind: boolean; negative: boolean; start: number; end: number }
  | { t: 'repeat'; body: RegexNode; min: number; max: number; start: number; end: number }
  /** `^` and `$` without the m flag, `^` and `$` with it (`line`), `\b` (`word`) and `\B` (`nonword`). */
  | { t: 'assert'; kind: 'start' | 'end' | 'line' | 'word' | 'nonword' }
  | { t: 'backref'; ref: number | string; start: number; end: number }

export class RegexSyntaxUnsupported extends Error {}

export const MAX_CODE_POINT = 0x10ffff
const LINE_TERMINATORS: Ranges = [0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029]
const DIGIT: Ranges = [0x30, 0x39]
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a]
const SPACE: Ranges = [
  0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f,
  0x3000, 0x3000, 0xfeff, 0xfeff,
]

export function normalize(ranges: number[]): Ranges {
  const pairs: Array<[number, number]> = []
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!])
  pairs.sort((a, b) => a[0] - b[0])
  const out: Ranges = []
  for (const [a, b] of pairs) {
    const last = out.length - 1
    if (last > 0 && a <= out[last]! + 1) out[last] = Math.max(out[last]!, b)
    else out.push(a, b)
  }
  return out
}

export function complement(r: Ranges): Ranges {
  const out: Ranges = []
  let next = 0
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1)
    next = r[i + 1]! + 1
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT)
  return out
}

export function contains(r: Ranges, cp: number): boolean {
  let lo = 0
  let hi = r.length / 2 - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (cp < r[2 * mid]!) hi = mid - 1
    else if (cp > r[2 * mid + 1]!) lo = mid + 1
    else return true
  }
  return false
}

const propertyCache = new Map<string, Ranges>()

/** The code points of `\p{…}`, read from V8 itself so they follow its Unicode version. */
function propertyRanges(body: string): Ranges {
  const cached = propertyCache.get(body)
  if (cached) return cached
  let re: RegExp
  try {
    re = new RegExp(`^\\p{${body}}$`, 'u')
  } catch {
    throw new RegexSyntaxUnsupported(`\\p{${body}}`)
  }
  const out: Ranges = []
  let from = -1
  for (let cp = 0; cp <= MAX_CODE_POINT + 1; cp++) {
    const inside = cp <= MAX_CODE_POINT && re.test(String.fromCodePoint(cp))
    if (inside && from < 0) from = cp
    else if (!inside && from >= 0) {
      out.push(from, cp - 1)
      from = -1
    }
  }
  propertyCache.set(body, out)
  return out
}

let caseGroups: number[][] | undefined

/**
 * Groups of code points that match each other when a pattern ignores case, from `toLowerCase`/`toUpperCase`. This
 * is a superset of what V8's canonicalisation joins, which only makes a class more careful; a negated class, the
 * complement, would be narrower, and asks V8 instead (see {@link caseRelated}).
 */
function caseGroupList(): number[][] {
  if (caseGroups) return caseGroups
  const parent = new Map<number, number>()
  const find = (x: number): number => {
    let r = x
    while (parent.get(r) !== undefined && parent.get(r) !== r) r = parent.get(r)!
    return r
  }
  const join = (a: number, b: number): void => {
    if (!parent.has(a)) parent.set(a, a)
    if (!parent.has(b)) parent.set(b, b)
    const ra = find(a)
    const rb = find(b)
    if (ra !== rb) parent.set(ra, rb)
  }
  // Characters whose capital is several (ΐ U+0390 and ΐ U+1FD3 are both Ϊ́): Unicode's simple case folding joins
  // some of those, which V8 follows with the `u` flag.
  const capitals = new Map<string, number>()
  // Cased letters live below U+20000 (the BMP, Deseret, Osage, Adlam, …).
  for (let cp = 0; cp < 0x20000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue
    const s = String.fromCodePoint(cp)
    for (const v of [s.toLowerCase(), s.toUpperCase()]) {
      const c = v.codePointAt(0)!
      if (v.length === String.fromCodePoint(c).length && c !== cp) join(cp, c)
    }
    const upper = s.toUpperCase()
    if (upper.length > String.fromCodePoint(upper.codePointAt(0)!).length) {
      const other = capitals.get(upper)
      if (other === undefined) capitals.set(upper, cp)
      else join(cp, other)
    }
  }
  const groups = new Map<number, number[]>()
  for (const cp of parent.keys()) {
    const r = find(cp)
    const g = groups.get(r) ?? []
    g.push(cp)
    groups.set(r, g)
  }
  caseGroups = [...groups.values()].filter((g) => g.length > 1)
  return caseGroups
}

/**
 * Case closures already computed, by class: the same classes recur within a pattern (`\d`, `[a-z]`) and across the
 * patterns a check wraps alike (`[^\p{L}\p{N}_]`), and closing a large one takes milliseconds. Equal classes get
 * the same array, which lets the analysis tell them apart by identity.
 */
const closures = new Map<string, Ranges>()
const MAX_CLOSURES = 1000
/** Classes already read, by their text and flags, for the same reasons. */
const classes = new Map<string, Ranges>()
const MAX_CLASSES = 1000

function foldedCase(ranges: Ranges): Ranges {
  const key = ranges.join(',')
  let r = closures.get(key)
  if (!r) {
    r = caseClosure(ranges)
    if (closures.size >= MAX_CLOSURES) closures.clear()
    closures.set(key, r)
  }
  return r
}

const unjoined = new Map<boolean, Ranges>()

/**
 * The characters of the case groups that V8, ignoring case with (`unicode`) or without the `u` flag, does not join
 * whole: where {@link caseClosure} may hold a character V8 does not match (`ı` with `i`, and without `u`, `ſ` with `s`,
 * the Kelvin sign with `k`). Elsewhere the closure is what V8 matches. (A negated class asks V8 about every character
 * of a case group: see {@link caseRelated}.)
 */
export function caseFoldingDifferences(unicode: boolean): Ranges {
  const known = unjoined.get(unicode)
  if (known) return known
  const out: number[] = []
  for (const g of caseGroupList()) {
    // Without `u` a pattern reads code units: a character past U+FFFF is two, and no class holds it.
    const members = unicode ? g : g.filter((cp) => cp <= 0xffff)
    if (members.length < 2) continue
    const re = new RegExp(`^[\\u{${members[0]!.toString(16)}}]$`, 'iu')
    const plain = new RegExp(`^[\\u${members[0]!.toString(16).padStart(4, '0')}]$`, 'i')
    if (!members.every((cp) => (unicode ? re : plain).test(String.fromCodePoint(cp)))) {
      for (const cp of members) out.push(cp, cp)
    }
  }
  const r = normalize(out)
  unjoined.set(unicode, r)
  return r
}

const related = new Map<boolean, Ranges>()

/**
 * Every code point of a case group ({@link caseGroupList}), for a pattern that reads characters (`unicode`) or code
 * units: outside them ignoring case changes nothing, in V8 or in the check.
 */
export function caseRelated(unicode: boolean): Ranges {
  const known = related.get(unicode)
  if (known) return known
  const out: number[] = []
  for (const g of caseGroupList()) {
    const members = unicode ? g : g.filter((cp) => cp <= 0xffff)
    if (members.length > 1) for (const cp of members) out.push(cp, cp)
  }
  const r = normalize(out)
  related.set(unicode, r)
  return r
}

/**
 * The characters the negated class `text` (`[^…]`) matches ignoring case, given `closed`, the case closure of what
 * it lists. V8 matches a character when none of the class's members folds to what it folds to; the complement of the
 * closure is that wherever the closure joins what V8 joins, but where V8 joins less (without `u`, `ſ` is no `s`; with
 * it, `ı` is no `i`) it lacks characters V8 matches, and the check could miss a way to match. So V8 says what the
 * class matches among the characters of a case group, and the complement holds outside them. A class V8 does not
 * compile alone takes every one of them.
 */
function negatedIgnoringCase(text: string, closed: Ranges, unicode: boolean): Ranges {
  const cased = caseRelated(unicode)
  const outside = complement(normalize([...closed, ...cased]))
  let re: RegExp | undefined
  try {
    re = new RegExp(`^${text}$`, unicode ? 'iu' : 'i')
  } catch {
    re = undefined
  }
  if (!re) return normalize([...outside, ...cased])
  const inside: number[] = []
  for (let i = 0; i < cased.length; i += 2) {
    for (let cp = cased[i]!; cp <= cased[i + 1]!; cp++) if (re.test(String.fromCodePoint(cp))) inside.push(cp, cp)
  }
  return normalize([...outside, ...inside])
}

/** `r` with every code point's other cases added. */
export function caseClosure(r: Ranges): Ranges {
  const extra: number[] = []
  for (const g of caseGroupList()) {
    if (g.some((cp) => contains(r, cp))) for (const cp of g) if (!contains(r, cp)) extra.push(cp, cp)
  }
  return extra.length === 0 ? r : normalize([...r, ...extra])
}

export interface ParsedRegex {
  root: RegexNode
  groups: number
  names: Map<string, number>
}

/** Parse `source` as V8 would with `flags`. */
export function parseRegex(source: string, flags: string): ParsedRegex {
  if (flags.includes('v')) throw new RegexSyntaxUnsupported('the v flag')
  const unicode = flags.includes('u')
  const ignoreCase = flags.includes('i')
  const dotAll = flags.includes('s')
  const multiline = flags.includes('m')
  let pos = 0
  let groupCount = 0
  const names = new Map<string, number>()
  const n = source.length

  const set = (ranges: Ranges, start: number): RegexNode => ({
    t: 'set',
    ranges: ignoreCase ? foldedCase(ranges) : ranges,
    start,
    end: pos,
  })

  const readChar = (): number => {
    const cp = unicode ? source.codePointAt(pos)! : source.charCodeAt(pos)
    pos += cp > 0xffff ? 2 : 1
    return cp
  }

  /** An escape after the backslash; a class escape (`\d`) gives ranges, a character gives its code point. */
  const readEscape = (inClass: boolean): { ranges: Ranges } | { cp: number } | { backref: number | string } => {
    const c = source[pos]
    if (c === undefined) throw new RegexSyntaxUnsupported('a trailing backslash')
    pos++
    switch (c) {
      case 'd':
        return { ranges: DIGIT }
      case 'D':
        return { ranges: complement(DIGIT) }
      case 'w':
        return { ranges: WORD }
      case 'W':
        return { ranges: complement(WORD) }
      case 's':
        return { ranges: SPACE }
      case 'S':
        return { ranges: complement(SPACE) }
      case 't':
        return { cp: 9 }
      case 'n':
        return { cp: 10 }
      case 'v':
        return { cp: 11 }
      case 'f':
        return { cp: 12 }
      case 'r':
        return { cp: 13 }
      case 'b':
        return { cp: 8 } // only reached inside a class; outside it is an assertion
      case '0':
        if (!/[0-7]/.test(source[pos] ?? '')) return { cp: 0 }
        break
      case 'c': {
        const l = source[pos]
        if (l && /[A-Za-z]/.test(l)) {
          pos++
          return { cp: l.charCodeAt(0) % 32 }
        }
        pos--
        return { cp: 0x5c }
      }
      case 'x': {
        const h = /^[0-9A-Fa-f]{2}/.exec(source.slice(pos))
        if (h) {
          pos += 2
          return { cp: Number.parseInt(h[0], 16) }
        }
        return { cp: 0x78 }
      }
      case 'u': {
        if (source[pos] === '{' && unicode) {
          const close = source.indexOf('}', pos)
          const cp = Number.parseInt(source.slice(pos + 1, close), 16)
          pos = close + 1
          return { cp }
        }
        const h = /^[0-9A-Fa-f]{4}/.exec(source.slice(pos))
        if (!h) return { cp: 0x75 }
        pos += 4
        let cp = Number.parseInt(h[0], 16)
        const low = /^\\u([0-9A-Fa-f]{4})/.exec(source.slice(pos))
        if (unicode && cp >= 0xd800 && cp <= 0xdbff && low) {
          const lo = Number.parseInt(low[1]!, 16)
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            pos += 6
            cp = (cp - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000
          }
        }
        return { cp }
      }
      case 'p':
      case 'P': {
        if (!unicode || source[pos] !== '{') return { cp: c.charCodeAt(0) }
        const close = source.indexOf('}', pos)
        const r = propertyRanges(source.slice(pos + 1, close))
        pos = close + 1
        return { ranges: c === 'p' ? r : complement(r) }
      }
      case 'k':
        if (!inClass && source[pos] === '<' && (unicode || /\(\?<(?![=!])/.test(source))) {
          const close = source.indexOf('>', pos)
          const name = source.slice(pos + 1, close)
          pos = close + 1
          return { backref: name }
        }
        return { cp: 0x6b }
    }
    if (/[1-9]/.test(c) && !inClass) {
      const m = /^\d*/.exec(source.slice(pos))!
      return { backref: Number(c + m[0]) }
    }
    if (/[0-7]/.test(c) && !unicode) {
      const m = /^[0-7]{0,2}/.exec(source.slice(pos))!
      pos += m[0].length
      return { cp: Number.parseInt(c + m[0], 8) }
    }
    pos--
    return { cp: readChar() }
  }

  const readClass = (start: number): RegexNode => {
    // A class means the same wherever it is: the wrapped forms of every checked pattern share theirs.
    let close = start + 1
    while (close < n && source[close] !== ']') close += source[close] === '\\' ? 2 : 1
    const key = `${ignoreCase ? 'i' : ''}${unicode ? 'u' : ''}${source.slice(start, close + 1)}`
    const known = classes.get(key)
    if (known && close < n) {
      pos = close + 1
      return { t: 'set', ranges: known, start, end: pos }
    }
    const node = readClassFresh(start)
    if (node.t === 'set') {
      if (classes.size >= MAX_CLASSES) classes.clear()
      classes.set(key, node.ranges)
    }
    return node
  }

  const readClassFresh = (start: number): RegexNode => {
    pos++ // [
    let negate = false
    if (source[pos] === '^') {
      negate = true
      pos++
    }
    const acc: number[] = []
    const atom = (): Ranges | number => {
      if (source[pos] === '\\') {
        pos++
        const e = readEscape(true)
        if ('ranges' in e) return e.ranges
        if ('cp' in e) return e.cp
        return 0x5c
      }
      return readChar()
    }
    while (pos < n && source[pos] !== ']') {
      const a = atom()
      if (typeof a === 'number' && source[pos] === '-' && source[pos + 1] !== ']' && pos + 1 < n) {
        const save = pos
        pos++
        const b = atom()
        if (typeof b === 'number') {
          acc.push(Math.min(a, b), Math.max(a, b))
          continue
        }
        pos = save
      }
      if (typeof a === 'number') acc.push(a, a)
      else acc.push(...a)
    }
    if (pos >= n) throw new RegexSyntaxUnsupported('an unterminated class')
    pos++ // ]
    const ranges = normalize(acc)
    // Case closure comes before the complement, as V8 matches `[^a]` with `i` against neither a nor A.
    const closed = ignoreCase ? foldedCase(ranges) : ranges
    if (!negate) return { t: 'set', ranges: closed, start, end: pos }
    const negated = ignoreCase ? negatedIgnoringCase(source.slice(start, pos), closed, unicode) : complement(closed)
    return { t: 'set', ranges: negated, start, end: pos }
  }

  const readQuantifier = (): { min: number; max: number } | undefined => {
    const c = source[pos]
    let q: { min: number; max: number } | undefined
    if (c === '*') q = { min: 0, max: Number.POSITIVE_INFINITY }
    else if (c === '+') q = { min: 1, max: Number.POSITIVE_INFINITY }
    else if (c === '?') q = { min: 0, max: 1 }
    if (q) pos++
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(pos))
      if (!m) return undefined
      pos += m[0].length
      const min = Number(m[1])
      q = { min, max: m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]) }
    } else return undefined
    if (source[pos] === '?') pos++ // lazy: the same paths, tried in another order
    return q
  }

  const parseAlt = (): RegexNode => {
    const alts: RegexNode[] = [parseSeq()]
    while (source[pos] === '|') {
      pos++
      alts.push(parseSeq())
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts }
  }

  const parseSeq = (): RegexNode => {
    const items: RegexNode[] = []
    while (pos < n && source[pos] !== '|' && source[pos] !== ')') {
      const start = pos
      const c = source[pos]!
      let atom: RegexNode
      let quantifiable = true
      if (c === '^') {
        pos++
        atom = { t: 'assert', kind: multiline ? 'line' : 'start' }
        quantifiable = false
      } else if (c === '$') {
        pos++
        atom = { t: 'assert', kind: multiline ? 'line' : 'end' }
        quantifiable = false
      } else if (c === '.') {
        pos++
        atom = set(dotAll ? [0, MAX_CODE_POINT] : complement(LINE_TERMINATORS), start)
      } else if (c === '[') {
        atom = readClass(start)
      } else if (c === '(') {
        pos++
        if (source.startsWith('?=', pos) || source.startsWith('?!', pos)) {
          const negative = source[pos + 1] === '!'
          pos += 2
          atom = { t: 'look', body: parseAlt(), behind: false, negative, start, end: 0 }
          quantifiable = !unicode
        } else if (source.startsWith('?<=', pos) || source.startsWith('?<!', pos)) {
          const negative = source[pos + 2] === '!'
          pos += 3
          atom = { t: 'look', body: parseAlt(), behind: true, negative, start, end: 0 }
          quantifiable = false
        } else if (source.startsWith('?:', pos)) {
          pos += 2
          atom = { t: 'group', body: parseAlt(), start, end: 0 }
        } else if (source.startsWith('?<', pos)) {
          const close = source.indexOf('>', pos)
          const name = source.slice(pos + 2, close)
          pos = close + 1
          const index = ++groupCount
          names.set(name, index)
          atom = { t: 'group', body: parseAlt(), index, name, start, end: 0 }
        } else if (source[pos] === '?') {
          throw new RegexSyntaxUnsupported('an inline modifier group')
        } else {
          const index = ++groupCount
          atom = { t: 'group', body: parseAlt(), index, start, end: 0 }
        }
        if (source[pos] !== ')') throw new RegexSyntaxUnsupported('an unbalanced parenthesis')
        pos++
        atom.end = pos
      } else if (c === '\\') {
        pos++
        if (source[pos] === 'b' || source[pos] === 'B') {
          atom = { t: 'assert', kind: source[pos] === 'b' ? 'word' : 'nonword' }
          pos++
          quantifiable = false
        } else {
          const e = readEscape(false)
          if ('backref' in e) atom = { t: 'backref', ref: e.backref, start, end: pos }
          else atom = set('ranges' in e ? e.ranges : [e.cp, e.cp], start)
        }
      } else {
        const cp = readChar()
        atom = set([cp, cp], start)
      }
      const q = quantifiable ? readQuantifier() : undefined
      items.push(q ? { t: 'repeat', body: atom, min: q.min, max: q.max, start, end: pos } : atom)
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items }
  }

  const root = parseAlt()
  if (pos < n) throw new RegexSyntaxUnsupported('an unbalanced parenthesis')
  return { root, groups: groupCount, names }
}
