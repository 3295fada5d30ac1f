/**
 * Drift checks: does recent traffic still look like the training data (or a reference window)? Each check is a pure
 * function of two {@link DriftSample}s and the `monitor` thresholds, so they are tested without a store; the
 * samples are built by streaming predictions ({@link DriftSampleBuilder}) or from training data
 * ({@link trainingSample}).
 * @module
 */
import type { MonitorConfig } from '../config/schema.js'
import { messageText, type TrainingData } from '../data/types.js'
import { solveSag } from '../nlu/classifiers/sag-solver.js'
import { fmix32, H1_INIT, step1 } from '../nlu/hash.js'
import { Rng } from '../nlu/random.js'
import type { CsrMatrix } from '../nlu/sparse.js'
import { TextScanner } from '../nlu/tokenizer.js'
import { jensenShannon, ksTwoSample, psi, rocAuc } from './stats.js'

/** What a drift check needs to know about one side: counts, per-message numbers and a uniform sample of texts. */
export interface DriftSample {
  /** Messages seen. */
  size: number
  intentCounts: Map<string, number>
  /** Lowercased word tokens and how often they occur. */
  tokenCounts: Map<string, number>
  tokenTotal: number
  /** Tokens per message. */
  lengths: Float64Array
  /** Model confidence per message; absent for training data. */
  confidences?: Float64Array
  /** A uniform sample (reservoir) of at most `maxTexts` texts, for the domain classifier. */
  texts: string[]
}

export type DriftCheckName = 'intent_distribution' | 'oov_share' | 'text_length' | 'confidence' | 'domain_classifier'

export interface DriftCheck {
  name: DriftCheckName
  status: 'pass' | 'fail' | 'skipped'
  /** The number compared with the threshold (null when skipped). */
  value: number | null
  threshold: number
  /** Every number the check computed, unrounded. */
  metrics: Record<string, number>
  /** One line for people. */
  message: string
}

export interface DriftReport {
  format: 'intentops-drift-report'
  version: 1
  recent: { label: string; size: number }
  reference: { label: string; kind: 'training' | 'window'; size: number }
  checks: DriftCheck[]
  /** Names of the failed checks. */
  failed: DriftCheckName[]
  passed: boolean
}

export type DriftThresholds = Pick<
  MonitorConfig,
  | 'minSamples'
  | 'maxPsi'
  | 'maxJensenShannon'
  | 'maxOovShare'
  | 'maxLengthKs'
  | 'maxConfidenceKs'
  | 'maxConfidenceDrop'
  | 'pValue'
  | 'maxDomainAuc'
  | 'domainSamples'
  | 'domainFolds'
  | 'seed'
>

/** Accumulates a {@link DriftSample} one message at a time, in bounded memory apart from two numbers per message. */
export class DriftSampleBuilder {
  private readonly scanner = new TextScanner()
  private readonly rng: Rng
  private readonly intentCounts = new Map<string, number>()
  private readonly tokenCounts = new Map<string, number>()
  private readonly lengths: number[] = []
  private readonly confidences: number[] = []
  private readonly texts: string[] = []
  private tokenTotal = 0
  private size = 0

  constructor(private readonly options: { maxTexts: number; seed: number }) {
    this.rng = new Rng(options.seed)
  }

  add(text: string, intent: string, confidence?: number): void {
    const n = this.scanner.scan(text)
    for (let t = 0; t < n; t++) {
      const tok = this.scanner.tokenText(t)
      this.tokenCounts.set(tok, (this.tokenCounts.get(tok) ?? 0) + 1)
    }
    this.tokenTotal += n
    this.lengths.push(n)
    if (confidence !== undefined) this.confidences.push(confidence)
    this.intentCounts.set(intent, (this.intentCounts.get(intent) ?? 0) + 1)
    if (this.texts.length < this.options.maxTexts) this.texts.push(text)
    else {
      const j = this.rng.nextInt(this.size + 1)
      if (j < this.options.maxTexts) this.texts[j] = text
    }
    this.size++
  }

