/**
 * How much a regular expression can backtrack, from the ambiguity of its automaton (Weideman et al., "Analyzing
 * matching time behavior of backtracking regular expression matchers by using ambiguity of NFA", 2016): a backtracking
 * matcher such as V8's tries every way a text can be matched before it gives up, so a pattern that can match a
 * pumped string in exponentially many ways takes exponential time, and one with a chain of k loops that can share a
 * pumped string takes time n^k. The search over start positions is one more loop in front of the pattern.
 *
 * The model over-approximates V8 where it must: lookarounds and `\b` may pass or fail as the text likes (their bodies
 * are analysed on their own, their cost counted as often as the pattern can try them), a back-reference may match
 * anything its group could, counted repetitions of more than one character (and any count over {@link MAX_UNROLL}) are
 * read as unbounded, since `(a|a){1,30}` takes 2^30 steps although it is finite. It follows V8 where that matters for
 * common patterns: a match that can end at a state ends the search there (so `(a|aa)+` alone is quick, while `(a|aa)+$`
 * is not), a repetition whose iteration matched nothing stops (so `(a?)*` is linear), and a lookbehind of one character
 * in front of the pattern fails every attempt after a character it refuses, as `\b` in front fails every attempt
 * between two word characters, so the steps counted on a text have a search go through a run of those from its start
 * alone (`(?<![a-z])[a-z]+@` and `\b[a-z]+@` take linear time where `[a-z]+@` takes quadratic; see
 * {@link leadingGuard}).
 * @module
 */
import {
  caseFoldingDifferences,
  caseRelated,
  complement,
  contains,
  MAX_CODE_POINT,
  normalize,
  parseRegex,
  type Ranges,
  type RegexNode,
} from './regex-parse.js'

/** Counted repetitions of one character up to this bound are unrolled; larger ones are read as unbounded. */
export const MAX_UNROLL = 32
/** Positions (characters and classes after unrolling) analysed at most; larger patterns are not analysed. */
export const MAX_POSITIONS = 2000
/** Steps of the searches below at most, by default, for one pattern. */
export const MAX_STEPS = 3_000_000

/** What a caller lets the analysis of a pattern spend; each step is a few hundred nanoseconds. */
export interface Budget {
  steps: number
}

export class AnalysisTooLarge extends Error {}

/** An input that makes the pattern slow: `prefix`, then `pump` repeated, then `suffix`. */
export interface Attack {
  prefix: string
  pump: string
  suffix: string
}

export type Backtracking =
  | { kind: 'exponential'; culprit: string; attack: Attack }
  | { kind: 'polynomial'; degree: number; culprits: string[]; attack?: Attack }

export interface AnalyseOptions {
  /** Try the pattern at every start position, as `exec`, `test` and `replace` do without the `y` flag. */
  search: boolean
  /** Assume a match can fail after any prefix, ignoring that reaching the end of the pattern ends the search. */
  failAnywhere?: boolean
  /** Unroll counted repetitions of bodies longer than one character (see `build`). */
  unrollCounted?: boolean
}

// ── the automaton ─────────────────────────────────────────────────────────────────────────────────────────────

const POS = 0
const EPS = 1
const LOOP = 2 // edges[0] enters an iteration, edges[1] leaves the repetition
const BACK = 3 // end of an iteration
const START = 4 // `^` without the m flag
const END = 5 // `$` without the m flag
const GUARD = 6 // a lookaround or boundary: may pass or fail
const ACCEPT = 7

interface Builder {
  kind: number[]
  edges: number[][]
  loopOf: number[]
  /** For a position: its set's index, and the source span of itself and of the repetitions around it. */
  set: number[]
  span: Array<[number, number]>
  around: Array<Array<[number, number]>>
  /** For a position: the source span of the innermost group around it, if any. */
  group: Array<[number, number] | undefined>
  sets: Ranges[]
  setIndex: Map<string, number>
  setOf: Map<Ranges, number>
  loops: number
  /** Loops read from a count of two or more over a body that can match empty: V8 lets those iterations be empty. */
  unchecked: Set<number>
  looks: Array<RegexNode & { t: 'look' }>
  /** The guard node of each lookaround: its index in `looks`. */
  lookAt: Map<number, number>
}

function node(b: Builder, kind: number, edges: number[] = []): number {
  b.kind.push(kind)
  b.edges.push(edges)
  b.loopOf.push(-1)
  b.set.push(-1)
  b.span.push([0, 0])
  b.around.push([])
  b.group.push(undefined)
  return b.kind.length - 1
}

function canBeEmpty(n: RegexNode): boolean {
  switch (n.t) {
    case 'set':
      return false
    case 'seq':
      return n.items.every(canBeEmpty)
    case 'alt':
      return n.alts.some(canBeEmpty)
    case 'group':
      return canBeEmpty(n.body)
    case 'repeat':
      return n.min === 0 || canBeEmpty(n.body)
    default:
      return true
  }
}

function isSingle(n: RegexNode): boolean {
  return n.t === 'set' || (n.t === 'group' && isSingle(n.body))
}

/**
 * The automaton of `root`; `unrollCounted` unrolls every counted repetition as V8 runs it, where the backtracking
 * analysis reads those of longer bodies or larger counts as unbounded (see the module comment). A body that can match
 * nothing is never unrolled: V8 ends a repetition at an empty iteration, which an unrolled copy would not.
 */
function build(b: Builder, root: RegexNode, unrollCounted = false): number {
  const groups = new Map<number | string, RegexNode>()
  const collect = (n: RegexNode): void => {
    if (n.t === 'group') {
      if (n.index !== undefined) groups.set(n.index, n.body)
      if (n.name !== undefined) groups.set(n.name, n.body)
      collect(n.body)
    } else if (n.t === 'seq') n.items.forEach(collect)
    else if (n.t === 'alt') n.alts.forEach(collect)
    else if (n.t === 'repeat' || n.t === 'look') collect(n.body)
  }
  collect(root)
  const around: Array<[number, number]> = []
  const inGroups: Array<[number, number]> = []
  const open = new Set<RegexNode>()

  const go = (n: RegexNode, next: number): number => {
    switch (n.t) {
      case 'set': {
        if (b.kind.length > MAX_POSITIONS * 4) throw new AnalysisTooLarge()
        // Equal classes often share one array (the parser remembers classes): looked up by identity, then contents.
        let s = b.setOf.get(n.ranges)
        if (s === undefined) {
          const key = n.ranges.join(',')
          s = b.setIndex.get(key)
          if (s === undefined) {
            s = b.sets.length
            b.sets.push(n.ranges)
            b.setIndex.set(key, s)
          }
          b.setOf.set(n.ranges, s)
        }
        const p = node(b, POS, [next])
        b.set[p] = s
        b.span[p] = [n.start, n.end]
        b.around[p] = [...around]
        b.group[p] = inGroups[inGroups.length - 1]
        return p
      }
      case 'seq': {
        let cont = next
        for (let i = n.items.length - 1; i >= 0; i--) cont = go(n.items[i]!, cont)
        return cont
      }
      case 'alt':
        return node(
          b,
          EPS,
          n.alts.map((a) => go(a, next)),
        )
      case 'group': {
        open.add(n.body)
        inGroups.push([n.start, n.end])
        const entry = go(n.body, next)
        inGroups.pop()
        open.delete(n.body)
        return entry
      }
      case 'look': {
        const guard = node(b, GUARD, [next])
        b.lookAt.set(guard, b.looks.length)
        b.looks.push(n)
        return guard
      }
      case 'assert':
        return node(b, n.kind === 'start' ? START : n.kind === 'end' ? END : GUARD, [next])
      case 'backref': {
        const body = groups.get(n.ref)
        // A reference to a group not matched yet, or to the group it is in, matches the empty string.
        if (!body || open.has(body)) return next
        return go(body, next)
      }
      case 'repeat': {
        let { min, max } = n
        const single = isSingle(n.body)
        // `(?:a?){100}` must iterate 100 times, empty or not, so "a" × 50 splits C(100, 50) ways.
        const unchecked = min >= 2 && !single && canBeEmpty(n.body)
        const unroll = unrollCounted
          ? max <= MAX_POSITIONS && (single || !canBeEmpty(n.body))
          : max <= MAX_UNROLL && single
        if (max > 1 && !unroll) {
          min = Math.min(min, 1)
          max = Number.POSITIVE_INFINITY
        }
        if (max === 0) return next
        around.push([n.start, n.end])
        let entry: number
        if (max === Number.POSITIVE_INFINITY) {
          const loop = node(b, LOOP)
          const back = node(b, BACK, [loop])
          b.loopOf[loop] = b.loops
          b.loopOf[back] = b.loops
          if (unchecked) b.unchecked.add(b.loops)
          b.loops++
          const body = go(n.body, back)
          b.edges[loop] = [body, next]
          let cont = min === 0 ? loop : body
          for (let i = 1; i < min; i++) cont = go(n.body, cont)
          entry = cont
        } else {
          let cont = next
          for (let i = 0; i < max - min; i++) cont = node(b, EPS, [go(n.body, cont), next])
          for (let i = 0; i < min; i++) cont = go(n.body, cont)
          entry = cont
        }
        around.pop()
        return entry
      }
    }
  }
  return go(root, node(b, ACCEPT))
}

