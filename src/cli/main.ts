#!/usr/bin/env node
/**
 * The process edge: the only place that reads process.argv and sets the exit code.
 * @module
 */
import { runCli } from './program.js'

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
  stdin: process.stdin,
})
process.exitCode = code