  build(): DriftSample {
    return {
      size: this.size,
      intentCounts: new Map(this.intentCounts),
      tokenCounts: new Map(this.tokenCounts),
      tokenTotal: this.tokenTotal,
      lengths: Float64Array.from(this.lengths),
      // Confidences only when every message had one, so the two arrays describe the same messages.
      ...(this.confidences.length === this.size && this.size > 0
        ? { confidences: Float64Array.from(this.confidences) }
        : {}),
      texts: [...this.texts],
    }
  }
}

/** The training data as a drift sample: its texts, their labels, no confidences. */
export function trainingSample(data: TrainingData, options: { maxTexts: number; seed: number }): DriftSample {
  const b = new DriftSampleBuilder(options)
  for (const ex of data.examples) b.add(messageText(ex), ex.intent)
  return b.build()
}

/** The vocabulary the model was trained on: every token of the training sample. */
export function vocabularyOf(sample: DriftSample): Set<string> {
  return new Set(sample.tokenCounts.keys())
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x))

/** Intent distribution shift: PSI and Jensen–Shannon of the intent counts; either over its threshold fails. */
export function checkIntentDistribution(
  recent: DriftSample,
  reference: DriftSample,
  t: Pick<DriftThresholds, 'maxPsi' | 'maxJensenShannon'>,
): DriftCheck {
  const p = psi(reference.intentCounts, recent.intentCounts)
  const js = jensenShannon(reference.intentCounts, recent.intentCounts)
  const fail = p > t.maxPsi || js > t.maxJensenShannon
  // Which intents moved most, for the message: the largest absolute changes of share.
  const moved = topShareChanges(reference.intentCounts, recent.intentCounts, 3)
  return {
    name: 'intent_distribution',
    status: fail ? 'fail' : 'pass',
    value: p,
    threshold: t.maxPsi,
    metrics: { psi: p, jensenShannon: js, maxJensenShannon: t.maxJensenShannon },
    message: `PSI ${fmt(p)} (max ${t.maxPsi}), JS ${fmt(js)} bits (max ${t.maxJensenShannon})${
      moved.length ? `; largest changes: ${moved.join(', ')}` : ''
    }`,
  }
}

function topShareChanges(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>, k: number): string[] {
  const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((s, x) => s + x, 0) || 1
  const sa = sum(a)
  const sb = sum(b)
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((key) => ({ key, d: (b.get(key) ?? 0) / sb - (a.get(key) ?? 0) / sa }))
    .sort((x, y) => Math.abs(y.d) - Math.abs(x.d) || (x.key < y.key ? -1 : 1))
    .slice(0, k)
    .filter((x) => Math.abs(x.d) >= 0.005)
    .map((x) => `${x.key} ${x.d > 0 ? '+' : ''}${(x.d * 100).toFixed(1)} pts`)
}

/** Out-of-vocabulary share: tokens of the recent window never seen in the training data. */
export function checkOovShare(
  recent: DriftSample,
  reference: DriftSample,
  vocabulary: ReadonlySet<string>,
  t: Pick<DriftThresholds, 'maxOovShare'>,
): DriftCheck {
  const share = (s: DriftSample) => {
    let oov = 0
    for (const [tok, c] of s.tokenCounts) if (!vocabulary.has(tok)) oov += c
    return s.tokenTotal === 0 ? 0 : oov / s.tokenTotal
  }
  const r = share(recent)
  const ref = share(reference)
  const unseen = [...recent.tokenCounts]
    .filter(([tok]) => !vocabulary.has(tok))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([tok]) => tok)
  return {
    name: 'oov_share',
    status: r > t.maxOovShare ? 'fail' : 'pass',
    value: r,
    threshold: t.maxOovShare,
    metrics: { recent: r, reference: ref, vocabularySize: vocabulary.size },
    message: `${(r * 100).toFixed(1)}% of recent tokens are not in the training vocabulary (reference ${(
      ref * 100
    ).toFixed(
      1,
    )}%, max ${(t.maxOovShare * 100).toFixed(1)}%)${unseen.length ? `; most frequent: ${unseen.join(', ')}` : ''}`,
  }
}

