/**
 * Every error a route can meet, turned into a catalog error and answered as JSON: `{ code, message, hint,
 * request_id }`, or Rasa's `{ version, status: "failure", reason, message, code }` on the Rasa-compatible routes.
 * @module
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { createError, type IntentopsError, isIntentopsError } from '../errors.js'
import { VERSION } from '../version.js'
import { mustClose } from './body.js'

/** Map a Fastify, parser or plugin error onto the catalog; `request` names the content type or URL it was about. */
export function toCatalogError(
  err: unknown,
  limits: { bodyLimitBytes: number },
  request?: Pick<FastifyRequest, 'method' | 'url' | 'headers'>,
): IntentopsError {
  if (isIntentopsError(err)) return err
  const e = err as FastifyError & { validationContext?: string; statusCode?: number }
  if (e.validation) {
    const first = e.validation[0]
    const where = `${e.validationContext ?? 'body'}${first?.instancePath ? first.instancePath.replace(/\//g, '.') : ''}`
    const key = () => String((first?.params as { additionalProperty?: string } | undefined)?.additionalProperty)
    const detail = first
      ? first.keyword === 'additionalProperties'
        ? // A message's `fields` take any name that fits the name pattern; other objects have a fixed set of keys.
          first.schemaPath.endsWith('/fields/additionalProperties')
          ? `${where} has the field name ${JSON.stringify(key())}: a field name has 1 to 64 characters and no line break`
          : `${where} has an unknown key '${key()}'`
        : `${where} ${first.message ?? 'is invalid'}`
      : e.message
    return createError('ERR_SERVE_BAD_REQUEST', { detail }, { cause: err })
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return createError('ERR_SERVE_BODY_TOO_LARGE', { limit: limits.bodyLimitBytes }, { cause: err })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return createError('ERR_SERVE_UNSUPPORTED_MEDIA_TYPE', { type: mediaType(request) }, { cause: err })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return createError('ERR_SERVE_INVALID_JSON', { detail: 'the body is empty' }, { cause: err })
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return createError('ERR_SERVE_BAD_REQUEST', { detail: 'the body length does not match Content-Length' })
    case 'FST_ERR_BAD_URL':
      return createError(
        'ERR_SERVE_BAD_REQUEST',
        { detail: `the URL path ${clip(request?.url ?? '')} is not valid percent-encoding` },
        { cause: err, hint: 'Percent-encode the path: `%` starts two hex digits, and a literal `%` is `%25`.' },
      )
  }
  if (e instanceof SyntaxError || e.name === 'SyntaxError') {
    return createError('ERR_SERVE_INVALID_JSON', { detail: e.message }, { cause: err })
  }
  if (e.statusCode === 408) return createError('ERR_SERVE_BODY_TIMEOUT', { ms: '?' }, { cause: err })
  // A plugin's refusal (the static files of /docs) keeps its status.
  const url = clip(request?.url ?? '')
  if (e.statusCode === 403) return createError('ERR_SERVE_PATH_FORBIDDEN', { url }, { cause: err })
  if (e.statusCode === 404) {
    return createError('ERR_SERVE_ROUTE_NOT_FOUND', { method: request?.method ?? '?', url }, { cause: err })
  }
  if (e.statusCode === 416) return createError('ERR_SERVE_RANGE_NOT_SATISFIABLE', { url }, { cause: err })
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return createError('ERR_SERVE_BAD_REQUEST', { detail: e.message }, { cause: err })
  }
  return createError('ERR_INTERNAL', { detail: e?.message ?? String(err) }, { cause: err })
}

/** The media type a request sent (without parameters such as a multipart boundary), or `none`. */
function mediaType(request: Pick<FastifyRequest, 'headers'> | undefined): string {
  const type = request?.headers['content-type']?.split(';')[0]?.trim()
  return type ? clip(type) : 'none'
}

/** Cut what a client sent before it goes into a message. */
function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** The Rasa-compatible routes' paths: errors there answer in Rasa's shape even when no route matched the URL. */
export function isRasaPath(url: string): boolean {
  return /^\/(?:model|status|version)(?:[/%?]|$)/.test(url)
}

/**
 * The JSON of an error: Rasa's shape, or the catalog's with the request id. `request` is anything with the id, as
 * the answers Node's parser refuses have no Fastify request.
 */
export function errorBody(err: IntentopsError, request: Pick<FastifyRequest, 'id'>, rasa: boolean) {
  if (rasa) {
    return {
      version: VERSION,
      status: 'failure' as const,
      reason: err.code,
      message: err.message,
      details: {},
      ...(err.hint ? { help: err.hint } : {}),
      code: err.statusCode,
    }
  }
  return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), request_id: request.id }
}

/**
 * Seconds a client should wait before retrying a 503 (RFC 9110 §10.2.3). A replica shutting down is replaced at once
 * behind a load balancer, so retry soon; a model or store that is not there yet takes longer.
 */
function retryAfter503(code: string): number {
  return code === 'ERR_SERVE_SHUTTING_DOWN' ? 1 : 5
}

/**
 * 5xx answers that describe the server's state, not a fault: a request refused during a rolling restart, or before
 * the first model loaded. They are logged at info, without a stack.
 */
export const OPERATIONAL_CODES: ReadonlySet<string> = new Set(['ERR_SERVE_SHUTTING_DOWN', 'ERR_SERVE_NO_MODEL'])

/**
 * Send a catalog error the way the route speaks. A request that matched no route (a 404, or a 503 while shutting
 * down) speaks Rasa when its path is under a Rasa prefix: a Rasa client reads every answer there in one shape.
 * `rasaShape` decides it for errors met before routing.
 */
export function sendError(err: IntentopsError, request: FastifyRequest, reply: FastifyReply, rasaShape?: boolean) {
  const rasa =
    rasaShape ??
    (request.is404
      ? isRasaPath(request.url)
      : (request.routeOptions?.config as { rasa?: boolean } | undefined)?.rasa === true)
  // The body was not read to the end: the connection cannot carry another request.
  if (mustClose(request)) reply.header('connection', 'close')
  // RFC 6750: a 401 names the scheme it wants; a token that was sent and refused is an invalid one.
  if (err.statusCode === 401) {
    reply.header(
      'www-authenticate',
      request.headers.authorization ? 'Bearer realm="intentops", error="invalid_token"' : 'Bearer realm="intentops"',
    )
  }
  if (err.statusCode === 429 && err.params.retryAfter !== undefined) {
    reply.header('retry-after', String(err.params.retryAfter))
  } else if (err.statusCode === 503) {
    reply.header('retry-after', String(err.params.retryAfter ?? retryAfter503(err.code)))
  }
  return reply
    .code(err.statusCode)
    .type('application/json; charset=utf-8')
    .send(errorBody(err, request, rasa))
}
