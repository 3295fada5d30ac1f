/**
 * The shell every HTML page of ours is written in: one file, no external requests (the Content-Security-Policy
 * forbids them; charts are inline SVG), safe to attach to a CI run or open from disk.
 * @module
 */
import { htmlText as esc } from './format.js'

export interface HtmlPage {
  title: string
  css: string
  /** What goes inside `<body>`. */
  body: string
  /** Inline script run at the end of the body; none lets the policy refuse every script. */
  script?: string
}

export function htmlPage(page: HtmlPage): string {
  const scripts = page.script ? " script-src 'unsafe-inline';" : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';${scripts} img-src data:">
<title>${esc(page.title)}</title>
<style>${page.css}</style>
</head>
<body>
${page.body}
${page.script ? `<script>${page.script}</script>\n` : ''}</body>
</html>
`
}

/** Header styles for `table.sortable`: a pointer, and an arrow on the sorted column. */
export const SORTABLE_CSS = `
th { cursor: pointer; user-select: none; background: #f7f9fa; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
`

// Click a header to sort its table. A cell's `data-v` (else its text) is the key: numbers sort numerically, and an
// empty key (a metric with no value) sorts as text, before every number. Tiny and inline so the page stays one file.
export const SORT_SCRIPT = `
document.querySelectorAll('table.sortable th').forEach((th) => th.addEventListener('click', () => {
  const table = th.closest('table'); const body = table.tBodies[0];
  const asc = th.getAttribute('aria-sort') !== 'ascending';
  table.querySelectorAll('th').forEach((h) => h.removeAttribute('aria-sort'));
  th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  const idx = Array.prototype.indexOf.call(th.parentNode.children, th);
  const key = (tr) => { const c = tr.children[idx]; const v = c.dataset.v ?? c.textContent; const n = Number(v); return v === '' || Number.isNaN(n) ? v : n; };
  const cmp = (x, y) => typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x === 'string' ? -1 : 1;
  [...body.rows].sort((a, b) => asc ? cmp(key(a), key(b)) : -cmp(key(a), key(b))).forEach((tr) => body.appendChild(tr));
}));
`