interface Closure {
  /** Positions reached, each with the number of distinct ε-paths: V8 tries each of them. */
  targets: Map<number, number>
  /** Whether the end of the pattern is reached without an assertion that could fail. */
  accepts: boolean
  /** Lookarounds tried on the way, by index in `looks`, each with the number of ε-paths that try it. */
  looks: Map<number, number>
}

/**
 * The positions reachable from `from` without consuming a character. An iteration that began on this ε-path may not
 * end on it (V8 drops a repetition step that matched nothing); `^` holds only before the first character.
 */
function closure(b: Builder, from: number, atStart: boolean, budget: { steps: number }): Closure {
  const targets = new Map<number, number>()
  const looks = new Map<number, number>()
  let accepts = false
  const begun: number[] = []
  const passed: number[] = []
  const walk = (at: number, blocked: boolean, ended: boolean): void => {
    if (--budget.steps < 0) throw new AnalysisTooLarge()
    const k = b.kind[at]!
    if (k === POS) {
      if (!ended) targets.set(at, (targets.get(at) ?? 0) + 1)
      return
    }
    const look = b.lookAt.get(at)
    if (look !== undefined) looks.set(look, (looks.get(look) ?? 0) + 1)
    if (k === ACCEPT) {
      if (!blocked) accepts = true
      return
    }
    if (k === START && !atStart) return
    if (k === BACK) {
      const loop = b.loopOf[at]!
      // An unchecked loop may end two iterations on one ε-path: an empty one shows the second way, and the walk ends.
      if (b.unchecked.has(loop) ? passed.filter((l) => l === loop).length >= 2 : begun.includes(loop)) return
      passed.push(loop)
      walkEdges(at, k, blocked, ended)
      passed.pop()
      return
    }
    walkEdges(at, k, blocked, ended)
  }
  const walkEdges = (at: number, k: number, blocked: boolean, ended: boolean): void => {
    const edges = b.edges[at]!
    const nextBlocked = blocked || k === END || k === GUARD
    const nextEnded = ended || k === END
    for (let i = 0; i < edges.length; i++) {
      const enters = k === LOOP && i === 0
      if (enters) begun.push(b.loopOf[at]!)
      walk(edges[i]!, nextBlocked, nextEnded)
      if (enters) begun.pop()
    }
  }
  walk(from, false, false)
  return { targets, accepts, looks }
}

// ── sets ──────────────────────────────────────────────────────────────────────────────────────────────────────

function intersect(a: Ranges, c: Ranges): Ranges {
  const out: Ranges = []
  let i = 0
  let j = 0
  while (i < a.length && j < c.length) {
    const lo = Math.max(a[i]!, c[j]!)
    const hi = Math.min(a[i + 1]!, c[j + 1]!)
    if (lo <= hi) out.push(lo, hi)
    if (a[i + 1]! < c[j + 1]!) i += 2
    else j += 2
  }
  return out
}

const PREFERRED = 'a0!A _-.,:;@#/\u00e9\u00aa\u0000'

/** A readable character of a non-empty set. */
function pick(r: Ranges): string {
  for (const ch of PREFERRED) if (contains(r, ch.codePointAt(0)!)) return ch
  for (let cp = 0x61; cp <= 0x7a; cp++) if (contains(r, cp)) return String.fromCodePoint(cp)
  for (let i = 0; i < r.length; i += 2) {
    for (let cp = r[i]!; cp <= r[i + 1]! && cp < 0x7f; cp++) if (cp >= 0x21) return String.fromCodePoint(cp)
  }
  return String.fromCodePoint(r[0]!)
}

// ── analysis ──────────────────────────────────────────────────────────────────────────────────────────────────

interface Graph {
  b: Builder
  /** Nodes: positions, then the search loop and the initial state. */
  out: Array<Array<{ to: number; count: number }>>
  /** Lookarounds tried between a node and the next positions (see {@link Closure}). */
  looks: Array<Map<number, number> | undefined>
  label: Ranges[]
  nullable: boolean[]
  search: number
  init: number
  /** What makes an attempt fail before it takes a character ({@link leadingGuard}); none without a search. */
  guard: Guard
}

const ALL: Ranges = [0, MAX_CODE_POINT]

/** The characters a lookaround of one character tests, or undefined for any other body. */
function oneCharacter(n: RegexNode): Ranges | undefined {
  if (n.t === 'set') return n.ranges
  if (n.t === 'group') return oneCharacter(n.body)
  if (n.t !== 'alt') return undefined
  const parts = n.alts.map(oneCharacter)
  return parts.every((r) => r !== undefined) ? normalize(parts.flat()) : undefined
}

/**
 * What makes an attempt fail before it takes a character, by the character before its start (`c1`) and the one at it
 * (`c2`): it fails when `c1` is in `behind` (a lookbehind of one character refuses it), or when `c1` and `c2` are in
 * the same one of `sides` (`\b` between two word characters, or two others). Inside a stretch of text that only holds
 * characters of `behind`, or only of one side, every attempt but the one at its start fails at once.
 */
interface GuardOption {
  behind: Ranges
  sides: Ranges[]
}

/**
 * What makes an attempt fail at once: all of its options, each of which must hold for a stretch of text (an attempt
 * fails where every alternative into the pattern does). {@link NO_GUARD}, one option of no set, holds for none.
 */
type Guard = GuardOption[]

const NO_GUARD: Guard = [{ behind: [], sides: [] }]
/** Options and sets a guard keeps at most: each set is a bit of a mask (see `guardMask`). */
const MAX_GUARD_SETS = 30

function guardSets(g: Guard): number {
  return g.reduce((sum, o) => sum + 1 + o.sides.length, 0)
}

/** The guard of two checks in a row, either of which fails the attempt: each option of one with each of the other. */
function bothGuards(a: Guard, c: Guard): Guard {
  const out: Guard = []
  for (const x of a) {
    for (const y of c) {
      const sides = [...x.sides]
      for (const side of y.sides) if (!sides.some((z) => z.join() === side.join())) sides.push(side)
      out.push({ behind: normalize([...x.behind, ...y.behind]), sides })
    }
  }
  return guardSets(out) > MAX_GUARD_SETS ? NO_GUARD : out
}

/**
 * What every way into the pattern checks before it takes a character, so that an attempt fails at once: a lookbehind
 * of one character (the class of `(?<![…])`, everything outside that of `(?<=[…])`, as `tested` reads it) fails it
 * after a character it refuses, and `\b` between two characters on the same side of `word` (what V8 counts as word
 * characters). `\B` guards no run: it passes between any two word characters. {@link NO_GUARD} when the pattern
 * starts with none of them.
 */
function leadingGuard(
  n: RegexNode,
  tested: (look: RegexNode & { t: 'look' }) => Ranges | undefined,
  word: Ranges,
): Guard {
  switch (n.t) {
    case 'group':
      return leadingGuard(n.body, tested, word)
    case 'alt': {
      // An attempt fails at once only where every alternative does.
      const out = n.alts.flatMap((alt) => leadingGuard(alt, tested, word))
      return guardSets(out) > MAX_GUARD_SETS ? NO_GUARD : out
    }
    case 'look': {
      const r = n.behind ? tested(n) : undefined
      if (r === undefined) return NO_GUARD
      return [{ behind: n.negative ? r : complement(r), sides: [] }]
    }
    case 'assert':
      return n.kind === 'word' ? [{ behind: [], sides: [word, complement(word)] }] : NO_GUARD
    case 'seq': {
      let guard = NO_GUARD
      // Lookarounds and assertions take no character, so the checks after them still look at the start.
      for (const item of n.items) {
        guard = bothGuards(guard, leadingGuard(item, tested, word))
        if (item.t !== 'look' && item.t !== 'assert') break
      }
      return guard
    }
    default:
      return NO_GUARD
  }
}

/** The word characters of `\b` as V8 runs it with `flags`, by flags: with `i` and `u`, `ſ` and the Kelvin sign too. */
const wordCharacters = new Map<string, Ranges>()

function wordOf(flags: string): Ranges {
  const key = `${flags.includes('i') ? 'i' : ''}${/[uv]/.test(flags) ? 'u' : ''}`
  let r = wordCharacters.get(key)
  if (!r) {
    const boundary = new RegExp('\\b', key)
    const cased = caseRelated(key.includes('u'))
    const extra: number[] = []
    for (let i = 0; i < cased.length; i += 2) {
      for (let cp = cased[i]!; cp <= cased[i + 1]!; cp++)
        if (boundary.test(String.fromCodePoint(cp))) extra.push(cp, cp)
    }
    r = normalize([...WORD_CHARACTERS, ...extra])
    wordCharacters.set(key, r)
  }
  return r
}

