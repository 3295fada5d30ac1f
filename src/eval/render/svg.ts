/**
 * Server-side rendering of Vega-Lite specs to SVG with `vega` and `vega-lite`; no canvas, no browser. The
 * libraries load lazily, on the first chart.
 * @module
 */
import type { TopLevelSpec } from 'vega-lite'
import { createError } from '../../errors.js'

type Vega = typeof import('vega')
type VegaLite = typeof import('vega-lite')

let libs: Promise<{ vega: Vega; vl: VegaLite }> | undefined

function load(): Promise<{ vega: Vega; vl: VegaLite }> {
  libs ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, vl }))
  return libs
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
