import { describe, expect, it } from 'vitest'
import { loadTrainingData } from './load.js'
import { dataStats } from './stats.js'

describe('dataStats', () => {
  it('counts intents, entities with roles and groups, and fields', async () => {
    const root = new URL('../../test/fixtures/rasa-project/', import.meta.url).pathname
    const s = dataStats(await loadTrainingData(['data'], { root }))
    expect(s.examples).toBe(29)
    expect(s.intents[0]).toEqual({ intent: 'book_flight', examples: 6, share: 6 / 29, entities: 11 })
    expect(s.entities.find((e) => e.entity === 'city')).toEqual({
      entity: 'city',
      annotations: 8,
      examples: 6,
      roles: ['departure', 'destination'],
      groups: [],
    })
    expect(s.entities.find((e) => e.entity === 'size')?.groups).toEqual(['1', '2'])
    expect(s.lookups).toEqual([
      { name: 'city', elements: 8 },
      { name: 'topping', elements: 4 },
    ])
    const triage = dataStats(
      await loadTrainingData(['data'], { root: new URL('../../templates/triage/', import.meta.url).pathname }),
    )
    expect(triage.fields).toEqual([
      { field: 'subject', examples: 72 },
      { field: 'body', examples: 72 },
    ])
  })
})
