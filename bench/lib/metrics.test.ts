import { describe, expect, it } from 'vitest'
import { parseSplit, parseTexts } from './dataset.js'
import { medianOf, scoreRun } from './evaluate.js'
import {
  accuracy,
  applyThreshold,
  chooseThreshold,
  entityScores,
  inScopeAccuracy,
  macroF1,
  oosRecall,
  percentile,
  type ScoredLabel,
} from './metrics.js'
import type { PeerResult } from './protocol.js'
import { renderMarkdown, replaceBetweenMarkers } from './report.js'

// Six messages, worked by hand:
//   gold: a a b b c oos      pred: a b b b oos oos
//   a: tp 1, predicted 1, actual 2 → P 1,   R 1/2, F1 2/3
//   b: tp 2, predicted 3, actual 2 → P 2/3, R 1,   F1 4/5
//   c: tp 0                       → F1 0
//   oos: tp 1, predicted 2, actual 1 → P 1/2, R 1, F1 2/3
//   macro-F1 = (2/3 + 4/5 + 0 + 2/3) / 4 = 32/15 / 4 = 8/15
const gold = ['a', 'a', 'b', 'b', 'c', 'oos']
const pred = ['a', 'b', 'b', 'b', 'oos', 'oos']

describe('intent metrics', () => {
  it('computes accuracy, macro-F1, in-scope accuracy and out-of-scope recall', () => {
    expect(accuracy(gold, pred)).toBeCloseTo(4 / 6, 12)
    expect(macroF1(gold, pred)).toBeCloseTo(8 / 15, 12)
    // In scope: a a b b c → a b b b oos: 3 of 5 right.
    expect(inScopeAccuracy(gold, pred, 'oos')).toBeCloseTo(3 / 5, 12)
    expect(oosRecall(gold, pred, 'oos')).toBe(1)
  })

  it('averages macro-F1 over gold labels only, so a label only predicted adds no class', () => {
    // gold x x y, pred x z y: x P 1 R 1/2 F1 2/3; y F1 1; z is not a gold label → (2/3 + 1) / 2.
    expect(macroF1(['x', 'x', 'y'], ['x', 'z', 'y'])).toBeCloseTo(5 / 6, 12)
  })

  it('refuses predictions that do not line up with the gold labels', () => {
    expect(() => accuracy(['a'], ['a', 'b'])).toThrow(/1 items but predictions have 2/)
  })
})

