/**
 * The one schema for `intentops.yml`. Defaults live here, in the schema, and nowhere else.
 * @module
 */
import { type Static, Type } from '@sinclair/typebox'

const Step = Type.Object(
  { type: Type.String({ minLength: 1, description: 'Component type name from the NLU catalog.' }) },
  { additionalProperties: true, description: 'One pipeline step; its other keys are the component params.' },
)

export const FallbackConfigSchema = Type.Object(
  {
    intent: Type.String({
      default: 'nlu_fallback',
      minLength: 1,
      description:
        'Intent name predicted on fallback; it follows the intent naming rules of the training data (docs/data-format.md).',
    }),
    threshold: Type.Number({
      default: 0.3,
      minimum: 0,
      maximum: 1,
      description: 'Top confidence below this → fallback.',
    }),
    ambiguityThreshold: Type.Number({
      default: 0.1,
      minimum: 0,
      maximum: 1,
      description: 'Gap between the top two confidences below this → fallback.',
    }),
  },
  { additionalProperties: false, default: {} },
)

export const ValidationConfigSchema = Type.Object(
  {
    minExamples: Type.Integer({ default: 5, minimum: 0, description: 'Warn for intents with fewer examples.' }),
    imbalanceRatio: Type.Number({
      default: 10,
      minimum: 1,
      description: 'Warn when the largest intent has this many times the examples of the smallest.',
    }),
    minEntityExamples: Type.Integer({
      default: 3,
      minimum: 0,
      description: 'Warn for entities with fewer annotated examples.',
    }),
    nearDuplicateThreshold: Type.Number({
      default: 0.9,
      minimum: 0,
      maximum: 1,
      description: 'Token Jaccard similarity above which two examples under different intents are near-duplicates.',
    }),
  },
  { additionalProperties: false, default: {} },
)

export const GateConfigSchema = Type.Object(
  {
    minMacroF1: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Minimum macro-F1 on the test set.' }),
    ),
    minAccuracy: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Minimum accuracy on the test set.' }),
    ),
    minDelta: Type.Number({
      default: 0,
      description: 'The candidate macro-F1 must exceed the current holder by more than this.',
    }),
    maxIntentF1Drop: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'No intent may lose more F1 than this against the holder.' }),
    ),
    mustPass: Type.Boolean({ default: true, description: 'Every must-pass sentence must pass.' }),
    maxModelBytes: Type.Optional(Type.Integer({ minimum: 1, description: 'Largest model file allowed.' })),
    maxLatencyP99Ms: Type.Optional(Type.Number({ minimum: 0, description: 'Slowest p99 prediction latency allowed.' })),
  },
  { additionalProperties: false, default: {} },
)

