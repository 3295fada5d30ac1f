/**
 * docs/cli.md against the command tree `runCli` parses: every command and option is documented in its command's
 * section, and nothing is documented that the command does not take.
 *
 * How docs/cli.md documents a command: a `## ` section holds one or more entries, each a paragraph or list item that
 * opens with the command's synopsis as inline code (`intentops log purge [--before DATE] [--dry-run]`), sometimes two
 * joined by "and". Text before a section's first entry may name options every command of the section shares
 * (`--config FILE`, `--json`). An option counts as documented for a command when its synopsis names it, by the long
 * flag or its short alias, or when the preamble of a section holding that synopsis does. Options named in the prose
 * of an entry do not count: that prose names other commands' options too (`as \`data validate --held-out\` checks`).
 *
 * Beyond cli.md, every command line in README.md and docs/*.md must name a command that exists, with options it takes.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { buildProgram } from '../src/cli/program.js'

interface Section {
  title: string
  /** Paragraphs and list items, in order, with fenced code removed. */
  blocks: string[]
}

function sectionsOf(markdown: string): Section[] {
  const text = markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '')
  const sections: Section[] = []
  let current: Section | undefined
  let block: string[] = []
  const flush = () => {
    if (current && block.length > 0) current.blocks.push(block.join('\n'))
    block = []
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      flush()
      current = { title: line.slice(3).trim(), blocks: [] }
      sections.push(current)
    } else if (line.startsWith('#') || line.trim() === '') {
      flush()
    } else {
      if (/^[-*] /.test(line)) flush()
      block.push(line)
    }
  }
  flush()
  return sections
}

interface Span {
  text: string
  start: number
  end: number
}

