import { describe, expect, it } from 'vitest'
import { groupNearDuplicates, jaccard, normalizeMessage, shingles } from './group.js'

const msg = (text: string) => ({ text })

describe('normalizeMessage', () => {
  it('ignores case, width, spacing and punctuation', () => {
    expect(normalizeMessage(msg('  Book a FLIGHT,  to Paris!! '))).toBe(normalizeMessage(msg('book a flight to paris')))
    expect(normalizeMessage(msg('ｂｏｏｋ　a flight'))).toBe(normalizeMessage(msg('book a flight')))
    expect(normalizeMessage(msg('book a flight'))).not.toBe(normalizeMessage(msg('book a train')))
  })
  it('compares multi-field messages field by field', () => {
    const a = { text: 'Refund\nI was charged twice', fields: { subject: 'Refund', body: 'I was charged twice' } }
    const b = { text: 'x', fields: { body: 'i was CHARGED twice.', subject: 'refund' } }
    const c = { text: 'x', fields: { subject: 'I was charged twice', body: 'Refund' } }
    expect(normalizeMessage(a)).toBe(normalizeMessage(b))
    expect(normalizeMessage(a)).not.toBe(normalizeMessage(c))
  })
})

describe('jaccard over shingles', () => {
  it('is 1 for the same words, lower for reordered words, 0 for nothing shared or empty text', () => {
    expect(jaccard(shingles('cancel my flight'), shingles('cancel my flight'))).toBe(1)
    const reordered = jaccard(shingles('cancel my flight'), shingles('my flight cancel'))
    expect(reordered).toBeGreaterThan(0.5)
    expect(reordered).toBeLessThan(1)
    expect(jaccard(shingles('hello'), shingles('goodbye'))).toBe(0)
    expect(jaccard(shingles('!!!'), shingles('!!!'))).toBe(0)
  })
})

describe('groupNearDuplicates', () => {
  const items = [
    { id: 'a', text: 'I want to cancel my flight' },
    { id: 'b', text: 'what is the weather' },
    { id: 'c', text: 'i want to cancel my flight!!' },
    { id: 'd', text: 'I want to cancel my flight please' },
    { id: 'e', text: 'hello' },
    { id: 'f', text: 'What is the weather?' },
  ]
  const ids = (groups: Array<typeof items>) => groups.map((g) => g.map((x) => x.id))

  it('puts exact and normalised duplicates in one group at threshold 1', () => {
    expect(ids(groupNearDuplicates(items, (x) => x, { threshold: 1 }))).toEqual([['a', 'c'], ['b', 'f'], ['d'], ['e']])
  })
  it('adds near duplicates below threshold 1, keeping the order of first members', () => {
    // "… please" shares 11 of 13 unigrams and bigrams with the group
    expect(ids(groupNearDuplicates(items, (x) => x, { threshold: 0.8 }))).toEqual([['a', 'c', 'd'], ['b', 'f'], ['e']])
  })
  it('joins groups transitively and names a group after its first member', () => {
    const chain = [
      { id: '1', text: 'one two three four five six' },
      { id: '2', text: 'zzz' },
      { id: '3', text: 'one two three four five six seven eight' },
      { id: '4', text: 'one two three four five six seven eight nine ten' },
    ]
    const groups = groupNearDuplicates(chain, (x) => x, { threshold: 0.6 })
    expect(ids(groups)).toEqual([['1', '3', '4'], ['2']])
  })
  it('handles an empty page', () => {
    expect(groupNearDuplicates([], (x: { text: string }) => x, { threshold: 0.8 })).toEqual([])
  })
})
