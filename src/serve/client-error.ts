/**
 * Answers to requests Node's HTTP parser refuses before Fastify sees them (malformed HTTP, headers over the size
 * limit, headers that never finish): a catalog error as JSON with a request id of its own, as every other answer
 * has, then the connection closes.
 * @module
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createError, type IntentopsError } from '../errors.js'
import { uuidv7 } from '../util/uuid.js'

export interface ClientErrorLimits {
  /** The server's `headersTimeout`, ms. */
  headersTimeoutMs: number
  /** The server's `requestTimeout`, ms. */
  requestTimeoutMs: number
  /** The server's `maxHeaderSize`, bytes. */
  maxHeaderSize?: number
}

/** llhttp's reasons, in the words of the catalog, where they name the header at fault. */
const DETAILS: Record<string, string> = {
  HPE_INVALID_METHOD: 'the method is not one HTTP defines (or the request line is not HTTP)',
  HPE_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding is not `chunked` last, or comes with Content-Length',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length appears twice, or comes with Transfer-Encoding',
  HPE_INVALID_CONTENT_LENGTH: 'Content-Length is not a number',
  HPE_INVALID_CHUNK_SIZE: 'a chunk size of the chunked body is not a hex number',
}

/** The catalog error for an error of Node's HTTP parser (or of its request timers). */
export function clientErrorToCatalog(
  err: NodeJS.ErrnoException & { reason?: string },
  socket: Socket,
  limits: ClientErrorLimits,
): IntentopsError {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return createError('ERR_SERVE_HEADERS_TOO_LARGE', { limit: limits.maxHeaderSize ?? http.maxHeaderSize })
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    // With a request in flight the headers had arrived: it is the body that did not, within requestTimeout.
    return inFlight(socket)
      ? createError('ERR_SERVE_BODY_TIMEOUT', { ms: limits.requestTimeoutMs })
      : createError('ERR_SERVE_HEADERS_TIMEOUT', { ms: limits.headersTimeoutMs })
  }
  const detail = (err.code && DETAILS[err.code]) ?? err.reason ?? err.message
  return createError('ERR_SERVE_MALFORMED_HTTP', { detail: detail.slice(0, 200) }, { cause: err })
}

function inFlight(socket: Socket): boolean {
  return (socket as Socket & { _httpMessage?: unknown })._httpMessage != null
}

/**
 * Fastify's `clientErrorHandler`: writes the catalog's `{code, message, hint, request_id}` with the error's status,
 * `x-request-id` and `connection: close`, when nothing of another answer went out on the socket yet, then destroys
 * it. The request never became a Fastify request, so it gets an id here, made as Fastify's are, and is logged with
 * it (`reqId`, as request logs name it), at info like the other answers to a client's mistake.
 */
export function clientErrorHandler(limits: ClientErrorLimits) {
  return function onClientError(
    this: FastifyInstance,
    err: NodeJS.ErrnoException & { reason?: string },
    socket: Socket,
  ): void {
    // A reset connection has nobody to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const e = clientErrorToCatalog(err, socket, limits)
    const id = uuidv7()
    this.log.info({ reqId: id, code: e.code, parserCode: err.code, remoteAddress: socket.remoteAddress }, e.message)
    // As Node's own handler: never write into an answer that has begun, it would corrupt what the client reads.
    const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (socket.writable && !response?.headersSent) {
      const body = JSON.stringify({
        code: e.code,
        message: e.message,
        ...(e.hint ? { hint: e.hint } : {}),
        request_id: id,
      })
      socket.write(
        `HTTP/1.1 ${e.statusCode} ${http.STATUS_CODES[e.statusCode]}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `X-Request-Id: ${id}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      )
    }
    socket.destroy(err)
  }
}
