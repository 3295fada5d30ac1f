/**
 * Answers to requests Node's HTTP parser refuses before Fastify sees them (malformed HTTP, headers over the size
 * limit, headers that never finish): a catalog error as JSON with a request id of its own, as every other answer
 * has, in Rasa's shape when the request line names a Rasa-compatible path, then the connection closes. On a
 * keep-alive connection the answers to the requests pipelined before the refused one go out first, in order.
 * @module
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createError, type IntentopsError } from '../errors.js'
import { uuidv7 } from '../util/uuid.js'
import { errorBody, isRasaPath } from './errors.js'

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
    // With the parser inside a request its head had arrived: it is the body that did not, within requestTimeout. An
    // answer in progress is no sign of that: it may be an earlier pipelined request's.
    return unfinishedRequest(socket)
      ? createError('ERR_SERVE_BODY_TIMEOUT', { ms: limits.requestTimeoutMs })
      : createError('ERR_SERVE_HEADERS_TIMEOUT', { ms: limits.headersTimeoutMs })
  }
  const detail = (err.code && DETAILS[err.code]) ?? err.reason ?? err.message
  return createError('ERR_SERVE_MALFORMED_HTTP', { detail: detail.slice(0, 200) }, { cause: err })
}

/** The request whose head the parser has read and whose body it has not finished, if any. */
function unfinishedRequest(socket: Socket): IncomingMessage | undefined {
  const incoming = (socket as Socket & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming
  return incoming && !incoming.complete ? incoming : undefined
}

/** A request line's target in origin form (`POST /model/parse HTTP/1.1`); the version may be missing or bad. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ (\/\S*)/

/**
 * The target of the request a parser error is about, where what the server holds still tells it, else undefined.
 * A request whose head was parsed and whose body was not finished (a bad chunk, a body timeout) is the parser's
 * current message. Otherwise the error is in a head: its request line is the last one starting before the error
 * in the bytes the parser failed on (earlier pipelined requests may precede it; header lines never look like one),
 * or the URL Node's parser handed over early when the head has more than 32 headers. A head split over several
 * reads, or one that never finished, leaves nothing to read.
 */
export function failedRequestTarget(
  err: NodeJS.ErrnoException & { rawPacket?: unknown; bytesParsed?: unknown },
  socket: Socket,
): string | undefined {
  const parser = (socket as Socket & { parser?: { incoming?: IncomingMessage | null; _url?: unknown } | null }).parser
  const incoming = parser?.incoming
  if (incoming && !incoming.complete) return incoming.url
  if (Buffer.isBuffer(err.rawPacket)) {
    const text = err.rawPacket.toString('latin1')
    const at = typeof err.bytesParsed === 'number' ? Math.min(err.bytesParsed, text.length) : text.length
    const lineStart = text.lastIndexOf('\n', at - 1) + 1
    const lines = [text.slice(lineStart).split('\n', 1)[0]!, ...text.slice(0, lineStart).split('\n').reverse()]
    for (const line of lines) {
      const target = REQUEST_LINE.exec(line)?.[1]
      if (target !== undefined) return target
    }
  }
  return typeof parser?._url === 'string' && parser._url !== '' ? parser._url : undefined
}

/** Sockets whose parser error is being answered: the parser repeats its error on every later read. */
const answering = new WeakSet<Socket>()

/**
 * Why the error may or may not be written: `ready` once every answer queued on the socket ahead of it has gone out;
 * `closed` when the socket closed meanwhile; `timeout` when an earlier answer is still unfinished after the bound (a
 * 400 written then would read as that request's answer).
 */
type Turn = 'ready' | 'closed' | 'timeout'

/**
 * Waits for the error's turn on a keep-alive connection: Node keeps the answer being written on
 * `socket._httpMessage` and, when it finishes, hands the socket to the next queued answer before our `finish`
 * listener runs. The refused request's own answer, when its head was read, is queued too: the error takes its
 * place, or follows it when a route had begun it.
 */
function awaitTurn(socket: Socket, refused: IncomingMessage | undefined, ms: number, then: (turn: Turn) => void): void {
  let waitingOn: ServerResponse | undefined
  const settle = (turn: Turn) => {
    clearTimeout(timer)
    waitingOn?.off('finish', next)
    socket.off('close', onClose)
    then(turn)
  }
  const onClose = () => settle('closed')
  const next = () => {
    waitingOn?.off('finish', next)
    waitingOn = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined
    if (waitingOn === undefined || (waitingOn.req === refused && !waitingOn.headersSent)) return settle('ready')
    waitingOn.once('finish', next)
  }
  const timer = setTimeout(() => settle('timeout'), ms)
  timer.unref()
  socket.once('close', onClose)
  next()
}

/**
 * Fastify's `clientErrorHandler`: writes the catalog's `{code, message, hint, request_id}` (Rasa's shape when the
 * request names a Rasa path, as every other answer there is) with the error's status, `x-request-id` and
 * `connection: close`, then destroys the socket. Answers to requests pipelined before the refused one go out first:
 * the error waits for them (at most `requestTimeoutMs`) and is never written into one. The request never became a
 * Fastify request, so it gets an id here, made as Fastify's are, and is logged with it (`reqId`, as request logs
 * name it), at info like the other answers to a client's mistake.
 */
export function clientErrorHandler(limits: ClientErrorLimits) {
  return function onClientError(
    this: FastifyInstance,
    err: NodeJS.ErrnoException & { reason?: string },
    socket: Socket,
  ): void {
    // A reset connection has nobody to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed || answering.has(socket)) return
    answering.add(socket)
    const e = clientErrorToCatalog(err, socket, limits)
    const id = uuidv7()
    this.log.info({ reqId: id, code: e.code, parserCode: err.code, remoteAddress: socket.remoteAddress }, e.message)
    // Read now: the parser's state and the failed bytes are this error's only while it is being handled.
    const target = failedRequestTarget(err, socket)
    awaitTurn(socket, unfinishedRequest(socket), limits.requestTimeoutMs, (turn) => {
      // Not writable when the earlier answer was the connection's last (`Connection: close`): nobody waits for more.
      if (turn === 'ready' && socket.writable) {
        const body = JSON.stringify(errorBody(e, { id }, target !== undefined && isRasaPath(target)))
        socket.write(
          `HTTP/1.1 ${e.statusCode} ${http.STATUS_CODES[e.statusCode]}\r\n` +
            'Content-Type: application/json; charset=utf-8\r\n' +
            `X-Request-Id: ${id}\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n` +
            'Connection: close\r\n\r\n' +
            body,
        )
      } else if (turn === 'timeout') {
        this.log.info(
          { reqId: id, code: e.code },
          `Not answered: an earlier answer on the connection was unfinished after ${limits.requestTimeoutMs} ms`,
        )
      }
      socket.destroy(err)
    })
  }
}
