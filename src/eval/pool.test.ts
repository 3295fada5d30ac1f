import { describe, expect, it } from 'vitest'
import type { ArithmeticJob } from '../../test/fixtures/eval/arithmetic-jobs.js'
import { runJobs, trainWorkersFor } from './pool.js'

const module = new URL('../../test/fixtures/eval/arithmetic-jobs.ts', import.meta.url)
type Result = { n: number; value: number; thread: number }

describe('runJobs', () => {
  it('runs jobs in worker threads with a shared context and returns results in job order', async () => {
    const jobs: ArithmeticJob[] = [5, 1, 4, 2, 3].map((n) => ({ n, delayMs: (6 - n) * 20 }))
    const done: number[] = []
    const progress = new Set<number>()
    const results = await runJobs<ArithmeticJob, { offset: number }, Result>(jobs, {
      module,
      context: { offset: 100 },
      concurrency: 2,
      onResult: (i) => done.push(i),
      onProgress: (i) => progress.add(i),
    })
    expect(results.map((r) => r.value)).toEqual([125, 101, 116, 104, 109])
    expect(new Set(results.map((r) => r.thread)).size).toBe(2)
    expect(results.every((r) => r.thread !== 0)).toBe(true)
    expect(done.sort()).toEqual([0, 1, 2, 3, 4])
    expect(progress.size).toBe(5)
  })

  it('runs in this thread with concurrency 1', async () => {
    const results = await runJobs<ArithmeticJob, { offset: number }, Result>([{ n: 3 }], {
      module,
      context: { offset: 1 },
      concurrency: 1,
    })
    expect(results).toEqual([{ n: 3, value: 10, thread: 0 }])
  })

  it('rethrows a catalog error from a worker as itself, anything else as ERR_EVAL_WORKER_FAILED', async () => {
    const run = (fail: ArithmeticJob['fail']) =>
      runJobs([{ n: 1 }, { n: 2, fail }], { module, context: { offset: 0 }, concurrency: 2, kind: 'fold' })
    await expect(run('catalog')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: 'bad n 2' })
    await expect(run('plain')).rejects.toMatchObject({
      code: 'ERR_EVAL_WORKER_FAILED',
      message: 'A fold job failed in a worker thread: something broke',
    })
    await expect(run('crash')).rejects.toMatchObject({ code: 'ERR_EVAL_WORKER_FAILED' })
  })

  it('stops at once when aborted, keeping the results delivered so far', async () => {
    const ac = new AbortController()
    const kept: number[] = []
    const jobs: ArithmeticJob[] = [{ n: 1 }, { n: 2 }, { n: 3, delayMs: 10_000 }, { n: 4, delayMs: 10_000 }]
    const started = Date.now()
    const run = runJobs<ArithmeticJob, { offset: number }, Result>(jobs, {
      module,
      context: { offset: 0 },
      concurrency: 2,
      signal: ac.signal,
      onResult: (_, r) => {
        kept.push(r.value)
        if (kept.length === 2) setTimeout(() => ac.abort(), 50)
      },
    })
    await expect(run).rejects.toMatchObject({ code: 'ERR_EVAL_ABORTED' })
    expect(kept.sort()).toEqual([1, 4])
    expect(Date.now() - started).toBeLessThan(8000)
  })
})

describe('trainWorkersFor', () => {
  it('keeps parallel jobs to one training thread, except in a last round that leaves cores idle', () => {
    // 5 folds on 2 workers: two full rounds, then one fold alone that may use both cores
    expect([0, 1, 2, 3, 4].map((i) => trainWorkersFor(i, 5, 2))).toEqual([0, 0, 0, 0, undefined])
    expect([0, 1, 2, 3].map((i) => trainWorkersFor(i, 4, 2))).toEqual([0, 0, 0, 0])
    expect(trainWorkersFor(0, 5, 1)).toBeUndefined()
  })
})