describe('fallback threshold', () => {
  // gold:  a    b    a    oos  oos  b
  // label: a    b    b    a    oos  b
  // conf:  0.9  0.8  0.4  0.3  0.6  0.2
  const g = ['a', 'b', 'a', 'oos', 'oos', 'b']
  const p: ScoredLabel[] = [
    { label: 'a', confidence: 0.9 },
    { label: 'b', confidence: 0.8 },
    { label: 'b', confidence: 0.4 },
    { label: 'a', confidence: 0.3 },
    { label: 'oos', confidence: 0.6 },
    { label: 'b', confidence: 0.2 },
  ]

  it('applies the threshold strictly below it', () => {
    expect(applyThreshold(p, 0.4, 'oos')).toEqual(['a', 'b', 'b', 'oos', 'oos', 'oos'])
    expect(applyThreshold([{ label: 'a', confidence: null }], 0.99, 'oos')).toEqual(['a'])
  })

  it('maximises in-scope accuracy + oos recall on held-out data', () => {
    // No threshold: in-scope 3/4, recall 1/2 → 1.25.
    // t = 0.25 (rejects 0.2, a right b): 2/4 + 1/2 = 1.0.
    // t = 0.35 (also rejects 0.3, the oos read as a): 2/4 + 2/2 = 1.5  ← best
    // t = 0.5  (also rejects 0.4, already wrong):      2/4 + 1   = 1.5  (tie, higher threshold loses)
    // t = 0.7  (rejects 0.6, already oos):             2/4 + 1   = 1.5
    // t = 0.85 (rejects 0.8, right):                   1/4 + 1   = 1.25
    const choice = chooseThreshold(g, p, 'oos', { kind: 'sum' })
    expect(choice).not.toBeNull()
    expect(choice!.threshold).toBeCloseTo(0.35, 12)
    expect(choice!.inScopeAccuracy).toBeCloseTo(0.5, 12)
    expect(choice!.oosRecall).toBe(1)
  })

  it('reaches a target recall with the lowest threshold', () => {
    const half = chooseThreshold(g, p, 'oos', { kind: 'recall', target: 0.5 })
    expect(half!.threshold).toBe(0)
    const full = chooseThreshold(g, p, 'oos', { kind: 'recall', target: 1 })
    expect(full!.threshold).toBeCloseTo(0.35, 12)
  })

  it('catches the most out-of-scope messages within a budget of in-scope fallbacks', () => {
    // In-scope fallbacks per candidate: t = 0: 0, 0.25: 1 (the right b at 0.2), 0.35: 1, 0.5: 2, 0.85: 3.
    const none = chooseThreshold(g, p, 'oos', { kind: 'reject', budget: 0.2 })
    expect(none!.threshold).toBe(0)
    expect(none!.oosRecall).toBe(0.5)
    // One of four in-scope messages may fall back: recall reaches 1 at 0.35, and higher thresholds add nothing.
    const one = chooseThreshold(g, p, 'oos', { kind: 'reject', budget: 0.25 })
    expect(one!.threshold).toBeCloseTo(0.35, 12)
    expect(one!.oosRecall).toBe(1)
    expect(one!.inScopeAccuracy).toBeCloseTo(0.5, 12)
    // A larger budget buys no more recall, and the lowest threshold with the best recall stays.
    expect(chooseThreshold(g, p, 'oos', { kind: 'reject', budget: 0.5 })!.threshold).toBeCloseTo(0.35, 12)
  })

  it('has no threshold without confidences or without out-of-scope examples', () => {
    expect(
      chooseThreshold(
        g,
        p.map((x) => ({ ...x, confidence: null })),
        'oos',
        { kind: 'sum' },
      ),
    ).toBeNull()
    expect(chooseThreshold(['a', 'b'], p.slice(0, 2), 'oos', { kind: 'sum' })).toBeNull()
  })
})

describe('latency percentiles', () => {
  it('interpolates linearly between order statistics, as numpy does', () => {
    const samples = [5, 1, 4, 2, 3] // sorted 1 2 3 4 5
    expect(percentile(samples, 0.5)).toBe(3)
    // 0.99 × 4 = 3.96 → 4 + 0.96 × (5 − 4)
    expect(percentile(samples, 0.99)).toBeCloseTo(4.96, 12)
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(percentile([], 0.5)).toBeNaN()
  })
})

describe('entity scores', () => {
  it('counts exact span and type matches per entity and pooled', () => {
    const goldSpans = [
      [
        { start: 0, end: 5, entity: 'city' },
        { start: 10, end: 14, entity: 'date' },
      ],
      [{ start: 3, end: 8, entity: 'city' }],
    ]
    const predSpans = [
      [
        { start: 0, end: 5, entity: 'city' }, // hit
        { start: 10, end: 13, entity: 'date' }, // wrong end: fp date, fn date
      ],
      [
        { start: 3, end: 8, entity: 'date' }, // wrong type: fp date, fn city
        { start: 3, end: 8, entity: 'city' }, // hit
        { start: 3, end: 8, entity: 'city' }, // duplicate of a matched span: fp city
      ],
    ]
    const s = entityScores(goldSpans, predSpans)
    // city: tp 2, fp 1, fn 0 → P 2/3, R 1, F1 0.8
    expect(s.perEntity.city).toMatchObject({ truePositives: 2, falsePositives: 1, falseNegatives: 0, support: 2 })
    expect(s.perEntity.city!.f1).toBeCloseTo(0.8, 12)
    // date: tp 0, fp 2, fn 1 → 0
    expect(s.perEntity.date).toMatchObject({ truePositives: 0, falsePositives: 2, falseNegatives: 1, f1: 0 })
    // pooled: tp 2, fp 3, fn 1 → P 2/5, R 2/3, F1 = 2·(2/5)(2/3)/(2/5 + 2/3) = 1/2
    expect(s.micro.precision).toBeCloseTo(0.4, 12)
    expect(s.micro.recall).toBeCloseTo(2 / 3, 12)
    expect(s.micro.f1).toBeCloseTo(0.5, 12)
  })
})

