/**
 * Stratified train/test split from a seed: every intent keeps its share in both parts, and the same seed always
 * gives the same split.
 * @module
 */
import { createError } from '../errors.js'
import type { Example, TrainingData } from './types.js'

export interface SplitParams {
  /** Share of each intent's examples that goes to the test part, in (0, 1). Default 0.2. */
  testFraction?: number
  /** Seed of the shuffle. Default 42. */
  seed?: number
}

export interface SplitResult {
  train: TrainingData
  test: TrainingData
}

/** Mulberry32: a small, fast, seedable PRNG with a full 2^32 period. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Split per intent: each intent with two or more examples puts round(n × testFraction) of them (at least one, and
 * never all) into test. Synonyms, regexes and lookups go to train. Example order inside each part follows the input.
 */
export function splitTrainingData(data: TrainingData, params: SplitParams = {}): SplitResult {
  const fraction = params.testFraction ?? 0.2
  const seed = params.seed ?? 42
  if (!(fraction > 0 && fraction < 1)) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `testFraction must be between 0 and 1 (exclusive), got ${fraction}`,
    })
  }
  if (!Number.isInteger(seed))
    throw createError('ERR_INVALID_ARGUMENT', { detail: `seed must be an integer, got ${seed}` })
  const rand = mulberry32(seed)
  const byIntent = new Map<string, number[]>()
  data.examples.forEach((ex, i) => {
    const list = byIntent.get(ex.intent)
    if (list) list.push(i)
    else byIntent.set(ex.intent, [i])
  })
  const inTest = new Uint8Array(data.examples.length)
  for (const intent of [...byIntent.keys()].sort()) {
    const idx = byIntent.get(intent)!
    if (idx.length < 2) continue
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[idx[i], idx[j]] = [idx[j]!, idx[i]!]
    }
    const k = Math.min(idx.length - 1, Math.max(1, Math.round(idx.length * fraction)))
    for (let t = 0; t < k; t++) inTest[idx[t]!] = 1
  }
  const train: Example[] = []
  const test: Example[] = []
  data.examples.forEach((ex, i) => {
    ;(inTest[i] ? test : train).push(ex)
  })
  const usedBy = (xs: Example[]) => {
    const names = new Set(xs.map((e) => e.intent))
    return data.intents.filter((i) => names.has(i.name))
  }
  return {
    train: {
      intents: usedBy(train),
      examples: train,
      synonyms: data.synonyms,
      regexes: data.regexes,
      lookups: data.lookups,
    },
    test: { intents: usedBy(test), examples: test, synonyms: [], regexes: [], lookups: [] },
  }
}
