/**
 * Reading run records: one run by id, and metrics over time across runs (`intentops metrics history`).
 * @module
 */
import type { TopLevelSpec } from 'vega-lite'
import { createError } from '../errors.js'
import { listRuns, type RunRecord } from './runner.js'

/** A run by id or unique prefix; the latest when `id` is undefined. */
export async function findRun(stateDir: string, id: string | undefined): Promise<RunRecord> {
  const runs = await listRuns(stateDir)
  const matches = id === undefined ? runs.slice(0, 1) : runs.filter((r) => r.id === id || r.id.startsWith(id))
  const exact = matches.find((r) => r.id === id)
  if (exact) return exact
  if (matches.length !== 1) {
    throw createError('ERR_RUN_NOT_FOUND', {
      id: id === undefined ? '(none yet)' : matches.length > 1 ? `${id} (ambiguous: ${matches.length} runs)` : id,
      dir: `${stateDir}/runs`,
    })
  }
  return matches[0]!
}

export interface MetricsPoint {
  run: string
  /** When the run finished. */
  at: string
  accuracy: number
  macroF1: number
  weightedF1: number
  /** `passed/total`, when the project has must-pass sentences. */
  mustPass: string | null
  /** Whether this run trained a model (false: the metrics came from the cache). */
  trained: boolean
  gate: string | null
  promoted: number | null
  testSet: string | null
}

/** Metrics of the last `limit` runs that got as far as the test stage, oldest first. */
export async function metricsHistory(stateDir: string, limit = 50): Promise<MetricsPoint[]> {
  const points: MetricsPoint[] = []
  for (const r of await listRuns(stateDir)) {
    const m = r.summary?.metrics as Record<string, number> | undefined
    if (!m) continue
    const promoted = r.summary?.promoted as { version: number } | undefined
    points.push({
      run: r.id,
      at: r.finishedAt,
      accuracy: m.accuracy!,
      macroF1: m.macroF1!,
      weightedF1: m.weightedF1!,
      mustPass: m.mustPassTotal !== undefined ? `${m.mustPassPassed}/${m.mustPassTotal}` : null,
      trained: r.summary?.trained === true,
      gate: (r.summary?.gate as string | undefined) ?? null,
      promoted: promoted?.version ?? null,
      testSet: (r.summary?.testSet as string | undefined) ?? null,
    })
    if (points.length >= limit) break
  }
  return points.reverse()
}

/** Accuracy and macro F1 per run over time; promoted runs are marked. */
export function metricsHistorySpec(points: readonly MetricsPoint[]): TopLevelSpec {
  const values = points.flatMap((p, i) => [
    { run: i + 1, id: p.run, at: p.at, metric: 'macro F1', value: p.macroF1, promoted: p.promoted !== null },
    { run: i + 1, id: p.run, at: p.at, metric: 'accuracy', value: p.accuracy, promoted: p.promoted !== null },
  ])
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Metrics across pipeline runs',
    data: { values },
    width: 480,
    height: 240,
    mark: { type: 'line', point: { filled: true, size: 50 } },
    encoding: {
      x: { field: 'run', type: 'quantitative', title: 'run', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: 'score', scale: { zero: false } },
      color: { field: 'metric', type: 'nominal', title: null },
      tooltip: [
        { field: 'id', type: 'nominal', title: 'run' },
        { field: 'at', type: 'temporal', title: 'finished' },
        { field: 'metric', type: 'nominal' },
        { field: 'value', type: 'quantitative', format: '.4f' },
        { field: 'promoted', type: 'nominal' },
      ],
    },
    config: {
      font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
      title: { fontSize: 14, anchor: 'start' },
    },
  } as TopLevelSpec
}
