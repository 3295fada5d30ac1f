/**
 * intentops: the library entry point. Named re-exports only.
 * @module
 */
export { defaultConfig } from './config/defaults.js'
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
// ── eval ─────────────────────────────────────────────────────────────────────────
export { type Calibration, type ConfidenceHistogram, calibration, confidenceHistogram } from './eval/calibration.js'
export {
  confidenceHistogramSpec,
  confusionHeatmapSpec,
  intentDeltaSpec,
  intentF1Spec,
  learningCurveSpec,
  type ReportCharts,
  reliabilitySpec,
  reportCharts,
} from './eval/charts.js'
export { type CompareOptions, type Comparison, compareReports, type IntentDelta, type Verdict } from './eval/compare.js'
export { type CompareRunOptions, runCompare } from './eval/compare-run.js'
export { type CrossValidateOptions, type CrossValidationRun, crossValidate } from './eval/cross-validate.js'
export { type EntityReport, type EntitySpan, entityMetrics } from './eval/entity-metrics.js'
export {
  buildReport,
  type EvaluateOptions,
  evaluate,
  fingerprintTestSet,
  headlineScores,
  predictExamples,
} from './eval/evaluate.js'
export { runTrial, type TrialResult, type TrialSpec } from './eval/jobs.js'
export { type LearningCurveOptions, type LearningCurveRun, learningCurve } from './eval/learning-curve.js'
export {
  type ClassificationReport,
  type ClassMetrics,
  classificationReport,
  confusionMatrix,
  type ZeroDivision,
} from './eval/metrics.js'
export { checkMustPass, runMustPass } from './eval/must-pass.js'
export { renderComparisonMarkdown } from './eval/render/compare-markdown.js'
export { renderHtml } from './eval/render/html.js'
export { renderMarkdown } from './eval/render/markdown.js'
export { renderSvg } from './eval/render/svg.js'
export { renderTuneHtml, renderTuneMarkdown, renderTuneTable, writeTuneFiles } from './eval/render/tune.js'
export { parseReport, readReport, writeReports } from './eval/report-files.js'
export { type McNemarResult, mcnemar } from './eval/significance.js'
export { summarize } from './eval/summary.js'
export { runTest, type TestRun, type TestRunOptions } from './eval/test-run.js'
export { type TuneOptions, type TuneReport, tune } from './eval/tune.js'
export { parseParamFlag, type TuneParam } from './eval/tune-space.js'
export { writeBestConfig } from './eval/tune-write.js'
export type {
  EvalReport,
  EvalSummary,
  IntentMetrics,
  MustPassReport,
  MustPassResult,
  MustPassSummary,
  Prediction,
} from './eval/types.js'
// ── end eval ─────────────────────────────────────────────────────────────────────
// ── nlu ──────────────────────────────────────────────────────────────────────────
export {
  type CatalogEntry,
  COMPONENT_CATALOG,
  catalogEntry,
  componentTypes,
  type LoadContextOptions,
  newLoadContext,
} from './nlu/catalog.js'
export type {
  Classifier,
  ClassifierFitContext,
  ComponentState,
  EntityExtractor,
  Featurizer,
  FeaturizerFitContext,
  FitContext,
  FittedClassifier,
  FittedEntityExtractor,
  FittedFeaturizer,
  LoadContext,
} from './nlu/component.js'
export { type BilouSpan, fromBilou, toBilou } from './nlu/entities/bilou.js'
// ── nlu: crf entity tagger ──
export {
  CrfEntityExtractor,
  type CrfFitInfo,
  type CrfLabel,
  type CrfParams,
  CrfParamsSchema,
  crfFromState,
  crfLabelName,
  crfParams,
  crfTrainingObjective,
  DEFAULT_CRF_PARAMS,
  FittedCrfEntityExtractor,
} from './nlu/entities/crf.js'
// ── end crf ──
export { chooseThreshold, chooseThresholdForFallbackBudget, type ThresholdChoice } from './nlu/fallback.js'
export { trainedFieldNames } from './nlu/model.js'
export {
  DEFAULT_MAX_MODEL_BYTES,
  type DecodeOptions,
  decodeModel,
  encodeModel,
  loadModel,
  MODEL_FORMAT_VERSION,
  readManifest,
  saveModel,
} from './nlu/model-file.js'
export { buildPipeline, DEFAULT_PIPELINE } from './nlu/pipeline.js'
export { CsrBuilder, type CsrMatrix, SparseVector } from './nlu/sparse.js'
export { type Token, type TokenizerParams, tokenize } from './nlu/tokenizer.js'
export { type TrainConfig, type TrainOptions, type TrainReport, type TrainResult, trainModel } from './nlu/train.js'
export type {
  EntityPrediction,
  IntentParser,
  IntentScore,
  ManifestStep,
  ModelManifest,
  ParseOptions,
  ParseResult,
  TrainedModel,
} from './nlu/types.js'
export { loadConfig, parseConfig } from './project/config.js'
// ── registry ──
export type {
  GetOptions,
  LockOptions,
  NotModified,
  ObjectInfo,
  PutOptions,
  RegistryBackend,
  RegistryLock,
  StoredObject,
} from './registry/backend.js'
export { isNotModified } from './registry/backend.js'
export { createFsBackend, type FsBackendOptions } from './registry/backends/fs.js'
export { createMemoryBackend } from './registry/backends/memory.js'
export { createS3Backend, type S3BackendOptions } from './registry/backends/s3.js'
export { diffVersions, type VersionDiff } from './registry/diff.js'
export { assertEvaluates, type Evaluation, readEvaluation, toEvalSummary } from './registry/eval-summary.js'
export {
  evaluateGate,
  failedRules,
  type GateBaseline,
  type GateCandidate,
  type GateResult,
  type GateRuleResult,
} from './registry/gate.js'
export { collectGarbage, type GcOptions, type GcReport } from './registry/gc.js'
export {
  type AuditEntry,
  aliasTimeline,
  auditLog,
  type HolderInterval,
  holdersDuring,
  parseTimeQuery,
  type TimeQuery,
} from './registry/history.js'
export type {
  AliasFile,
  AliasMove,
  AuditEvent,
  GitInfo,
  SignedVersion,
  TrainingLineage,
  VersionRecord,
} from './registry/layout.js'
export { gitInfo, publisherInfo, resolveActor } from './registry/lineage.js'
export { acquireObjectLock } from './registry/object-lock.js'
export {
  backendFromConfig,
  loadSigner,
  loadTrustPolicy,
  type OpenRegistryOptions,
  openRegistry,
} from './registry/open.js'
export {
  type AliasState,
  type DamagedAlias,
  ModelRegistry,
  type PromoteInput,
  type PromoteResult,
  type PublishInput,
  type PublishResult,
  type RegistryOptions,
  type RollbackInput,
  type RollbackResult,
  rollbackTarget,
  type VerifiedModel,
} from './registry/registry.js'
export {
  checkSignatures,
  type GeneratedKeyPair,
  generateSigningKeys,
  type PublicKeyInfo,
  parsePrivateKey,
  parsePublicKey,
  type Signer,
  signVersion,
  type TrustPolicy,
} from './registry/signing.js'
export { type VerifyReport, verifyRegistry } from './registry/verify.js'
export { type AliasChange, type WatchAliasOptions, watchAlias } from './registry/watch.js'
export { VERSION } from './version.js'

