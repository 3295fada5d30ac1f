/**
 * The CLI as a pure async function: `runCli(argv, io)` returns the exit code. Tests call it directly.
 * @module
 */
import { Command, CommanderError } from 'commander'
import { formatLocation, isIntentopsError } from '../errors.js'
import { VERSION } from '../version.js'
import { COMMAND_MODULES } from './commands/index.js'
import type { CliIO } from './io.js'

export async function buildProgram(io: CliIO): Promise<Command> {
  const program = new Command('intentops')
    .description('Intent classifiers from YAML in git to production traffic, and back.')
    .version(VERSION, '-V, --version')
    // Program options only before the command name, so a command may have its own `--version` (`deploy`).
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
  for (const load of COMMAND_MODULES) (await load()).register(program, io)
  for (const cmd of allCommands(program)) {
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
  }
  return program
}

function* allCommands(cmd: Command): Generator<Command> {
  for (const sub of cmd.commands) {
    yield sub
    yield* allCommands(sub)
  }
}

/** Run the CLI; never throws, never exits the process. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  io.exitCode = undefined
  let program: Command
  try {
    program = await buildProgram(io)
    await program.parseAsync(argv, { from: 'user' })
    return io.exitCode ?? 0
  } catch (err) {
    return reportError(err, io)
  }
}

/** The exit code of a usage error (a bad flag or value, a missing subcommand), as commander and git use. */
export const EXIT_USAGE = 2

/** The exit code of a command stopped by Ctrl-C, as a shell reports a process ended by SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130

/** Print an error for a person: code, position, message, hint. No stack trace unless INTENTOPS_DEBUG is set. */
export function reportError(err: unknown, io: CliIO): number {
  // --help, `help` and --version exit 0; help shown because a subcommand is missing is a usage error.
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE
  if (isIntentopsError(err)) {
    const where = err.location ? `${formatLocation(err.location)}: ` : ''
    io.stderr(`error ${err.code}: ${where}${err.message}\n`)
    if (err.hint) io.stderr(`  hint: ${err.hint}\n`)
    if (io.env.INTENTOPS_DEBUG && err.cause instanceof Error) io.stderr(`${err.cause.stack}\n`)
    // A confirmation that could not be asked for is a missing flag (--yes), as a usage error is.
    if (err.code === 'ERR_CLI_USAGE' || err.code === 'ERR_CLI_CONFIRMATION_REQUIRED') return EXIT_USAGE
    return err.code.endsWith('_ABORTED') ? EXIT_INTERRUPTED : 1
  }
  const e = err as Error
  io.stderr(`error ERR_INTERNAL: ${e?.message ?? String(err)}\n`)
  io.stderr(
    io.env.INTENTOPS_DEBUG ? `${e?.stack}\n` : '  hint: set INTENTOPS_DEBUG=1 for a stack trace, and report it.\n',
  )
  return 1
}