const WORD_CHARACTERS: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a]

/**
 * {@link leadingGuard} of the pattern `source` as V8 runs it with `flags`. Ignoring case, V8 folds a few characters
 * otherwise than the model's classes (`caseFoldingDifferences`), where a class may hold one V8 does not match (never
 * the other way round: a negated class asks V8); that would not matter elsewhere, but could make a lookbehind look
 * stricter than it is. So V8 itself says what each lookbehind matches of those, and which of them the pattern's
 * classes take: one no class takes is in no run, and may count as refused by every option.
 */
function guardOf(b: Builder, root: RegexNode, source: string, flags: string): Guard {
  const word = wordOf(flags)
  if (!flags.includes('i')) return leadingGuard(root, (look) => oneCharacter(look.body), word)
  const differ = caseFoldingDifferences(/[uv]/.test(flags))
  const chars: string[] = []
  for (let i = 0; i < differ.length; i += 2)
    for (let cp = differ[i]!; cp <= differ[i + 1]!; cp++) chars.push(String.fromCodePoint(cp))
  const runFlags = flags.replace(/[gdy]/g, '')
  /** The characters of `chars` that the pattern text `atom` matches in V8, or undefined if it does not compile alone. */
  const matched = (atom: string): Ranges | undefined => {
    let re: RegExp
    try {
      re = new RegExp(`^(?:${atom})$`, runFlags)
    } catch {
      return undefined
    }
    return normalize(chars.filter((c) => re.test(c)).flatMap((c) => [c.codePointAt(0)!, c.codePointAt(0)!]))
  }
  const guard = leadingGuard(
    root,
    (look) => {
      const model = oneCharacter(look.body)
      const exact = model && matched(source.slice(look.start + 4, look.end - 1))
      return exact && normalize([...intersect(model, complement(differ)), ...exact])
    },
    word,
  )
  if (guard === NO_GUARD) return guard
  // Each class as written: two that V8 reads apart can make one set of the model.
  const atoms = new Set<string>()
  for (let p = 0; p < b.kind.length; p++) if (b.kind[p] === POS) atoms.add(source.slice(b.span[p]![0], b.span[p]![1]))
  let taken: Ranges = []
  for (const atom of atoms) taken = normalize([...taken, ...(matched(atom) ?? differ)])
  const untaken = intersect(differ, complement(taken))
  return guard.map((o) => ({
    behind: normalize([...o.behind, ...untaken]),
    sides: o.sides.map((side) => normalize([...side, ...untaken])),
  }))
}

/**
 * A mask of the sets of `guard` that `chars` are not all in, one bit per set in order: where the masks of a stretch's
 * characters together leave some option a bit clear, the stretch is guarded (see {@link guards}).
 */
function guardMask(guard: Guard, chars: Ranges): number {
  let mask = 0
  let bit = 0
  for (const o of guard) {
    for (const set of [o.behind, ...o.sides]) {
      if (intersect(chars, complement(set)).length > 0) mask |= 1 << bit
      bit++
    }
  }
  return mask
}

/** Whether a stretch whose characters' masks make `mask` has every option of `guard` hold for it. */
function guards(guard: Guard, mask: number): boolean {
  let bit = 0
  for (const o of guard) {
    const sets = 1 + o.sides.length
    const all = ((1 << sets) - 1) << bit
    if ((mask & all) === all) return false
    bit += sets
  }
  return true
}

function graphOf(source: string, flags: string, options: AnalyseOptions, budget: { steps: number }): Graph {
  const parsed = parseRegex(source, flags)
  const b: Builder = {
    kind: [],
    edges: [],
    loopOf: [],
    set: [],
    span: [],
    around: [],
    group: [],
    sets: [],
    setIndex: new Map(),
    setOf: new Map(),
    loops: 0,
    unchecked: new Set(),
    looks: [],
    lookAt: new Map(),
  }
  const entry = build(b, parsed.root, options.unrollCounted)
  const positions = b.kind.reduce((acc, k) => acc + (k === POS ? 1 : 0), 0)
  if (positions > MAX_POSITIONS) throw new AnalysisTooLarge()
  const n = b.kind.length
  const search = n
  const init = n + 1
  const out: Graph['out'] = Array.from({ length: n + 2 }, () => [])
  const label: Ranges[] = []
  const nullable: boolean[] = []
  const looks: Graph['looks'] = []
  const fill = (from: number, c: Closure): void => {
    for (const [to, count] of c.targets) out[from]!.push({ to, count })
    if (c.looks.size > 0) looks[from] = c.looks
  }
  for (let p = 0; p < n; p++) {
    if (b.kind[p] !== POS) continue
    label[p] = b.sets[b.set[p]!]!
    const c = closure(b, b.edges[p]![0]!, false, budget)
    fill(p, c)
    nullable[p] = !options.failAnywhere && c.accepts
  }
  label[search] = ALL
  label[init] = []
  nullable[search] = false
  nullable[init] = false
  const fromStart = closure(b, entry, true, budget)
  fill(init, fromStart)
  if (options.search) {
    out[init]!.push({ to: search, count: 1 })
    out[search]!.push({ to: search, count: 1 })
    fill(search, closure(b, entry, false, budget))
  }
  const guard = options.search ? guardOf(b, parsed.root, source, flags) : NO_GUARD
  return { b, out, looks, label, nullable, search, init, guard }
}

/** Strongly connected components (iterative Tarjan), in reverse topological order. */
function sccs(size: number, succ: (v: number) => number[]): { comp: Int32Array; list: number[][] } {
  const index = new Int32Array(size).fill(-1)
  const low = new Int32Array(size)
  const comp = new Int32Array(size).fill(-1)
  const onStack = new Uint8Array(size)
  const stack: number[] = []
  const list: number[][] = []
  let counter = 0
  for (let root = 0; root < size; root++) {
    if (index[root] !== -1) continue
    const work: Array<[number, number[], number]> = [[root, succ(root), 0]]
    index[root] = low[root] = counter++
    stack.push(root)
    onStack[root] = 1
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const [v, next] = frame
      if (frame[2] < next.length) {
        const w = next[frame[2]++]!
        if (index[w] === -1) {
          index[w] = low[w] = counter++
          stack.push(w)
          onStack[w] = 1
          work.push([w, succ(w), 0])
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!)
        continue
      }
      work.pop()
      if (work.length > 0) {
        const parent = work[work.length - 1]![0]
        low[parent] = Math.min(low[parent]!, low[v]!)
      }
      if (low[v] === index[v]) {
        const members: number[] = []
        let w: number
        do {
          w = stack.pop()!
          onStack[w] = 0
          comp[w] = list.length
          members.push(w)
        } while (w !== v)
        list.push(members)
      }
    }
  }
  return { comp, list }
}

interface Ctx {
  g: Graph
  inGraph: (v: number) => boolean
  budget: { steps: number }
  /** Intersections of labels, by the pair of sets: positions of the same set share their label. */
  meet: Map<number, Ranges>
}

/** The index of a node's label among the sets, the search loop's and the initial state's coming last. */
function labelIndex(g: Graph, v: number): number {
  const n = g.b.sets.length
  return v === g.search ? n : v === g.init ? n + 1 : g.b.set[v]!
}

function meet(ctx: Ctx, a: number, c: number): Ranges {
  const la = labelIndex(ctx.g, a)
  const lc = labelIndex(ctx.g, c)
  const key = la < lc ? la * (ctx.g.b.sets.length + 2) + lc : lc * (ctx.g.b.sets.length + 2) + la
  let r = ctx.meet.get(key)
  if (!r) {
    r = intersect(ctx.g.label[a]!, ctx.g.label[c]!)
    ctx.meet.set(key, r)
  }
  return r
}