export const NotifyConfigSchema = Type.Object(
  {
    webhooks: Type.Array(
      Type.Object(
        {
          url: Type.String({
            minLength: 1,
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the `${VAR}` users write in their config
            description: 'Webhook URL; `$VAR` or `${VAR}` reads it from the environment.',
          }),
          format: Type.Union([Type.Literal('slack'), Type.Literal('json')], { default: 'slack' }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'Where to post promote, gate-failure, pipeline-failure and drift events.' },
    ),
    retries: Type.Integer({ default: 4, minimum: 1, maximum: 10, description: 'Attempts per webhook, with backoff.' }),
  },
  { additionalProperties: false, default: {} },
)

// ── registry ──────────────────────────────────────────────────────────────────
export const RegistryConfigSchema = Type.Object(
  {
    backend: Type.Union([Type.Literal('fs'), Type.Literal('s3')], {
      default: 'fs',
      description: 'Where versions are stored: a local directory (`fs`) or an S3-compatible bucket (`s3`).',
    }),
    path: Type.String({
      default: '.intentops/registry',
      minLength: 1,
      description: 'Registry directory of the `fs` backend, relative to the project.',
    }),
    bucket: Type.Optional(Type.String({ minLength: 1, description: 'Bucket of the `s3` backend (must exist).' })),
    prefix: Type.String({ default: '', description: 'Key prefix inside the bucket, e.g. `registry/`.' }),
    endpoint: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Endpoint URL of an S3-compatible store (MinIO, R2, ...); omit for AWS.',
      }),
    ),
    region: Type.String({ default: 'us-east-1', minLength: 1, description: 'S3 region.' }),
    forcePathStyle: Type.Boolean({
      default: false,
      description: 'Path-style S3 URLs (`endpoint/bucket/key`); most S3-compatible stores need it.',
    }),
    trustedKeys: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Public keys whose signatures are accepted: `ed25519:<base64>` lines or paths to `.pub` files (`intentops keys generate`).',
    }),
    allowUnsigned: Type.Boolean({
      default: false,
      description: 'Accept and publish versions without a trusted signature. Tampered signatures are refused anyway.',
    }),
    signingKey: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Private key file that signs published versions, relative to the project.',
      }),
    ),
    signingKeyEnv: Type.String({
      default: 'INTENTOPS_SIGNING_KEY',
      minLength: 1,
      description: 'Environment variable with the private key (PEM text or a file path); wins over `signingKey`.',
    }),
    lockTimeoutMs: Type.Integer({
      default: 60_000,
      minimum: 0,
      description: 'How long a publish, promotion or rollback waits for another writer, ms.',
    }),
    lockStaleMs: Type.Integer({
      default: 30_000,
      minimum: 2000,
      description: 'A writer lock not refreshed for this long belongs to a dead process and is taken over, ms.',
    }),
  },
  { additionalProperties: false, default: {} },
)
// ── end registry ──────────────────────────────────────────────────────────────

// ── tune ─────────────────────────────────────────────────────────────────────
export const TuneParamSchema = Type.Object(
  {
    step: Type.String({
      minLength: 1,
      description: 'Pipeline step to tune: its `name`, or its `type` when the step has no name.',
    }),
    param: Type.String({ minLength: 1, description: 'The parameter of that step.' }),
    values: Type.Optional(
      Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean()]), {
        minItems: 1,
        description: 'Values to try. Give either `values` or a `min`/`max` range.',
      }),
    ),
    min: Type.Optional(Type.Number({ description: 'Lower end of a numeric range (inclusive).' })),
    max: Type.Optional(Type.Number({ description: 'Upper end of a numeric range (inclusive).' })),
    log: Type.Boolean({
      default: false,
      description: 'Spread the range on a log scale (regularisation strengths, learning rates).',
    }),
    integer: Type.Boolean({ default: false, description: 'Round range values to integers.' }),
    steps: Type.Integer({ default: 5, minimum: 2, description: 'Points a range contributes to a grid search.' }),
  },
  { additionalProperties: false },
)

