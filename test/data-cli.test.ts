import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import { loadTrainingData } from '../src/data/load.js'

const rasaProject = new URL('./fixtures/rasa-project/', import.meta.url).pathname
let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'io-data-cli-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function put(file: string, content: string | Buffer): string[] {
  writeFileSync(path.join(dir, file), content)
  return [file]
}

async function run(argv: string[], cwd = dir) {
  const io = memoryIO(cwd)
  const code = await runCli(argv, io)
  return { code, out: io.out(), err: io.err() }
}

describe('intentops init', () => {
  it('scaffolds a project that validates clean, and refuses to overwrite it without --force', async () => {
    const init = await run(['init', 'demo'])
    expect(init.code).toBe(0)
    expect(init.out).toContain('created demo/data/nlu.yml')
    for (const f of ['intentops.yml', 'data/nlu.yml', 'data/lookups/cities.txt', 'tests/must-pass.yml', '.gitignore']) {
      expect(existsSync(path.join(dir, 'demo', f))).toBe(true)
    }
    const demo = path.join(dir, 'demo')
    const v = await run(['data', 'validate'], demo)
    expect(v.code).toBe(0)
    expect(v.out).toMatch(
      /^✔ 0 errors, 0 warnings in 1 data file \(\d+ examples, 12 intents, 12 must-pass cases\)\ntraining data is valid\n$/,
    )
    const data = await loadTrainingData(['data'], { root: demo })
    const perIntent = new Map<string, number>()
    for (const e of data.examples) perIntent.set(e.intent, (perIntent.get(e.intent) ?? 0) + 1)
    expect(perIntent.size).toBeGreaterThanOrEqual(10)
    for (const n of perIntent.values()) expect(n).toBeGreaterThanOrEqual(12)
    expect(data.examples.some((e) => e.entities.some((x) => x.role))).toBe(true)
    expect(data.synonyms.length && data.regexes.length && data.lookups[0]?.file).toBeTruthy()

    const again = await run(['init', 'demo'])
    expect(again.code).toBe(1)
    expect(again.err).toMatch(/^error ERR_INIT_NOT_EMPTY: .*demo already contains data\/lookups\/cities\.txt\n/)
    expect((await run(['init', 'demo', '--force'])).code).toBe(0)
  })

  it('refuses before writing anything when a path is in the way, and then succeeds once it is moved', async () => {
    mkdirSync(path.join(dir, 'partial'))
    writeFileSync(path.join(dir, 'partial', 'tests'), '')
    const r = await run(['init', 'partial'])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(
      /^error ERR_INIT_PATH_CONFLICT: Cannot create tests\/must-pass\.yml in .*partial: tests is a file, not a directory\n {2}hint: Move or remove that path/,
    )
    expect(readdirSync(path.join(dir, 'partial'))).toEqual(['tests'])
    rmSync(path.join(dir, 'partial', 'tests'))
    expect((await run(['init', 'partial'])).code).toBe(0)

    // a directory where a file goes, with --force too; and a file where the project directory would be
    mkdirSync(path.join(dir, 'd', 'intentops.yml'), { recursive: true })
    const dirInWay = await run(['init', 'd', '--force'])
    expect(dirInWay.err).toMatch(/ERR_INIT_PATH_CONFLICT: .*intentops\.yml is a directory, not a file/)
    expect(readdirSync(path.join(dir, 'd'))).toEqual(['intentops.yml'])
    writeFileSync(path.join(dir, 'f'), '')
    expect((await run(['init', 'f/bot'])).err).toMatch(/ERR_INIT_PATH_CONFLICT: .*f is a file, not a directory/)
  })

  it('removes the files and directories it created when a write fails after the checks', async () => {
    // a directory that takes no new file, even for root: the checks pass, and the write of tests/must-pass.yml fails
    // after four files and two directories were created
    mkdirSync(path.join(dir, 'partial'))
    symlinkSync('/proc', path.join(dir, 'partial', 'tests'))
    const r = await run(['init', 'partial', '--ci', 'github'])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/^error ERR_WRITE_FAILED: Cannot write .*partial\/tests\/must-pass\.yml/)
    expect(readdirSync(path.join(dir, 'partial'))).toEqual(['tests'])
    rmSync(path.join(dir, 'partial', 'tests'))
    const again = await run(['init', 'partial', '--ci', 'github'])
    expect(again.code).toBe(0)
    expect(again.out).toContain('created partial/.github/workflows/intentops.yml')
  })

  it('scaffolds the multi-field triage template', async () => {
    expect((await run(['init', '--template', 'triage'])).code).toBe(0)
    expect(readFileSync(path.join(dir, 'intentops.yml'), 'utf8')).toMatch(/fields:\n {2}subject: 2\n {2}body: 1/)
    const v = await run(['data', 'validate'])
    expect(v.code).toBe(0)
    expect(v.out).toContain('6 intents, 6 must-pass cases')
    const stats = await run(['data', 'stats'])
    expect(stats.out).toContain('fields: subject (72 examples), body (72 examples)')
    expect((await run(['init', 'x', '--template', 'nope'])).err).toContain('unknown template "nope"')
  })
})

