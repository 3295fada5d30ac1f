/**
 * The pull-request comment: one Markdown file with the gate verdict, the metric deltas against production
 * (regressions first, significance marked), must-pass results, the data diff against the base branch, and SVG
 * charts written next to it. Built from a run's stage outputs, so `intentops report pr` can rebuild it from any
 * run record.
 * @module
 */
import path from 'node:path'
import type { Config } from '../config/schema.js'
import type { DataDiff } from '../data/diff.js'
import type { Comparison } from '../eval/compare.js'
import type { EvalReport } from '../eval/types.js'
import type { GateRuleResult } from '../registry/gate.js'
import { writeFileAtomic } from '../util/fs.js'
import type { Halt, JsonRecord, StageRecord } from './runner.js'

export interface PrReportInput {
  root: string
  config: Readonly<Config>
  env: Readonly<Record<string, string | undefined>>
  /** Git revision to diff the data against; default: `stages.baseRef`, the CI base branch, production's commit. */
  baseRef?: string
  /** Default: `stages.reportDir`. */
  outDir?: string
}

export interface PrRunView {
  halted?: Halt | undefined
  /** The stage an interruption stopped. */
  interrupted?: string | undefined
  stages: readonly StageRecord[]
}

export interface WrittenPrReport {
  markdown: string
  charts: string[]
  /** `passed`, `failed` or `up to date`: what the commit status says. */
  verdict: 'passed' | 'failed' | 'up to date'
  summary: string
  base: string | null
  dataDiff: DataDiff['summary'] | null
}

/** The revision the data is compared with, and why that one. */
export function baseRevision(
  input: Pick<PrReportInput, 'baseRef' | 'config' | 'env'>,
  productionCommit: string | null | undefined,
): string | undefined {
  const env = input.env
  return (
    input.baseRef ??
    input.config.stages.baseRef ??
    (env.GITHUB_BASE_REF ? `origin/${env.GITHUB_BASE_REF}` : undefined) ??
    env.CI_MERGE_REQUEST_DIFF_BASE_SHA ??
    (env.CI_MERGE_REQUEST_TARGET_BRANCH_NAME ? `origin/${env.CI_MERGE_REQUEST_TARGET_BRANCH_NAME}` : undefined) ??
    productionCommit ??
    undefined
  )
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function gateTable(rules: readonly GateRuleResult[]): string[] {
  const mark = { pass: '✅ pass', fail: '❌ fail', skip: '➖ skip' } as const
  return [
    '| rule | result | reason |',
    '|---|---|---|',
    ...rules.map((r) => `| \`${r.rule}\` | ${mark[r.status]} | ${esc(r.reason)} |`),
  ]
}

/** Headline and commit-status summary of a run. */
export function verdictOf(
  outputs: Readonly<Record<string, JsonRecord>>,
  run: PrRunView,
): { verdict: WrittenPrReport['verdict']; headline: string } {
  const failed = run.stages.find((s) => s.status === 'failed')
  const alias = String(outputs.gate?.alias ?? outputs.compare?.alias ?? 'production')
  if (run.halted === 'aborted') {
    const at = run.interrupted ?? failed?.name
    return {
      verdict: 'failed',
      headline: `⏹️ pipeline aborted: interrupted${at ? ` during ${at}` : ''}, nothing after it ran`,
    }
  }
  if (failed?.name === 'gate' || (failed?.name === 'promote' && !failed.error)) {
    return { verdict: 'failed', headline: `🔴 gate failed: the candidate does not replace ${alias}` }
  }
  if (failed) return { verdict: 'failed', headline: `❌ pipeline failed at ${failed.name}: ${failed.reason ?? ''}` }
  if (outputs.gate?.upToDate) {
    return { verdict: 'up to date', headline: `⚪ nothing to do: ${alias} already serves this model` }
  }
  const promote = outputs.promote
  if (promote?.promoted && promote.changed) {
    return { verdict: 'passed', headline: `🟢 gate passed: v${promote.version} is now ${alias}` }
  }
  if (outputs.gate?.passed) return { verdict: 'passed', headline: `🟢 gate passed: the candidate may replace ${alias}` }
  return { verdict: 'passed', headline: '⚪ no gate decision in this run' }
}

/** Settles as `work` does, or rejects with OUT_OF_TIME once `signal` aborts, leaving `work` to end on its own. */
const OUT_OF_TIME = Symbol('out of time')
function beforeDeadline<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work
  if (signal.aborted) {
    work.catch(() => {})
    return Promise.reject(OUT_OF_TIME)
  }
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(OUT_OF_TIME)
    signal.addEventListener('abort', stop, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop))
  })
}

/**
 * Build report.md and its charts from a run's stage outputs. Never throws for a missing part: it says so. Once
 * `signal` aborts (the report's deadline after Ctrl-C), the slow parts, the data comparison (git) and the charts
 * (the first render loads vega), are left out with a note, and report.md is written with what there is.
 */
