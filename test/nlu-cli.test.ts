import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { toyTrainingData } from '../src/nlu/testing.js'

let dir: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-nlu-cli-'))
  const rows = toyTrainingData().examples.map((e) => JSON.stringify({ text: e.text, intent: e.intent }))
  writeFileSync(path.join(dir, 'train.jsonl'), `${rows.join('\n')}\n`)
  const io = memoryIO(dir)
  expect(await runCli(['train', '--data', 'train.jsonl', '--seed', '3', '--workers', '0'], io)).toBe(0)
  expect(io.out()).toMatch(
    /trained 'intentops-bot' on 20 examples, 4 intents in [\d.]+ s\nwrote models\/model\.iom \([\d.]+ KB\)\n/,
  )
})

describe('intentops train', () => {
  it('checks the data first as data validate does: errors stop it with exit 1, warnings are shown', async () => {
    const rows = toyTrainingData().examples.map((e) => JSON.stringify({ text: e.text, intent: e.intent }))
    const first = JSON.parse(rows[0]!) as { text: string; intent: string }
    const other = toyTrainingData().examples.find((e) => e.intent !== first.intent)!.intent
    // the same sentence under two intents: an error of data validate
    writeFileSync(
      path.join(dir, 'conflict.jsonl'),
      `${[...rows, JSON.stringify({ ...first, intent: other })].join('\n')}\n`,
    )
    const validate = memoryIO(dir)
    expect(await runCli(['data', 'validate', '-d', 'conflict.jsonl'], validate)).toBe(1)
    const problems = validate.out().slice(0, validate.out().lastIndexOf('✖'))
    expect(problems).toContain('conflict.jsonl:21:1: error ERR_DATA_CONFLICT: ')
    const io = memoryIO(dir)
    expect(await runCli(['train', '-d', 'conflict.jsonl', '-o', 'out/conflict.iom', '--workers', '0'], io)).toBe(1)
    expect(io.err()).toBe(
      `${problems}error ERR_DATA_INVALID: conflict.jsonl:21:1: The training data has 1 error(s), listed above; the first, ERR_DATA_CONFLICT: ${/ERR_DATA_CONFLICT: (.*)\n/.exec(problems)![1]}. Nothing was trained\n` +
        '  hint: Fix each problem at its file:line:column; `intentops data validate` checks the data again without training. To train on the data as it is (a public dataset you do not edit, say), pass --no-validate.\n',
    )
    expect(io.out()).toBe('')
    expect(existsSync(path.join(dir, 'out', 'conflict.iom'))).toBe(false)
    // --no-validate trains anyway
    const unchecked = memoryIO(dir)
    const args = ['train', '-d', 'conflict.jsonl', '-o', 'out/conflict.iom', '--workers', '0', '--no-validate']
    expect(await runCli(args, unchecked)).toBe(0)
    expect(unchecked.err()).not.toContain('ERR_DATA')
    expect(existsSync(path.join(dir, 'out', 'conflict.iom'))).toBe(true)

    // an intent with two examples: a warning, printed, and training goes on
    const few = [
      ...rows,
      JSON.stringify({ text: 'what time is it', intent: 'time' }),
      JSON.stringify({ text: 'the time please', intent: 'time' }),
    ]
    writeFileSync(path.join(dir, 'few.jsonl'), `${few.join('\n')}\n`)
    const warned = memoryIO(dir)
    expect(await runCli(['train', '-d', 'few.jsonl', '-o', 'out/few.iom', '--workers', '0'], warned)).toBe(0)
    expect(warned.err()).toMatch(
      /^few\.jsonl:21:1: warning WARN_DATA_FEW_EXAMPLES: Intent time has 2 examples, fewer than \d+\n {2}hint: /,
    )
    expect(warned.out()).toMatch(/trained 'intentops-bot' on 22 examples, 5 intents/)
  })
  it('checks the --validation files as it checks the training data, and --no-validate skips both', async () => {
    const rows = toyTrainingData().examples.map((e) => JSON.stringify({ text: e.text, intent: e.intent }))
    const [a, b] = [JSON.parse(rows[0]!), JSON.parse(rows.at(-1)!)] as Array<{ text: string; intent: string }>
    // held-out data: the same sentence under two intents, an error of data validate
    const held = [
      JSON.stringify({ text: 'is it going to rain', intent: a!.intent }),
      JSON.stringify({ text: 'book me a table', intent: b!.intent }),
      JSON.stringify({ text: 'Is it going to rain?', intent: b!.intent }),
    ]
    writeFileSync(path.join(dir, 'held.jsonl'), `${held.join('\n')}\n`)
    const args = ['train', '-d', 'train.jsonl', '-o', 'out/held.iom', '--workers', '0', '--max-fallback', '0.2']
    const io = memoryIO(dir)
    expect(await runCli([...args, '--validation', 'held.jsonl'], io)).toBe(1)
    expect(io.err()).toContain(
      `held.jsonl:3:1: error ERR_DATA_CONFLICT: Example "Is it going to rain?" is labelled ${b!.intent} here and ${a!.intent} at held.jsonl:1:1\n`,
    )
    expect(io.err()).toContain(
      `error ERR_DATA_INVALID: held.jsonl:3:1: The --validation data has 1 error(s), listed above; the first, ERR_DATA_CONFLICT: Example "Is it going to rain?" is labelled ${b!.intent} here and ${a!.intent} at held.jsonl:1:1. Nothing was trained\n`,
    )
    expect(io.out()).toBe('')
    expect(existsSync(path.join(dir, 'out', 'held.iom'))).toBe(false)
    // with errors in both, the count covers both and the first error is the training data's
    writeFileSync(
      path.join(dir, 'train-conflict.jsonl'),
      `${[...rows, JSON.stringify({ ...a, intent: b!.intent })].join('\n')}\n`,
    )
    const both = memoryIO(dir)
    const conflict = ['train', '-d', 'train-conflict.jsonl', '-o', 'out/held.iom', '--workers', '0']
    expect(await runCli([...conflict, '--validation', 'held.jsonl'], both)).toBe(1)
    expect(both.err()).toMatch(
      /error ERR_DATA_INVALID: train-conflict\.jsonl:21:1: The training and --validation data has 2 error\(s\), listed above; the first, ERR_DATA_CONFLICT: .*\n {2}hint: Fix each problem at its file:line:column; `intentops data validate` checks the training data again without training, and `intentops data validate --held-out -d FILE` a --validation file as train does\. /,
    )
    // --no-validate trains on both as they are
    const unchecked = memoryIO(dir)
    expect(await runCli([...args, '--validation', 'held.jsonl', '--no-validate'], unchecked)).toBe(0)
    expect(unchecked.err()).not.toContain('ERR_DATA')
    expect(unchecked.out()).toMatch(/fallback threshold [\d.]+ chosen on the validation and held-out folds/)
    expect(existsSync(path.join(dir, 'out', 'held.iom'))).toBe(true)
    // once fixed, the held-out file passes the check
    writeFileSync(path.join(dir, 'held.jsonl'), `${held.slice(0, 2).join('\n')}\n`)
    const fixed = memoryIO(dir)
    expect(await runCli([...args, '--validation', 'held.jsonl'], fixed)).toBe(0)
    expect(fixed.err()).not.toContain('error ')
  })
  it('leaves the warnings about how many examples there are out for the --validation files', async () => {
    const rows = toyTrainingData().examples.map((e) => JSON.stringify({ text: e.text, intent: e.intent }))
    const few = [...rows, JSON.stringify({ text: 'what time is it', intent: 'time' })]
    writeFileSync(path.join(dir, 'few-train.jsonl'), `${few.join('\n')}\n`)
    // held-out data, small on purpose: one example per intent, and an unclosed bracket
    writeFileSync(
      path.join(dir, 'small-held.yml'),
      'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello friend\n- intent: goodbye\n  examples: |\n    - bye [for now\n',
    )
    // data validate, which checks training data, warns about the counts
    const asTraining = memoryIO(dir)
    expect(await runCli(['data', 'validate', '-d', 'small-held.yml'], asTraining)).toBe(0)
    expect(asTraining.out()).toContain('small-held.yml:3:3: warning WARN_DATA_FEW_EXAMPLES: Intent greet has 1 example')
    const args = ['train', '-d', 'few-train.jsonl', '-o', 'out/small.iom', '--workers', '0', '--max-fallback', '0.5']
    const io = memoryIO(dir)
    expect(await runCli([...args, '--validation', 'small-held.yml'], io)).toBe(0)
    const unclosed = 'small-held.yml:8:11: warning WARN_DATA_UNCLOSED_BRACKET: '
    expect(io.err()).toMatch(
      /^few-train\.jsonl:21:1: warning WARN_DATA_FEW_EXAMPLES: Intent time has 1 example, fewer than 5\n {2}hint: .*\n/,
    )
    expect(io.err()).toContain(unclosed)
    expect(io.err()).not.toMatch(/small-held\.yml.*WARN_DATA_(FEW_EXAMPLES|IMBALANCE|FEW_ENTITY_EXAMPLES)/)
    // data validate --held-out checks a file as train checks its --validation files
    const heldOut = memoryIO(dir)
    expect(await runCli(['data', 'validate', '--held-out', '-d', 'small-held.yml'], heldOut)).toBe(0)
    expect(heldOut.out()).toContain(unclosed)
    expect(heldOut.out()).not.toContain('WARN_DATA_FEW_EXAMPLES')
    // the JSON report says which check it was
    for (const [flags, held] of [
      [['--held-out'], true],
      [[], false],
    ] as const) {
      const json = memoryIO(dir)
      expect(await runCli(['data', 'validate', ...flags, '--json', '-d', 'small-held.yml'], json)).toBe(0)
      expect(JSON.parse(json.out())).toMatchObject({ heldOut: held, strict: false, passed: true })
    }
    // more problems of a kind than are printed: the note says how to list those of the --validation file
    const many = Array.from({ length: 52 }, (_, i) => `    - bye [now ${i}`).join('\n')
    writeFileSync(
      path.join(dir, 'many-held.yml'),
      `version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello friend\n- intent: goodbye\n  examples: |\n${many}\n`,
    )
    const truncated = memoryIO(dir)
    expect(await runCli([...args, '--validation', 'many-held.yml'], truncated)).toBe(0)
    expect(truncated.err()).toContain(
      '… and 2 more WARN_DATA_UNCLOSED_BRACKET (`intentops data validate --json` lists every one, `--held-out -d FILE --json` those of a --validation file)',
    )
  })
  it('names the held-out data when a --validation file has no examples, and how to check it again', async () => {
    const args = ['train', '-d', 'train.jsonl', '-o', 'out/empty.iom', '--workers', '0']
    writeFileSync(path.join(dir, 'empty-held.yml'), '')
    const empty = memoryIO(dir)
    expect(await runCli([...args, '--validation', 'empty-held.yml'], empty)).toBe(1)
    expect(empty.err()).toContain(
      'empty-held.yml: error ERR_DATA_NO_EXAMPLES: The held-out data (--validation) has no examples: read empty-held.yml\n' +
        '  hint: Give --validation files that hold labelled examples, or leave --validation out to choose the fallback threshold on the calibration folds of the training data alone.\n',
    )
    expect(empty.err()).toContain(
      'error ERR_DATA_INVALID: empty-held.yml: The --validation data has 1 error(s), listed above; the first, ERR_DATA_NO_EXAMPLES: The held-out data (--validation) has no examples: read empty-held.yml. Nothing was trained\n' +
        '  hint: Fix each problem at its file:line:column; `intentops data validate --held-out -d FILE` checks a --validation file again as train does. To train on the data as it is (a public dataset you do not edit, say), pass --no-validate.\n',
    )
    const emptyHeldOut = memoryIO(dir)
    expect(await runCli(['data', 'validate', '--held-out', '-d', 'empty-held.yml'], emptyHeldOut)).toBe(1)
    expect(emptyHeldOut.out()).toContain(
      'empty-held.yml: error ERR_DATA_NO_EXAMPLES: The held-out data (--validation) has no examples',
    )
  })
  it('works outside a project, with the default pipeline, and writes the default model path', () => {
    expect(existsSync(path.join(dir, 'models', 'model.iom'))).toBe(true)
  })
  it('prints a JSON summary and honours --out', async () => {
    const io = memoryIO(dir)
    expect(await runCli(['train', '-d', 'train.jsonl', '-o', 'out/m.iom', '--json', '--workers', '0'], io)).toBe(0)
    const summary = JSON.parse(io.out())
    expect(summary).toMatchObject({ examples: 20, intents: 4, model: path.join(dir, 'out', 'm.iom') })
    expect(summary.bytes).toBeGreaterThan(1000)
  })
  it('chooses the fallback threshold for a budget of in-scope fallbacks with --max-fallback', async () => {
    let io = memoryIO(dir)
    const args = ['train', '-d', 'train.jsonl', '-o', 'out/fb.iom', '--workers', '0', '--max-fallback', '0.25']
    expect(await runCli(args, io)).toBe(0)
    expect(io.out()).toMatch(
      /fallback threshold [\d.]+ chosen on the held-out folds: in-scope accuracy [\d.]+%, in-scope fallback [\d.]+%\n/,
    )
    io = memoryIO(dir)
    expect(await runCli([...args, '--json'], io)).toBe(0)
    const t = JSON.parse(io.out()).thresholdChoice
    expect(t.goal).toEqual({ maxInScopeFallback: 0.25 })
    expect(t.inScopeFallback).toBeLessThanOrEqual(0.25)
    // With an ambiguity threshold this wide, near-ties alone exceed the budget: the command says so.
    writeFileSync(path.join(dir, 'wide.yml'), 'fallback:\n  ambiguityThreshold: 0.99\n')
    io = memoryIO(dir)
    expect(await runCli([...args, '-c', 'wide.yml'], io)).toBe(0)
    expect(io.out()).toContain('fallback threshold 0 chosen')
    expect(io.out()).toContain('note: the ambiguity threshold (0.99) alone sends more than 25% of in-scope messages')
    io = memoryIO(dir)
    expect(await runCli(['train', '-d', 'train.jsonl', '--max-fallback', '2'], io)).toBe(2)
    expect(io.err()).toContain('--max-fallback must be a number in [0, 1]')
  })
  it('refuses bad options and bad pipelines with clear errors', async () => {
    let io = memoryIO(dir)
    expect(await runCli(['train', '-d', 'train.jsonl', '--seed', 'x'], io)).toBe(2)
    expect(io.err()).toContain('error ERR_CLI_USAGE: --seed must be an integer in [0, 4294967295], got "x"')
    io = memoryIO(dir)
    expect(await runCli(['train', '-d', 'train.jsonl', '--target-oos-recall', '1.5'], io)).toBe(2)
    expect(io.err()).toContain('--target-oos-recall must be a number in [0, 1]')
    io = memoryIO(dir)
    expect(
      await runCli(['train', '-d', 'train.jsonl', '--target-oos-recall', '0.9', '--max-fallback', '0.1'], io),
    ).toBe(2)
    expect(io.err()).toContain(
      'error ERR_CLI_USAGE: --target-oos-recall and --max-fallback choose the fallback threshold in different ways',
    )
    expect(io.err()).toContain('give only one of them')
    writeFileSync(path.join(dir, 'bad.yml'), 'pipeline:\n  - type: tfidf\n    ngramMax: 9\n  - type: linear_svm\n')
    io = memoryIO(dir)
    expect(await runCli(['train', '-c', 'bad.yml', '-d', 'train.jsonl'], io)).toBe(1)
    expect(io.err()).toContain("The 'ngramMax' parameter of tfidf must be an int in [1, 8]. Got 9 instead.")
    expect(io.err()).toContain('hint: See docs/nlu.md')
    io = memoryIO(dir)
    expect(await runCli(['train', '-d', 'missing.jsonl'], io)).toBe(1)
    expect(io.err()).toContain('ERR_FILE_NOT_FOUND')
  })
})

