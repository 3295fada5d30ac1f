/**
 * How much a regular expression can backtrack, from the ambiguity of its automaton (Weideman et al., "Analyzing
 * matching time behavior of backtracking regular expression matchers by using ambiguity of NFA", 2016): a backtracking
 * matcher such as V8's tries every way a text can be matched before it gives up, so a pattern that can match a
 * pumped string in exponentially many ways takes exponential time, and one with a chain of k loops that can share a
 * pumped string takes time n^k. The search over start positions is one more loop in front of the pattern.
 *
 * The model over-approximates V8 where it must: lookarounds and `\b` may pass or fail as the text likes (their
 * bodies are analysed on their own and their cost added), a back-reference may match anything its group could,
 * counted repetitions of more than one character (and any count over {@link MAX_UNROLL}) are read as unbounded,
 * since `(a|a){1,30}` takes 2^30 steps although it is finite. It follows V8 where that matters for common
 * patterns: a match that can end at a state ends the search there (so `(a|aa)+` alone is quick, while
 * `(a|aa)+$` is not), and a repetition whose iteration matched nothing stops (so `(a?)*` is linear).
 * @module
 */
import { complement, contains, MAX_CODE_POINT, parseRegex, type Ranges, type RegexNode } from './regex-parse.js'

/** Counted repetitions of one character up to this bound are unrolled; larger ones are read as unbounded. */
export const MAX_UNROLL = 32
/** Positions (characters and classes after unrolling) analysed at most; larger patterns are not analysed. */
export const MAX_POSITIONS = 2000
/** Steps of the product-automaton searches at most. */
const MAX_STEPS = 3_000_000

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
  sets: Ranges[]
  setIndex: Map<string, number>
  loops: number
  /** Loops read from a count of two or more over a body that can match empty: V8 lets those iterations be empty. */
  unchecked: Set<number>
  looks: Array<RegexNode & { t: 'look' }>
}

