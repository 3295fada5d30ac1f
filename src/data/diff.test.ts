import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { diffTrainingData, renderDiffMarkdown } from './diff.js'
import { type Example, emptyTrainingData, type TrainingData } from './types.js'

const exampleArb = fc.record({
  text: fc.constantFrom('hi', 'hello', 'bye', 'where is my order', 'cancel it', 'refund please', 'thanks'),
  intent: fc.constantFrom('greet', 'bye', 'order', 'cancel'),
  tagged: fc.boolean(),
})
const toData = (rows: Array<{ text: string; intent: string; tagged: boolean }>): TrainingData => {
  const d = emptyTrainingData()
  d.examples = rows.map(
    (r): Example => ({
      text: r.text,
      intent: r.intent,
      entities: r.tagged
        ? [{ start: 0, end: r.text.indexOf(' ') === -1 ? r.text.length : r.text.indexOf(' '), entity: 'w', value: 'x' }]
        : [],
    }),
  )
  return d
}

describe('diffTrainingData', () => {
  it('accounts for every example: after − before = added − removed, per intent and in total', () => {
    fc.assert(
      fc.property(fc.array(exampleArb, { maxLength: 15 }), fc.array(exampleArb, { maxLength: 15 }), (a, b) => {
        const d = diffTrainingData(toData(a), toData(b))
        expect(d.summary.examplesAfter - d.summary.examplesBefore).toBe(d.summary.added - d.summary.removed)
        for (const i of d.intents) {
          const movedIn = d.moved.filter((m) => m.to === i.intent).length
          const movedOut = d.moved.filter((m) => m.from === i.intent).length
          expect(i.after - i.before).toBe(i.added.length - i.removed.length + movedIn - movedOut)
        }
        expect(d.unchanged).toBe(d.fingerprints.before === d.fingerprints.after)
      }),
    )
  })

  it('finds nothing between a set and itself, and says so', () => {
    const d = toData([
      { text: 'hi', intent: 'greet', tagged: false },
      { text: 'bye', intent: 'bye', tagged: true },
    ])
    const diff = diffTrainingData(d, structuredClone(d), { from: 'a', to: 'b' })
    expect(diff.unchanged).toBe(true)
    expect(diff.intents).toEqual([])
    expect(renderDiffMarkdown(diff)).toBe('### Training data: `a` → `b`\n\nNo changes to the training data.\n')
  })

  it('caps long lists in Markdown and escapes backticks', () => {
    const before = emptyTrainingData()
    const after = emptyTrainingData()
    for (let i = 0; i < 30; i++) after.examples.push({ text: `say \`${i}\``, intent: 'x', entities: [] })
    const md = renderDiffMarkdown(diffTrainingData(before, after), { maxExamples: 5 })
    expect(md).toContain('- ➕ `` say `0` ``')
    expect(md).toContain('- … and 25 more')
  })
})
