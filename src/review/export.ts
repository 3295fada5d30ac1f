/**
 * Export of reviews into the training data. Each reviewed message becomes an example of its label, appended to the
 * YAML file where that intent's examples already live (else to `review.exportFile`), keeping every other byte.
 * Exact and normalised duplicates of existing examples are dropped; a message whose normalised text is already an
 * example of another intent is a conflict, reported and not written. Optionally the change is committed on a new
 * git branch, ready for a pull request.
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync, promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config/schema.js'
import { diagnosticToError } from '../data/diagnostics.js'
import { type DataDiff, diffTrainingData, renderDiffMarkdown } from '../data/diff.js'
import { formatForPath } from '../data/formats/index.js'
import { formatAnnotatedText } from '../data/inline-entities.js'
import { loadTrainingData, loadTrainingDataDetailed } from '../data/load.js'
import { type NameKind, nameHint, nameProblem } from '../data/names.js'
import { toRootRelative } from '../data/source.js'
import type { EntityAnnotation, Example, SourceRef, TrainingData } from '../data/types.js'
import { addExamples, type NewExample } from '../data/write.js'
import { createError, type IntentopsError, isIntentopsError } from '../errors.js'
import type { PredictionRecord, PredictionStore, ReviewRecord } from '../store/types.js'
import { commonAttributes, type FileAttributes, writeTarget } from '../util/fs.js'
import { latestReview } from './actions.js'
import { normalizeMessage } from './group.js'

export interface ExportOptions {
  /** Project root. */
  root: string
  config: Pick<Config, 'data'> & { review: Pick<Config['review'], 'exportFile'> }
  /** Where examples of intents without a YAML file go (root-relative); default `review.exportFile`. */
  file?: string
  /** Create this branch and commit the written files on it. */
  gitBranch?: string
  /** Plan the export and compute the diff, but write nothing and mark nothing. */
  dryRun?: boolean
  now?: () => number
  /** Environment of the git commands (tests pin the author). */
  env?: NodeJS.ProcessEnv
  /** The directory the command runs in: messages name files relative to it, as `git status` does. Default `root`. */
  cwd?: string
  /** Called as reviewed messages are read, for progress displays. */
  onProgress?: (done: number, total: number) => void
}

export interface ExportedExample {
  predictionId: string
  /** As written in YAML: annotated text, or `field: text` pairs joined with ` | `. */
  text: string
  intent: string
  file: string
}

export interface SkippedExample {
  predictionId: string
  text: string
  intent: string
  /** Where the same normalised text already is: a training example, or another reviewed message. */
  existing: { intent: string; source?: SourceRef; predictionId?: string }
}

export interface ExportResult {
  written: ExportedExample[]
  /** Same normalised text, same intent: already in the training data (or twice among the reviews). */
  duplicates: SkippedExample[]
  /** Same normalised text, another intent: not written, and left unexported until someone re-reviews it. */
  conflicts: SkippedExample[]
  /** Reviews marked exported (written, duplicates, and decisions with nothing to write: skip, delete). */
  marked: number
  files: string[]
  diff: DataDiff
  markdown: string
  branch?: string
  commit?: string
  warnings: string[]
}

interface Candidate {
  prediction: PredictionRecord
  intent: string
  entities: EntityAnnotation[]
  example: Example
  /** Unexported reviews this candidate settles. */
  reviewIds: string[]
}

/** How a reviewed message reads in a data file. */
function toNewExample(p: PredictionRecord, entities: readonly EntityAnnotation[]): NewExample {
  if (p.fields) {
    const fields: Record<string, string> = {}
    for (const [k, v] of Object.entries(p.fields)) {
      fields[k] = formatAnnotatedText(
        v,
        entities.filter((e) => e.field === k),
      )
    }
    return { fields }
  }
  return formatAnnotatedText(
    p.text,
    entities.filter((e) => e.field === undefined),
  )
}

/**
 * Why a candidate cannot be written as it is: a name the validator refuses (its intent, or an entity's name, role or
 * group), or text that reads as markup.
 */
