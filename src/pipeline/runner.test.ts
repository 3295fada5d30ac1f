import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { listRuns, runStages, type Stage, stageStatus } from './runner.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

interface Ctx {
  dir: string
  calls: string[]
}

// Real stages over real files: "train" counts words of data.txt per config.txt's mode; "test" reads train's output.
const stages: Stage<Ctx>[] = [
  {
    name: 'validate',
    cache: true,
    inputs: (c) => ({ data: sha(readFileSync(path.join(c.dir, 'data.txt'), 'utf8')) }),
    async run(c) {
      c.calls.push('validate')
      const text = readFileSync(path.join(c.dir, 'data.txt'), 'utf8')
      return text.includes('BROKEN') ? { outputs: { ok: false }, fail: 'data has errors' } : { outputs: { ok: true } }
    },
  },
  {
    name: 'train',
    cache: true,
    inputs: (c) => ({
      data: sha(readFileSync(path.join(c.dir, 'data.txt'), 'utf8')),
      config: sha(readFileSync(path.join(c.dir, 'config.txt'), 'utf8')),
    }),
    async run(c) {
      c.calls.push('train')
      const words = readFileSync(path.join(c.dir, 'data.txt'), 'utf8').split(/\s+/).filter(Boolean)
      return { outputs: { words: words.length } }
    },
  },
  {
    name: 'test',
    cache: true,
    inputs: () => ({}),
    async run(c, up) {
      c.calls.push('test')
      return { outputs: { score: Number(up.train!.words) * 2 } }
    },
  },
  {
    name: 'notify',
    cache: false,
    inputs: () => ({}),
    async run(c) {
      c.calls.push('notify')
      return { outputs: {} }
    },
  },
]

let ctx: Ctx
let stateDir: string
beforeEach(() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'io-pipe-'))
  writeFileSync(path.join(dir, 'data.txt'), 'a b c')
  writeFileSync(path.join(dir, 'config.txt'), 'mode: 1')
  ctx = { dir, calls: [] }
  stateDir = path.join(dir, '.intentops')
})