export const TuneConfigSchema = Type.Object(
  {
    method: Type.Union([Type.Literal('grid'), Type.Literal('random')], {
      default: 'random',
      description: '`grid` tries every combination; `random` samples `trials` of them.',
    }),
    trials: Type.Integer({ default: 20, minimum: 1, description: 'Trials of a random search.' }),
    folds: Type.Integer({ default: 3, minimum: 2, description: 'Cross-validation folds scoring each trial.' }),
    metric: Type.Union([Type.Literal('macroF1'), Type.Literal('weightedF1'), Type.Literal('accuracy')], {
      default: 'macroF1',
      description: 'What the search maximises, averaged over folds.',
    }),
    seed: Type.Integer({
      default: 42,
      description: 'Seed of the sampling, the folds and training: equal seeds, equal results.',
    }),
    params: Type.Array(TuneParamSchema, {
      default: [],
      description: 'The search space: `{ step, param, values }` or `{ step, param, min, max, log, integer, steps }`.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Hyper-parameter search for `intentops tune`.' },
)
// ── end tune ─────────────────────────────────────────────────────────────────

// ── review ───────────────────────────────────────────────────────────────────
export const ReviewConfigSchema = Type.Object(
  {
    order: Type.Union(
      [Type.Literal('confidence'), Type.Literal('margin'), Type.Literal('fallback'), Type.Literal('newest')],
      {
        default: 'confidence',
        description:
          'Inbox order: lowest `confidence` first, smallest top-2 `margin` first, `fallback` answers first, or `newest` first.',
      },
    ),
    pageSize: Type.Integer({ default: 50, minimum: 1, maximum: 500, description: 'Messages read for one inbox page.' }),
    nearDuplicateThreshold: Type.Number({
      default: 0.8,
      minimum: 0.5,
      maximum: 1,
      description:
        'Word and word-pair overlap (Jaccard) from which two inbox messages form one group; 1 groups exact duplicates only.',
    }),
    exportFile: Type.String({
      default: 'data/reviewed.yml',
      minLength: 1,
      description:
        'Where `intentops review export` writes examples of intents that have no YAML file yet. Created with the permission bits every training data file has (and their owner and group where they share them), not the umask.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'The review inbox and the export of reviews.' },
)
// ── end review ───────────────────────────────────────────────────────────────
// ── store ────────────────────────────────────────────────────────────────────
export const RedactionRuleSchema = Type.Object(
  {
    pattern: Type.String({ minLength: 1, description: 'JavaScript regular expression; every match is replaced.' }),
    replacement: Type.String({
      description: 'Text written instead of each match; `$1`, `$2`… put back what a group of the pattern matched.',
    }),
    flags: Type.Optional(Type.String({ pattern: '^[imsuy]*$', description: 'Extra regex flags (`g` is implied).' })),
  },
  { additionalProperties: false },
)

/**
 * E-mail addresses, card-like digit runs (13–19 digits, spaces or dashes allowed), then phone numbers: `+` and 8–20
 * digits, North-American `(555) 123-4567` shapes, or national numbers with a leading 0. Dates and short numbers stay.
 * An address starts only after a character it cannot hold (the lookbehind): searched from each character of a long
 * run instead, it would take time that grows as the square of the text, too long for texts past 18,000 characters. As
 * it is, every rule passes the check on texts up to the default body limit (1 MiB).
 */
export const DEFAULT_REDACTION_RULES: ReadonlyArray<Readonly<Static<typeof RedactionRuleSchema>>> = Object.freeze([
  Object.freeze({
    pattern: '(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}',
    replacement: '[email]',
  }),
  Object.freeze({ pattern: '\\b(?:\\d[ -]?){12,18}\\d\\b', replacement: '[card]' }),
  Object.freeze({
    pattern:
      '(?<![\\w+])(?:\\+\\d[\\d ()./-]{6,18}\\d|\\(?\\d{3}\\)?[ .-]?\\d{3}[ .-]?\\d{4}|0\\d{2,4}[ /-]?\\d{5,9})(?!\\w)',
    replacement: '[phone]',
  }),
])

export const StoreConfigSchema = Type.Object(
  {
    backend: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], {
      default: 'sqlite',
      description: 'Where the prediction log, reviews and tokens live: an embedded SQLite file or PostgreSQL.',
    }),
    path: Type.String({
      default: '.intentops/store.db',
      minLength: 1,
      description:
        "SQLite database file, relative to the project. `INTENTOPS_STORE` (a file path or a postgres:// URL) replaces the store's location for every command. Not `:memory:`: the server's log writer thread and each command open the log on connections of their own, and an in-memory database is seen by one connection only.",
    }),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PostgreSQL URL; `$VAR` reads it from the environment. Default: DATABASE_URL.',
      }),
    ),
    schema: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$',
        description: 'PostgreSQL schema of the store tables (created if missing); default: the search_path.',
      }),
    ),
    poolSize: Type.Integer({ default: 10, minimum: 1, maximum: 100, description: 'PostgreSQL connections.' }),
    busyTimeoutMs: Type.Integer({
      default: 5000,
      minimum: 0,
      description: 'How long a SQLite writer waits for another connection’s lock, ms.',
    }),
    writerNice: Type.Integer({
      default: 10,
      minimum: 0,
      maximum: 19,
      description:
        "How far below the server's own CPU priority the prediction log's writer thread runs (Linux: added to the thread's nice value, capped at 19; 0 keeps it level). Requests then take a core the writer shares, and the writer catches up in the time they leave. While the queue is behind (from store.writerBehindAt of store.queueSize, until back at store.writerCaughtUpAt) the writer runs level: raised back where the system allows it (CAP_SYS_NICE or RLIMIT_NICE), else through a second writer thread kept at the server's priority.",
    }),
    writerBehindAt: Type.Number({
      default: 0.25,
      exclusiveMinimum: 0,
      maximum: 1,
      description:
        "Share of store.queueSize queued from which the prediction log counts as behind: its writer then runs at the server's priority (see writerNice), and intentops_prediction_log_behind is 1. Lower gives up the lower priority sooner in a burst; at 1, only once the queue is full and drops records. Must be above writerCaughtUpAt.",
    }),
    writerCaughtUpAt: Type.Number({
      default: 0.05,
      exclusiveMinimum: 0,
      maximum: 1,
      description:
        "Share of store.queueSize queued at or under which a log that fell behind counts as caught up, and its writer goes back below the server's priority. Must be below writerBehindAt: the gap keeps the writer from changing priority at every batch.",
    }),
    redaction: Type.Array(RedactionRuleSchema, {
      default: DEFAULT_REDACTION_RULES.map((rule) => ({ ...rule })),
      description:
        'PII masks applied to text, fields and entity values before a prediction is written (default: e-mail addresses, card-like digit runs, phone numbers). `[]` turns redaction off. A pattern that does not compile, or that can backtrack catastrophically (exponential time, such as `(a+)+$` or `(\\w|\\d)+$`, time growing faster than the square of the text length, or more than 2.5×10^8 steps on the longest text the server takes, as optional items in a row such as `a?a?a?…aaa` can take), is refused at start with `ERR_CONFIG_INVALID`. That text is `serve.maxTextLength` characters long, or `serve.bodyLimitBytes` if that is smaller, and never judged shorter than 10,000; a rule without the `u` flag reads a character past U+FFFF, such as an emoji, as two, so it is judged on twice `serve.maxTextLength` (within `serve.bodyLimitBytes`). Raising them can refuse a rule that passed, such as `\\d+\\.\\d+`, tried again from each digit of a long run, past 22,000 code units (`serve.maxTextLength` 11,000); `(?<!\\d)\\d+\\.\\d+`, which its lookbehind keeps from starting inside a run, passes on any. The default rules pass up to the default body limit.',
    }),
    senderKey: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Key of the sender-id HMAC; `$VAR` reads the environment. Default: INTENTOPS_SENDER_KEY, else a random key kept in the store.',
      }),
    ),
    queueSize: Type.Integer({
      default: 50_000,
      minimum: 1,
      description:
        'Predictions held in memory while waiting to be written; beyond it new ones are dropped and counted.',
    }),
    batchSize: Type.Integer({
      default: 5_000,
      minimum: 1,
      description:
        'Most predictions written in one transaction. A full batch is written at once, smaller ones an interval (flushIntervalMs) after the last write, so batches grow with the load.',
    }),
    flushIntervalMs: Type.Integer({
      default: 200,
      minimum: 1,
      description:
        'Pause before writing less than a full batch, ms: how long a prediction waits in the queue while no write runs. Longer makes larger batches, which cost less per prediction; shorter shows predictions sooner.',
    }),
    retryMaxMs: Type.Integer({
      default: 30_000,
      minimum: 10,
      description: 'Longest pause between write retries while the store is down (backoff doubles up to this), ms.',
    }),
    retentionDays: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'Predictions older than this many days are purged (`intentops log purge` without --before).',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
)
// ── end store ────────────────────────────────────────────────────────────────
// ── serve ────────────────────────────────────────────────────────────────────
export const ServeConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address `intentops serve` listens on.' }),
    port: Type.Integer({ default: 5005, minimum: 0, maximum: 65535, description: 'TCP port (0 picks a free one).' }),
    alias: Type.String({
      default: 'production',
      pattern: '^[a-z][a-z0-9_-]*$',
      description: 'Registry alias to serve and watch; a promotion or rollback anywhere is picked up.',
    }),
    model: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Serve this model file instead of the alias (its digest is checked; it is not watched).',
      }),
    ),
    watchIntervalMs: Type.Integer({
      default: 2000,
      minimum: 50,
      description: 'How often the alias is polled for a new holder, ms.',
    }),
    bodyLimitBytes: Type.Integer({
      default: 1_048_576,
      minimum: 1024,
      description: 'Largest request body; bigger bodies get 413.',
    }),
    maxTextLength: Type.Integer({
      default: 10_000,
      minimum: 1,
      description:
        'Longest message text (or sum of field lengths), in characters (Unicode code points: an emoji counts as one). Redaction rules (`store.redaction`) are judged at this length (twice it for a rule without the `u` flag, which reads an emoji as two), within `serve.bodyLimitBytes` and never below 10,000: a rule too slow for it is refused at start.',
    }),
    maxBatchSize: Type.Integer({
      default: 1000,
      minimum: 1,
      description: 'Most messages in one `/v1/parse/batch` or `/v1/messages` request.',
    }),
    rankingLength: Type.Integer({
      default: 10,
      minimum: 0,
      description: 'Intents in `intent_ranking` (as Rasa’s `ranking_length`); 0 returns all. `top_k` overrides it.',
    }),
    bodyTimeoutMs: Type.Integer({
      default: 10_000,
      minimum: 100,
      description: 'A request body not fully received within this time gets 408 and the connection is closed.',
    }),
    requestTimeoutMs: Type.Integer({
      default: 30_000,
      minimum: 1000,
      description: 'Hard limit on receiving a whole request (headers and body), enforced by the HTTP server.',
    }),
    connectionTimeoutMs: Type.Integer({
      default: 60_000,
      minimum: 1000,
      description: 'An idle connection is closed after this long, ms.',
    }),
    keepAliveTimeoutMs: Type.Integer({
      default: 72_000,
      minimum: 1000,
      description: 'How long an idle keep-alive connection stays open, ms (above a load balancer’s idle timeout).',
    }),
    shutdownTimeoutMs: Type.Integer({
      default: 10_000,
      minimum: 100,
      description: 'On SIGTERM, in-flight requests and the prediction log get this long to finish, ms.',
    }),
    requireTokenForParse: Type.Boolean({
      default: false,
      description: 'Parse routes need a token (any role); admin routes always need an admin token.',
    }),
    logPredictions: Type.Boolean({ default: true, description: 'Record every prediction in the prediction log.' }),
    docs: Type.Boolean({ default: true, description: 'Serve the OpenAPI document and its UI at `/docs`.' }),
    logLevel: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info', description: 'Level of the structured (pino) logs on stdout.' },
    ),
    corsOrigins: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Origins allowed to call the API from a browser (`*` for any); empty turns CORS off.',
    }),
    corsCredentials: Type.Boolean({ default: false, description: 'Allow credentials on cross-origin requests.' }),
    rateLimit: Type.Integer({
      default: 6000,
      minimum: 0,
      description:
        'Requests allowed per window for each token (or client address without one); 0 turns it off. `/health`, `/ready` and `/metrics` are not limited.',
    }),
    rateLimitWindowMs: Type.Integer({ default: 60_000, minimum: 1000, description: 'The rate-limit window, ms.' }),
  },
  { additionalProperties: false, default: {}, description: 'The HTTP server of `intentops serve`.' },
)
// ── end serve ────────────────────────────────────────────────────────────────
// ── monitor ──────────────────────────────────────────────────────────────────
export const MonitorConfigSchema = Type.Object(
  {
    window: Type.String({
      default: '7d',
      // read when the config loads by the parser intentops monitor uses (src/project/config.ts), whose refusal names
      // what is wrong with a unit, where a pattern here would only print itself
      minLength: 1,
      description:
        'Recent window `intentops monitor` checks, ending now: a whole number and `m` (minutes, not months), `h`, `d` or `w`, the units of an age.',
    }),
    reference: Type.String({
      default: 'training',
      minLength: 1,
      description:
        'What the window is compared with: `training` (the training data), a duration (`14d`: the window of that length just before) or `FROM..TO`, each a date, an ISO date-time in UTC unless it has an offset, epoch ms or an age in the units of `window` (`30d..7d`: from 30 days before the run to 7 days before it; `2w..90m`).',
    }),
    minSamples: Type.Integer({
      default: 50,
      minimum: 1,
      description: 'Fewer predictions than this in either sample skips the checks instead of guessing.',
    }),
    lowConfidence: Type.Number({
      default: 0.5,
      minimum: 0,
      maximum: 1,
      description: 'Predictions below this confidence count as low-confidence in analytics.',
    }),
    maxPsi: Type.Number({
      default: 0.25,
      minimum: 0,
      description: 'Intent distribution: population stability index above this fails (0.1–0.25 is a moderate shift).',
    }),
    maxJensenShannon: Type.Number({
      default: 0.1,
      minimum: 0,
      maximum: 1,
      description: 'Intent distribution: Jensen–Shannon divergence (bits) above this fails.',
    }),
    maxOovShare: Type.Number({
      default: 0.25,
      minimum: 0,
      maximum: 1,
      description: 'Share of recent tokens that never occur in the training data above this fails.',
    }),
    maxLengthKs: Type.Number({
      default: 0.2,
      minimum: 0,
      maximum: 1,
      description: 'Text length (tokens): Kolmogorov–Smirnov statistic above this (and significant) fails.',
    }),
    maxConfidenceKs: Type.Number({
      default: 0.2,
      minimum: 0,
      maximum: 1,
      description: 'Confidence: Kolmogorov–Smirnov statistic above this (and significant) fails.',
    }),
    maxConfidenceDrop: Type.Number({
      default: 0.1,
      minimum: 0,
      maximum: 1,
      description: 'Confidence: a mean lower than the reference mean by more than this fails.',
    }),
    pValue: Type.Number({
      default: 0.01,
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'Significance level of the KS tests: a shift must also have a p-value below this.',
    }),
    maxDomainAuc: Type.Number({
      default: 0.7,
      minimum: 0.5,
      maximum: 1,
      description:
        'Domain classifier: cross-validated ROC AUC of telling recent texts from reference texts above this fails (0.5 = indistinguishable).',
    }),
    domainSamples: Type.Integer({
      default: 2000,
      minimum: 20,
      description: 'Texts per side the domain classifier trains on (a uniform sample of each).',
    }),
    domainFolds: Type.Integer({ default: 5, minimum: 2, maximum: 10, description: 'Cross-validation folds.' }),
    seed: Type.Integer({ default: 42, description: 'Seed of the samples and folds: equal seeds, equal results.' }),
  },
  { additionalProperties: false, default: {}, description: 'Drift checks of `intentops monitor` and analytics.' },
)
// ── end monitor ──────────────────────────────────────────────────────────────