function node(b: Builder, kind: number, edges: number[] = []): number {
  b.kind.push(kind)
  b.edges.push(edges)
  b.loopOf.push(-1)
  b.set.push(-1)
  b.span.push([0, 0])
  b.around.push([])
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

function build(b: Builder, root: RegexNode): number {
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
  const open = new Set<RegexNode>()

  const go = (n: RegexNode, next: number): number => {
    switch (n.t) {
      case 'set': {
        if (b.kind.length > MAX_POSITIONS * 4) throw new AnalysisTooLarge()
        const key = n.ranges.join(',')
        let s = b.setIndex.get(key)
        if (s === undefined) {
          s = b.sets.length
          b.sets.push(n.ranges)
          b.setIndex.set(key, s)
        }
        const p = node(b, POS, [next])
        b.set[p] = s
        b.span[p] = [n.start, n.end]
        b.around[p] = [...around]
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
        const entry = go(n.body, next)
        open.delete(n.body)
        return entry
      }
      case 'look':
        b.looks.push(n)
        return node(b, GUARD, [next])
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
        if (max > 1 && (!single || max > MAX_UNROLL)) {
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
  /** Positions reached, each with the number of distinct ε-paths (capped at 2). */
  targets: Map<number, number>
  /** Whether the end of the pattern is reached without an assertion that could fail. */
  accepts: boolean
}

/**
 * The positions reachable from `from` without consuming a character. An iteration that began on this ε-path may not
 * end on it (V8 drops a repetition step that matched nothing); `^` holds only before the first character.
 */
function closure(b: Builder, from: number, atStart: boolean, budget: { steps: number }): Closure {
  const targets = new Map<number, number>()
  let accepts = false
  const begun: number[] = []
  const passed: number[] = []
  const walk = (at: number, blocked: boolean, ended: boolean): void => {
    if (--budget.steps < 0) throw new AnalysisTooLarge()
    const k = b.kind[at]!
    if (k === POS) {
      if (!ended) targets.set(at, Math.min(2, (targets.get(at) ?? 0) + 1))
      return
    }
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
  return { targets, accepts }
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
  label: Ranges[]
  nullable: boolean[]
  search: number
  init: number
}

const ALL: Ranges = [0, MAX_CODE_POINT]

function graphOf(source: string, flags: string, options: AnalyseOptions, budget: { steps: number }): Graph {
  const parsed = parseRegex(source, flags)
  const b: Builder = {
    kind: [],
    edges: [],
    loopOf: [],
    set: [],
    span: [],
    around: [],
    sets: [],
    setIndex: new Map(),
    loops: 0,
    unchecked: new Set(),
    looks: [],
  }
  const entry = build(b, parsed.root)
  const positions = b.kind.reduce((acc, k) => acc + (k === POS ? 1 : 0), 0)
  if (positions > MAX_POSITIONS) throw new AnalysisTooLarge()
  const n = b.kind.length
  const search = n
  const init = n + 1
  const out: Graph['out'] = Array.from({ length: n + 2 }, () => [])
  const label: Ranges[] = []
  const nullable: boolean[] = []
  const fill = (from: number, c: Closure): void => {
    for (const [to, count] of c.targets) out[from]!.push({ to, count })
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
  return { b, out, label, nullable, search, init }
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
  meet: Map<string, Ranges>
}

function meet(ctx: Ctx, a: number, c: number): Ranges {
  const key = a < c ? `${a},${c}` : `${c},${a}`
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
  const edgesOf = (v: number) => g.out[v]!.filter((e) => local.has(e.to))
  const id = (i: number, j: number) => i * m + j
  type PEdge = { to: number; char: string; diverging: boolean }
  const productOut = (p: number): PEdge[] => {
    const i = Math.floor(p / m)
    const j = p % m
    const res: PEdge[] = []
    for (const e1 of edgesOf(members[i]!)) {
      for (const e2 of edgesOf(members[j]!)) {
        if (--ctx.budget.steps < 0) throw new AnalysisTooLarge()
        const common = meet(ctx, e1.to, e2.to)
        if (common.length === 0) continue
        const diverging = i === j && (e1 !== e2 || e1.count > 1)
        res.push({ to: id(local.get(e1.to)!, local.get(e2.to)!), char: pick(common), diverging })
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
      const prev = new Map<number, { from: number; char: string }>([[from, { from: -1, char: '' }]])
      const queue = [from]
      for (let qi = 0; qi < queue.length; qi++) {
        const p = queue[qi]!
        for (const e of pout(p)) {
          if (!inComp(e.to)) continue
          if (goal(e.to, e)) {
            let word = e.char
            for (let at = p; at !== from; at = prev.get(at)!.from) word = prev.get(at)!.char + word
            return word
          }
          if (prev.has(e.to)) continue
          prev.set(e.to, { from: p, char: e.char })
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
  let taken: Ranges = []
  for (const v of states) for (const e of g.out[v]!) taken = taken.concat(g.label[e.to]!)
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
  const chain = new Array<number>(list.length).fill(0)
  const via = new Array<{ p: number; q: number; word: string } | undefined>(list.length)
  const nextOf = new Array<number>(list.length).fill(-1)
  for (let c = 0; c < list.length; c++) {
    if (!cyclic[c] || !inGraph(list[c]![0]!)) continue
    chain[c] = 1
    const s1 = new Set(list[c]!)
    for (const d of reach[c]!) {
      if (!cyclic[d] || chain[d]! + 1 <= chain[c]!) continue
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
      if (found) {
        chain[c] = chain[d]! + 1
        via[c] = found
        nextOf[c] = d
      }
    }
  }
  let best = -1
  for (let c = 0; c < list.length; c++) if (best < 0 || chain[c]! > chain[best]!) best = c
  const degree = best < 0 ? 0 : chain[best]!
  // Show the first step of the longest chain that is not the search loop itself.
  let step = best
  while (step >= 0 && via[step] && via[step]!.p === g.search) step = nextOf[step]!
  const link = step >= 0 ? via[step] : undefined
  const result: CoreResult = { degree, g }
  if (link) {
    result.chain = {
      p: link.p,
      q: link.q,
      attack: { prefix: prefixTo(g, link.p), pump: link.word, suffix: failing(g, [link.q]) },
    }
  }
  return result
}

function innermost(g: Graph, state: number): [number, number] | undefined {
  const around = g.b.around[state]
  return around && around.length > 0 ? around[around.length - 1] : undefined
}

type Total = { exponential: Backtracking } | { degree: number; core: CoreResult; source: string }

/** The main pattern's degree plus that of its costliest lookaround, which runs anchored wherever it is tried. */
function total(source: string, flags: string, options: AnalyseOptions, budget: { steps: number }): Total {
  const core = analyseCore(source, flags, options, budget)
  if (core.exponential) return { exponential: exponential(source, flags, core, budget) }
  let extra = 0
  for (const look of core.g.b.looks) {
    const body = source.slice(look.start + (look.behind ? 4 : 3), look.end - 1)
    const inner = total(body, flags, { search: false }, budget)
    if ('exponential' in inner) return inner
    extra = Math.max(extra, inner.degree)
  }
  return { degree: core.degree + extra, core, source }
}

/**
 * How badly `source` can backtrack when run with `flags`, or undefined when it takes at most linear time. Throws
 * {@link AnalysisTooLarge} for a pattern too large to analyse, and `RegexSyntaxUnsupported` for syntax the model
 * does not read.
 */
export function analyseBacktracking(source: string, flags: string, options: AnalyseOptions): Backtracking | undefined {
  const t = total(source, flags, options, { steps: MAX_STEPS })
  if ('exponential' in t) return t.exponential
  if (t.degree <= 1) return undefined
  const { core } = t
  const culprits: string[] = []
  if (core.chain) {
    for (const s of [core.chain.p, core.chain.q]) {
      const span = innermost(core.g, s)
      if (span) culprits.push(source.slice(span[0], span[1]))
    }
  }
  return core.chain
    ? { kind: 'polynomial', degree: t.degree, culprits, attack: core.chain.attack }
    : { kind: 'polynomial', degree: t.degree, culprits }
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
