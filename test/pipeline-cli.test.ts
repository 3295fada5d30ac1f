/**
 * The pipeline commands around the run itself: status, deploy, notification failures, retrain, report pr, and a
 * failing stage that must leave the registry untouched. Real files, real registry, real HTTP on loopback.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import type { RunRecord } from '../src/pipeline/runner.js'
import { decide } from '../src/review/actions.js'
import { prediction } from '../src/review/testing.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { gitIdentity, gitRepo } from './helpers/git-repo.js'
import { startRecordingServer } from './helpers/recording-server.js'

const servers: Array<{ close: () => Promise<void> }> = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

const INTENTS: Record<string, string[]> = {
  greet: ['hello', 'hi there', 'good morning', 'hey', 'hello friend', 'good evening', 'hi bot', 'hey you'],
  goodbye: ['bye', 'goodbye', 'see you later', 'bye bye', 'farewell', 'see you soon', 'catch you later', 'so long'],
  order_pizza: [
    'I want a pizza',
    'order a large pizza',
    'get me a pepperoni pizza',
    'one margherita please',
    'can I order pizza',
    'deliver a pizza to me',
    'pizza with extra cheese',
    'I would like to order a pizza',
  ],
}
const TEST: Record<string, string[]> = {
  greet: ['hello there', 'hi', 'morning'],
  goodbye: ['bye for now', 'see you', 'goodbye friend'],
  order_pizza: ['order pizza now', 'a pizza please', 'I want to order a large pizza'],
}
const yaml = (intents: Record<string, string[]>) =>
  `version: "3.1"\nnlu:\n${Object.entries(intents)
    .map(([i, xs]) => `- intent: ${i}\n  examples: |\n${xs.map((x) => `    - ${x}`).join('\n')}\n`)
    .join('')}`

function project(extraConfig = '') {
  const dir = mkdtempSync(path.join(tmpdir(), 'io-pipe-cli-'))
  mkdirSync(path.join(dir, 'data'))
  mkdirSync(path.join(dir, 'eval'))
  writeFileSync(path.join(dir, 'data', 'nlu.yml'), yaml(INTENTS))
  writeFileSync(path.join(dir, 'eval', 'test.yml'), yaml(TEST))
  writeFileSync(
    path.join(dir, 'intentops.yml'),
    `version: 1\nname: pizza\nregistry:\n  allowUnsigned: true\nstages:\n  testData: [eval]\n${extraConfig}`,
  )
  return dir
}

async function cli(dir: string, args: string[], env: Record<string, string> = {}) {
  const io = memoryIO(dir, { INTENTOPS_AUTHOR: 'test', ...env })
  const code = await runCli(args, io)
  return { code, out: io.out(), err: io.err() }
}

describe('intentops pipeline status', () => {
  it('names the stale stages and why, and reads fresh after a run', async () => {
    const dir = project()
    const before = await cli(dir, ['pipeline', 'status', '--json'])
    const states = JSON.parse(before.out) as Array<{ name: string; state: string; reason: string }>
    expect(states.slice(0, 3).map((s) => [s.name, s.state, s.reason])).toEqual([
      ['validate', 'stale', 'never ran'],
      ['train', 'stale', 'never ran'],
      ['test', 'stale', 'never ran'],
    ])
    expect(states.find((s) => s.name === 'gate')!.state).toBe('not cached')
    expect((await cli(dir, ['pipeline', 'run', '--until', 'test'])).code).toBe(0)
    const fresh = await cli(dir, ['pipeline', 'status'])
    expect(fresh.out).toMatch(/validate\s+fresh/)
    expect(fresh.out).toMatch(/test\s+fresh/)
    // a training setting changes: validation is still fresh, training is stale because of the config
    const cfg = path.join(dir, 'intentops.yml')
    writeFileSync(cfg, `${readFileSync(cfg, 'utf8')}fallback:\n  threshold: 0.2\n`)
    const stale = await cli(dir, ['pipeline', 'status'])
    expect(stale.out).toMatch(/validate\s+fresh/)
    expect(stale.out).toMatch(/train\s+stale\s+changed: config/)
    expect(stale.out).toMatch(/test\s+stale\s+upstream stage train is stale/)
    expect(stale.out).toContain('the next run starts at train')
  })
})

describe('pipeline options', () => {
  it('refuses --from after --until, and limits that are not positive integers, before running anything', async () => {
    const dir = project()
    const run = await cli(dir, ['pipeline', 'run', '--from', 'test', '--until', 'validate'])
    expect(run.code).toBe(2)
    expect(run.err).toContain('ERR_CLI_USAGE: --from test comes after --until validate')
    expect(run.out).not.toContain('passed')
    const runs = await cli(dir, ['runs', 'list', '--json'])
    expect(JSON.parse(runs.out)).toEqual([])
    for (const args of [
      ['runs', 'list', '-n', 'abc'],
      ['runs', 'list', '-n', '0'],
      ['runs', 'list', '-n', '-1'],
      ['metrics', 'history', '-n', 'abc'],
      ['metrics', 'history', '-n', '0x10'],
    ]) {
      const res = await cli(dir, args)
      expect(res.code, args.join(' ')).toBe(2)
      expect(res.err).toContain(`ERR_CLI_USAGE: --limit must be an integer ≥ 1, got "${args[3]}"`)
    }
    expect((await cli(dir, ['runs', 'list', '-n', '3'])).code).toBe(0)
  })

  it('fails validation when a must-pass path in intentops.yml does not exist, instead of gating on no cases', async () => {
    const dir = project('tests:\n  - tset\n')
    const res = await cli(dir, ['pipeline', 'run', '--json'])
    expect(res.code).toBe(1)
    expect(res.err).toMatch(
      /^error ERR_PIPELINE_DATA_INVALID: intentops\.yml:\d+:\d+: The training data has 1 error\(s\); the first, ERR_FILE_NOT_FOUND: /,
    )
    expect(res.err).toContain('`tests` in intentops.yml lists "tset"')
    const record = JSON.parse(res.out) as RunRecord
    expect(record.stages[0]).toMatchObject({ name: 'validate', status: 'failed' })
    expect(record.stages.find((s) => s.name === 'publish')!.status).not.toBe('ran')
  })
})

describe('a failing stage', () => {
  it('refuses a pipeline step of unknown type before any stage runs, at its position in intentops.yml', async () => {
    const dir = project('pipeline:\n  - type: NoSuchFeaturizer\n')
    const res = await cli(dir, ['pipeline', 'run', '--json'])
    expect(res.code).toBe(1)
    expect(res.err).toContain(`error ERR_NLU_UNKNOWN_COMPONENT: ${path.join(dir, 'intentops.yml')}:8:5:`)
    expect(res.out).toBe('')
  })

  it('stops with a catalog error, publishes nothing and moves no alias', async () => {
    // Valid in the config; only training finds that the class weight names no intent of the data.
    const dir = project('pipeline:\n  - type: tfidf\n  - type: linear_svm\n    classWeight: {no_such_intent: 2}\n')
    const res = await cli(dir, ['pipeline', 'run', '--json'])
    expect(res.code).toBe(1)
    // the failing stage's own code, as docs/pipeline.md promises, not a wrapper
    expect(res.err).toMatch(/^error ERR_NLU_PARAM_INVALID: /)
    expect(res.err).not.toContain('ERR_PIPELINE_STAGE_FAILED')
    const record = JSON.parse(res.out) as RunRecord
    expect(record.stages.map((s) => s.status)).toEqual([
      'ran',
      'failed',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'ran',
      'ran',
    ])
    // Nothing was published, so there is no registry at all.
    const models = await cli(dir, ['models', 'list', '--json'])
    expect(models.code).toBe(1)
    expect(models.err).toContain('ERR_REGISTRY_NOT_FOUND')
    expect((await cli(dir, ['models', 'show', 'production'])).code).toBe(1)
  })

  it('an interrupted run ends with ERR_PIPELINE_ABORTED, a hint and exit code 130', async () => {
    const dir = project()
    const io = memoryIO(dir, { INTENTOPS_AUTHOR: 'test' })
    io.interrupt = () => AbortSignal.abort()
    expect(await runCli(['pipeline', 'run'], io)).toBe(130)
    expect(io.err()).toMatch(
      /^error ERR_PIPELINE_ABORTED: The pipeline run was interrupted\n {2}hint: Run it again: the stages that finished come from the cache\.\n$/,
    )
  })

  it('after Ctrl-C during training still writes the report and notifies that the run was aborted there', async () => {
    const srv = await startRecordingServer()
    servers.push(srv)
    const dir = project(`notify:\n  retries: 1\n  webhooks:\n    - url: ${srv.url}/hook\n      format: json\n`)
    const { loadConfig } = await import('../src/project/config.js')
    const { runPipeline, pipelineError } = await import('../src/pipeline/run.js')
    const { config, root } = await loadConfig({ dir })
    const controller = new AbortController()
    const record = await runPipeline({
      root,
      config,
      env: { INTENTOPS_AUTHOR: 'test' },
      signal: controller.signal,
      onProgress: (stage) => {
        if (stage === 'train') controller.abort()
      },
    })
    expect(record.status).toBe('aborted')
    expect(record.interrupted).toBe('train')
    expect(record.stages.map((s) => [s.name, s.status])).toEqual([
      ['validate', 'ran'],
      ['train', 'failed'],
      ['test', 'skipped'],
      ['compare', 'skipped'],
      ['gate', 'skipped'],
      ['publish', 'skipped'],
      ['promote', 'skipped'],
      ['deploy', 'skipped'],
      ['report', 'ran'],
      ['notify', 'ran'],
    ])
    expect(pipelineError(record)?.code).toBe('ERR_PIPELINE_ABORTED')
    const report = readFileSync(path.join(dir, String(record.summary!.report)), 'utf8')
    expect(report).toMatch(/pipeline aborted: interrupted during train/)
    expect(report).toContain('train (interrupted)')
    expect(srv.requests).toHaveLength(1)
    expect(srv.requests[0]!.json).toMatchObject({
      kind: 'pipeline_failed',
      summary: 'pizza: the run was aborted during stage train',
      details: { aborted: true, stage: 'train', error: 'ERR_PIPELINE_ABORTED' },
    })
  })

  it('after Ctrl-C the pull-request comment stops retrying at the deadline instead of waiting out its backoff', async () => {
    const api = await startRecordingServer(() => ({ status: 503, body: { message: 'unavailable' } }))
    servers.push(api)
    const dir = project()
    const { loadConfig } = await import('../src/project/config.js')
    const { runPipeline } = await import('../src/pipeline/run.js')
    const { config, root } = await loadConfig({ dir })
    const controller = new AbortController()
    let abortedAt = 0
    const record = await runPipeline({
      root,
      config,
      env: {
        INTENTOPS_AUTHOR: 'test',
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/bot',
        GITHUB_TOKEN: 'token',
        GITHUB_REF: 'refs/pull/7/merge',
        GITHUB_SHA: 'abc123',
        GITHUB_API_URL: api.url,
      },
      // Each retry would first wait a minute; the report and notify stages have 400 ms each after Ctrl-C.
      retry: { attempts: 4, baseDelayMs: 60_000 },
      afterAbortMs: 400,
      signal: controller.signal,
      onProgress: (stage) => {
        if (stage === 'train' && !abortedAt) {
          abortedAt = Date.now()
          controller.abort()
        }
      },
    })
    expect(Date.now() - abortedAt).toBeLessThan(4000)
    expect(record.status).toBe('aborted')
    expect(record.stages.slice(-2).map((s) => [s.name, s.status])).toEqual([
      ['report', 'ran'],
      ['notify', 'ran'],
    ])
    // one attempt at listing the comments, then the deadline: no retry, no comment, no status
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/acme/bot/issues/7/comments?per_page=100&page=1',
    ])
    expect(record.stages.at(-1)!.outputs).toMatchObject({
      pr: { provider: 'github', number: 7, ok: false, action: null, statusSet: false },
      failures: ['github #7: listing comments failed: HTTP 503; stopped: out of time'],
    })
  })

  it('points at the file and line of broken data', async () => {
    const dir = project()
    writeFileSync(path.join(dir, 'data', 'nlu.yml'), `${yaml(INTENTS)}- intent: [broken\n`)
    const res = await cli(dir, ['pipeline', 'run'])
    expect(res.code).toBe(1)
    expect(res.err).toMatch(/^error ERR_PIPELINE_DATA_INVALID: data\/nlu\.yml:\d+:\d+: .+ the first, ERR_YAML_SYNTAX: /)
    expect(res.err).toMatch(/hint: /)
    expect(res.out).toMatch(/train\s+skipped\s+an earlier stage failed/)
  })

  it("exits with the validate stage's own code for invalid data", async () => {
    const dir = project()
    writeFileSync(path.join(dir, 'data', 'nlu.yml'), yaml({ ...INTENTS, extra: ['one more thing', 'one more thing'] }))
    const res = await cli(dir, ['pipeline', 'run'])
    expect(res.code).toBe(1)
    expect(res.err).toMatch(
      /^error ERR_PIPELINE_DATA_INVALID: data\/nlu\.yml:\d+:\d+: The training data has 1 error\(s\); the first, ERR_DATA_\w+: Duplicate example "one more thing"/,
    )
    expect(res.err).toContain('Run `intentops data validate` to see every problem')
  })

  it('fails data without examples at validate, as `data validate` does, instead of at train', async () => {
    for (const text of ['', 'version: "3.1"\nnlu: []\n']) {
      const dir = project()
      writeFileSync(path.join(dir, 'data', 'nlu.yml'), text)
      const res = await cli(dir, ['pipeline', 'run', '--json'])
      expect(res.code).toBe(1)
      expect(res.err).toMatch(/^error ERR_PIPELINE_DATA_INVALID: .+ the first, ERR_DATA_NO_EXAMPLES: /)
      expect(res.err).not.toContain('ERR_NLU_NO_TRAINING_DATA')
      const record = JSON.parse(res.out) as RunRecord
      expect(record.stages.slice(0, 2).map((s) => [s.name, s.status])).toEqual([
        ['validate', 'failed'],
        ['train', 'skipped'],
      ])
    }
  })

  it('counts and orders the problems as `data validate` does, must-pass files included', async () => {
    const dir = project('tests:\n  - tests\n')
    const regex = '- regex: code\n  examples: |\n    - (a+)+$\n'
    writeFileSync(path.join(dir, 'data', 'nlu.yml'), `${yaml(INTENTS)}${regex}`)
    mkdirSync(path.join(dir, 'tests'))
    writeFileSync(
      path.join(dir, 'tests', 'must-pass.yml'),
      'must_pass:\n  - text: hello\n    intent: no_such_intent\n  - text: hi\n    intnt: greet\n',
    )
    const validate = await cli(dir, ['data', 'validate', '--json'])
    expect(validate.code).toBe(1)
    const report = JSON.parse(validate.out) as {
      errorCount: number
      diagnostics: Array<{ severity: string; code: string; location: { file: string; line?: number } }>
    }
    const errors = report.diagnostics.filter((d) => d.severity === 'error')
    expect(errors.map((d) => d.code)).toContain('ERR_DATA_UNSAFE_REGEX')
    expect(errors.map((d) => d.code)).toContain('ERR_MUST_PASS_UNKNOWN_INTENT')
    const res = await cli(dir, ['pipeline', 'run'])
    expect(res.code).toBe(1)
    const first = errors[0]!
    expect(res.err).toContain(
      `error ERR_PIPELINE_DATA_INVALID: ${first.location.file}:${first.location.line}:` +
        `${(first.location as { column?: number }).column}: The training data has ${report.errorCount} error(s); the first, ${first.code}: `,
    )
  })
})

describe('notifications', () => {
  it('an unreachable webhook is a warning for a passing run, and an error with --strict-notify', async () => {
    const dir = project('notify:\n  retries: 1\n  webhooks:\n    - url: http://127.0.0.1:9/hook\n      format: json\n')
    const ok = await cli(dir, ['pipeline', 'run'])
    expect(ok.code, ok.err).toBe(0)
    expect(ok.out).toContain('pizza v1 is now production')
    expect(ok.err).toMatch(/warning: webhook 127\.0\.0\.1:9: .+ after 1 attempts/)
    // a fresh registry, so the next run promotes (and notifies) again
    const strict = await cli(dir, [
      'pipeline',
      'run',
      '--strict-notify',
      '--registry',
      path.join(dir, 'other-registry'),
    ])
    expect(strict.code).toBe(1)
    expect(strict.err).toMatch(/^error ERR_PIPELINE_NOTIFY_FAILED: /m)
    // the promotion itself happened: notification problems never undo it
    expect(strict.out).toContain('pizza v1 is now production')
  })
})

describe('environment variables in deploy and webhook URLs', () => {
  it('refuses a deploy target whose variable is not set, before publishing anything', async () => {
    const srv = await startRecordingServer(() => ({ status: 204 }))
    servers.push(srv)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own `${VAR}` syntax
    const dir = project('  deploy:\n    - url: ${NLU_HOST}/nlu\n')
    const res = await cli(dir, ['pipeline', 'run', '--json'], { INTENTOPS_ADMIN_TOKEN: 'tok' })
    expect(res.code).toBe(1)
    expect(res.err).toMatch(
      /^error ERR_CONFIG_INVALID: .*`stages\.deploy\.0\.url` refers to the environment variable NLU_HOST, which is not set/,
    )
    expect(res.err).toContain('hint: Set NLU_HOST in the environment')
    const record = JSON.parse(res.out) as RunRecord
    expect(record.stages.find((s) => s.name === 'publish')!.status).toBe('failed')
    // nothing was published, so no registry was even created
    expect((await cli(dir, ['models', 'list', '--json'])).err).toContain('ERR_REGISTRY_NOT_FOUND')
    // set, the same target deploys; an unset token is named the same way
    const host = srv.url.replace('http://', '')
    const ok = await cli(dir, ['pipeline', 'run'], { NLU_HOST: `http://${host}`, INTENTOPS_ADMIN_TOKEN: 'tok' })
    expect(ok.code, ok.err).toBe(0)
    expect(srv.requests.map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['PUT', '/nlu/model', 'Bearer tok'],
    ])
    const noToken = await cli(dir, ['pipeline', 'run', '--registry', path.join(dir, 'other')], {
      NLU_HOST: `http://${host}`,
    })
    expect(noToken.err).toContain('`stages.deploy.0.token` refers to the environment variable INTENTOPS_ADMIN_TOKEN')
  })

  it('names a webhook whose variable is not set instead of posting to a cut URL', async () => {
    const srv = await startRecordingServer()
    servers.push(srv)
    const dir = project(
      `notify:\n  retries: 1\n  webhooks:\n    - url: ${srv.url}/hooks/$HOOK_TOKEN\n      format: json\n`,
    )
    const ok = await cli(dir, ['pipeline', 'run'])
    expect(ok.code, ok.err).toBe(0)
    expect(ok.err).toContain(
      'warning: webhook not sent: Invalid config: `notify.webhooks.0.url` refers to the environment variable HOOK_TOKEN, which is not set',
    )
    expect(srv.requests).toEqual([])
    const strict = await cli(dir, ['pipeline', 'run', '--strict-notify', '--registry', path.join(dir, 'other')])
    expect(strict.code).toBe(1)
    expect(strict.err).toMatch(/^error ERR_PIPELINE_NOTIFY_FAILED: .*HOOK_TOKEN, which is not set/m)
    const set = await cli(dir, ['pipeline', 'run', '--registry', path.join(dir, 'third')], { HOOK_TOKEN: 'abc' })
    expect(set.code, set.err).toBe(0)
    expect(srv.requests.map((r) => r.path)).toEqual(['/hooks/abc'])
  })
})

describe('intentops deploy', () => {
  it('PUTs the model on the admin API with the bearer token and expects 204', async () => {
    let status = 204
    const srv = await startRecordingServer(() => ({ status }))
    servers.push(srv)
    const dir = mkdtempSync(path.join(tmpdir(), 'io-deploy-'))
    const ok = await cli(dir, ['deploy', '--server', `${srv.url}/`, '--token', 'tok', '--version', 'v3'])
    expect(ok.code, ok.err).toBe(0)
    expect(ok.out).toContain('now serves v3')
    expect(srv.requests[0]).toMatchObject({ method: 'PUT', path: '/model', json: { model_file: 'v3' } })
    expect(srv.requests[0]!.headers.authorization).toBe('Bearer tok')

    const alias = await cli(dir, ['deploy', '--server', srv.url], { INTENTOPS_ADMIN_TOKEN: 'env-tok' })
    expect(alias.code).toBe(0)
    expect(srv.requests[1]!.json).toEqual({ model_file: 'production' })
    expect(srv.requests[1]!.headers.authorization).toBe('Bearer env-tok')

    status = 401
    const denied = await cli(dir, ['deploy', '--server', srv.url, '--token', 'bad', '--alias', 'candidate'])
    expect(denied.code).toBe(1)
    expect(denied.err).toContain(`error ERR_DEPLOY_FAILED: The server ${srv.url} did not load candidate: HTTP 401`)
    expect(srv.requests).toHaveLength(3)

    const usage = await cli(dir, ['deploy', '--server', srv.url, '--token', 't', '--version', '1', '--alias', 'p'])
    expect(usage.code).toBe(2)
    expect(usage.err).toContain('give one of --version, --alias and --model-file')
    expect((await cli(dir, ['deploy', '--server', srv.url])).err).toContain('--token (or INTENTOPS_ADMIN_TOKEN)')
    for (const retries of ['0x10', '1e3', ' ']) {
      const bad = await cli(dir, ['deploy', '--server', srv.url, '--token', 't', '--retries', retries])
      expect(bad.code).toBe(2)
      expect(bad.err).toContain(`error ERR_CLI_USAGE: --retries must be an integer ≥ 1, got "${retries}"`)
    }
    expect(srv.requests).toHaveLength(3)
  })
})

describe('intentops retrain and report pr', () => {
  it('retrain says there is nothing to export without a store, then runs the pipeline', async () => {
    const dir = project()
    const res = await cli(dir, ['retrain'])
    expect(res.code, res.err).toBe(0)
    expect(res.out).toMatch(/^nothing to export: .*retraining on the data as it is/m)
    expect(res.out).toContain('pizza v1 is now production')
    const json = await cli(dir, ['retrain', '--json'])
    expect(json.code, json.err).toBe(0)
    const parsed = JSON.parse(json.out) as { export: { exported: number; message: string }; run: RunRecord }
    expect(parsed.export).toMatchObject({ exported: 0, branch: null })
    expect(parsed.run.stages.find((s) => s.name === 'train')!.status).toBe('cached')
    // It looks for the log where every other command would, INTENTOPS_STORE included, and refuses what they refuse.
    const moved = await cli(dir, ['retrain', '--json'], { INTENTOPS_STORE: 'logs/io.db' })
    expect(moved.code, moved.err).toBe(0)
    expect(JSON.parse(moved.out).export.message).toBe(
      `nothing to export: no review store at ${path.join('logs', 'io.db')}; retraining on the data as it is`,
    )
    const memory = await cli(dir, ['retrain'], { INTENTOPS_STORE: ':memory:' })
    expect(memory.code).toBe(2)
    expect(memory.err).toContain('ERR_CLI_USAGE: INTENTOPS_STORE ":memory:" would be an in-memory SQLite database')
  })

  it('report pr rebuilds the comment from the latest run, and says when there is none', async () => {
    const dir = project()
    const none = await cli(dir, ['report', 'pr'])
    expect(none.code).toBe(1)
    expect(none.err).toContain('ERR_RUN_NOT_FOUND')
    expect((await cli(dir, ['pipeline', 'run', '--no-publish'])).code).toBe(0)
    const res = await cli(dir, ['report', 'pr', '--print', '--out', 'pr'])
    expect(res.code, res.err).toBe(0)
    expect(res.out).toContain('## intentops: 🟢 gate passed: the candidate may replace production')
    expect(res.out).toContain('No model holds `production` yet')
    expect(res.out).toContain('![F1 per intent](charts/intent-f1.svg)')
    expect(res.out).toMatch(/wrote pr\/report\.md \(passed; 1 charts\)/)
    expect(readFileSync(path.join(dir, 'pr', 'charts', 'intent-f1.svg'), 'utf8')).toMatch(/^<svg/)
  })
})

describe('intentops retrain with a review store', () => {
  it('exports the reviewed corrections on a git branch, retrains and promotes; then has nothing to export', async () => {
    const repo = gitRepo('io-retrain-')
    const dir = repo.dir
    const proj = project('gates:\n  minDelta: -0.5\n')
    for (const f of ['intentops.yml', 'data/nlu.yml', 'eval/test.yml'])
      repo.write(f, readFileSync(path.join(proj, f), 'utf8'))
    repo.write('.gitignore', '.intentops/\n')
    repo.commit('the pizza bot')
    // Only PATH from this process: a CI runner's own variables (GITHUB_*, CI) would change what the pipeline does.
    const env = { ...gitIdentity, PATH: process.env.PATH ?? '' }
    expect((await cli(dir, ['pipeline', 'run'], env)).code).toBe(0)

    // traffic was logged and reviewed: one misclassified pizza order relabelled, one greeting confirmed
    const store = openSqliteStore({ file: path.join(dir, '.intentops', 'store.db') })
    await store.migrate()
    await store.insertPredictions([
      prediction('p1', 'a pizza with mushrooms and olives', 'greet', 0.41),
      prediction('p2', 'howdy partner', 'greet', 0.55),
    ])
    const ctx = { intents: new Set(Object.keys(INTENTS)), outOfScopeIntent: 'nlu_fallback' }
    await decide(store, { predictionIds: ['p1'], action: 'relabel', intent: 'order_pizza', reviewer: 'ann' }, ctx)
    await decide(store, { predictionIds: ['p2'], action: 'confirm', reviewer: 'ann' }, ctx)
    await store.close()

    const res = await cli(dir, ['retrain', '--git-branch', 'reviews-1'], env)
    expect(res.code, res.err).toBe(0)
    expect(res.out).toMatch(/^exported 2 reviewed examples into .* on branch reviews-1 \([0-9a-f]{12}\)$/m)
    expect(res.out).toMatch(/train\s+ran/)
    expect(res.out).toContain('pizza v2 is now production')
    expect(repo.git('rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('reviews-1')
    expect(repo.git('show', '--stat', 'HEAD')).toContain('Add 2 reviewed examples to the training data')
    const data = repo.git('show', 'HEAD:data/nlu.yml')
    expect(data).toContain('a pizza with mushrooms and olives')
    expect(data).toContain('howdy partner')
    // the promoted version records the commit that holds the exported examples
    const shown = JSON.parse((await cli(dir, ['models', 'show', 'production', '--json'])).out) as {
      record: { version: number; git: { commit: string } }
    }
    expect(shown.record.version).toBe(2)
    expect(shown.record.git.commit).toBe(repo.git('rev-parse', 'HEAD').trim())

    expect(res.err).not.toContain('other users may open')

    // The export opened the log: one others may read is named, with the fix, as every command that opens it does.
    const log = path.join(dir, '.intentops', 'store.db')
    chmodSync(log, 0o644)
    // Both streams into one, as a terminal shows them: the warning comes before the export's line and the run's.
    const io = memoryIO(dir, { INTENTOPS_AUTHOR: 'test', ...env })
    const both: string[] = []
    const merged = {
      ...io,
      stdout: (t: string) => {
        both.push(t)
        io.stdout(t)
      },
      stderr: (t: string) => {
        both.push(t)
        io.stderr(t)
      },
    }
    expect(await runCli(['retrain'], merged), io.err()).toBe(0)
    expect(io.err()).toContain(
      `warning: the prediction log holds message text, and other users may open these files of it: ${log} (0644); \`chmod 600 ${log}\` unless that is intended\n`,
    )
    expect(both[0]).toMatch(/^warning: the prediction log holds message text/)
    expect(io.out()).toMatch(/^nothing to export: no reviewed corrections waiting/)
    expect(io.out()).toContain('trained nothing')
  })
})
