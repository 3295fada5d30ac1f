import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import { parseConfig } from '../project/config.js'
import { envName, resolveServeConfig, serveEnvVars } from './config.js'

const base = defaultConfig().serve

describe('resolveServeConfig', () => {
  it('applies defaults, then intentops.yml, then the environment, then flags', () => {
    const fromFile = parseConfig('serve:\n  port: 6000\n  alias: staging\n  maxBatchSize: 50\n', 'intentops.yml').serve
    const resolved = resolveServeConfig(
      fromFile,
      { INTENTOPS_SERVE_PORT: '7000', INTENTOPS_SERVE_CORS_ORIGINS: 'https://a.example, https://b.example' },
      { port: '8000' },
    )
    expect(resolved.port).toBe(8000)
    expect(resolved.alias).toBe('staging')
    expect(resolved.maxBatchSize).toBe(50)
    expect(resolved.corsOrigins).toEqual(['https://a.example', 'https://b.example'])
    expect(resolved.host).toBe('127.0.0.1')
    expect(Object.isFrozen(resolved)).toBe(true)
    expect(resolveServeConfig(fromFile, { INTENTOPS_SERVE_PORT: '7000' }).port).toBe(7000)
  })

  it('reads booleans and numbers from the environment', () => {
    const r = resolveServeConfig(base, {
      INTENTOPS_SERVE_REQUIRE_TOKEN_FOR_PARSE: 'true',
      INTENTOPS_SERVE_LOG_PREDICTIONS: '0',
      INTENTOPS_SERVE_RATE_LIMIT: '10',
    })
    expect(r.requireTokenForParse).toBe(true)
    expect(r.logPredictions).toBe(false)
    expect(r.rateLimit).toBe(10)
  })

  it.each([
    [{ INTENTOPS_SERVE_PORT: 'eighty' }, {}, /serve\.port.*\$INTENTOPS_SERVE_PORT/],
    [{ INTENTOPS_SERVE_PORT: '70000' }, {}, /serve\.port.*65535/],
    // Environment numbers follow the flags' rules: decimal digits only.
    [{ INTENTOPS_SERVE_PORT: '0x10' }, {}, /serve\.port.*\$INTENTOPS_SERVE_PORT.*"0x10"/],
    [{ INTENTOPS_SERVE_PORT: '8e3' }, {}, /serve\.port.*\$INTENTOPS_SERVE_PORT.*"8e3"/],
    [{}, { port: '0x1F90' }, /serve\.port` \(from --port\)/],
    [{ INTENTOPS_SERVE_LOG_PREDICTIONS: 'maybe' }, {}, /serve\.logPredictions.*\$INTENTOPS_SERVE_LOG_PREDICTIONS/],
    [{}, { port: '-1' }, /serve\.port` \(from --port\)/],
    [{}, { alias: 'Not An Alias' }, /serve\.alias` \(from --alias\)/],
    // a union of literals lists what it takes instead of TypeBox's "expected union value"
    [
      { INTENTOPS_SERVE_LOG_LEVEL: 'loud' },
      {},
      /`serve\.logLevel` \(from \$INTENTOPS_SERVE_LOG_LEVEL\): must be one of: fatal, error, warn, info, debug, trace, silent, got "loud"/,
    ],
  ])('refuses bad values with ERR_CONFIG_INVALID naming the source: %j %j', (env, flags, pattern) => {
    expect(() => resolveServeConfig(base, env, flags)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringMatching(pattern) }),
    )
  })

  it('judges the redaction rules again when the environment lets the server take longer texts', () => {
    const config = parseConfig("store:\n  redaction:\n    - { pattern: '\\d+\\.\\d+', replacement: '[n]' }\n", 'c.yml')
    const redaction = config.store.redaction
    expect(
      resolveServeConfig(config.serve, { INTENTOPS_SERVE_MAX_TEXT_LENGTH: '11000' }, {}, { redaction }),
    ).toMatchObject({ maxTextLength: 11_000 })
    const env = { INTENTOPS_SERVE_MAX_TEXT_LENGTH: '100000' }
    expect(() => resolveServeConfig(config.serve, env, {}, { redaction })).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message: expect.stringContaining(
          'with `serve.maxTextLength` 100000 (from $INTENTOPS_SERVE_MAX_TEXT_LENGTH), `store.redaction.0.pattern` /\\d+\\.\\d+/ can take too long on the texts of up to 100,000 characters',
        ),
      }),
    )
    // The body limit bounds the texts too; without the rules the caller has judged them itself.
    const small = { ...env, INTENTOPS_SERVE_BODY_LIMIT_BYTES: '20000' }
    expect(resolveServeConfig(config.serve, small, {}, { redaction }).maxTextLength).toBe(100_000)
    expect(resolveServeConfig(config.serve, env).maxTextLength).toBe(100_000)
    // The built-in rules pass on every text the default body limit holds.
    const defaults = defaultConfig()
    const big = { INTENTOPS_SERVE_MAX_TEXT_LENGTH: '1000000000' }
    expect(resolveServeConfig(defaults.serve, big, {}, { redaction: defaults.store.redaction }).maxTextLength).toBe(1e9)
  })

  it('refuses unknown keys in the serve section of intentops.yml', () => {
    expect(() => parseConfig('serve:\n  prot: 80\n', 'intentops.yml')).toThrow(/unknown key `serve.prot`/)
  })

  it('names one environment variable per key', () => {
    expect(envName(['rateLimitWindowMs'])).toBe('INTENTOPS_SERVE_RATE_LIMIT_WINDOW_MS')
    const names = serveEnvVars().map((v) => v.name)
    expect(names).toContain('INTENTOPS_SERVE_HOST')
    expect(new Set(names).size).toBe(names.length)
  })
})
