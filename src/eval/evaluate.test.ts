import { describe, expect, it } from 'vitest'
import { example, tableParser } from '../../test/helpers/eval-fixtures.js'
import { buildReport, evaluate, exampleIds, fingerprintTestSet, headlineScores } from './evaluate.js'
import { summarize } from './summary.js'

const labels = ['book', 'bye', 'greet', 'weather']
const parser = tableParser(labels, {
  hello: { scores: { greet: 0.8, bye: 0.1, book: 0.1 } },
  'hi there': { scores: { greet: 0.35, bye: 0.33, book: 0.32 } }, // ambiguous: falls back, top was right
  goodbye: { scores: { bye: 0.9, greet: 0.1 } },
  'see you': { scores: { greet: 0.6, bye: 0.3, book: 0.1 } }, // confidently wrong
  'book a flight to paris': {
    scores: { book: 0.5, bye: 0.3, greet: 0.2 },
    entities: [{ start: 17, end: 22, entity: 'city', value: 'Paris' }],
  },
  flights: { scores: { bye: 0.29, book: 0.27, greet: 0.24, weather: 0.2 } }, // low confidence: falls back, top wrong
})
const test = [
  example('hello', 'greet'),
  example('hi there', 'greet'),
  example('goodbye', 'bye'),
  example('see you', 'bye'),
  example('book a flight to paris', 'book', [{ start: 17, end: 22, entity: 'city', value: 'Paris' }]),
  example('asdf', 'nlu_fallback'), // out of scope; the uniform answer falls back
  example('flights', 'book'),
]

