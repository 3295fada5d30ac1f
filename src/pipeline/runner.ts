/**
 * A staged pipeline runner with DVC-style caching: each stage's cache key is the fingerprint of its declared inputs
 * plus the keys of the stages before it, so unchanged data and config re-run nothing, and a changed input re-runs
 * exactly the stages downstream of it. Every run leaves a run record.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { createError, formatLocation, type SourceLocation } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'

export type JsonRecord = Record<string, unknown>

/** What a stage reads. Each named input is fingerprinted; the names make "why is it stale" answerable. */
export type StageInputs = Record<string, string>

export interface StageResult {
  /** JSON outputs, kept in the cache and the run record, and handed to later stages. */
  outputs: JsonRecord
  /** Set by a stage that decides the run must stop here as failed (e.g. a failed gate), after recording. */
  fail?: string
  /** Set by a stage that decides the rest is not needed (e.g. nothing to promote). */
  stop?: string
}

export interface Stage<C> {
  name: string
  /** Bump when the stage's code changes meaning, to invalidate old cache entries. */
  version?: number
  /**
   * Stages with side effects outside the cache (publish, promote, notify) are not cached: they run whenever
   * reached, and are expected to be idempotent.
   */
  cache: boolean
  /** Fingerprints of what the stage reads; `upstream` holds earlier stages' outputs. */
  /**
   * Runs even after an earlier stage failed or stopped the run (reports and notifications must say so), though never
   * past `--until`. `run.halted` tells it what happened. After an interruption it gets a fresh signal with a short
   * deadline of its own (`RunOptions.afterAbortMs`) instead of the aborted one.
   */
  always?: boolean
  /**
   * Whether cached outputs still point at something real (a model file that was deleted, say); when not, the stage
   * runs again.
   */
  outputsValid?(ctx: C, outputs: JsonRecord): Promise<boolean> | boolean
  inputs(ctx: C, upstream: Readonly<Record<string, JsonRecord>>): Promise<StageInputs> | StageInputs
  run(
    ctx: C,
    upstream: Readonly<Record<string, JsonRecord>>,
    signal?: AbortSignal,
    run?: RunSoFar,
  ): Promise<StageResult>
}

/** Why the run ended early: a stage failed, one stopped it, or it was interrupted (the signal aborted). */
export type Halt = 'failed' | 'stopped' | 'aborted'

/** What an `always` stage learns about the run so far. */
export interface RunSoFar {
  id: string
  halted?: Halt
  /** The stage the interruption stopped, when `halted` is `aborted` and it stopped one. */
  interrupted?: string
  stages: readonly StageRecord[]
}

export type StageStatus = 'ran' | 'cached' | 'failed' | 'skipped' | 'stopped'

export const STAGE_ERROR: unique symbol = Symbol('intentops.stageError')

export interface StageRecord {
  name: string
  status: StageStatus
  key?: string
  durationMs: number
  outputs?: JsonRecord
  /** Why it ran (which inputs changed), why it was skipped, or why it failed. */
  reason?: string
  error?: { code: string; message: string; hint?: string }
  /** The error the stage threw; a symbol key, so it stays out of the JSON record and the caller can rethrow it. */
  [STAGE_ERROR]?: unknown
}

export interface RunRecord {
  id: string
  startedAt: string
  finishedAt: string
  status: 'passed' | Halt
  /** The stage the interruption stopped, when `status` is `aborted` and it stopped one. */
  interrupted?: string
  stages: StageRecord[]
  /** Free-form: gate decision, report paths... copied from stage outputs by the caller. */
  summary?: JsonRecord
}

export interface RunOptions {
  /** `.intentops` directory of the project. */
  stateDir: string
  from?: string
  until?: string
  signal?: AbortSignal
  /** After `signal` aborted, how long each `always` stage may take, ms. Default 5000. */
  afterAbortMs?: number
  onStage?: (event: { name: string; phase: 'start' | 'end'; record?: StageRecord }) => void
  /** Fills the run record's `summary` from the finished stages, before the record is written. */
  summarize?: (record: RunRecord) => JsonRecord
}

interface CacheEntry {
  key: string
  inputs: StageInputs
  upstreamKeys: Record<string, string>
  outputs: JsonRecord
  createdAt: string
}

const cacheFile = (stateDir: string, stage: string) => path.join(stateDir, 'cache', `${stage}.json`)

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T
  } catch {
    return undefined
  }
}

export function stageKey(
  stage: { name: string; version?: number },
  inputs: StageInputs,
  upstreamKeys: Record<string, string>,
) {
  const canonical = JSON.stringify({
    stage: stage.name,
    version: stage.version ?? 1,
    inputs: Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b))),
    upstream: Object.fromEntries(Object.entries(upstreamKeys).sort(([a], [b]) => a.localeCompare(b))),
  })
  return createHash('sha256').update(canonical).digest('hex')
}

