/**
 * TypeScript run as another user through Debian's setpriv: how a test sees what an unprivileged writer meets (a
 * file it may not give away, a priority it may not raise). The child gets only PATH and a HOME of its working
 * directory, so nothing of root's environment leaks into what it does.
 * @module
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)
const repo = path.resolve(import.meta.dirname, '../..')
const TSX_LOADER = path.join(repo, 'node_modules/tsx/dist/loader.mjs')

export const SETPRIV = '/usr/bin/setpriv'
/** nobody's uid and gid on Debian. */
export const NOBODY = 65534

export interface AsUserOptions {
  /** The working directory, and the child's HOME. */
  cwd: string
  /** Its uid and gid; nobody by default. */
  uid?: number
  /** Groups it is a member of besides its own; none by default. */
  groups?: readonly number[]
  /** It may give files away (CAP_CHOWN) and no more. */
  chown?: boolean
}

/** setpriv's arguments before the command: the user, its groups and its one capability. */
export function setprivArgs(options: Omit<AsUserOptions, 'cwd'> = {}): string[] {
  const id = options.uid ?? NOBODY
  return [
    `--reuid=${id}`,
    `--regid=${id}`,
    options.groups ? `--groups=${options.groups.join(',')}` : '--clear-groups',
    ...(options.chown ? ['--inh-caps=+chown', '--ambient-caps=+chown'] : []),
  ]
}

/** A node command line that runs TypeScript (tsx's loader), then `args`. */
export function tsNode(...args: string[]): string[] {
  return [process.execPath, '--import', TSX_LOADER, ...args]
}

/**
 * Run the ES module `script` (TypeScript; absolute imports) as the user, with `args` as `process.argv.slice(1)`.
 * Resolves with what it printed; rejects, with its stderr, when it exits non-zero.
 */
export function runScriptAs(
  script: string,
  args: readonly string[],
  options: AsUserOptions,
): Promise<{ stdout: string; stderr: string }> {
  return runAs(tsNode('--input-type=module', '-e', script, ...args), options)
}

/** Run the TypeScript file `file` as the user, with `args`; as `runScriptAs`. */
export function runFileAs(
  file: string,
  args: readonly string[],
  options: AsUserOptions,
): Promise<{ stdout: string; stderr: string }> {
  return runAs(tsNode(file, ...args), options)
}

async function runAs(command: string[], options: AsUserOptions): Promise<{ stdout: string; stderr: string }> {
  const { cwd } = options
  return execFileP(SETPRIV, [...setprivArgs(options), ...command], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd },
  })
}