/** Numeric shift by the two-sample KS test: fails when the statistic is over its threshold and significant. */
function ksCheck(
  name: 'text_length' | 'confidence',
  recent: Float64Array,
  reference: Float64Array,
  maxKs: number,
  pValue: number,
): { fail: boolean; metrics: Record<string, number>; text: string } {
  const ks = ksTwoSample(reference, recent)
  const meanR = mean(recent)
  const meanRef = mean(reference)
  const fail = ks.statistic > maxKs && ks.pValue < pValue
  const unit = name === 'text_length' ? ' tokens' : ''
  return {
    fail,
    metrics: { ks: ks.statistic, pValue: ks.pValue, recentMean: meanR, referenceMean: meanRef },
    text: `KS ${fmt(ks.statistic)} (max ${maxKs}, p = ${ks.pValue.toPrecision(2)}); mean ${fmt(meanR)}${unit} vs ${fmt(meanRef)}${unit}`,
  }
}

function mean(xs: Float64Array): number {
  let s = 0
  for (const x of xs) s += x
  return xs.length === 0 ? 0 : s / xs.length
}

/** Text-length shift: tokens per message, KS test. */
export function checkTextLength(
  recent: DriftSample,
  reference: DriftSample,
  t: Pick<DriftThresholds, 'maxLengthKs' | 'pValue'>,
): DriftCheck {
  const r = ksCheck('text_length', recent.lengths, reference.lengths, t.maxLengthKs, t.pValue)
  return {
    name: 'text_length',
    status: r.fail ? 'fail' : 'pass',
    value: r.metrics.ks!,
    threshold: t.maxLengthKs,
    metrics: r.metrics,
    message: `text length ${r.text}`,
  }
}

/**
 * Confidence shift: KS test on confidences, and the drop of the mean. Needs confidences on both sides, so it is
 * skipped against training data (which has labels, not model confidences).
 */
export function checkConfidence(
  recent: DriftSample,
  reference: DriftSample,
  t: Pick<DriftThresholds, 'maxConfidenceKs' | 'maxConfidenceDrop' | 'pValue'>,
): DriftCheck {
  if (!recent.confidences || !reference.confidences) {
    return {
      name: 'confidence',
      status: 'skipped',
      value: null,
      threshold: t.maxConfidenceKs,
      metrics: {},
      message: 'skipped: the reference has no model confidences (compare with a reference window)',
    }
  }
  const r = ksCheck('confidence', recent.confidences, reference.confidences, t.maxConfidenceKs, t.pValue)
  const drop = r.metrics.referenceMean! - r.metrics.recentMean!
  const fail = r.fail || drop > t.maxConfidenceDrop
  return {
    name: 'confidence',
    status: fail ? 'fail' : 'pass',
    value: r.metrics.ks!,
    threshold: t.maxConfidenceKs,
    metrics: { ...r.metrics, meanDrop: drop, maxConfidenceDrop: t.maxConfidenceDrop },
    message: `confidence ${r.text}; mean drop ${fmt(drop)} (max ${t.maxConfidenceDrop})`,
  }
}

/** Hashed feature space of the domain classifier: 2^16 buckets keep collisions rare for a few thousand texts. */
const DOMAIN_FEATURE_BITS = 16

/**
 * Binary bag of hashed unigrams and bigrams per text, each row L2-normalised. Bigrams catch new phrasings made of
 * known words, which the OOV check cannot see.
 */