/** Two different paths from a state back to itself on the same word, as that word; undefined when there are none. */
function exponentialWitness(ctx: Ctx, members: number[]): { state: number; word: string } | undefined {
  const { g } = ctx
  const local = new Map(members.map((v, i) => [v, i]))
  const m = members.length
  const inside = members.map((v) => g.out[v]!.filter((e) => local.has(e.to)))
  const id = (i: number, j: number) => i * m + j
  // The characters of an edge, picked only for the edges of a witness: picking is slower than the search.
  type PEdge = { to: number; common: Ranges; diverging: boolean }
  const productOut = (p: number): PEdge[] => {
    const i = Math.floor(p / m)
    const j = p % m
    const res: PEdge[] = []
    const second = inside[j]!
    for (const e1 of inside[i]!) {
      for (const e2 of second) {
        if (--ctx.budget.steps < 0) throw new AnalysisTooLarge()
        const common = meet(ctx, e1.to, e2.to)
        if (common.length === 0) continue
        const diverging = i === j && (e1 !== e2 || e1.count > 1)
        res.push({ to: id(local.get(e1.to)!, local.get(e2.to)!), common, diverging })
      }
    }
    return res
  }
  const cache = new Map<number, PEdge[]>()
  const pout = (p: number) => {
    let r = cache.get(p)
    if (!r) {
      r = productOut(p)
      cache.set(p, r)
    }
    return r
  }
  const { comp } = sccs(m * m, (p) => pout(p).map((e) => e.to))
  for (let i = 0; i < m; i++) {
    const d = id(i, i)
    const c = comp[d]!
    const inComp = (p: number) => comp[p] === c
    // A diverging step inside the component, or an off-diagonal pair in it, gives two paths d → d.
    const bfs = (from: number, goal: (p: number, via?: PEdge) => boolean): string | undefined => {
      const prev = new Map<number, { from: number; common: Ranges }>([[from, { from: -1, common: [] }]])
      const queue = [from]
      for (let qi = 0; qi < queue.length; qi++) {
        const p = queue[qi]!
        for (const e of pout(p)) {
          if (!inComp(e.to)) continue
          if (goal(e.to, e)) {
            let word = pick(e.common)
            for (let at = p; at !== from; at = prev.get(at)!.from) word = pick(prev.get(at)!.common) + word
            return word
          }
          if (prev.has(e.to)) continue
          prev.set(e.to, { from: p, common: e.common })
          queue.push(e.to)
        }
      }
      return undefined
    }
    let split: number | undefined
    const there = bfs(d, (p, via) => {
      if (via?.diverging || p % m !== Math.floor(p / m)) {
        split = p
        return true
      }
      return false
    })
    if (there === undefined || split === undefined) continue
    const back = split === d ? '' : bfs(split, (p) => p === d)
    if (back === undefined) continue
    return { state: members[i]!, word: there + back }
  }
  return undefined
}

/** A word w with p →w p, p →w q and q →w q, or undefined. */
function polynomialWitness(ctx: Ctx, p: number, q: number, between: Set<number>, s1: Set<number>, s2: Set<number>) {
  const { g } = ctx
  const key = (a: number, b: number, c: number) => `${a},${b},${c}`
  const start = key(p, p, q)
  const prev = new Map<string, { from: string; char: string }>([[start, { from: '', char: '' }]])
  const queue: Array<[number, number, number]> = [[p, p, q]]
  for (let qi = 0; qi < queue.length; qi++) {
    const [a, b, c] = queue[qi]!
    const here = key(a, b, c)
    for (const e1 of g.out[a]!) {
      if (!s1.has(e1.to)) continue
      for (const e2 of g.out[b]!) {
        if (!between.has(e2.to)) continue
        const ab = meet(ctx, e1.to, e2.to)
        if (ab.length === 0) continue
        for (const e3 of g.out[c]!) {
          if (!s2.has(e3.to)) continue
          if (--ctx.budget.steps < 0) throw new AnalysisTooLarge()
          const common = intersect(ab, g.label[e3.to]!)
          if (common.length === 0) continue
          const k = key(e1.to, e2.to, e3.to)
          if (prev.has(k)) continue
          prev.set(k, { from: here, char: pick(common) })
          if (e1.to === p && e2.to === q && e3.to === q) {
            let word = ''
            for (let at = k; at !== start; at = prev.get(at)!.from) word = prev.get(at)!.char + word
            return word
          }
          queue.push([e1.to, e2.to, e3.to])
        }
      }
    }
  }
  return undefined
}

/** The shortest word that leads from the initial state to `target`. */
function prefixTo(g: Graph, target: number): string {
  const prev = new Map<number, { from: number; char: string }>([[g.init, { from: -1, char: '' }]])
  const queue = [g.init]
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi]!
    if (v === target) break
    for (const e of g.out[v]!) {
      if (prev.has(e.to)) continue
      prev.set(e.to, { from: v, char: pick(g.label[e.to]!) })
      queue.push(e.to)
    }
  }
  if (!prev.has(target)) return ''
  let word = ''
  for (let at = target; at !== g.init; at = prev.get(at)!.from) word = prev.get(at)!.char + word
  return word
}

/** A character none of `states` can go on with, so the match fails there. */
function failing(g: Graph, states: Iterable<number>): string {
  // Labels are shared by every position of a set: each is added once.
  const labels = new Set<Ranges>()
  for (const v of states) for (const e of g.out[v]!) labels.add(g.label[e.to]!)
  let taken: Ranges = []
  for (const r of labels) taken = taken.concat(r)
  const free = complement(normalizeLoose(taken))
  return free.length === 0 ? '!' : pick(free)
}

function normalizeLoose(r: Ranges): Ranges {
  const pairs: Array<[number, number]> = []
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!])
  pairs.sort((x, y) => x[0] - y[0])
  const out: Ranges = []
  for (const [a, b] of pairs) {
    if (out.length > 0 && a <= out[out.length - 1]! + 1) out[out.length - 1] = Math.max(out[out.length - 1]!, b)
    else out.push(a, b)
  }
  return out
}

interface CoreResult {
  exponential?: { state: number; attack: Attack }
  degree: number
  chain?: { p: number; q: number; attack: Attack }
  g: Graph
  /**
   * How often an attempt (or the search, with all its attempts) can pass node `v` of the graph, as a power of the text
   * length: the longest chain of repetitions that can share a pumped text before it, as `degree` counts the longest
   * chain of all. A lookaround tried there runs that many times.
   */
  tries?: (v: number) => number
}

function analyseCore(source: string, flags: string, options: AnalyseOptions, budget: { steps: number }): CoreResult {
  const g = graphOf(source, flags, options, budget)
  const size = g.out.length
  const inGraph = (v: number) => v !== g.init && !g.nullable[v] && (v === g.search || g.b.kind[v] === POS)
  const ctx: Ctx = { g, inGraph, budget, meet: new Map() }
  const succ = (v: number) => (inGraph(v) ? g.out[v]!.filter((e) => inGraph(e.to)).map((e) => e.to) : [])
  const { comp, list } = sccs(size, succ)
  const cyclic = list.map((members) => members.length > 1 || g.out[members[0]!]!.some((e) => e.to === members[0]))
  for (let c = 0; c < list.length; c++) {
    if (!cyclic[c] || !inGraph(list[c]![0]!)) continue
    const w = exponentialWitness(ctx, list[c]!)
    if (w) {
      const suffix = failing(g, list[c]!)
      return {
        exponential: { state: w.state, attack: { prefix: prefixTo(g, w.state), pump: w.word, suffix } },
        degree: 0,
        g,
      }
    }
  }
  // reach[c]: the components reachable from component c (list is in reverse topological order).
  const reach: Array<Set<number>> = list.map(() => new Set<number>())
  for (let c = 0; c < list.length; c++) {
    for (const v of list[c]!)
      for (const w of succ(v))
        if (comp[w] !== c) {
          reach[c]!.add(comp[w]!)
          for (const r of reach[comp[w]!]!) reach[c]!.add(r)
        }
  }
  const looping = (c: number) => cyclic[c]! && inGraph(list[c]![0]!)
  /** A text that repetition part `c` and part `d` after it can both take again and again, as a witness; memoised. */
  const links = new Map<number, { p: number; q: number; word: string } | undefined>()
  const link = (c: number, d: number) => {
    const key = c * list.length + d
    if (links.has(key)) return links.get(key)
    const s1 = new Set(list[c]!)
    const s2 = new Set(list[d]!)
    const between = new Set<number>()
    for (let e = 0; e < list.length; e++) {
      if ((e === c || reach[c]!.has(e)) && (e === d || reach[e]!.has(d))) for (const v of list[e]!) between.add(v)
    }
    let found: { p: number; q: number; word: string } | undefined
    for (const p of s1) {
      for (const q of s2) {
        const word = polynomialWitness(ctx, p, q, between, s1, s2)
        if (word !== undefined) {
          found = { p, q, word }
          break
        }
      }
      if (found) break
    }
    links.set(key, found)
    return found
  }
  const chain = new Array<number>(list.length).fill(0)
  const via = new Array<{ p: number; q: number; word: string } | undefined>(list.length)
  const nextOf = new Array<number>(list.length).fill(-1)
  for (let c = 0; c < list.length; c++) {
    if (!looping(c)) continue
    chain[c] = 1
    for (const d of reach[c]!) {
      if (!cyclic[d] || chain[d]! + 1 <= chain[c]!) continue
      const found = link(c, d)
      if (found) {
        chain[c] = chain[d]! + 1
        via[c] = found
        nextOf[c] = d
      }
    }
  }
  // The longest chain ending at each part, in topological order (the reverse of `list`'s), once a lookaround asks.
  let chainTo: number[] | undefined
  let into: number[][] | undefined
  const tries = (v: number): number => {
    if (!chainTo || !into) {
      chainTo = new Array<number>(list.length).fill(0)
      for (let c = list.length - 1; c >= 0; c--) {
        if (!looping(c)) continue
        chainTo[c] = Math.max(chainTo[c]!, 1)
        for (const d of reach[c]!)
          if (looping(d) && chainTo[c]! + 1 > chainTo[d]! && link(c, d)) chainTo[d] = chainTo[c]! + 1
      }
      into = Array.from({ length: size }, () => [])
      for (let u = 0; u < size; u++) for (const e of g.out[u]!) into[e.to]!.push(u)
    }
    // Every part from which `v` can be reached, through any edge: a node that ends the match is reached too.
    let most = 0
    const seen = new Set<number>([v])
    const queue = [v]
    for (let qi = 0; qi < queue.length; qi++) {
      const u = queue[qi]!
      if (--budget.steps < 0) throw new AnalysisTooLarge()
      most = Math.max(most, chainTo[comp[u]!]!)
      for (const w of into[u]!) {
        if (seen.has(w)) continue
        seen.add(w)
        queue.push(w)
      }
    }
    return most
  }
  let best = -1
  for (let c = 0; c < list.length; c++) if (best < 0 || chain[c]! > chain[best]!) best = c
  const degree = best < 0 ? 0 : chain[best]!
  // Show the first step of the longest chain that is not the search loop itself.
  let step = best
  while (step >= 0 && via[step] && via[step]!.p === g.search) step = nextOf[step]!
  const shown = step >= 0 ? via[step] : undefined
  const result: CoreResult = { degree, g, tries }
  if (shown) {
    result.chain = {
      p: shown.p,
      q: shown.q,
      attack: { prefix: prefixTo(g, shown.p), pump: shown.word, suffix: failing(g, [shown.q]) },
    }
  }
  return result
}