function unwritable(c: Candidate): IntentopsError | undefined {
  const names: Array<[NameKind, string]> = [['intent', c.intent]]
  for (const e of c.entities) {
    names.push(['entity', e.entity])
    if (e.role !== undefined) names.push(['role', e.role])
    if (e.group !== undefined) names.push(['group', e.group])
  }
  for (const [kind, name] of names) {
    const detail = nameProblem(kind, name)
    if (detail !== undefined)
      return createError('ERR_REVIEW_BAD_NAME', { kind, name, detail, advice: nameHint(kind, name) })
  }
  try {
    toNewExample(c.prediction, c.entities)
    return undefined
  } catch (err) {
    if (isIntentopsError(err) && err.code === 'ERR_DATA_TEXT_LOOKS_ANNOTATED') return err
    throw err
  }
}

function isYaml(file: string): boolean {
  return formatForPath(file) === 'yaml'
}

function covered(dataPaths: readonly string[], file: string): boolean {
  return dataPaths.some((p) => {
    const d = p.replace(/\/+$/, '')
    return d === '.' || file === d || file.startsWith(`${d}/`)
  })
}

function git(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const detail = (stderr || err.message).trim().split('\n').slice(-3).join(' ')
        reject(createError('ERR_REVIEW_GIT', { command: args[0], detail }, { cause: err }))
      } else resolve(stdout)
    })
  })
}

/** Whether a branch exists: `git rev-parse --verify` fails for a missing ref. */
async function branchExists(name: string, cwd: string, env?: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await git(['rev-parse', '--verify', '--quiet', `refs/heads/${name}`], cwd, env)
    return true
  } catch {
    return false
  }
}

/**
 * The files the symbolic links among `files` (root-relative) lead to, root-relative, where they lie inside the
 * project: a write replaces those files and keeps the links, so git must watch and commit them, not the links alone.
 */
async function linkTargets(root: string, files: readonly string[]): Promise<string[]> {
  const realRoot = await fsp.realpath(root).catch(() => root)
  const out = new Set<string>()
  for (const f of files) {
    const abs = path.join(root, f)
    const target = await writeTarget(abs).catch(() => abs)
    if (target === abs) continue
    const rel = path.relative(realRoot, target)
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) out.add(rel.split(path.sep).join('/'))
  }
  return [...out]
}

/**
 * What a new export file is created with: the permission bits every training data file has, their owner and their
 * group where they share them (`commonAttributes`), so reviewed messages are open to nobody who could not read the
 * data they join. Undefined, the umask, when there is no data file to follow.
 */
async function exportFileAttributes(root: string, dataFiles: readonly string[]): Promise<FileAttributes | undefined> {
  return commonAttributes(dataFiles.map((f) => path.join(root, f)))
}

/**
 * What must have no uncommitted change for a git export: the data paths whole (every file training reads, and a
 * data file deleted or not yet added), the file new intents go to, and the lookup files the data names, which may
 * lie outside the data paths. Otherwise the branch would carry someone's edits uncommitted, the commit would mix
 * them into the export's, or the export would be checked against data the commit does not hold. The files that data
 * files linked to shared data lead to count too.
 */
async function watchedPaths(
  root: string,
  dataPaths: readonly string[],
  fallbackFile: string,
  data: TrainingData,
  dataFiles: readonly string[],
): Promise<string[]> {
  const paths = new Set([...dataPaths, fallbackFile])
  for (const l of data.lookups) {
    if (l.file) paths.add(l.file)
    for (const s of l.sources ?? []) paths.add(s.file)
  }
  // a data file linked to shared data is written where it leads
  for (const t of await linkTargets(root, [...dataFiles, ...paths])) paths.add(t)
  return [...paths].sort()
}

/**
 * Refuse a branch name git would refuse, a branch that exists, and uncommitted changes to `paths`. The changed files
 * are named relative to `cwd`, as `git status` names them there; porcelain names them from the repository's top.
 */