describe('intentops predict', () => {
  it('parses one text', async () => {
    const io = memoryIO(dir)
    expect(await runCli(['predict', '--text', 'book a flight to Paris', '--top-k', '2'], io)).toBe(0)
    const r = JSON.parse(io.out())
    expect(r.text).toBe('book a flight to Paris')
    expect(r.intent_ranking).toHaveLength(2)
    expect(r.intent_ranking[0].name).toBe('book_flight')
  })
  it('parses a JSONL file in input order into --out', async () => {
    const inputs = ['hello there', 'see you later', 'fly me to Tokyo', 'is it sunny today']
    writeFileSync(
      path.join(dir, 'in.jsonl'),
      `${inputs.map((t) => JSON.stringify({ text: t })).join('\n')}\n\n${JSON.stringify({ fields: { a: 'bye' } })}\n`,
    )
    const io = memoryIO(dir)
    expect(await runCli(['predict', '-f', 'in.jsonl', '-o', 'out.jsonl', '--no-fallback'], io)).toBe(0)
    expect(io.out()).toBe('')
    const lines = readFileSync(path.join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => l.text)).toEqual([...inputs, 'bye'])
    expect(lines.map((l) => l.intent.name)).toEqual(['greet', 'goodbye', 'book_flight', 'weather', 'goodbye'])
  })
  it('points at the bad line of an input file', async () => {
    writeFileSync(path.join(dir, 'bad.jsonl'), '{"text": "ok"}\n{"txt": "no"}\n')
    const io = memoryIO(dir)
    expect(await runCli(['predict', '-f', 'bad.jsonl'], io)).toBe(1)
    expect(io.err()).toContain(`error ERR_NLU_MESSAGE_INVALID: ${path.join(dir, 'bad.jsonl')}:2:1: Invalid message`)
    const io2 = memoryIO(dir)
    expect(await runCli(['predict', '--text', 'a', '--file', 'bad.jsonl'], io2)).toBe(2)
    expect(io2.err()).toContain('give exactly one of --text or --file')
  })
  it('refuses a damaged model file', async () => {
    const bytes = readFileSync(path.join(dir, 'models', 'model.iom'))
    bytes[bytes.length - 5]! ^= 0xff
    writeFileSync(path.join(dir, 'damaged.iom'), bytes)
    const io = memoryIO(dir)
    expect(await runCli(['predict', '-m', 'damaged.iom', '--text', 'hi'], io)).toBe(1)
    expect(io.err()).toContain('damaged.iom fails its SHA-256 check')
  })
})

describe('intentops shell', () => {
  it('parses each typed line until an empty one', async () => {
    const io = memoryIO(dir)
    io.stdin = Readable.from(['hello there\nsee you later\n\nignored\n'])
    expect(await runCli(['shell', '--top-k', '1'], io)).toBe(0)
    const parses = io
      .out()
      .split(/\n(?=\{)/)
      .map((s) => JSON.parse(s))
    expect(parses.map((p) => p.text)).toEqual(['hello there', 'see you later'])
    expect(parses[0].intent_ranking).toHaveLength(1)
    expect(io.err()).toContain("loaded 'intentops-bot' (4 intents)")
  })
})
