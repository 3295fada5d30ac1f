/**
 * The pipeline end to end, through the CLI, in a real git repository with a real registry on disk and real HTTP
 * servers on loopback standing in for GitHub, GitLab, a webhook receiver and a model server.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import type { RunRecord } from '../src/pipeline/runner.js'
import { gitRepo } from './helpers/git-repo.js'
import { type RecordedRequest, startRecordingServer } from './helpers/recording-server.js'
import { generateExamples, nluYaml, sentenceKey } from './helpers/travel-data.js'

const servers: Array<{ close: () => Promise<void> }> = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

const CONFIG = `version: 1
name: travel
data: [data]
tests: [tests]
registry:
  allowUnsigned: true
gates:
  minMacroF1: 0.8
  minDelta: -0.05          # a candidate about as good as production may replace it
  maxIntentF1Drop: 0.3
  mustPass: true
notify:
  retries: 1
  webhooks:
    - url: \${HOOK_URL}/slack
      format: slack
stages:
  testData: [eval]
  deploy:
    - url: $DEPLOY_URL
      token: $DEPLOY_TOKEN
`

const MUST_PASS = `version: "1"
must_pass:
  - text: hello
    intent: greet
  - text: cancel my booking
    intent: cancel_booking
`

/** A stateful fake of the code hosts' comment endpoints that records every call. */
function codeHost() {
  const comments: { id: number; body: string }[] = []
  return (req: RecordedRequest) => {
    if (req.method === 'GET') return { body: comments }
    if (req.method === 'POST' && /\/(comments|notes)$/.test(req.path)) {
      const c = { id: comments.length + 100, body: (req.json as { body: string }).body }
      comments.push(c)
      return { status: 201, body: c }
    }
    if (req.method === 'PATCH' || req.method === 'PUT') {
      const c = comments.find((x) => x.id === Number(req.path.split('/').pop()))!
      c.body = (req.json as { body: string }).body
      return { body: c }
    }
    return { status: 201, body: {} }
  }
}

function stage(record: RunRecord, name: string) {
  return record.stages.find((s) => s.name === name)!
}

