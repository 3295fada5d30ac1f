/**
 * NLP.js peer: node-nlp's NluManager with its NeuralNetwork classifier, trained and queried in-process with the
 * library's defaults for English. Prediction is `classify` (intent classification only: no NER, no sentiment), and
 * the model file is the manager's minified export, which is what NLP.js applications save and load. NLP.js answers
 * `None` when it cannot decide; on a dataset with an out-of-scope label that answer counts as out-of-scope.
 * @module
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import nodeNlp from 'node-nlp'
import { writeFileAtomic } from '../../src/util/fs.js'
import type { PeerPrediction } from '../lib/protocol.js'
import {
  emit,
  predictTimed,
  predictUntimed,
  progress,
  readRequest,
  readSplits,
  runPeer,
  timed,
  warmUp,
} from './peer-runtime.js'

const NONE = 'None'

runPeer(async () => {
  const req = await readRequest()
  const { train, valid, test } = await readSplits(req)
  const settings = { languages: ['en'], nlu: { log: false }, autoSave: false, autoLoad: false, ...req.options }
  const manager = new nodeNlp.NlpManager(settings)
  for (const ex of train.examples) manager.addDocument('en', ex.text, ex.intent)

  progress('train')
  const { ms: trainMs } = await timed(() => manager.train())
  const modelFile = path.join(req.workDir, 'model.nlp')
  const exported = Buffer.from(manager.export(true), 'utf8')
  await writeFileAtomic(modelFile, exported)

  const predictOne = async (text: string): Promise<PeerPrediction> => {
    const r = await manager.classify('en', text)
    const top = r.classifications[0]
    const label = r.intent === NONE || !top ? (req.oosLabel ?? NONE) : r.intent
    return { label, confidence: top ? r.score : 0 }
  }

  const validPreds = valid
    ? await predictUntimed(
        predictOne,
        valid.examples.map((e) => e.text),
        'valid',
      )
    : null
  await warmUp(
    predictOne,
    train.examples.map((e) => e.text),
    req.warmup,
  )
  const { predictions, latencyMs } = await predictTimed(
    predictOne,
    test.examples.map((e) => e.text),
  )
  const version = createRequire(import.meta.url)('node-nlp/package.json').version as string
  emit({
    version: `node-nlp ${version}`,
    settings: { ...settings, classifier: 'NluManager + NeuralNetwork (defaults)' },
    trainMs,
    modelBytes: exported.byteLength,
    latencyMs,
    test: predictions,
    valid: validPreds,
  })
})
