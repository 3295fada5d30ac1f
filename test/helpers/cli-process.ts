/**
 * `intentops ...args` in a process of its own, as from cron or CI: no terminal, and stdin a pipe nobody writes to
 * (a prompt would wait for ever). tsx runs as a loader of that process, not as a wrapper process around it. `env` is
 * added to this process's environment: a variable Node reads only as it starts, such as `TZ`, takes effect there.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'

const repo = path.resolve(import.meta.dirname, '../..')

export function spawnCli(
  cwd: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', path.join(repo, 'node_modules/tsx/dist/loader.mjs'), path.join(repo, 'src/cli/main.ts'), ...args],
      { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    )
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
