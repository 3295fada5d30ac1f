/**
 * Which methods have a route for a path, for the 405 answer's `Allow` header. Filled from the app's onRoute hook and
 * read only when no route matched a request, so the router's hot path is untouched.
 * @module
 */

interface Pattern {
  re: RegExp
  methods: Set<string>
}

export class RouteMethods {
  readonly #routes: Array<{ url: string; methods: readonly string[] }> = []
  #patterns: { specific: Pattern[]; catchAll: Pattern[] } | undefined

  add(url: string, method: string | readonly string[]): void {
    this.#routes.push({ url, methods: typeof method === 'string' ? [method] : method })
    this.#patterns = undefined
  }

  /**
   * The methods, sorted, that some route takes for `path` (a request URL; the query is ignored). Catch-all routes
   * (CORS preflights on `*`) add theirs only to a path another route knows.
   */
  allowed(url: string): string[] {
    const path = pathOf(url)
    const { specific, catchAll } = this.#compile()
    const methods = new Set<string>()
    for (const p of specific) if (p.re.test(path)) for (const m of p.methods) methods.add(m)
    if (methods.size === 0) return []
    for (const p of catchAll) if (p.re.test(path)) for (const m of p.methods) methods.add(m)
    return [...methods].sort()
  }

  #compile() {
    if (this.#patterns) return this.#patterns
    const byUrl = new Map<string, Set<string>>()
    for (const r of this.#routes) {
      const set = byUrl.get(r.url) ?? new Set<string>()
      for (const m of r.methods) set.add(m)
      byUrl.set(r.url, set)
    }
    const specific: Pattern[] = []
    const catchAll: Pattern[] = []
    for (const [url, methods] of byUrl) {
      const pattern = { re: toRegExp(url), methods }
      if (url === '*' || url === '/*') catchAll.push(pattern)
      else specific.push(pattern)
    }
    this.#patterns = { specific, catchAll }
    return this.#patterns
  }
}

/** The path of a request URL: up to `?` (or `#`). */
function pathOf(url: string): string {
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

/** A find-my-way route path as a regular expression: `:name` (with an optional `(regex)`) is one segment, `*` the rest. */
export function toRegExp(url: string): RegExp {
  let source = ''
  for (let i = 0; i < url.length; i++) {
    const c = url[i]!
    if (c === ':' && url[i + 1] === ':') {
      source += ':'
      i++
    } else if (c === ':') {
      while (i + 1 < url.length && /[\w$]/.test(url[i + 1]!)) i++
      if (url[i + 1] === '(') {
        let depth = 0
        for (i++; i < url.length; i++) {
          if (url[i] === '\\') i++
          else if (url[i] === '(') depth++
          else if (url[i] === ')' && --depth === 0) break
        }
      }
      source += '[^/]+'
    } else if (c === '*') source += '.*'
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}