function innermost(g: Graph, state: number): [number, number] | undefined {
  const around = g.b.around[state]
  return around && around.length > 0 ? around[around.length - 1] : undefined
}

/**
 * The degree of a pattern with its lookarounds, and the pattern whose chain shows it: the main one, or the body of a
 * lookaround at `offset` in the source, which a text reaches after `prefix`.
 */
type Total = { exponential: Backtracking } | { degree: number; core: CoreResult; offset: number; prefix: string }

/**
 * The main pattern's degree, or that of its costliest lookaround if higher: a lookaround runs anchored wherever it is
 * tried, its own degree each time, and is tried as often as the chain of repetitions before it lets (`tries`). So
 * `(?=\d+\d+x)` costs n³ on a search, tried at every start, and `^(?=\d+\d+x)` n², tried once.
 */
function total(source: string, flags: string, options: AnalyseOptions, budget: { steps: number }): Total {
  const core = analyseCore(source, flags, options, budget)
  if (core.exponential) return { exponential: exponential(source, flags, core, budget) }
  let best: Total = { degree: core.degree, core, offset: 0, prefix: '' }
  const { g } = core
  for (const [index, look] of g.b.looks.entries()) {
    const offset = look.start + (look.behind ? 4 : 3)
    const inner = total(source.slice(offset, look.end - 1), flags, { search: false }, budget)
    if ('exponential' in inner) return inner
    if (inner.degree === 0) continue
    // The nodes after which it is tried: where the most tries are, and the shortest text there.
    let tries = -1
    let at = -1
    for (let v = 0; v < g.out.length; v++) {
      if (!g.looks[v]?.has(index)) continue
      const t = core.tries!(v)
      if (t > tries) [tries, at] = [t, v]
    }
    if (at < 0 || tries + inner.degree <= best.degree) continue
    // A lookbehind reads the text before it backwards: its text is its own.
    const before = look.behind || at === g.init || at === g.search ? '' : prefixTo(g, at)
    best = {
      degree: tries + inner.degree,
      core: inner.core,
      offset: offset + inner.offset,
      prefix: before + inner.prefix,
    }
  }
  return best
}

/**
 * How badly `source` can backtrack when run with `flags`, or undefined when it takes at most linear time. Throws
 * {@link AnalysisTooLarge} for a pattern too large to analyse, and `RegexSyntaxUnsupported` for syntax the model
 * does not read.
 */
export function analyseBacktracking(
  source: string,
  flags: string,
  options: AnalyseOptions,
  budget: Budget = { steps: MAX_STEPS },
): Backtracking | undefined {
  const t = total(source, flags, options, budget)
  if ('exponential' in t) return t.exponential
  if (t.degree <= 1) return undefined
  const shown = chainOf(t)
  if (!shown) return { kind: 'polynomial', degree: t.degree, culprits: [] }
  const culprits = shown.spans.map((span) => source.slice(span[0], span[1]))
  return { kind: 'polynomial', degree: t.degree, culprits, attack: shown.attack }
}

/** The repetitions of the chain that shows a degree, where they are in the whole source, and a text that shows it. */
function chainOf(
  t: Extract<Total, { core: CoreResult }>,
): { spans: Array<[number, number]>; attack: Attack } | undefined {
  const { chain, g } = t.core
  if (!chain) return undefined
  const spans: Array<[number, number]> = []
  for (const s of [chain.p, chain.q]) {
    const span = innermost(g, s)
    if (span) spans.push([span[0] + t.offset, span[1] + t.offset])
  }
  return { spans, attack: { ...chain.attack, prefix: t.prefix + chain.attack.prefix } }
}

/** Name the smallest repetition around the ambiguous state that is exponential by itself. */
function exponential(source: string, flags: string, r: CoreResult, budget: { steps: number }): Backtracking {
  const { state, attack } = r.exponential!
  const spans = [...(r.g.b.around[state] ?? [])].reverse()
  for (const [from, to] of spans) {
    const sub = source.slice(from, to)
    try {
      if (analyseCore(sub, flags, { search: false, failAnywhere: true }, budget).exponential) {
        return { kind: 'exponential', culprit: sub, attack }
      }
    } catch {
      // a part that does not parse alone (a back-reference to an outer group): try the next one out
    }
  }
  return { kind: 'exponential', culprit: source, attack }
}

// ── work on a bounded text ────────────────────────────────────────────────────────────────────────────────────

/** Distinct sets of live paths explored at most; a pattern with more is too large to estimate. */
const MAX_VECTORS = 20_000
/** Path counts are capped here: beyond it no text of any length can be searched in time. */
const MAX_COUNT = 1e15

/** What running a pattern over a text of a given length costs at most. */
export interface Work {
  /** Steps (one path of the backtracking search taking one character) of all the attempts on the text together. */
  steps: number
  /** The most paths alive at once in one attempt: the ways the pattern can match one piece of text. */
  ways: number
  /** The part of the pattern where those paths part ways, and where it is in the source. */
  culprit: string
  span: [number, number]
  /**
   * A text that shows it. With an empty `pump`, `prefix + suffix` is one costly attempt; with an empty `prefix` and
   * `suffix`, `pump` is, and the search starts one at each repetition of it; else `pump` is what a long text repeats.
   */
  attack: Attack
  /**
   * What the steps mostly are: `search`, attempts begun at many characters of one long run and each going through the
   * rest of it, which a lookbehind in front that fails inside such a run stops; `attempt`, the ways one attempt can
   * take, a few characters' worth at each start or a whole run's in one, which only matching one way stops.
   */
  cause: 'search' | 'attempt'
}

/** Steps of one attempt: `fixed`, plus `perChar` for each character of text after its start. */
interface AttemptCost {
  fixed: number
  perChar: number
}

/** The paths alive after some text: at each position, how many there are. */
interface Vector {
  states: number[]
  counts: number[]
  /** Whether an attempt after the first can reach it, as far as known when it was expanded. */
  later: boolean
  /** Steps these paths cost: one each plus the lookarounds they try, the latter part per character of text left. */
  steps: number
  looking: number
  /** Both, on a text of the length estimated. */
  weight: number
  ways: number
  next: number[]
  chars: string[]
  /** For each next vector: whether its character can also start an attempt. */
  entry: boolean[]
  /** For each next vector: the {@link guardMask} of its characters. */
  opens: number[]
  /** The vector it was first reached from, and on which character. */
  parent: number
  via: string
}

interface Block {
  members: Set<number>
  char: string
  ranges: Ranges
}

/** The blocks of characters that the sets `sets` (indices into `b.sets`) tell apart, each with the sets holding it. */
function minterms(b: Builder, sets: number[], budget: Budget): Block[] {
  const points = new Set<number>()
  for (const s of sets) {
    const r = b.sets[s]!
    for (let i = 0; i < r.length; i += 2) points.add(r[i]!).add(r[i + 1]! + 1)
  }
  budget.steps -= points.size * sets.length
  if (budget.steps < 0) throw new AnalysisTooLarge()
  const sorted = [...points].sort((x, y) => x - y)
  const blocks = new Map<string, { members: number[]; ranges: Ranges }>()
  for (let i = 0; i + 1 < sorted.length; i++) {
    const from = sorted[i]!
    const members = sets.filter((s) => contains(b.sets[s]!, from))
    if (members.length === 0) continue
    const key = members.join(',')
    let block = blocks.get(key)
    if (!block) {
      block = { members, ranges: [] }
      blocks.set(key, block)
    }
    block.ranges.push(from, sorted[i + 1]! - 1)
  }
  return [...blocks.values()].map((bl) => ({ members: new Set(bl.members), char: pick(bl.ranges), ranges: bl.ranges }))
}

