/**
 * The routes the stage benches load in turn: the bare Fastify route, `/v1/parse` on the log-off app, and that route
 * cut short after each of its stages (`stageRoutes` in bench/serve-server.ts), in the order the stages run, so that
 * each route differs from the one before it by one stage.
 * @module
 */

export interface Route {
  key: string
  name: string
  port: number
  path: string
}

export function stageRoutes(ports: { bare: number; logOff: number }): Route[] {
  return [
    { key: 'bare', name: 'bare Fastify (constant)', port: ports.bare, path: '/constant' },
    { key: 'appConstant', name: 'app: request path, constant answer', port: ports.logOff, path: '/stage/constant' },
    { key: 'validated', name: 'app: + body validated', port: ports.logOff, path: '/stage/validated' },
    { key: 'predict', name: 'app: + model (predict)', port: ports.logOff, path: '/stage/predict' },
    { key: 'answer', name: 'app: + answer built and serialised', port: ports.logOff, path: '/stage/answer' },
    { key: 'logOff', name: '/v1/parse, log off', port: ports.logOff, path: '/v1/parse' },
  ]
}
