/**
 * The audit trail of a model, read back: publishes (from the immutable version records), alias moves (from the
 * hash-chained alias histories) and gate decisions and garbage collection (from the create-only event log), merged
 * in time order. Also answers "what was in production on date D".
 * @module
 */
import { createError } from '../errors.js'
import { badTimeDetail, parseTimeInput } from '../util/time.js'
import { failedRules } from './gate.js'
import type { AliasMove } from './layout.js'
import type { ModelRegistry } from './registry.js'

/** One entry of the audit trail, by kind. */
export type AuditEntry =
  | { kind: 'publish'; at: string; actor: string; name: string; version: number; digest: string; signed: boolean }
  | {
      kind: 'promote' | 'rollback'
      at: string
      actor: string
      name: string
      alias: string
      from: number | null
      to: number
      reason: string | null
      forced: boolean
      gatePassed: boolean | null
    }
  | {
      kind: 'gate'
      at: string
      actor: string
      name: string
      alias: string
      version: number
      passed: boolean
      forced: boolean
      reason: string | null
      failed: string[]
      seq: number
    }
  | { kind: 'gc'; at: string; actor: string; name: string; deleted: number[]; seq: number }

const RANK: Record<AuditEntry['kind'], number> = { publish: 0, gate: 1, promote: 2, rollback: 2, gc: 3 }

/**
 * Every publish, gate decision, alias move, rollback and gc run of a model, oldest first. Entries that cannot be
 * read are returned in `problems` and never hide the others.
 * @param options.alias only moves and gate decisions of this alias (publishes and gc runs are kept)
 */
export async function auditLog(
  registry: ModelRegistry,
  name: string,
  options: { alias?: string } = {},
): Promise<{ entries: AuditEntry[]; problems: Error[] }> {
  const entries: AuditEntry[] = []
  const problems: Error[] = []
  const versions = await registry.versionNumbers(name)
  const aliasList = await registry.listAliases(name)
  if (versions.length === 0 && aliasList.aliases.length === 0 && aliasList.problems.length === 0) {
    throw createError('ERR_REGISTRY_MODEL_NOT_FOUND', { name, location: registry.location })
  }
  problems.push(...aliasList.problems.map((d) => d.error))
  for (const version of versions) {
    try {
      const { record, signatures } = await registry.readVersion(name, version)
      entries.push({
        kind: 'publish',
        at: record.createdAt,
        actor: record.author,
        name,
        version,
        digest: record.blob.digest,
        signed: signatures.length > 0,
      })
    } catch (err) {
      problems.push(err as Error)
    }
  }
  for (const state of aliasList.aliases) {
    if (options.alias && state.alias !== options.alias) continue
    for (const move of state.history) {
      entries.push({
        kind: move.action,
        at: move.at,
        actor: move.actor,
        name,
        alias: state.alias,
        from: move.from,
        to: move.to,
        reason: move.reason,
        forced: move.forced,
        gatePassed: move.gatePassed,
      })
    }
  }
  const { events, problems: eventProblems } = await registry.readEvents(name)
  problems.push(...eventProblems)
  for (const ev of events) {
    if (ev.kind === 'gate' && ev.gate && ev.alias && ev.version !== undefined) {
      if (options.alias && ev.alias !== options.alias) continue
      entries.push({
        kind: 'gate',
        at: ev.at,
        actor: ev.actor,
        name,
        alias: ev.alias,
        version: ev.version,
        passed: ev.gate.passed,
        forced: ev.forced ?? false,
        reason: ev.reason ?? null,
        failed: failedRules(ev.gate),
        seq: ev.seq,
      })
    } else if (ev.kind === 'gc') {
      entries.push({ kind: 'gc', at: ev.at, actor: ev.actor, name, deleted: ev.deleted ?? [], seq: ev.seq })
    }
  }
  // A stable sort keeps each source's own order for equal times (a gate decision and its move share one time).
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || RANK[a.kind] - RANK[b.kind])
  return { entries, problems }
}

/** One stretch of time during which a version held an alias. */
export interface HolderInterval {
  version: number
  /** When it started holding (the move's time). */
  from: string
  /** When the next move replaced it; null while it still holds. */
  until: string | null
  /** The move that made it the holder. */
  move: AliasMove
}

/** The holders of an alias over time, in move order. */
export function aliasTimeline(history: readonly AliasMove[]): HolderInterval[] {
  return history.map((move, i) => ({
    version: move.to,
    from: move.at,
    until: history[i + 1]?.at ?? null,
    move,
  }))
}

/** A point in time, or a whole UTC day when the input is a date without a time. */
export interface TimeQuery {
  start: Date
  /** Exclusive end; equal to `start` for an instant. */
  end: Date
  day: boolean
}

/**
 * Parse `--at`: `2024-05-01` means that whole day (UTC); `2024-05-01T14:30` (UTC), `2024-05-01T14:30+02:00`, epoch
 * ms and an age (`3d`: that long before `now`) an instant.
 */
export function parseTimeQuery(text: string, now = Date.now()): TimeQuery {
  const t = parseTimeInput(text, now)
  if (!t.ok) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `${badTimeDetail('--at', text, t.problem)}; a date means that whole UTC day`,
    })
  }
  const start = new Date(t.ms)
  return t.day ? { start, end: new Date(t.ms + 86_400_000), day: true } : { start, end: start, day: false }
}

/**
 * The holders of an alias during a time query: for an instant, the one holder then (or none); for a day, every
 * version that held the alias at any moment of it.
 */
export function holdersDuring(history: readonly AliasMove[], query: TimeQuery): HolderInterval[] {
  const start = query.start.getTime()
  const end = query.end.getTime()
  return aliasTimeline(history).filter((h) => {
    const from = Date.parse(h.from)
    const until = h.until === null ? Number.POSITIVE_INFINITY : Date.parse(h.until)
    return query.day ? from < end && until > start : from <= start && until > start
  })
}
