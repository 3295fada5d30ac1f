/**
 * intentops: the library entry point. Named re-exports only.
 * @module
 */
export { defaultConfig, loadConfig, parseConfig } from './config/load.js'
export type { Config, FallbackConfig, GateConfig, PipelineStepConfig, ValidationConfig } from './config/schema.js'
export { ConfigSchema } from './config/schema.js'
export {
  type Diagnostic,
  formatDiagnostic,
  type Severity,
  WARNING_CATALOG,
  type WarningCode,
} from './data/diagnostics.js'
export {
  type DataDiff,
  type DiffExample,
  diffTrainingData,
  displayExample,
  type IntentDiff,
  type ListChange,
  type MarkdownOptions,
  type MovedExample,
  renderDiffMarkdown,
} from './data/diff.js'
export { canonicalJson, fingerprintConfig, fingerprintTrainingData } from './data/fingerprint.js'
export { DATA_FORMATS, type DataFormat, detectFormat, type FormatOptions } from './data/formats/index.js'
export { formatAnnotatedText, parseAnnotatedText } from './data/inline-entities.js'
export {
  type LoadedFile,
  type LoadOptions,
  type LoadResult,
  loadTrainingData,
  loadTrainingDataDetailed,
  mergeTrainingData,
} from './data/load.js'
export { loadMustPass, loadMustPassDetailed, validateMustPass } from './data/must-pass.js'
export { type ValidationReport, validateProject } from './data/project.js'
export { PROJECT_TEMPLATES, type ProjectTemplate, scaffoldProject } from './data/scaffold.js'
export { type DataSource, fsSource, gitSource } from './data/source.js'
export { type SplitParams, type SplitResult, splitTrainingData } from './data/split.js'
export { type DataStats, dataStats } from './data/stats.js'
// ── data ──
export type {
  EntityAnnotation,
  Example,
  IntentInfo,
  LookupTable,
  MessageInput,
  MustPassCase,
  RegexFeature,
  SourceRef,
  Synonym,
  TrainingData,
} from './data/types.js'
export { emptyTrainingData, messageText } from './data/types.js'
export {
  findNearDuplicates,
  type NearDuplicatePair,
  normalizeExample,
  type ValidateOptions,
  validateTrainingData,
} from './data/validate.js'
export { type DataVersion, loadDataVersion } from './data/version.js'
export {
  addExamples,
  formatTrainingData,
  type NewExample,
  saveTrainingData,
  updateRasaYaml,
  writeTrainingDataFile,
} from './data/write.js'
// ── end data ──
export {
  createError,
  ERROR_CATALOG,
  type ErrorCode,
  IntentopsError,
  isIntentopsError,
  type SourceLocation,
} from './errors.js'
export { VERSION } from './version.js'