/** Why an entry is stale: the inputs whose fingerprints differ, or the upstream stages that changed. */
function staleReason(prev: CacheEntry | undefined, inputs: StageInputs, upstreamKeys: Record<string, string>): string {
  if (!prev) return 'never ran'
  const changed = [
    ...new Set([...Object.keys(inputs), ...Object.keys(prev.inputs)].filter((k) => inputs[k] !== prev.inputs[k])),
  ]
  const up = Object.keys(upstreamKeys).filter((k) => upstreamKeys[k] !== prev.upstreamKeys[k])
  const parts = [
    ...(changed.length ? [`changed: ${changed.join(', ')}`] : []),
    ...(up.length ? [`upstream changed: ${up.join(', ')}`] : []),
  ]
  return parts.join('; ') || 'stage version changed'
}

function indexOfStage<C>(stages: readonly Stage<C>[], name: string | undefined, flag: string): number | undefined {
  if (name === undefined) return undefined
  const i = stages.findIndex((s) => s.name === name)
  if (i === -1) {
    throw createError('ERR_CLI_USAGE', {
      detail: `${flag} ${name}: no such stage; stages are ${stages.map((s) => s.name).join(', ')}`,
    })
  }
  return i
}

/** Run stages in order. Never throws for a stage failure: the failure is in the returned record. */
export async function runStages<C>(stages: readonly Stage<C>[], ctx: C, opts: RunOptions): Promise<RunRecord> {
  const startedAt = new Date()
  const from = indexOfStage(stages, opts.from, '--from') ?? 0
  const until = indexOfStage(stages, opts.until, '--until') ?? stages.length - 1
  // Otherwise every stage is skipped and the empty run reports "passed".
  if (from > until) {
    throw createError('ERR_CLI_USAGE', {
      detail: `--from ${opts.from} comes after --until ${opts.until}; stages run in the order ${stages.map((s) => s.name).join(', ')}`,
    })
  }
  const record: RunRecord = {
    id: `${startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    status: 'passed',
    stages: [],
  }
  const upstream: Record<string, JsonRecord> = {}
  const keys: Record<string, string> = {}
  let halted: Halt | undefined
  let interrupted: string | undefined
  // A failure after an interruption (a report that ran out of time) does not hide the interruption.
  const halt = (why: Halt) => {
    if (halted !== 'aborted') halted = why
  }

  for (let i = 0; i < stages.length; i++) {
    const stage = stages[i]!
    const t0 = performance.now()
    const rec: StageRecord = { name: stage.name, status: 'skipped', durationMs: 0 }
    if ((halted && !stage.always) || i > until) {
      rec.reason =
        i > until
          ? `after --until ${opts.until}`
          : halted === 'aborted'
            ? `the run was interrupted${interrupted ? ` at ${interrupted}` : ''}`
            : `an earlier stage ${halted}`
      record.stages.push(rec)
      opts.onStage?.({ name: stage.name, phase: 'end', record: rec })
      continue
    }
    // The report and notifications must still say that the run was interrupted: after Ctrl-C they get a short
    // deadline of their own rather than the aborted signal (a second Ctrl-C ends the process).
    const late = stage.always === true && opts.signal?.aborted === true
    if (late) halted ??= 'aborted'
    const signal = late ? AbortSignal.timeout(opts.afterAbortMs ?? 5000) : opts.signal
    opts.onStage?.({ name: stage.name, phase: 'start' })
    try {
      if (signal?.aborted) throw createError('ERR_PIPELINE_ABORTED', {})
      const inputs = await stage.inputs(ctx, upstream)
      const upstreamKeys = { ...keys }
      const key = stageKey(stage, inputs, upstreamKeys)
      rec.key = key
      let prev = stage.cache ? await readJson<CacheEntry>(cacheFile(opts.stateDir, stage.name)) : undefined
      let invalid = false
      if (prev && stage.outputsValid && !(await stage.outputsValid(ctx, prev.outputs))) {
        if (i < from && stage.cache) throw createError('ERR_PIPELINE_NO_CACHE', { stage: stage.name, from: opts.from })
        prev = undefined
        invalid = true
      }
      if (i < from && stage.cache) {
        // --from: earlier cached stages come from the cache, whatever changed since; uncached ones (gate, publish)
        // run as usual, since they are cheap or idempotent and later stages need their outputs
        if (!prev) throw createError('ERR_PIPELINE_NO_CACHE', { stage: stage.name, from: opts.from })
        rec.status = 'cached'
        rec.reason = `before --from ${opts.from}`
        rec.outputs = prev.outputs
        keys[stage.name] = prev.key
      } else if (stage.cache && prev?.key === key) {
        rec.status = 'cached'
        rec.reason = 'inputs unchanged'
        rec.outputs = prev.outputs
        keys[stage.name] = key
      } else {
        rec.reason = invalid
          ? 'cached output missing'
          : stage.cache
            ? staleReason(prev, inputs, upstreamKeys)
            : 'always runs'
        const soFar: RunSoFar = {
          id: record.id,
          stages: record.stages,
          ...(halted ? { halted } : {}),
          ...(interrupted ? { interrupted } : {}),
        }
        const result = await stage.run(ctx, upstream, signal, soFar)
        rec.outputs = result.outputs
        keys[stage.name] = key
        if (result.fail) {
          rec.status = 'failed'
          rec.reason = result.fail
          halt('failed')
        } else {
          rec.status = 'ran'
          if (result.stop) {
            rec.reason = result.stop
            halt('stopped')
          }
          if (stage.cache) {
            const entry: CacheEntry = {
              key,
              inputs,
              upstreamKeys,
              outputs: result.outputs,
              createdAt: new Date().toISOString(),
            }
            await writeFileAtomic(cacheFile(opts.stateDir, stage.name), `${JSON.stringify(entry, null, 2)}\n`)
          }
        }
      }
      upstream[stage.name] = rec.outputs ?? {}
    } catch (err) {
      const e = err as { code?: string; message?: string; hint?: string; location?: SourceLocation }
      rec.status = 'failed'
      // The record outlives the error object: keep where it points (file:line) in the message.
      const where = e.location ? `${formatLocation(e.location)}: ` : ''
      rec.error = {
        code: e.code ?? 'ERR_INTERNAL',
        message: `${where}${e.message ?? String(err)}`,
        ...(e.hint ? { hint: e.hint } : {}),
      }
      rec.reason = rec.error.message
      rec[STAGE_ERROR] = err
      // Whatever a stage throws once the run's signal aborted (its own *_ABORTED error, say), the run was interrupted.
      if (!late && opts.signal?.aborted) {
        halted = 'aborted'
        interrupted = stage.name
      } else halt('failed')
    }
    rec.durationMs = performance.now() - t0
    record.stages.push(rec)
    opts.onStage?.({ name: stage.name, phase: 'end', record: rec })
  }
  record.status = halted ?? 'passed'
  if (interrupted) record.interrupted = interrupted
  record.finishedAt = new Date().toISOString()
  if (opts.summarize) record.summary = opts.summarize(record)
  await writeFileAtomic(path.join(opts.stateDir, 'runs', `${record.id}.json`), `${JSON.stringify(record, null, 2)}\n`)
  return record
}

export interface StageState {
  name: string
  state: 'fresh' | 'stale' | 'not cached'
  reason: string
}

/**
 * Which stages would run and why, without running anything. Staleness propagates: a stage below a stale one is
 * stale too, because its upstream outputs will change.
 */
export async function stageStatus<C>(stages: readonly Stage<C>[], ctx: C, stateDir: string): Promise<StageState[]> {
  const out: StageState[] = []
  const upstream: Record<string, JsonRecord> = {}
  const keys: Record<string, string> = {}
  let staleAbove: string | undefined
  for (const stage of stages) {
    if (!stage.cache) {
      out.push({ name: stage.name, state: 'not cached', reason: 'runs on every pipeline run' })
      continue
    }
    const prev = await readJson<CacheEntry>(cacheFile(stateDir, stage.name))
    if (!staleAbove && prev && stage.outputsValid && !(await stage.outputsValid(ctx, prev.outputs))) {
      out.push({ name: stage.name, state: 'stale', reason: 'cached output missing' })
      staleAbove = stage.name
      continue
    }
    if (staleAbove || !prev) {
      out.push({
        name: stage.name,
        state: 'stale',
        reason: prev ? `upstream stage ${staleAbove} is stale` : 'never ran',
      })
      staleAbove ??= stage.name
      continue
    }
    const inputs = await stage.inputs(ctx, upstream)
    const key = stageKey(stage, inputs, { ...keys })
    if (key === prev.key) {
      out.push({ name: stage.name, state: 'fresh', reason: 'inputs unchanged' })
      upstream[stage.name] = prev.outputs
      keys[stage.name] = key
    } else {
      out.push({ name: stage.name, state: 'stale', reason: staleReason(prev, inputs, { ...keys }) })
      staleAbove = stage.name
    }
  }
  return out
}

/** Run records, newest first. */
export async function listRuns(stateDir: string): Promise<RunRecord[]> {
  const dir = path.join(stateDir, 'runs')
  let files: string[]
  try {
    files = (await fsp.readdir(dir)).filter((f) => f.endsWith('.json'))
  } catch {
    return []
  }
  const runs = await Promise.all(files.map((f) => readJson<RunRecord>(path.join(dir, f))))
  return runs.filter((r): r is RunRecord => r !== undefined).sort((a, b) => b.startedAt.localeCompare(a.startedAt))
}
