import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderConfigDocs } from './docs.js'

describe('docs/configuration.md', () => {
  it('is up to date with the schema (run `npm run gen:docs`)', () => {
    const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
    expect(onDisk).toBe(renderConfigDocs())
  })
  it('documents every section and key', () => {
    const doc = renderConfigDocs()
    for (const key of ['`fallback.threshold`', '`gates.minDelta`', '`validation.minExamples`', '`fields`']) {
      expect(doc).toContain(key)
    }
  })
})
