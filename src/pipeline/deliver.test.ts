import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startRecordingServer } from '../../test/helpers/recording-server.js'
import { defaultConfig } from '../config/defaults.js'
import { deliverNotifications, MAX_COMMENT_CHARS, runEvent } from './deliver.js'
import type { RunSoFar, StageRecord } from './runner.js'
import type { PipelineContext } from './stages.js'

let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

const rec = (name: string, status: StageRecord['status'], extra: Partial<StageRecord> = {}): StageRecord => ({
  name,
  status,
  durationMs: 1,
  ...extra,
})

function ctx(env: Record<string, string>, webhook?: string): PipelineContext {
  const base = defaultConfig()
  const config = {
    ...base,
    name: 'bot',
    notify: { ...base.notify, retries: 1, webhooks: webhook ? [{ url: webhook, format: 'json' as const }] : [] },
  }
  return {
    root: '/nonexistent',
    config,
    stateDir: '/nonexistent/.intentops',
    env,
    registry: () => Promise.reject(new Error('not used')),
    publish: true,
    promote: true,
    strictNotify: false,
    memo: {},
    retry: { sleep: async () => {}, baseDelayMs: 1 },
  }
}

describe('runEvent', () => {
  const c = ctx({})
  it('announces a promotion, a gate failure and a stage failure, and stays quiet otherwise', () => {
    const promoted = runEvent(
      c,
      {
        promote: { promoted: true, changed: true, version: 4, from: 3, alias: 'production' },
        test: { summary: { macroF1: 0.912345 } },
      },
      { id: 'r1', stages: [rec('promote', 'ran')] },
    )
    expect(promoted).toMatchObject({
      kind: 'promoted',
      summary: 'bot v4 is now production',
      details: { version: 4, from: 3, macroF1: 0.9123, run: 'r1' },
    })
    const gate = runEvent(c, { gate: { failed: ['minDelta: worse'], alias: 'production' } }, {
      id: 'r2',
      halted: 'failed',
      stages: [rec('gate', 'failed', { reason: 'gate failed' })],
    } satisfies RunSoFar)
    expect(gate).toMatchObject({ kind: 'gate_failed', details: { failed: 'minDelta: worse' } })
    const broken = runEvent(
      c,
      {},
      {
        id: 'r3',
        halted: 'failed',
        stages: [rec('train', 'failed', { error: { code: 'ERR_NLU_NO_TRAINING_DATA', message: 'x' }, reason: 'x' })],
      },
    )
    expect(broken).toMatchObject({
      kind: 'pipeline_failed',
      details: { stage: 'train', error: 'ERR_NLU_NO_TRAINING_DATA' },
    })
    expect(
      runEvent(c, { gate: { upToDate: true } }, { id: 'r4', halted: 'stopped', stages: [rec('gate', 'ran')] }),
    ).toBe(null)
  })
})

describe('deliverNotifications', () => {
  it('posts the event and skips the PR comment on a branch pipeline without a pull request', async () => {
    const srv = await startRecordingServer()
    close = srv.close
    const c = ctx(
      { GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/bot', GITHUB_TOKEN: 't', GITHUB_REF: 'refs/heads/main' },
      `${srv.url}/hook`,
    )
    const out = await deliverNotifications(
      c,
      {
        promote: { promoted: true, changed: true, version: 2, from: 1, alias: 'production' },
        report: { markdown: 'r.md' },
      },
      { id: 'r', stages: [] },
    )
    expect(out.event).toBe('promoted')
    expect(out.webhooks).toEqual([{ host: new URL(srv.url).host, ok: true, attempts: 1, error: null }])
    expect(out.pr).toBeNull()
    expect(out.prSkipped).toContain('pull-request number')
    expect(out.failures).toEqual([])
    expect(srv.requests.map((r) => r.path)).toEqual(['/hook'])
    expect(srv.requests[0]!.json).toMatchObject({ source: 'intentops', kind: 'promoted', details: { version: 2 } })
  })

  it('collects a webhook failure instead of throwing', async () => {
    const srv = await startRecordingServer(() => ({ status: 500 }))
    close = srv.close
    const out = await deliverNotifications(
      ctx({}, srv.url),
      {},
      {
        id: 'r',
        halted: 'failed',
        stages: [rec('validate', 'failed', { reason: 'bad data' })],
      },
    )
    expect(out.event).toBe('pipeline_failed')
    expect(out.failures).toEqual([`webhook ${new URL(srv.url).host}: HTTP 500 after 1 attempts`])
    expect(out.prSkipped).toBe('not running in CI')
  })

  it('posts an over-long report truncated below the code host limit', async () => {
    const srv = await startRecordingServer((r) =>
      r.method === 'GET' ? { body: [] } : { status: 201, body: { id: 5 } },
    )
    close = srv.close
    const dir = mkdtempSync(path.join(tmpdir(), 'io-deliver-'))
    writeFileSync(path.join(dir, 'report.md'), `## big\n${'x'.repeat(100_000)}\n`)
    const c = {
      ...ctx({
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'a/b',
        GITHUB_TOKEN: 't',
        GITHUB_API_URL: srv.url,
        INTENTOPS_PR_NUMBER: '3',
        GITHUB_SHA: 'abc',
      }),
      root: dir,
    }
    const out = await deliverNotifications(c, { report: { markdown: 'report.md' } }, { id: 'r', stages: [] })
    expect(out.pr).toMatchObject({ provider: 'github', number: 3, ok: true, action: 'created' })
    const body = (srv.requests.find((r) => r.method === 'POST')!.json as { body: string }).body
    expect(body.length).toBeLessThan(65_536)
    expect(body.length).toBeGreaterThan(MAX_COMMENT_CHARS)
    expect(body).toContain('truncated: the full report is the CI artifact `report.md`')
    expect(readFileSync(path.join(dir, 'report.md'), 'utf8').length).toBeGreaterThan(100_000)
  })
})
