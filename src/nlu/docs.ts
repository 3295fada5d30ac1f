/**
 * Renders the component reference (every catalog type and its params) into `docs/nlu.md`, between markers, so the
 * docs cannot drift from the schemas. `npm run gen:docs` rewrites it; a test checks it is current.
 * @module
 */
import type { TSchema } from '@sinclair/typebox'
import { COMPONENT_CATALOG } from './catalog.js'
import { describeSchema } from './params.js'

export const COMPONENTS_START = '<!-- components:start (generated from src/nlu/catalog.ts by `npm run gen:docs`) -->'
export const COMPONENTS_END = '<!-- components:end -->'

const KIND_TITLE = { featurizer: 'featurizer', classifier: 'classifier', entity_extractor: 'entity extractor' }

/** The Markdown of the component reference, without the markers. */
export function renderComponentReference(): string {
  const out: string[] = []
  for (const type of Object.keys(COMPONENT_CATALOG)) {
    const entry = COMPONENT_CATALOG[type]!
    out.push(`### \`${type}\` (${KIND_TITLE[entry.kind]})`, '', entry.description, '')
    out.push('| param | accepts | default | meaning |', '| --- | --- | --- | --- |')
    for (const [name, schema] of Object.entries(entry.schema.properties)) {
      const s = schema as TSchema & { default?: unknown; description?: string }
      const def = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``
      out.push(`| \`${name}\` | ${describeSchema(s).replace(/\|/g, '\\|')} | ${def} | ${s.description ?? ''} |`)
    }
    out.push('')
  }
  return out.join('\n')
}

/** `doc` with the text between the markers replaced by the current reference. */
export function updateComponentReference(doc: string): string {
  const start = doc.indexOf(COMPONENTS_START)
  const end = doc.indexOf(COMPONENTS_END)
  if (start === -1 || end === -1 || end < start) throw new Error('docs/nlu.md lacks the component markers')
  return `${doc.slice(0, start + COMPONENTS_START.length)}\n\n${renderComponentReference()}\n${doc.slice(end)}`
}
