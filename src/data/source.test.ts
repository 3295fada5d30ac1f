import { mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { gitRepo } from '../../test/helpers/git-repo.js'
import { loadTrainingDataDetailed } from './load.js'
import { type DataSource, fsSource, gitSource } from './source.js'

const nlu = (intent: string, text: string) =>
  `version: "3.1"\nnlu:\n- intent: ${intent}\n  examples: |\n    - ${text}\n`

/**
 * A repository whose project sits in `proj/`, so that a link may lead out of the project yet stay in the
 * repository. Links are made relative to their own directory, as on disk.
 */
const repo = gitRepo('io-git-links-')
const top = realpathSync(repo.dir)
const project = path.join(repo.dir, 'proj')
const link = (target: string, at: string) => {
  mkdirSync(path.dirname(path.join(project, at)), { recursive: true })
  symlinkSync(target, path.join(project, at))
}
afterAll(() => rmSync(repo.dir, { recursive: true, force: true }))

// The layout of the working tree's tests of links (load.test.ts), under `data/`.
repo.write('proj/shared/nlu.yml', nlu('greet', 'hi'))
repo.write('proj/shared/intents/a.yml', nlu('greet', 'hello'))
repo.write('proj/shared/intents/more/b.yml', nlu('bye', 'bye'))
repo.write('proj/data/sub/s.yml', nlu('thanks', 'thanks'))
repo.write('proj/data/z.yml', nlu('help', 'help'))
link('../shared/nlu.yml', 'data/nlu.yml')
link('../shared/intents', 'data/common')
// The shared folder links back to a file of the data directory, and the data directory to a folder of its own.
link('../../../data/z.yml', 'shared/intents/more/c.yml')
link('sub', 'data/a-sub')
// Skipped by name, as directories of those names are; a link to nothing and loops are no data.
link('../shared/intents', 'data/node_modules')
link('../shared/intents', 'data/.hidden')
link('../shared/missing.yml', 'data/gone.yml')
link('..', 'data/sub/up')
link('.', 'data/sub/self')
link('l2', 'data/l1.yml')
link('l1.yml', 'data/l2')
// Links that lead out: of the project into the repository, and out of the repository.
repo.write('outside/secret.yml', nlu('secret', 'the secret'))
repo.write('proj/out-dir/a.yml', nlu('greet', 'hi'))
link('../../outside', 'out-dir/ext')
repo.write('proj/out-file/a.yml', nlu('greet', 'hi'))
link('../../outside/secret.yml', 'out-file/secret.yml')
repo.write('proj/out-repo/a.yml', nlu('greet', 'hi'))
link('../../../elsewhere', 'out-repo/far')
// Out of the project and back in, and an absolute link into the checkout: followed, as on disk.
link('../../proj/shared/nlu.yml', 'round/nlu.yml')
link(path.join(top, 'proj/shared/intents/a.yml'), 'absolute/a.yml')
link('../shared/nlu.yml/x.yml', 'under-a-file/x.yml')
repo.commit('links')

const load = (paths: string[], source: DataSource) => loadTrainingDataDetailed(paths, { root: project, source })
const files = async (paths: string[], source: DataSource) => {
  const r = await load(paths, source)
  return { diagnostics: r.diagnostics.map((d) => `${d.code}: ${d.message}`), files: r.files.map((f) => f.file) }
}

describe('the git source, on symbolic links', () => {
  it('reads a linked data file and walks a linked directory as the working tree does, each once', async () => {
    const working = await files(['data'], fsSource(project))
    expect(working).toEqual({
      diagnostics: [],
      files: ['data/common/a.yml', 'data/common/more/b.yml', 'data/nlu.yml', 'data/sub/s.yml', 'data/z.yml'],
    })
    const head = await gitSource(project, 'HEAD')
    expect(await files(['data'], head)).toEqual(working)
    const r = await load(['data'], head)
    expect(r.data.examples.map((e) => [e.text, e.source?.file])).toEqual([
      ['hello', 'data/common/a.yml'],
      ['bye', 'data/common/more/b.yml'],
      ['hi', 'data/nlu.yml'],
      ['thanks', 'data/sub/s.yml'],
      ['help', 'data/z.yml'],
    ])
    // A data path that is a link, to a file or to a directory, and links that leave the project and come back.
    const named = ['data/nlu.yml', 'data/common', 'round', 'absolute']
    const both = await files(named, fsSource(project))
    expect(both).toEqual({
      diagnostics: [],
      files: [
        'data/nlu.yml',
        'data/common/a.yml',
        'data/common/more/b.yml',
        'data/common/more/c.yml',
        'round/nlu.yml',
        'absolute/a.yml',
      ],
    })
    expect(await files(named, head)).toEqual(both)
    expect(await head.read('data/common/more/c.yml')).toBe(nlu('help', 'help'))
  })

  it('reads the revision, not the working tree', async () => {
    const later = gitRepo('io-git-links-later-')
    try {
      later.write('shared/nlu.yml', nlu('greet', 'hi'))
      mkdirSync(path.join(later.dir, 'data'))
      symlinkSync('../shared', path.join(later.dir, 'data/common'))
      later.commit('linked')
      rmSync(path.join(later.dir, 'data/common'))
      later.write('data/common/nlu.yml', nlu('bye', 'bye'))
      const r = await loadTrainingDataDetailed(['data'], {
        root: later.dir,
        source: await gitSource(later.dir, 'HEAD'),
      })
      expect([r.diagnostics, r.data.examples.map((e) => e.text)]).toEqual([[], ['hi']])
    } finally {
      rmSync(later.dir, { recursive: true, force: true })
    }
  })

  it('refuses a link that leads out of the project or of the repository, naming where it leads', async () => {
    const head = await gitSource(project, 'HEAD')
    const outside = (p: string, where: string) =>
      `ERR_PATH_OUTSIDE_PROJECT: HEAD:${p} (${where}) is outside the project directory ${project}`
    expect(await files(['out-dir'], head)).toEqual({
      diagnostics: [outside('out-dir/ext', path.join(top, 'outside'))],
      files: [],
    })
    expect(await files(['out-repo'], head)).toEqual({
      diagnostics: [outside('out-repo/far', path.resolve(top, '../elsewhere'))],
      files: [],
    })
    // A link to a data file is listed, and refused when read, as in the working tree.
    const r = await files(['out-file'], head)
    expect(r.diagnostics).toEqual([outside('out-file/secret.yml', path.join(top, 'outside/secret.yml'))])
    await expect(head.read('out-file/secret.yml')).rejects.toMatchObject({ code: 'ERR_PATH_OUTSIDE_PROJECT' })
  })

  it('says a data path that is a link to nothing, or round in a loop, is not found or unreadable', async () => {
    const head = await gitSource(project, 'HEAD')
    expect((await files(['data/gone.yml', 'data/l1.yml', 'under-a-file/x.yml'], head)).diagnostics).toEqual([
      'ERR_FILE_NOT_FOUND: File not found: HEAD:data/gone.yml (a link to ../shared/missing.yml)',
      'ERR_FILE_UNREADABLE: Cannot read HEAD:data/l1.yml: its symbolic links lead round in a loop (or through more than 40 links)',
      'ERR_FILE_NOT_FOUND: File not found: HEAD:under-a-file/x.yml (a link to ../shared/nlu.yml/x.yml)',
    ])
    await expect(head.read('data/common')).rejects.toMatchObject({
      code: 'ERR_FILE_UNREADABLE',
      message: 'Cannot read HEAD:data/common: it is a directory',
    })
  })
})
