/**
 * What a format parser returns for one file: the data, the problems, and the lookup files still to read.
 * @module
 */
import type { SourceLocation } from '../../errors.js'
import type { Diagnostic } from '../diagnostics.js'
import { emptyTrainingData, type LookupTable, type TrainingData } from '../types.js'

export interface ParsedDataFile {
  data: TrainingData
  diagnostics: Diagnostic[]
  /** Lookup tables whose `examples` name a file; `path` is as written, relative to the data file. */
  lookupFiles: Array<{ lookup: LookupTable; path: string; location: SourceLocation }>
  /** False for files that hold no NLU data (Rasa domain, story and rule files), which loaders skip quietly. */
  isNlu: boolean
}

/** A parse result with no data and no problems. */
export function emptyParsedFile(isNlu = true): ParsedDataFile {
  return { data: emptyTrainingData(), diagnostics: [], lookupFiles: [], isNlu }
}
