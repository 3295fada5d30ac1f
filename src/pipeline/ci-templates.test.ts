import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { memoryIO } from '../cli/io.js'
import { buildProgram, runCli } from '../cli/program.js'
import { githubWorkflow, gitlabCi } from './ci-templates.js'

interface GhStep {
  name?: string
  uses?: string
  run?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
  if?: string
}
interface GhJob {
  if: string
  'runs-on': string
  steps: GhStep[]
}

/** Every `intentops ...` command line must name a real command with real options. */
async function checkCommand(line: string) {
  const program = await buildProgram(memoryIO(tmpdir()))
  const words = line.trim().split(/\s+/)
  expect(words[0]).toBe('intentops')
  let cmd: Command = program
  let i = 1
  for (; i < words.length && !words[i]!.startsWith('-'); i++) {
    const sub = cmd.commands.find((c) => c.name() === words[i])
    expect(sub, `${line}: no command ${words[i]}`).toBeDefined()
    cmd = sub!
  }
  for (; i < words.length; i++) {
    if (!words[i]!.startsWith('--')) continue
    expect(
      cmd.options.some((o) => o.long === words[i]),
      `${line}: ${words[i]} is not an option of ${cmd.name()}`,
    ).toBe(true)
  }
}

describe('GitHub Actions workflow', () => {
  const wf = parse(githubWorkflow({ version: '1.2.3' })) as {
    on: Record<string, unknown>
    permissions: Record<string, string>
    env: Record<string, string>
    jobs: Record<string, GhJob>
  }
  const commands = (job: GhJob) => job.steps.filter((s) => s.run?.startsWith('intentops')).map((s) => s.run!)

  it('runs on pull requests, pushes to main and a nightly schedule', () => {
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push', 'schedule', 'workflow_dispatch'])
    expect(wf.on.push).toEqual({ branches: ['main'] })
    const [schedule] = wf.on.schedule as Array<{ cron: string }>
    expect(schedule!.cron.split(' ')).toHaveLength(5)
    expect(wf.permissions).toMatchObject({ 'pull-requests': 'write', statuses: 'write' })
    expect(Object.keys(wf.env)).toEqual(
      expect.arrayContaining(['INTENTOPS_SIGNING_KEY', 'INTENTOPS_WEBHOOK_URL', 'INTENTOPS_ADMIN_TOKEN']),
    )
  })

  it('validates, trains, tests and reports on a PR without publishing; publishes and promotes on main', async () => {
    expect(Object.keys(wf.jobs)).toEqual(['pull-request', 'main', 'nightly'])
    const pr = wf.jobs['pull-request']!
    expect(pr.if).toContain("'pull_request'")
    expect(commands(pr)).toEqual([
      'intentops pipeline run --until validate',
      'intentops pipeline run --until train',
      'intentops pipeline run --until test',
      'intentops pipeline run --no-publish',
    ])
    expect(pr.steps.find((s) => s.run === 'intentops pipeline run --no-publish')!.env).toEqual({
      GITHUB_TOKEN: `$\{{ secrets.GITHUB_TOKEN }}`,
    })
    const main = wf.jobs.main!
    expect(main.if).toContain("'push'")
    expect(commands(main).at(-1)).toBe('intentops pipeline run')
    const nightly = wf.jobs.nightly!
    expect(nightly.if).toContain("'schedule'")
    expect(commands(nightly)).toEqual([`intentops retrain --git-branch intentops/reviews-$\{{ github.run_id }}`])
    expect(nightly.steps.at(-2)!.run).toBe('git push origin HEAD')
    for (const job of Object.values(wf.jobs)) for (const c of commands(job)) await checkCommand(c)
  })

  it('caches .intentops/ in every job, checks out full history and installs the pinned version', () => {
    for (const job of Object.values(wf.jobs)) {
      const cache = job.steps.find((s) => s.uses?.startsWith('actions/cache@'))!
      expect(cache.with!.path).toBe('.intentops/')
      expect(String(cache.with!.key)).toContain("hashFiles('intentops.yml', 'data/**', 'tests/**')")
      expect(job.steps.find((s) => s.uses?.startsWith('actions/checkout@'))!.with).toEqual({ 'fetch-depth': 0 })
      expect(job.steps.some((s) => s.run === 'npm install --global intentops@1.2.3')).toBe(true)
      expect(job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!.if).toBe('always()')
    }
  })
})

describe('GitLab CI pipeline', () => {
  const ci = parse(gitlabCi({ version: '1.2.3' })) as Record<string, unknown> & {
    stages: string[]
    default: { cache: { key: string; paths: string[] }; before_script: string[] }
  }
  type Job = { stage: string; script: string[]; rules?: Array<{ if: string }>; extends?: string }
  const job = (name: string) => ci[name] as Job
  const rules = (name: string) => (job(name).rules ?? (ci[job(name).extends!] as Job).rules)!.map((r) => r.if)

  it('declares the stages and caches .intentops/ per branch', () => {
    expect(ci.stages).toEqual(['validate', 'train', 'test', 'report', 'deploy', 'retrain'])
    expect(ci.default.cache).toEqual({ key: 'intentops-$CI_COMMIT_REF_SLUG', paths: ['.intentops/'] })
    expect(ci.default.before_script).toEqual(['npm install --global intentops@1.2.3'])
  })

  it('reports on merge requests, promotes on the default branch, retrains on a schedule', async () => {
    const mr = '$CI_PIPELINE_SOURCE == "merge_request_event"'
    const main = '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"'
    for (const name of ['validate', 'train', 'test']) expect(rules(name)).toEqual([mr, main])
    expect(rules('report')).toEqual([mr])
    expect(job('report').script).toEqual(['intentops pipeline run --no-publish'])
    expect(rules('promote')).toEqual([main])
    expect(job('promote').script).toEqual(['intentops pipeline run'])
    expect(rules('retrain')).toEqual(['$CI_PIPELINE_SOURCE == "schedule"'])
    expect(job('retrain').script.filter((c) => c.startsWith('intentops'))).toEqual([
      'intentops retrain --git-branch intentops/reviews-$CI_PIPELINE_ID',
    ])
    expect(job('retrain').script.at(-1)).toMatch(/^git push .* HEAD$/)
    for (const name of ['validate', 'train', 'test', 'report', 'promote', 'retrain']) {
      expect(ci.stages).toContain(job(name).stage)
      for (const c of job(name).script.filter((x) => x.startsWith('intentops'))) await checkCommand(c)
    }
  })
})

describe('intentops init --ci', () => {
  it('scaffolds a project with the workflow, then refuses to overwrite it without --force', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-ci-'))
    const io = memoryIO(dir)
    expect(await runCli(['init', '.', '--ci', 'github'], io)).toBe(0)
    expect(io.out()).toContain('created .github/workflows/intentops.yml')
    expect(existsSync(path.join(dir, 'intentops.yml'))).toBe(true)
    expect(parse(readFileSync(path.join(dir, '.github/workflows/intentops.yml'), 'utf8')).jobs.main).toBeDefined()

    const again = memoryIO(dir)
    expect(await runCli(['init', '--ci', 'github'], again)).toBe(1)
    expect(again.err()).toContain('ERR_CI_TEMPLATE_EXISTS')
    const gitlab = memoryIO(dir)
    expect(await runCli(['init', '--ci', 'gitlab'], gitlab)).toBe(0)
    expect(gitlab.out()).toContain('created .gitlab-ci.yml')
    const bad = memoryIO(dir)
    expect(await runCli(['init', '--ci', 'jenkins'], bad)).toBe(2)
    expect(bad.err()).toContain('--ci must be github or gitlab')
  })
})