describe('intentops data validate', () => {
  it('works in a plain Rasa project without intentops.yml, and --strict fails on warnings', async () => {
    cpSync(rasaProject, dir, { recursive: true })
    const v = await run(['data', 'validate'])
    expect(v.code).toBe(0)
    expect(v.out).toContain(
      'data/nlu.yml:51:3: warning WARN_DATA_FEW_EXAMPLES: Intent goodbye has 4 examples, fewer than 5\n',
    )
    expect(v.out).toMatch(/✔ 0 errors, \d+ warnings in 1 data file \(29 examples, 6 intents, 0 must-pass cases\)/)
    const strict = await run(['data', 'validate', '--strict'])
    expect(strict.code).toBe(1)
    expect(strict.out).toMatch(/✖ 0 errors, \d+ warnings/)
    const json = await run(['data', 'validate', '--json'])
    const report = JSON.parse(json.out)
    expect(report).toMatchObject({ ok: true, errorCount: 0, passed: true, counts: { examples: 29, intents: 6 } })
    expect(report.diagnostics[0]).toMatchObject({
      severity: 'warning',
      location: { file: 'data/nlu.yml' },
      hint: expect.any(String),
    })
  })

  it('refuses a must-pass path in intentops.yml that does not exist, at its line, and accepts a missing default', async () => {
    await run(['init', 'demo'])
    const demo = path.join(dir, 'demo')
    const config = path.join(demo, 'intentops.yml')
    const text = readFileSync(config, 'utf8')
    writeFileSync(config, text.replace('tests:\n  - tests\n', 'tests:\n  - tset\n'))
    const v = await run(['data', 'validate'], demo)
    expect(v.code).toBe(1)
    expect(v.out).toMatch(/^intentops\.yml:\d+:5: error ERR_FILE_NOT_FOUND: File not found: .*tset\n/m)
    expect(v.out).toContain('hint: `tests` in intentops.yml lists "tset"')
    // Without a tests key the default tests/ is optional.
    writeFileSync(config, text.replace('tests:\n  - tests\n', ''))
    rmSync(path.join(demo, 'tests'), { recursive: true })
    expect((await run(['data', 'validate'], demo)).code).toBe(0)
  })

  it('lists every problem with file:line:column and a hint, and exits 1', async () => {
    cpSync(new URL('./fixtures/validation/', import.meta.url).pathname, path.join(dir, 'data'), { recursive: true })
    const v = await run(['data', 'validate'])
    expect(v.code).toBe(1)
    expect(v.out).toContain(
      'data/duplicate.yml:7:7: error ERR_DATA_DUPLICATE_EXAMPLE: Duplicate example "Hello there!" in intent greet (first at data/duplicate.yml:5:7)\n  hint: Delete one of the two lines.\n',
    )
    expect(v.out).toContain('data/bad-regex.yml:6:7: error ERR_DATA_BAD_REGEX:')
    expect(v.out).toContain(
      'data/unsafe-regex.yml:6:7: error ERR_DATA_UNSAFE_REGEX: Regex x: the pattern can take too long on some inputs: exponential backtracking in `(a+)+`, which can match a repeated "a" in more than one way: a text like "a" + "a".repeat(30) + "0" takes over 2^30 steps\n  hint: Make each part of the pattern match a text one way only: `(a|aa)+` → `a+`, `(\\w|\\d)+` → `\\w+`, `(\\d+\\s?)+` → `\\d+(?:\\s\\d+)*`; optional items in a row as one count, `a?a?a?aaa` → `a{3,6}`; no optional item beside a repetition of the same characters, `\\d?\\d+` → `\\d+`. Time that grows as the square of the text length is accepted up to 2.5×10^8 steps on 10,000 characters; faster growth, and more steps, are refused.',
    )
    expect(v.out).toContain('data/yaml-syntax.yml:6:1: error ERR_YAML_SYNTAX:')
    expect(v.out).not.toContain('    at ')
  })

  it('refuses a regex that only plain JavaScript accepts, at the line where training refuses it', async () => {
    const intents = ['greet', 'bye'].map(
      (i) => `- intent: ${i}\n  examples: |\n${[1, 2, 3, 4, 5].map((n) => `    - ${i} ${n}\n`).join('')}`,
    )
    put('nlu.yml', `version: "3.1"\nnlu:\n${intents.join('')}- regex: code\n  examples: |\n    - [A-Z]\\-\\d{4}\n`)
    const v = await run(['data', 'validate', '-d', 'nlu.yml'])
    expect(v.code).toBe(1)
    expect(v.out).toContain(
      'nlu.yml:19:7: error ERR_DATA_BAD_REGEX: Regex code does not compile: /[A-Z]\\-\\d{4}/u: Invalid escape\n' +
        '  hint: It compiles without the `u` flag, but every step runs data regexes in Unicode mode (`u`), where it does not. Escape only',
    )
    const t = await run(['train', '-d', 'nlu.yml', '-o', 'm.iom', '--workers', '0', '--no-validate'])
    expect(t.code).toBe(1)
    expect(t.err).toContain(
      "error ERR_NLU_REGEX_INVALID: nlu.yml:19:7: The regex 'code' has an invalid pattern /[A-Z]\\-\\d{4}/: /[A-Z]\\-\\d{4}/u: Invalid escape\n  hint: It compiles without the `u` flag",
    )
    // fixed as the hint says, it validates and trains
    put('nlu.yml', `version: "3.1"\nnlu:\n${intents.join('')}- regex: code\n  examples: |\n    - [A-Z]-\\d{4}\n`)
    expect((await run(['data', 'validate', '-d', 'nlu.yml'])).code).toBe(0)
    expect((await run(['train', '-d', 'nlu.yml', '-o', 'm.iom', '--workers', '0'])).code).toBe(0)
  })

  it('takes --data paths relative to the working directory and thresholds from intentops.yml', async () => {
    mkdirSync(path.join(dir, 'nlu'))
    writeFileSync(
      path.join(dir, 'nlu/a.yml'),
      'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n',
    )
    writeFileSync(path.join(dir, 'intentops.yml'), 'version: 1\nvalidation:\n  minExamples: 2\n')
    expect((await run(['data', 'validate', '--data', 'nlu', '--strict'])).code).toBe(0)
    writeFileSync(path.join(dir, 'intentops.yml'), 'version: 1\nvalidation:\n  minExamples: 3\n')
    const v = await run(['data', 'validate', '-d', 'nlu'])
    expect(v.out).toContain('nlu/a.yml:3:3: warning WARN_DATA_FEW_EXAMPLES: Intent greet has 2 examples, fewer than 3')
  })

  describe('bad input: one line with the position, no stack trace, exit 1', () => {
    const cases: Array<[string, () => string[], RegExp]> = [
      [
        'a binary file',
        () => put('data/bin.yml', Buffer.from([0x6e, 0, 1, 2])),
        /^data\/bin\.yml: error ERR_FILE_BINARY: .*data\/bin\.yml looks like a binary file, not text$/,
      ],
      [
        'a 50 MB file',
        () => put('data/big.yml', Buffer.alloc(50 * 1024 * 1024, 0x61)),
        /^data\/big\.yml: error ERR_FILE_TOO_LARGE: .*is 52428800 bytes, over the 20971520-byte limit$/,
      ],
      [
        'invalid UTF-8',
        () => put('data/l1.yml', Buffer.from('nlu: caf\xe9\n', 'latin1')),
        /^data\/l1\.yml: error ERR_FILE_ENCODING: .* is not valid UTF-8 \(first bad byte at offset 8\)$/,
      ],
      [
        'deep nesting',
        () => put('data/deep.yml', `nlu: ${'['.repeat(200)}${']'.repeat(200)}\n`),
        /^data\/deep\.yml:1:\d+: error ERR_YAML_TOO_DEEP: YAML nesting deeper than 64 levels$/,
      ],
      [
        'an alias bomb',
        () => {
          const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]']
          for (let i = 1; i < 9; i++)
            lines.push(
              `a${i}: &a${i} [${Array(10)
                .fill(`*a${i - 1}`)
                .join(', ')}]`,
            )
          writeFileSync(path.join(dir, 'data/bomb.yml'), `${lines.join('\n')}\nnlu: []\n`)
          return ['data/bomb.yml']
        },
        /^data\/bomb\.yml:2:\d+: error ERR_YAML_ALIAS_BOMB: Too many YAML alias expansions/,
      ],
      ['a path outside the project', () => ['../outside'], /^\.\.\/outside: error ERR_PATH_OUTSIDE_PROJECT: /],
      [
        'a lookup file that cannot be read',
        () => {
          mkdirSync(path.join(dir, 'data/lookups'))
          writeFileSync(path.join(dir, 'data/l.yml'), 'version: "3.1"\nnlu:\n- lookup: city\n  examples: lookups\n')
          return ['data/l.yml']
        },
        /^data\/l\.yml:4:13: error ERR_FILE_UNREADABLE: lookup city: Cannot read .*lookups: it is a directory$/,
      ],
    ]
    it.each(cases)('%s', async (_name, setup, line) => {
      mkdirSync(path.join(dir, 'data'), { recursive: true })
      const paths = setup()
      const v = await run(['data', 'validate', ...paths.flatMap((p) => ['--data', p])])
      expect(v.code).toBe(1)
      const problems = v.out.split('\n').filter((l) => / (error|warning) [A-Z_]+: /.test(l))
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(line)
      expect(v.out + v.err).not.toMatch(/\n\s+at /)
    })
  })
})