describe('evaluate', async () => {
  const report = await evaluate(parser, test)

  it('scores intents with the fallback rule applied', () => {
    expect(report.intent.accuracy).toBeCloseTo(4 / 7, 15)
    expect(report.intent.labels).toEqual(['book', 'bye', 'greet', 'nlu_fallback'])
    expect(report.intent.perLabel.greet).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 })
    expect(report.intent.perLabel.bye!.precision).toBe(1)
    expect(report.intent.perLabel.bye!.f1).toBeCloseTo(2 / 3, 15)
    expect(report.intent.perLabel.nlu_fallback!.precision).toBeCloseTo(1 / 3, 15)
    expect(report.intent.perLabel.nlu_fallback!.recall).toBe(1)
    expect(report.intent.macroAvg.f1).toBeCloseTo((0.5 + 2 / 3 + 2 / 3 + 0.5) / 4, 15)
  })

  it('scores the top intent without the fallback rule too', () => {
    // top intents: greet greet bye greet book book bye → right on 1, 2, 3, 5
    expect(report.intentWithoutFallback.accuracy).toBeCloseTo(4 / 7, 15)
    expect(report.intentWithoutFallback.perLabel.greet!.recall).toBe(1)
    expect(report.intentWithoutFallback.perLabel.nlu_fallback!.recall).toBe(0)
  })

  it('counts fallback rate and quality', () => {
    expect(report.fallback).toMatchObject({
      intent: 'nlu_fallback',
      count: 3,
      caught: 2,
      lost: 1,
      outOfScope: { total: 1, fellBack: 1 },
    })
    expect(report.fallback.rate).toBeCloseTo(3 / 7, 15)
    expect(report.fallback.precision).toBeCloseTo(2 / 3, 15)
    expect(report.fallback.recall).toBeCloseTo(2 / 3, 15)
    expect(report.fallback.withoutFallback.accuracy).toBeCloseTo(4 / 7, 15)
  })

  it('builds the confusion matrix, confused-with lists and the error list', () => {
    const { labels: l, matrix } = report.intent.confusion
    expect(l).toEqual(['book', 'bye', 'greet', 'nlu_fallback'])
    expect(matrix[l.indexOf('greet')]).toEqual([0, 0, 1, 1])
    expect(matrix[l.indexOf('bye')]).toEqual([0, 1, 1, 0])
    expect(report.intent.confusedWith.bye).toEqual([{ intent: 'greet', count: 1 }])
    expect(report.errors.map((e) => e.text)).toEqual(['see you', ...['hi there', 'flights'].sort(byId)])
    expect(report.errors[0]).toMatchObject({ gold: 'bye', predicted: 'greet' })
    expect(report.errors[0]!.confidence).toBeCloseTo(0.6, 12)
  })

  it('histograms and calibrates the top confidence', () => {
    const h = report.confidence
    expect(h.correct.reduce((a, b) => a + b, 0)).toBe(4)
    expect(h.wrong.reduce((a, b) => a + b, 0)).toBe(3)
    expect(h.wrong[2]).toBe(2) // 0.25 (asdf) and 0.29 (flights)
    expect(report.calibration.ece).toBeGreaterThan(0)
    expect(report.calibration.bins.reduce((a, b) => a + b.count, 0)).toBe(7)
  })

  it('scores entities, and times predictions', () => {
    expect(report.entities!.exact.micro.f1).toBe(1)
    expect(report.entities!.token.perEntity.city!.support).toBe(1)
    expect(report.latency!.p99Ms).toBeGreaterThanOrEqual(report.latency!.p50Ms)
  })

  it('summarises for gates', () => {
    const s = summarize(report)
    expect(s).toMatchObject({ testSetFingerprint: report.testSet.fingerprint, fallbackRate: 3 / 7 })
    expect(s.macroF1).toBe(report.intent.macroAvg.f1)
    expect(s.perIntent.greet).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 })
    expect(s.latencyP99Ms).toBe(report.latency!.p99Ms)
  })

  it('is a pure function of the predictions', () => {
    const again = buildReport(report.predictions, {
      testSetFingerprint: report.testSet.fingerprint,
      createdAt: report.createdAt,
    })
    const { latency: _, ...withoutLatency } = report
    expect(again).toEqual(withoutLatency)
    expect(headlineScores(report.predictions).macroF1).toBe(report.intent.macroAvg.f1)
  })

  it('treats a fallback intent the model learned as a class as a real answer, not a fallback', async () => {
    const oos = tableParser(['book', 'nlu_fallback'], {
      gibberish: { scores: { nlu_fallback: 0.9, book: 0.1 } },
      'book it': { scores: { book: 0.52, nlu_fallback: 0.48 } }, // ambiguous: the rule falls back
    })
    const r = await evaluate(oos, [example('gibberish', 'nlu_fallback'), example('book it', 'book')])
    expect(r.predictions[0]).toMatchObject({ predicted: 'nlu_fallback', top: 'nlu_fallback' })
    expect(r.predictions[1]).toMatchObject({
      predicted: 'nlu_fallback',
      top: 'book',
      second: { intent: 'nlu_fallback' },
    })
    expect(r.fallback).toMatchObject({ count: 1, lost: 1, caught: 0, outOfScope: { total: 1, fellBack: 1 } })
  })

  it('refuses an empty test set and honours an aborted signal', async () => {
    await expect(evaluate(parser, [])).rejects.toMatchObject({ code: 'ERR_EVAL_NO_TEST_DATA' })
    const ac = new AbortController()
    ac.abort()
    await expect(evaluate(parser, test, { signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_EVAL_ABORTED' })
  })
})

function byId(a: string, b: string): number {
  const ids = new Map(test.map((ex, i) => [ex.text, exampleIds(test)[i]!]))
  return ids.get(a)! < ids.get(b)! ? -1 : 1
}

describe('test-set identity', () => {
  it('fingerprints ignore order; ids are stable and unique for duplicates', () => {
    const shuffled = [...test].reverse()
    expect(fingerprintTestSet(shuffled)).toBe(fingerprintTestSet(test))
    expect(fingerprintTestSet(test, 'cv:5:1')).not.toBe(fingerprintTestSet(test))
    expect(fingerprintTestSet(test.slice(1))).not.toBe(fingerprintTestSet(test))
    const ids = exampleIds([example('a', 'x'), example('a', 'x'), example('a', 'y')])
    expect(ids[1]).toBe(`${ids[0]}#2`)
    expect(new Set(ids).size).toBe(3)
    expect(exampleIds([example('a', 'y')])[0]).toBe(ids[2])
  })
})
