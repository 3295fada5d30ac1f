/**
 * Grouping of duplicate and near-duplicate messages, so one review decision labels them all. Exact duplicates share
 * the normalised text of `normalizeExample` (case, width, spacing and punctuation do not count). Near duplicates are
 * found with a cheap key: the Jaccard similarity of the messages' token sets plus token bigrams, compared pairwise
 * over one inbox page (a page is small, so the quadratic pass costs microseconds).
 * @module
 */
import { exampleTokens } from '../data/token-index.js'
import { normalizeExample } from '../data/validate.js'

/** The normalised text two messages must share to be exact duplicates. */
export function normalizeMessage(message: { text: string; fields?: Record<string, string> }): string {
  return normalizeExample(message.fields ? { text: message.text, fields: message.fields } : { text: message.text })
}

/** Unigrams and bigrams of the message's tokens: word order matters a little, word choice a lot. */
export function shingles(text: string): Set<string> {
  const tokens = exampleTokens(text)
  const out = new Set<string>(tokens)
  for (let i = 1; i < tokens.length; i++) out.add(`${tokens[i - 1]} ${tokens[i]}`)
  return out
}

/** Jaccard similarity of two sets; two empty sets are not similar (there is nothing to compare). */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0
  const [small, large] = a.size <= b.size ? [a, b] : [b, a]
  let common = 0
  for (const x of small) if (large.has(x)) common++
  return common / (a.size + b.size - common)
}

export interface GroupOptions {
  /** Jaccard similarity from which two messages are near duplicates; 1 keeps exact duplicates only. */
  threshold: number
}

/**
 * Group items whose texts are duplicates or near duplicates. Groups keep the items' order, and come in the order
 * of their first item, so an inbox sorted by uncertainty stays sorted by its most uncertain member.
 */
export function groupNearDuplicates<T>(
  items: readonly T[],
  message: (item: T) => { text: string; fields?: Record<string, string> },
  options: GroupOptions,
): T[][] {
  const n = items.length
  const parent = Int32Array.from({ length: n }, (_, i) => i)
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!
      i = parent[i]!
    }
    return i
  }
  const union = (i: number, j: number) => {
    const a = find(i)
    const b = find(j)
    // the smaller index stays the root, so a group is named after its first member
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b)
  }
  const keys = items.map((it) => normalizeMessage(message(it)))
  const firstByKey = new Map<string, number>()
  keys.forEach((k, i) => {
    const first = firstByKey.get(k)
    if (first === undefined) firstByKey.set(k, i)
    else union(first, i)
  })
  if (options.threshold < 1) {
    // only one representative per exact key takes part in the pairwise pass
    const reps = [...firstByKey.values()]
    const sets = reps.map((i) => shingles(keys[i]!))
    for (let a = 0; a < reps.length; a++) {
      for (let b = a + 1; b < reps.length; b++) {
        if (jaccard(sets[a]!, sets[b]!) >= options.threshold) union(reps[a]!, reps[b]!)
      }
    }
  }
  const groups = new Map<number, T[]>()
  for (let i = 0; i < n; i++) {
    const root = find(i)
    const g = groups.get(root)
    if (g) g.push(items[i]!)
    else groups.set(root, [items[i]!])
  }
  return [...groups.entries()].sort((x, y) => x[0] - y[0]).map(([, g]) => g)
}
