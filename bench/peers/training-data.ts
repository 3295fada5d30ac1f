/**
 * The benchmark's JSONL splits as the engine's training data.
 * @module
 */
import type { TrainingData } from '../../src/data/types.js'
import type { BenchSplit } from '../lib/dataset.js'

/** The benchmark's JSONL rows as the engine's training data, entities included. */
export function toTrainingData(split: BenchSplit): TrainingData {
  const intents: string[] = []
  const seen = new Set<string>()
  for (const ex of split.examples) {
    if (!seen.has(ex.intent)) {
      seen.add(ex.intent)
      intents.push(ex.intent)
    }
  }
  return {
    intents: intents.map((name) => ({ name })),
    examples: split.examples.map((ex) => ({
      text: ex.text,
      intent: ex.intent,
      entities: ex.entities ? ex.entities.map((e) => ({ ...e })) : [],
      source: { file: split.file },
    })),
    synonyms: [],
    regexes: [],
    lookups: [],
  }
}
