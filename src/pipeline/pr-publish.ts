/**
 * Posts the pipeline report on a pull request (GitHub) or merge request (GitLab), updating one comment in place
 * on every push instead of adding a new one, and sets a pass/fail commit status. Repository, PR number and commit
 * come from each CI's standard environment variables.
 * @module
 */
import { createError } from '../errors.js'
import { fetchWithRetry, type RetryOptions } from '../util/http.js'

/** Hidden marker that identifies our comment among the others on the PR. */
export const REPORT_MARKER = '<!-- intentops-report -->'

export type Env = Readonly<Record<string, string | undefined>>

export interface PrTarget {
  provider: 'github' | 'gitlab'
  apiUrl: string
  /** `owner/repo` on GitHub, the numeric or URL-encoded project id on GitLab. */
  project: string
  number: number
  sha: string | undefined
  headers: Record<string, string>
}

export interface PublishResult {
  provider: 'github' | 'gitlab'
  ok: boolean
  action?: 'created' | 'updated'
  commentId?: number
  statusSet: boolean
  /** What went wrong, for the run record and the console; publishing never throws on API failures. */
  errors: string[]
}

/** Detect where we run from the environment; throws ERR_PUBLISH_NO_TARGET with what is missing. */
export function detectPrTarget(env: Env, eventPayload?: unknown): PrTarget {
  if (env.GITHUB_ACTIONS || env.GITHUB_REPOSITORY) {
    const token = env.GITHUB_TOKEN ?? env.INTENTOPS_GITHUB_TOKEN
    const number = githubPrNumber(env, eventPayload)
    const missing = [
      !env.GITHUB_REPOSITORY && 'GITHUB_REPOSITORY',
      !token && 'GITHUB_TOKEN',
      number === undefined && 'a pull-request number (GITHUB_EVENT_PATH or GITHUB_REF=refs/pull/N/merge)',
    ].filter(Boolean)
    if (missing.length) throw createError('ERR_PUBLISH_NO_TARGET', { provider: 'GitHub', missing: missing.join(', ') })
    return {
      provider: 'github',
      apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/$/, ''),
      project: env.GITHUB_REPOSITORY!,
      number: number!,
      sha: githubHeadSha(env, eventPayload),
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'intentops',
      },
    }
  }
  if (env.GITLAB_CI || env.CI_API_V4_URL) {
    const privateToken = env.INTENTOPS_GITLAB_TOKEN ?? env.GITLAB_TOKEN
    const missing = [
      !env.CI_API_V4_URL && 'CI_API_V4_URL',
      !env.CI_PROJECT_ID && 'CI_PROJECT_ID',
      !env.CI_MERGE_REQUEST_IID && 'CI_MERGE_REQUEST_IID (run in a merge-request pipeline)',
      !privateToken && !env.CI_JOB_TOKEN && 'INTENTOPS_GITLAB_TOKEN or CI_JOB_TOKEN',
    ].filter(Boolean)
    if (missing.length) throw createError('ERR_PUBLISH_NO_TARGET', { provider: 'GitLab', missing: missing.join(', ') })
    return {
      provider: 'gitlab',
      apiUrl: env.CI_API_V4_URL!.replace(/\/$/, ''),
      project: encodeURIComponent(env.CI_PROJECT_ID!),
      number: Number(env.CI_MERGE_REQUEST_IID),
      sha: env.CI_COMMIT_SHA,
      headers: privateToken ? { 'private-token': privateToken } : { 'job-token': env.CI_JOB_TOKEN! },
    }
  }
  throw createError('ERR_PUBLISH_NO_TARGET', {
    provider: 'a CI',
    missing: 'GITHUB_REPOSITORY (GitHub Actions) or CI_API_V4_URL (GitLab CI)',
  })
}

function githubPrNumber(env: Env, payload: unknown): number | undefined {
  const fromPayload = (payload as { pull_request?: { number?: unknown } } | undefined)?.pull_request?.number
  if (typeof fromPayload === 'number') return fromPayload
  const m = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '')
  if (m) return Number(m[1])
  if (env.INTENTOPS_PR_NUMBER && /^\d+$/.test(env.INTENTOPS_PR_NUMBER)) return Number(env.INTENTOPS_PR_NUMBER)
  return undefined
}

function githubHeadSha(env: Env, payload: unknown): string | undefined {
  const head = (payload as { pull_request?: { head?: { sha?: unknown } } } | undefined)?.pull_request?.head?.sha
  return typeof head === 'string' ? head : env.GITHUB_SHA
}

interface Comment {
  id: number
  body: string
}

/** Create or update our one comment, then set the commit status. */
export async function publishPrReport(
  target: PrTarget,
  report: { markdown: string; passed: boolean; summary: string; targetUrl?: string },
  retry: RetryOptions = {},
): Promise<PublishResult> {
  const result: PublishResult = { provider: target.provider, ok: false, statusSet: false, errors: [] }
  const body = `${REPORT_MARKER}\n${report.markdown}`
  const json = { ...target.headers, 'content-type': 'application/json' }
  const gh = target.provider === 'github'
  const base = gh
    ? `${target.apiUrl}/repos/${target.project}/issues/${target.number}`
    : `${target.apiUrl}/projects/${target.project}/merge_requests/${target.number}`
  const commentsUrl = gh ? `${base}/comments` : `${base}/notes`

  let existing: Comment | undefined
  for (let page = 1; page <= 20 && !existing; page++) {
    const res = await fetchWithRetry(`${commentsUrl}?per_page=100&page=${page}`, { headers: target.headers }, retry)
    if (!res.ok) {
      result.errors.push(`listing comments failed: ${res.error ?? `HTTP ${res.status}`}`)
      return result
    }
    const comments = JSON.parse(res.body) as Comment[]
    existing = comments.find((c) => typeof c.body === 'string' && c.body.startsWith(REPORT_MARKER))
    if (comments.length < 100) break
  }

  const editUrl = existing
    ? gh
      ? `${target.apiUrl}/repos/${target.project}/issues/comments/${existing.id}`
      : `${commentsUrl}/${existing.id}`
    : commentsUrl
  const method = existing ? (gh ? 'PATCH' : 'PUT') : 'POST'
  const res = await fetchWithRetry(editUrl, { method, headers: json, body: JSON.stringify({ body }) }, retry)
  if (!res.ok) {
    result.errors.push(`${existing ? 'updating' : 'posting'} the comment failed: ${res.error ?? `HTTP ${res.status}`}`)
  } else {
    result.action = existing ? 'updated' : 'created'
    result.commentId = existing?.id ?? (JSON.parse(res.body) as Comment).id
  }

  if (target.sha) {
    const description = report.summary.slice(0, 139)
    const statusUrl = gh
      ? `${target.apiUrl}/repos/${target.project}/statuses/${target.sha}`
      : `${target.apiUrl}/projects/${target.project}/statuses/${target.sha}`
    const payload = gh
      ? {
          state: report.passed ? 'success' : 'failure',
          context: 'intentops',
          description,
          target_url: report.targetUrl,
        }
      : { state: report.passed ? 'success' : 'failed', name: 'intentops', description, target_url: report.targetUrl }
    const st = await fetchWithRetry(statusUrl, { method: 'POST', headers: json, body: JSON.stringify(payload) }, retry)
    if (st.ok) result.statusSet = true
    else result.errors.push(`setting the commit status failed: ${st.error ?? `HTTP ${st.status}`}`)
  } else {
    result.errors.push('no commit SHA in the environment; commit status not set')
  }
  result.ok = result.action !== undefined && result.statusSet
  return result
}