export async function writePrReport(
  input: PrReportInput,
  outputs: Readonly<Record<string, JsonRecord>>,
  run: PrRunView,
  signal?: AbortSignal,
): Promise<WrittenPrReport> {
  const { readReport } = await import('../eval/report-files.js')
  const { renderComparisonMarkdown } = await import('../eval/render/compare-markdown.js')
  const { score } = await import('../eval/render/format.js')
  const { readTextFile } = await import('../util/fs.js')
  const outDir = path.resolve(input.root, input.outDir ?? input.config.stages.reportDir)
  const { verdict, headline } = verdictOf(outputs, run)
  const md: string[] = [`## intentops: ${headline}`, '']
  const timings = run.stages
    .filter((s) => s.status !== 'skipped')
    .map((s) => {
      const failed = s.name === run.interrupted ? '(interrupted)' : '(failed)'
      return `${s.name} ${s.status === 'cached' ? '(cached)' : s.status === 'failed' ? failed : ''}`.trim()
    })
  if (timings.length) md.push(`Stages: ${timings.join(' → ')}`, '')

  // Gate
  const rules = outputs.gate?.rules as GateRuleResult[] | undefined
  if (rules) md.push('### Gate', '', ...gateTable(rules), '')

  // Metrics against production
  let candidate: EvalReport | undefined
  if (outputs.test?.report) {
    candidate = await readReport(path.resolve(input.root, String(outputs.test.report))).catch(() => undefined)
  }
  let comparison: Comparison | undefined
  if (outputs.compare?.comparison) {
    const file = path.resolve(input.root, String(outputs.compare.comparison))
    comparison = JSON.parse(await readTextFile(file).catch(() => 'null')) ?? undefined
  }
  if (comparison) {
    md.push(renderComparisonMarkdown(comparison, { headingLevel: 3 }).trimEnd(), '')
  } else if (candidate) {
    const alias = String(outputs.compare?.alias ?? input.config.stages.alias)
    md.push(
      '### Metrics',
      '',
      outputs.compare?.sameModel
        ? `\`${alias}\` already serves this very model.`
        : outputs.compare
          ? `No model holds \`${alias}\` yet: nothing to compare with.`
          : 'Not compared with production.',
      '',
      '| metric | candidate |',
      '|---|---:|',
      `| accuracy | ${score(candidate.intent.accuracy)} |`,
      `| macro F1 | ${score(candidate.intent.macroAvg.f1)} |`,
      `| weighted F1 | ${score(candidate.intent.weightedAvg.f1)} |`,
      '',
    )
  }

  // Must-pass
  const mp = candidate?.mustPass
  if (mp) {
    md.push(
      '### Must-pass',
      '',
      `${mp.passed}/${mp.total} passed${mp.allowedFailures ? ` (${mp.allowedFailures} allowed failures)` : ''}.`,
    )
    const failures = mp.results.filter((r) => !r.passed)
    if (failures.length) {
      const { describeMustPassFailure } = await import('../eval/must-pass.js')
      md.push('', '| sentence | expected | predicted | why | allowed |', '|---|---|---|---|---|')
      for (const f of failures.slice(0, 20)) {
        const why = esc(f.failures.map(describeMustPassFailure).join('; '))
        md.push(`| ${esc(f.text)} | \`${f.intent}\` | \`${f.predicted}\` | ${why} | ${f.allowFailure ? 'yes' : 'no'} |`)
      }
    }
    md.push('')
  }

  // Data diff
  const base = baseRevision(input, (outputs.compare?.baseline as { git?: string | null } | null)?.git)
  let dataDiff: DataDiff | undefined
  md.push('### Data changes', '')
  const outOfTime = 'the time left after the interruption ran out'
  if (!base) {
    md.push('No base revision to compare the data with (set `stages.baseRef` or run in a pull request).', '')
  } else {
    try {
      const { loadDataVersion } = await import('../data/version.js')
      const { diffTrainingData, renderDiffMarkdown } = await import('../data/diff.js')
      const paths = [...input.config.data]
      const [before, after] = await beforeDeadline(
        Promise.all([
          loadDataVersion(base, { root: input.root, paths, ...(signal ? { signal } : {}) }),
          loadDataVersion(undefined, { root: input.root, paths }),
        ]),
        signal,
      )
      dataDiff = diffTrainingData(before.data, after.data, { from: base, to: 'this change' })
      md.push(renderDiffMarkdown(dataDiff).replace(/^#+ /gm, '#### ').trimEnd(), '')
    } catch (err) {
      md.push(
        err === OUT_OF_TIME
          ? `The data was not compared with \`${base}\`: ${outOfTime}.`
          : `Could not read the data at \`${base}\`: ${esc((err as Error).message)}`,
        '',
      )
    }
  }

  // Charts
  const charts: string[] = []
  const { renderSvg } = await import('../eval/render/svg.js')
  const { intentDeltaSpec, intentF1Spec } = await import('../eval/charts.js')
  const chartFiles: Array<[string, string, Parameters<typeof renderSvg>[0]]> = []
  if (comparison?.perIntent.some((r) => r.deltaF1 !== 0)) {
    chartFiles.push(['intent-delta.svg', 'F1 change per intent', intentDeltaSpec(comparison.perIntent)])
  }
  if (candidate) {
    chartFiles.push([
      'intent-f1.svg',
      'F1 per intent',
      intentF1Spec(candidate.intent.perLabel, { title: 'Candidate F1 per intent' }),
    ])
  }
  if (chartFiles.length) {
    md.push('### Charts', '')
    for (const [name, title, spec] of chartFiles) {
      let svg: string
      try {
        svg = await beforeDeadline(renderSvg(spec), signal)
      } catch (err) {
        if (err !== OUT_OF_TIME) throw err
        md.push(`Charts left out: ${outOfTime}.`)
        break
      }
      const file = path.join(outDir, 'charts', name)
      await writeFileAtomic(file, svg)
      charts.push(file)
      md.push(`![${title}](charts/${name})`)
    }
    md.push('')
  }

  const markdown = path.join(outDir, 'report.md')
  await writeFileAtomic(markdown, `${md.join('\n').trimEnd()}\n`)
  return {
    markdown,
    charts,
    verdict,
    summary: headline.replace(/^\S+ /, ''),
    base: base ?? null,
    dataDiff: dataDiff?.summary ?? null,
  }
}
