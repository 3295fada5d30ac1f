// Regenerates the docs that are rendered from code (docs/configuration.md).
import { readFileSync, writeFileSync } from 'node:fs'
import { renderConfigDocs } from '../src/config/docs.js'
import { updateComponentReference } from '../src/nlu/docs.js'

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDocs())
console.log('wrote docs/configuration.md')

// ── nlu: the component reference in docs/nlu.md ──
const nluDoc = new URL('../docs/nlu.md', import.meta.url)
writeFileSync(nluDoc, updateComponentReference(readFileSync(nluDoc, 'utf8')))
console.log('wrote the component reference in docs/nlu.md')
