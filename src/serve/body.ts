/**
 * The JSON body parser: a byte limit checked against Content-Length and while reading, a deadline for the whole
 * body (slow uploads get 408 and lose their connection), no Content-Encoding but `identity` (415), strict UTF-8, and
 * Fastify's prototype-poisoning-safe JSON parse.
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createError } from '../errors.js'

const decoder = new TextDecoder('utf-8', { fatal: true })

export interface BodyLimits {
  bodyLimitBytes: number
  bodyTimeoutMs: number
}

/** Install the parser for `application/json` (and `+json` types); every other content type gets 415. */
export function installJsonParser(app: FastifyInstance, limits: BodyLimits): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  const handler = (
    request: FastifyRequest,
    payload: IncomingMessage,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    // Compressed bodies are refused, not inflated: a small gzip body can inflate past the byte limit.
    const encoding = request.headers['content-encoding']?.trim()
    if (encoding && encoding.toLowerCase() !== 'identity') {
      markClose(request)
      done(createError('ERR_SERVE_UNSUPPORTED_ENCODING', { encoding: encoding.slice(0, 100) }))
      return
    }
    // JSON is UTF-8 (RFC 8259): a body declared in another charset would be misread, so it is refused. Parameters are
    // rare, and looked at only when there are some.
    const type = request.headers['content-type']
    if (type?.includes(';')) {
      const charset = otherCharset(type)
      if (charset !== undefined) {
        markClose(request)
        done(createError('ERR_SERVE_UNSUPPORTED_CHARSET', { charset: charset.slice(0, 100) }))
        return
      }
    }
    readBody(request, payload, limits, (err, buf) => {
      if (err) {
        done(err)
        return
      }
      // A bodyless POST often carries a JSON content type anyway; a route that takes no body accepts it empty.
      if (buf!.length === 0 && request.routeOptions.schema?.body === undefined) {
        done(null, undefined)
        return
      }
      let text: string
      try {
        text = decoder.decode(buf)
      } catch {
        done(createError('ERR_SERVE_INVALID_UTF8', { offset: firstBadUtf8(buf!) }))
        return
      }
      parseJson(request, text, (e, body) => done(e ? toSyntaxError(e) : null, body))
    })
  }
  app.addContentTypeParser('application/json', handler)
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, handler)
}

/** The charset a Content-Type names when it is not UTF-8 (`utf-8`/`utf8`, any case, quoted or not), else undefined. */
export function otherCharset(contentType: string): string | undefined {
  const m = /;\s*charset\s*=\s*("([^"]*)"|[^;\s]*)/i.exec(contentType)
  if (!m) return undefined
  const charset = m[2] ?? m[1]!
  if (/^utf-?8$/i.test(charset)) return undefined
  return charset === '' ? '""' : charset
}

function toSyntaxError(err: Error): Error {
  if (err.name === 'SyntaxError' || (err as { code?: string }).code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return err
  return Object.assign(new SyntaxError(err.message), { cause: err })
}

// Callback style, not a promise: this runs for every request with a body.
function readBody(
  request: FastifyRequest,
  payload: IncomingMessage,
  limits: BodyLimits,
  callback: (err: Error | null, buf?: Buffer) => void,
  deferred = false,
): void {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > limits.bodyLimitBytes) {
    markClose(request)
    callback(createError('ERR_SERVE_BODY_TOO_LARGE', { limit: limits.bodyLimitBytes }))
    return
  }
  // Every declared byte is already buffered: the HTTP parser bounds the body by Content-Length, so it is whole; take
  // it without listeners or a timer.
  if (Number.isFinite(declared) && payload.readableLength === declared && !payload.readableFlowing) {
    const buf = declared === 0 ? Buffer.alloc(0) : (payload.read() as Buffer | null)
    if (buf !== null && buf.length === declared) {
      callback(null, buf)
      return
    }
    if (buf !== null) payload.unshift(buf)
  }
  // With synchronous hooks the parser gets here from the headers callback, before it hands over the body bytes of
  // the same packet. One microtask later (after the packet is parsed) a small body is buffered whole.
  if (!deferred && payload.readableLength === 0 && !payload.complete) {
    queueMicrotask(() => readBody(request, payload, limits, callback, true))
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  let settled = false
  const finish = (err: Error | null, buf?: Buffer) => {
    if (settled) return
    settled = true
    if (timer) clearTimeout(timer)
    payload.off('data', onData)
    payload.off('end', onEnd)
    payload.off('error', onError)
    if (err) {
      markClose(request)
      // Stop reading: the connection closes after the error answer.
      payload.pause()
      callback(err)
    } else callback(null, buf)
  }
  const onData = (chunk: Buffer) => {
    size += chunk.length
    if (size > limits.bodyLimitBytes) {
      finish(createError('ERR_SERVE_BODY_TOO_LARGE', { limit: limits.bodyLimitBytes }))
      return
    }
    chunks.push(chunk)
  }
  const onEnd = () => {
    if (Number.isFinite(declared) && declared !== size) {
      finish(createError('ERR_SERVE_BAD_REQUEST', { detail: 'the body length does not match Content-Length' }))
      return
    }
    finish(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
  }
  const onError = (err: Error) => finish(createError('ERR_SERVE_BAD_REQUEST', { detail: err.message }))
  // A body the HTTP parser already holds whole cannot be slow: no deadline to arm.
  const timer = payload.complete
    ? undefined
    : setTimeout(
        () => finish(createError('ERR_SERVE_BODY_TIMEOUT', { ms: limits.bodyTimeoutMs })),
        limits.bodyTimeoutMs,
      )
  payload.on('data', onData)
  payload.on('end', onEnd)
  payload.on('error', onError)
}

const kClose = Symbol('intentops.closeConnection')

/** Close the connection after the answer to this request: its body is not (or not wholly) read. */
export function markClose(request: FastifyRequest): void {
  ;(request as unknown as Record<symbol, boolean>)[kClose] = true
}

/** Whether the answer to this request must close the connection (its body was not read to the end). */
export function mustClose(request: FastifyRequest): boolean {
  return (request as unknown as Record<symbol, boolean>)[kClose] === true
}

/** Offset of the first byte that breaks UTF-8 decoding. */
export function firstBadUtf8(buf: Uint8Array): number {
  let lo = 0
  let hi = buf.length
  // Validity of a prefix is monotone (streaming decode accepts an unfinished last sequence), so bisect.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (validPrefix(buf.subarray(0, mid))) lo = mid
    else hi = mid - 1
  }
  // The valid prefix may end inside a sequence that the next byte breaks: report where that sequence starts.
  for (let j = lo - 1; j >= Math.max(0, lo - 3); j--) {
    const b = buf[j]!
    if (b >= 0xc0) return (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > lo - j ? j : lo
    if (b < 0x80) break
  }
  return lo
}

function validPrefix(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true })
    return true
  } catch {
    return false
  }
}