describe('scoring a run', () => {
  const split = (lines: object[], file: string) => parseSplit(lines.map((l) => JSON.stringify(l)).join('\n'), file)
  const dataset = {
    name: 'toy',
    dir: '/toy',
    train: split([{ text: 'x', intent: 'a' }], 'train.jsonl'),
    valid: split(
      [
        { text: 'v1', intent: 'a' },
        { text: 'v2', intent: 'oos' },
      ],
      'valid.jsonl',
    ),
    test: split(
      [
        { text: 'fly to Paris', intent: 'a', entities: [{ start: 7, end: 12, entity: 'city' }] },
        { text: 't2', intent: 'b', entities: [] },
        { text: 't3', intent: 'oos', entities: [] },
      ],
      'test.jsonl',
    ),
    oosLabel: 'oos',
  }
  const result: PeerResult = {
    version: 'toy 1',
    settings: {},
    trainMs: 12,
    modelBytes: 3000,
    peakRssBytes: 9e6,
    latencyMs: [0.1, 0.3, 0.2],
    // Valid: the in-scope message is confident, the oos one is not → the threshold lands between 0.3 and 0.9.
    valid: [
      { label: 'a', confidence: 0.9 },
      { label: 'a', confidence: 0.3 },
    ],
    test: [
      { label: 'a', confidence: 0.95, entities: [{ start: 7, end: 12, entity: 'city', value: 'Paris' }] },
      { label: 'b', confidence: 0.7 },
      { label: 'b', confidence: 0.2 },
    ],
  }

  const rules = [{ kind: 'sum' }, { kind: 'recall', target: 0 }] as const

  it('scores the raw labels, the thresholded labels and the entities from the predictions alone', () => {
    const m = scoreRun(dataset, result, rules)
    expect(m.intent).toMatchObject({ accuracy: 2 / 3, inScopeAccuracy: 1, oosRecall: 0 })
    expect(m.fallback).toHaveLength(2)
    expect(m.fallback[0]!.threshold).toBeCloseTo(0.6, 12)
    // Test with t = 0.6: a, b, oos → all right.
    expect(m.fallback[0]).toMatchObject({ accuracy: 1, macroF1: 1, inScopeAccuracy: 1, oosRecall: 1 })
    // A target recall of 0 is met without any threshold: the raw labels again.
    expect(m.fallback[1]).toMatchObject({ threshold: 0, accuracy: 2 / 3, oosRecall: 0, rule: rules[1] })
    expect(m.entities!.micro.f1).toBe(1)
    expect(m.latencyMs.p50).toBeCloseTo(0.2, 12)
    expect(m.latencyMs.max).toBeCloseTo(0.3, 12)
  })

  it('summarises repeated runs by element-wise medians', () => {
    const a = scoreRun(dataset, result, rules)
    const b = scoreRun(dataset, { ...result, trainMs: 30 }, rules)
    const c = scoreRun(dataset, { ...result, trainMs: 20, peakRssBytes: 1e6 }, rules)
    c.fallback[0]!.threshold = 0.1
    b.fallback[0]!.threshold = 0.2
    const m = medianOf([a, b, c])
    expect(m.trainMs).toBe(20)
    expect(m.peakRssBytes).toBe(9e6)
    expect(m.intent.accuracy).toBeCloseTo(2 / 3, 12)
    // Arrays go element by element: thresholds 0.6, 0.2, 0.1 → 0.2.
    expect(m.fallback[0]!.threshold).toBeCloseTo(0.2, 12)
    expect(m.fallback[1]!.rule).toEqual({ kind: 'recall', target: 0 })
  })

  it('renders a table with the thresholded row and writes it between the README markers', () => {
    const m = scoreRun(dataset, result, rules)
    const md = renderMarkdown({
      kind: 'intentops-nlu-bench',
      formatVersion: 1,
      startedAt: '2026-01-02T03:04:05.000Z',
      machine: { cpu: 'CPU', cores: 2, ramBytes: 2 ** 30, os: 'Linux', node: 'v20', python: '3.11', loadAverage: 1 },
      settings: { seed: 1, repeat: 1, warmup: 0, thresholdRules: [...rules], oosLabel: 'oos' },
      datasets: [
        {
          name: 'toy',
          dir: '/toy',
          sizes: { train: 1, valid: 2, test: 3 },
          oosLabel: 'oos',
          hasEntities: true,
          systems: [{ id: 'toy', label: 'Toy', version: 'toy 1', settings: {}, metrics: m, runs: [m] }],
        },
      ],
      failures: [],
    })
    expect(md).toContain('| Toy | 66.67 | 55.56 | 100.00 | 0.00 | 0.01 s | 0.200 ms | 0.298 ms | 3 kB | 9.0 MB |')
    expect(md).toContain('| Toy + fallback, max sum (t = 0.600) | 100.00 | 100.00 | 100.00 | 100.00 | ″ |')
    expect(md).toContain('| Toy + fallback, OOS recall ≥ 0 % (t = 0.000) | 66.67 | 55.56 | 100.00 | 0.00 | ″ |')
    expect(md).toContain('| Toy | city | 100.00 | 100.00 | 100.00 | 1 |')
    const readme = 'intro\n<!-- nlu-bench:results:start -->\nold\n<!-- nlu-bench:results:end -->\nrest\n'
    expect(replaceBetweenMarkers(readme, md)).toBe(
      `intro\n<!-- nlu-bench:results:start -->\n${md}<!-- nlu-bench:results:end -->\nrest\n`,
    )
    expect(replaceBetweenMarkers('no markers', md)).toBeNull()
  })
})

