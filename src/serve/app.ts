/**
 * The app factory: a Fastify instance with every route, hook and plugin, and no `listen()`. Tests inject requests
 * into it or listen on loopback; `startServer` adds the socket and the signals.
 * @module
 */
import http from 'node:http'
import fastifyCors from '@fastify/cors'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyPluginCallback,
  type FastifyReply,
  type FastifyServerOptions,
  LogController,
  type onRequestHookHandler,
} from 'fastify'
import type { ServeConfig } from '../config/schema.js'
import { createError, type IntentopsError } from '../errors.js'
import type { ModelRegistry } from '../registry/registry.js'
import { assertRedactionRules, type RedactionRule } from '../store/redact.js'
import type { PredictionStore } from '../store/types.js'
import { uuidv7 } from '../util/uuid.js'
import { VERSION } from '../version.js'
import { authenticate, bearerToken, isRoleCheck, TokenVerifier } from './auth.js'
import { installJsonParser, markClose } from './body.js'
import { clientErrorHandler } from './client-error.js'
import { isRasaPath, OPERATIONAL_CODES, sendError, toCatalogError } from './errors.js'
import { createServeMetrics, type ServeMetrics } from './metrics.js'
import { ModelHolder } from './model-holder.js'
import { ModelManager } from './models.js'
import type { PredictionSink } from './predict.js'
import { RateLimiter } from './rate-limit.js'
import { RouteMethods } from './route-methods.js'
import { adminRoutes } from './routes/admin.js'
import { parseRoutes } from './routes/parse.js'
import { rasaRoutes } from './routes/rasa.js'
import { statusRoutes } from './routes/status.js'
import { schemaController } from './validation.js'

/** A plugin other modules mount on the server (review UI, analytics), with its options. */
export type ServePlugin =
  | FastifyPluginAsync
  | FastifyPluginCallback
  | { plugin: FastifyPluginAsync | FastifyPluginCallback; options?: Record<string, unknown> }

/** A prediction sink with the lifecycle and counters of the store's log queue (`PredictionLogQueue`). */
export interface PredictionLog extends PredictionSink {
  /** Resolves when everything queued is written (or `timeoutMs` passed), with the number still unwritten. */
  flush(options?: { timeoutMs?: number }): Promise<number>
  /** Stops accepting, writes what is queued within `timeoutMs`; resolves with the number abandoned. */
  close(options?: { timeoutMs?: number }): Promise<number>
  readonly depth: number
  readonly dropped: number
  /** Records refused because they could never be stored. */
  readonly invalid: number
  readonly written: number
  /** Whether the queue is falling behind its writer (from `store.writerBehindAt` of its size, until back under `store.writerCaughtUpAt`). */
  readonly behind?: boolean
}

export interface BuildAppOptions {
  /** The resolved `serve` section (see `resolveServeConfig`). */
  config: Readonly<ServeConfig>
  /** Project root: relative model paths resolve against it. */
  root: string
  /** Registry model name. */
  modelName: string
  registry?: ModelRegistry
  /** `registry.allowUnsigned`: serve model files that match no signed version. */
  allowUnsigned?: boolean
  /**
   * The store: tokens, readiness; closed with the app when `ownsStore`. When predictions are logged, the redaction
   * rules it knows (`openStore` keeps them) are judged on the longest text `config` lets through.
   */
  store?: PredictionStore
  ownsStore?: boolean
  /** Where predictions go when `config.logPredictions` is on; flushed and closed with the app. */
  predictionLog?: PredictionLog
  /**
   * What the log queue writes through (the store's writer thread, `openLogWriter`); closed after the queue drained.
   * Its redaction rules, when it tells them, are judged in place of the store's.
   */
  logWriter?: {
    close(): Promise<void>
    cpuSeconds?(): number | undefined
    readonly redaction?: readonly RedactionRule[]
  }
  /** A pino logger, or false for none. Default: pino at `config.logLevel` on stdout. */
  logger?: FastifyBaseLogger | boolean
  /** Extra routes: each is registered after ours, and can use `requireRole`. */
  plugins?: readonly ServePlugin[]
  /** Load the model (file or alias watch) when the app starts. Default true. */
  autoLoad?: boolean
}

