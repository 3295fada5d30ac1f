/**
 * Text rendering of registry results for the terminal. The `--json` forms print the library's objects as they are.
 * @module
 */

import type { VersionDiff } from '../registry/diff.js'
import type { GateResult } from '../registry/gate.js'
import type { AuditEntry, HolderInterval } from '../registry/history.js'
import type { AliasMove, VersionRecord } from '../registry/layout.js'
import type { VerifyReport } from '../registry/verify.js'

/** Left-aligned columns separated by two spaces. */
export function table(rows: string[][], indent = ''): string {
  const widths: number[] = []
  for (const r of rows) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length)
  }
  return rows
    .map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n')
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

export const num = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined ? '-' : x.toFixed(digits)
const signed = (x: number | null, digits = 3) => (x === null ? '' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`)
/** `2024-05-01 08:02:00Z` from an ISO time. */
export const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-')
const short = (digest: string | null | undefined, n = 19) =>
  digest ? (digest.length > n ? `${digest.slice(0, n)}…` : digest) : '-'

const duration = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`)
const nodeVersion = (v: string) => (/^\d/.test(v) ? `v${v}` : v)

/** The full lineage of a version, one labelled line each. */
export function renderLineage(
  record: VersionRecord,
  extra: { verified: string; aliases: string[]; moves: Array<{ alias: string; move: AliasMove }> },
): string {
  const r = record
  const t = r.training
  const lines: string[][] = [
    ['model file', `${r.blob.digest} (${bytes(r.blob.size)})`],
    ['verified', extra.verified],
    ['published', `${when(r.createdAt)} by ${r.author}`],
    [
      'git',
      r.git
        ? `${r.git.commit}${r.git.dirty ? ' (uncommitted changes)' : ''}${r.git.branch ? ` on ${r.git.branch}` : ''}`
        : 'not a git work tree',
    ],
    ['data', t.dataFingerprint ?? '-'],
    ['config', t.configFingerprint ?? '-'],
    [
      'trained',
      [
        t.trainedAt ? when(t.trainedAt) : null,
        t.trainingMs !== null ? `in ${duration(t.trainingMs)}` : null,
        t.toolkitVersion ? `on intentops ${t.toolkitVersion}` : null,
        t.nodeVersion ? `Node ${nodeVersion(t.nodeVersion)}` : null,
      ]
        .filter(Boolean)
        .join(', ') || '-',
    ],
  ]
  if (t.examples !== undefined || t.labels) {
    lines.push([
      'training set',
      [
        t.examples !== undefined ? `${t.examples} examples` : null,
        t.labels ? `${t.labels.length} intents` : null,
        t.language ? `language ${t.language}` : null,
      ]
        .filter(Boolean)
        .join(', '),
    ])
  }
  lines.push([
    'publisher',
    `intentops ${r.publisher.toolkitVersion}, Node ${nodeVersion(r.publisher.nodeVersion)}, ${r.publisher.os}`,
  ])
  const e = r.eval
  lines.push([
    'evaluation',
    e
      ? [
          `accuracy ${num(e.accuracy)}`,
          `macro-F1 ${num(e.macroF1)}`,
          `weighted-F1 ${num(e.weightedF1)}`,
          e.mustPass ? `must-pass ${e.mustPass.passed}/${e.mustPass.total}` : null,
          e.latencyP99Ms !== undefined ? `p99 ${num(e.latencyP99Ms, 2)} ms` : null,
          e.testSetFingerprint ? `(test set ${short(e.testSetFingerprint)})` : null,
        ]
          .filter(Boolean)
          .join('  ')
      : 'none (publish with --eval report.json)',
  ])
  const tagText = Object.entries(r.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
  if (tagText) lines.push(['tags', tagText])
  lines.push(['aliases', extra.aliases.length ? extra.aliases.join(', ') : '-'])
  const out = [`${r.name} v${r.version}`, table(lines, '  ')]
  if (extra.moves.length) {
    out.push('  history')
    for (const { alias, move } of extra.moves) out.push(`    ${describeMove(alias, move)}`)
  }
  return `${out.join('\n')}\n`
}

export function describeMove(alias: string, m: AliasMove): string {
  const gate =
    m.gatePassed === null ? '' : m.forced ? ', gate failed, forced' : m.gatePassed ? ', gate passed' : ', gate failed'
  const from = m.from === null ? 'unset' : `v${m.from}`
  return `${when(m.at)}  ${m.action} ${alias} ${from} → v${m.to} by ${m.actor}${gate}${m.reason ? `: ${m.reason}` : ''}`
}

export function renderGate(gate: GateResult): string {
  const rows = gate.rules.map((r) => [
    r.status === 'pass' ? 'pass' : r.status === 'fail' ? 'FAIL' : 'skip',
    r.rule,
    r.reason,
  ])
  return `${table(rows, '  ')}\n`
}

export function renderAudit(entries: AuditEntry[]): string {
  const rows = entries.map((e): string[] => {
    if (e.kind === 'publish') {
      return [when(e.at), 'publish', `v${e.version}`, e.actor, `${short(e.digest)}${e.signed ? '' : ' (unsigned)'}`]
    }
    if (e.kind === 'gate') {
      const outcome = e.passed ? 'passed' : `failed${e.forced ? ' (forced)' : ''}: ${e.failed.join('; ')}`
      return [when(e.at), 'gate', `v${e.version} → ${e.alias}`, e.actor, outcome]
    }
    if (e.kind === 'gc') return [when(e.at), 'gc', e.deleted.map((v) => `v${v}`).join(' '), e.actor, '']
    return [
      when(e.at),
      e.kind,
      `${e.alias} ${e.from === null ? 'unset' : `v${e.from}`} → v${e.to}`,
      e.actor,
      [e.forced ? 'forced' : null, e.reason].filter(Boolean).join(': '),
    ]
  })
  return rows.length ? `${table(rows)}\n` : 'no entries\n'
}

export function renderHolders(alias: string, at: string, holders: HolderInterval[]): string {
  if (holders.length === 0) return `${alias} pointed at no version at ${at}\n`
  const rows = holders.map((h) => [
    `v${h.version}`,
    `${when(h.from)} → ${h.until ? when(h.until) : 'now'}`,
    `${h.move.action} by ${h.move.actor}`,
  ])
  return `${alias} at ${at}:\n${table(rows, '  ')}\n`
}

export function renderDiff(d: VersionDiff): string {
  const out = [`${d.name} v${d.from} → v${d.to}`]
  if (d.sameTestSet === false)
    out.push('  note: the two evaluations used different test sets; metric deltas are not comparable')
  out.push('  lineage')
  out.push(
    d.lineage.length
      ? table(
          d.lineage.map((c) => [c.field, `${c.from ?? '-'}`, '→', `${c.to ?? '-'}`]),
          '    ',
        )
      : '    unchanged',
  )
  if (d.labels.added.length || d.labels.removed.length) {
    out.push(`  intents  added: ${d.labels.added.join(', ') || '-'}  removed: ${d.labels.removed.join(', ') || '-'}`)
  }
  if (d.tags.length)
    out.push(
      '  tags',
      table(
        d.tags.map((c) => [c.field, `${c.from ?? '-'}`, '→', `${c.to ?? '-'}`]),
        '    ',
      ),
    )
  out.push('  metrics')
  out.push(
    table(
      d.metrics.map((m) => [
        m.metric,
        num(m.from, m.metric === 'modelBytes' ? 0 : 3),
        '→',
        num(m.to, m.metric === 'modelBytes' ? 0 : 3),
        signed(m.delta, m.metric === 'modelBytes' ? 0 : 3),
      ]),
      '    ',
    ),
  )
  if (d.intents.length) {
    out.push('  per-intent F1 (largest drop first)')
    out.push(
      table(
        d.intents.map((m) => [m.metric, num(m.from), '→', num(m.to), signed(m.delta)]),
        '    ',
      ),
    )
  }
  return `${out.join('\n')}\n`
}

export function renderVerify(report: VerifyReport): string {
  const out: string[] = []
  for (const p of report.problems) out.push(`FAIL  registry  ${p.code}: ${p.message}`)
  for (const v of report.versions) {
    out.push(
      v.ok
        ? `ok    ${v.name} v${v.version}  ${v.signedBy ? `signed by ${v.signedBy}` : 'unsigned (allowed)'}`
        : `FAIL  ${v.name} v${v.version}  ${v.problems.map((p) => `${p.code}: ${p.message}`).join('; ')}`,
    )
  }
  for (const a of report.aliases) {
    if (a.ok) {
      out.push(`ok    ${a.name}/${a.alias} → v${a.version}`)
      continue
    }
    const to = a.version === null ? '' : ` → v${a.version}`
    out.push(`FAIL  ${a.name}/${a.alias}${to}  ${a.problems.map((p) => `${p.code}: ${p.message}`).join('; ')}`)
    for (const p of a.problems) if (p.hint) out.push(`      fix: ${p.hint}`)
  }
  const bad =
    report.versions.filter((v) => !v.ok).length + report.aliases.filter((a) => !a.ok).length + report.problems.length
  out.push(
    bad === 0
      ? `registry ${report.location}: all ${report.versions.length} versions verified`
      : `registry ${report.location}: ${bad} problem${bad === 1 ? '' : 's'}`,
  )
  return `${out.join('\n')}\n`
}
