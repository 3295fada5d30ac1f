/**
 * What `intentops compare A B` does, as a library call: each side is a `report.json` or a model file (evaluated on
 * the given test set), then the two are compared.
 * @module
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { loadTrainingData } from '../data/load.js'
import type { Example } from '../data/types.js'
import { createError } from '../errors.js'
import { loadModel } from '../nlu/model-file.js'
import { type CompareOptions, type Comparison, compareReports } from './compare.js'
import { evaluate } from './evaluate.js'
import type { ZeroDivision } from './metrics.js'
import { readReport } from './report-files.js'
import type { EvalReport } from './types.js'

export interface CompareRunOptions extends CompareOptions {
  root: string
  /** Test data for sides that are model files. */
  testPaths?: string[]
  zeroDivision?: ZeroDivision
  signal?: AbortSignal
  onProgress?: (side: 'A' | 'B', fraction: number) => void
}

/** True when the file starts like a JSON document (a report) rather than a model file. */
async function looksLikeJson(file: string): Promise<boolean> {
  let fh: import('node:fs/promises').FileHandle | undefined
  try {
    fh = await fsp.open(file, 'r')
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(64), 0, 64, 0)
    const head = buffer.subarray(0, bytesRead).toString('utf8').trimStart()
    return head.startsWith('{')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') throw createError('ERR_FILE_NOT_FOUND', { path: file }, { cause: err })
    throw createError('ERR_FILE_UNREADABLE', { path: file, detail: e.code ?? e.message }, { cause: err })
  } finally {
    await fh?.close()
  }
}

/** Load both sides and compare them. */
export async function runCompare(a: string, b: string, options: CompareRunOptions): Promise<Comparison> {
  let test: Example[] | undefined
  const side = async (file: string, which: 'A' | 'B'): Promise<EvalReport> => {
    const abs = path.resolve(options.root, file)
    if (await looksLikeJson(abs)) return readReport(abs)
    const model = await loadModel(abs)
    if (!options.testPaths?.length) {
      throw createError('ERR_EVAL_NO_TEST_DATA', {
        detail: `${file} is a model file; pass --test PATH to evaluate it (or compare two report.json files)`,
      })
    }
    test ??= (await loadTrainingData(options.testPaths, { root: options.root })).examples
    if (test.length === 0) {
      throw createError('ERR_EVAL_NO_TEST_DATA', { detail: `no labelled examples in ${options.testPaths.join(', ')}` })
    }
    return evaluate(model, test, {
      zeroDivision: options.zeroDivision ?? 0,
      testPaths: options.testPaths,
      modelFile: { path: abs, bytes: (await fsp.stat(abs)).size },
      onProgress: (d, t) => options.onProgress?.(which, d / t),
      ...(options.signal ? { signal: options.signal } : {}),
    })
  }
  const ra = await side(a, 'A')
  const rb = await side(b, 'B')
  return compareReports(ra, rb, { labelA: a, labelB: b, ...options })
}
