/**
 * Fixtures for evaluation tests: a parser that answers from a table (so expected metrics can be worked out by
 * hand) and synthetic prediction sets of any size.
 */
import type { Example, MessageInput } from '../../src/data/types.js'
import { messageText } from '../../src/data/types.js'
import { buildReport } from '../../src/eval/evaluate.js'
import { createRandom } from '../../src/eval/random.js'
import type { EvalReport, Prediction } from '../../src/eval/types.js'
import type { EntityPrediction, IntentParser, ParseOptions, ParseResult } from '../../src/nlu/types.js'

export interface TableEntry {
  /** Intent confidences; normalised by the parser. */
  scores: Record<string, number>
  entities?: Array<Omit<EntityPrediction, 'extractor' | 'confidence_entity'>>
}

/**
 * An IntentParser answering from a lookup table, with the fallback rule (threshold and ambiguity) applied like the
 * engine does. Unknown texts get a uniform distribution.
 */
export function tableParser(
  labels: string[],
  table: Record<string, TableEntry>,
  fallback = { intent: 'nlu_fallback', threshold: 0.3, ambiguityThreshold: 0.1 },
): IntentParser {
  return {
    labels,
    parse(message: MessageInput | string, options: ParseOptions = {}): ParseResult {
      const text = typeof message === 'string' ? message : messageText(message)
      const entry = table[text] ?? { scores: Object.fromEntries(labels.map((l) => [l, 1])) }
      const total = Object.values(entry.scores).reduce((a, b) => a + b, 0)
      const ranking = labels
        .map((name) => ({ name, confidence: (entry.scores[name] ?? 0) / total }))
        .sort((a, b) => b.confidence - a.confidence || (a.name < b.name ? -1 : 1))
      let intent = ranking[0]!
      const gap = ranking.length > 1 ? intent.confidence - ranking[1]!.confidence : 1
      if (options.fallback !== false && (intent.confidence < fallback.threshold || gap < fallback.ambiguityThreshold)) {
        intent = { name: fallback.intent, confidence: fallback.threshold }
      }
      return {
        text,
        intent,
        intent_ranking: options.topK ? ranking.slice(0, options.topK) : ranking,
        entities: (entry.entities ?? []).map((e) => ({ ...e, extractor: 'table', confidence_entity: 1 })),
      }
    },
  }
}

export function example(text: string, intent: string, entities: Example['entities'] = []): Example {
  return { text, intent, entities }
}

/**
 * A synthetic prediction set shaped like a real evaluation: `intents` intents with `perIntent` messages each,
 * about `errorRate` of them confused with a neighbouring intent, a few falling back.
 */
export function syntheticPredictions(intents: number, perIntent: number, seed: number, errorRate = 0.12): Prediction[] {
  const random = createRandom(seed)
  const names = Array.from({ length: intents }, (_, i) => `intent_${String(i).padStart(2, '0')}_${'x'.repeat(i % 7)}`)
  const out: Prediction[] = []
  for (let i = 0; i < intents; i++) {
    for (let j = 0; j < perIntent; j++) {
      const gold = names[i]!
      const wrong = random() < errorRate * (1 + (i % 5) / 2)
      const top = wrong ? names[(i + 1 + Math.floor(random() * 3)) % intents]! : gold
      const topConfidence = wrong ? 0.2 + random() * 0.6 : 0.45 + random() * 0.55
      const fallsBack = topConfidence < 0.3
      out.push({
        id: `${i}-${j}`,
        text: `message ${j} about ${gold} | with <markup> and *stars*`,
        gold,
        predicted: fallsBack ? 'nlu_fallback' : top,
        confidence: fallsBack ? 0.3 : topConfidence,
        top,
        topConfidence,
      })
    }
  }
  return out
}

/** A Banking77-sized report with every optional section present. */
export function bigReport(): EvalReport {
  const preds = syntheticPredictions(77, 40, 11)
  const r = buildReport(preds, {
    mode: 'cross-validation',
    testSetFingerprint: 'sha256:x',
    crossValidation: {
      folds: 5,
      seed: 1,
      perFold: [0, 1, 2, 3, 4].map((fold) => ({
        fold,
        accuracy: 0.8 + fold / 100,
        macroF1: 0.79,
        weightedF1: 0.8,
        trainExamples: 2464,
        testExamples: 616,
        trainingMs: 1200,
      })),
    },
    latenciesMs: [0.2, 0.3, 0.25, 1.5],
  })
  r.mustPass = {
    total: 12,
    passed: 4,
    failed: 8,
    failedRequired: 7,
    allowedFailures: 1,
    results: Array.from({ length: 12 }, (_, i) => ({
      text: `must pass sentence ${i}`,
      intent: 'intent_00_',
      predicted: i < 4 ? 'intent_00_' : 'intent_01_x',
      confidence: 0.7,
      passed: i < 4,
      allowFailure: i === 11,
      failures:
        i < 4 ? [] : [{ kind: 'intent' as const, expected: 'intent_00_', actual: 'intent_01_x', confidence: 0.7 }],
      unexpectedEntities: [],
    })),
  }
  r.learningCurve = {
    seed: 1,
    evaluatedOn: 'holdout',
    testExamples: 600,
    points: [10, 25, 50, 100].map((percent) => ({
      percent,
      trainExamples: percent * 30,
      trainingMs: 100,
      accuracy: 0.5 + percent / 300,
      macroF1: 0.45 + percent / 300,
      weightedF1: 0.5 + percent / 300,
    })),
  }
  return r
}
