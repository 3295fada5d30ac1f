/**
 * Request validation with two Ajv instances: bodies are JSON and keep their types (`{"text": 5}` is a 400), while
 * querystrings, path parameters and headers arrive as strings and are coerced to the types their schemas declare
 * (`?pageSize=10`, `?charts=true`).
 * @module
 */
import AjvCompiler from '@fastify/ajv-compiler'
import type { FastifyServerOptions } from 'fastify'

const AJV = { removeAdditional: false, allErrors: false } as const

type RouteSchema = { schema: unknown; method: string; url: string; httpPart?: string }
type Compile = (route: RouteSchema) => unknown

/** The server's `schemaController` option: strict bodies, coerced strings elsewhere. */
export function schemaController(): NonNullable<FastifyServerOptions['schemaController']> {
  const pool = AjvCompiler()
  return {
    compilersFactory: {
      buildValidator: ((externalSchemas: Parameters<typeof pool>[0], options: { customOptions?: object } = {}) => {
        const build = (coerceTypes: boolean) =>
          pool(externalSchemas, {
            ...options,
            customOptions: { ...options.customOptions, ...AJV, coerceTypes },
          }) as unknown as Compile
        const strict = build(false)
        const coercing = build(true)
        return (route: RouteSchema) => (route.httpPart === 'body' ? strict(route) : coercing(route))
      }) as unknown as typeof pool,
    },
  }
}
