import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import { fingerprintConfig, fingerprintTrainingData } from './fingerprint.js'
import { emptyTrainingData, type TrainingData } from './types.js'

function data(): TrainingData {
  const d = emptyTrainingData()
  d.intents.push({ name: 'greet' }, { name: 'book' })
  d.examples.push(
    { text: 'hello there', intent: 'greet', entities: [], source: { file: 'a.yml', line: 3 } },
    {
      text: 'fly to Paris',
      intent: 'book',
      entities: [{ start: 7, end: 12, entity: 'city', value: 'Paris' }],
      source: { file: 'a.yml', line: 9 },
    },
  )
  d.synonyms.push({ value: 'New York', examples: ['NYC', 'big apple'] })
  return d
}

describe('fingerprintTrainingData', () => {
  it('ignores example order, sources and file splitting', () => {
    const a = data()
    const b = data()
    b.examples.reverse()
    for (const ex of b.examples) ex.source = { file: 'other.yml', line: 1 }
    b.synonyms[0]!.examples.reverse()
    expect(fingerprintTrainingData(a)).toBe(fingerprintTrainingData(b))
    expect(fingerprintTrainingData(a)).toMatch(/^sha256:[0-9a-f]{64}$/)
  })
  it('changes when a text, a label, an entity or a synonym changes', () => {
    const base = fingerprintTrainingData(data())
    const edits: Array<(d: TrainingData) => void> = [
      (d) => {
        d.examples[0]!.text = 'hello'
      },
      (d) => {
        d.examples[0]!.intent = 'book'
      },
      (d) => {
        d.examples[1]!.entities[0]!.value = 'paris'
      },
      (d) => {
        d.examples[1]!.entities[0]!.role = 'destination'
      },
      (d) => {
        d.synonyms[0]!.examples.push('nyc city')
      },
      (d) => {
        d.examples.push({ ...d.examples[0]! })
      },
    ]
    const seen = new Set([base])
    for (const edit of edits) {
      const d = data()
      edit(d)
      const fp = fingerprintTrainingData(d)
      expect(seen.has(fp)).toBe(false)
      seen.add(fp)
    }
  })
})

describe('fingerprintConfig', () => {
  it('depends only on training-relevant keys, not on their order', () => {
    const c = defaultConfig()
    const { fallback, fields, ...rest } = c
    const reordered = JSON.parse(JSON.stringify({ fields, fallback: { ...fallback }, ...rest }))
    expect(fingerprintConfig(reordered)).toBe(fingerprintConfig(c))
    const otherGates = { ...c, gates: { ...c.gates, minDelta: 0.5 } }
    expect(fingerprintConfig(otherGates)).toBe(fingerprintConfig(c))
    expect(fingerprintConfig({ ...c, fields: { subject: 2, body: 1 } })).not.toBe(fingerprintConfig(c))
  })
})
