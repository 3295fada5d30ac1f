/**
 * Resolution of overlapping entities found by several extractors (or several patterns of one), so that regex,
 * lookup and crf steps can share a pipeline and a span of text carries at most one entity.
 * @module
 */
import type { EntityPrediction } from '../types.js'

/** An entity with the rank of the extractor that found it: lower ranks win ties. */
export interface RankedEntity {
  entity: EntityPrediction
  /** Extractor priority: the step's position in the pipeline, first wins. */
  priority: number
}

/**
 * Keep non-overlapping entities, chosen greedily and deterministically: the longer span first, then the extractor
 * of lower `priority`, then the higher confidence, then the earlier start, then the entity type, role and group by
 * code-unit order. A kept entity without a role or group takes them from a dropped entity of the same span and type
 * (a lookup table names the city, the crf knows it is the destination). Entities of different fields never overlap.
 * Returns the kept entities sorted by field, start and end; the inputs are not mutated.
 */
export function mergeEntities(found: readonly RankedEntity[]): EntityPrediction[] {
  // Most messages have no entity or one: nothing to resolve.
  if (found.length === 0) return []
  if (found.length === 1) return [{ ...found[0]!.entity }]
  const order = [...found].sort(compareCandidates)
  const kept: EntityPrediction[] = []
  for (const { entity: e } of order) {
    const clash = findClash(kept, e)
    if (clash === -1) {
      kept.push({ ...e })
      continue
    }
    const k = kept[clash]!
    if (k.start === e.start && k.end === e.end && k.entity === e.entity) {
      if (k.role === undefined && e.role !== undefined) k.role = e.role
      if (k.group === undefined && e.group !== undefined) k.group = e.group
    }
  }
  return kept.sort(byPosition)
}

/** The index of a kept entity that overlaps `e` in the same field, or -1. */
function findClash(kept: readonly EntityPrediction[], e: EntityPrediction): number {
  const field = e.field ?? ''
  for (let i = 0; i < kept.length; i++) {
    const k = kept[i]!
    if ((k.field ?? '') === field && e.start < k.end && k.start < e.end) return i
  }
  return -1
}

function byPosition(a: EntityPrediction, b: EntityPrediction): number {
  return codeUnitOrder(a.field ?? '', b.field ?? '') || a.start - b.start || a.end - b.end
}

function compareCandidates(x: RankedEntity, y: RankedEntity): number {
  const a = x.entity
  const b = y.entity
  return (
    b.end - b.start - (a.end - a.start) ||
    x.priority - y.priority ||
    b.confidence_entity - a.confidence_entity ||
    a.start - b.start ||
    codeUnitOrder(a.entity, b.entity) ||
    codeUnitOrder(a.role ?? '', b.role ?? '') ||
    codeUnitOrder(a.group ?? '', b.group ?? '') ||
    codeUnitOrder(a.field ?? '', b.field ?? '')
  )
}

function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
