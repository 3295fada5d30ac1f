/**
 * Confirmation of a destructive command: asked on the terminal when a person runs it, refused with
 * ERR_CLI_CONFIRMATION_REQUIRED (exit 2) when nobody can answer, skipped with `--yes`.
 * @module
 */
import { createError } from '../errors.js'
import type { CliIO } from './io.js'

/** Whether a person can answer: both the input and the messages (stderr) are a terminal. */
export function canAsk(io: CliIO): boolean {
  return io.isTTY && (io.stdin as { isTTY?: boolean } | undefined)?.isTTY === true
}

/**
 * Resolves true when the command may go ahead: `yes` was given, or a person answered y or yes to `question` on the
 * terminal. Without a terminal it throws ERR_CLI_CONFIRMATION_REQUIRED naming `command` and `detail`, rather than
 * going ahead for a script that never meant to or waiting on input nobody will type.
 */
export async function confirm(
  io: CliIO,
  options: { yes: boolean; command: string; detail: string; question: string },
): Promise<boolean> {
  if (options.yes) return true
  if (!canAsk(io)) {
    throw createError('ERR_CLI_CONFIRMATION_REQUIRED', { command: options.command, detail: options.detail })
  }
  const readline = await import('node:readline')
  const rl = readline.createInterface({ input: io.stdin!, terminal: false })
  try {
    io.stderr(`${options.question} [y/N] `)
    // End of input (Ctrl-D) is a no.
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve)
      rl.once('close', () => resolve(''))
    })
    return /^\s*y(es)?\s*$/i.test(answer)
  } finally {
    rl.close()
  }
}