function codeSpans(block: string): Span[] {
  return [...block.matchAll(/`([^`]+)`/g)].map((m) => ({
    text: m[1]!.replace(/\s+/g, ' ').trim(),
    start: m.index,
    end: m.index + m[0].length,
  }))
}

/** The synopses an entry opens with: its first code span, and those joined to it by "and", "or" or a comma. */
function synopsesOf(block: string): string[] {
  const body = block.replace(/^[-*] /, '')
  const offset = block.length - body.length
  const spans = codeSpans(block)
  if (spans[0]?.start !== offset || !spans[0].text.startsWith('intentops ')) return []
  const heads = [spans[0]]
  for (const span of spans.slice(1)) {
    const between = block.slice(heads[heads.length - 1]!.end, span.start)
    if (!/^\s*(?:,|and|or|, and)\s*$/.test(between) || !span.text.startsWith('intentops ')) break
    heads.push(span)
  }
  return heads.map((s) => s.text)
}

/** The flags a piece of inline code names: `--json`, `-n`, `--no-validate`; not `<model-file>` or `s3://`. */
function flagsIn(code: string): string[] {
  return [...code.matchAll(/(?:^|[\s[(|])(--?[A-Za-z][\w-]*)/g)].map((m) => m[1]!)
}

function commandPath(cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name())
  return `intentops ${names.join(' ')}`
}

function* allCommands(cmd: Command): Generator<Command> {
  for (const sub of cmd.commands) {
    yield sub
    yield* allCommands(sub)
  }
}

/** The option a flag names on a command, by long flag or short alias. */
function optionOf(cmd: Command, flag: string) {
  return cmd.options.find((o) => o.long === flag || o.short === flag)
}

/** Every difference between docs/cli.md and the command tree, one line each, naming the command or section. */
function checkCliDocs(markdown: string, program: Command): string[] {
  const problems: string[] = []
  /** Per command: the flags its synopses name, and the sections those synopses are in. */
  const documented = new Map<Command, { flags: Set<string>; sections: Set<Section> }>()
  const preambleFlags = new Map<Section, Set<string>>()

  for (const section of sectionsOf(markdown)) {
    const first = section.blocks.findIndex((b) => synopsesOf(b).length > 0)
    const preamble = first === -1 ? section.blocks : section.blocks.slice(0, first)
    // Only code that starts with a long flag: `log export --out` in a preamble is another command's option, and
    // `-wal` a file's suffix.
    const shared = new Set(
      preamble.flatMap((b) =>
        codeSpans(b)
          .filter((s) => s.text.startsWith('--'))
          .flatMap((s) => flagsIn(s.text)),
      ),
    )
    preambleFlags.set(section, shared)
    const inSection = new Set<Command>()
    for (const synopsis of section.blocks.flatMap(synopsesOf)) {
      const words = synopsis.split(' ').slice(1)
      let cmd = program
      while (words.length > 0) {
        const sub = cmd.commands.find((c) => c.name() === words[0] || c.aliases().includes(words[0]!))
        if (!sub) break
        cmd = sub
        words.shift()
      }
      if (cmd === program) {
        problems.push(`## ${section.title}: \`${synopsis}\` names no command`)
        continue
      }
      if (cmd.commands.length > 0 && words[0] !== undefined && /^[a-z]/.test(words[0])) {
        problems.push(`## ${section.title}: \`${synopsis}\`: ${commandPath(cmd)} has no subcommand ${words[0]}`)
        continue
      }
      const entry = documented.get(cmd) ?? { flags: new Set<string>(), sections: new Set<Section>() }
      documented.set(cmd, entry)
      entry.sections.add(section)
      inSection.add(cmd)
      for (const flag of flagsIn(words.join(' '))) {
        if (optionOf(cmd, flag)) entry.flags.add(optionOf(cmd, flag)!.long ?? flag)
        else problems.push(`${commandPath(cmd)}: documents ${flag} (## ${section.title}), which it does not take`)
      }
    }
    // A shared option must be one at least one command of the section takes: this catches a renamed or removed flag.
    for (const flag of shared) {
      if (![...inSection].some((cmd) => optionOf(cmd, flag))) {
        problems.push(`## ${section.title}: names ${flag} for its commands, and none of them takes it`)
      }
    }
  }

  for (const cmd of allCommands(program)) {
    const entry = documented.get(cmd)
    // A group (`models`, `log`) is documented through its subcommands; it has no options of its own.
    if (!entry && cmd.commands.length > 0 && cmd.options.length === 0) continue
    if (!entry) {
      problems.push(`${commandPath(cmd)}: not documented (no entry opens with \`${commandPath(cmd)} ...\`)`)
      continue
    }
    const missing = cmd.options
      .filter((o) => !o.hidden)
      .filter((o) => {
        if (entry.flags.has(o.long ?? '')) return false
        return ![...entry.sections].some((s) =>
          [o.long, o.short].some((f) => f !== undefined && preambleFlags.get(s)!.has(f)),
        )
      })
      .map((o) => o.long ?? o.short!)
    if (missing.length > 0) {
      const where = [...entry.sections].map((s) => `## ${s.title}`).join(', ')
      problems.push(`${commandPath(cmd)}: takes ${missing.join(', ')}, not documented in ${where}`)
    }
  }
  return problems
}

/**
 * Every command line in inline code or a fenced block (`intentops log purge --before 2w`, `npx intentops train`): a
 * command that exists, with options it takes. A line is read up to a shell pipe, `&&`, `;` or a comment; a table's
 * `data validate\|stats` names each of the subcommands.
 */
function checkCommandLines(markdown: string, program: Command): string[] {
  const fenced = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].flatMap((m) => m[1]!.split('\n'))
  const inline = codeSpans(markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '')).map((s) => s.text)
  const problems: string[] = []
  const check = (code: string, words: string[], cmd: Command): void => {
    const alternatives = words[0]?.replaceAll('\\|', '|').split('|') ?? []
    if (alternatives.length > 1) {
      for (const name of alternatives) check(code, [name, ...words.slice(1)], cmd)
      return
    }
    const sub = cmd.commands.find((c) => c.name() === words[0])
    if (sub) check(code, words.slice(1), sub)
    else if (cmd === program) problems.push(`\`${code}\`: intentops has no command ${words[0]}`)
    else if (cmd.commands.length > 0 && words[0] !== undefined && /^[a-z]/.test(words[0])) {
      problems.push(`\`${code}\`: ${commandPath(cmd)} has no subcommand ${words[0]}`)
    } else {
      for (const flag of flagsIn(words.join(' '))) {
        if (!optionOf(cmd, flag) && flag !== '--help')
          problems.push(`\`${code}\`: ${commandPath(cmd)} takes no ${flag}`)
      }
    }
  }
  for (const code of [...fenced, ...inline]) {
    for (const part of code.split(/\s#\s/)[0]!.split(/\s(?:\\?\|\s+(?=[a-z])|&&|;)/)) {
      const m = /(?:^|\s)intentops ([a-z].*)$/.exec(part)
      if (m) check(code, m[1]!.trim().split(/\s+/), program)
    }
  }
  return problems
}

const program = await buildProgram(memoryIO(process.cwd()))
const docs = readFileSync(new URL('../docs/cli.md', import.meta.url), 'utf8')

describe('docs/cli.md', () => {
  it('documents every command and option in its section, and no option a command does not take', () => {
    expect(checkCliDocs(docs, program)).toEqual([])
  })

  it('finds the commands and options where the docs put them', () => {
    const purge = [...allCommands(program)].find((c) => commandPath(c) === 'intentops log purge')!
    expect(purge.options.map((o) => o.long)).toContain('--before')
    const withoutBefore = docs.replace('`intentops log purge [--before DATE] ', '`intentops log purge ')
    expect(withoutBefore).not.toBe(docs)
    const baseline = checkCliDocs(docs, program)
    expect(checkCliDocs(withoutBefore, program).filter((p) => !baseline.includes(p))).toEqual([
      'intentops log purge: takes --before, not documented in ## log, tokens',
    ])
  })
})

describe('command lines in the docs', () => {
  const root = new URL('../', import.meta.url)
  const files = ['README.md', ...readdirSync(new URL('docs/', root)).map((f) => `docs/${f}`)].filter((f) =>
    f.endsWith('.md'),
  )
  it.each(files)('%s names commands that exist, with options they take', (file) => {
    expect(checkCommandLines(readFileSync(new URL(file, root), 'utf8'), program)).toEqual([])
  })
  it('reports an unknown command or subcommand and an option the command does not take', () => {
    const md = [
      'Run `intentops log purge --before 2w --older-than 3d` or `intentops logs stats`.',
      '',
      '```sh',
      'npx intentops models prune --keep 3',
      'intentops data stats --json | jq -r .intents  # counts',
      'intentops train --seed 1 && intentops predict --txt hi',
      '```',
    ].join('\n')
    expect(checkCommandLines(md, program)).toEqual([
      '`npx intentops models prune --keep 3`: intentops models has no subcommand prune',
      '`intentops train --seed 1 && intentops predict --txt hi`: intentops predict takes no --txt',
      '`intentops log purge --before 2w --older-than 3d`: intentops log purge takes no --older-than',
      '`intentops logs stats`: intentops has no command logs',
    ])
  })
})

describe('checkCliDocs', () => {
  const doc = (body: string) => `# CLI reference\n\n${body}\n`
  const tiny = async () => {
    const { Command } = await import('commander')
    const root = new Command('intentops')
    const log = root.command('log')
    log.command('purge').option('--before <date>').option('--dry-run').option('-y, --yes')
    log.command('stats').option('--json')
    root.command('serve').option('-p, --port <n>').option('-c, --config <file>')
    return root
  }

  it('passes docs that name every option in its command entry, short aliases and shared options included', async () => {
    const md = doc(
      [
        '## log',
        '',
        'Every command takes `--json` where it makes sense.',
        '',
        '- `intentops log purge [--before DATE] [--dry-run] [-y]` deletes.',
        '- `intentops log stats` counts.',
        '',
        '## serve',
        '',
        '`intentops serve [-p N] [--config FILE]` serves.',
      ].join('\n'),
    )
    expect(checkCliDocs(md, await tiny())).toEqual([])
  })

  it('does not count an option named in another command’s section or prose', async () => {
    const md = doc(
      [
        '## log',
        '',
        '- `intentops log purge [--dry-run] [--yes] [--json]` deletes; see `--before` of `intentops log purge`.',
        '- `intentops log stats [--json]` counts.',
        '',
        '## serve',
        '',
        '`intentops serve [--port N] [--config FILE] [--before DATE]` serves.',
      ].join('\n'),
    )
    expect(checkCliDocs(md, await tiny())).toEqual([
      'intentops log purge: documents --json (## log), which it does not take',
      'intentops serve: documents --before (## serve), which it does not take',
      'intentops log purge: takes --before, not documented in ## log',
    ])
  })

  it('reports a command without an entry, a renamed flag, a shared flag none takes and an unknown subcommand', async () => {
    const md = doc(
      [
        '## log',
        '',
        'Every command takes `--store FILE`.',
        '',
        '- `intentops log purge [--before DATE] [--dry-run] [--force]` deletes.',
        '- `intentops log prune` prunes.',
        '',
        '## serve',
        '',
        'Nothing here names `intentops serve` as an entry.',
      ].join('\n'),
    )
    expect(checkCliDocs(md, await tiny())).toEqual([
      'intentops log purge: documents --force (## log), which it does not take',
      '## log: `intentops log prune`: intentops log has no subcommand prune',
      '## log: names --store for its commands, and none of them takes it',
      'intentops log purge: takes --yes, not documented in ## log',
      'intentops log stats: not documented (no entry opens with `intentops log stats ...`)',
      'intentops serve: not documented (no entry opens with `intentops serve ...`)',
    ])
  })
})
