/**
 * The web UI at `/ui`: static pages (HTML, CSS, one script) and vega, vega-lite and vega-embed from the installed
 * packages, so it works offline and never calls a CDN; plus the data routes only the UI needs under `/v1/ui/...`
 * (registry overview and comparison, analytics charts, drift). The pages are public; every data route needs an
 * annotator or admin token.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type {} from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync, preHandlerAsyncHookHandler } from 'fastify'
import { createError } from '../../errors.js'
import type { ModelRegistry } from '../../registry/registry.js'
import { compareModelVersions, listModelViews } from './models.js'

/** One chart of the Analytics page: a Vega-Lite spec with its data inline. */
export interface UiChart {
  id: string
  title: string
  description?: string
  spec: unknown
}

/** One drift check as the Drift page shows it. */
export interface UiDriftCheck {
  name: string
  title?: string
  value: number | null
  threshold: number | null
  /** `skipped` when there was too little data to decide. */
  status?: 'pass' | 'fail' | 'skipped'
  passed: boolean
  detail?: string
}

export interface UiDrift {
  checks: UiDriftCheck[]
  passed?: boolean
  window?: string
  /** Why there are no checks, for the empty state. */
  message?: string
}

export interface UiOptions {
  /** The server's auth preHandler admitting annotator and admin tokens. */
  authorize: preHandlerAsyncHookHandler
  registry?: ModelRegistry
  /** Charts for a window like `7d`. */
  charts?: (window: string) => Promise<{ charts: UiChart[]; message?: string }>
  drift?: () => Promise<UiDrift>
  /** Where the static files are; default the package's `ui/` directory. */
  staticDir?: string
}

const here = path.dirname(fileURLToPath(import.meta.url))
/** `ui/` at the package root, from `src/serve/ui/` and from `dist/serve/ui/` alike. */
export const UI_DIR = path.resolve(here, '../../../ui')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
}

// vega evaluates chart expressions with `new Function`, hence 'unsafe-eval'; everything else is this origin only
const CSP =
  "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

function vendorFiles(): Record<string, string> {
  const require = createRequire(import.meta.url)
  // packages that hide package.json behind `exports`: walk up from the entry point to the package's own directory
  const dir = (pkg: string) => {
    let d = path.dirname(require.resolve(pkg))
    while (path.basename(d) !== pkg && path.dirname(d) !== d) d = path.dirname(d)
    return d
  }
  return {
    'vega.min.js': path.join(dir('vega'), 'build', 'vega.min.js'),
    'vega-lite.min.js': path.join(dir('vega-lite'), 'build', 'vega-lite.min.js'),
    'vega-embed.min.js': path.join(dir('vega-embed'), 'build', 'vega-embed.min.js'),
  }
}

export const uiPlugin: FastifyPluginAsync<UiOptions> = async (app, options) => {
  const dir = options.staticDir ?? UI_DIR
  // a fixed list of files: nothing under /ui can name a path of its own
  const files = new Map<string, string>([
    ['index.html', path.join(dir, 'index.html')],
    ['app.css', path.join(dir, 'app.css')],
    ['app.js', path.join(dir, 'app.js')],
  ])
  const VENDOR = ['vendor/vega.min.js', 'vendor/vega-lite.min.js', 'vendor/vega-embed.min.js']
  // the chart libraries are found on first use, so a server bundled without them still starts and serves the API
  let vendor: Record<string, string> | undefined
  const pathOf = (name: string): string => {
    if (!name.startsWith('vendor/')) return files.get(name)!
    try {
      vendor ??= vendorFiles()
    } catch (err) {
      throw createError('ERR_INTERNAL', {
        detail: `the web UI's chart libraries (vega, vega-lite, vega-embed) cannot be found: ${(err as Error).message}`,
      })
    }
    return vendor[name.slice('vendor/'.length)]!
  }
  const cache = new Map<string, Buffer>()
  const load = async (name: string) => {
    let body = cache.get(name)
    if (!body) {
      body = await readFile(pathOf(name))
      cache.set(name, body)
    }
    return body
  }
  const send = async (name: string, reply: import('fastify').FastifyReply) => {
    const body = await load(name)
    return reply
      .type(TYPES[path.extname(name)] ?? 'application/octet-stream')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', name.startsWith('vendor/') ? 'public, max-age=86400' : 'no-cache')
      .send(body)
  }

  app.get('/ui', { schema: { hide: true } }, (_req, reply) => reply.redirect('/ui/'))
  app.get('/ui/', { schema: { hide: true } }, (_req, reply) => send('index.html', reply))
  app.get<{ Params: { '*': string } }>('/ui/*', { schema: { hide: true } }, async (req, reply) => {
    const name = req.params['*']
    if (!files.has(name) && !VENDOR.includes(name)) {
      // unknown paths are pages of the single-page app
      if (!path.extname(name)) return send('index.html', reply)
      throw createError('ERR_SERVE_ROUTE_NOT_FOUND', { method: req.method, url: req.url })
    }
    return send(name, reply)
  })

  const pre = { preHandler: options.authorize }
  const noRegistry = () =>
    createError('ERR_REVIEW_INVALID', {
      detail: 'this server has no model registry configured (`registry` in intentops.yml)',
    })

  app.get('/v1/ui/models', { ...pre, schema: { summary: 'Models, versions and aliases', tags: ['ui'] } }, async () => ({
    models: options.registry ? await listModelViews(options.registry) : [],
  }))

  app.get<{ Params: { name: string }; Querystring: { from: string; to: string } }>(
    '/v1/ui/models/:name/compare',
    {
      ...pre,
      schema: {
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) }),
        querystring: Type.Object({
          from: Type.String({ minLength: 1, maxLength: 64 }),
          to: Type.String({ minLength: 1, maxLength: 64 }),
        }),
        summary: 'Compare two versions: lineage, metrics, per-intent F1',
        tags: ['ui'],
      },
    },
    async (req) => {
      if (!options.registry) throw noRegistry()
      const ref = (s: string) => (/^\d+$/.test(s) ? Number(s) : s)
      return compareModelVersions(options.registry, req.params.name, ref(req.query.from), ref(req.query.to))
    },
  )

  app.get<{ Querystring: { window?: string } }>(
    '/v1/ui/charts',
    {
      ...pre,
      schema: {
        querystring: Type.Object({ window: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}[hd]$' })) }),
        summary: 'Analytics charts as Vega-Lite specs',
        tags: ['ui'],
      },
    },
    async (req) =>
      options.charts ? options.charts(req.query.window ?? '7d') : { charts: [], message: 'Analytics are not enabled.' },
  )

  app.get('/v1/ui/drift', { ...pre, schema: { summary: 'The latest drift checks', tags: ['ui'] } }, async () =>
    options.drift ? options.drift() : { checks: [], message: 'Drift checks are not enabled on this server.' },
  )
}
