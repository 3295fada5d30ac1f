/**
 * Chooses, on a dataset's valid split, how strongly intentops' linear SVM leans towards the out-of-scope intent,
 * and writes the choice as an intentops.yml for `npm run bench:nlu -- --intentops-config`. The test split is never
 * read. For each `classWeight` of the out-of-scope intent in WEIGHTS it trains the default pipeline on train.jsonl,
 * then for each `classBias` in BIASES it scores valid.jsonl (the bias only shifts that intent's decision value, so
 * it needs no re-training: `p_k ∝ p_k · exp(b_k / T)`). The pair with the highest valid accuracy wins; ties go to the
 * smaller weight, then the smaller bias.
 *
 *   npx tsx bench/oos-bias.ts DATASET_DIR [--out FILE] [--oos-label LABEL] [--seed N]
 * @module
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import type { FittedLinearClassifier } from '../src/nlu/classifiers/linear-model.js'
import { NluModel } from '../src/nlu/model.js'
import { DEFAULT_PIPELINE } from '../src/nlu/pipeline.js'
import { trainModel } from '../src/nlu/train.js'
import { readSplit } from './lib/dataset.js'
import { toTrainingData } from './peers/training-data.js'

const WEIGHTS = [1, 2, 4]
const BIASES = Array.from({ length: 13 }, (_, i) => Math.round(i * 5) / 100)

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: 'bench/configs/clinc150.yml' },
    'oos-label': { type: 'string', default: 'oos' },
    seed: { type: 'string', default: '1' },
  },
})
if (positionals.length !== 1) {
  throw new Error('usage: npx tsx bench/oos-bias.ts DATASET_DIR [--out FILE] [--oos-label LABEL] [--seed N]')
}
const dir = path.resolve(positionals[0]!)
const oosLabel = values['oos-label']
const seed = Number(values.seed)
const train = await readSplit(path.join(dir, 'train.jsonl'))
const valid = await readSplit(path.join(dir, 'valid.jsonl'))

interface Trial {
  weight: number
  bias: number
  accuracy: number
  inScopeAccuracy: number
  oosRecall: number
}
const trials: Trial[] = []
for (const weight of WEIGHTS) {
  const pipeline = DEFAULT_PIPELINE.map((s) =>
    s.type === 'linear_svm' && weight !== 1 ? { ...s, classWeight: { [oosLabel]: weight } } : { ...s },
  )
  const trained = await trainModel(toTrainingData(train), {
    config: { pipeline, fields: {}, fallback: { intent: 'nlu_fallback', threshold: 0, ambiguityThreshold: 0 } },
    seed,
  })
  if (!(trained instanceof NluModel)) throw new Error('trainModel returned no NluModel')
  const model: NluModel = trained
  const labels = model.labels
  const oos = labels.indexOf(oosLabel)
  if (oos === -1) throw new Error(`train.jsonl has no '${oosLabel}' intent`)
  const T = (model.pipeline.classifier as FittedLinearClassifier).temperature
  const proba = valid.examples.map((e) => Float64Array.from(model.pipeline.classify({ text: e.text })))
  for (const bias of BIASES) {
    const boost = Math.exp(bias / T)
    let right = 0
    let inRight = 0
    let nIn = 0
    let oosRight = 0
    valid.examples.forEach((e, i) => {
      const p = proba[i]!
      let best = 0
      let bestP = -1
      for (let k = 0; k < p.length; k++) {
        const v = k === oos ? p[k]! * boost : p[k]!
        if (v > bestP) {
          bestP = v
          best = k
        }
      }
      const hit = labels[best] === e.intent
      if (hit) right++
      if (e.intent === oosLabel) oosRight += hit ? 1 : 0
      else {
        nIn++
        if (hit) inRight++
      }
    })
    const nOos = valid.examples.length - nIn
    const t = {
      weight,
      bias,
      accuracy: right / valid.examples.length,
      inScopeAccuracy: inRight / nIn,
      oosRecall: oosRight / nOos,
    }
    trials.push(t)
    console.log(
      `classWeight ${weight}  classBias ${bias.toFixed(2)}  valid accuracy ${(100 * t.accuracy).toFixed(2)}  in-scope ${(100 * t.inScopeAccuracy).toFixed(2)}  oos recall ${(100 * t.oosRecall).toFixed(1)}`,
    )
  }
}
// Trials run in (weight, bias) order, so the first of equals is the smallest.
let best = trials[0]!
for (const t of trials) if (t.accuracy > best.accuracy) best = t
console.log(
  `chosen: classWeight ${best.weight}, classBias ${best.bias} (valid accuracy ${(100 * best.accuracy).toFixed(2)})`,
)

const classifier: Record<string, unknown> = {}
if (best.weight !== 1) classifier.classWeight = { [oosLabel]: best.weight }
if (best.bias !== 0) classifier.classBias = { [oosLabel]: best.bias }
const config = {
  pipeline: DEFAULT_PIPELINE.map((s) => (s.type === 'linear_svm' ? { ...s, ...classifier } : { ...s })),
}
const header = [
  `# Written by bench/oos-bias.ts on ${path.basename(dir)}: the default pipeline, with the out-of-scope intent's`,
  '# classWeight and classBias chosen by accuracy on valid.jsonl (never on test.jsonl).',
  `# Grid: classWeight ${WEIGHTS.join(', ')}; classBias ${BIASES[0]} to ${BIASES[BIASES.length - 1]} by 0.05.`,
]
await writeFile(path.resolve(values.out), `${header.join('\n')}\n${stringify(config)}`)
console.log(`wrote ${values.out}`)
