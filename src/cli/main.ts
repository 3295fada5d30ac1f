#!/usr/bin/env node
/**
 * The process edge: the only place that reads process.argv and sets the exit code.
 * @module
 */
import { runCli } from './program.js'

let interruptController: AbortController | undefined

/** Install the SIGINT handler only for commands that ask for it; the second Ctrl-C exits at once. */
function interrupt(): AbortSignal {
  if (!interruptController) {
    const controller = new AbortController()
    interruptController = controller
    process.once('SIGINT', () => {
      controller.abort()
      process.once('SIGINT', () => process.exit(130))
    })
  }
  return interruptController.signal
}

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
  stdin: process.stdin,
  interrupt,
})
process.exitCode = code
