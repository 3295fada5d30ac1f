/**
 * Validate a whole project in one pass: load every data file and must-pass file, collect loading problems, run
 * every check, and return one report. This is what `intentops data validate` prints.
 * @module
 */
import path from 'node:path'
import type { ValidationConfig } from '../config/schema.js'
import { compareDiagnostics, type Diagnostic, diagnosticFromError, errorDiagnostic } from './diagnostics.js'
import { type LoadedFile, loadTrainingDataDetailed } from './load.js'
import { configuredMustPassPaths, loadMustPassDetailed, validateMustPass } from './must-pass.js'
import { fsSource } from './source.js'
import type { MustPassCase, TrainingData } from './types.js'
import { validateTrainingData } from './validate.js'

export interface ValidateProjectOptions {
  /** Project root (absolute). */
  root: string
  /** Data paths relative to the root. */
  data: string[]
  /** The config's `tests` paths, relative to the root; one that does not exist is an error, unless it is the default. */
  tests?: string[]
  /** The config file that lists them, for that error's location (default: intentops.yml in the root). */
  configFile?: string
  validation: ValidationConfig
  fields?: Readonly<Record<string, number>>
  /**
   * The files are held-out data (`train --validation`), checked as `train` checks them: without the must-pass cases,
   * which are about the training data, and without the warnings about how many examples there are, since a held-out
   * set is small on purpose.
   */
  heldOut?: boolean
  onProgress?: (done: number, total: number) => void
}

export interface ValidationReport {
  /** True when there is no error (warnings allowed). */
  ok: boolean
  errorCount: number
  warningCount: number
  /** Sorted by file and position. */
  diagnostics: Diagnostic[]
  files: LoadedFile[]
  testFiles: string[]
  counts: { examples: number; intents: number; mustPass: number }
  data: TrainingData
  /** The must-pass cases that loaded. */
  cases: MustPassCase[]
}

/** Load, check and report a whole project: data files, must-pass files, every check. */
export async function validateProject(options: ValidateProjectOptions): Promise<ValidationReport> {
  const source = fsSource(options.root)
  const loaded = await loadTrainingDataDetailed(options.data, {
    source,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  })
  const diagnostics = [...loaded.diagnostics]
  // Training refuses data without examples; when loading already failed, that error says why.
  if (loaded.data.examples.length === 0 && !diagnostics.some((d) => d.severity === 'error')) {
    const detail = `read ${describeFiles(loaded.files.length ? loaded.files.map((f) => f.file) : options.data)}`
    diagnostics.push(
      errorDiagnostic(
        'ERR_DATA_NO_EXAMPLES',
        { what: options.heldOut ? 'held-out data (--validation)' : 'training data', detail },
        { file: options.data[0] ?? '.' },
        options.heldOut
          ? 'Give --validation files that hold labelled examples, or leave --validation out to choose the fallback threshold on the calibration folds of the training data alone.'
          : undefined,
      ),
    )
  }
  diagnostics.push(
    ...validateTrainingData(loaded.data, {
      validation: options.validation,
      fields: options.fields ?? {},
      heldOut: options.heldOut === true,
    }),
  )
  const configured = await configuredMustPassPaths(options.heldOut ? [] : (options.tests ?? []), {
    root: options.root,
    source,
    ...(options.configFile ? { configFile: options.configFile } : {}),
  })
  for (const err of configured.missing) {
    const d = diagnosticFromError(err, '')
    // Root-relative, as the data files' diagnostics are.
    const file = path.relative(options.root, d.location.file).split(path.sep).join('/')
    diagnostics.push({ ...d, location: { ...d.location, file } })
  }
  const tests = await loadMustPassDetailed(configured.paths, { source })
  diagnostics.push(...tests.diagnostics, ...validateMustPass(tests.cases, loaded.data))
  diagnostics.sort(compareDiagnostics)
  const errorCount = diagnostics.filter((d) => d.severity === 'error').length
  return {
    ok: errorCount === 0,
    errorCount,
    warningCount: diagnostics.length - errorCount,
    diagnostics,
    files: loaded.files,
    testFiles: tests.files,
    counts: {
      examples: loaded.data.examples.length,
      intents: new Set(loaded.data.examples.map((e) => e.intent)).size,
      mustPass: tests.cases.length,
    },
    data: loaded.data,
    cases: tests.cases,
  }
}

/** A list of paths for a message, the first few by name. */
export function describeFiles(files: readonly string[]): string {
  if (files.length === 0) return 'no files'
  const shown = files.slice(0, 5).join(', ')
  return files.length > 5 ? `${shown} and ${files.length - 5} more` : shown
}
