import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** Git settings that name a test author and read no user or system config. */
export const gitIdentity = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
} as const

/** This process's environment with {@link gitIdentity}. */
export const gitEnv: NodeJS.ProcessEnv = { ...process.env, ...gitIdentity }

/** A throwaway git repository with helpers to write files and commit them. */
export function gitRepo(prefix = 'io-git-') {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  const env = gitEnv
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' })
  git('init', '-q', '-b', 'main')
  return {
    dir,
    git,
    write(file: string, content: string) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
      writeFileSync(path.join(dir, file), content)
    },
    commit(message: string) {
      git('add', '-A')
      git('commit', '-q', '-m', message)
    },
  }
}
