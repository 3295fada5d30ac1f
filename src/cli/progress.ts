/**
 * Progress for anything that takes over a second: a bar on a terminal, a line every few seconds otherwise (CI logs).
 * @module
 */
import cliProgress from 'cli-progress'
import type { CliIO } from './io.js'

export interface Progress {
  update(done: number, total?: number, note?: string): void
  stop(): void
}

/**
 * Progress of a store migration's data backfill (the rollups of migration 0005), shown only when there is enough to
 * wait for: a large log takes seconds to a minute, a small one finishes before a bar would draw.
 */
export function migrationProgress(io: CliIO): (p: { done: number; total: number }) => void {
  let bar: Progress | undefined
  return ({ done, total }) => {
    if (total < 100_000) return
    bar ??= createProgress(io, 'backfilling analytics rollups (rows)', total)
    bar.update(done, total)
    if (done >= total) bar.stop()
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
