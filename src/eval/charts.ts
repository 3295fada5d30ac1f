/**
 * Vega-Lite spec builders for evaluation charts. Each returns plain JSON with its data inline, so the same spec is
 * rendered to SVG on the server for reports and drawn by vega-embed in the browser UI. No rendering happens here.
 * @module
 */
import type { TopLevelSpec } from 'vega-lite'
import type { Calibration, ConfidenceHistogram } from './calibration.js'
import type { ClassMetrics, ConfusionMatrix, LearningCurve } from './types.js'

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
const COLOR_RIGHT = '#2f7ed8'
const COLOR_WRONG = '#d9534f'

/** Shared look of every chart (reports, analytics, the web UI): fonts, no heavy borders, readable axis labels. */
export const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' },
} as const

/** The intents most involved in confusions: the largest sum of off-diagonal counts in their row and column. */
export function mostConfusedLabels(confusion: ConfusionMatrix, limit: number): string[] {
  const k = confusion.labels.length
  const score = new Float64Array(k)
  for (let g = 0; g < k; g++) {
    for (let p = 0; p < k; p++) {
      if (g === p) continue
      const c = confusion.matrix[g]![p]!
      score[g]! += c
      score[p]! += c
    }
  }
  return confusion.labels
    .map((label, i) => ({ label, s: score[i]! }))
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s || (a.label < b.label ? -1 : 1))
    .slice(0, limit)
    .map((x) => x.label)
}

/**
 * Heatmap of the confusion matrix restricted to the most confused intents (default 20). Cells show counts; the
 * diagonal (right answers) is drawn in a separate neutral colour so the errors stand out.
 */
