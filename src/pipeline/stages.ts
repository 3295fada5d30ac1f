/**
 * The stages of `intentops pipeline run`: validate → train → test → compare → gate → publish → promote → deploy →
 * report → notify. Each calls the library of its module; the runner (`runner.ts`) caches them by content
 * fingerprint. Ordering carries the safety: nothing is published before the gate passed, and the alias moves only
 * through the registry's own gate, so a failure at any point leaves no half-published model or moved alias.
 * @module
 */
import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config/schema.js'
import { canonicalJson, fingerprintConfig, fingerprintTrainingData } from '../data/fingerprint.js'
import { loadTrainingData } from '../data/load.js'
import { configuredMustPassPaths, loadMustPass } from '../data/must-pass.js'
import { type ValidationReport, validateProject } from '../data/project.js'
import type { MustPassCase, TrainingData } from '../data/types.js'
import { createError, ERROR_CATALOG } from '../errors.js'
import type { EvalReport, EvalSummary } from '../eval/types.js'
import type { ModelRegistry } from '../registry/registry.js'
import { expandEnv } from '../util/env.js'
import { pathExists, writeFileAtomic } from '../util/fs.js'
import type { RetryOptions } from '../util/http.js'
import type { JsonRecord, RunRecord, RunSoFar, Stage, StageRecord } from './runner.js'

export const STAGE_NAMES = [
  'validate',
  'train',
  'test',
  'compare',
  'gate',
  'publish',
  'promote',
  'deploy',
  'report',
  'notify',
] as const
export type StageName = (typeof STAGE_NAMES)[number]

