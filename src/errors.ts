/**
 * The error catalog: every error intentops raises has a stable code, an HTTP status and a message template.
 * `docs/errors.md` mirrors this file; `src/errors.test.ts` keeps the two in sync. Codes are never reused.
 * @module
 */

/** Where in a data or config file an error points. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string
  line?: number
  column?: number
}

interface CatalogEntry {
  /** HTTP status when the error crosses the API. */
  status: number
  /** Message template; `{name}` placeholders are filled from params. */
  message: string
  /** How to fix it, shown under the message; a template like `message`. */
  hint?: string
}

/**
 * Keep sections grouped by module. Add new codes at the end of their section; never rename or reuse a code.
 */
export const ERROR_CATALOG = Object.freeze({
  // ── general / io ─────────────────────────────────────────────────────────────
  ERR_INTERNAL: { status: 500, message: 'Internal error: {detail}' },
  ERR_INVALID_ARGUMENT: { status: 400, message: '{detail}' },
  ERR_FILE_NOT_FOUND: {
    status: 404,
    message: 'File not found: {path}',
    hint: 'Check the path, or run `intentops init` to scaffold a project.',
  },
  ERR_FILE_UNREADABLE: { status: 400, message: 'Cannot read {path}: {detail}' },
  ERR_FILE_TOO_LARGE: {
    status: 413,
    message: '{path} is {size} bytes, over the {limit}-byte limit',
    hint: 'Split the file into several smaller files in the same directory.',
  },
  ERR_FILE_BINARY: {
    status: 400,
    message: '{path} looks like a binary file, not text',
    hint: 'Data files must be UTF-8 text.',
  },
  ERR_FILE_ENCODING: {
    status: 400,
    message: '{path} is not valid UTF-8 (first bad byte at offset {offset})',
    hint: 'Re-save the file as UTF-8.',
  },
  ERR_PATH_OUTSIDE_PROJECT: {
    status: 400,
    message: '{path} is outside the project directory {root}',
    hint: 'Data paths must stay inside the project; copy the file into it.',
  },
  ERR_WRITE_FAILED: {
    status: 500,
    message: 'Cannot write {path}: {detail}',
    hint: 'Check that the directory exists and you may write to it, and that no part of the path is a file; or choose another path.',
  },
  ERR_WRITE_DANGLING_LINK: {
    status: 500,
    message: 'Cannot write {path}: it is a symbolic link to {target}, and {detail}',
    hint: 'A write through a symbolic link replaces the file it leads to, and makes no directory for it: a missing one may be a share that is not mounted. Mount or create the directory, point the link at an existing file, or remove the link to write a file in its place.',
  },
  ERR_WRITE_LINK_UNTRUSTED: {
    status: 500,
    message:
      "Cannot write {path}: it is a symbolic link of user {linkOwner}, and {target}, where it leads, is user {owner}'s",
    hint: "A write follows a symbolic link another user made only to a file (or, for a missing file, a directory) that user owns, so a link cannot steer a write onto somebody else's file. Have the owner of the file make the link, or write to the file itself.",
  },
  ERR_REGEX_CHECK_LIMIT: {
    status: 400,
    message: 'Too many regex patterns to check in {where}: {detail}',
    hint: 'One check (the regexes of a data set or of a training run, those of every step of a model file together, or the redaction rules of a config) judges at most 1,000 distinct patterns and spends at most 2×10^7 steps on them, about ten seconds; a typical pattern takes a few thousand, and a pattern several steps use is charged once. Use a lookup table for lists of words, or simplify the patterns that take the most, and retrain a model that is refused.',
  },

  // ── config ───────────────────────────────────────────────────────────────────
  ERR_CONFIG_INVALID: {
    status: 400,
    message: 'Invalid config: {detail}',
    hint: 'See docs/configuration.md for every key.',
  },
  ERR_CONFIG_NOT_FOUND: {
    status: 404,
    message: 'No intentops.yml in {dir}',
    hint: 'Run `intentops init` or pass --config FILE.',
  },

  // ── yaml ─────────────────────────────────────────────────────────────────────
  ERR_YAML_SYNTAX: { status: 400, message: 'YAML syntax error: {detail}' },
  ERR_YAML_ALIAS_BOMB: {
    status: 400,
    message: 'Too many YAML alias expansions ({detail})',
    hint: 'Remove recursive or heavily repeated anchors (&name / *name).',
  },
  ERR_YAML_TOO_DEEP: {
    status: 400,
    message: 'YAML nesting deeper than {limit} levels',
    hint: 'Flatten the structure.',
  },

  // ── cli ──────────────────────────────────────────────────────────────────────
  ERR_CLI_USAGE: { status: 400, message: '{detail}', hint: 'Run `intentops --help`.' },
  ERR_INIT_NOT_EMPTY: {
    status: 409,
    message: '{dir} already contains {file}',
    hint: 'Choose an empty directory, or pass --force to overwrite the scaffold files.',
  },
  ERR_INIT_PATH_CONFLICT: {
    status: 409,
    message: 'Cannot create {file} in {dir}: {path} is {what}',
    hint: 'Move or remove that path, or choose another directory; nothing was written.',
  },
  ERR_CLI_ABORTED: {
    status: 499,
    message: 'Interrupted by {signal}',
    hint: 'Files it was writing were removed and their old versions kept; run the command again.',
  },
  ERR_CLI_CONFIRMATION_REQUIRED: {
    status: 428,
    message: '`{command}` needs confirmation: {detail}',
    hint: 'Nothing was done. Pass --yes to go ahead without being asked, or run the command in a terminal to be asked; --dry-run shows what it would do.',
  },

  // ── data ─────────────────────────────────────────────────────────────────────
  ERR_DATA_SCHEMA: {
    status: 400,
    message: '{detail}',
    hint: 'See docs/data-format.md for the keys each block may have.',
  },
  ERR_DATA_SYNTAX: {
    status: 400,
    message: 'Invalid {format}: {detail}',
    hint: 'Fix the syntax at this position; docs/data-format.md shows every format.',
  },
  ERR_DATA_EMPTY_EXAMPLE: {
    status: 400,
    message: 'Empty example in intent {intent}',
    hint: 'Write the sentence after "- ", or delete the line.',
  },
  ERR_DATA_DUPLICATE_EXAMPLE: {
    status: 400,
    message: 'Duplicate example "{text}" in intent {intent} (first at {first})',
    hint: 'Delete one of the two lines.',
  },
  ERR_DATA_CONFLICT: {
    status: 400,
    message: 'Example "{text}" is labelled {intent} here and {other} at {first}',
    hint: 'An example teaches one intent: keep it under the right intent and delete or reword the other.',
  },
  ERR_DATA_BAD_ANNOTATION: {
    status: 400,
    message: 'Malformed entity annotation: {detail}',
    hint: 'Write entities as [text](entity), [text](entity:value) or [text]{"entity": "e", "role": "r"}.',
  },
  ERR_DATA_SYNONYM_CONFLICT: {
    status: 400,
    message: '"{text}" maps to "{value}" here and to "{other}" at {first}',
    hint: 'A text can have one canonical value: remove it from one of the synonyms or annotations.',
  },
  ERR_DATA_BAD_REGEX: {
    status: 400,
    message: 'Regex {name} does not compile: {detail}',
    hint: '{advice}',
  },
  ERR_DATA_LOOKUP_NOT_FOUND: {
    status: 400,
    message: 'Lookup table {name} reads {path}, which does not exist',
    hint: 'The path is relative to the data file; create the file or fix the path.',
  },
  ERR_DATA_UNSUPPORTED_FORMAT: {
    status: 400,
    message: 'Cannot read {path} as training data: {detail}',
    hint: 'Use .yml/.yaml (Rasa NLU YAML), .json (Rasa JSON or NLP.js corpus), .csv or .jsonl.',
  },
  ERR_DATA_NO_FILES: {
    status: 404,
    message: 'No training data files in {path}',
    hint: 'Add data/nlu.yml (see docs/data-format.md), or run `intentops init`.',
  },
  ERR_DATA_UNSAFE_REGEX: {
    status: 400,
    message: 'Regex {name}: the pattern can take too long on some inputs: {detail}',
    hint: 'Make each part of the pattern match a text one way only: `(a|aa)+` → `a+`, `(\\w|\\d)+` → `\\w+`, `(\\d+\\s?)+` → `\\d+(?:\\s\\d+)*`; optional items in a row as one count, `a?a?a?aaa` → `a{3,6}`; no optional item beside a repetition of the same characters, `\\d?\\d+` → `\\d+`. Time that grows as the square of the text length is accepted up to 2.5×10^8 steps on 10,000 characters; faster growth, and more steps, are refused.',
  },
  ERR_MUST_PASS_UNKNOWN_INTENT: {
    status: 400,
    message: 'Must-pass case expects intent {intent}, which has no training examples',
    hint: 'Fix the intent name, or add examples for it to the training data.',
  },
  ERR_GIT: {
    status: 400,
    message: 'git {command} failed: {detail}',
    hint: 'Run inside a git repository and check the ref with `git log --oneline`.',
  },
  ERR_DATA_TEXT_LOOKS_ANNOTATED: {
    status: 400,
    message: 'Example "{text}" cannot be written as Rasa YAML: {detail}',
    hint: 'Rasa\'s inline entity syntax has no escape for brackets: rephrase the text or drop the brackets (e.g. "press ok" for "press [ok](btn)").',
  },
  ERR_DATA_NO_EXAMPLES: {
    status: 400,
    message: 'The {what} has no examples: {detail}',
    hint: 'Add `- intent:` blocks with examples to a data file (see docs/data-format.md), or point --data or `data` in intentops.yml at the files that have them.',
  },
  ERR_DATA_BAD_NAME: {
    status: 400,
    message: "Invalid {kind} name '{name}': {detail}",
    hint: '{advice}',
  },
  ERR_DATA_INVALID: {
    status: 400,
    message: 'The {what} has {count} error(s), listed above; the first, {code}: {first}. Nothing was trained',
    hint: 'Fix each problem at its file:line:column; {check}. To train on the data as it is (a public dataset you do not edit, say), pass --no-validate.',
  },

  // ── pipeline ─────────────────────────────────────────────────────────────────
  ERR_PUBLISH_NO_TARGET: {
    status: 400,
    message: 'Cannot publish the report on {provider}: missing {missing}',
    hint: 'Run inside a pull-request (GitHub) or merge-request (GitLab) pipeline, or set the variables; see docs/ci.md.',
  },
  ERR_PIPELINE_LOCKED: {
    status: 409,
    message: 'Another pipeline run holds the lock in {dir} and did not finish within {seconds} s',
    hint: 'Wait for it to finish; a crashed run releases the lock after 30 s.',
  },
  ERR_PIPELINE_NO_CACHE: {
    status: 409,
    message: 'Cannot start --from {from}: stage {stage} has no cached result',
    hint: 'Run the pipeline once without --from.',
  },
  ERR_PIPELINE_ABORTED: {
    status: 499,
    message: 'The pipeline run was interrupted',
    hint: 'Run it again: the stages that finished come from the cache.',
  },
  ERR_PIPELINE_DATA_INVALID: {
    status: 400,
    message: 'The training data has {count} error(s); the first, {code}: {first}',
    hint: 'Run `intentops data validate` to see every problem with its file and line.',
  },
  ERR_PIPELINE_GATE_FAILED: {
    status: 409,
    message: 'The candidate failed the gate against {alias}: {failed}; {alias} is unchanged',
    hint: 'See the gate table in the report (`intentops runs show`); fix the data or relax `gates` in intentops.yml.',
  },
  ERR_PIPELINE_STAGE_FAILED: {
    status: 500,
    message: 'Stage {stage} failed: {detail}',
    hint: 'Nothing after the failed stage ran; `intentops runs show` has the run record.',
  },
  ERR_PIPELINE_NOTIFY_FAILED: {
    status: 502,
    message: '{count} notification(s) could not be delivered: {detail}',
    hint: 'Check the webhook URL and the code-host token; without --strict-notify this is only a warning.',
  },
  ERR_DEPLOY_FAILED: {
    status: 502,
    message: 'The server {server} did not load {model}: {detail}',
    hint: 'Check the URL and the admin token; the server answers 204 to `PUT /model` when it serves the new model.',
  },
  ERR_RUN_NOT_FOUND: {
    status: 404,
    message: 'No pipeline run {id} in {dir}',
    hint: 'List the runs with `intentops runs list`; run `intentops pipeline run` to make one.',
  },
  ERR_CI_TEMPLATE_EXISTS: {
    status: 409,
    message: '{file} already exists',
    hint: 'Pass --force to overwrite it, or merge the template by hand.',
  },

  // ── registry ─────────────────────────────────────────────────────────────────
  ERR_REGISTRY_FORMAT_NEWER: {
    status: 409,
    message: 'The registry at {location} uses format version {found}; this intentops reads format {supported} or older',
    hint: 'Upgrade intentops before reading or writing this registry; older versions never rewrite a newer registry.',
  },
  ERR_REGISTRY_FORMAT_INVALID: {
    status: 422,
    message: 'The registry at {location} has an unreadable format file: {detail}',
    hint: 'Restore `format.json` from a backup, or point `registry.path` at the right directory.',
  },
  ERR_REGISTRY_MODEL_NOT_FOUND: {
    status: 404,
    message: 'No model named {name} in the registry at {location}',
    hint: 'Run `intentops models list` to see what is published, or `intentops publish <model>`.',
  },
  ERR_REGISTRY_VERSION_NOT_FOUND: {
    status: 404,
    message: 'Model {name} has no version {version}',
    hint: 'Run `intentops models list` to see the versions.',
  },
  ERR_REGISTRY_ALIAS_NOT_SET: {
    status: 404,
    message: 'Alias {alias} of model {name} points to no version',
    hint: 'Promote a version first: `intentops promote <version> --to {alias}`.',
  },
  ERR_REGISTRY_INVALID_REF: {
    status: 400,
    message: 'Invalid {what} "{value}": {rule}',
  },
  ERR_REGISTRY_RECORD_INVALID: {
    status: 422,
    message: 'Registry entry {key} is invalid: {detail}',
    hint: 'The entry was damaged or written by hand; `intentops models verify` lists every damaged entry.',
  },
  ERR_REGISTRY_RECORD_DIGEST_MISMATCH: {
    status: 422,
    message: 'Version record {key} was changed after it was published: its content hashes to {actual}, not {expected}',
    hint: 'Records are immutable. Restore it from a backup or publish the model again as a new version.',
  },
  ERR_REGISTRY_BLOB_MISSING: {
    status: 404,
    message: 'The model file of {name} v{version} ({digest}) is missing from the registry',
    hint: 'Publish the same model file again (`intentops publish`) to restore it, or promote another version.',
  },
  ERR_REGISTRY_BLOB_CORRUPT: {
    status: 422,
    message: 'The model file of {name} v{version} is corrupt: expected {expected} ({size} bytes), found {actual}',
    hint: 'The stored bytes were changed. Publish the original model file again to restore it; it is never served.',
  },
  ERR_REGISTRY_UNSIGNED: {
    status: 403,
    message: '{name} v{version} is not signed by a trusted key',
    hint: 'Publish with a signing key (`intentops keys generate`, then `registry.signingKey`), or set `registry.allowUnsigned: true` to accept unsigned models.',
  },
  ERR_REGISTRY_SIGNATURE_INVALID: {
    status: 403,
    message: 'The signature of {name} v{version} by key {keyId} does not verify: the record was tampered with',
    hint: 'Never serve this version. Publish the model again from the pipeline that holds the signing key.',
  },
  ERR_REGISTRY_KEY_UNTRUSTED: {
    status: 403,
    message: '{name} v{version} is signed by key {keyId}, which is not in `registry.trustedKeys`',
    hint: 'Add that public key to `registry.trustedKeys` if you trust its owner (`intentops keys show` prints it).',
  },
  ERR_REGISTRY_KEY_INVALID: {
    status: 400,
    message: 'Invalid {kind} key {source}: {detail}',
    hint: 'Keys are ed25519: a PEM file from `intentops keys generate`, or `ed25519:<base64>` for a public key.',
  },
  ERR_REGISTRY_NO_SIGNING_KEY: {
    status: 400,
    message: 'No signing key to sign {name} v{version} with',
    hint: 'Run `intentops keys generate`, then set `registry.signingKey` or the INTENTOPS_SIGNING_KEY variable; or set `registry.allowUnsigned: true`.',
  },
  ERR_REGISTRY_KEYS_EXIST: {
    status: 409,
    message: '{path} already exists',
    hint: 'Pass --force to replace the key pair (models signed with the old key then need the old public key in trustedKeys), or choose another --out.',
  },
  ERR_REGISTRY_PRECONDITION: {
    status: 412,
    message: 'Registry entry {key} already exists',
  },
  ERR_REGISTRY_LOCKED: {
    status: 409,
    message: 'Another writer holds the registry lock on {location} and did not release it within {seconds} s',
    hint: 'Wait for the other publish or promotion to finish; a crashed writer releases the lock after 30 s.',
  },
  ERR_REGISTRY_LOCK_LOST: {
    status: 409,
    message: 'The registry lock on {location} was taken over while this command held it; nothing was changed',
    hint: 'Run the command again. A lock is taken over when its holder stops refreshing it (a paused or overloaded process).',
  },
  ERR_REGISTRY_BACKEND: {
    status: 502,
    message: 'Registry storage error on {location} ({operation} {key}): {detail}',
    hint: 'Check the path or bucket, the credentials and the network; the registry was left unchanged.',
  },
  ERR_REGISTRY_S3_CLIENT_MISSING: {
    status: 500,
    message: 'The S3 registry backend needs the package @aws-sdk/client-s3, which is not installed',
    hint: 'Run `npm install @aws-sdk/client-s3` in the project.',
  },
  ERR_REGISTRY_GATE_FAILED: {
    status: 409,
    message: '{name} v{version} did not pass the gate for {alias}: {failed}',
    hint: 'Fix the model, or override with --force --reason "..." (the override and its reason are logged).',
  },
  ERR_REGISTRY_REASON_REQUIRED: {
    status: 400,
    message: 'A forced {action} needs a reason',
    hint: 'Pass --reason "why this is safe"; it is written to the audit log.',
  },
  ERR_REGISTRY_NO_ROLLBACK_TARGET: {
    status: 409,
    message: 'Alias {alias} of {name} has no earlier holder to roll back to',
    hint: 'Promote a version explicitly: `intentops promote <version> --to {alias}`.',
  },
  ERR_REGISTRY_EVAL_INVALID: {
    status: 400,
    message: '{path} is not an evaluation report or summary: {detail}',
    hint: 'Pass the report.json written by `intentops test`.',
  },
  ERR_REGISTRY_EVAL_MISMATCH: {
    status: 409,
    message: '{path} evaluates another model than {what}: {detail}',
    hint: 'Evaluate this model file (`intentops test --model <file>`) and pass that report.json.',
  },
  ERR_REGISTRY_NOT_FOUND: {
    status: 404,
    message: 'No model registry yet at {location}',
    hint: 'Publishing a model creates it (`intentops train`, then `intentops publish <model file>`). If the registry is elsewhere, check --registry, INTENTOPS_REGISTRY or `registry.path` in intentops.yml.',
  },

  // ── eval ─────────────────────────────────────────────────────────────────────
  ERR_EVAL_NO_TEST_DATA: {
    status: 400,
    message: 'No test data: {detail}',
    hint: 'Pass --test PATH with labelled examples, or --cross-validation to evaluate on the training data.',
  },
  ERR_EVAL_ABORTED: {
    status: 499,
    message: 'The evaluation was interrupted',
    hint: 'No report was written; run the command again.',
  },
  ERR_EVAL_FOLDS: {
    status: 400,
    message: 'Cannot run {folds}-fold cross-validation: {detail}',
    hint: 'Use 2 ≤ --folds ≤ the number of examples; intents with fewer examples than folds are left out of some folds.',
  },
  ERR_EVAL_TEST_SET_MISMATCH: {
    status: 409,
    message: 'Cannot compare {a} with {b}: they were evaluated on different test sets ({fa} vs {fb})',
    hint: 'Evaluate both on the same --test data, or with the same data, --folds and --seed.',
  },
  ERR_EVAL_BAD_REPORT: {
    status: 400,
    message: '{path} is not a readable evaluation report: {detail}',
    hint: 'Pass a report.json written by `intentops test` (same major version), or a model file.',
  },
  ERR_EVAL_WORKER_FAILED: {
    status: 500,
    message: 'A {kind} job failed in a worker thread: {detail}',
    hint: 'Set INTENTOPS_DEBUG=1 for the stack trace; run with --concurrency 1 to run in-process.',
  },
  ERR_TUNE_NO_PARAMS: {
    status: 400,
    message: 'Nothing to tune: no parameters declared',
    hint: 'Declare tune.params in intentops.yml or pass --param step.param=v1,v2 (see docs/evaluation.md).',
  },
  ERR_TUNE_INVALID_PARAM: {
    status: 400,
    message: 'Invalid tuning parameter {param}: {detail}',
    hint: 'A parameter names a pipeline step (its `name`, or its `type` when unnamed) and one of its params.',
  },

  // ── nlu ──────────────────────────────────────────────────────────────────────
  ERR_NLU_PARAM_INVALID: {
    status: 400,
    message: 'Invalid params for {component}: {detail}',
    hint: 'See docs/nlu.md for every component and its parameters.',
  },
  ERR_NLU_UNKNOWN_COMPONENT: {
    status: 400,
    message: "Unknown pipeline step type '{type}' at {where}",
    hint: 'Known types: {known}. See docs/nlu.md.',
  },
  ERR_NLU_PIPELINE_INVALID: {
    status: 400,
    message: 'Invalid pipeline: {detail}',
    hint: 'A pipeline needs at least one featurizer, then exactly one classifier, and has at most 64 steps; see docs/nlu.md.',
  },
  ERR_NLU_REGEX_INVALID: {
    status: 400,
    message: "The regex '{name}' has an invalid pattern /{pattern}/: {detail}",
    hint: '{advice}',
  },
  ERR_NLU_NO_TRAINING_DATA: {
    status: 400,
    message: 'Cannot train: {detail}',
    hint: 'Add examples to the data files, or point --data at them.',
  },
  ERR_NLU_MESSAGE_INVALID: {
    status: 400,
    message: 'Invalid message: {detail}',
    hint: 'Send {"text": "..."} or {"fields": {"subject": "...", "body": "..."}}.',
  },
  ERR_NLU_NO_HELD_OUT: {
    status: 400,
    message: 'Cannot choose the fallback threshold: {detail}',
    hint: 'Pass --validation FILE, or use a classifier with calibration (the default).',
  },
  ERR_NLU_OOS_INTENT_MISSING: {
    status: 400,
    message: "The out-of-scope intent '{intent}' has no examples in {where}",
    hint: 'Add examples of out-of-scope messages under that intent, name the right one with --oos-intent, or use --max-fallback, which needs none.',
  },
  ERR_NLU_REGEX_UNSAFE: {
    status: 400,
    message: "The regex '{name}' has a pattern /{pattern}/ that can take too long on some inputs: {detail}",
    hint: 'Make each part of the pattern match a text one way only: `(a|aa)+` → `a+`, `(\\w|\\d)+` → `\\w+`, `(\\d+\\s?)+` → `\\d+(?:\\s\\d+)*`; optional items in a row as one count, `a?a?a?aaa` → `a{3,6}`; no optional item beside a repetition of the same characters, `\\d?\\d+` → `\\d+`. Time that grows as the square of the text length is accepted up to 2.5×10^8 steps on 10,000 characters; faster growth, and more steps, are refused.',
  },
  ERR_TRAIN_ABORTED: {
    status: 499,
    message: 'Training was interrupted',
    hint: 'No model file was written; run the command again.',
  },

  // ── model file ───────────────────────────────────────────────────────────────
  ERR_MODEL_NOT_A_MODEL: {
    status: 400,
    message: '{source} is not an intentops model file ({detail})',
    hint: 'Model files are written by `intentops train`; check the path.',
  },
  ERR_MODEL_TRUNCATED: {
    status: 400,
    message: '{source} is truncated: it has {size} bytes, its header says {expected}',
    hint: 'The copy or download was cut short; copy the file again or retrain.',
  },
  ERR_MODEL_DIGEST: {
    status: 400,
    message: '{source} fails its SHA-256 check: the file is corrupted or was modified',
    hint: 'Do not edit model files; copy the original again or retrain.',
  },
  ERR_MODEL_VERSION: {
    status: 400,
    message: '{source} has model format {found}; this intentops reads format {supported}.x',
    hint: 'Retrain the model with this version of intentops, or use the version that wrote it.',
  },
  ERR_MODEL_TOO_LARGE: {
    status: 413,
    message: '{source} is {size} bytes, over the {limit}-byte model size limit',
    hint: 'Raise the limit only for files you trust; check that the path names a model file.',
  },
  ERR_MODEL_CORRUPT: {
    status: 400,
    message: '{source} is malformed: {detail}',
    hint: 'The file passed its checksum but its contents are inconsistent; it was not written by intentops. Retrain.',
  },
  ERR_MODEL_UNSAFE_REGEX: {
    status: 400,
    message:
      "{source} is refused: step '{step}' has the regex '{name}' /{pattern}/, which can take too long on some inputs: {detail}",
    hint: 'Fix the pattern in the training data (`intentops data validate` points at it) and retrain. Make each part of the pattern match a text one way only: `(a|aa)+` → `a+`, `(\\w|\\d)+` → `\\w+`, `a?a?a?aaa` → `a{3,6}`, `\\d?\\d+` → `\\d+`.',
  },
  ERR_MODEL_UNKNOWN_COMPONENT: {
    status: 400,
    message: "{source} uses component type '{type}', which this intentops does not know",
    hint: 'Upgrade intentops, or retrain the model with this version.',
  },

  // ── bench ────────────────────────────────────────────────────────────────────
  ERR_BENCH_PEER_FAILED: {
    status: 500,
    message: 'Benchmark system {system} failed on {dataset}: {detail}',
    hint: 'Run `bash bench/setup.sh` to install the peers (scikit-learn, fastText); see bench/README.md.',
  },

  // ── review ───────────────────────────────────────────────────────────────────
  ERR_REVIEW_NOT_FOUND: {
    status: 404,
    message: 'No logged prediction with id {id}',
    hint: 'It may have been deleted or purged; reload the inbox.',
  },
  ERR_REVIEW_INVALID: {
    status: 400,
    message: 'Invalid review: {detail}',
  },
  ERR_REVIEW_UNKNOWN_INTENT: {
    status: 400,
    message: "The intent '{intent}' is not in the training data",
    hint: 'Pick an existing intent, or create it on purpose (`newIntent: true` in the API, "Create new intent" in the UI).',
  },
  ERR_REVIEW_BAD_ENTITY: {
    status: 400,
    message: 'Entity span {start}-{end} ({entity}) does not fit the message: {detail}',
    hint: 'Offsets are UTF-16 code units into the message text (or into the named field), end exclusive.',
  },
  ERR_REVIEW_EXPORT_FILE: {
    status: 400,
    message: 'Cannot export reviews into {path}: {detail}',
    hint: 'Give a YAML file (.yml or .yaml) inside the project, e.g. --file data/reviewed.yml.',
  },
  ERR_REVIEW_GIT: {
    status: 500,
    message: 'git {command} failed: {detail}',
    hint: 'Run the export inside a git repository with a configured user.name and user.email.',
  },
  ERR_REVIEW_GIT_BRANCH_EXISTS: {
    status: 409,
    message: "The git branch '{branch}' exists already",
    hint: 'Choose another --git-branch name, or delete the old branch.',
  },
  ERR_REVIEW_GIT_DIRTY: {
    status: 409,
    message: 'Files the export reads or writes have uncommitted changes: {files}',
    hint: 'Commit, stash or discard them first: the branch starts from HEAD, and its commit must hold only what the export adds.',
  },
  ERR_REVIEW_BAD_NAME: {
    status: 400,
    message: "The {kind} name '{name}' cannot be used: {detail}",
    hint: '{advice}',
  },

  // ── serve ────────────────────────────────────────────────────────────────────
  ERR_SERVE_BAD_REQUEST: {
    status: 400,
    message: 'Invalid request: {detail}',
    hint: 'See docs/http-api.md for the request shape of this route.',
  },
  ERR_SERVE_INVALID_JSON: {
    status: 400,
    message: 'The request body is not valid JSON: {detail}',
    hint: 'Send a JSON object with `Content-Type: application/json`.',
  },
  ERR_SERVE_INVALID_UTF8: {
    status: 400,
    message: 'The request body is not valid UTF-8 (first bad byte at offset {offset})',
    hint: 'Encode the body as UTF-8.',
  },
  ERR_SERVE_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'Unsupported content type {type}',
    hint: 'Send `Content-Type: application/json`.',
  },
  ERR_SERVE_BODY_TOO_LARGE: {
    status: 413,
    message: 'The request body is over the {limit}-byte limit',
    hint: 'Send fewer or shorter messages, or raise `serve.bodyLimitBytes`.',
  },
  ERR_SERVE_BODY_TIMEOUT: {
    status: 408,
    message: 'The request body was not received within {ms} ms',
    hint: 'Send the whole body at once; slow uploads are cut off (`serve.bodyTimeoutMs`).',
  },
  ERR_SERVE_TEXT_TOO_LONG: {
    status: 413,
    message: '{where} is {length} characters, over the {limit}-character limit',
    hint: 'Shorten the message, or raise `serve.maxTextLength`.',
  },
  ERR_SERVE_METADATA_TOO_DEEP: {
    status: 400,
    message: '{where} nests deeper than {limit} levels of objects and arrays',
    hint: 'Flatten the metadata, or send the deep part as a JSON string: the logged prediction keeps it as JSON.',
  },
  ERR_SERVE_BATCH_TOO_LARGE: {
    status: 413,
    message: 'The batch holds {size} messages, over the limit of {limit}',
    hint: 'Split it into several requests, or raise `serve.maxBatchSize`.',
  },
  ERR_SERVE_ROUTE_NOT_FOUND: {
    status: 404,
    message: 'No route {method} {url}',
    hint: 'See docs/http-api.md for the routes, or open /docs.',
  },
  ERR_SERVE_NO_MODEL: {
    status: 503,
    message: 'No model is loaded yet: {detail}',
    hint: 'Promote a version to the served alias, or start with `intentops serve --model FILE`.',
  },
  ERR_SERVE_UNAUTHORIZED: {
    status: 401,
    message: 'This route needs a token: {detail}',
    hint: 'Send `Authorization: Bearer <token>`; `intentops tokens create` makes one.',
  },
  ERR_SERVE_FORBIDDEN: {
    status: 403,
    message: 'A token with the role {role} cannot use this route: it needs the role {required}',
    hint: 'Use a token with the right role (`intentops tokens create --role ...`).',
  },
  ERR_SERVE_AUTH_UNAVAILABLE: {
    status: 503,
    message: 'Tokens cannot be checked: {detail}',
    hint: 'Tokens live in the store; check that it is configured and reachable.',
  },
  ERR_SERVE_RATE_LIMITED: {
    status: 429,
    message: 'Too many requests: {max} per {window} allowed; retry in {retry}',
    hint: 'Slow down, or raise `serve.rateLimit`.',
  },
  ERR_SERVE_MODEL_LOAD_FAILED: {
    status: 422,
    message: 'Model {source} was not loaded, {outcome}: {detail}',
    hint: 'Check the model with `intentops models verify`; the server log has the cause.',
  },
  ERR_SERVE_MODEL_UNTRUSTED_FILE: {
    status: 422,
    message: 'Model file {path} matches no signed version in the registry',
    hint: 'Publish it (`intentops publish`) and name the version, or set `registry.allowUnsigned: true`.',
  },
  ERR_SERVE_STORE_UNAVAILABLE: {
    status: 503,
    message: 'The store is not reachable: {detail}',
    hint: 'Predictions wait in the log queue; check the database.',
  },
  ERR_SERVE_SHUTTING_DOWN: {
    status: 503,
    message: 'The server is shutting down',
    hint: 'Retry on another replica.',
  },
  ERR_SERVE_UNSUPPORTED_ENCODING: {
    status: 415,
    message: 'Unsupported content encoding {encoding}',
    hint: 'Send the body uncompressed, without a Content-Encoding header (or with `Content-Encoding: identity`).',
  },
  ERR_SERVE_PATH_FORBIDDEN: {
    status: 403,
    message: 'The path {url} is not allowed',
    hint: 'Static files are served only from inside their directory: drop `..` segments (plain or encoded).',
  },
  ERR_SERVE_RANGE_NOT_SATISFIABLE: {
    status: 416,
    message: 'The requested range of {url} is outside the file',
    hint: 'Ask for bytes within the file, or send no Range header.',
  },
  ERR_SERVE_MODEL_FILE_FAILED: {
    status: 400,
    message: 'Model file {source} could not be loaded, so the server did not start: {detail}',
    hint: 'Check the path given to `--model` (or `serve.model`); `intentops train --out FILE` writes a model file.',
  },
  ERR_SERVE_LISTEN_FAILED: {
    status: 500,
    message: 'Cannot listen on {address}: {detail}',
    hint: 'Choose another `--port` (or `serve.port`; 0 picks a free one), or stop the process using it; for an unknown host, check `--host` (or `serve.host`).',
  },
  ERR_SERVE_METHOD_NOT_ALLOWED: {
    status: 405,
    message: '{methods} {path} only; this request used {method}',
    hint: 'Send the request with a method the Allow header lists; see docs/http-api.md for the routes.',
  },
  ERR_SERVE_UNSUPPORTED_CHARSET: {
    status: 415,
    message: 'Unsupported charset {charset}: a JSON body is UTF-8',
    hint: 'Encode the body as UTF-8 and send `Content-Type: application/json` (or `; charset=utf-8`): JSON is UTF-8 (RFC 8259).',
  },
  ERR_SERVE_UNKNOWN_FIELD: {
    status: 400,
    message: '{where} has the field {field}, which the served model does not know; it knows {known}',
    hint: 'Send only the fields the model was trained on (the field names of its training examples); names are case-sensitive.',
  },
  ERR_SERVE_MALFORMED_HTTP: {
    status: 400,
    message: 'The request is not valid HTTP/1.1: {detail}',
    hint: 'Check the client or the proxy in front of the server: one Content-Length or `Transfer-Encoding: chunked` (not both), well-formed chunks, a standard method.',
  },
  ERR_SERVE_HEADERS_TOO_LARGE: {
    status: 431,
    message: 'The request line and headers are over the {limit}-byte limit',
    hint: 'Send fewer or shorter headers (cookies and a long URL count too).',
  },
  ERR_SERVE_HEADERS_TIMEOUT: {
    status: 408,
    message: 'The request headers were not received within {ms} ms',
    hint: 'Send the request line and headers at once; slow clients are cut off (`serve.requestTimeoutMs`).',
  },

  // ── store ────────────────────────────────────────────────────────────────────
  ERR_STORE_UNAVAILABLE: {
    status: 503,
    message: 'The {backend} store at {location} is unreachable: {detail}',
    hint: 'Check that the database is running and `store.url` / DATABASE_URL (or `store.path`) is right.',
  },
  ERR_STORE_MIGRATION_FAILED: {
    status: 500,
    message: 'Cannot bring the store at {location} up to date: {detail}',
    hint: 'Check that the database user may create tables (and the schema); see docs/store.md.',
  },
  ERR_STORE_NO_URL: {
    status: 400,
    message: '`store.backend` is postgres but no URL is set',
    hint: 'Set `store.url` in intentops.yml or the DATABASE_URL environment variable.',
  },
  ERR_STORE_BAD_CURSOR: {
    status: 400,
    message: 'Invalid page cursor: {detail}',
    hint: 'Pass back `nextCursor` from the previous page unchanged, with the same order; omit it for the first page.',
  },
  ERR_STORE_PREDICTION_NOT_FOUND: {
    status: 404,
    message: 'No logged prediction with id {id}',
    hint: 'It may have been purged by retention; list predictions to find current ids.',
  },
  ERR_STORE_TOKEN_EXISTS: {
    status: 409,
    message: 'A live token named {name} already exists',
    hint: 'Choose another name, or revoke the old token first (`intentops tokens revoke NAME`).',
  },
  ERR_STORE_TOKEN_NOT_FOUND: {
    status: 404,
    message: 'No live token with id or name {token}',
    hint: 'Run `intentops tokens list` to see the tokens.',
  },
  ERR_STORE_INVALID_RECORD: {
    status: 400,
    message: 'Prediction record {id} cannot be logged: {detail}',
    hint: 'Build records with every field of PredictionRecord (src/store/types.ts); times are epoch milliseconds.',
  },
  ERR_STORE_REDACTION_INVALID: {
    status: 400,
    message: 'Redaction rule {where} does not compile: {detail}',
    hint: 'Patterns use JavaScript regular-expression syntax; escape special characters with a backslash.',
  },
  ERR_STORE_REDACTION_UNSAFE: {
    status: 400,
    message: 'Redaction rule {where} /{pattern}/ can take too long on some inputs: {detail}',
    hint: 'Redaction runs on every logged message. Make each part match a text one way only (`(a|aa)+` → `a+`, `(\\w|\\d)+` → `\\w+`, `a?a?a?aaa` → `a{3,6}`, `\\d?\\d+` → `\\d+`); time that grows as the square of the text length is accepted up to 2.5×10^8 steps on 10,000 characters, faster growth and more steps are refused.',
  },
  ERR_STORE_NOT_FOUND: {
    status: 404,
    message: 'No prediction log yet at {location}',
    hint: 'Start `intentops serve` to record predictions; it creates the log. If the log is elsewhere, check --store, INTENTOPS_STORE or `store.path` in intentops.yml.',
  },

  // ── monitor ──────────────────────────────────────────────────────────────────
  ERR_ANALYTICS_RANGE: {
    status: 400,
    message: 'The analytics range {from} .. {to} is empty or too long ({detail})',
    hint: '`--from` must be before `--to`; use `--bucket day` for long ranges.',
  },
  ERR_MONITOR_WINDOW: {
    status: 400,
    message: 'Cannot read the {what} "{value}": {detail}',
    // describeTimeForms() written out: the catalog imports nothing of ours. errors.test.ts compares.
    hint: 'Use a duration such as `7d`, `24h`, `30m` or `2w`, or (for --reference) `training`, a duration (the window of that length just before the recent one) or `FROM..TO`, each a date (2026-01-31, midnight UTC), an ISO date-time in UTC unless it has an offset (2026-01-31T12:00, 2026-01-31T12:00:00Z, 2026-01-31T12:00+02:00), epoch milliseconds (1769860800000), or an age (30d, 12h, 30m, 2w: that long before now; m is minutes, not months). `14d` alone is a length; `30d..7d` runs from 30 days ago to 7 days ago.',
  },
  ERR_ANALYTICS_UNKNOWN: {
    status: 404,
    message: 'Unknown analytics "{what}"; use one of {known}',
    hint: 'Run `intentops analytics --help`.',
  },
} satisfies Record<string, CatalogEntry>)

