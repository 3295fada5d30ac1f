/**
 * docs/http-api.md against the server `intentops serve` builds (its routes and the review, analytics and UI plugins):
 * every route of the OpenAPI document is in a route table and every documented route is served, with the query
 * parameters and the auth the tables give.
 *
 * A route table is a Markdown table whose first column is `route`: each row names routes as inline code
 * (`GET /v1/review/inbox?order&intent`, `GET /status`, `GET /version`), and an `auth` column, where there is one, the
 * weakest role a route takes: `none`, `client` (also "any token"), `annotator`, `admin`, `as \`/v1/parse\`` (that
 * route's), or "X, or Y with `serve.requireTokenForParse`". The role a route takes is read from the server's answers
 * to a request without a token and with each role's token, as a client meets it; that is where `requireRole` records
 * it.
 * @module
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reviewPlugins } from '../src/cli/review-plugins.js'
import { defaultConfig } from '../src/config/defaults.js'
import type { ServeApp } from '../src/serve/app.js'
import type { KyselyPredictionStore } from '../src/store/kysely-store.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { readyApp, serveConfig, tempDir, writeModelFile } from './helpers/serve.js'

const ROLES = ['client', 'annotator', 'admin'] as const
type Role = 'none' | (typeof ROLES)[number]
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'

interface DocRoute {
  method: Method
  /** OpenAPI form: `/v1/review/groups/{id}`. */
  path: string
  /** The query parameters the docs name (`?from&to`, `?window=7d`), when they name any. */
  query?: string[]
  /** The auth cell, as written. */
  auth?: string
}

const ROUTE = /^(GET|POST|PUT|DELETE|PATCH) (\/[^\s?]*)(?:\?(\S*))?$/

function cellsOf(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim())
}

/** The routes of every route table, in order. */
function tableRoutes(markdown: string): DocRoute[] {
  const routes: DocRoute[] = []
  let columns: string[] | undefined
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) {
      columns = undefined
      continue
    }
    const cells = cellsOf(line)
    if (!columns) {
      columns = cells[0] === 'route' ? cells : []
      continue
    }
    if (columns.length === 0 || /^-+$/.test(cells[0]!)) continue
    const auth = columns.indexOf('auth')
    for (const [, code] of cells[0]!.matchAll(/`([^`]+)`/g)) {
      const m = ROUTE.exec(code!)
      if (!m) continue
      routes.push({
        method: m[1] as Method,
        path: m[2]!,
        ...(m[3] !== undefined ? { query: m[3].split('&').map((p) => p.split('=')[0]!) } : {}),
        ...(auth > 0 ? { auth: cells[auth]! } : {}),
      })
    }
  }
  return routes
}

/** Routes named by section headings: `## \`POST /v1/parse\``. */
function headingRoutes(markdown: string): Array<{ method: Method; path: string }> {
  return [...markdown.matchAll(/^#+ `([A-Z]+ \/[^`]*)`\s*$/gm)].flatMap(([, code]) => {
    const m = ROUTE.exec(code!)
    return m ? [{ method: m[1] as Method, path: m[2]! }] : []
  })
}

/** The roles a route's auth cell gives: without and with `serve.requireTokenForParse`. */
function rolesOf(cell: string, routes: DocRoute[]): { plain: Role; parseToken: Role } | string {
  const as = /^as `(?:([A-Z]+) )?(\/[^`]*)`$/.exec(cell)
  if (as) {
    const target = routes.find((r) => r.path === as[2] && (as[1] === undefined || r.method === as[1]))
    if (!target?.auth || target.auth === cell) return `names ${as[2]}, which has no auth of its own`
    return rolesOf(target.auth, routes)
  }
  const role = (text: string): Role | undefined =>
    /^any token\b/.test(text) ? 'client' : (['none', ...ROLES] as const).find((r) => text === r)
  const [plain, other] = cell.split(/, or /)
  const withSetting = other && /^(.+) with `serve\.requireTokenForParse`$/.exec(other)
  const first = role(plain!)
  const second = withSetting ? role(withSetting[1]!) : first
  if (!first || !second || (other !== undefined && !withSetting)) return `cannot read the auth cell "${cell}"`
  return { plain: first, parseToken: second }
}

const root = new URL('../', import.meta.url)
const docs = readFileSync(new URL('docs/http-api.md', root), 'utf8')
const documented = tableRoutes(docs)
const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`

