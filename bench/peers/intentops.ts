/**
 * intentops peer: trains the intentops NLU engine in-process through its public API (`trainModel`, `encodeModel`)
 * with the default pipeline (or the config file passed as `options.configFile`), writes the model file, and times
 * `parse` per message. Parsing runs without the model's own fallback so the orchestrator applies the same fallback
 * rule to every system that reports confidences.
 * @module
 */
import path from 'node:path'
import { defaultConfig } from '../../src/config/defaults.js'
import { encodeModel } from '../../src/nlu/model-file.js'
import { trainModel } from '../../src/nlu/train.js'
import { loadConfig } from '../../src/project/config.js'
import { writeFileAtomic } from '../../src/util/fs.js'
import { VERSION } from '../../src/version.js'
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
import { toTrainingData } from './training-data.js'

runPeer(async () => {
  const req = await readRequest()
  const { train, valid, test } = await readSplits(req)
  const configFile = typeof req.options.configFile === 'string' ? req.options.configFile : undefined
  const config = configFile ? (await loadConfig({ dir: process.cwd(), explicit: configFile })).config : defaultConfig()
  const data = toTrainingData(train)

  progress('train', 0, 1000)
  const { value: model, ms: trainMs } = await timed(() =>
    trainModel(data, {
      config,
      seed: req.seed,
      onProgress: (p) => progress('train', Math.round(p.fraction * 1000), 1000),
    }),
  )
  const bytes = encodeModel(model)
  await writeFileAtomic(path.join(req.workDir, 'model.intentops'), bytes)

  const predictOne = (text: string): PeerPrediction => {
    const r = model.parse(text, { fallback: false })
    return {
      label: r.intent.name,
      confidence: r.intent.confidence,
      entities: r.entities.map((e) => ({ start: e.start, end: e.end, entity: e.entity, value: e.value })),
    }
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
  emit({
    version: `intentops ${VERSION}`,
    settings: {
      config: configFile ?? 'defaults',
      pipeline: model.manifest.steps.map((s) => ({ type: s.type, params: s.params })),
    },
    trainMs,
    modelBytes: bytes.byteLength,
    latencyMs,
    test: predictions,
    valid: validPreds,
  })
})