describe('intentops data stats, split and convert', () => {
  beforeEach(() => cpSync(rasaProject, dir, { recursive: true }))

  it('prints counts per intent and entity, or JSON', async () => {
    const s = await run(['data', 'stats'])
    expect(s.code).toBe(0)
    expect(s.out).toMatch(/^29 examples · 6 intents · 7 entity types · 2 synonyms · 2 regexes · 2 lookup tables/)
    expect(s.out).toMatch(/\nbook_flight\s+6\s+20\.7%\s+11\s+█+\n/)
    expect(s.out).toMatch(/\ncity\s+8\s+6\s+role departure, role destination\n/)
    expect(JSON.parse((await run(['data', 'stats', '--json'])).out)).toMatchObject({ examples: 29 })
  })

  it('splits stratified in the input format, the same way for the same seed', async () => {
    const a = await run(['data', 'split', '--seed', '3', '--out', 'out'])
    expect(a.code).toBe(0)
    expect(a.out).toBe('wrote out/train.yml (23 examples)\nwrote out/test.yml (6 examples)\n')
    const train = readFileSync(path.join(dir, 'out/train.yml'), 'utf8')
    expect(train).toContain('- lookup: city\n  examples: ../data/lookups/cities.txt\n')
    const first = readFileSync(path.join(dir, 'out/test.yml'), 'utf8')
    await run(['data', 'split', '--seed', '3', '--out', 'out'])
    expect(readFileSync(path.join(dir, 'out/test.yml'), 'utf8')).toBe(first)
    const both = await loadTrainingData(['out'], { root: dir })
    expect(both.examples).toHaveLength(29)
    expect((await run(['data', 'split', '--test-fraction', '1.5'])).err).toContain(
      '--test-fraction must be between 0 and 1',
    )
    // The same seeds as `train --seed`: integers from 0 to 2^32 - 1, in decimal.
    for (const seed of ['-3', '0x10', '1.5']) {
      const bad = await run(['data', 'split', '--seed', seed, '--out', 'bad'])
      expect(bad.code).toBe(2)
      expect(bad.err).toContain(`--seed must be an integer in [0, 4294967295], got "${seed}"`)
    }
    expect(existsSync(path.join(dir, 'bad'))).toBe(false)
  })

  it('converts between formats and says what a format cannot hold', async () => {
    const toJson = await run(['data', 'convert', 'data', '--to', 'rasa-json', '--out', 'nlu.json'])
    expect(toJson.code).toBe(0)
    expect(toJson.err).toBe('warning: rasa-json cannot hold intent metadata; they are left out\n')
    const back = await run(['data', 'convert', 'nlu.json', '--to', 'yaml', '--out', 'back/nlu.yml'])
    expect(back.out).toBe('wrote back/nlu.yml (29 examples, yaml)\n')
    const a = await loadTrainingData(['data'], { root: dir })
    const b = await loadTrainingData(['back'], { root: dir })
    expect(b.examples.map((e) => [e.text, e.intent, e.entities])).toEqual(
      a.examples.map((e) => [e.text, e.intent, e.entities]),
    )
    const csv = await run(['data', 'convert', 'data', '--to', 'csv', '--out', 'nlu.csv'])
    expect(csv.err).toContain('warning: csv cannot hold synonyms; they are left out')
    expect((await run(['data', 'convert', 'data', '--to', 'xml', '--out', 'x'])).code).toBe(2)
    const outside = new URL('./fixtures/diff-v1.yml', import.meta.url).pathname
    const fromOutside = await run(['data', 'convert', outside, '--to', 'jsonl', '--out', 'v1.jsonl'])
    expect(fromOutside.out).toBe('wrote v1.jsonl (7 examples, jsonl)\n')
  })
})

