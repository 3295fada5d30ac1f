/**
 * BILOU tagging helpers shared by sequence taggers: `B`egin, `I`nside, `L`ast, `U`nit (a one-token entity) and
 * `O`utside. Tags are `B-city`, `I-city`, `L-city`, `U-city` and `O`.
 * @module
 */
import type { EntityAnnotation } from '../../data/types.js'
import type { Token } from '../tokenizer.js'

export const OUTSIDE = 'O'

/** A span decoded from tags: token range (inclusive) and the character offsets it covers. */
export interface BilouSpan {
  /** The label after the prefix, e.g. `city` for `B-city`. */
  label: string
  firstToken: number
  lastToken: number
  /** Offset of the first token's first character. */
  start: number
  /** Offset one past the last token's last character. */
  end: number
}

/**
 * Tag every token. A token belongs to an entity when it overlaps the entity's `[start, end)`. When entities
 * overlap, the one that starts first (then the longer one) wins and the other is dropped. `label` chooses the tag
 * label of an entity (default: its `entity`; pass e.g. `(e) => e.role ?? 'O'` to tag roles).
 */
export function toBilou(
  tokens: readonly Token[],
  entities: readonly EntityAnnotation[],
  label: (e: EntityAnnotation) => string = (e) => e.entity,
): string[] {
  const tags: string[] = tokens.map(() => OUTSIDE)
  const sorted = [...entities].sort((a, b) => a.start - b.start || b.end - a.end)
  let nextFree = 0
  for (const e of sorted) {
    const name = label(e)
    if (name === OUTSIDE) continue
    let first = -1
    let last = -1
    for (let t = nextFree; t < tokens.length; t++) {
      const tok = tokens[t]!
      if (tok.end <= e.start) continue
      if (tok.start >= e.end) break
      if (first === -1) first = t
      last = t
    }
    if (first === -1) continue
    if (first === last) tags[first] = `U-${name}`
    else {
      tags[first] = `B-${name}`
      for (let t = first + 1; t < last; t++) tags[t] = `I-${name}`
      tags[last] = `L-${name}`
    }
    nextFree = last + 1
  }
  return tags
}

/** Split a tag into its prefix (`B`, `I`, `L`, `U` or `O`) and label. Unprefixed tags count as `U`. */
export function parseTag(tag: string): { prefix: 'B' | 'I' | 'L' | 'U' | 'O'; label: string } {
  if (tag === OUTSIDE || tag === '') return { prefix: 'O', label: '' }
  const p = tag[0]
  if (tag[1] === '-' && (p === 'B' || p === 'I' || p === 'L' || p === 'U')) return { prefix: p, label: tag.slice(2) }
  return { prefix: 'U', label: tag }
}

/**
 * Decode tags into spans, leniently: an `I` or `L` without an open entity of its label starts one, a `B` or `U`
 * closes the open entity, and an entity left open at an `O` or at the end is closed at its last token.
 */
export function fromBilou(tokens: readonly Token[], tags: readonly string[]): BilouSpan[] {
  const spans: BilouSpan[] = []
  let open: { label: string; first: number; last: number } | undefined
  const close = () => {
    if (!open) return
    spans.push({
      label: open.label,
      firstToken: open.first,
      lastToken: open.last,
      start: tokens[open.first]!.start,
      end: tokens[open.last]!.end,
    })
    open = undefined
  }
  const n = Math.min(tokens.length, tags.length)
  for (let t = 0; t < n; t++) {
    const { prefix, label } = parseTag(tags[t]!)
    if (prefix === 'O') {
      close()
      continue
    }
    if (prefix === 'B' || prefix === 'U' || !open || open.label !== label) {
      close()
      open = { label, first: t, last: t }
    } else open.last = t
    if (prefix === 'U' || prefix === 'L') close()
  }
  close()
  return spans
}
