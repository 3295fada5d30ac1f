import { afterEach, describe, expect, it } from 'vitest'
import { startRecordingServer } from '../../test/helpers/recording-server.js'
import { notify, slackBody } from './notify.js'

const noWait = { sleep: async () => {}, baseDelayMs: 1 }
let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

describe('notify', () => {
  it('posts the Slack shape and the generic JSON shape', async () => {
    const srv = await startRecordingServer()
    close = srv.close
    const reports = await notify(
      [
        { url: `${srv.url}/slack`, format: 'slack' },
        { url: `${srv.url}/json`, format: 'json' },
      ],
      { kind: 'promoted', summary: 'bot@3 is now production', details: { version: 3, macroF1: 0.91 } },
      noWait,
    )
    expect(reports.every((r) => r.ok)).toBe(true)
    const slack = srv.requests.find((r) => r.path === '/slack')!
    expect(Object.keys(slack.json as object)).toEqual(['text'])
    expect((slack.json as { text: string }).text).toContain('bot@3 is now production')
    expect((slack.json as { text: string }).text).toContain('• macroF1: 0.91')
    const generic = srv.requests.find((r) => r.path === '/json')!.json as Record<string, unknown>
    expect(generic).toMatchObject({ source: 'intentops', kind: 'promoted', details: { version: 3 } })
    expect(typeof generic.at).toBe('string')
  })

  it('retries 5xx and 429 with backoff, then succeeds', async () => {
    let n = 0
    const srv = await startRecordingServer(() => (++n <= 2 ? { status: n === 1 ? 503 : 429 } : undefined))
    close = srv.close
    const [r] = await notify([{ url: srv.url, format: 'slack' }], { kind: 'gate_failed', summary: 'x' }, noWait)
    expect(r).toMatchObject({ ok: true, attempts: 3 })
    expect(srv.requests).toHaveLength(3)
  })

  it('does not retry a 4xx, and reports an unreachable host without throwing', async () => {
    const srv = await startRecordingServer(() => ({ status: 404 }))
    close = srv.close
    const [r] = await notify([{ url: srv.url, format: 'json' }], { kind: 'drift_alert', summary: 'x' }, noWait)
    expect(r).toMatchObject({ ok: false, status: 404, attempts: 1 })
    const [down] = await notify(
      [{ url: 'http://127.0.0.1:9/', format: 'json' }],
      { kind: 'drift_alert', summary: 'x' },
      {
        ...noWait,
        attempts: 2,
      },
    )
    expect(down).toMatchObject({ ok: false, status: 0, attempts: 2 })
    expect(down!.error).toBeTruthy()
  })

  it('formats one line per detail', () => {
    expect(slackBody({ kind: 'pipeline_failed', summary: 'train failed', details: { stage: 'train' } }).text).toBe(
      ':x: *intentops pipeline failed*: train failed\n• stage: train',
    )
  })
})
