/**
 * Number and text formatting shared by the Markdown and HTML renderers.
 * @module
 */

/** A score in [0, 1] with three decimals. */
export function score(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '–'
}

/** A share as a percentage with one decimal. */
export function percent(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–'
}

/** A signed difference, `+0.012` / `-0.012`; a change that rounds to zero prints as `0.000`, without a sign. */
export function signed(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '–'
  const s = Math.abs(x).toFixed(digits)
  if (Number(s) === 0) return s
  return `${x > 0 ? '+' : '-'}${s}`
}

/** Milliseconds: two decimals below 10, none above. */
export function ms(x: number): string {
  return x < 10 ? x.toFixed(2) : x.toFixed(0)
}

/** Text safe inside a Markdown table cell or list item: one line, pipes and HTML escaped, length bounded. */
export function mdText(s: string, max = 120): string {
  const one = s.replace(/\s+/g, ' ').trim()
  const cut = one.length > max ? `${one.slice(0, max - 1)}…` : one
  return cut
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/([`*_[\]])/g, '\\$1')
}

/** A label as an inline code span, safe in a table cell: one line, pipes escaped, length bounded. */
export function mdCode(s: string, max = 60): string {
  const one = s.replace(/\s+/g, ' ').trim()
  const cut = (one.length > max ? `${one.slice(0, max - 1)}…` : one).replace(/\|/g, '\\|')
  const fence = cut.includes('`') ? '``' : '`'
  return `${fence}${fence.length > 1 ? ' ' : ''}${cut}${fence.length > 1 ? ' ' : ''}${fence}`
}

/** Text safe in HTML element content and attribute values. */
export function htmlText(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}