async function checkGit(
  name: string,
  paths: readonly string[],
  root: string,
  cwd: string,
  env?: NodeJS.ProcessEnv,
): Promise<void> {
  await git(['check-ref-format', '--branch', name], root, env)
  if (await branchExists(name, root, env)) throw createError('ERR_REVIEW_GIT_BRANCH_EXISTS', { branch: name })
  // Entries are `XY path`, NUL-terminated and unquoted: X is a space for a change not staged, so they are not
  // trimmed, and a rename or copy is followed by its source path. Data paths are names, not patterns, so `*` or
  // `:` in one means itself.
  const entries = (
    await git(['status', '--porcelain', '-z', '--', ...paths.map((p) => `:(literal)${p}`)], root, env)
  ).split('\0')
  const dirty: string[] = []
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    if (entry.length <= 3) continue
    dirty.push(entry.slice(3))
    if (/[RC]/.test(entry.slice(0, 2))) i++
  }
  if (!dirty.length) return
  // --show-cdup spells the top from `root` as `root` is spelled, where --show-toplevel resolves symbolic links
  const top = path.resolve(root, (await git(['rev-parse', '--show-cdup'], root, env)).trim())
  // an untracked directory keeps its trailing `/`, as git shows it
  const files = dirty.map((f) => `${path.relative(cwd, path.join(top, f)) || '.'}${f.endsWith('/') ? '/' : ''}`)
  throw createError('ERR_REVIEW_GIT_DIRTY', { files: files.join(', ') })
}

