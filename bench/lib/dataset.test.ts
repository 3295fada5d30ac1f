import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { sharedDatasets } from './dataset.js'

describe('sharedDatasets', () => {
  const dirs: string[] = []
  afterEach(() => {
    vi.unstubAllEnvs()
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const tree = () => {
    const root = mkdtempSync(path.join(tmpdir(), 'intentops-datasets-'))
    dirs.push(root)
    const repo = path.join(root, 'work', 'repo')
    mkdirSync(repo, { recursive: true })
    return { root, repo }
  }

  it('finds the nearest shared/datasets at or above the repository', () => {
    const { root, repo } = tree()
    vi.stubEnv('INTENTOPS_BENCH_DATASETS', '')
    // Missing everywhere: under the repository, where the caller reports it missing.
    expect(sharedDatasets(repo)).toBe(path.join(repo, 'shared', 'datasets'))
    mkdirSync(path.join(root, 'shared', 'datasets'), { recursive: true })
    expect(sharedDatasets(repo)).toBe(path.join(root, 'shared', 'datasets'))
    // A nearer one wins: the repository's sibling, as on a machine with ../shared.
    mkdirSync(path.join(root, 'work', 'shared', 'datasets'), { recursive: true })
    expect(sharedDatasets(repo)).toBe(path.join(root, 'work', 'shared', 'datasets'))
  })

  it('takes $INTENTOPS_BENCH_DATASETS first', () => {
    const { root, repo } = tree()
    mkdirSync(path.join(root, 'shared', 'datasets'), { recursive: true })
    vi.stubEnv('INTENTOPS_BENCH_DATASETS', path.join(root, 'elsewhere'))
    expect(sharedDatasets(repo)).toBe(path.join(root, 'elsewhere'))
  })
})