/** What routes and plugins reach through `app.intentops`. */
export interface ServeContext {
  config: Readonly<ServeConfig>
  models: ModelManager
  holder: ModelHolder
  tokens: TokenVerifier
  metrics: ServeMetrics
  store: PredictionStore | undefined
  predictionLog: PredictionLog | undefined
  /** Set once shutdown began: new requests get 503. */
  closing: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    intentops: ServeContext
  }
  interface FastifyContextConfig {
    /** The route speaks Rasa: errors in Rasa's shape, `?token=` accepted. */
    rasa?: boolean
    /** False: `serve.rateLimit` does not count or limit the route (the health, readiness and metrics probes). */
    rateLimit?: boolean
  }
}

export type ServeApp = FastifyInstance

/**
 * Build the server without listening.
 * @example
 * const app = await buildApp({ config: resolved.serve, root, modelName: config.name, registry, store })
 * await app.ready()
 * const res = await app.inject({ method: 'POST', url: '/v1/parse', payload: { text: 'hello' } })
 */
export async function buildApp(options: BuildAppOptions): Promise<ServeApp> {
  const config = options.config
  if (config.logPredictions && options.predictionLog) {
    checkRedaction(options.logWriter?.redaction ?? options.store?.redaction ?? [], config)
  }
  const loggerOption: Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> =
    options.logger === undefined || options.logger === true
      ? { logger: { level: config.logLevel } }
      : options.logger === false
        ? { logger: false }
        : { loggerInstance: options.logger }

  const headersTimeoutMs = Math.min(config.requestTimeoutMs, 20_000)
  const app = Fastify({
    ...loggerOption,
    // Time-ordered: the request id is the prediction's key in the log, whose primary-key index then appends.
    genReqId: uuidv7,
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: false,
    // Two log lines per request cost more than parsing does; requests are logged once, at debug, in onResponse.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    schemaController: schemaController(),
    // Errors met before routing (a malformed percent-encoding) get the catalog's answer like any other.
    frameworkErrors: (err, request, reply) => {
      reply.header('x-request-id', request.id)
      request.log.info({ code: err.code }, err.message)
      return sendError(toCatalogError(err, config, request), request, reply, isRasaPath(request.url))
    },
    // The Node server enforces the hard limits: a request that never completes is cut by requestTimeout.
    serverFactory: (handler) =>
      http.createServer(
        {
          requestTimeout: config.requestTimeoutMs,
          headersTimeout: headersTimeoutMs,
          keepAliveTimeout: config.keepAliveTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs),
        },
        handler,
      ),
    // What Node's HTTP parser refuses (bad framing, huge headers, headers that never finish) is answered from the
    // catalog too.
    clientErrorHandler: clientErrorHandler({ headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs }),
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
  }).withTypeProvider<TypeBoxTypeProvider>()

  const holder = new ModelHolder()
  const models = new ModelManager({
    holder,
    ...(options.registry ? { registry: options.registry } : {}),
    name: options.modelName,
    ...(config.model ? { file: config.model } : { alias: config.alias }),
    root: options.root,
    allowUnsignedFiles: options.allowUnsigned ?? false,
    watchIntervalMs: config.watchIntervalMs,
    log: app.log,
  })
  const metrics = createServeMetrics({
    holder,
    ...(options.predictionLog ? { predictionLog: options.predictionLog } : {}),
    ...(options.logWriter && config.logPredictions ? { logWriter: options.logWriter } : {}),
  })
  const context: ServeContext = {
    config,
    models,
    holder,
    tokens: new TokenVerifier(options.store ? { store: options.store } : {}),
    metrics,
    store: options.store,
    predictionLog: config.logPredictions ? options.predictionLog : undefined,
    closing: false,
  }
  app.decorate('intentops', context)
  holder.onLoad((event) => {
    if (!event.ok) app.log.error({ err: event.error, source: event.source }, 'model load failed')
    else app.log.info({ source: event.source, version: event.served?.version, ms: event.ms }, 'model loaded')
  })

  installJsonParser(app, config)

  app.setErrorHandler((err, request, reply) => {
    const e = toCatalogError(err, config, request)
    if (e.statusCode >= 500 && !OPERATIONAL_CODES.has(e.code)) request.log.error({ err }, e.message)
    else request.log.info({ code: e.code }, e.message)
    return sendError(e, request, reply)
  })
  // Every route's methods by path, for the 405 of a known path asked with another method; read only on that path.
  const routeMethods = new RouteMethods()
  app.addHook('onRoute', (route) => routeMethods.add(route.url, route.method))
  app.setNotFoundHandler((request, reply) => {
    const allowed = routeMethods.allowed(request.url)
    if (allowed.length === 0 || allowed.includes(request.method)) {
      return sendError(
        createError('ERR_SERVE_ROUTE_NOT_FOUND', { method: request.method, url: request.url }),
        request,
        reply,
      )
    }
    reply.header('allow', allowed.join(', '))
    const path = request.url.split('?', 1)[0]!
    const methods = allowed.length === 1 ? allowed[0] : `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`
    return sendError(
      createError('ERR_SERVE_METHOD_NOT_ALLOWED', {
        methods,
        path: path.length > 200 ? `${path.slice(0, 200)}…` : path,
        method: request.method,
      }),
      request,
      reply,
    )
  })

  // Callback-style hooks: on the hot path, three promises less per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    if (context.closing) {
      reply.header('connection', 'close')
      done(createError('ERR_SERVE_SHUTTING_DOWN'))
      return
    }
    done()
  })
  // No onSend hook: only an unread body forces `connection: close`, and that is always an error `sendError` answers.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime)
    // Built only when it is written: the object costs more than a silent logger's call.
    if (logsDebug(request.log)) {
      request.log.debug(
        { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
        'request completed',
      )
    }
    done()
  })

  if (config.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: config.corsOrigins.includes('*') ? true : [...config.corsOrigins],
      credentials: config.corsCredentials,
      methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['content-type', 'authorization'],
      // A browser client reads its rate-limit budget only through these.
      exposedHeaders: [
        'x-request-id',
        'retry-after',
        'www-authenticate',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
      ],
    })
  }
  if (config.rateLimit > 0) {
    const byIp = new RateLimiter({ max: config.rateLimit, windowMs: config.rateLimitWindowMs })
    const byToken = new RateLimiter({ max: config.rateLimit, windowMs: config.rateLimitWindowMs })
    const window = `${Math.round(config.rateLimitWindowMs / 1000)} s`
    const limit = (limiter: RateLimiter, key: string, reply: FastifyReply): IntentopsError | undefined => {
      const left = limiter.take(key)
      reply.header('x-ratelimit-limit', limiter.max)
      if (left >= 0) {
        reply.header('x-ratelimit-remaining', left)
        reply.header('x-ratelimit-reset', limiter.resetSeconds(left))
        return undefined
      }
      const retry = limiter.retryAfterSeconds(key)
      reply.header('x-ratelimit-remaining', 0)
      // Seconds until the bucket is full, as on every other answer; `retry-after` is when the next request may go.
      reply.header('x-ratelimit-reset', limiter.resetSeconds(0))
      return createError('ERR_SERVE_RATE_LIMITED', { max: limiter.max, window, retry: `${retry} s`, retryAfter: retry })
    }
    // Per route, as @fastify/rate-limit did: unknown URLs (404) are not counted, every route mounted later is, and a
    // route's hook runs after the global ones (CORS), so a 429 still carries the CORS headers.
    app.addHook('onRoute', (route) => {
      if (route.config?.rateLimit === false) return
      const rasa = route.config?.rasa === true
      const hook: onRequestHookHandler = (request, reply, done) => {
        // No token (the usual parse request): keyed by address, decided without a promise.
        if (!request.headers.authorization && (!rasa || bearerToken(request) === undefined)) {
          done(limit(byIp, request.ip, reply))
          return
        }
        // A token is limited by its id; an unknown or malformed one by the address (the route then answers 401).
        authenticate(request).then(
          (token) => done(token ? limit(byToken, token.id, reply) : limit(byIp, request.ip, reply)),
          () => done(limit(byIp, request.ip, reply)),
        )
      }
      route.onRequest = route.onRequest === undefined ? [hook] : [...[route.onRequest].flat(), hook]
    })
  }
  // Registered after the rate limiter's, so a route's token is checked after its budget: `requireRole` runs at
  // onRequest, before the body is read, and a client without the role never gets its body parsed.
  app.addHook('onRoute', (route) => {
    if (route.preHandler === undefined) return
    const pre = [route.preHandler].flat()
    const checks = pre.filter(isRoleCheck)
    if (checks.length === 0) return
    const onRequest = checks.map(
      (check): onRequestHookHandler =>
        async function roleOnRequest(this: FastifyInstance, request, reply) {
          try {
            await check.call(this, request, reply)
          } catch (err) {
            // The body is left unread: the connection cannot carry another request.
            const length = request.headers['content-length']
            if (request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
              markClose(request)
            }
            throw err
          }
        },
    )
    route.preHandler = pre.filter((h) => !isRoleCheck(h))
    route.onRequest = route.onRequest === undefined ? onRequest : [...[route.onRequest].flat(), ...onRequest]
    // The OpenAPI document says a route takes a token exactly where a role check guards it: read from the check
    // itself, so a route cannot ask for a token its document does not mention (the swagger hook runs after this one).
    route.schema = { ...route.schema, security: [{ bearer: [] }] }
  })
  if (config.docs) {
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'intentops',
          version: VERSION,
          description: 'Intent classification with hot model swap, a prediction log and Rasa-compatible routes.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'A token from `intentops tokens create`.' },
          },
        },
      },
    })
    await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true })
  }

  await app.register(statusRoutes)
  await app.register(parseRoutes)
  await app.register(rasaRoutes)
  await app.register(adminRoutes)
  for (const p of options.plugins ?? []) {
    if (typeof p === 'function') await app.register(p)
    else await app.register(p.plugin, p.options ?? {})
  }

  if (options.autoLoad !== false) {
    app.addHook('onReady', async () => {
      await models.start()
    })
  }
  app.addHook('onClose', async () => {
    context.closing = true
    await models.stop()
    if (options.predictionLog) {
      const abandoned = await options.predictionLog.close({ timeoutMs: config.shutdownTimeoutMs })
      if (abandoned > 0) app.log.error({ abandoned }, 'predictions not written before the shutdown deadline')
      else app.log.info({ written: options.predictionLog.written }, 'prediction log flushed')
    }
    await options.logWriter?.close()
    if (options.store && options.ownsStore) await options.store.close()
  })
  return app as unknown as ServeApp
}

/** Whether `debug` lines are written; `logger: false` (no `level`) writes none. */
function logsDebug(log: FastifyBaseLogger): boolean {
  const enabled = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled
  return enabled ? enabled.call(log, 'debug') : log.level !== undefined
}

/**
 * Refuse redaction rules too slow for the longest text the server takes: the store judged them on 10,000 characters
 * only, and a log writer on the lengths it was given, if any. Config loading judges them the same way first, so
 * verdicts are remembered and this costs little there; a library caller that raised `maxTextLength` gets the check here.
 */
function checkRedaction(rules: readonly RedactionRule[], config: Readonly<ServeConfig>): void {
  assertRedactionRules(rules, config)
}
