import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { startRecordingServer } from './helpers/recording-server.js'

let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

describe('intentops report', () => {
  it('publish posts the file on the PR named by the GitHub environment', async () => {
    const srv = await startRecordingServer((r) =>
      r.method === 'GET' ? { body: [] } : { status: 201, body: { id: 9 } },
    )
    close = srv.close
    const dir = mkdtempSync(path.join(tmpdir(), 'io-report-'))
    writeFileSync(path.join(dir, 'report.md'), '## Gate: passed\n')
    writeFileSync(path.join(dir, 'event.json'), JSON.stringify({ pull_request: { number: 12, head: { sha: 'f00' } } }))
    const io = memoryIO(dir, {
      GITHUB_REPOSITORY: 'acme/bot',
      GITHUB_TOKEN: 't',
      GITHUB_API_URL: srv.url,
      GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
    })
    expect(await runCli(['report', 'publish', '-f', 'report.md', '--status', 'fail'], io)).toBe(0)
    expect(io.out()).toContain('report created on github #12 (comment 9)')
    expect(srv.requests.map((r) => `${r.method} ${r.path}`)).toContain('POST /repos/acme/bot/statuses/f00')
    expect(srv.requests.at(-1)!.json).toMatchObject({ state: 'failure' })
  })

  it('publish outside CI fails with the missing variables; --strict fails on an unreachable host', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-report-'))
    writeFileSync(path.join(dir, 'r.md'), 'x')
    const io = memoryIO(dir, {})
    expect(await runCli(['report', 'publish', '-f', 'r.md'], io)).toBe(1)
    expect(io.err()).toContain('ERR_PUBLISH_NO_TARGET')
    const env = {
      GITHUB_REPOSITORY: 'a/b',
      GITHUB_TOKEN: 't',
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_REF: 'refs/pull/1/merge',
    }
    const lax = memoryIO(dir, env)
    expect(await runCli(['report', 'publish', '-f', 'r.md', '--retries', '1'], lax)).toBe(0)
    expect(lax.err()).toContain('warning: listing comments failed')
    const strict = memoryIO(dir, env)
    expect(await runCli(['report', 'publish', '-f', 'r.md', '--retries', '1', '--strict'], strict)).toBe(1)
    const hex = memoryIO(dir, env)
    expect(await runCli(['report', 'publish', '-f', 'r.md', '--retries', '0x10'], hex)).toBe(2)
    expect(hex.err()).toContain('error ERR_CLI_USAGE: --retries must be an integer ≥ 1, got "0x10"')
  })

  it('notify posts to the configured webhook with the URL taken from the environment', async () => {
    const srv = await startRecordingServer()
    close = srv.close
    const dir = mkdtempSync(path.join(tmpdir(), 'io-notify-'))
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own `${HOOK}` syntax, read from the environment
    writeFileSync(path.join(dir, 'intentops.yml'), 'notify:\n  webhooks:\n    - url: ${HOOK}\n      format: json\n')
    const io = memoryIO(dir, { HOOK: `${srv.url}/hook` })
    expect(await runCli(['report', 'notify', '--event', 'promoted', '--summary', 'v2 live'], io)).toBe(0)
    expect(srv.requests[0]).toMatchObject({ path: '/hook', json: { kind: 'promoted', summary: 'v2 live' } })
    const bad = memoryIO(dir, {})
    expect(await runCli(['report', 'notify', '--event', 'nope', '--summary', 'x'], bad)).toBe(2)
    expect(bad.err()).toContain('--event must be one of')
    // HOOK not set: named, nothing posted, and a failure with --strict
    const unset = memoryIO(dir, {})
    expect(await runCli(['report', 'notify', '--event', 'promoted', '--summary', 'x'], unset)).toBe(0)
    expect(unset.err()).toContain('`notify.webhooks.0.url` refers to the environment variable HOOK, which is not set')
    expect(unset.err()).not.toContain('no webhooks configured')
    const strict = memoryIO(dir, {})
    expect(await runCli(['report', 'notify', '--event', 'promoted', '--summary', 'x', '--strict'], strict)).toBe(1)
    expect(srv.requests).toHaveLength(1)
  })
})
