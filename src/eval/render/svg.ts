/**
 * Server-side rendering of Vega-Lite specs to SVG with `vega` and `vega-lite`; no canvas, no browser. The
 * libraries load lazily, on the first chart.
 * @module
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import vm from 'node:vm'
import type { TopLevelSpec } from 'vega-lite'
import { createError } from '../../errors.js'

type Vega = typeof import('vega')
type VegaLite = typeof import('vega-lite')

let libs: Promise<{ vega: Vega; vl: VegaLite; source: 'bundles' | 'modules' }> | undefined

/**
 * Load vega and vega-lite from their published single-file bundles when present: evaluating two minified files
 * costs about a fifth of the CPU of resolving and linking their hundreds of ES modules (≈ 100 ms instead of
 * ≈ 450 ms), and that load is most of a cold report render. Falls back to the ES modules.
 */
function load(): Promise<{ vega: Vega; vl: VegaLite; source: 'bundles' | 'modules' }> {
  libs ??= (async () => {
    try {
      const require = createRequire(import.meta.url)
      const vegaFile = path.join(path.dirname(require.resolve('vega')), 'vega.min.js')
      const vlFile = path.join(path.dirname(require.resolve('vega-lite')), 'vega-lite.min.js')
      const vega = loadBundle(vegaFile, {}) as Vega
      const vl = loadBundle(vlFile, { vega }) as VegaLite
      if (typeof vega.View === 'function' && typeof vl.compile === 'function') return { vega, vl, source: 'bundles' }
    } catch {
      // a different package layout: use the ES modules
    }
    const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')])
    return { vega, vl, source: 'modules' }
  })()
  return libs
}

/** Which build of vega the renderer uses: the single-file bundles, or the ES modules as a fallback. */
export async function chartLibrary(): Promise<{ source: 'bundles' | 'modules'; vega: string; vegaLite: string }> {
  const { vega, vl, source } = await load()
  return { source, vega: vega.version, vegaLite: vl.version }
}

/** Evaluate a UMD bundle from node_modules the way Node evaluates a CommonJS file, with the given dependencies. */
function loadBundle(file: string, deps: Record<string, unknown>): unknown {
  const source = readFileSync(file, 'utf8')
  const wrapper = vm.runInThisContext(`(function (exports, require, module) {${source}\n})`, { filename: file }) as (
    exports: unknown,
    require: (id: string) => unknown,
    module: { exports: unknown },
  ) => void
  const module = { exports: {} as unknown }
  wrapper.call(
    undefined,
    module.exports,
    (id) => {
      if (!(id in deps)) throw new Error(`${path.basename(file)} requires ${id}`)
      return deps[id]
    },
    module,
  )
  return module.exports
}

/**
 * Render one spec to an SVG string. Specs carry their data inline; any attempt to load a URL or file is refused,
 * so rendering never reaches the network or the disk.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, vl } = await load()
  const refuse = () => Promise.reject(new Error('charts must carry their data inline'))
  const loader = Object.assign(vega.loader(), { load: refuse, sanitize: refuse, http: refuse, file: refuse })
  let view: import('vega').View | undefined
  try {
    const compiled = vl.compile(spec, { logger: silentLogger(vega) }).spec
    if (loadsExternalData(compiled)) throw new Error('charts must carry their data inline, not load a url')
    view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logLevel: vega.None })
    return await view.toSVG()
  } catch (err) {
    throw createError('ERR_INTERNAL', { detail: `chart rendering failed: ${(err as Error).message}` }, { cause: err })
  } finally {
    view?.finalize()
  }
}

/** True when any data set of a compiled Vega spec (at any nesting level) names a `url` to load. */
function loadsExternalData(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(loadsExternalData)
  if (!node || typeof node !== 'object') return false
  const obj = node as Record<string, unknown>
  if (Array.isArray(obj.data) && obj.data.some((d) => d && typeof d === 'object' && 'url' in d)) return true
  return Array.isArray(obj.marks) && obj.marks.some(loadsExternalData)
}

/** Library code never prints: compile warnings (e.g. about empty domains) are dropped. */
function silentLogger(vega: Vega) {
  return vega.logger(vega.None)
}

/** Render several specs, keyed like the input. */
export async function renderSvgs<K extends string>(
  specs: Partial<Record<K, TopLevelSpec>>,
): Promise<Partial<Record<K, string>>> {
  const out: Partial<Record<K, string>> = {}
  for (const [key, spec] of Object.entries(specs) as Array<[K, TopLevelSpec | undefined]>) {
    if (spec) out[key] = await renderSvg(spec)
  }
  return out
}
