/**
 * The benchmark's outputs: the results JSON, the Markdown table (printed and written into bench/README.md between
 * markers) and the description of the machine it ran on.
 * @module
 */
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import type { RunMetrics } from './evaluate.js'
import type { ThresholdRule } from './metrics.js'

export interface MachineInfo {
  cpu: string
  cores: number
  ramBytes: number
  os: string
  node: string
  python: string | null
  /** 1-minute load average when the run started: the machine is shared, so this says how busy it was. */
  loadAverage: number
}

export interface SystemReport {
  id: string
  label: string
  version: string
  settings: Record<string, unknown>
  /** Median over `runs.length` runs. */
  metrics: RunMetrics
  runs: RunMetrics[]
}

export interface DatasetReport {
  name: string
  dir: string
  sizes: { train: number; valid: number | null; test: number }
  oosLabel: string | null
  hasEntities: boolean
  systems: SystemReport[]
}

export interface BenchFailure {
  system: string
  dataset: string
  code: string
  message: string
}

export interface BenchReport {
  kind: 'intentops-nlu-bench'
  formatVersion: 1
  /** ISO-8601 time the run started. */
  startedAt: string
  machine: MachineInfo
  settings: { seed: number; repeat: number; warmup: number; thresholdRules: ThresholdRule[]; oosLabel: string }
  datasets: DatasetReport[]
  failures: BenchFailure[]
}

/** Describe this machine; `python` is the interpreter the Python peers run under (null when none ran). */
export function machineInfo(python: string | null): MachineInfo {
  const cpus = os.cpus()
  let pythonVersion: string | null = null
  if (python) {
    try {
      pythonVersion = execFileSync(python, ['-c', 'import platform; print(platform.python_version())'], {
        encoding: 'utf8',
        timeout: 10_000,
      }).trim()
    } catch {
      pythonVersion = null
    }
  }
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    ramBytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    python: pythonVersion,
    loadAverage: os.loadavg()[0] ?? 0,
  }
}

/** The rule in words, for the text above the tables. */
export function describeRule(rule: ThresholdRule): string {
  if (rule.kind === 'sum') return '"max sum" maximises in-scope accuracy + OOS recall on valid.jsonl'
  if (rule.kind === 'reject') {
    return `"in-scope fallback ≤ ${percentLabel(rule.budget)}" is the threshold with the best OOS recall on valid.jsonl that sends at most that share of valid.jsonl's in-scope messages to the fallback`
  }
  return `"OOS recall ≥ ${percentLabel(rule.target)}" is the lowest threshold reaching that OOS recall on valid.jsonl`
}

/** The rule's short name, for table rows. */
export function ruleLabel(rule: ThresholdRule): string {
  if (rule.kind === 'sum') return 'max sum'
  if (rule.kind === 'reject') return `in-scope fallback ≤ ${percentLabel(rule.budget)}`
  return `OOS recall ≥ ${percentLabel(rule.target)}`
}

const percentLabel = (x: number) => `${Number((x * 100).toFixed(2))} %`

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? '–' : (x * 100).toFixed(2))
const seconds = (ms: number) => (ms >= 100_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(2)} s`)
const millis = (ms: number) => (ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(3)} ms`)
const megabytes = (bytes: number) =>
  bytes >= 10e6
    ? `${(bytes / 1e6).toFixed(0)} MB`
    : bytes >= 1e6
      ? `${(bytes / 1e6).toFixed(1)} MB`
      : `${Math.max(1, Math.round(bytes / 1e3))} kB`
const count = (n: number) => n.toLocaleString('en-US')