export function hashedTokenFeatures(texts: readonly string[], bits = DOMAIN_FEATURE_BITS): CsrMatrix {
  const scanner = new TextScanner()
  const mask = (1 << bits) - 1
  const indptr = new Int32Array(texts.length + 1)
  const indices: number[] = []
  const hashes = new Int32Array(256)
  const row = new Set<number>()
  texts.forEach((text, r) => {
    const n = scanner.scan(text)
    row.clear()
    const hs = n <= hashes.length ? hashes : new Int32Array(n)
    for (let t = 0; t < n; t++) {
      let h = H1_INIT
      for (let c = scanner.tokStart[t]!; c < scanner.tokEnd[t]!; c++) h = step1(h, scanner.chars[c]!)
      hs[t] = h
      row.add(fmix32(h) & mask)
      if (t > 0) row.add(fmix32(step1(hs[t - 1]! ^ 0x9e3779b9, h)) & mask)
    }
    const sorted = [...row].sort((a, b) => a - b)
    indices.push(...sorted)
    indptr[r + 1] = indices.length
  })
  const values = new Float32Array(indices.length)
  for (let r = 0; r < texts.length; r++) {
    const len = indptr[r + 1]! - indptr[r]!
    const v = len === 0 ? 0 : 1 / Math.sqrt(len)
    values.fill(v, indptr[r]!, indptr[r + 1]!)
  }
  return { rows: texts.length, cols: 1 << bits, indptr, indices: Int32Array.from(indices), values }
}

export interface DomainClassifierResult {
  /** Cross-validated ROC AUC of "recent" against "reference"; 0.5 means indistinguishable. */
  auc: number
  /** AUC of each fold's held-out texts. */
  foldAucs: number[]
  /** Texts used per side. */
  perSide: number
}

/**
 * The domain-classifier test: a logistic regression (our SAG solver) on hashed token features learns to tell recent
 * texts (label 1) from reference texts (label 0); its out-of-fold scores give the ROC AUC. Both sides are cut to the
 * same size so the AUC is not bent by class balance.
 */
export function domainClassifierAuc(
  recent: readonly string[],
  reference: readonly string[],
  options: { samples: number; folds: number; seed: number },
): DomainClassifierResult {
  const rng = new Rng(options.seed)
  const pick = (xs: readonly string[], n: number) => {
    const idx = Int32Array.from({ length: xs.length }, (_, i) => i)
    rng.shuffle(idx)
    return Array.from(idx.subarray(0, n), (i) => xs[i]!)
  }
  const perSide = Math.min(recent.length, reference.length, options.samples)
  const texts = [...pick(recent, perSide), ...pick(reference, perSide)]
  const labels = new Int32Array(2 * perSide)
  labels.fill(1, 0, perSide)
  const x = hashedTokenFeatures(texts)
  // Stratified folds: each side dealt round-robin over the folds after a shuffle.
  const folds = new Int32Array(texts.length)
  for (const side of [0, 1]) {
    const rows = Int32Array.from({ length: perSide }, (_, i) => i + (side === 1 ? 0 : perSide))
    rng.shuffle(rows)
    rows.forEach((r, i) => {
      folds[r] = i % options.folds
    })
  }
  const scores = new Float64Array(texts.length)
  const foldAucs: number[] = []
  const problem = { ...x, labels }
  for (let f = 0; f < options.folds; f++) {
    const train: number[] = []
    const test: number[] = []
    for (let i = 0; i < texts.length; i++) (folds[i] === f ? test : train).push(i)
    if (train.length === 0 || test.length === 0) continue
    const w = new Float64Array(x.cols * 2)
    const b = new Float64Array(2)
    solveSag(
      problem,
      Int32Array.from(train),
      2,
      { c: 1, tol: 1e-3, maxEpochs: 30, seed: options.seed + f, warmStart: false },
      w,
      b,
    )
    const foldScores: number[] = []
    const foldLabels: number[] = []
    for (const i of test) {
      let s = b[1]! - b[0]!
      for (let j = x.indptr[i]!; j < x.indptr[i + 1]!; j++) {
        const off = x.indices[j]! * 2
        s += x.values[j]! * (w[off + 1]! - w[off]!)
      }
      scores[i] = s
      foldScores.push(s)
      foldLabels.push(labels[i]!)
    }
    foldAucs.push(rocAuc(foldScores, foldLabels))
  }
  return { auc: perSide === 0 ? Number.NaN : rocAuc(scores, labels), foldAucs, perSide }
}

