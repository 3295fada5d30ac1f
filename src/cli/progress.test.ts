import { describe, expect, it } from 'vitest'
import { memoryIO } from './io.js'
import { migrationProgress } from './progress.js'

describe('migrationProgress', () => {
  it('stays quiet for a small log and reports a large backfill to its end', () => {
    const small = memoryIO('/')
    const quiet = migrationProgress(small)
    quiet({ done: 0, total: 50_000 })
    quiet({ done: 50_000, total: 50_000 })
    expect(small.err()).toBe('')

    const large = memoryIO('/')
    const report = migrationProgress(large)
    report({ done: 0, total: 200_000 })
    report({ done: 20_000, total: 200_000 })
    report({ done: 200_000, total: 200_000 })
    const lines = large.err().trim().split('\n')
    expect(lines[0]).toBe('backfilling analytics rollups (rows): 0/200000')
    expect(lines.at(-1)).toBe('backfilling analytics rollups (rows): 200000/200000')
  })
  it('shows a task that reports steps whatever their number, one bar per task, with the step under way', () => {
    const io = memoryIO('/')
    const report = migrationProgress(io)
    const task = 'rebuilding the inbox indexes (steps)'
    report({ task, done: 0, total: 5, note: 'the settled column' })
    report({ task, done: 5, total: 5 })
    report({ done: 0, total: 200_000 })
    report({ done: 200_000, total: 200_000 })
    expect(io.err().trim().split('\n')).toEqual([
      'rebuilding the inbox indexes (steps): 0/5 the settled column',
      'rebuilding the inbox indexes (steps): 5/5',
      'backfilling analytics rollups (rows): 0/200000',
      'backfilling analytics rollups (rows): 200000/200000',
    ])
  })
})
