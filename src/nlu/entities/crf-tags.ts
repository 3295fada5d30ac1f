/**
 * BILOU tags as the CRF tagger numbers them (the typed-array form of the string tags of `bilou.ts`), and the
 * transitions a valid BILOU sequence may take.
 *
 * Tag 0 is `O` (outside). Label `k` (an entity type with its optional role and group) owns tags `1 + 4k + p` where
 * `p` is 0 = B (begin), 1 = I (inside), 2 = L (last), 3 = U (unit, a one-token entity).
 * @module
 */

/** The outside tag. */
export const CRF_OUTSIDE = 0
/** Positions inside a label's four tags. */
export const CRF_BEGIN = 0
export const CRF_INSIDE = 1
export const CRF_LAST = 2
export const CRF_UNIT = 3

const POSITION_NAMES = ['B', 'I', 'L', 'U'] as const

/** Number of tags for `numLabels` labels: `O` plus B/I/L/U of each. */
export function crfTagCount(numLabels: number): number {
  return 1 + 4 * numLabels
}

/** The tag of `label` at `position` (`CRF_BEGIN` … `CRF_UNIT`). */
export function crfTag(label: number, position: number): number {
  return 1 + 4 * label + position
}

/** The label index of a tag, or -1 for `O`. */
export function crfTagLabel(tag: number): number {
  return tag === CRF_OUTSIDE ? -1 : (tag - 1) >> 2
}

/** The BILOU position of a tag (`CRF_BEGIN` … `CRF_UNIT`), or -1 for `O`. */
export function crfTagPosition(tag: number): number {
  return tag === CRF_OUTSIDE ? -1 : (tag - 1) & 3
}

/** Readable tag name, e.g. `B-city#destination`; `labelNames[k]` names label `k`. */
export function crfTagName(tag: number, labelNames: readonly string[]): string {
  if (tag === CRF_OUTSIDE) return 'O'
  return `${POSITION_NAMES[crfTagPosition(tag)]}-${labelNames[crfTagLabel(tag)] ?? '?'}`
}

// O, L-* and U-* close whatever came before: after them a new entity may start or the text may stay outside.
function closesEntity(tag: number): boolean {
  const p = crfTagPosition(tag)
  return p === -1 || p === CRF_LAST || p === CRF_UNIT
}

function opensFresh(tag: number): boolean {
  const p = crfTagPosition(tag)
  return p === -1 || p === CRF_BEGIN || p === CRF_UNIT
}

/** Whether `to` may follow `from` in a valid BILOU sequence. */
export function crfTransitionAllowed(from: number, to: number): boolean {
  if (closesEntity(from)) return opensFresh(to)
  // B-x and I-x must continue the same entity with I-x or L-x.
  const p = crfTagPosition(to)
  return crfTagLabel(from) === crfTagLabel(to) && (p === CRF_INSIDE || p === CRF_LAST)
}

/** Whether a sequence may start with `tag`. */
export function crfStartAllowed(tag: number): boolean {
  return opensFresh(tag)
}

/** Whether a sequence may end with `tag`. */
export function crfEndAllowed(tag: number): boolean {
  return closesEntity(tag)
}

/** A span of tokens, `first` to `last` inclusive, with the index of its label. */
export interface CrfTokenSpan {
  first: number
  last: number
  label: number
}

/** Token boundaries, as the tokenizer gives them. */
export interface CrfTokenBounds {
  start: number
  end: number
}

/** Index of the first token whose end is past `offset` (binary search; tokens are sorted). */
export function firstTokenEndingAfter(tokens: readonly CrfTokenBounds[], offset: number): number {
  let lo = 0
  let hi = tokens.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (tokens[mid]!.end <= offset) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Entity spans from a tag sequence, by the rules of `fromBilou` (`bilou.ts`) on numbered tags, allocating only the
 * result. Valid BILOU sequences decode exactly; a broken one (which constrained decoding never produces) is read
 * leniently: an entity runs while its label continues, and a stray I or L starts one.
 */
export function crfSpansFromTags(tags: ArrayLike<number>, length: number = tags.length): CrfTokenSpan[] {
  const spans: CrfTokenSpan[] = []
  let open = -1
  let openLabel = -1
  const close = (last: number) => {
    if (open !== -1) spans.push({ first: open, last, label: openLabel })
    open = -1
  }
  for (let t = 0; t < length; t++) {
    const tag = tags[t]!
    const label = crfTagLabel(tag)
    const p = crfTagPosition(tag)
    if (open !== -1 && (label !== openLabel || p === CRF_BEGIN || p === CRF_UNIT)) close(t - 1)
    if (label === -1) continue
    if (open === -1) {
      open = t
      openLabel = label
    }
    if (p === CRF_LAST || p === CRF_UNIT) close(t)
  }
  close(length - 1)
  return spans
}