let dir: string
let store: KyselyPredictionStore
/** The server as `intentops serve` builds it, by default and with `serve.requireTokenForParse`. */
const apps: { plain?: ServeApp; parseToken?: ServeApp } = {}
const tokens: Record<(typeof ROLES)[number], string> = { client: '', annotator: '', admin: '' }

beforeAll(async () => {
  dir = tempDir('io-docs-http-')
  mkdirSync(path.join(dir, 'data'))
  writeFileSync(
    path.join(dir, 'data/nlu.yml'),
    'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n- intent: bye\n  examples: |\n    - bye\n',
  )
  store = openSqliteStore({ file: path.join(dir, 'store.db') })
  await store.migrate()
  for (const role of ROLES) tokens[role] = (await store.createToken({ name: role, role })).token
  const { file } = await writeModelFile(dir)
  const config = { ...defaultConfig(), data: ['data'] }
  for (const requireTokenForParse of [false, true]) {
    apps[requireTokenForParse ? 'parseToken' : 'plain'] = await readyApp({
      config: serveConfig({ model: file, requireTokenForParse }),
      root: dir,
      store,
      plugins: reviewPlugins({ config, root: dir }),
    })
  }
})
afterAll(async () => {
  await apps.plain?.close()
  await apps.parseToken?.close()
  await store?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Every route of the OpenAPI document, with its query parameters. */
function openApiRoutes(app: ServeApp): Map<string, string[]> {
  const doc = app.swagger() as {
    paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>>
  }
  const routes = new Map<string, string[]>()
  for (const [route, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
      routes.set(`${method.toUpperCase()} ${route}`, query)
    }
  }
  return routes
}

/** The weakest role the server lets through: what a request without a token, then with each role's, is answered. */
async function weakestRole(app: ServeApp, method: Method, route: string): Promise<Role | 'nobody'> {
  const url = route.replace(/\{[^}]+\}/g, 'x')
  for (const role of [undefined, ...ROLES]) {
    const res = await app.inject({
      method,
      url,
      headers: role ? { authorization: `Bearer ${tokens[role]}` } : {},
    })
    let code: unknown
    try {
      const body = res.json()
      // Rasa's shape carries the catalog code in `reason`, and the HTTP status in `code`
      code = typeof body.code === 'string' ? body.code : body.reason
    } catch {
      code = undefined
    }
    if (code !== 'ERR_SERVE_UNAUTHORIZED' && code !== 'ERR_SERVE_FORBIDDEN') return role ?? 'none'
  }
  return 'nobody'
}

describe('docs/http-api.md', () => {
  it('reads the route tables: each route with its auth', () => {
    const parse = documented.find((r) => key(r) === 'POST /v1/parse')
    expect(parse && rolesOf(parse.auth!, documented)).toEqual({ plain: 'none', parseToken: 'client' })
    const rasa = documented.find((r) => key(r) === 'POST /model/parse')
    expect(rasa && rolesOf(rasa.auth!, documented)).toEqual({ plain: 'none', parseToken: 'client' })
    expect(documented.filter((r) => key(r) === 'GET /version')).toHaveLength(1)
    expect(documented.find((r) => key(r) === 'GET /v1/review/groups/{id}')?.auth).toBe('annotator')
  })

  it('documents every route of the OpenAPI document in a route table', () => {
    const inDocs = new Set(documented.map(key))
    const missing = [...openApiRoutes(apps.plain!).keys()].filter((r) => !inDocs.has(r))
    expect(missing).toEqual([])
  })

  it('documents only routes the server serves', () => {
    const openApi = openApiRoutes(apps.plain!)
    const served = (r: { method: Method; path: string }) =>
      openApi.has(key(r)) ||
      // pages hidden from the OpenAPI document (`/ui/`) are routes all the same
      apps.plain!.hasRoute({ method: r.method, url: r.path.replace(/\{([^}]+)\}/g, ':$1') })
    const extra = [...documented, ...headingRoutes(docs)].filter((r) => !served(r)).map(key)
    expect(extra).toEqual([])
  })

  it('names the query parameters each route takes, where it names any', () => {
    const openApi = openApiRoutes(apps.plain!)
    const wrong = documented
      .filter((r) => r.query !== undefined && openApi.has(key(r)))
      .flatMap((r) => {
        const takes = openApi.get(key(r))!
        const missing = takes.filter((p) => !r.query!.includes(p))
        const extra = r.query!.filter((p) => !takes.includes(p))
        return [
          ...(missing.length > 0 ? [`${key(r)}: takes ${missing.join(', ')}, not documented`] : []),
          ...(extra.length > 0 ? [`${key(r)}: documents ${extra.join(', ')}, which it does not take`] : []),
        ]
      })
    expect(wrong).toEqual([])
  })

  it('gives each route the role the server asks for, with and without serve.requireTokenForParse', async () => {
    const withAuth = documented.filter((r) => r.auth !== undefined)
    expect(withAuth.length).toBeGreaterThan(20)
    const wrong: string[] = []
    for (const r of withAuth) {
      const expected = rolesOf(r.auth!, documented)
      if (typeof expected === 'string') {
        wrong.push(`${key(r)}: ${expected}`)
        continue
      }
      for (const mode of ['plain', 'parseToken'] as const) {
        const actual = await weakestRole(apps[mode]!, r.method, r.path)
        if (actual !== expected[mode]) {
          const setting = mode === 'plain' ? '' : ' with serve.requireTokenForParse'
          wrong.push(`${key(r)}: docs say ${expected[mode]}, the server asks for ${actual}${setting}`)
        }
      }
    }
    expect(wrong).toEqual([])
  })

  it('marks in the OpenAPI document exactly the routes that ask for a token', async () => {
    const wrong: string[] = []
    for (const mode of ['plain', 'parseToken'] as const) {
      const doc = apps[mode]!.swagger() as { paths: Record<string, Record<string, { security?: unknown[] }>> }
      for (const [route, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          const role = await weakestRole(apps[mode]!, method.toUpperCase() as Method, route)
          const marked = (op.security?.length ?? 0) > 0
          if (marked !== (role !== 'none')) {
            wrong.push(
              `${method.toUpperCase()} ${route} (${mode}): takes ${role}, security ${marked ? 'set' : 'absent'}`,
            )
          }
        }
      }
    }
    expect(wrong).toEqual([])
  })

  it('reads a role from the server’s answers, and an auth cell in each form, refusing one it cannot read', async () => {
    expect(await weakestRole(apps.plain!, 'PUT', '/model')).toBe('admin')
    expect(await weakestRole(apps.plain!, 'GET', '/v1/review/me')).toBe('annotator')
    expect(await weakestRole(apps.parseToken!, 'POST', '/v1/parse/batch')).toBe('client')
    expect(await weakestRole(apps.plain!, 'POST', '/v1/parse/batch')).toBe('none')
    const md = [
      '| route | what | auth |',
      '|---|---|---|',
      '| `GET /status`, `DELETE /v1/models/{id}` | a | none |',
      '| `POST /v1/parse` | b | none, or any token with `serve.requireTokenForParse` |',
      '| `PUT /model` | c | as `/v1/parse` |',
      '| `GET /metrics` | d | admin, or anyone |',
    ].join('\n')
    const routes = tableRoutes(md)
    expect(routes.map(key)).toEqual([
      'GET /status',
      'DELETE /v1/models/{id}',
      'POST /v1/parse',
      'PUT /model',
      'GET /metrics',
    ])
    expect(routes.map((r) => rolesOf(r.auth!, routes))).toEqual([
      { plain: 'none', parseToken: 'none' },
      { plain: 'none', parseToken: 'none' },
      { plain: 'none', parseToken: 'client' },
      { plain: 'none', parseToken: 'client' },
      'cannot read the auth cell "admin, or anyone"',
    ])
    expect(openApiRoutes(apps.plain!).has('DELETE /v1/models/{id}')).toBe(false)
  })
})
