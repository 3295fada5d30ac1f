/**
 * Progress for anything that takes over a second: a bar on a terminal, a line every few seconds otherwise (CI logs).
 * @module
 */
import cliProgress from 'cli-progress'
import type { MigrationProgress } from '../store/schema.js'
import type { CliIO } from './io.js'

export interface Progress {
  update(done: number, total?: number, note?: string): void
  stop(): void
}

/**
 * Progress of a store migration on a large log, shown only when there is enough to wait for: the rollup backfill of
 * migration 0005 (rows; a small log finishes before a bar would draw) and the steps of one that rebuilds indexes,
 * which reports only on a large log. One bar per task.
 */
export function migrationProgress(io: CliIO): (p: MigrationProgress) => void {
  let bar: Progress | undefined
  let current: string | undefined
  return ({ done, total, task, note }) => {
    if (task === undefined && total < 100_000) return
    const label = task ?? 'backfilling analytics rollups (rows)'
    if (label !== current) {
      bar?.stop()
      bar = createProgress(io, label, total)
      current = label
    }
    bar!.update(done, total, note)
    if (done >= total) {
      bar!.stop()
      bar = undefined
      current = undefined
    }
  }
}

export function createProgress(io: CliIO, label: string, total: number): Progress {
  if (io.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_buffer}{note}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total, 0, { note: '', eta_buffer: '' })
    return {
      update(done, t, note) {
        if (t !== undefined) bar.setTotal(t)
        bar.update(done, { note: note ? ` ${note}` : '' })
      },
      stop() {
        bar.stop()
      },
    }
  }
  let last = 0
  let lastTotal = total
  return {
    update(done, t, note) {
      if (t !== undefined) lastTotal = t
      const now = Date.now()
      if (now - last < 2000 && done < lastTotal) return
      last = now
      io.stderr(`${label}: ${done}/${lastTotal}${note ? ` ${note}` : ''}\n`)
    },
    stop() {},
  }
}