/** Gather the unexported reviews: one candidate example per message whose latest decision gives it a label. */
async function plan(store: PredictionStore, onProgress?: (done: number, total: number) => void) {
  const pending = await store.listReviews({ exported: false, limit: 1_000_000 })
  const byPrediction = new Map<string, ReviewRecord[]>()
  for (const r of pending) {
    const list = byPrediction.get(r.predictionId)
    if (list) list.push(r)
    else byPrediction.set(r.predictionId, [r])
  }
  const candidates: Candidate[] = []
  const settled: string[] = []
  // oldest decision first, so the written order follows the reviewers' order
  const order = [...byPrediction.entries()]
    .map(([id, rs]) => ({ id, rs, latest: latestReview(rs)! }))
    .sort((a, b) => a.latest.ts - b.latest.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  let done = 0
  for (const { id, rs } of order) {
    if (onProgress && ++done % 100 === 0) onProgress(done, order.length)
    const prediction = await store.getPrediction(id)
    const all = prediction ? await store.listReviews({ predictionId: id }) : rs
    const latest = latestReview(all)!
    const ids = rs.map((r) => r.id)
    if (!prediction || latest.action === 'skip' || latest.action === 'delete' || !latest.intent) {
      settled.push(...ids)
      continue
    }
    // the latest correction of the spans wins; without one, the model's spans were seen and accepted
    const withSpans = [...all].filter((r) => r.entities !== undefined).sort((a, b) => a.ts - b.ts)
    const spans = withSpans.length ? withSpans[withSpans.length - 1]!.entities! : prediction.entities
    const entities: EntityAnnotation[] = spans.map((e) => ({
      start: e.start,
      end: e.end,
      entity: e.entity,
      value: e.value,
      ...(e.role ? { role: e.role } : {}),
      ...(e.group ? { group: e.group } : {}),
      ...(e.field !== undefined ? { field: e.field } : {}),
    }))
    const example: Example = {
      text: prediction.text,
      ...(prediction.fields ? { fields: prediction.fields } : {}),
      intent: latest.intent,
      entities,
    }
    candidates.push({ prediction, intent: latest.intent, entities, example, reviewIds: ids })
  }
  onProgress?.(order.length, order.length)
  return { candidates, settled }
}

/** Export reviewed messages into the training data. */
export async function exportReviews(store: PredictionStore, options: ExportOptions): Promise<ExportResult> {
  const root = path.resolve(options.root)
  const dataPaths = [...options.config.data]
  const warnings: string[] = []
  const requested = options.file ?? options.config.review.exportFile
  let fallbackFile: string
  try {
    fallbackFile = toRootRelative(root, requested)
  } catch (err) {
    if (isIntentopsError(err)) throw createError('ERR_REVIEW_EXPORT_FILE', { path: requested, detail: err.message })
    throw err
  }
  if (!isYaml(fallbackFile)) {
    throw createError('ERR_REVIEW_EXPORT_FILE', { path: requested, detail: 'it is not a YAML file' })
  }
  // a fallback file outside the data paths is still read, so the diff shows only what this export adds
  const loadPaths = [...dataPaths]
  const outside = !covered(dataPaths, fallbackFile)
  if (outside) {
    warnings.push(
      `${fallbackFile} is outside the training data paths (${dataPaths.join(', ')}): add it to \`data\` in intentops.yml so training reads it`,
    )
    if (existsSync(path.join(root, fallbackFile))) loadPaths.push(fallbackFile)
  }

  const loaded = await loadTrainingDataDetailed(loadPaths, { root })
  const firstError = loaded.diagnostics.find((d) => d.severity === 'error')
  if (firstError) throw diagnosticToError(firstError)
  const before = loaded.data
  const dataFiles = loaded.files.filter((f) => f.isNlu).map((f) => f.file)
  const existing = new Map<string, Example>()
  for (const ex of before.examples) {
    const key = normalizeMessage(ex)
    if (!existing.has(key)) existing.set(key, ex)
  }
  // the YAML file holding an intent's last example: that is where addExamples appends
  const intentFile = new Map<string, string>()
  for (const ex of before.examples) {
    const f = ex.source?.file
    if (f && !f.startsWith('(') && isYaml(f)) intentFile.set(ex.intent, f)
  }

  // The git options are checked before anything else is decided, so a misuse fails the same way whether or not
  // there is something to write, and a dry run reports what the real run would refuse.
  if (options.gitBranch)
    await checkGit(
      options.gitBranch,
      await watchedPaths(root, dataPaths, fallbackFile, before, dataFiles),
      root,
      path.resolve(root, options.cwd ?? '.'),
      options.env,
    )

  const planned = await plan(store, options.onProgress)
  const { settled } = planned
  // A name the data validator refuses (one reviewed before the rules, or the model's own label), or a text the
  // inline syntax cannot hold, would make the data fail validation or read back as something else: it waits, the
  // rest go.
  const candidates = planned.candidates.filter((c) => {
    const problem = unwritable(c)
    if (!problem) return true
    const reviews = c.reviewIds.length === 1 ? `review ${c.reviewIds[0]}` : `reviews ${c.reviewIds.join(', ')}`
    const until =
      problem.code === 'ERR_REVIEW_BAD_NAME'
        ? 'a later decision gives it a valid name (relabel it, or correct its entities) or skips or deletes it'
        : 'a later decision skips or deletes the message'
    warnings.push(
      `message ${c.prediction.id} (${reviews}) is not exported: ${problem.message}. ${problem.hint ?? ''} ` +
        `It stays unexported until ${until}.`,
    )
    return false
  })
  const toMark = [...settled]
  const duplicates: SkippedExample[] = []
  const conflicts: SkippedExample[] = []
  const accepted = new Map<string, Candidate>()
  const conflicted = new Set<string>()
  const show = (c: Candidate) => toNewExample(c.prediction, c.entities)
  const display = (c: Candidate) => {
    const e = show(c)
    return typeof e === 'string'
      ? e
      : Object.entries(e.fields ?? {})
          .map(([k, v]) => `${k}: ${v}`)
          .join(' | ')
  }
  for (const c of candidates) {
    const key = normalizeMessage(c.example)
    const have = existing.get(key)
    const skipped = (ex: SkippedExample['existing']): SkippedExample => ({
      predictionId: c.prediction.id,
      text: display(c),
      intent: c.intent,
      existing: ex,
    })
    if (have) {
      const ref = { intent: have.intent, ...(have.source ? { source: have.source } : {}) }
      if (have.intent === c.intent) {
        duplicates.push(skipped(ref))
        toMark.push(...c.reviewIds)
      } else conflicts.push(skipped(ref))
      continue
    }
    const earlier = accepted.get(key)
    if (earlier) {
      const ref = { intent: earlier.intent, predictionId: earlier.prediction.id }
      if (earlier.intent === c.intent) {
        duplicates.push(skipped(ref))
        toMark.push(...c.reviewIds)
      } else {
        // two reviewers disagree: neither label is written until one of them is changed
        conflicts.push(skipped(ref))
        if (!conflicted.has(key)) {
          conflicts.push({
            predictionId: earlier.prediction.id,
            text: display(earlier),
            intent: earlier.intent,
            existing: { intent: c.intent, predictionId: c.prediction.id },
          })
          conflicted.add(key)
        }
      }
      continue
    }
    accepted.set(key, c)
  }
  const writable = [...accepted.entries()].filter(([key]) => !conflicted.has(key)).map(([, c]) => c)

  // per file, per intent, in review order
  const byFile = new Map<string, Map<string, Candidate[]>>()
  for (const c of writable) {
    const file = intentFile.get(c.intent) ?? fallbackFile
    let intents = byFile.get(file)
    if (!intents) {
      intents = new Map()
      byFile.set(file, intents)
    }
    const list = intents.get(c.intent)
    if (list) list.push(c)
    else intents.set(c.intent, [c])
  }
  const files = [...byFile.keys()].sort()
  const written: ExportedExample[] = writable.map((c) => ({
    predictionId: c.prediction.id,
    text: display(c),
    intent: c.intent,
    file: intentFile.get(c.intent) ?? fallbackFile,
  }))

  // A rename cannot keep a hard link: the file's other names would keep the old content, unseen by whoever uses them.
  for (const file of files) {
    const st = await fsp.stat(path.join(root, file)).catch(() => undefined)
    if (st && st.nlink > 1) {
      warnings.push(
        `${file} has ${st.nlink - 1} other hard link${st.nlink === 2 ? '' : 's'}: the export writes a new file in its place, so ${st.nlink === 2 ? 'that name keeps' : 'those names keep'} the old content; share a data file with a symbolic link instead`,
      )
    }
  }

  const result = (diff: DataDiff, extra: Partial<ExportResult> = {}): ExportResult => ({
    written,
    duplicates,
    conflicts,
    marked: extra.marked ?? 0,
    files,
    diff,
    markdown: renderDiffMarkdown(diff),
    warnings,
    ...extra,
  })

  if (options.dryRun) {
    const after: TrainingData = { ...before, examples: [...before.examples] }
    for (const c of writable) {
      after.examples.push({ ...c.example, source: { file: intentFile.get(c.intent) ?? fallbackFile } })
    }
    const names = new Set(before.intents.map((i) => i.name))
    after.intents = [
      ...before.intents,
      ...[...new Set(writable.map((c) => c.intent))].filter((i) => !names.has(i)).map((name) => ({ name })),
    ]
    return result(diffTrainingData(before, after, { from: 'training data', to: 'with reviews (dry run)' }))
  }

  let branch: string | undefined
  // with nothing to write there is nothing to commit, so no branch is made
  if (options.gitBranch && files.length) {
    await git(['checkout', '-q', '-b', options.gitBranch], root, options.env)
    branch = options.gitBranch
  }

  // A new export file holds reviewed messages: it follows the data files' permission bits and owner, not the umask.
  const newFileLike =
    files.includes(fallbackFile) && !existsSync(path.join(root, fallbackFile))
      ? await exportFileAttributes(root, dataFiles)
      : undefined
  // existing files first, so a file created here does not shift the diff of the others
  for (const file of files) {
    for (const [intent, list] of byFile.get(file)!) {
      await addExamples(file, intent, list.map(show), { root, ...(newFileLike ? { newFileLike } : {}) })
    }
  }
  const afterPaths = outside && !loadPaths.includes(fallbackFile) && files.includes(fallbackFile)
  const after = await loadTrainingData(afterPaths ? [...loadPaths, fallbackFile] : loadPaths, { root })
  const diff = diffTrainingData(before, after, {
    from: branch ? 'HEAD' : 'training data',
    to: branch ? branch : 'with reviews',
  })

  let commit: string | undefined
  if (branch) {
    const n = written.length
    const message = `Add ${n} reviewed example${n === 1 ? '' : 's'} to the training data\n\n${renderDiffMarkdown(diff, { maxExamples: 50 })}`
    const paths = [...files, ...(await linkTargets(root, files))]
    await git(['add', '--', ...paths], root, options.env)
    await git(['commit', '-q', '-m', message, '--', ...paths], root, options.env)
    commit = (await git(['rev-parse', 'HEAD'], root, options.env)).trim()
  }

  // marked only after the files (and the commit) are written: a failed export leaves the reviews pending
  const at = (options.now ?? Date.now)()
  const marks = [...new Set([...toMark, ...writable.flatMap((c) => c.reviewIds)])]
  if (marks.length) await store.markReviewsExported(marks, at)
  return result(diff, { marked: marks.length, ...(branch ? { branch } : {}), ...(commit ? { commit } : {}) })
}