// ── end registry ──

// ── monitor ──
export {
  ANALYTICS_KINDS,
  type AnalyticsKind,
  type AnalyticsQuery,
  type AnalyticsResult,
  type AnalyticsSource,
  type ChannelVolume,
  type Corrections,
  channelVolume,
  corrections,
  type EmergingNgrams,
  emergingNgrams,
  type IntentDistribution,
  intentDistribution,
  type Latency,
  latency,
  type Rates,
  rates,
  runAnalytics,
  type TextSample,
  type TopNgrams,
  topNgrams,
} from './monitor/analytics.js'
export {
  analyticsCharts,
  channelVolumeSpec,
  correctionRateSpec,
  driftSpec,
  emergingSpec,
  intentDistributionSpec,
  latencySpec,
  ratesSpec,
  topNgramsSpec,
} from './monitor/charts.js'
export {
  type DriftCheck,
  type DriftReport,
  type DriftSample,
  DriftSampleBuilder,
  domainClassifierAuc,
  runDriftChecks,
  trainingSample,
} from './monitor/drift.js'
export { ensureAnalyticsIndexes, hasAnalyticsIndex } from './monitor/indexes.js'
export { alertDrift, type MonitorOptions, monitorDrift } from './monitor/monitor.js'
export { renderCharts as renderMonitorCharts, renderHtmlPage as renderMonitorHtml } from './monitor/render.js'
export { type AnalyticsRoutesOptions, analyticsRoutes } from './monitor/routes.js'
export { jensenShannon, ksTwoSample, psi, rocAuc } from './monitor/stats.js'
// ── review ──
export {
  type DecisionResult,
  decide,
  latestReview,
  type ReviewContext,
  type ReviewDecision,
} from './review/actions.js'
export { type AuditEntry as ReviewAuditEntry, type AuditQuery as ReviewAuditQuery, listAudit } from './review/audit.js'
export { type ReviewChart, reviewCharts } from './review/charts.js'
export { type ExportOptions, type ExportResult, exportReviews } from './review/export.js'
export { groupNearDuplicates, jaccard, normalizeMessage, shingles } from './review/group.js'
export { type ReviewRoutesOptions, reviewRoutes } from './review/http.js'
export {
  findGroup,
  type InboxFilter,
  type InboxGroup,
  type InboxOptions,
  type InboxPage,
  listInbox,
} from './review/inbox.js'
// ── end review ──
// ── serve ──
export {
  type BuildAppOptions,
  buildApp,
  type PredictionLog,
  type ServeApp,
  type ServeContext,
  type ServePlugin,
} from './serve/app.js'
export { authenticate, bearerToken, requestToken, requireRole, TokenVerifier } from './serve/auth.js'
export { envName, resolveServeConfig, type ServeFlags, serveEnvVars } from './serve/config.js'
export { createServeMetrics, type ServeMetrics } from './serve/metrics.js'
export {
  ModelHolder,
  type ModelLoadEvent,
  type ModelSource,
  prepareModel,
  type ServedModel,
} from './serve/model-holder.js'
export { ModelManager, type ModelManagerOptions } from './serve/models.js'
export { type RunningServer, type StartServerOptions, startServer, tuneHeapForServing } from './serve/server.js'
export { type UiOptions, uiPlugin } from './serve/ui/plugin.js'
// ── end serve ──
// ── store ──
export { CSV_COLUMNS, type ExportFormat, exportPredictions, exportQuery, writeStreamAtomic } from './store/export.js'
export {
  DEFAULT_PAGE_SIZE,
  hashToken,
  KyselyPredictionStore,
  type KyselyStoreOptions,
  MAX_PAGE_SIZE,
  type StoreDialect,
  type StoreStats,
} from './store/kysely-store.js'
export { type ResolveStoreOptions, resolveStoreTarget, type StoreTarget } from './store/location.js'
export {
  type InvalidRecords,
  type LogQueueStats,
  PredictionLogQueue,
  type PredictionLogQueueOptions,
  type RefusedRecords,
} from './store/log-queue.js'
export {
  type LogWriter,
  type LogWriterState,
  SqliteWorkerWriter,
  type SqliteWorkerWriterOptions,
  startWriterThread,
  type WorkerData,
  WorkerLogWriter,
  type WorkerLogWriterOptions,
  type WorkerStoreTarget,
  type WriterThreadState,
} from './store/log-writer.js'
export {
  logQueueOptions,
  logQueueWarnings,
  type OpenStoreOptions,
  openLogWriter,
  openStore,
  type WarnLogger,
} from './store/open.js'
export { openPostgresStore, type PostgresStoreOptions } from './store/postgres.js'
export {
  createRedactor,
  DEFAULT_REDACTION_RULES,
  hashSender,
  type RedactionRule,
  type RedactionRuleIssue,
  type Redactor,
  redactionRuleIssues,
} from './store/redact.js'
export { MIGRATIONS, type StoreDatabase } from './store/schema.js'
export { openSqliteStore, type SqliteStoreOptions } from './store/sqlite.js'
export type {
  InboxOrder,
  Page,
  PredictionQuery,
  PredictionRecord,
  PredictionStore,
  ReviewAction,
  ReviewRecord,
  TokenRecord,
  TokenRole,
} from './store/types.js'
// ── end monitor ──
