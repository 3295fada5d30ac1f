/**
 * `$VAR` / `${VAR}` in config values, read from the environment so secrets (URLs with tokens, keys) stay out of the
 * config file.
 * @module
 */
import { createError } from '../errors.js'

/**
 * Expand every `$VAR` / `${VAR}` of `value` from `env`. A variable that is not set, or is empty, is
 * ERR_CONFIG_INVALID naming it and the setting `key`: expanded to nothing it would read as a missing setting, or
 * turn a URL into another one.
 */
export function expandEnv(value: string, env: Readonly<Record<string, string | undefined>>, key: string): string {
  return value.replace(/\$\{?([A-Z0-9_]+)\}?/gi, (_, name: string) => {
    const v = env[name]
    if (v === undefined || v === '') {
      throw createError(
        'ERR_CONFIG_INVALID',
        {
          detail: `\`${key}\` refers to the environment variable ${name}, which is ${v === undefined ? 'not set' : 'empty'}`,
        },
        { hint: `Set ${name} in the environment (export ${name}=...), or change \`${key}\` in intentops.yml.` },
      )
    }
    return v
  })
}
