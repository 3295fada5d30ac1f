#!/usr/bin/env node
/**
 * The process edge: the only place that reads process.argv, handles SIGINT, SIGTERM and a closed stdout, and sets
 * the exit code.
 * @module
 */
import { createError } from '../errors.js'
import { removePendingTempFilesSync } from '../util/fs.js'
import type { CliIO } from './io.js'
import { EXIT_INTERRUPTED, reportError, runCli } from './program.js'

type StopSignal = 'SIGINT' | 'SIGTERM'
/** 128 + the signal's number, as a shell reports a process that the signal ended. */
const SIGNAL_EXIT: Readonly<Record<StopSignal, number>> = { SIGINT: EXIT_INTERRUPTED, SIGTERM: 143 }

let interruptController: AbortController | undefined
let received: StopSignal | undefined

const io: CliIO = {
  cwd: process.cwd(),
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
  stdin: process.stdin,
  interrupt,
}

/** Commands that ask for it stop on their own at the first signal; the second ends the process at once. */
function interrupt(): AbortSignal {
  interruptController ??= new AbortController()
  return interruptController.signal
}

/**
 * Ending the process here skips every `finally`, so the temporary files of writes still in progress are removed
 * first: an interrupted command leaves no partial file behind.
 */
function onSignal(signal: StopSignal): void {
  received ??= signal
  if (interruptController && !interruptController.signal.aborted) {
    interruptController.abort()
    return
  }
  removePendingTempFilesSync()
  reportError(createError('ERR_CLI_ABORTED', { signal }), io)
  process.exit(SIGNAL_EXIT[signal])
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

/**
 * A reader that stops early (`intentops data stats | head -1`) closes the pipe; the output nobody reads is not an
 * error, so the command ends quietly with 0, as Node CLIs do, instead of dying on EPIPE with a stack.
 */
function onOutputError(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err
  removePendingTempFilesSync()
  process.exit(0)
}
process.stdout.on('error', onOutputError)
// A closed stderr loses the messages, not the exit code.
process.stderr.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
})

const code = await runCli(process.argv.slice(2), io)
process.exitCode = code === EXIT_INTERRUPTED && received ? SIGNAL_EXIT[received] : code
