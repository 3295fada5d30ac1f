/**
 * Deploy by telling a running server to load a model: `PUT /model` with `{"model_file": ...}` and a bearer token,
 * as the Rasa server's admin API does. The server resolves the version or alias in the registry and verifies it
 * before swapping; a 204 means it is serving the new model.
 * @module
 */
import { fetchWithRetry, type HttpResult, type RetryOptions } from '../util/http.js'

export interface DeployRequest {
  /** Base URL of the server, e.g. `http://nlu.internal:5005`. */
  server: string
  token: string
  /** A registry version (`7`, `v7`), an alias (`production`) or a model file path the server can read. */
  model: string
}

export interface DeployResult extends HttpResult {
  url: string
}

/** Never throws for a server's answer: `ok` is true only for the 204 the admin API promises. */
export async function deployModel(req: DeployRequest, retry: RetryOptions = {}): Promise<DeployResult> {
  const url = `${req.server.replace(/\/+$/, '')}/model`
  const res = await fetchWithRetry(
    url,
    {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${req.token}` },
      body: JSON.stringify({ model_file: req.model }),
    },
    retry,
  )
  const ok = res.status === 204
  return {
    ...res,
    ok,
    url,
    ...(ok ? {} : { error: res.error ?? `HTTP ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ''}` }),
  }
}
