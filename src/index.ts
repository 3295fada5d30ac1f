/**
 * intentops: the library entry point. Named re-exports only.
 * @module
 */
export { defaultConfig, loadConfig, parseConfig } from './config/load.js'
export type { Config, FallbackConfig, GateConfig, PipelineStepConfig, ValidationConfig } from './config/schema.js'
export { ConfigSchema } from './config/schema.js'
export type {
  EntityAnnotation,
  Example,
  IntentInfo,
  LookupTable,
  MessageInput,
  RegexFeature,
  SourceRef,
  Synonym,
  TrainingData,
} from './data/types.js'
export { emptyTrainingData, messageText } from './data/types.js'
export {
  createError,
  ERROR_CATALOG,
  type ErrorCode,
  IntentopsError,
  isIntentopsError,
  type SourceLocation,
} from './errors.js'
export { VERSION } from './version.js'