interface Explored {
  vs: Vector[]
  /** Set when a vector alone took more than `stopAbove` steps: exploring stopped there. */
  exceeded?: boolean
  /** The vector before the first attempt, and before each later one unless the pattern is anchored at the start. */
  first: { vector: number; cost: AttemptCost }
  later?: { vector: number; cost: AttemptCost }
}

/**
 * Every set of paths an attempt can have alive after some text: a subset construction that keeps how many paths
 * reach each position, over the blocks of characters the next positions tell apart. A path that can end the match
 * is dropped, as in the analysis above (the search would stop there). The counts must be bounded: one attempt must
 * take linear time (see `attempts`).
 */
function explore(
  g: Graph,
  length: number,
  lookCost: (look: number) => AttemptCost,
  budget: { steps: number },
  stopAbove: number,
): Explored {
  const { b } = g
  const costOfLooks = (passes: Map<number, number> | undefined): AttemptCost => {
    const c = { fixed: 0, perChar: 0 }
    for (const [look, times] of passes ?? []) {
      const l = lookCost(look)
      c.fixed += times * l.fixed
      c.perChar += times * l.perChar
    }
    return c
  }
  const stepCost = new Map<number, AttemptCost>()
  const costOf = (p: number): AttemptCost => {
    let c = stepCost.get(p)
    if (c === undefined) {
      c = costOfLooks(g.looks[p])
      c.fixed += 1
      stepCost.set(p, c)
    }
    return c
  }
  const vs: Vector[] = []
  const index = new Map<string, number>()
  const blocksOf = new Map<string, Block[]>()
  const masks = new Map<Block, number>()
  const maskOf = (block: Block): number => {
    let m = masks.get(block)
    if (m === undefined) {
      m = guardMask(g.guard, block.ranges)
      masks.set(block, m)
    }
    return m
  }
  const add = (states: number[], counts: number[], parent: number, via: string, later: boolean): number => {
    const key = states.map((s, i) => `${s}:${counts[i]}`).join(',')
    const known = index.get(key)
    if (known !== undefined) return known
    budget.steps -= states.length
    if (vs.length >= MAX_VECTORS || budget.steps < 0) throw new AnalysisTooLarge()
    let steps = 0
    let looking = 0
    let ways = 0
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!
      if (s === g.init || s === g.search) continue
      const c = costOf(s)
      steps += counts[i]! * c.fixed
      looking += counts[i]! * c.perChar
      ways += counts[i]!
    }
    const weight = steps + looking * length
    vs.push({
      states,
      counts,
      later,
      steps,
      looking,
      weight,
      ways,
      next: [],
      chars: [],
      entry: [],
      opens: [],
      parent,
      via,
    })
    index.set(key, vs.length - 1)
    // Its weight alone, paid by one attempt or by every one, already says the pattern is too slow; counts this large
    // say it cannot be run at all.
    if (weight * (later ? length - 1 : 1) > stopAbove || ways >= MAX_COUNT) result.exceeded = true
    return vs.length - 1
  }
  const result: Explored = { vs, first: { vector: -1, cost: costOfLooks(g.looks[g.init]) } }
  result.first.vector = add([g.init], [1], -1, '', false)
  result.first.cost.fixed += 1
  // The characters a later attempt can start on: a path that stays alive through none of them keeps no attempt
  // started after it alive beside it.
  let entry: Ranges = []
  if (g.out[g.search]!.some((e) => e.to !== g.search)) {
    result.later = { vector: add([g.search], [1], -1, '', true), cost: costOfLooks(g.looks[g.search]) }
    result.later.cost.fixed += 1
    for (const e of g.out[g.search]!) if (e.to !== g.search) entry = entry.concat(g.label[e.to]!)
    entry = normalizeLoose(entry)
  }
  const expanded = new Set<number>()
  let heaviest = -1
  const expand = (at: number): void => {
    expanded.add(at)
    const v = vs[at]!
    const sets = new Set<number>()
    for (const p of v.states) for (const e of g.out[p]!) if (e.to !== g.search) sets.add(b.set[e.to]!)
    if (sets.size === 0) return
    const setKey = [...sets].sort((x, y) => x - y).join(',')
    let blocks = blocksOf.get(setKey)
    if (!blocks) {
      blocks = minterms(b, [...sets], budget)
      blocksOf.set(setKey, blocks)
    }
    for (const block of blocks) {
      const next = new Map<number, number>()
      for (let i = 0; i < v.states.length; i++) {
        for (const e of g.out[v.states[i]!]!) {
          if (--budget.steps < 0) throw new AnalysisTooLarge()
          if (e.to === g.search || g.nullable[e.to] || !block.members.has(b.set[e.to]!)) continue
          next.set(e.to, Math.min(MAX_COUNT, (next.get(e.to) ?? 0) + v.counts[i]! * e.count))
        }
      }
      if (next.size === 0) continue
      const states = [...next.keys()].sort((x, y) => x - y)
      const to = add(
        states,
        states.map((s) => next.get(s)!),
        at,
        block.char,
        v.later,
      )
      // A vector met again from a later attempt counts as one if it is still to be expanded.
      if (v.later && !expanded.has(to)) vs[to]!.later = true
      v.next.push(to)
      v.chars.push(block.char)
      v.entry.push(intersect(block.ranges, entry).length > 0)
      v.opens.push(maskOf(block))
      if (heaviest < 0 || vs[to]!.weight > vs[heaviest]!.weight) heaviest = to
    }
  }
  for (let at = 0; at < vs.length && !result.exceeded; at++) expand(at)
  if (result.exceeded) {
    // Exploring stopped at the first set of paths too heavy: follow the heaviest next ones while they grow, so the
    // text shown is one that really takes long.
    for (let k = 0, at = heaviest; k < 64 && at >= 0 && vs[at]!.ways < MAX_COUNT; k++) {
      if (!expanded.has(at)) expand(at)
      const v = vs[at]!
      const next = v.next.reduce((x, y) => (x < 0 || vs[y]!.weight > vs[x]!.weight ? y : x), -1)
      if (next < 0 || vs[next]!.weight <= v.weight) break
      at = next
    }
  }
  return result
}

/** Max mean weight of a cycle of a strongly connected part of the vector graph (Karp's algorithm). */
function maxMeanCycle(vs: Vector[], members: number[], budget: { steps: number }): number {
  const n = members.length
  const local = new Map(members.map((v, i) => [v, i]))
  let edges = 0
  for (const v of members) edges += vs[v]!.next.length
  // Karp takes n·m steps; a larger part is judged by its heaviest vector, which no cycle's mean can exceed.
  if (n * edges > 1_000_000) return Math.max(...members.map((v) => vs[v]!.weight))
  const rows: Float64Array[] = [new Float64Array(n).fill(Number.NEGATIVE_INFINITY)]
  rows[0]![0] = 0
  for (let k = 1; k <= n; k++) {
    const prev = rows[k - 1]!
    const row = new Float64Array(n).fill(Number.NEGATIVE_INFINITY)
    for (let i = 0; i < n; i++) {
      if (prev[i] === Number.NEGATIVE_INFINITY) continue
      for (const w of vs[members[i]!]!.next) {
        const j = local.get(w)
        if (j === undefined) continue
        if (--budget.steps < 0) throw new AnalysisTooLarge()
        row[j] = Math.max(row[j]!, prev[i]! + vs[w]!.weight)
      }
    }
    rows.push(row)
  }
  let best = 0
  for (let j = 0; j < n; j++) {
    const last = rows[n]![j]!
    if (last === Number.NEGATIVE_INFINITY) continue
    let worst = Number.POSITIVE_INFINITY
    for (let k = 0; k < n; k++) {
      const dk = rows[k]![j]!
      if (dk !== Number.NEGATIVE_INFINITY) worst = Math.min(worst, (last - dk) / (n - k))
    }
    best = Math.max(best, worst)
  }
  return best
}

/** The parts of the vector graph (strongly connected components) and what each costs. */
interface Parts {
  comp: Int32Array
  list: number[][]
  /** Whether a part has a cycle, its heaviest cycle's mean weight, and its heaviest vector. */
  loops: boolean[]
  mean: Float64Array
  top: Int32Array
  /** Whether a cycle of the part takes a character an attempt can start on. */
  entry: boolean[]
  /**
   * Whether it would, but the characters of its cycles are ones between which the checks at the pattern's start fail
   * (see {@link leadingGuard}): an attempt that starts inside such a cycle's stretch of text fails there at once, so
   * each attempt that goes round it lets at most one more begin beside it, on its first character.
   */
  guarded: boolean[]
}