describe('intentops data convert: what the target cannot hold', () => {
  it('refuses plain text that Rasa YAML would read as an entity, and writes nothing', async () => {
    put(
      'tricky.jsonl',
      '{"text":"book a flight","intent":"a"}\n{"text":"press [ok](btn) now","intent":"a"}\n{"text":"a [ lone bracket","intent":"a"}\n',
    )
    const c = await run(['data', 'convert', 'tricky.jsonl', '--to', 'yaml', '--out', 'tricky.yml'])
    expect(c.code).toBe(1)
    expect(c.err).toMatch(
      /^error ERR_DATA_TEXT_LOOKS_ANNOTATED: tricky\.jsonl:2:1: Example "press \[ok\]\(btn\) now" cannot be written as Rasa YAML: .*marking "ok" as entity btn\n {2}hint: Rasa's inline entity syntax has no escape/,
    )
    expect(existsSync(path.join(dir, 'tricky.yml'))).toBe(false)
  })

  it('writes a [ that is never closed as it is; it reads back with a warning, as in Rasa', async () => {
    put('lone.jsonl', '{"text":"a [ lone bracket","intent":"a"}\n{"text":"see [note] below","intent":"a"}\n')
    expect((await run(['data', 'convert', 'lone.jsonl', '--to', 'yaml', '--out', 'lone.yml'])).code).toBe(0)
    const back = await loadTrainingData(['lone.yml'], { root: dir })
    expect(back.examples.map((e) => [e.text, e.entities])).toEqual([
      ['a [ lone bracket', []],
      ['see [note] below', []],
    ])
    const v = await run(['data', 'validate', '--data', 'lone.yml'])
    expect(v.code).toBe(0)
    expect(v.out).toContain("lone.yml:5:9: warning WARN_DATA_UNCLOSED_BRACKET: A '[' is never closed")
  })

  it('says how many entity annotations an NLP.js corpus leaves out', async () => {
    cpSync(rasaProject, dir, { recursive: true })
    const data = await loadTrainingData(['data'], { root: dir })
    const annotated = data.examples.filter((e) => e.entities.length)
    const spans = annotated.reduce((n, e) => n + e.entities.length, 0)
    expect(annotated.length).toBeGreaterThan(1)
    const c = await run(['data', 'convert', 'data', '--to', 'nlpjs', '--out', 'n.json'])
    expect(c.code).toBe(0)
    expect(c.err).toContain(
      `warning: nlpjs cannot hold entity annotations; ${spans} annotations in ${annotated.length} examples are left out`,
    )
    const plain = await run(['data', 'convert', 'data', '--to', 'rasa-json', '--out', 'r.json'])
    expect(plain.err).not.toContain('entity annotations')
  })

  it.each([
    ['an unsupported extension', 'x.txt', 'hello\n', /x\.txt holds no NLU training data \(unknown extension "\.txt"\)/],
    ['an empty file', 'empty.yml', '', /empty\.yml holds no NLU training data \(the file is empty\)/],
    ['a file with no examples', 'none.yml', 'version: "3.1"\nnlu: []\n', /read none\.yml/],
  ])('fails on %s instead of writing zero examples', async (_name, file, content, why) => {
    put(file, content)
    const c = await run(['data', 'convert', file, '--to', 'jsonl', '--out', 'x.jsonl'])
    expect(c.code).toBe(1)
    expect(c.err).toMatch(/^error ERR_DATA_NO_EXAMPLES: The training data has no examples: /)
    expect(c.err).toMatch(why)
    expect(c.out).toBe('')
    expect(existsSync(path.join(dir, 'x.jsonl'))).toBe(false)
  })
})

