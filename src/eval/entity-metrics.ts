/**
 * Entity metrics per entity type: exact-span matching (a prediction counts only with the same field, start, end
 * and type) and token-level matching (each token labelled with the type of the span covering it), the two views
 * Rasa and CoNLL-style evaluations report.
 * @module
 */
import { tokenize } from '../nlu/tokenizer.js'
import { type ClassificationReport, type ClassMetrics, classificationReport, type ZeroDivision } from './metrics.js'

/** The parts of a gold or predicted entity the metrics compare. */
export interface EntitySpan {
  start: number
  end: number
  entity: string
  value: string
  field?: string
}

export interface EntityExample {
  text: string
  fields?: Record<string, string>
  gold: readonly EntitySpan[]
  predicted: readonly EntitySpan[]
}

export interface EntityScores {
  perEntity: Record<string, ClassMetrics>
  micro: ClassMetrics
  macro: ClassMetrics
  weighted: ClassMetrics
}

/** Entity scores per type, exact-span and token-level. */
export interface EntityReport {
  /** Entity types seen in gold or predictions, sorted. */
  entities: string[]
  exact: EntityScores & {
    /** Of the exactly matched spans, the share whose canonical value matched too (synonym mapping). */
    valueAccuracy: number
  }
  token: EntityScores
  /** Gold spans and predicted spans counted. */
  goldSpans: number
  predictedSpans: number
}

function spanKey(e: EntitySpan): string {
  return `${e.field ?? ''}\u0000${e.start}\u0000${e.end}\u0000${e.entity}`
}

function prf(tp: number, pred: number, gold: number, zd: ZeroDivision): ClassMetrics {
  const precision = pred === 0 ? zd : tp / pred
  const recall = gold === 0 ? zd : tp / gold
  const den = precision + recall
  return { precision, recall, f1: den === 0 ? 0 : (2 * precision * recall) / den, support: gold }
}

function averages(
  per: Record<string, ClassMetrics>,
  zd: ZeroDivision,
): { macro: ClassMetrics; weighted: ClassMetrics } {
  const rows = Object.values(per)
  const support = rows.reduce((s, r) => s + r.support, 0)
  const mean = (f: (r: ClassMetrics) => number) =>
    rows.length === 0 ? zd : rows.reduce((s, r) => s + f(r), 0) / rows.length
  const wmean = (f: (r: ClassMetrics) => number) =>
    support === 0 ? zd : rows.reduce((s, r) => s + f(r) * r.support, 0) / support
  return {
    macro: { precision: mean((r) => r.precision), recall: mean((r) => r.recall), f1: mean((r) => r.f1), support },
    weighted: {
      precision: wmean((r) => r.precision),
      recall: wmean((r) => r.recall),
      f1: wmean((r) => r.f1),
      support,
    },
  }
}

/** Exact-span and token-level entity metrics over a set of examples. */
export function entityMetrics(examples: readonly EntityExample[], zeroDivision: ZeroDivision = 0): EntityReport {
  const types = new Set<string>()
  const tp = new Map<string, number>()
  const goldN = new Map<string, number>()
  const predN = new Map<string, number>()
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)
  let matched = 0
  let valueMatched = 0
  let goldSpans = 0
  let predictedSpans = 0
  const tokenGold: string[] = []
  const tokenPred: string[] = []

  for (const ex of examples) {
    const goldByKey = new Map<string, EntitySpan[]>()
    for (const g of ex.gold) {
      types.add(g.entity)
      inc(goldN, g.entity)
      goldSpans++
      const list = goldByKey.get(spanKey(g))
      if (list) list.push(g)
      else goldByKey.set(spanKey(g), [g])
    }
    for (const p of ex.predicted) {
      types.add(p.entity)
      inc(predN, p.entity)
      predictedSpans++
      const hit = goldByKey.get(spanKey(p))?.pop()
      if (hit) {
        inc(tp, p.entity)
        matched++
        if (hit.value === p.value) valueMatched++
      }
    }
    tokenLabels(ex, tokenGold, tokenPred)
  }

  const entities = [...types].sort()
  const per: Record<string, ClassMetrics> = {}
  let tpAll = 0
  let predAll = 0
  for (const t of entities) {
    per[t] = prf(tp.get(t) ?? 0, predN.get(t) ?? 0, goldN.get(t) ?? 0, zeroDivision)
    tpAll += tp.get(t) ?? 0
    predAll += predN.get(t) ?? 0
  }
  const exactAvg = averages(per, zeroDivision)
  const token = tokenScores(tokenGold, tokenPred, entities, zeroDivision)
  return {
    entities,
    exact: {
      perEntity: per,
      micro: prf(tpAll, predAll, goldSpans, zeroDivision),
      macro: exactAvg.macro,
      weighted: exactAvg.weighted,
      valueAccuracy: matched === 0 ? zeroDivision : valueMatched / matched,
    },
    token,
    goldSpans,
    predictedSpans,
  }
}

const OUTSIDE = 'O'

/** Label every token of every field with the type of the span covering it, or `O`. */
function tokenLabels(ex: EntityExample, gold: string[], pred: string[]): void {
  const parts: Array<[string | undefined, string]> = ex.fields ? Object.entries(ex.fields) : []
  // spans without a field point into the joined text
  if (!ex.fields || ex.gold.some((e) => e.field === undefined) || ex.predicted.some((e) => e.field === undefined)) {
    parts.push([undefined, ex.text])
  }
  for (const [field, text] of parts) {
    const tokens = tokenize(text)
    const inField = (e: EntitySpan) => e.field === field
    const g = ex.gold.filter(inField)
    const p = ex.predicted.filter(inField)
    for (const tok of tokens) {
      gold.push(coveringType(g, tok.start, tok.end))
      pred.push(coveringType(p, tok.start, tok.end))
    }
  }
}

function coveringType(spans: readonly EntitySpan[], start: number, end: number): string {
  for (const s of spans) if (s.start < end && start < s.end) return s.entity
  return OUTSIDE
}

function tokenScores(gold: string[], pred: string[], entities: string[], zd: ZeroDivision): EntityScores {
  const report: ClassificationReport = classificationReport(gold, pred, { labels: entities, zeroDivision: zd })
  return {
    perEntity: report.perLabel,
    micro: report.microAvg,
    macro: report.macroAvg,
    weighted: report.weightedAvg,
  }
}
