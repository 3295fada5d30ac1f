import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { VERSION } from '../src/version.js'

describe('cli', () => {
  it('prints the version', async () => {
    const io = memoryIO(process.cwd())
    expect(await runCli(['--version'], io)).toBe(0)
    expect(io.out().trim()).toBe(VERSION)
  })
  it('exits 2 on an unknown command', async () => {
    const io = memoryIO(process.cwd())
    expect(await runCli(['frobnicate'], io)).toBe(2)
    expect(io.err()).toContain("unknown command 'frobnicate'")
  })
  it('exits 2 on a usage error of ours, as on one of the argument parser', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-cli-'))
    for (const [args, message] of [
      [['train', '--seed', 'abc'], '--seed must be an integer'],
      [['test', '--folds', '1'], '--folds'],
      [['predict'], 'ERR_CLI_USAGE'],
      [['data', 'convert', 'data', '--to', 'xml', '--out', 'x.xml'], 'ERR_CLI_USAGE'],
      [['train', '--no-such-flag'], "unknown option '--no-such-flag'"],
    ] as const) {
      const io = memoryIO(dir)
      expect(await runCli([...args], io), args.join(' ')).toBe(2)
      expect(io.err()).toContain(message)
    }
  })
  it('prints help to stderr and exits 2 when a command group is run without its subcommand', async () => {
    for (const group of ['data', 'models', 'keys']) {
      const io = memoryIO(process.cwd())
      expect(await runCli([group], io), group).toBe(2)
      expect(io.out()).toBe('')
      expect(io.err()).toContain(`Usage: intentops ${group} [options] [command]`)
    }
    for (const args of [['--help'], ['help'], ['data', '--help'], ['help', 'data']]) {
      const io = memoryIO(process.cwd())
      expect(await runCli(args, io), args.join(' ')).toBe(0)
      expect(io.out()).toContain('Usage: intentops')
    }
  })
  it('reports a bad config with code, position and hint, and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-cli-'))
    writeFileSync(path.join(dir, 'intentops.yml'), 'langauge: en\n')
    const io = memoryIO(dir)
    expect(await runCli(['config'], io)).toBe(1)
    expect(io.err()).toMatch(/^error ERR_CONFIG_INVALID: .*intentops\.yml:1:1: .*unknown key `langauge`/)
    expect(io.err()).toContain('hint:')
    expect(io.err()).not.toContain('    at ')
  })
  it('`config` refuses a pipeline step that `train` would refuse, at its line and column', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'io-cli-'))
    writeFileSync(
      path.join(dir, 'intentops.yml'),
      'version: 1\npipeline:\n  - type: tfidf\n    ngramMax: 99\n  - type: linear_svm\n',
    )
    const io = memoryIO(dir)
    expect(await runCli(['config'], io)).toBe(1)
    expect(io.err()).toContain(
      `error ERR_NLU_PARAM_INVALID: ${path.join(dir, 'intentops.yml')}:4:5: Invalid params for step 'tfidf' (pipeline[0], tfidf): The 'ngramMax' parameter`,
    )
    writeFileSync(path.join(dir, 'intentops.yml'), 'version: 1\npipeline: [{type: nonexistent_component}]\n')
    const unknown = memoryIO(dir)
    expect(await runCli(['config'], unknown)).toBe(1)
    expect(unknown.err()).toContain(`error ERR_NLU_UNKNOWN_COMPONENT: ${path.join(dir, 'intentops.yml')}:2:13:`)
  })
})