function partsOf(vs: Vector[], guard: Guard, budget: { steps: number }): Parts {
  const { comp, list } = sccs(vs.length, (v) => vs[v]!.next)
  const loops: boolean[] = []
  const mean = new Float64Array(list.length)
  const top = new Int32Array(list.length)
  const entry: boolean[] = []
  const guarded: boolean[] = []
  for (let c = 0; c < list.length; c++) {
    const members = list[c]!
    top[c] = members.reduce((x, y) => (vs[y]!.weight > vs[x]!.weight ? y : x))
    loops[c] = members.length > 1 || vs[top[c]!]!.next.includes(top[c]!)
    entry[c] = false
    guarded[c] = false
    if (!loops[c]) continue
    mean[c] = maxMeanCycle(vs, members, budget)
    let starts = false
    let mask = 0
    for (const v of members) {
      const { next } = vs[v]!
      for (let i = 0; i < next.length; i++) {
        if (comp[next[i]!] !== c) continue
        starts ||= vs[v]!.entry[i]!
        mask |= vs[v]!.opens[i]!
      }
    }
    const holds = guards(guard, mask)
    entry[c] = starts && !holds
    guarded[c] = starts && holds
  }
  return { comp, list, loops, mean, top, entry, guarded }
}

/** What the attempts from one start cost, and the vectors that show it. */
interface Attempt {
  /** Steps that do not grow with the text, and those of lookarounds, which grow with the text left. */
  fixed: number
  looking: number
  /** Steps per character of a single attempt: the heaviest cycle it can reach. */
  perChar: number
  /**
   * For attempts at every start, the steps per character their overlap costs: `overlap` × n²/2 in all. A cycle that
   * takes a character an attempt can start on may hold every attempt started in it; one that takes none holds only
   * attempts started before it and never returned to, at most n²/4 of them in all (half the weight); one that only
   * the first few characters of an attempt lead to holds at most `near` × n of them.
   */
  overlap: number
  near: number
  /** The heaviest vector it can reach, and the heaviest vectors of the cycles that set `perChar` and the overlap. */
  heaviest: number
  cyclic: number
  overlapping: number
}

function attemptFrom(vs: Vector[], parts: Parts, start: number, cost: AttemptCost): Attempt {
  const { comp, list, loops, mean, top } = parts
  const n = list.length
  // Forward over the parts from the start's part: parts are in reverse topological order.
  const reached = new Uint8Array(n)
  const fixed = new Float64Array(n).fill(-1)
  const looking = new Float64Array(n).fill(-1)
  const fromEntry = new Uint8Array(n)
  const depth = new Int32Array(n)
  const s = comp[start]!
  reached[s] = 1
  const out: Attempt = {
    fixed: 0,
    looking: 0,
    perChar: 0,
    overlap: 0,
    near: 0,
    heaviest: start,
    cyclic: -1,
    overlapping: -1,
  }
  const weightOf = (c: number) => (loops[c] ? list[c]!.length : 1)
  fixed[s] = vs[top[s]!]!.steps * weightOf(s)
  looking[s] = vs[top[s]!]!.looking * weightOf(s)
  for (let c = s; c >= 0; c--) {
    if (!reached[c]) continue
    const top_ = top[c]!
    if (loops[c]) {
      if (parts.entry[c]) fromEntry[c] = 1
      if (mean[c]! > out.perChar) {
        out.perChar = mean[c]!
        out.cyclic = top_
      }
      const overlap = parts.entry[c] ? mean[c]! : fromEntry[c] ? mean[c]! / 2 : 0
      if (overlap > out.overlap) {
        out.overlap = overlap
        out.overlapping = top_
      }
      // Attempts that reach it within the first few characters, one more for an attempt on its first character.
      const near = mean[c]! * (depth[c]! + (parts.guarded[c] ? 2 : 1))
      if (!fromEntry[c] && near > out.near) {
        out.near = near
        if (out.overlap === 0) out.overlapping = top_
      }
    } else depth[c]! += 1
    if (vs[top_]!.weight > vs[out.heaviest]!.weight) out.heaviest = top_
    out.fixed = Math.max(out.fixed, fixed[c]!)
    out.looking = Math.max(out.looking, looking[c]!)
    for (const v of list[c]!) {
      for (const w of vs[v]!.next) {
        const d = comp[w]!
        if (d === c) continue
        reached[d] = 1
        const k = weightOf(d)
        fixed[d] = Math.max(fixed[d]!, fixed[c]! + vs[top[d]!]!.steps * k)
        looking[d] = Math.max(looking[d]!, looking[c]! + vs[top[d]!]!.looking * k)
        if (fromEntry[c]) fromEntry[d] = 1
        depth[d] = Math.max(depth[d]!, depth[c]!)
      }
    }
  }
  out.fixed += cost.fixed
  out.looking += cost.perChar
  return out
}

interface Attempts {
  g: Graph
  vs: Vector[]
  comp: Int32Array
  first: Attempt
  later?: Attempt
}

/**
 * The vector graph of one attempt and what the attempts cost, or undefined when one attempt takes polynomial time by
 * itself: its counts would grow with the text, and the degree found by the analysis above is what judges it.
 */
function attempts(
  source: string,
  flags: string,
  options: AnalyseOptions,
  length: number,
  budget: { steps: number },
  stopAbove: number,
): Attempts | undefined {
  const alone = analyseCore(source, flags, { search: false }, budget)
  if (alone.exponential || alone.degree > 1) return undefined
  const g = graphOf(source, flags, options, budget)
  const looks = new Map<number, AttemptCost>()
  let polynomialLook = false
  const lookCost = (look: number): AttemptCost => {
    let c = looks.get(look)
    if (!c) {
      const n = g.b.looks[look]!
      const body = source.slice(n.start + (n.behind ? 4 : 3), n.end - 1)
      const r = attempts(body, flags, { ...options, search: false }, length, budget, Number.POSITIVE_INFINITY)
      if (!r) polynomialLook = true
      c = r ? { fixed: r.first.fixed, perChar: r.first.perChar + r.first.looking } : { fixed: 0, perChar: 0 }
      looks.set(look, c)
    }
    return c
  }
  const explored = explore(g, length, lookCost, budget, stopAbove)
  if (polynomialLook) return undefined
  const { vs } = explored
  const parts = partsOf(vs, g.guard, budget)
  const result: Attempts = {
    g,
    vs,
    comp: parts.comp,
    first: attemptFrom(vs, parts, explored.first.vector, explored.first.cost),
  }
  if (explored.later) result.later = attemptFrom(vs, parts, explored.later.vector, explored.later.cost)
  return result
}

/** The text that leads from a start to vector `v`. */
function wordTo(vs: Vector[], v: number): string {
  let word = ''
  for (let at = v; vs[at]!.parent >= 0; at = vs[at]!.parent) word = vs[at]!.via + word
  return word
}

/** A text that leads from vector `v` back to itself within its strongly connected part. */
function cycleWord(vs: Vector[], comp: Int32Array, v: number): string {
  const prev = new Map<number, { from: number; char: string }>()
  const queue = [v]
  for (let qi = 0; qi < queue.length; qi++) {
    const u = queue[qi]!
    const node = vs[u]!
    for (let i = 0; i < node.next.length; i++) {
      const w = node.next[i]!
      if (comp[w] !== comp[v] || prev.has(w)) continue
      prev.set(w, { from: u, char: node.chars[i]! })
      if (w === v) {
        let word = ''
        let at = v
        do {
          const p = prev.get(at)!
          word = p.char + word
          at = p.from
        } while (at !== v)
        return word
      }
      queue.push(w)
    }
  }
  return ''
}

/**
 * The part of the pattern where the paths that lead to vector `v` part ways: the positions of every vector on the way
 * that holds more than one path, each widened to the innermost group or repetition around it.
 */
function culpritOf(g: Graph, vs: Vector[], v: number): [number, number] {
  const states = new Set<number>()
  for (let at = v; at >= 0; at = vs[at]!.parent) if (vs[at]!.ways > 1) for (const p of vs[at]!.states) states.add(p)
  if (states.size === 0) for (const p of vs[v]!.states) states.add(p)
  let from = Number.POSITIVE_INFINITY
  let to = -1
  for (const p of states) {
    if (g.b.kind[p] !== POS) continue
    const rep = innermost(g, p)
    const grp = g.b.group[p]
    let span = rep ?? grp ?? g.b.span[p]!
    if (rep && grp && grp[0] <= rep[0] && rep[1] <= grp[1]) span = grp
    from = Math.min(from, span[0])
    to = Math.max(to, span[1])
  }
  return to < 0 ? [0, 0] : [from, to]
}

/**
 * The steps a backtracking matcher takes at most to run `source` with `flags` over any text of `length` characters,
 * counted on the pattern's automaton: each path alive after each character is a step. A pattern whose items can
 * split the same text in many ways costs many steps even when no repetition makes it exponential (`a?a?a?…aaa`, or
 * `\d?\d?\d+` before something that fails). An attempt starts at each character unless the pattern is anchored at
 * the start. Counted repetitions are unrolled as V8 runs them. When a single attempt takes polynomial time by itself
 * (`^\d+\d+x`), its paths grow with the text and cannot be counted one by one: the steps are then those of the
 * degree the analysis finds (see `polynomialWork`). Throws {@link AnalysisTooLarge} when counting would take too many
 * steps. Counting stops as soon as one set of live paths
 * shows more than `stopAbove` steps; the count returned is then a part of the whole, already above it.
 */
