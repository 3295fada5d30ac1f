/**
 * `runPipeline`: the whole pipeline as one library call, holding the project's pipeline lock, so the CLI, `retrain`
 * and tests run exactly the same thing.
 * @module
 */
import path from 'node:path'
import type { Config } from '../config/schema.js'
import { createError, type IntentopsError, isIntentopsError } from '../errors.js'
import type { ModelRegistry } from '../registry/registry.js'
import type { RetryOptions } from '../util/http.js'
import { withPipelineLock } from './lock.js'
import { type RunRecord, runStages, STAGE_ERROR, type StageRecord, type StageState, stageStatus } from './runner.js'
import { PIPELINE_STAGES, type PipelineContext, type StageName, summarizeRun } from './stages.js'

export interface PipelineOptions {
  root: string
  config: Readonly<Config>
  /** The config file, when it is not intentops.yml in the root: errors about its settings name it. */
  configFile?: string
  env?: Readonly<Record<string, string | undefined>>
  from?: string
  until?: string
  /** Default: `stages.promote`. False publishes nothing (pull-request runs). */
  publish?: boolean
  /** Default: `stages.promote`. False publishes a passing candidate without moving the alias. */
  promote?: boolean
  strictNotify?: boolean
  author?: string
  /** `registry.path` override (`INTENTOPS_REGISTRY`). */
  registryLocation?: string
  eventPayload?: unknown
  retry?: RetryOptions
  signal?: AbortSignal
  /** After `signal` aborted, how long the report and notify stages each may take, ms. Default 5000. */
  afterAbortMs?: number
  /** How long to wait for another run holding the lock, ms. */
  lockWaitMs?: number
  onStage?: (event: { name: string; phase: 'start' | 'end'; record?: StageRecord }) => void
  onProgress?: (stage: StageName, fraction: number, note?: string) => void
}

export const stateDirOf = (root: string) => path.join(root, '.intentops')

function context(options: PipelineOptions): { ctx: PipelineContext; close: () => Promise<void> } {
  let registry: Promise<ModelRegistry> | undefined
  const env = options.env ?? {}
  const open = () => {
    registry ??= import('../registry/open.js').then(({ openRegistry }) =>
      openRegistry({
        config: options.config.registry,
        root: options.root,
        env,
        // Signing is needed only when publishing; without a key the registry may still allow unsigned versions.
        signingKey: options.publish !== false && hasSigningKey(options.config, env),
        ...(options.registryLocation ? { location: options.registryLocation } : {}),
      }),
    )
    return registry
  }
  const ctx: PipelineContext = {
    root: options.root,
    config: options.config,
    ...(options.configFile ? { configFile: options.configFile } : {}),
    stateDir: stateDirOf(options.root),
    env,
    registry: open,
    publish: options.publish ?? options.config.stages.promote,
    promote: options.promote ?? options.config.stages.promote,
    strictNotify: options.strictNotify === true,
    memo: {},
    ...(options.author ? { author: options.author } : {}),
    ...(options.eventPayload !== undefined ? { eventPayload: options.eventPayload } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  }
  return {
    ctx,
    close: async () => {
      if (registry) await (await registry.catch(() => undefined))?.backend.close?.()
    },
  }
}

function hasSigningKey(config: Readonly<Config>, env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env[config.registry.signingKeyEnv] || config.registry.signingKey)
}

/** Run the pipeline under the project lock. Stage failures are in the record; `pipelineError` turns one into an error. */
export async function runPipeline(options: PipelineOptions): Promise<RunRecord> {
  const { ctx, close } = context(options)
  try {
    return await withPipelineLock(
      ctx.stateDir,
      () =>
        runStages(PIPELINE_STAGES, ctx, {
          stateDir: ctx.stateDir,
          summarize: summarizeRun,
          ...(options.from ? { from: options.from } : {}),
          ...(options.until ? { until: options.until } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.afterAbortMs !== undefined ? { afterAbortMs: options.afterAbortMs } : {}),
          ...(options.onStage ? { onStage: options.onStage } : {}),
        }),
      options.lockWaitMs !== undefined ? { waitMs: options.lockWaitMs } : {},
    )
  } finally {
    await close()
  }
}

/** Which stages would run, and why; nothing runs. */
export async function pipelineStatus(options: PipelineOptions): Promise<StageState[]> {
  const { ctx, close } = context({ ...options, publish: false })
  try {
    return await stageStatus(PIPELINE_STAGES, ctx, ctx.stateDir)
  } finally {
    await close()
  }
}

/** The catalog error of a failed run: the failing stage's own error, or the gate failure. */
export function pipelineError(record: RunRecord): IntentopsError | undefined {
  // A stage stopped by Ctrl-C did not fail: the run reports the interruption, so the CLI exits as interrupted.
  if (record.status === 'aborted') return createError('ERR_PIPELINE_ABORTED')
  const failed = record.stages.find((s) => s.status === 'failed')
  if (!failed) return undefined
  const gate = record.stages.find((s) => s.name === 'gate')
  if (failed.name === 'gate' || (failed.name === 'promote' && !failed.error)) {
    return createError('ERR_PIPELINE_GATE_FAILED', {
      alias: String(gate?.outputs?.alias ?? 'production'),
      failed: ((gate?.outputs?.failed as string[] | undefined) ?? [failed.reason ?? '']).join('; '),
    })
  }
  // The stage's own error, code, position and hint, is the one docs/errors.md explains: rethrow it unchanged.
  const thrown = failed[STAGE_ERROR]
  if (isIntentopsError(thrown) && thrown.code !== 'ERR_INTERNAL') return thrown
  const code = failed.error?.code
  if (code && code !== 'ERR_INTERNAL') {
    const hint = failed.error!.hint
    return createError(
      'ERR_PIPELINE_STAGE_FAILED',
      { stage: failed.name, detail: `${code}: ${failed.error!.message}` },
      hint ? { hint } : {},
    )
  }
  return createError('ERR_PIPELINE_STAGE_FAILED', { stage: failed.name, detail: failed.reason ?? 'unknown error' })
}