describe('intentops data validate --held-out', () => {
  it('checks files as train checks its --validation files: no must-pass cases, no warnings about counts', async () => {
    expect((await run(['init', 'demo'])).code).toBe(0)
    const demo = path.join(dir, 'demo')
    writeFileSync(
      path.join(demo, 'held.yml'),
      'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello there\n    - good evening\n- intent: goodbye\n  examples: |\n    - bye now\n',
    )
    // as training data, the held-out file fails the must-pass cases and is too small
    const asTraining = await run(['data', 'validate', '-d', 'held.yml'], demo)
    expect(asTraining.code).toBe(1)
    expect(asTraining.out).toContain('error ERR_MUST_PASS_UNKNOWN_INTENT')
    expect(asTraining.out).toContain('held.yml:3:3: warning WARN_DATA_FEW_EXAMPLES: Intent greet has 2 examples')
    const heldOut = await run(['data', 'validate', '--held-out', '-d', 'held.yml'], demo)
    expect([heldOut.code, heldOut.out]).toEqual([
      0,
      '✔ 0 errors, 0 warnings in 1 data file (3 examples, 2 intents, 0 must-pass cases)\nheld-out data is valid\n',
    ])
  })
})

describe('intentops data validate on empty data', () => {
  it.each([
    ['a 0-byte file', '', true],
    ['a file with only comments', '# nothing yet\n', true],
    ['a file with only a version', 'version: "3.1"\n', false],
    ['an empty nlu list', 'version: "3.1"\nnlu: []\n', false],
  ])('fails on %s, as train would', async (_name, content, ignored) => {
    mkdirSync(path.join(dir, 'cases'))
    put('cases/empty.yml', content)
    const v = await run(['data', 'validate', '--data', 'cases/empty.yml'])
    expect(v.code).toBe(1)
    expect(v.out).toContain(
      'cases/empty.yml: error ERR_DATA_NO_EXAMPLES: The training data has no examples: read cases/empty.yml\n  hint: Add `- intent:` blocks',
    )
    expect(v.out.includes('warning WARN_DATA_IGNORED_FILE: cases/empty.yml holds no NLU training data')).toBe(ignored)
    expect(v.out).not.toContain('training data is valid')
  })
})

