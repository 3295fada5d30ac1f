/**
 * Data diagnostics printed for people, as `intentops data validate` prints them and `intentops train` repeats them
 * before it trains.
 * @module
 */

import type { Diagnostic } from '../data/diagnostics.js'
import { formatLocation } from '../errors.js'

/** Diagnostics of one code printed for people before the rest are summarised. */
export const MAX_PER_CODE = 50

interface Colors {
  red(s: string): string
  yellow(s: string): string
  dim(s: string): string
}

/**
 * Each diagnostic as `file:line:column: severity CODE: message` and its hint, the first MAX_PER_CODE of a code;
 * `everyOne` says where the rest are listed.
 */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  pc: Colors,
  everyOne = '--json lists every one',
): string {
  const out: string[] = []
  // A person reads the first few of each kind; the JSON report has them all.
  const shown = new Map<string, number>()
  for (const d of diagnostics) {
    const n = (shown.get(d.code) ?? 0) + 1
    shown.set(d.code, n)
    if (n > MAX_PER_CODE) continue
    const sev = d.severity === 'error' ? pc.red('error') : pc.yellow('warning')
    out.push(`${formatLocation(d.location)}: ${sev} ${pc.dim(d.code)}: ${d.message}\n`)
    if (d.hint) out.push(`  ${pc.dim(`hint: ${d.hint}`)}\n`)
  }
  for (const [code, n] of shown) {
    if (n > MAX_PER_CODE) out.push(`… and ${n - MAX_PER_CODE} more ${code} (${everyOne})\n`)
  }
  return out.join('')
}