export function confusionHeatmapSpec(confusion: ConfusionMatrix, options: { maxIntents?: number } = {}): TopLevelSpec {
  const labels = mostConfusedLabels(confusion, options.maxIntents ?? 20)
  const pos = new Map(confusion.labels.map((l, i) => [l, i]))
  const values: Array<{ gold: string; predicted: string; count: number; error: boolean; errors: number | null }> = []
  for (const g of labels) {
    for (const p of labels) {
      const c = confusion.matrix[pos.get(g)!]![pos.get(p)!]!
      // `errors` drives the colour, so the diagonal's large counts do not wash the confusions out
      if (c > 0) values.push({ gold: g, predicted: p, count: c, error: g !== p, errors: g !== p ? c : null })
    }
  }
  const maxError = values.reduce((m, v) => (v.error && v.count > m ? v.count : m), 0)
  const size = Math.max(120, Math.min(640, labels.length * 24))
  return {
    $schema: SCHEMA,
    title: `Confusions among the ${labels.length} most confused intents`,
    data: { values },
    width: size,
    height: size,
    encoding: {
      x: {
        field: 'predicted',
        type: 'nominal',
        sort: labels,
        title: 'predicted',
        axis: { labelAngle: -45, grid: false },
      },
      y: { field: 'gold', type: 'nominal', sort: labels, title: 'gold', axis: { grid: false } },
    },
    layer: [
      {
        mark: { type: 'rect', invalid: null },
        encoding: {
          color: {
            field: 'errors',
            type: 'quantitative',
            scale: { scheme: 'reds', domainMin: 0 },
            title: 'confusions',
            condition: { test: '!datum.error', value: '#dfe8f3' },
          },
          tooltip: [
            { field: 'gold', type: 'nominal' },
            { field: 'predicted', type: 'nominal' },
            { field: 'count', type: 'quantitative' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 10, baseline: 'middle' },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: {
            condition: { test: `datum.error && datum.count > ${0.7 * maxError}`, value: 'white' },
            value: '#222',
          },
        },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec
}

/** Horizontal F1 bars per intent, worst first, with precision, recall and support in the tooltip. */
export function intentF1Spec(perLabel: Record<string, ClassMetrics>, options: { title?: string } = {}): TopLevelSpec {
  const values = Object.entries(perLabel)
    .map(([intent, m]) => ({ intent, f1: m.f1, precision: m.precision, recall: m.recall, support: m.support }))
    .sort((a, b) => a.f1 - b.f1 || (a.intent < b.intent ? -1 : 1))
  return {
    $schema: SCHEMA,
    title: options.title ?? 'F1 per intent (worst first)',
    data: { values },
    width: 420,
    height: { step: 14 },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'intent', type: 'nominal', sort: null, title: null, axis: { labelLimit: 260 } },
      x: { field: 'f1', type: 'quantitative', title: 'F1', scale: { domain: [0, 1] } },
      color: {
        field: 'f1',
        type: 'quantitative',
        scale: { domain: [0, 0.5, 1], range: [COLOR_WRONG, '#f0ad4e', '#5cb85c'] },
        legend: null,
      },
      tooltip: [
        { field: 'intent', type: 'nominal' },
        { field: 'f1', type: 'quantitative', format: '.3f' },
        { field: 'precision', type: 'quantitative', format: '.3f' },
        { field: 'recall', type: 'quantitative', format: '.3f' },
        { field: 'support', type: 'quantitative' },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec
}

/** Confidence histogram of the top intent, right and wrong answers side by side per bin. */
export function confidenceHistogramSpec(h: ConfidenceHistogram): TopLevelSpec {
  const values: Array<{ bin: string; lower: number; outcome: string; count: number }> = []
  for (let i = 0; i < h.correct.length; i++) {
    const bin = `${h.edges[i]!.toFixed(1)}–${h.edges[i + 1]!.toFixed(1)}`
    values.push({ bin, lower: h.edges[i]!, outcome: 'right', count: h.correct[i]! })
    values.push({ bin, lower: h.edges[i]!, outcome: 'wrong', count: h.wrong[i]! })
  }
  return {
    $schema: SCHEMA,
    title: 'Confidence of the top intent',
    data: { values },
    width: { step: 14 },
    height: 220,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'bin', type: 'ordinal', sort: null, title: 'confidence', axis: { labelAngle: -45 } },
      xOffset: { field: 'outcome', type: 'nominal', sort: ['right', 'wrong'] },
      y: { field: 'count', type: 'quantitative', title: 'messages' },
      color: {
        field: 'outcome',
        type: 'nominal',
        sort: ['right', 'wrong'],
        scale: { domain: ['right', 'wrong'], range: [COLOR_RIGHT, COLOR_WRONG] },
        title: null,
      },
      tooltip: [
        { field: 'bin', type: 'ordinal', title: 'confidence' },
        { field: 'outcome', type: 'nominal' },
        { field: 'count', type: 'quantitative' },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec
}

/** Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration. */
export function reliabilitySpec(c: Calibration): TopLevelSpec {
  const values = c.bins
    .filter((b) => b.count > 0)
    .map((b) => ({
      lower: b.lower,
      upper: b.upper,
      mid: (b.lower + b.upper) / 2,
      accuracy: b.accuracy,
      meanConfidence: b.meanConfidence,
      count: b.count,
    }))
  return {
    $schema: SCHEMA,
    title: `Reliability (ECE ${c.ece.toFixed(3)})`,
    width: 260,
    height: 260,
    layer: [
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: { domain: [0, 1] }, title: 'confidence' },
          y: { field: 'y', type: 'quantitative', scale: { domain: [0, 1] }, title: 'accuracy' },
        },
      },
      {
        data: { values },
        mark: { type: 'bar', color: COLOR_RIGHT, opacity: 0.75 },
        encoding: {
          x: { field: 'lower', type: 'quantitative' },
          x2: { field: 'upper' },
          y: { field: 'accuracy', type: 'quantitative' },
          y2: { datum: 0 },
          tooltip: [
            { field: 'lower', type: 'quantitative', title: 'from' },
            { field: 'upper', type: 'quantitative', title: 'to' },
            { field: 'accuracy', type: 'quantitative', format: '.3f' },
            { field: 'meanConfidence', type: 'quantitative', format: '.3f', title: 'mean confidence' },
            { field: 'count', type: 'quantitative' },
          ],
        },
      },
      {
        data: { values },
        mark: { type: 'point', color: '#222', filled: true, size: 30 },
        encoding: {
          x: { field: 'meanConfidence', type: 'quantitative' },
          y: { field: 'accuracy', type: 'quantitative' },
        },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec
}

/** Learning curve: F1 and accuracy against the number of training examples. */
export function learningCurveSpec(curve: LearningCurve): TopLevelSpec {
  const values = curve.points.flatMap((p) => [
    { examples: p.trainExamples, percent: p.percent, metric: 'macro F1', value: p.macroF1 },
    { examples: p.trainExamples, percent: p.percent, metric: 'weighted F1', value: p.weightedF1 },
    { examples: p.trainExamples, percent: p.percent, metric: 'accuracy', value: p.accuracy },
  ])
  return {
    $schema: SCHEMA,
    title: 'Learning curve',
    data: { values },
    width: 420,
    height: 240,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'examples', type: 'quantitative', title: 'training examples' },
      y: { field: 'value', type: 'quantitative', title: 'score', scale: { zero: false } },
      color: { field: 'metric', type: 'nominal', title: null },
      tooltip: [
        { field: 'percent', type: 'quantitative', title: '% of data' },
        { field: 'examples', type: 'quantitative' },
        { field: 'metric', type: 'nominal' },
        { field: 'value', type: 'quantitative', format: '.4f' },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec
}

/** Per-intent F1 change between two models, regressions in red; only intents whose F1 changed. */
export function intentDeltaSpec(
  rows: ReadonlyArray<{ intent: string; deltaF1: number; status: string }>,
): TopLevelSpec {
  const values = rows
    .filter((r) => r.deltaF1 !== 0)
    .map((r) => ({ ...r, direction: r.deltaF1 < 0 ? 'worse' : 'better' }))
  return {
    $schema: SCHEMA,
    title: 'F1 change per intent (B − A)',
    data: { values },
    width: 420,
    height: { step: 14 },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'intent', type: 'nominal', sort: { field: 'deltaF1', order: 'ascending' }, title: null },
      x: { field: 'deltaF1', type: 'quantitative', title: 'Δ F1' },
      color: {
        field: 'direction',
        type: 'nominal',
        scale: { domain: ['worse', 'better'], range: [COLOR_WRONG, '#5cb85c'] },
        title: null,
      },
      tooltip: [
        { field: 'intent', type: 'nominal' },
        { field: 'status', type: 'nominal' },
        { field: 'deltaF1', type: 'quantitative', format: '+.3f' },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec
}

export interface ReportCharts {
  confusion?: TopLevelSpec
  f1: TopLevelSpec
  confidence: TopLevelSpec
  reliability: TopLevelSpec
  learningCurve?: TopLevelSpec
}

/** Every chart of an evaluation report, keyed by name. The confusion heatmap is absent when nothing was confused. */
export function reportCharts(report: {
  intent: { confusion: ConfusionMatrix; perLabel: Record<string, ClassMetrics> }
  confidence: ConfidenceHistogram
  calibration: Calibration
  learningCurve?: LearningCurve
}): ReportCharts {
  const charts: ReportCharts = {
    f1: intentF1Spec(report.intent.perLabel),
    confidence: confidenceHistogramSpec(report.confidence),
    reliability: reliabilitySpec(report.calibration),
  }
  if (mostConfusedLabels(report.intent.confusion, 1).length > 0) {
    charts.confusion = confusionHeatmapSpec(report.intent.confusion)
  }
  if (report.learningCurve && report.learningCurve.points.length > 0) {
    charts.learningCurve = learningCurveSpec(report.learningCurve)
  }
  return charts
}