export interface PipelineContext {
  /** Project root (where `intentops.yml` is). */
  root: string
  config: Readonly<Config>
  /** The config file, when it is not intentops.yml in the root: errors about its settings name it. */
  configFile?: string
  /** `.intentops` of the project: cache, runs, working files. */
  stateDir: string
  env: Readonly<Record<string, string | undefined>>
  /** Opens the registry (with the signing key) on first use. */
  registry: () => Promise<ModelRegistry>
  /** `--no-publish`: stop after the report; nothing leaves the machine but the report and notifications. */
  publish: boolean
  /** `--no-promote`: publish a passing candidate but leave the alias where it is. */
  promote: boolean
  /** `--strict-notify`: an undelivered notification or PR comment fails the run. */
  strictNotify: boolean
  author?: string
  /** The GitHub event payload (`GITHUB_EVENT_PATH`), for the pull-request number and head commit. */
  eventPayload?: unknown
  /** Retry policy of webhooks, the PR API and deploy calls (tests shorten it). */
  retry?: RetryOptions
  onProgress?: (stage: StageName, fraction: number, note?: string) => void
  /** Filled while running: loaded once, shared by the stages. */
  memo: {
    validation?: ValidationReport
    data?: TrainingData
    cases?: MustPassCase[]
    split?: { train: TrainingData; test: TrainingData }
  }
}

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`
const rel = (ctx: PipelineContext, file: string) => path.relative(ctx.root, file).split(path.sep).join('/')
const work = (ctx: PipelineContext, ...parts: string[]) => path.join(ctx.stateDir, 'work', ...parts)

async function trainingData(ctx: PipelineContext): Promise<TrainingData> {
  // What validate checked; loading again only when it failed (a `--from` run past it), to throw the first error.
  const report = await projectValidation(ctx)
  ctx.memo.data ??= report.ok ? report.data : await loadTrainingData([...ctx.config.data], { root: ctx.root })
  return ctx.memo.data
}

/** Must-pass cases of the config's `tests` paths (a project without the default tests/ has none). */
async function mustPassCases(ctx: PipelineContext): Promise<MustPassCase[]> {
  const report = await projectValidation(ctx)
  if (report.ok) ctx.memo.cases ??= report.cases
  if (!ctx.memo.cases) {
    const configured = await configuredMustPassPaths(ctx.config.tests, {
      root: ctx.root,
      ...(ctx.configFile ? { configFile: ctx.configFile } : {}),
    })
    if (configured.missing[0]) throw configured.missing[0]
    const present = configured.paths
    ctx.memo.cases = present.length ? await loadMustPass(present, { root: ctx.root }) : []
  }
  return ctx.memo.cases
}

/** Training and test parts: the configured test files, or a seeded stratified hold-out of the training data. */
async function trainTest(ctx: PipelineContext): Promise<{ train: TrainingData; test: TrainingData; plan: string }> {
  const s = ctx.config.stages
  if (s.testData.length > 0) {
    const test = await loadTrainingData([...s.testData], { root: ctx.root })
    return { train: await trainingData(ctx), test, plan: `files:${s.testData.join(',')}` }
  }
  ctx.memo.split ??= stableSplit(await trainingData(ctx), s.holdout, s.seed)
  return { ...ctx.memo.split, plan: `stable-holdout:${s.holdout}:${s.seed}` }
}

/**
 * A hold-out that stays put as the data changes: each example's side is decided by a hash of its text (not of its
 * label, so fixing a label does not move it), with a fallback per intent so that every intent with two or more
 * examples has one on each side. Adding examples therefore never moves an example production was trained on into
 * the test set, which would flatter production in the comparison; a shuffled split would.
 */
export function stableSplit(
  data: TrainingData,
  fraction: number,
  seed: number,
): { train: TrainingData; test: TrainingData } {
  const score = (i: number) => {
    const ex = data.examples[i]!
    const h = createHash('sha256')
      .update(`${seed}\n${canonicalJson(ex.fields ?? ex.text)}`)
      .digest()
    return h.readUInt32BE(0) / 2 ** 32
  }
  const byIntent = new Map<string, Array<{ i: number; u: number }>>()
  data.examples.forEach((ex, i) => {
    const list = byIntent.get(ex.intent) ?? []
    list.push({ i, u: score(i) })
    byIntent.set(ex.intent, list)
  })
  const inTest = new Uint8Array(data.examples.length)
  for (const list of byIntent.values()) {
    if (list.length < 2) continue
    list.sort((a, b) => a.u - b.u || a.i - b.i)
    const chosen = list.filter((x) => x.u < fraction)
    if (chosen.length === 0) chosen.push(list[0]!)
    if (chosen.length === list.length) chosen.pop()
    for (const x of chosen) inTest[x.i] = 1
  }
  const part = (side: number): TrainingData => ({
    ...data,
    examples: data.examples.filter((_, i) => inTest[i] === side),
  })
  return { train: part(0), test: { ...part(1), synonyms: [], regexes: [], lookups: [] } }
}

function summaryOf(upstream: Readonly<Record<string, JsonRecord>>, stage: string): EvalSummary | undefined {
  return upstream[stage]?.summary as EvalSummary | undefined
}

// ── validate ──
/**
 * The whole project checked by `validateProject`, as `intentops data validate` does, once per run. Loading problems
 * are diagnostics here, not throws, so every data problem fails the validate stage the same way.
 */
async function projectValidation(ctx: PipelineContext): Promise<ValidationReport> {
  ctx.memo.validation ??= await validateProject({
    root: ctx.root,
    data: [...ctx.config.data],
    tests: [...ctx.config.tests],
    ...(ctx.configFile ? { configFile: ctx.configFile } : {}),
    validation: ctx.config.validation,
    fields: ctx.config.fields,
    onProgress: (done, total) => ctx.onProgress?.('validate', done / total, 'loading data'),
  })
  return ctx.memo.validation
}

const validate: Stage<PipelineContext> = {
  name: 'validate',
  cache: true,
  async inputs(ctx) {
    const report = await projectValidation(ctx)
    const errors = report.diagnostics.filter((d) => d.severity === 'error')
    return {
      data: fingerprintTrainingData(report.data),
      tests: sha(canonicalJson(report.cases)),
      rules: sha(canonicalJson({ validation: ctx.config.validation, fields: ctx.config.fields })),
      // Data that fails a check (or loads only in part) can fingerprint like data that passed before, under older
      // checks too: its errors keep the keys apart, and valid data keeps its key, so nothing retrains for this.
      ...(errors.length > 0 ? { errors: sha(canonicalJson(errors)) } : {}),
    }
  },
  async run(ctx) {
    const report = await projectValidation(ctx)
    ctx.onProgress?.('validate', 1)
    const first = report.diagnostics.find((d) => d.severity === 'error')
    if (first) {
      // The first problem's code, position and fix; `data validate` lists the rest.
      const more = ERROR_CATALOG.ERR_PIPELINE_DATA_INVALID.hint
      throw createError(
        'ERR_PIPELINE_DATA_INVALID',
        { count: report.errorCount, code: first.code, first: first.message },
        { location: first.location, hint: first.hint ? `${first.hint} ${more}` : more },
      )
    }
    return {
      outputs: {
        examples: report.counts.examples,
        intents: report.counts.intents,
        mustPass: report.counts.mustPass,
        warnings: report.warningCount,
        dataFingerprint: fingerprintTrainingData(report.data),
      },
    }
  },
}

// ── train ──
const train: Stage<PipelineContext> = {
  name: 'train',
  cache: true,
  async outputsValid(ctx, outputs) {
    return pathExists(path.resolve(ctx.root, String(outputs.modelFile)))
  },
  async inputs(ctx) {
    const { train, plan } = await trainTest(ctx)
    return { data: fingerprintTrainingData(train), config: fingerprintConfig(ctx.config), split: plan }
  },
  async run(ctx, _up, signal) {
    const { trainModel } = await import('../nlu/train.js')
    const { encodeModel } = await import('../nlu/model-file.js')
    const { train } = await trainTest(ctx)
    const model = await trainModel(train, {
      config: ctx.config,
      seed: ctx.config.stages.seed,
      onProgress: (p) => ctx.onProgress?.('train', p.fraction),
      ...(signal ? { signal } : {}),
    })
    const bytes = encodeModel(model)
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    const dir = work(ctx, 'models')
    const file = path.join(dir, `${digest.slice(7, 23)}.iom`)
    await writeFileAtomic(file, bytes)
    // One model is kept: the cache entry points at the newest one only.
    for (const f of await fsp.readdir(dir)) {
      if (f.endsWith('.iom') && f !== path.basename(file)) await fsp.rm(path.join(dir, f), { force: true })
    }
    return {
      outputs: {
        modelFile: rel(ctx, file),
        modelDigest: digest,
        modelBytes: bytes.length,
        trainExamples: train.examples.length,
        trainingMs: Math.round(model.manifest.trainingMs),
      },
    }
  },
}

// ── test ──
const test: Stage<PipelineContext> = {
  name: 'test',
  cache: true,
  async outputsValid(ctx, outputs) {
    return pathExists(path.resolve(ctx.root, String(outputs.report)))
  },
  async inputs(ctx) {
    const { test, plan } = await trainTest(ctx)
    return {
      testData: fingerprintTrainingData(test),
      split: plan,
      tests: sha(canonicalJson(await mustPassCases(ctx))),
      crossValidation: String(ctx.config.stages.crossValidationFolds),
    }
  },
  async run(ctx, up, signal) {
    const { loadModel } = await import('../nlu/model-file.js')
    const { evaluate } = await import('../eval/evaluate.js')
    const { runMustPass } = await import('../eval/must-pass.js')
    const { summarize } = await import('../eval/summary.js')
    const { writeReports } = await import('../eval/report-files.js')
    const { test, plan } = await trainTest(ctx)
    const modelFile = path.resolve(ctx.root, String(up.train!.modelFile))
    const model = await loadModel(modelFile)
    const report = await evaluate(model, test.examples, {
      testPaths: [plan],
      modelFile: { path: rel(ctx, modelFile), bytes: Number(up.train!.modelBytes) },
      onProgress: (d, t) => ctx.onProgress?.('test', d / t, 'held-out'),
      ...(signal ? { signal } : {}),
    })
    const cases = await mustPassCases(ctx)
    if (cases.length > 0) report.mustPass = runMustPass(model, cases, signal ? { signal } : {})
    const outputs: JsonRecord = {}
    const folds = ctx.config.stages.crossValidationFolds
    if (folds >= 2) {
      const { crossValidate } = await import('../eval/cross-validate.js')
      const cv = await crossValidate(await trainingData(ctx), {
        config: ctx.config,
        folds,
        seed: ctx.config.stages.seed,
        onProgress: (f) => ctx.onProgress?.('test', f, 'cross-validation'),
        ...(signal ? { signal } : {}),
      })
      const c = cv.report.crossValidation!
      outputs.crossValidation = { folds, macroF1: c.mean.macroF1, macroF1Std: c.std.macroF1 }
    }
    const files = await writeReports(report, work(ctx, 'test'))
    const summary = summarize(report)
    const failures = (report.mustPass?.results ?? []).filter((r) => !r.passed)
    return {
      outputs: {
        ...outputs,
        report: rel(ctx, files.json),
        testExamples: test.examples.length,
        summary: summary as unknown as JsonRecord,
        mustPassFailures: failures.slice(0, 20).map((f) => ({
          text: f.text,
          intent: f.intent,
          predicted: f.predicted,
          allowFailure: f.allowFailure,
        })),
      },
    }
  },
}

// ── compare ──
/** The alias holder as a cache input: a new production model re-runs the comparison. */
async function holderKey(ctx: PipelineContext): Promise<string> {
  const registry = await ctx.registry()
  const state = await registry.readAlias(ctx.config.name, ctx.config.stages.alias)
  if (!state) return 'unset'
  const signed = await registry.readVersion(ctx.config.name, state.version)
  return `v${state.version} ${signed.record.blob.digest}`
}

const compare: Stage<PipelineContext> = {
  name: 'compare',
  cache: true,
  async outputsValid(ctx, outputs) {
    return !outputs.baselineReport || pathExists(path.resolve(ctx.root, String(outputs.baselineReport)))
  },
  async inputs(ctx) {
    return { holder: await holderKey(ctx) }
  },
  async run(ctx, up, signal) {
    const alias = ctx.config.stages.alias
    const registry = await ctx.registry()
    const state = await registry.readAlias(ctx.config.name, alias)
    if (!state) return { outputs: { alias, baseline: null } }
    const holder = await registry.resolveAlias(ctx.config.name, alias)
    const sameModel = holder.record.blob.digest === up.train!.modelDigest
    const holderInfo = {
      version: holder.version,
      digest: holder.record.blob.digest,
      git: holder.record.git?.commit ?? null,
    }
    // Scoring a model against itself tells nothing: the gate stops the run as up to date.
    if (sameModel) return { outputs: { alias, baseline: holderInfo, sameModel } }
    const { decodeModel } = await import('../nlu/model-file.js')
    const { evaluate } = await import('../eval/evaluate.js')
    const { runMustPass } = await import('../eval/must-pass.js')
    const { summarize } = await import('../eval/summary.js')
    const { readReport, writeReports } = await import('../eval/report-files.js')
    const { compareReports } = await import('../eval/compare.js')
    const { renderComparisonMarkdown } = await import('../eval/render/compare-markdown.js')
    const { test, plan } = await trainTest(ctx)
    // The holder is scored again on this run's test set: scores stored with it may come from another test set.
    const model = decodeModel(holder.bytes, { source: `${ctx.config.name}@${alias}` })
    const baseline = await evaluate(model, test.examples, {
      testPaths: [plan],
      onProgress: (d, t) => ctx.onProgress?.('compare', d / t, `${alias} v${holder.version}`),
      ...(signal ? { signal } : {}),
    })
    const cases = await mustPassCases(ctx)
    if (cases.length > 0) baseline.mustPass = runMustPass(model, cases, signal ? { signal } : {})
    const candidate: EvalReport = await readReport(path.resolve(ctx.root, String(up.test!.report)))
    const files = await writeReports(baseline, work(ctx, 'baseline'))
    const comparison = compareReports(baseline, candidate, {
      labelA: `${alias} v${holder.version}`,
      labelB: 'candidate',
    })
    const comparisonFile = work(ctx, 'comparison.json')
    await writeFileAtomic(comparisonFile, `${JSON.stringify(comparison)}\n`)
    await writeFileAtomic(work(ctx, 'comparison.md'), renderComparisonMarkdown(comparison))
    const summary = summarize(baseline)
    return {
      outputs: {
        alias,
        baseline: {
          version: holder.version,
          digest: holder.record.blob.digest,
          git: holder.record.git?.commit ?? null,
        },
        sameModel,
        baselineReport: rel(ctx, files.json),
        baselineSummary: summary as unknown as JsonRecord,
        comparison: rel(ctx, comparisonFile),
        verdict: comparison.verdict,
        macroF1Delta: comparison.overall.find((m) => m.metric === 'macro F1')?.delta ?? null,
      },
    }
  },
}

// ── gate ──
const gate: Stage<PipelineContext> = {
  name: 'gate',
  // Cheap, and its pass/fail must be decided on every run.
  cache: false,
  inputs: () => ({}),
  async run(ctx, up) {
    const { evaluateGate, failedRules } = await import('../registry/gate.js')
    const cmp = up.compare!
    const baseline = cmp.baseline as { version: number } | null
    if (cmp.sameModel) {
      return {
        outputs: { passed: true, upToDate: true, alias: cmp.alias },
        stop: `${cmp.alias} already serves this model (v${baseline!.version}); nothing to publish`,
      }
    }
    const result = evaluateGate(
      ctx.config.gates,
      { summary: summaryOf(up, 'test') ?? null, modelBytes: Number(up.train!.modelBytes) },
      baseline ? { version: baseline.version, summary: (cmp.baselineSummary as unknown as EvalSummary) ?? null } : null,
    )
    const failed = failedRules(result)
    const outputs = { passed: result.passed, alias: cmp.alias, rules: result.rules as unknown as JsonRecord[], failed }
    return result.passed ? { outputs } : { outputs, fail: `gate failed: ${failed.join('; ')}` }
  },
}

/**
 * `stages.deploy` with its `$VAR`s expanded (tokens and URLs belong in CI variables). One that is not set is
 * ERR_CONFIG_INVALID naming it: expanded to nothing it would send the model to another URL, or without a token.
 */
function deployTargets(ctx: PipelineContext): Array<{ server: string; token: string }> {
  return ctx.config.stages.deploy.map((t, i) => ({
    server: expandEnv(t.url, ctx.env, `stages.deploy.${i}.url`),
    token: expandEnv(t.token, ctx.env, `stages.deploy.${i}.token`),
  }))
}

// ── publish ──
const publish: Stage<PipelineContext> = {
  name: 'publish',
  cache: false,
  inputs: () => ({}),
  async run(ctx, up) {
    if (!ctx.publish) return { outputs: { skipped: '--no-publish' } }
    // A deploy target that cannot be resolved fails the run before anything is published or promoted.
    if (ctx.promote) deployTargets(ctx)
    const { readModelBytes, readManifest } = await import('../nlu/model-file.js')
    const { trainingLineage } = await import('../registry/model-lineage.js')
    const { gitInfo, resolveActor } = await import('../registry/lineage.js')
    const { readEvaluation, assertEvaluates } = await import('../registry/eval-summary.js')
    const registry = await ctx.registry()
    const name = ctx.config.name
    const digest = String(up.train!.modelDigest)
    // A rerun after a failed promotion publishes nothing twice: reuse a version holding this very file.
    for (const v of (await registry.versionNumbers(name)).slice(-20).reverse()) {
      const signed = await registry.readVersion(name, v)
      if (signed.record.blob.digest === digest) return { outputs: { version: v, reused: true } }
    }
    const file = path.resolve(ctx.root, String(up.train!.modelFile))
    const bytes = await readModelBytes(file)
    const training = trainingLineage(readManifest(bytes, { source: file }))
    const evaluation = await readEvaluation(path.resolve(ctx.root, String(up.test!.report)))
    assertEvaluates(evaluation, training, file)
    const res = await registry.publish({
      name,
      bytes,
      training,
      eval: evaluation.summary,
      tags: { source: 'pipeline' },
      author: await resolveActor(ctx.root, ctx.author, ctx.env),
      git: await gitInfo(ctx.root),
      onProgress: (d, t, step) => ctx.onProgress?.('publish', d / t, step),
    })
    return { outputs: { version: res.version, reused: false, digest: res.signed.record.blob.digest } }
  },
}

// ── promote ──
const promote: Stage<PipelineContext> = {
  name: 'promote',
  cache: false,
  inputs: () => ({}),
  async run(ctx, up) {
    if (!ctx.publish || !ctx.promote) return { outputs: { skipped: ctx.publish ? '--no-promote' : '--no-publish' } }
    const { readEvaluation } = await import('../registry/eval-summary.js')
    const { resolveActor } = await import('../registry/lineage.js')
    const { failedRules } = await import('../registry/gate.js')
    const registry = await ctx.registry()
    const alias = ctx.config.stages.alias
    const baselineReport = up.compare!.baselineReport
    // Evaluations from files are checked by the registry, under its lock, against the actual holder: a promotion
    // made elsewhere since the compare stage makes this one fail rather than compare with a stale baseline.
    const res = await registry.promote({
      name: ctx.config.name,
      version: Number(up.publish!.version),
      alias,
      policy: ctx.config.gates,
      candidateEvaluation: await readEvaluation(path.resolve(ctx.root, String(up.test!.report))),
      ...(baselineReport
        ? { baselineEvaluation: await readEvaluation(path.resolve(ctx.root, String(baselineReport))) }
        : {}),
      actor: await resolveActor(ctx.root, ctx.author, ctx.env),
    })
    const outputs = { alias, version: res.version, from: res.from, promoted: res.promoted, changed: res.changed }
    if (!res.promoted) {
      return {
        outputs,
        fail: `the registry refused the promotion: ${res.gate ? failedRules(res.gate).join('; ') : ''}`,
      }
    }
    return { outputs }
  },
}

// ── deploy ──
const deploy: Stage<PipelineContext> = {
  name: 'deploy',
  cache: false,
  inputs: () => ({}),
  async run(ctx, up) {
    if (!up.promote?.promoted || ctx.config.stages.deploy.length === 0) return { outputs: { servers: 0 } }
    const { deployModel } = await import('./deploy.js')
    const results = []
    for (const { server, token } of deployTargets(ctx)) {
      const res = await deployModel({ server, token, model: `v${up.promote.version}` }, ctx.retry)
      results.push({ server, ok: res.ok, status: res.status, error: res.error ?? null })
    }
    const bad = results.filter((r) => !r.ok)
    const outputs = { servers: results.length, results }
    if (bad.length > 0) {
      throw createError('ERR_DEPLOY_FAILED', {
        server: bad.map((b) => b.server).join(', '),
        model: `v${up.promote.version}`,
        detail: bad.map((b) => b.error ?? `HTTP ${b.status}`).join('; '),
      })
    }
    return { outputs }
  },
}

// ── report ──
const report: Stage<PipelineContext> = {
  name: 'report',
  cache: false,
  always: true,
  inputs: () => ({}),
  async run(ctx, up, signal, run) {
    const { writePrReport } = await import('./pr-report.js')
    // After Ctrl-C the signal is the report's own deadline: the slow parts give way to it, and the report is written.
    const written = await writePrReport(
      { root: ctx.root, config: ctx.config, env: ctx.env },
      up,
      run ?? { stages: [] },
      signal,
    )
    return {
      outputs: {
        ...written,
        markdown: rel(ctx, written.markdown),
        charts: written.charts.map((c) => rel(ctx, c)),
      } as unknown as JsonRecord,
    }
  },
}

// ── notify ──
const notifyStage: Stage<PipelineContext> = {
  name: 'notify',
  cache: false,
  always: true,
  inputs: () => ({}),
  async run(ctx, up, signal, run) {
    const { deliverNotifications } = await import('./deliver.js')
    const out = await deliverNotifications(ctx, up, run, signal)
    if (ctx.strictNotify && out.failures.length > 0) {
      throw createError('ERR_PIPELINE_NOTIFY_FAILED', { count: out.failures.length, detail: out.failures.join('; ') })
    }
    return { outputs: out as unknown as JsonRecord }
  },
}

export const PIPELINE_STAGES: readonly Stage<PipelineContext>[] = [
  validate,
  train,
  test,
  compare,
  gate,
  publish,
  promote,
  deploy,
  report,
  notifyStage,
]

/** The first stage that failed, or undefined. */
export function failedStage(stages: readonly StageRecord[]): StageRecord | undefined {
  return stages.find((s) => s.status === 'failed')
}

/** Run-record summary: the numbers `metrics history` and `runs list` read. */
export function summarizeRun(record: RunRecord): JsonRecord {
  const by = Object.fromEntries(record.stages.map((s) => [s.name, s]))
  const summary = by.test?.outputs?.summary as EvalSummary | undefined
  const out: JsonRecord = {}
  if (summary) {
    out.metrics = {
      accuracy: summary.accuracy,
      macroF1: summary.macroF1,
      weightedF1: summary.weightedF1,
      ...(summary.mustPass ? { mustPassPassed: summary.mustPass.passed, mustPassTotal: summary.mustPass.total } : {}),
    }
    out.testSet = summary.testSetFingerprint ?? null
  }
  if (by.train?.outputs) out.model = by.train.outputs.modelDigest
  out.trained = by.train?.status === 'ran'
  if (by.gate?.outputs && by.gate.status !== 'skipped') out.gate = by.gate.outputs.passed ? 'passed' : 'failed'
  if (by.publish?.outputs?.version !== undefined) out.version = by.publish.outputs.version
  if (by.promote?.outputs?.promoted)
    out.promoted = { alias: by.promote.outputs.alias, version: by.promote.outputs.version }
  if (by.report?.outputs?.markdown) out.report = by.report.outputs.markdown
  const failed = failedStage(record.stages)
  if (failed) out.failed = { stage: failed.name, reason: failed.reason ?? '' }
  return out
}

export type { RunSoFar }