export function estimateWork(
  source: string,
  flags: string,
  options: AnalyseOptions,
  length: number,
  stopAbove = Number.POSITIVE_INFINITY,
  budget: Budget = { steps: MAX_STEPS },
): Work {
  let r: Attempts | undefined
  try {
    r = attempts(source, flags, { ...options, unrollCounted: true }, length, budget, stopAbove)
  } catch (err) {
    // Unrolled counts may make the pattern too large to build; read as repetitions they still give an upper bound.
    // A count that ran out of steps would run out again.
    if (!(err instanceof AnalysisTooLarge) || budget.steps < 0) throw err
    r = attempts(source, flags, options, length, budget, stopAbove)
  }
  if (!r) return polynomialWork(source, flags, options, length, budget)
  const { g, vs, first, later } = r
  const pairs = (length * (length - 1)) / 2
  const terms = {
    first: first.fixed + (first.looking + first.perChar) * length,
    fixed: later ? later.fixed * (length - 1) + later.looking * pairs : 0,
    overlap: later ? later.overlap * pairs + later.near * length : 0,
  }
  let ways = 0
  for (const v of vs) ways = Math.max(ways, v.ways)
  // Show the term that weighs most.
  let attack: Attack
  let shown: number
  let cause: Work['cause'] = 'attempt'
  if (later && terms.overlap >= terms.fixed && terms.overlap >= terms.first && later.overlapping >= 0) {
    cause = 'search'
    shown = later.overlapping
    attack = { prefix: wordTo(vs, shown), pump: cycleWord(vs, r.comp, shown), suffix: failing(g, vs[shown]!.states) }
  } else if (later && terms.fixed >= terms.first) {
    shown = later.heaviest
    attack = { prefix: '', pump: wordTo(vs, shown) + failing(g, vs[shown]!.states), suffix: '' }
  } else if (first.cyclic >= 0 && first.perChar * length >= first.fixed) {
    shown = first.cyclic
    attack = { prefix: wordTo(vs, shown), pump: cycleWord(vs, r.comp, shown), suffix: failing(g, vs[shown]!.states) }
  } else {
    shown = first.heaviest
    attack = { prefix: wordTo(vs, shown), pump: '', suffix: failing(g, vs[shown]!.states) }
  }
  const span = culpritOf(g, vs, shown)
  return {
    steps: terms.first + terms.fixed + terms.overlap,
    ways,
    cause,
    culprit: span[1] > span[0] ? source.slice(span[0], span[1]) : source,
    span: span[1] > span[0] ? span : [0, source.length],
    attack,
  }
}

/**
 * The steps of a pattern one attempt of which takes polynomial time: a run split between `d` repetitions that can
 * each take its characters (`\d+\d+`) is tried every way, about n^d/d! splits on n characters, and each item beside
 * them that can take a character of the run or not (`\d?\d+\d+`) doubles that. The paths cannot be counted one set at
 * a time as `explore` does, since their counts grow with the text; so they are counted on the text that shows the
 * chain, up to {@link SIMULATED_TEXT} characters, where a search's attempts are counted too (a degree found with the
 * search counts them), and what they grow as carried over to the length asked for (see {@link countPaths}). A
 * lookaround that shows the degree is counted on its own, times how often it is tried.
 */
function polynomialWork(
  source: string,
  flags: string,
  options: AnalyseOptions,
  length: number,
  budget: { steps: number },
): Work {
  const t = total(source, flags, options, budget)
  const splits = (d: number) => {
    if (!Number.isFinite(d)) return MAX_COUNT
    let n = 1
    for (let i = 1; i <= d; i++) n *= (length - i + 1) / i
    return Math.min(MAX_COUNT, Math.max(1, n))
  }
  if ('exponential' in t) {
    return {
      steps: MAX_COUNT,
      ways: MAX_COUNT,
      culprit: source,
      span: [0, source.length],
      attack: t.exponential.attack ?? { prefix: '', pump: '', suffix: '' },
      cause: 'attempt',
    }
  }
  const degree = Math.max(2, t.degree)
  const shown = chainOf(t)
  const chain = t.core.chain
  if (!shown || !chain) {
    return {
      steps: splits(degree),
      ways: splits(degree - 1),
      culprit: source,
      span: [0, source.length],
      attack: shown?.attack ?? { prefix: '', pump: '', suffix: '' },
      cause: 'attempt',
    }
  }
  const span: [number, number] =
    shown.spans.length > 0
      ? [Math.min(...shown.spans.map((s) => s[0])), Math.max(...shown.spans.map((s) => s[1]))]
      : [0, source.length]
  const own = Math.max(1, t.core.degree)
  const counted = countPaths(t.core.g, chain.attack, own, length - t.prefix.length, budget)
  // A lookaround tried after repetitions of the main pattern runs once for each way to reach it.
  const tries = splits(degree - own)
  return {
    steps: Math.min(MAX_COUNT, counted.steps * (degree > own ? tries : 1)),
    ways: Math.min(MAX_COUNT, counted.ways),
    culprit: source.slice(span[0], span[1]),
    span,
    attack: shown.attack,
    cause: 'attempt',
  }
}

/** The longest text {@link countPaths} runs paths over; longer ones are reckoned from it. */
const SIMULATED_TEXT = 1000

/**
 * The steps of a backtracking search over `attack` filled to `length` characters (the prefix, the pump as often as it
 * fits, the suffix) on the automaton `g`, whose paths grow as the text to the power `degree - 1`: each path alive after
 * a character is a step, as `explore` counts, and `ways` is the most alive at once. Over a text longer than
 * {@link SIMULATED_TEXT}, the counts taken after equally spaced numbers of pumps are a polynomial of the number of
 * pumps, of that degree (`ways` of one less), and are carried over to the number asked for through it.
 */
function countPaths(
  g: Graph,
  attack: Attack,
  degree: number,
  length: number,
  budget: { steps: number },
): { steps: number; ways: number } {
  const pumpLength = Math.max(1, [...attack.pump].length)
  const fixed = [...attack.prefix].length + [...attack.suffix].length
  const wanted = Math.max(1, Math.floor((length - fixed) / pumpLength))
  const most = Math.max(4 * (degree + 1), Math.floor((SIMULATED_TEXT - fixed) / pumpLength))
  const run = Math.min(wanted, most)
  let live = new Map<number, number>([[g.init, 1]])
  let steps = 0
  let ways = 0
  const step = (from: Map<number, number>, ch: string): Map<number, number> => {
    const cp = ch.codePointAt(0)!
    const next = new Map<number, number>()
    let alive = 0
    for (const [u, count] of from) {
      for (const e of g.out[u]!) {
        if (--budget.steps < 0) throw new AnalysisTooLarge()
        if (e.to === g.search) {
          next.set(e.to, 1)
          continue
        }
        if (g.nullable[e.to] || !contains(g.label[e.to]!, cp)) continue
        const c = Math.min(MAX_COUNT, count * e.count)
        next.set(e.to, Math.min(MAX_COUNT, (next.get(e.to) ?? 0) + c))
        alive += c
      }
    }
    steps = Math.min(MAX_COUNT, steps + alive)
    ways = Math.max(ways, Math.min(MAX_COUNT, alive))
    return next
  }
  for (const ch of attack.prefix) live = step(live, ch)
  // After each number of pumps in `samples`: the steps of the whole text so far with the suffix, and the paths alive.
  const spacing = Math.max(1, Math.floor(run / (2 * (degree + 1))))
  const samples = new Map<number, { steps: number; ways: number }>()
  for (let k = 1; k <= run; k++) {
    for (const ch of attack.pump) live = step(live, ch)
    if (k === run || (wanted > run && (run - k) % spacing === 0 && run - k <= degree * spacing)) {
      // The suffix ends this text only: the steps go on from before it.
      const before = steps
      let alive = 0
      for (const [v, count] of live) if (v !== g.search) alive += count
      let end = live
      for (const ch of attack.suffix) end = step(end, ch)
      samples.set(k, { steps, ways: alive })
      steps = before
    }
  }
  const last = samples.get(run)!
  if (wanted <= run) return { steps: last.steps, ways }
  const points = [...samples.entries()].sort((x, y) => x[0] - y[0]).slice(-(degree + 1))
  const at = (pick: (s: { steps: number; ways: number }) => number, d: number) => {
    const used = points.slice(-(d + 1))
    // Lagrange through the points, at `wanted`; never below the last count, which only grows.
    let value = 0
    for (const [i, [ki, si]] of used.entries()) {
      let term = pick(si)
      for (const [j, [kj]] of used.entries()) if (j !== i) term *= (wanted - kj) / (ki - kj)
      value += term
    }
    return Math.min(MAX_COUNT, Math.max(pick(last), Math.round(value)))
  }
  return {
    steps: at((s) => s.steps, degree),
    ways: Math.max(
      ways,
      at((s) => s.ways, degree - 1),
    ),
  }
}
