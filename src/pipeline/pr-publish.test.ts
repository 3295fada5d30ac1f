import { afterEach, describe, expect, it } from 'vitest'
import { type RecordedRequest, startRecordingServer } from '../../test/helpers/recording-server.js'
import { IntentopsError } from '../errors.js'
import { detectPrTarget, publishPrReport, REPORT_MARKER } from './pr-publish.js'

const noWait = { sleep: async () => {}, baseDelayMs: 1 }
let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

/** A tiny stateful fake of the comment endpoints, on a real HTTP server, that records every call. */
function codeHost() {
  const comments: { id: number; body: string }[] = [{ id: 1, body: 'LGTM' }]
  return (req: RecordedRequest) => {
    if (req.method === 'GET') return { body: comments }
    if (req.method === 'POST' && /\/(comments|notes)$/.test(req.path.split('?')[0]!)) {
      const c = { id: comments.length + 100, body: (req.json as { body: string }).body }
      comments.push(c)
      return { status: 201, body: c }
    }
    if (req.method === 'PATCH' || req.method === 'PUT') {
      const id = Number(req.path.split('/').pop())
      const c = comments.find((x) => x.id === id)!
      c.body = (req.json as { body: string }).body
      return { body: c }
    }
    return { status: 201, body: {} }
  }
}

describe('PR report publishing', () => {
  it('GitHub: creates one comment, updates it on the next push, sets the commit status', async () => {
    const srv = await startRecordingServer(codeHost())
    close = srv.close
    const env = { GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/bot', GITHUB_TOKEN: 'ght', GITHUB_API_URL: srv.url }
    const payload = { pull_request: { number: 7, head: { sha: 'abc123' } } }
    const target = detectPrTarget(env, payload)
    const first = await publishPrReport(target, { markdown: '# v1', passed: true, summary: 'gate passed' }, noWait)
    expect(first).toMatchObject({ ok: true, action: 'created', statusSet: true, errors: [] })
    const second = await publishPrReport(target, { markdown: '# v2', passed: false, summary: 'gate failed' }, noWait)
    expect(second).toMatchObject({ ok: true, action: 'updated', commentId: first.commentId })

    const calls = srv.requests.map((r) => `${r.method} ${r.path}`)
    expect(calls).toEqual([
      'GET /repos/acme/bot/issues/7/comments?per_page=100&page=1',
      'POST /repos/acme/bot/issues/7/comments',
      'POST /repos/acme/bot/statuses/abc123',
      'GET /repos/acme/bot/issues/7/comments?per_page=100&page=1',
      `PATCH /repos/acme/bot/issues/comments/${first.commentId}`,
      'POST /repos/acme/bot/statuses/abc123',
    ])
    expect(srv.requests[1]!.headers.authorization).toBe('Bearer ght')
    expect((srv.requests[4]!.json as { body: string }).body).toBe(`${REPORT_MARKER}\n# v2`)
    expect(srv.requests[5]!.json).toMatchObject({ state: 'failure', context: 'intentops', description: 'gate failed' })
  })

  it('GitLab: uses the job token, merge-request notes and a failed status', async () => {
    const srv = await startRecordingServer(codeHost())
    close = srv.close
    const env = {
      GITLAB_CI: 'true',
      CI_API_V4_URL: `${srv.url}/api/v4`,
      CI_PROJECT_ID: '42',
      CI_MERGE_REQUEST_IID: '5',
      CI_COMMIT_SHA: 'def456',
      CI_JOB_TOKEN: 'jt',
    }
    const res = await publishPrReport(detectPrTarget(env), { markdown: 'r', passed: false, summary: 's' }, noWait)
    expect(res).toMatchObject({ ok: true, action: 'created', statusSet: true })
    expect(srv.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v4/projects/42/merge_requests/5/notes?per_page=100&page=1',
      'POST /api/v4/projects/42/merge_requests/5/notes',
      'POST /api/v4/projects/42/statuses/def456',
    ])
    expect(srv.requests[1]!.headers['job-token']).toBe('jt')
    expect(srv.requests[2]!.json).toMatchObject({ state: 'failed', name: 'intentops' })
  })

  it('reports API failures instead of throwing', async () => {
    const srv = await startRecordingServer(() => ({ status: 403, body: { message: 'forbidden' } }))
    close = srv.close
    const env = {
      GITHUB_REPOSITORY: 'a/b',
      GITHUB_TOKEN: 't',
      GITHUB_API_URL: srv.url,
      GITHUB_REF: 'refs/pull/3/merge',
    }
    const res = await publishPrReport(detectPrTarget(env), { markdown: 'r', passed: true, summary: 's' }, noWait)
    expect(res.ok).toBe(false)
    expect(res.errors[0]).toContain('HTTP 403')
  })

  it('says which variables are missing', () => {
    expect(() => detectPrTarget({})).toThrow(IntentopsError)
    try {
      detectPrTarget({ GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'a/b' })
    } catch (e) {
      expect((e as IntentopsError).code).toBe('ERR_PUBLISH_NO_TARGET')
      expect((e as IntentopsError).message).toContain('GITHUB_TOKEN')
      expect((e as IntentopsError).message).toContain('pull-request number')
    }
  })
})
