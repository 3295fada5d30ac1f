/**
 * CPU time of a process or one of its threads, from Linux's /proc, for benchmarks that split a server's CPU by
 * thread (the event loop, the log writer, GC helpers).
 * @module
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** µs per clock tick, the unit of utime and stime in /proc/.../stat. */
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100)

/** User + system CPU so far, µs, of process `pid` (every thread), or of its thread `tid` alone. */
export function cpuUs(pid: number | 'self', tid?: number | string): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) * TICK_US
}
