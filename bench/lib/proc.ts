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

/** The CPUs process `pid` may run on, as taskset lists them ("0,1" or "0-3"), or undefined without taskset. */
export function cpuAffinity(pid: number): string | undefined {
  try {
    const out = execFileSync('taskset', ['-p', '-c', String(pid)], { encoding: 'utf8' })
    return /:\s*(\S+)\s*$/.exec(out)?.[1]
  } catch {
    return undefined
  }
}

/**
 * Restricts process `pid` to `cpus` (taskset syntax): every one of its threads, or with `mainThreadOnly` the thread
 * whose id is `pid` (its main thread; threads it starts later inherit the setting).
 */
export function setCpuAffinity(pid: number, cpus: string, options: { mainThreadOnly?: boolean } = {}): void {
  const all = options.mainThreadOnly ? [] : ['-a']
  execFileSync('taskset', [...all, '-p', '-c', cpus, String(pid)], { stdio: 'ignore' })
}

/** "0,2-3" → [0, 2, 3] */
export function cpuList(cpus: string): number[] {
  return cpus.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number)
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i)
  })
}