describe('runStages', () => {
  it('runs everything once, then nothing cacheable when inputs are unchanged', async () => {
    const first = await runStages(stages, ctx, { stateDir })
    expect(first.status).toBe('passed')
    expect(first.stages.map((s) => s.status)).toEqual(['ran', 'ran', 'ran', 'ran'])
    expect(first.stages[2]!.outputs).toEqual({ score: 6 })
    ctx.calls = []
    const second = await runStages(stages, ctx, { stateDir })
    expect(second.stages.map((s) => s.status)).toEqual(['cached', 'cached', 'cached', 'ran'])
    expect(ctx.calls).toEqual(['notify'])
    expect(second.stages[2]!.outputs).toEqual({ score: 6 })
  })

  it('re-runs exactly what a changed input reaches, and says why', async () => {
    await runStages(stages, ctx, { stateDir })
    writeFileSync(path.join(ctx.dir, 'config.txt'), 'mode: 2')
    ctx.calls = []
    const run = await runStages(stages, ctx, { stateDir })
    expect(ctx.calls).toEqual(['train', 'test', 'notify'])
    expect(run.stages[1]!.reason).toBe('changed: config')
    expect(run.stages[2]!.reason).toBe('upstream changed: train')
  })

  it('stops at a failing stage, skips the rest, and does not cache the failure', async () => {
    writeFileSync(path.join(ctx.dir, 'data.txt'), 'BROKEN')
    const run = await runStages(stages, ctx, { stateDir })
    expect(run.status).toBe('failed')
    expect(run.stages.map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped'])
    expect(run.stages[0]!.reason).toBe('data has errors')
    ctx.calls = []
    await runStages(stages, ctx, { stateDir })
    expect(ctx.calls[0]).toBe('validate')
  })

  it('honours --until and --from, and refuses --from without a cache', async () => {
    const partial = await runStages(stages, ctx, { stateDir, until: 'train' })
    expect(partial.stages.map((s) => s.status)).toEqual(['ran', 'ran', 'skipped', 'skipped'])
    ctx.calls = []
    writeFileSync(path.join(ctx.dir, 'data.txt'), 'a b c d')
    const from = await runStages(stages, ctx, { stateDir, from: 'test' })
    // validate and train come from the cache even though data changed; test runs on the cached train output
    expect(ctx.calls).toEqual(['test', 'notify'])
    expect(from.stages[2]!.outputs).toEqual({ score: 6 })
    const fresh = mkdtempSync(path.join(tmpdir(), 'io-pipe-'))
    const noCache = await runStages(stages, ctx, { stateDir: fresh, from: 'test' })
    expect(noCache.status).toBe('failed')
    expect(noCache.stages[0]!.error?.code).toBe('ERR_PIPELINE_NO_CACHE')
    await expect(runStages(stages, ctx, { stateDir, until: 'nope' })).rejects.toMatchObject({ code: 'ERR_CLI_USAGE' })
  })

  it('reports stale stages without running them, and keeps run records', async () => {
    expect((await stageStatus(stages, ctx, stateDir)).map((s) => s.state)).toEqual([
      'stale',
      'stale',
      'stale',
      'not cached',
    ])
    await runStages(stages, ctx, { stateDir })
    expect((await stageStatus(stages, ctx, stateDir)).map((s) => s.state)).toEqual([
      'fresh',
      'fresh',
      'fresh',
      'not cached',
    ])
    writeFileSync(path.join(ctx.dir, 'data.txt'), 'x')
    const st = await stageStatus(stages, ctx, stateDir)
    expect(st[0]).toEqual({ name: 'validate', state: 'stale', reason: 'changed: data' })
    expect(st[1]).toEqual({ name: 'train', state: 'stale', reason: 'upstream stage validate is stale' })
    expect(ctx.calls).toEqual(['validate', 'train', 'test', 'notify'])
    await runStages(stages, ctx, { stateDir })
    const runs = await listRuns(stateDir)
    expect(runs).toHaveLength(2)
    expect(runs[0]!.startedAt >= runs[1]!.startedAt).toBe(true)
  })

  it('runs an always stage after a failure, telling it what happened, but never past --until', async () => {
    const seen: Array<string | undefined> = []
    const withReport: Stage<Ctx>[] = [
      ...stages,
      {
        name: 'report',
        cache: false,
        always: true,
        inputs: () => ({}),
        async run(_c, up, _s, run) {
          seen.push(run?.halted)
          return {
            outputs: { failedStages: run!.stages.filter((x) => x.status === 'failed').length, up: Object.keys(up) },
          }
        },
      },
    ]
    writeFileSync(path.join(ctx.dir, 'data.txt'), 'BROKEN')
    const failed = await runStages(withReport, ctx, { stateDir, summarize: (r) => ({ stages: r.stages.length }) })
    expect(failed.status).toBe('failed')
    expect(failed.stages.map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'ran'])
    expect(failed.stages[4]!.outputs).toEqual({ failedStages: 1, up: ['validate'] })
    expect(failed.summary).toEqual({ stages: 5 })
    const partial = await runStages(withReport, ctx, { stateDir, until: 'validate' })
    expect(partial.stages.at(-1)!.status).toBe('skipped')
    expect(seen).toEqual(['failed'])
  })

  it('after an interruption still runs the always stages, each with a live signal of its own, and records aborted', async () => {
    const controller = new AbortController()
    const seen: Array<{ stage: string; aborted: boolean | undefined; halted?: string; interrupted?: string }> = []
    const always = (name: string): Stage<Ctx> => ({
      name,
      cache: false,
      always: true,
      inputs: () => ({}),
      async run(_c, _up, signal, run) {
        seen.push({
          stage: name,
          aborted: signal?.aborted,
          ...(run?.halted ? { halted: run.halted } : {}),
          ...(run?.interrupted ? { interrupted: run.interrupted } : {}),
        })
        return { outputs: { halted: run?.halted ?? null } }
      },
    })
    const slow: Stage<Ctx> = {
      name: 'train',
      cache: true,
      inputs: () => ({}),
      // Waits for the signal as a long training loop would, and is interrupted halfway.
      run: (_c, _up, signal) =>
        new Promise((_resolve, reject) => {
          signal!.addEventListener('abort', () =>
            reject(Object.assign(new Error('stopped'), { code: 'ERR_X_ABORTED' })),
          )
          setTimeout(() => controller.abort(), 20)
        }),
    }
    const interrupted = await runStages([stages[0]!, slow, stages[2]!, always('report'), always('notify')], ctx, {
      stateDir,
      signal: controller.signal,
    })
    expect(interrupted.status).toBe('aborted')
    expect(interrupted.interrupted).toBe('train')
    expect(interrupted.stages.map((s) => s.status)).toEqual(['ran', 'failed', 'skipped', 'ran', 'ran'])
    expect(interrupted.stages[2]!.reason).toBe('the run was interrupted at train')
    expect(seen).toEqual([
      { stage: 'report', aborted: false, halted: 'aborted', interrupted: 'train' },
      { stage: 'notify', aborted: false, halted: 'aborted', interrupted: 'train' },
    ])
    const [onDisk] = await listRuns(stateDir)
    expect(onDisk).toMatchObject({ id: interrupted.id, status: 'aborted', interrupted: 'train' })

    // A signal aborted before the run: the first stage is the interrupted one, and the always stages still run,
    // within their own deadline.
    seen.length = 0
    const late: Stage<Ctx> = {
      ...always('report'),
      run: (_c, _up, signal) =>
        new Promise((_resolve, reject) => {
          signal!.addEventListener('abort', () => reject(Object.assign(new Error('deadline'), { code: 'ERR_X' })))
        }),
    }
    const t0 = Date.now()
    const before = await runStages([stages[0]!, late, always('notify')], ctx, {
      stateDir,
      signal: AbortSignal.abort(),
      afterAbortMs: 50,
    })
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(before.status).toBe('aborted')
    expect(before.stages.map((s) => [s.name, s.status, s.error?.code])).toEqual([
      ['validate', 'failed', 'ERR_PIPELINE_ABORTED'],
      ['report', 'failed', 'ERR_X'],
      ['notify', 'ran', undefined],
    ])
    expect(seen).toEqual([{ stage: 'notify', aborted: false, halted: 'aborted', interrupted: 'validate' }])
  })

  it('re-runs a cached stage whose outputs no longer exist', async () => {
    const artifact = path.join(ctx.dir, 'model.bin')
    const producing: Stage<Ctx>[] = [
      {
        name: 'train',
        cache: true,
        inputs: (c) => ({ data: sha(readFileSync(path.join(c.dir, 'data.txt'), 'utf8')) }),
        outputsValid: (_c, out) => existsSync(String(out.file)),
        async run(c) {
          c.calls.push('train')
          writeFileSync(artifact, 'weights')
          return { outputs: { file: artifact } }
        },
      },
    ]
    await runStages(producing, ctx, { stateDir })
    expect((await runStages(producing, ctx, { stateDir })).stages[0]!.status).toBe('cached')
    rmSync(artifact)
    expect((await stageStatus(producing, ctx, stateDir))[0]).toEqual({
      name: 'train',
      state: 'stale',
      reason: 'cached output missing',
    })
    const again = await runStages(producing, ctx, { stateDir })
    expect(again.stages[0]).toMatchObject({ status: 'ran', reason: 'cached output missing' })
    expect(ctx.calls).toEqual(['train', 'train'])
    expect(existsSync(artifact)).toBe(true)
  })
})
