import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { COMPONENT_CATALOG } from './catalog.js'
import { updateComponentReference } from './docs.js'

describe('docs/nlu.md', () => {
  const doc = readFileSync(new URL('../../docs/nlu.md', import.meta.url), 'utf8')
  it('has a current component reference (run `npm run gen:docs`)', () => {
    expect(doc).toBe(updateComponentReference(doc))
  })
  it('documents every component', () => {
    for (const type of Object.keys(COMPONENT_CATALOG)) expect(doc).toContain(`### \`${type}\``)
  })
})
