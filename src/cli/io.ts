/**
 * What a command may touch of the outside world. Tests pass their own; only `main.ts` binds it to the process.
 * @module
 */
export interface CliIO {
  cwd: string
  env: Readonly<Record<string, string | undefined>>
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Whether stderr is a terminal: progress bars draw only then. */
  isTTY: boolean
  /** Lines typed by a person, for interactive commands (`intentops shell`). */
  stdin?: NodeJS.ReadableStream
  /**
   * Opt in to graceful interruption: returns a signal aborted by the first Ctrl-C (SIGINT), so a long command can
   * stop cleanly and keep what it finished; a second Ctrl-C ends the process. Commands that never call it keep the
   * default (Ctrl-C ends the process at once). Absent in tests unless they provide one.
   */
  interrupt?: () => AbortSignal
  /** Set by a command to end with this exit code instead of 0 (1 = errors found, 2 = usage). */
  exitCode?: number
}

/** An IO that collects output in memory, for tests. */
export function memoryIO(cwd: string, env: Record<string, string | undefined> = {}) {
  const out: string[] = []
  const err: string[] = []
  const io: CliIO & { out: () => string; err: () => string } = {
    cwd,
    env,
    isTTY: false,
    stdout: (t) => {
      out.push(t)
    },
    stderr: (t) => {
      err.push(t)
    },
    out: () => out.join(''),
    err: () => err.join(''),
  }
  return io
}