/** The results as Markdown: one table per dataset, entity tables where the data has entities. */
export function renderMarkdown(report: BenchReport): string {
  const m = report.machine
  const date = report.startedAt.slice(0, 10)
  const lines: string[] = []
  lines.push(`Run of ${date}, on ${m.cpu} (${m.cores} cores), ${(m.ramBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os};`)
  lines.push(
    `Node ${m.node}${m.python ? `, Python ${m.python}` : ''}. Load average at start: ${m.loadAverage.toFixed(2)}.`,
  )
  const s = report.settings
  const anyFallback = report.datasets.some((d) => d.systems.some((x) => x.metrics.fallback.length > 0))
  lines.push(
    `Seed ${s.seed}; ${s.repeat === 1 ? 'one run per system' : `medians of ${s.repeat} runs per system`}; ` +
      `${s.warmup} warm-up predictions before the timed pass.` +
      (anyFallback
        ? ' Fallback thresholds (the "+ fallback" rows) are chosen on valid.jsonl and applied unchanged to ' +
          `test.jsonl: ${s.thresholdRules.map(describeRule).join('; ')}.`
        : ''),
  )
  lines.push('')
  for (const d of report.datasets) {
    const split = `train ${count(d.sizes.train)}${d.sizes.valid === null ? '' : ` / valid ${count(d.sizes.valid)}`} / test ${count(d.sizes.test)}`
    lines.push(`#### ${d.name} (${split}${d.oosLabel ? `; out-of-scope label \`${d.oosLabel}\`` : ''})`)
    lines.push('')
    const oos = d.oosLabel !== null
    lines.push(
      `| System | Accuracy | Macro-F1 |${oos ? ' In-scope acc. | OOS recall |' : ''} Train | p50 | p99 | Model file | Peak RSS |`,
    )
    lines.push(`|---|---:|---:|${oos ? '---:|---:|' : ''}---:|---:|---:|---:|---:|`)
    for (const sys of d.systems) {
      const x = sys.metrics
      const scope = (i: { inScopeAccuracy: number | null; oosRecall: number | null }) =>
        oos ? ` ${pct(i.inScopeAccuracy)} | ${pct(i.oosRecall)} |` : ''
      lines.push(
        `| ${sys.label} | ${pct(x.intent.accuracy)} | ${pct(x.intent.macroF1)} |${scope(x.intent)} ` +
          `${seconds(x.trainMs)} | ${millis(x.latencyMs.p50)} | ${millis(x.latencyMs.p99)} | ` +
          `${megabytes(x.modelBytes)} | ${megabytes(x.peakRssBytes)} |`,
      )
      for (const t of x.fallback) {
        lines.push(
          `| ${sys.label} + fallback, ${ruleLabel(t.rule)} (t = ${t.threshold.toFixed(3)}) | ` +
            `${pct(t.accuracy)} | ${pct(t.macroF1)} |${scope(t)} ″ | ″ | ″ | ″ | ″ |`,
        )
      }
    }
    const failed = report.failures.filter((f) => f.dataset === d.name)
    for (const f of failed) lines.push(`| ${f.system} | failed: ${f.code} | | | | | | |${oos ? ' | |' : ''}`)
    lines.push('')
    for (const sys of d.systems) {
      const config = sys.settings.config
      if (typeof config === 'string' && config !== 'defaults') {
        lines.push(`${sys.label} ran with \`${config}\` (its params and how they were chosen are in that file).`, '')
      }
    }
    const withEntities = d.systems.filter((x) => x.metrics.entities !== null)
    const without = d.systems.filter((x) => x.metrics.entities === null)
    if (d.hasEntities && without.length) {
      lines.push(`${without.map((x) => x.label).join(', ')}: no entity extraction.`)
      lines.push('')
    }
    if (d.hasEntities && withEntities.length) {
      lines.push(`Entities on ${d.name}, exact span and type:`)
      lines.push('')
      lines.push('| System | Entity | Precision | Recall | F1 | Support |')
      lines.push('|---|---|---:|---:|---:|---:|')
      for (const sys of withEntities) {
        const e = sys.metrics.entities!
        for (const [name, r] of [...Object.entries(e.perEntity), ['all (micro)', e.micro] as const]) {
          lines.push(
            `| ${sys.label} | ${name} | ${pct(r.precision)} | ${pct(r.recall)} | ${pct(r.f1)} | ${count(r.support)} |`,
          )
        }
      }
      lines.push('')
    }
  }
  const versions = new Set<string>()
  for (const d of report.datasets) for (const sys of d.systems) versions.add(sys.version)
  if (versions.size) lines.push(`Versions: ${[...versions].join('; ')}.`)
  const orphan = report.failures.filter((f) => !report.datasets.some((d) => d.name === f.dataset))
  for (const f of orphan) lines.push(`Failed: ${f.system} on ${f.dataset}: ${f.code}.`)
  return `${lines.join('\n').trimEnd()}\n`
}

export const README_START = '<!-- nlu-bench:results:start -->'
export const README_END = '<!-- nlu-bench:results:end -->'

/** Replace the text between the results markers of a README; null when the markers are missing. */
export function replaceBetweenMarkers(readme: string, content: string): string | null {
  const start = readme.indexOf(README_START)
  const end = readme.indexOf(README_END)
  if (start === -1 || end === -1 || end < start) return null
  return `${readme.slice(0, start + README_START.length)}\n${content}${readme.slice(end)}`
}
