/**
 * Where a publish comes from: the project's git commit and dirty flag, the author from git config, and the
 * toolkit, Node and OS versions of the publishing machine.
 * @module
 */
import { execFile } from 'node:child_process'
import os from 'node:os'
import { VERSION } from '../version.js'
import type { GitInfo } from './layout.js'

function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      resolve(err ? undefined : stdout.trim())
    })
  })
}

/**
 * The commit checked out in `dir` and whether the work tree has uncommitted changes; null outside a git work tree
 * or without git.
 */
export async function gitInfo(dir: string): Promise<GitInfo | null> {
  const commit = await git(dir, ['rev-parse', '--verify', 'HEAD'])
  if (!commit) return null
  const [status, branch] = await Promise.all([
    git(dir, ['status', '--porcelain', '--untracked-files=normal']),
    git(dir, ['symbolic-ref', '--short', '-q', 'HEAD']),
  ])
  return { commit, dirty: status === undefined ? true : status.length > 0, ...(branch ? { branch } : {}) }
}

/**
 * Who is acting: `explicit` when given, else `INTENTOPS_AUTHOR`, else git's `user.name <user.email>`, else the OS
 * user name.
 */
export async function resolveActor(
  dir: string,
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<string> {
  if (explicit?.trim()) return explicit.trim()
  if (env.INTENTOPS_AUTHOR?.trim()) return env.INTENTOPS_AUTHOR.trim()
  const [name, email] = await Promise.all([git(dir, ['config', 'user.name']), git(dir, ['config', 'user.email'])])
  if (name && email) return `${name} <${email}>`
  if (name || email) return (name || email)!
  try {
    return os.userInfo().username
  } catch {
    return 'unknown'
  }
}

/** The toolkit, Node and OS versions of this process. */
export function publisherInfo(): { toolkitVersion: string; nodeVersion: string; os: string } {
  return { toolkitVersion: VERSION, nodeVersion: process.version, os: `${os.platform()} ${os.release()} ${os.arch()}` }
}