// ── stages (intentops pipeline run) ──────────────────────────────────────────
export const DeployTargetSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      description: 'Base URL of a running server; `$VAR` reads it from the environment.',
    }),
    token: Type.String({
      default: '$INTENTOPS_ADMIN_TOKEN',
      description: 'Admin token sent as `Authorization: Bearer`; `$VAR` reads it from the environment.',
    }),
  },
  { additionalProperties: false },
)

export const StagesConfigSchema = Type.Object(
  {
    testData: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Labelled held-out test data; empty means a stable hold-out of the training data, by a hash of each text.',
    }),
    holdout: Type.Number({
      default: 0.2,
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description: 'Share of each intent held out for testing when `testData` is empty.',
    }),
    seed: Type.Integer({ default: 42, description: 'Seed of the hold-out split and of training.' }),
    crossValidationFolds: Type.Integer({
      default: 0,
      minimum: 0,
      description: 'Also cross-validate with this many folds in the test stage (0 = off); reported, not gated.',
    }),
    alias: Type.String({ default: 'production', minLength: 1, description: 'The alias compared with and promoted.' }),
    promote: Type.Boolean({ default: true, description: 'Publish and promote a candidate that passes the gate.' }),
    baseRef: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Git revision the report diffs the data against; default: the CI base branch, else the commit production was trained from.',
      }),
    ),
    reportDir: Type.String({
      default: '.intentops/report',
      minLength: 1,
      description: 'Where the pipeline writes report.md and its SVG charts.',
    }),
    deploy: Type.Array(DeployTargetSchema, {
      default: [],
      description: 'Servers told to load the new model (`PUT /model`) after a promotion.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'The stages of `intentops pipeline run`.' },
)
// ── end stages ───────────────────────────────────────────────────────────────

export const ConfigSchema = Type.Object(
  {
    version: Type.Literal(1, { default: 1, description: 'Config format version.' }),
    name: Type.String({ default: 'intentops-bot', minLength: 1, description: 'Model name in the registry.' }),
    language: Type.String({ default: 'en', minLength: 2, description: 'Language code of the training data.' }),
    data: Type.Array(Type.String({ minLength: 1 }), { default: ['data'], description: 'Training data paths.' }),
    tests: Type.Array(Type.String({ minLength: 1 }), {
      default: ['tests'],
      description:
        'Must-pass test paths. Each must exist (`ERR_FILE_NOT_FOUND` at its line otherwise); only the default `tests` may be missing.',
    }),
    fields: Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
      default: {},
      description: 'Weights of message fields (e.g. subject: 2, body: 1).',
    }),
    pipeline: Type.Array(Step, { default: [], description: 'NLU steps; empty means the default pipeline.' }),
    fallback: FallbackConfigSchema,
    validation: ValidationConfigSchema,
    gates: GateConfigSchema,
    notify: NotifyConfigSchema,
    registry: RegistryConfigSchema,

    tune: TuneConfigSchema,
    stages: StagesConfigSchema,
    review: ReviewConfigSchema,
    store: StoreConfigSchema,
    serve: ServeConfigSchema,
    monitor: MonitorConfigSchema,
  },
  { additionalProperties: false },
)

export type Config = Static<typeof ConfigSchema>
export type FallbackConfig = Static<typeof FallbackConfigSchema>
export type ValidationConfig = Static<typeof ValidationConfigSchema>
export type GateConfig = Static<typeof GateConfigSchema>
export type NotifyConfig = Static<typeof NotifyConfigSchema>
export type RegistryConfig = Static<typeof RegistryConfigSchema>
export type PipelineStepConfig = Static<typeof Step>
export type TuneConfig = Static<typeof TuneConfigSchema>
export type TuneParamConfig = Static<typeof TuneParamSchema>
export type StagesConfig = Static<typeof StagesConfigSchema>
export type DeployTargetConfig = Static<typeof DeployTargetSchema>
export type ReviewConfig = Static<typeof ReviewConfigSchema>
export type StoreConfig = Static<typeof StoreConfigSchema>
export type RedactionRuleConfig = Static<typeof RedactionRuleSchema>
export type ServeConfig = Static<typeof ServeConfigSchema>
export type MonitorConfig = Static<typeof MonitorConfigSchema>