export type ErrorCode = keyof typeof ERROR_CATALOG

export interface ErrorOptions {
  cause?: unknown
  location?: SourceLocation
  hint?: string
}

/** The one error class of intentops. `code` is stable; `message` is for people. */
export class IntentopsError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly params: Readonly<Record<string, unknown>>
  readonly location: SourceLocation | undefined
  readonly hint: string | undefined

  constructor(code: ErrorCode, params: Record<string, unknown> = {}, options: ErrorOptions = {}) {
    const entry: CatalogEntry = ERROR_CATALOG[code]
    super(formatTemplate(entry.message, params), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'IntentopsError'
    this.code = code
    this.statusCode = entry.status
    this.params = Object.freeze({ ...params })
    this.location = options.location
    this.hint = options.hint ?? (entry.hint === undefined ? undefined : formatTemplate(entry.hint, params))
  }

  /** `file:line:column: message` when the error has a location. */
  describe(): string {
    return this.location ? `${formatLocation(this.location)}: ${this.message}` : this.message
  }

  toJSON(): { code: ErrorCode; message: string; location?: SourceLocation; hint?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.location ? { location: this.location } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
    }
  }
}

/** Shorthand: `throw createError('ERR_FILE_NOT_FOUND', { path })`. */
export function createError(code: ErrorCode, params: Record<string, unknown> = {}, options: ErrorOptions = {}) {
  return new IntentopsError(code, params, options)
}

export function isIntentopsError(err: unknown): err is IntentopsError {
  return err instanceof IntentopsError
}

export function formatLocation(loc: SourceLocation): string {
  let s = loc.file
  if (loc.line !== undefined) s += `:${loc.line}`
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`
  return s
}

function formatTemplate(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (m, key: string) => (key in params ? String(params[key]) : m))
}
