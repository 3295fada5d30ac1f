import { readFileSync, rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import type { DataDiff } from '../src/data/diff.js'
import { gitRepo } from './helpers/git-repo.js'

const v1 = readFileSync(new URL('./fixtures/diff-v1.yml', import.meta.url), 'utf8')
const v2 = readFileSync(new URL('./fixtures/diff-v2.yml', import.meta.url), 'utf8')
const repo = gitRepo()
repo.write('data/nlu.yml', v1)
repo.commit('v1')
repo.write('data/nlu.yml', v2)
repo.commit('v2')
afterAll(() => rmSync(repo.dir, { recursive: true, force: true }))

const EXPECTED = `### Training data: \`HEAD~1\` → \`HEAD\`

**+2 −1** examples (7 → 8) · 1 example moved · 1 annotation change · new intent \`thanks\`

| Intent | Before | After | Added | Removed |
|---|---:|---:|---:|---:|
| \`cancel_order\` | 1 | 2 | +0 | −0 |
| \`greet\` | 3 | 3 | +1 | −1 |
| \`order_status\` | 3 | 2 | +0 | −0 |
| \`thanks\` | 0 | 1 | +1 | −0 |

#### Examples

**\`greet\`**

- ➕ \`hey there\` (data/nlu.yml:6)
- ➖ \`hello\` (data/nlu.yml:6)

**\`order_status\`**

- ✏️ \`track package [123456](order_id)\` → \`track package [123456]{"entity":"order_id","role":"tracking"}\` (data/nlu.yml:11)

**\`thanks\`**

- ➕ \`thank you\` (data/nlu.yml:18)

#### Moved between intents

- \`cancel my order\`: \`order_status\` → \`cancel_order\` (data/nlu.yml:15)

#### Synonyms, regexes and lookups

- ✏️ synonym \`New York\`: added \`big apple\`
- ➖ regex \`order_id\`
- ✏️ lookup \`city\`: added \`Oslo\`; removed \`Rome\`
`

describe('intentops data diff', () => {
  it('gives the expected Markdown for two commits', async () => {
    const io = memoryIO(repo.dir)
    expect(await runCli(['data', 'diff', 'HEAD~1', 'HEAD'], io)).toBe(0)
    expect(io.out()).toBe(EXPECTED)
  })

  it('compares a ref with the working tree by default, and prints JSON', async () => {
    repo.write('data/more.yml', 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - howdy\n')
    try {
      const io = memoryIO(repo.dir)
      expect(await runCli(['data', 'diff', 'HEAD', '--json'], io)).toBe(0)
      const diff = JSON.parse(io.out()) as DataDiff
      expect(diff.from).toBe('HEAD')
      expect(diff.to).toBe('working tree')
      expect(diff.summary).toMatchObject({ added: 1, removed: 0, moved: 0, examplesBefore: 8, examplesAfter: 9 })
      expect(diff.intents).toEqual([
        {
          intent: 'greet',
          before: 3,
          after: 4,
          added: [{ text: 'howdy', intent: 'greet', source: { file: 'data/more.yml', line: 5, column: 7 } }],
          removed: [],
          changed: [],
        },
      ])
    } finally {
      rmSync(`${repo.dir}/data/more.yml`)
    }
  })

  it('says so when nothing changed, and compares paths', async () => {
    const same = memoryIO(repo.dir)
    expect(await runCli(['data', 'diff', 'HEAD'], same)).toBe(0)
    expect(same.out()).toBe('### Training data: `HEAD` → `working tree`\n\nNo changes to the training data.\n')
    const fixtures = new URL('./fixtures/', import.meta.url).pathname
    const paths = memoryIO(fixtures)
    expect(await runCli(['data', 'diff', 'diff-v1.yml', 'diff-v2.yml'], paths)).toBe(0)
    expect(paths.out()).toContain('**+2 −1** examples (7 → 8)')
  })

  it('reads a data file that is a symbolic link, and a linked directory, at a revision as the working tree does', async () => {
    const linked = gitRepo()
    try {
      const { symlinkSync } = await import('node:fs')
      linked.write('shared/nlu.yml', v1)
      linked.write('shared/more/thanks.yml', 'version: "3.1"\nnlu:\n- intent: thanks\n  examples: |\n    - cheers\n')
      linked.write('intentops.yml', 'name: bot\ndata: [data]\n')
      linked.write('data/.keep', '')
      symlinkSync('../shared/nlu.yml', `${linked.dir}/data/nlu.yml`)
      symlinkSync('../shared/more', `${linked.dir}/data/more`)
      linked.commit('linked data')
      const io = memoryIO(linked.dir)
      expect(await runCli(['data', 'diff', 'HEAD', '--json'], io), io.err()).toBe(0)
      const diff = JSON.parse(io.out()) as DataDiff
      expect(diff.summary).toMatchObject({ added: 0, removed: 0, examplesBefore: 8, examplesAfter: 8 })
    } finally {
      rmSync(linked.dir, { recursive: true, force: true })
    }
  })

  it('reports an unknown ref in one line, exit 1', async () => {
    const io = memoryIO(repo.dir)
    expect(await runCli(['data', 'diff', 'no-such-branch'], io)).toBe(1)
    expect(io.err()).toMatch(/^error ERR_GIT: git rev-parse failed: unknown revision "no-such-branch"\n {2}hint: /)
  })
})