/** Domain-classifier check: fails when recent texts are too easy to tell from the reference texts. */
export function checkDomainClassifier(
  recent: DriftSample,
  reference: DriftSample,
  t: Pick<DriftThresholds, 'maxDomainAuc' | 'domainSamples' | 'domainFolds' | 'seed'>,
): DriftCheck {
  const r = domainClassifierAuc(recent.texts, reference.texts, {
    samples: t.domainSamples,
    folds: t.domainFolds,
    seed: t.seed,
  })
  return {
    name: 'domain_classifier',
    status: r.auc > t.maxDomainAuc ? 'fail' : 'pass',
    value: r.auc,
    threshold: t.maxDomainAuc,
    metrics: { auc: r.auc, perSide: r.perSide, folds: r.foldAucs.length },
    message: `a classifier tells recent texts from reference texts with ROC AUC ${fmt(r.auc)} (max ${
      t.maxDomainAuc
    }; 0.5 = indistinguishable), ${r.perSide} texts per side`,
  }
}

/**
 * Every drift check of the recent sample against the reference. With fewer than `minSamples` messages on either
 * side, every check is skipped: a handful of messages shifts any statistic.
 */
export function runDriftChecks(
  input: {
    recent: DriftSample
    reference: DriftSample
    /** Training-data vocabulary for the OOV check. */
    vocabulary: ReadonlySet<string>
    recentLabel: string
    referenceLabel: string
    referenceKind: 'training' | 'window'
  },
  t: DriftThresholds,
): DriftReport {
  const { recent, reference } = input
  let checks: DriftCheck[]
  if (recent.size < t.minSamples || reference.size < t.minSamples) {
    const msg = `skipped: ${recent.size} recent and ${reference.size} reference messages, fewer than minSamples (${t.minSamples})`
    const names: Array<[DriftCheckName, number]> = [
      ['intent_distribution', t.maxPsi],
      ['oov_share', t.maxOovShare],
      ['text_length', t.maxLengthKs],
      ['confidence', t.maxConfidenceKs],
      ['domain_classifier', t.maxDomainAuc],
    ]
    checks = names.map(([name, threshold]) => ({
      name,
      status: 'skipped',
      value: null,
      threshold,
      metrics: {},
      message: msg,
    }))
  } else {
    checks = [
      checkIntentDistribution(recent, reference, t),
      checkOovShare(recent, reference, input.vocabulary, t),
      checkTextLength(recent, reference, t),
      checkConfidence(recent, reference, t),
      checkDomainClassifier(recent, reference, t),
    ]
  }
  const failed = checks.filter((c) => c.status === 'fail').map((c) => c.name)
  return {
    format: 'intentops-drift-report',
    version: 1,
    recent: { label: input.recentLabel, size: recent.size },
    reference: { label: input.referenceLabel, kind: input.referenceKind, size: reference.size },
    checks,
    failed,
    passed: failed.length === 0,
  }
}

/** The drift report as a notification summary and details (Slack-compatible via `src/util/notify.ts`). */
export function driftSummary(report: DriftReport): { summary: string; details: Record<string, string> } {
  const summary = report.passed
    ? `no drift in ${report.recent.label} against ${report.reference.label}`
    : `${report.failed.length} drift check(s) failed in ${report.recent.label} (${report.recent.size} messages) against ${report.reference.label}: ${report.failed.join(', ')}`
  const details: Record<string, string> = {}
  for (const c of report.checks) details[c.name] = `${c.status.toUpperCase()} ${c.message}`
  return { summary, details }
}
