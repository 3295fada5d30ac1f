import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../config/defaults.js'
import {
  type DriftSample,
  DriftSampleBuilder,
  domainClassifierAuc,
  driftSummary,
  hashedTokenFeatures,
  runDriftChecks,
  trainingSample,
  vocabularyOf,
} from './drift.js'
import { syntheticTraffic, syntheticTrainingData, type TrafficShift } from './testing.js'

const thresholds = defaultConfig().monitor
const training = trainingSample(syntheticTrainingData(1), { maxTexts: 2000, seed: 7 })
const vocabulary = vocabularyOf(training)

function traffic(seed: number, shift: TrafficShift, count = 600): DriftSample {
  const b = new DriftSampleBuilder({ maxTexts: 2000, seed })
  for (const r of syntheticTraffic({ seed, count, shift })) b.add(r.text, r.intent, r.confidence)
  return b.build()
}

function check(recent: DriftSample, reference: DriftSample = training, kind: 'training' | 'window' = 'training') {
  return runDriftChecks(
    { recent, reference, vocabulary, recentLabel: 'last 7d', referenceLabel: kind, referenceKind: kind },
    thresholds,
  )
}

const status = (r: ReturnType<typeof check>) => Object.fromEntries(r.checks.map((c) => [c.name, c.status]))

describe('drift checks against the training data', () => {
  it('do not fire on traffic sampled from the training distribution', () => {
    for (const seed of [11, 12, 13]) {
      const r = check(traffic(seed, 'none'))
      expect(r.failed, JSON.stringify(r.checks, null, 1)).toEqual([])
      expect(r.passed).toBe(true)
      const domain = r.checks.find((c) => c.name === 'domain_classifier')!
      expect(domain.value).toBeLessThan(0.65)
      // Confidence needs a window reference: training data has none.
      expect(status(r).confidence).toBe('skipped')
    }
  })

  it('fire on a shifted intent mix', () => {
    const r = check(traffic(21, 'intent_mix'))
    expect(r.failed).toContain('intent_distribution')
    const c = r.checks.find((x) => x.name === 'intent_distribution')!
    expect(c.metrics.psi).toBeGreaterThan(thresholds.maxPsi)
    expect(c.message).toContain('track_order +')
    // Same templates, same words: the vocabulary check stays quiet.
    expect(status(r).oov_share).toBe('pass')
  })

  it('fire on unseen vocabulary: OOV share and the domain classifier', () => {
    const r = check(traffic(22, 'vocabulary'))
    expect(r.failed).toEqual(expect.arrayContaining(['oov_share', 'domain_classifier']))
    const oov = r.checks.find((x) => x.name === 'oov_share')!
    expect(oov.metrics.recent).toBeGreaterThan(thresholds.maxOovShare)
    expect(oov.metrics.reference).toBe(0)
    // Half the messages are novel, so 0.75 is the best AUC any classifier can reach.
    expect(r.checks.find((x) => x.name === 'domain_classifier')!.value).toBeGreaterThan(0.72)
  })

  it('fire on longer messages', () => {
    const r = check(traffic(23, 'length'))
    expect(r.failed).toContain('text_length')
    const c = r.checks.find((x) => x.name === 'text_length')!
    expect(c.metrics.recentMean).toBeGreaterThan(c.metrics.referenceMean! + 5)
    expect(c.metrics.pValue).toBeLessThan(thresholds.pValue)
  })

  it('skip every check when a side has fewer than minSamples messages', () => {
    const r = check(traffic(24, 'vocabulary', thresholds.minSamples - 1))
    expect(r.checks.every((c) => c.status === 'skipped')).toBe(true)
    expect(r.passed).toBe(true)
  })
})

describe('drift checks against a reference window', () => {
  it('compare confidences: a drop fires, the same distribution does not', () => {
    const reference = traffic(31, 'none')
    const calm = check(traffic(32, 'none'), reference, 'window')
    expect(calm.failed).toEqual([])
    expect(status(calm).confidence).toBe('pass')
    const low = check(traffic(33, 'confidence'), reference, 'window')
    expect(low.failed).toContain('confidence')
    const c = low.checks.find((x) => x.name === 'confidence')!
    expect(c.metrics.meanDrop).toBeGreaterThan(0.3)
  })

  it('summarise failures for a webhook', () => {
    const r = check(traffic(34, 'vocabulary'))
    const s = driftSummary(r)
    expect(s.summary).toMatch(/drift check\(s\) failed in last 7d \(600 messages\) against training: .*oov_share/)
    expect(s.details.oov_share).toMatch(/^FAIL /)
    expect(s.details.confidence).toMatch(/^SKIPPED /)
  })
})

describe('domain classifier', () => {
  it('is deterministic for a seed and near 0.5 on texts from one distribution', () => {
    const a = traffic(41, 'none').texts
    const b = traffic(42, 'none').texts
    const r1 = domainClassifierAuc(a, b, { samples: 500, folds: 5, seed: 3 })
    const r2 = domainClassifierAuc(a, b, { samples: 500, folds: 5, seed: 3 })
    expect(r1).toEqual(r2)
    expect(r1.perSide).toBe(500)
    expect(r1.foldAucs).toHaveLength(5)
    expect(Math.abs(r1.auc - 0.5)).toBeLessThan(0.1)
  })

  it('separates disjoint topics almost perfectly', () => {
    const a = ['book a flight to paris', 'fly me to rome', 'a ticket to oslo please', 'flights to berlin']
    const b = ['reset my crypto wallet', 'bitcoin wallet transfer', 'my wallet passphrase', 'crypto refund']
    const r = domainClassifierAuc(
      Array.from({ length: 60 }, (_, i) => a[i % 4]!),
      Array.from({ length: 60 }, (_, i) => b[i % 4]!),
      { samples: 60, folds: 3, seed: 1 },
    )
    expect(r.auc).toBeGreaterThan(0.95)
  })

  it('hashes unigrams and bigrams into normalised rows', () => {
    const x = hashedTokenFeatures(['Hello world', 'hello', ''])
    expect(x.indptr[1]).toBe(3) // hello, world, hello_world
    expect(x.indptr[2]! - x.indptr[1]!).toBe(1)
    expect(x.indptr[3]).toBe(x.indptr[2])
    // Lowercased: "Hello" and "hello" hash alike.
    expect(x.indices.slice(0, 3)).toContain(x.indices[3])
    let sq = 0
    for (let j = 0; j < 3; j++) sq += x.values[j]! ** 2
    expect(sq).toBeCloseTo(1, 5)
  })
})

describe('DriftSampleBuilder', () => {
  it('counts intents and tokens, keeps a bounded uniform sample of texts', () => {
    const b = new DriftSampleBuilder({ maxTexts: 10, seed: 1 })
    for (let i = 0; i < 100; i++) b.add(`message number ${i}`, i % 4 === 0 ? 'a' : 'b', 0.5)
    const s = b.build()
    expect(s.size).toBe(100)
    expect(s.intentCounts.get('a')).toBe(25)
    expect(s.tokenCounts.get('message')).toBe(100)
    expect(s.tokenTotal).toBe(300)
    expect(s.texts).toHaveLength(10)
    // A reservoir, not the first ten.
    expect(s.texts.some((t) => Number(t.split(' ')[2]) >= 10)).toBe(true)
    expect(s.confidences).toHaveLength(100)
  })

  it('omits confidences when some messages had none', () => {
    const b = new DriftSampleBuilder({ maxTexts: 10, seed: 1 })
    b.add('a', 'x', 0.4)
    b.add('b', 'x')
    expect(b.build().confidences).toBeUndefined()
  })
})
