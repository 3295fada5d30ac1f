/**
 * `intentops ...args` in a process of its own, as from cron or CI: no terminal, and stdin a pipe nobody writes to
 * (a prompt would wait for ever). tsx runs as a loader of that process, not as a wrapper process around it. `env` is
 * added to this process's environment: a variable Node reads only as it starts, such as `TZ`, takes effect there.
 */
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SETPRIV, setprivArgs, tsNode } from './as-user.js'

const repo = path.resolve(import.meta.dirname, '../..')

export interface SpawnCliOptions {
  /** The process's umask, set by a shell that then becomes the CLI (`exec`), as a login shell's `umask 022` would. */
  umask?: number
  /** Variables added to the environment. */
  env?: Record<string, string>
  /**
   * Run as this user id, with the group of the same id and no other groups (`setpriv`, Linux, from root): a writer
   * that may not give files away.
   */
  uid?: number
}

export function spawnCli(
  cwd: string,
  args: readonly string[],
  options: SpawnCliOptions = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const [command, argv] = commandLine(args, options)
    const child = spawn(command, argv, {
      cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.once('close', (code) => resolve({ code, out, err }))
  })
}

/**
 * The same with stdout and stderr on one file, as `intentops … >log 2>&1` or a terminal shows them: `both` holds
 * what the two said in the order they said it.
 */
export async function spawnCliMerged(
  cwd: string,
  args: readonly string[],
  options: SpawnCliOptions = {},
): Promise<{ code: number | null; both: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'io-cli-out-'))
  const file = path.join(dir, 'out')
  const fd = openSync(file, 'w')
  try {
    const [command, argv] = commandLine(args, options)
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(command, argv, { cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', fd, fd] })
      child.once('close', resolve)
    })
    return { code, both: readFileSync(file, 'utf8') }
  } finally {
    closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
  }
}

function commandLine(args: readonly string[], options: SpawnCliOptions): [string, string[]] {
  const node = tsNode(path.join(repo, 'src/cli/main.ts'), ...args)
  const as = options.uid === undefined ? node : [SETPRIV, ...setprivArgs({ uid: options.uid }), ...node]
  if (options.umask === undefined) return [as[0]!, as.slice(1)]
  return ['/bin/sh', ['-c', `umask ${options.umask.toString(8).padStart(3, '0')} && exec "$@"`, 'sh', ...as]]
}
