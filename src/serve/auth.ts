/**
 * Bearer tokens checked against the store, with roles. `requireRole(role)` is the preHandler every protected route
 * uses, ours and those of plugins (review UI, analytics) mounted through `buildApp({ plugins })`; `buildApp` moves it
 * to onRequest.
 * @module
 */
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { createError } from '../errors.js'
import type { PredictionStore, TokenRecord, TokenRole } from '../store/types.js'

/** What each role may do: admin ⊇ annotator ⊇ client. */
const RANK: Record<TokenRole, number> = { client: 1, annotator: 2, admin: 3 }

export interface AuthOptions {
  store?: Pick<PredictionStore, 'verifyToken'>
  /** How long a verified token is trusted without asking the store again, ms (revocation takes at most this). */
  cacheMs?: number
}

/** Verifies bearer tokens, caching the answer briefly so a hot parse route does not query the store each time. */
export class TokenVerifier {
  readonly #store: Pick<PredictionStore, 'verifyToken'> | undefined
  readonly #cacheMs: number
  readonly #cache = new Map<string, { record: TokenRecord | undefined; until: number }>()

  constructor(options: AuthOptions = {}) {
    this.#store = options.store
    this.#cacheMs = options.cacheMs ?? 5000
  }

  /** The token's record; undefined for an unknown or revoked token. Throws ERR_SERVE_AUTH_UNAVAILABLE. */
  async verify(token: string): Promise<TokenRecord | undefined> {
    const key = createHash('sha256').update(token).digest('base64url')
    const now = Date.now()
    const hit = this.#cache.get(key)
    if (hit && hit.until > now) return hit.record
    if (!this.#store) throw createError('ERR_SERVE_AUTH_UNAVAILABLE', { detail: 'the server runs without a store' })
    let record: TokenRecord | undefined
    try {
      record = await this.#store.verifyToken(token)
    } catch (err) {
      throw createError('ERR_SERVE_AUTH_UNAVAILABLE', { detail: (err as Error).message }, { cause: err })
    }
    if (this.#cache.size >= 10_000) this.#cache.clear()
    this.#cache.set(key, { record, until: now + this.#cacheMs })
    return record
  }
}

const kAuth = Symbol('intentops.auth')

interface AuthState {
  [kAuth]?: Promise<TokenRecord | undefined>
}

/** The bearer token of a request, if it sent one (Rasa routes also take Rasa's `?token=`). */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) {
    const rasa = (request.routeOptions?.config as { rasa?: boolean } | undefined)?.rasa === true
    const token = rasa ? (request.query as { token?: unknown } | undefined)?.token : undefined
    return typeof token === 'string' && token.length > 0 ? token : undefined
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m ? m[1] : undefined
}

/** Resolve (once per request) the token record of a request; undefined when it sent no token. */
export function authenticate(request: FastifyRequest): Promise<TokenRecord | undefined> {
  const state = request as unknown as AuthState
  if (!state[kAuth]) {
    const token = bearerToken(request)
    if (token === undefined) {
      state[kAuth] = request.headers.authorization
        ? Promise.reject(
            createError('ERR_SERVE_UNAUTHORIZED', { detail: 'the Authorization header is not `Bearer <token>`' }),
          )
        : Promise.resolve(undefined)
    } else {
      const verifier = (request.server as unknown as { intentops: { tokens: TokenVerifier } }).intentops.tokens
      state[kAuth] = verifier.verify(token).then((record) => {
        if (!record) throw createError('ERR_SERVE_UNAUTHORIZED', { detail: 'the token is unknown or revoked' })
        return record
      })
    }
    // Rate limiting reads the token too; an unhandled rejection must not surface before a route awaits it.
    state[kAuth].catch(() => undefined)
  }
  return state[kAuth]
}

const kRole = Symbol('intentops.requireRole')

/**
 * A preHandler that lets a request through only with a live token of `role` or a higher one: 401 without a
 * (valid) token, 403 with a weaker role. On an app from `buildApp` it runs as an onRequest hook instead (see
 * {@link isRoleCheck}), so a request without the role is refused before its body is read.
 * @example
 * app.get('/v1/review/inbox', { preHandler: requireRole('annotator') }, handler)
 */
export function requireRole(role: TokenRole): preHandlerAsyncHookHandler {
  const checkRole = async function checkRole(request: FastifyRequest, _reply: FastifyReply) {
    const record = await authenticate(request)
    if (!record) throw createError('ERR_SERVE_UNAUTHORIZED', { detail: 'send `Authorization: Bearer <token>`' })
    if (RANK[record.role] < RANK[role]) {
      throw createError('ERR_SERVE_FORBIDDEN', { role: record.role, required: `${role} or higher` })
    }
  }
  return Object.assign(checkRole, { [kRole]: role })
}

/** Whether a hook is a `requireRole` check. */
export function isRoleCheck(hook: unknown): hook is preHandlerAsyncHookHandler {
  return typeof hook === 'function' && (hook as { [kRole]?: TokenRole })[kRole] !== undefined
}

/** The token record of a request that passed `requireRole` (or sent a valid token), else undefined. */
export async function requestToken(request: FastifyRequest): Promise<TokenRecord | undefined> {
  try {
    return await authenticate(request)
  } catch {
    return undefined
  }
}