describe('dataset lines', () => {
  it('points at the line and column of a bad line', () => {
    expect(() => parseSplit('{"text":"a","intent":"x"}\n{"text": 3, "intent": "x"}\n', 'd/train.jsonl')).toThrow(
      /`text` must be a string/,
    )
    try {
      parseSplit('{"text":"a","intent":"x"}\n\n{"text":"b", intent}\n', 'd/train.jsonl')
      expect.unreachable()
    } catch (err) {
      expect((err as { describe(): string }).describe()).toMatch(/^d\/train\.jsonl:3:\d+: invalid JSON/)
    }
    expect(() =>
      parseSplit('{"text":"abc","intent":"x","entities":[{"start":1,"end":9,"entity":"e"}]}', 'f.jsonl'),
    ).toThrow(/span 1\.\.9 is not inside the 3-character text/)
  })

  it('fills an entity value from the text it covers', () => {
    const s = parseSplit('{"text":"fly to Paris","intent":"x","entities":[{"start":7,"end":12,"entity":"city"}]}', 'f')
    expect(s.hasEntities).toBe(true)
    expect(s.examples[0]!.entities).toEqual([{ start: 7, end: 12, entity: 'city', value: 'Paris' }])
  })

  it('reads messages to send from text-only lines or a split, and says where one is not', () => {
    expect(parseTexts('{"text":"hi"}\n\n{"text":"book a flight","intent":"book"}\n', 'm.jsonl')).toEqual([
      'hi',
      'book a flight',
    ])
    try {
      parseTexts('{"text":"hi"}\n{"body":"no text"}\n', 'm.jsonl')
      expect.unreachable()
    } catch (err) {
      expect((err as { describe(): string }).describe()).toMatch(/^m\.jsonl:2:1: .*`text` must be a string/)
    }
    expect(() => parseTexts('\n\n', 'empty.jsonl')).toThrow(/no messages/)
  })
})