describe('an intent block with no examples', () => {
  it.each([
    ['an empty string', '  examples: ""\n'],
    ['a block of comments', '  examples: |\n    # to do\n\n'],
    ['an empty list', '  examples: []\n'],
  ])('is an error at its line for %s, in validate and train', async (_name, examples) => {
    mkdirSync(path.join(dir, 'cases'))
    put(
      'cases/nlu.yml',
      `version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n- intent: later\n${examples}`,
    )
    const v = await run(['data', 'validate', '--data', 'cases'])
    expect(v.code).toBe(1)
    expect(v.out).toContain(
      'cases/nlu.yml:7:3: error ERR_DATA_SCHEMA: intent `later` has no examples\n  hint: Add at least one example under `examples: |`, one "- sentence" per line, or remove the `- intent: later` block.\n',
    )
    expect(v.out).not.toContain('Intent later has 0 examples')
    // an intent with a few examples stays a warning
    expect(v.out).toContain('warning WARN_DATA_FEW_EXAMPLES: Intent greet has 2 examples')
    const t = await run(['train', '--data', 'cases', '--out', 'model.iom'])
    expect(t.code).toBe(1)
    // train checks first and prints the problems as validate does, warnings included
    expect(t.err).toContain(
      'cases/nlu.yml:7:3: error ERR_DATA_SCHEMA: intent `later` has no examples\n  hint: Add at least one example',
    )
    expect(t.err).toContain('warning WARN_DATA_FEW_EXAMPLES: Intent greet has 2 examples')
    expect(t.err).toContain(
      'error ERR_DATA_INVALID: cases/nlu.yml:7:3: The training data has 1 error(s), listed above; the first, ERR_DATA_SCHEMA: intent `later` has no examples. Nothing was trained\n',
    )
    expect(existsSync(path.join(dir, 'model.iom'))).toBe(false)
  })
})

describe('intentops data validate on many problems', () => {
  it('prints the first 50 of each code for people and every one with --json', async () => {
    mkdirSync(path.join(dir, 'data'))
    const lines = ['version: "3.1"', 'nlu:', '- intent: greet', '  examples: |']
    for (let i = 0; i < 60; i++) lines.push('    - hello there', '    - hello there')
    put('data/nlu.yml', `${lines.join('\n')}\n`)
    const v = await run(['data', 'validate'])
    expect(v.code).toBe(1)
    expect(v.out.match(/ERR_DATA_DUPLICATE_EXAMPLE: /g)).toHaveLength(50)
    expect(v.out).toContain('… and 69 more ERR_DATA_DUPLICATE_EXAMPLE (--json lists every one)\n')
    const json = JSON.parse((await run(['data', 'validate', '--json'])).out)
    expect(json.errorCount).toBe(119)
  })

  it('says what is missing in an empty directory', async () => {
    const v = await run(['data', 'validate'])
    expect(v.code).toBe(1)
    expect(v.out).toMatch(
      /^data: error ERR_FILE_NOT_FOUND: File not found: data\n {2}hint: Check the path, or run `intentops init`/,
    )
  })
})