describe('intentops pipeline, end to end', () => {
  it('trains and promotes, reports a two-example change on the PR, refuses a broken model, and caches', async () => {
    const repo = gitRepo('io-pipe-e2e-')
    const hooks = await startRecordingServer()
    const model = await startRecordingServer((r) => (r.method === 'PUT' ? { status: 204 } : undefined))
    const github = await startRecordingServer(codeHost())
    const gitlab = await startRecordingServer(codeHost())
    servers.push(hooks, model, github, gitlab)

    const train = generateExamples(25, 7)
    const held = new Set(train.map((e) => sentenceKey(e.annotated)))
    const test = generateExamples(20, 1007)
      .filter((e) => !held.has(sentenceKey(e.annotated)))
      .filter((e, i, all) => all.slice(0, i).filter((x) => x.intent === e.intent).length < 8)
    repo.write('intentops.yml', CONFIG)
    repo.write('data/nlu.yml', nluYaml(train, true))
    repo.write('eval/test.yml', nluYaml(test))
    repo.write('tests/must-pass.yml', MUST_PASS)
    repo.write('.gitignore', '.intentops/\n')
    repo.commit('the travel bot')

    const baseEnv = {
      HOOK_URL: hooks.url,
      DEPLOY_URL: model.url,
      DEPLOY_TOKEN: 'admin-secret',
      INTENTOPS_AUTHOR: 'ci <ci@example.com>',
    }
    const cli = async (args: string[], env: Record<string, string> = {}) => {
      const io = memoryIO(repo.dir, { ...baseEnv, ...env })
      const code = await runCli(args, io)
      return { code, out: io.out(), err: io.err() }
    }
    const run = async (args: string[], env: Record<string, string> = {}) => {
      const res = await cli(['pipeline', 'run', '--json', ...args], env)
      return { ...res, record: JSON.parse(res.out) as RunRecord }
    }
    const production = async () => {
      const res = await cli(['models', 'show', 'production', '--json'])
      return res.code === 0 ? (JSON.parse(res.out) as { record: { version: number } }).record.version : null
    }
    const versions = async () => {
      const res = await cli(['models', 'list', '--json'])
      return res.out
    }

    // ── two runs at once serialise on the lock: one trains, the other finds the result in the cache ──
    const [a, b] = await Promise.all([run(['--until', 'test']), run(['--until', 'test'])])
    expect([a.code, b.code], a.err + b.err).toEqual([0, 0])
    expect([stage(a.record, 'train').status, stage(b.record, 'train').status].sort()).toEqual(['cached', 'ran'])

    // ── first run: trains (from the cache now), passes the gate, publishes, promotes, deploys, notifies ──
    const first = await run([])
    expect(first.code, first.err).toBe(0)
    expect(stage(first.record, 'gate').outputs).toMatchObject({ passed: true })
    expect(stage(first.record, 'promote').outputs).toMatchObject({ promoted: true, changed: true, version: 1 })
    expect(await production()).toBe(1)
    const put = model.requests.find((r) => r.method === 'PUT')!
    expect(put.path).toBe('/model')
    expect(put.json).toEqual({ model_file: 'v1' })
    expect(put.headers.authorization).toBe('Bearer admin-secret')
    const promoted = hooks.requests.map((r) => (r.json as { text: string }).text)
    expect(promoted).toHaveLength(1)
    expect(promoted[0]).toContain('travel v1 is now production')

    // ── unchanged: trains nothing, and production already serves this model ──
    const same = await cli(['pipeline', 'run'])
    expect(same.code, same.err).toBe(0)
    expect(same.out).toContain('trained nothing')
    expect(same.out).toMatch(/production already serves this model \(v1\)/)
    expect(hooks.requests).toHaveLength(1)
    const status = await cli(['pipeline', 'status'])
    expect(status.out).toMatch(/train\s+fresh/)

    // ── a pull request adds two examples: it trains, and the PR comment shows exactly those two ──
    repo.git('checkout', '-q', '-b', 'more-flights')
    repo.git('update-ref', 'refs/remotes/origin/main', 'main')
    const nlu = readFileSync(path.join(repo.dir, 'data/nlu.yml'), 'utf8')
    repo.write(
      'data/nlu.yml',
      nlu.replace(
        '- intent: book_flight\n  examples: |\n',
        '- intent: book_flight\n  examples: |\n    - fly me to [Oslo](city) on the first plane\n    - I must get a seat to [Rome](city) tonight\n',
      ),
    )
    repo.commit('two more flight requests')
    const event = path.join(repo.dir, 'event.json')
    writeFileSync(event, JSON.stringify({ pull_request: { number: 42, head: { sha: 'feedbeef' } } }))
    const ghEnv = {
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'acme/travel',
      GITHUB_TOKEN: 'gh-token',
      GITHUB_API_URL: github.url,
      GITHUB_EVENT_PATH: event,
      GITHUB_BASE_REF: 'main',
    }
    const pr = await run(['--no-publish'], ghEnv)
    expect(pr.code, pr.err).toBe(0)
    expect(stage(pr.record, 'train').status).toBe('ran')
    expect(stage(pr.record, 'publish').outputs).toEqual({ skipped: '--no-publish' })
    expect(await production()).toBe(1)
    const report = stage(pr.record, 'report').outputs!
    expect(report.dataDiff).toMatchObject({ added: 2, removed: 0, moved: 0 })
    const markdown = readFileSync(path.join(repo.dir, String(report.markdown)), 'utf8')
    expect(markdown).toContain('➕ `fly me to [Oslo](city) on the first plane`')
    expect(markdown).toContain('➕ `I must get a seat to [Rome](city) tonight`')
    expect(markdown.match(/➕/g)).toHaveLength(2)
    expect(markdown).toContain('### Gate')
    expect(markdown).toContain('### Must-pass')
    expect(markdown).toMatch(/Comparison: candidate \(B\) against production v1 \(A\)/)
    for (const chart of report.charts as string[]) {
      expect(readFileSync(path.join(repo.dir, chart), 'utf8')).toMatch(/^<svg/)
      expect(markdown).toContain(`(charts/${path.basename(chart)})`)
    }
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/acme/travel/issues/42/comments?per_page=100&page=1',
      'POST /repos/acme/travel/issues/42/comments',
      'POST /repos/acme/travel/statuses/feedbeef',
    ])
    expect(github.requests[1]!.headers.authorization).toBe('Bearer gh-token')
    const comment = (github.requests[1]!.json as { body: string }).body
    expect(comment).toContain('<!-- intentops-report -->')
    expect(comment).toContain('fly me to [Oslo](city) on the first plane')
    expect(github.requests[2]!.json).toMatchObject({ state: 'success', context: 'intentops' })

    // the same run on GitLab: cached stages, one merge-request note and a commit status
    const gl = await run(['--no-publish'], {
      GITLAB_CI: 'true',
      CI_API_V4_URL: `${gitlab.url}/api/v4`,
      CI_PROJECT_ID: '77',
      CI_MERGE_REQUEST_IID: '9',
      CI_COMMIT_SHA: 'c0ffee',
      CI_JOB_TOKEN: 'job-token',
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
    })
    expect(gl.code, gl.err).toBe(0)
    expect(stage(gl.record, 'train').status).toBe('cached')
    expect(gitlab.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v4/projects/77/merge_requests/9/notes?per_page=100&page=1',
      'POST /api/v4/projects/77/merge_requests/9/notes',
      'POST /api/v4/projects/77/statuses/c0ffee',
    ])
    expect(gitlab.requests[1]!.headers['job-token']).toBe('job-token')
    expect((gitlab.requests[1]!.json as { body: string }).body).toContain('I must get a seat to [Rome](city) tonight')

    // ── broken data: the labels of two intents swapped; the gate fails and production is unchanged ──
    const before = await versions()
    repo.write(
      'data/nlu.yml',
      readFileSync(path.join(repo.dir, 'data/nlu.yml'), 'utf8')
        .replace('- intent: cancel_booking', '- intent: SWAP')
        .replace('- intent: flight_status', '- intent: cancel_booking')
        .replace('- intent: SWAP', '- intent: flight_status'),
    )
    const broken = await cli(['pipeline', 'run'])
    expect(broken.code).toBe(1)
    expect(broken.err).toContain('error ERR_PIPELINE_GATE_FAILED')
    expect(broken.err).toMatch(/production is unchanged/)
    expect(await production()).toBe(1)
    expect(await versions()).toBe(before)
    const gateFailed = hooks.requests.map((r) => (r.json as { text: string }).text).at(-1)!
    expect(gateFailed).toContain('failed the gate')

    // ── again with nothing changed: trains nothing, and still refuses ──
    const again = await cli(['pipeline', 'run'])
    expect(again.code).toBe(1)
    expect(again.out).toContain('trained nothing')
    expect(again.out).toMatch(/train\s+cached/)

    // ── the records ──
    const list = await cli(['runs', 'list', '--json'])
    const runs = JSON.parse(list.out) as RunRecord[]
    expect(runs.length).toBeGreaterThanOrEqual(7)
    expect(runs[0]!.summary).toMatchObject({ gate: 'failed', trained: false })
    const history = await cli(['metrics', 'history', '--json'])
    const h = JSON.parse(history.out) as { points: Array<{ macroF1: number; promoted: number | null }>; chart: string }
    expect(h.points.some((p) => p.promoted === 1)).toBe(true)
    expect(h.points.at(-1)!.macroF1).toBeLessThan(h.points.find((p) => p.promoted === 1)!.macroF1)
    expect(readFileSync(h.chart, 'utf8')).toMatch(/^<svg/)
    const show = await cli(['runs', 'show'])
    expect(show.out).toMatch(/fail\s+minDelta|fail\s+maxIntentF1Drop/)
    expect(existsSync(path.join(repo.dir, '.intentops/runs'))).toBe(true)
  })
})
