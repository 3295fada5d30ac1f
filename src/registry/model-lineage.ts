/**
 * The lineage the registry keeps about a model file, read from the file's manifest (`src/nlu/model-file.ts`).
 * @module
 */
import type { ModelManifest } from '../nlu/types.js'
import type { TrainingLineage } from './layout.js'

/**
 * What training produced the model: data and config fingerprints, when and how long it trained, with which
 * toolkit and Node, on how many examples and which intents.
 * @example
 * const training = trainingLineage(readManifest(bytes))
 * await registry.publish({ name: manifest.name, bytes, training, author })
 */
export function trainingLineage(manifest: ModelManifest): TrainingLineage {
  return {
    dataFingerprint: manifest.dataFingerprint ?? null,
    configFingerprint: manifest.configFingerprint ?? null,
    trainedAt: manifest.trainedAt ?? null,
    trainingMs: Number.isFinite(manifest.trainingMs) ? manifest.trainingMs : null,
    ...(Number.isInteger(manifest.examples) ? { examples: manifest.examples } : {}),
    toolkitVersion: manifest.toolkitVersion ?? null,
    nodeVersion: manifest.nodeVersion ?? null,
    ...(manifest.language ? { language: manifest.language } : {}),
    labels: [...manifest.labels],
    entities: [...manifest.entities],
  }
}
