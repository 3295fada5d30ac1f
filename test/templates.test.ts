import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { buildProgram, runCli } from '../src/cli/program.js'
import { parseReport } from '../src/eval/report-files.js'
import { loadModel } from '../src/nlu/model-file.js'

const templates = readdirSync(new URL('../templates/', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
const root = mkdtempSync(path.join(tmpdir(), 'io-templates-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

async function run(argv: string[], cwd: string) {
  const io = memoryIO(cwd)
  const code = await runCli(argv, io)
  return { code, out: io.out(), err: io.err() }
}

describe('every template trains with its default pipeline and passes its own must-pass file', () => {
  it('finds the templates', () => expect(templates).toEqual(expect.arrayContaining(['default', 'triage'])))

  for (const template of templates) {
    it(`${template}: init, train, test`, async () => {
      expect((await run(['init', template, '--template', template], root)).code).toBe(0)
      const dir = path.join(root, template)
      const train = await run(['train'], dir)
      expect(train.err).not.toContain('error')
      expect(train.code).toBe(0)
      const test = await run(['test', '--model', 'models/model.iom', '--test', 'data', '--out', 'out'], dir)
      expect(test.err).not.toContain('must-pass failed')
      expect(test.code).toBe(0)
      const report = parseReport(readFileSync(path.join(dir, 'out', 'report.json'), 'utf8'), 'report.json')
      expect(report.mustPass!.failedRequired).toBe(0)
      expect(report.mustPass!.passed + report.mustPass!.allowedFailures).toBe(report.mustPass!.total)
      expect(report.mustPass!.total).toBeGreaterThanOrEqual(6)
    })
  }

  it('names only commands that exist in the comments of the files they scaffold', async () => {
    const program = await buildProgram(memoryIO(root))
    const commands = new Set(program.commands.map((c) => c.name()))
    for (const template of templates) {
      const dir = new URL(`../templates/${template}/`, import.meta.url)
      for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.yml')) continue
        const text = readFileSync(new URL(file, dir), 'utf8')
        for (const m of text.matchAll(/`intentops ([a-z][\w-]*)/g)) {
          expect(commands.has(m[1]!), `${template}/${file}: intentops ${m[1]}`).toBe(true)
        }
      }
    }
  })

  it('default: regexes do not take ordinary words or flight numbers for booking references', async () => {
    const model = await loadModel(path.join(root, 'default', 'models', 'model.iom'))
    const entities = (text: string) => model.parse(text).entities.map((e) => [e.entity, e.value])
    expect(entities('book me a flight from Berlin to Madrid, please cancel')).toEqual([
      ['city', 'Berlin'],
      ['city', 'Madrid'],
    ])
    expect(entities('is flight LH1234 late? my booking is QX7K2P')).toEqual([
      ['flight_number', 'LH1234'],
      ['booking_ref', 'QX7K2P'],
    ])
    expect(entities('an exit row seat by the window')).toEqual([
      ['seat_type', 'exit row'],
      ['seat_type', 'window'],
    ])
  })
})
