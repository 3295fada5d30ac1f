/**
 * Writing the best tuning trial back into `intentops.yml` with the `yaml` Document API, so comments, key order and
 * layout of the rest of the file survive.
 * @module
 */
import { Document, isMap, isSeq, parseDocument } from 'yaml'
import type { PipelineStepConfig } from '../config/schema.js'
import { createError } from '../errors.js'
import { pathExists, readTextFile, writeFileAtomic } from '../util/fs.js'
import { parseYaml } from '../util/yaml.js'
import { type Assignment, applyAssignments, findStep } from './tune-space.js'

/**
 * Set each assignment on its pipeline step in the config file at `file`. When the file has no explicit pipeline
 * (the default pipeline was tuned), `defaultPipeline` is written out with the values applied. A missing file is
 * created. Returns the new file text.
 */
export async function writeBestConfig(
  file: string,
  assignments: readonly Assignment[],
  defaultPipeline: readonly PipelineStepConfig[],
): Promise<string> {
  const text = (await pathExists(file)) ? await readTextFile(file, { maxBytes: 1024 * 1024 }) : ''
  // parseYaml reports syntax errors with positions; the plain document keeps comments for writing
  if (text.trim()) parseYaml(text, file)
  const doc: Document = text.trim() ? parseDocument(text) : new Document({})
  if (!isMap(doc.contents)) {
    throw createError(
      'ERR_CONFIG_INVALID',
      { detail: 'the config must be a mapping' },
      { location: { file, line: 1, column: 1 } },
    )
  }
  const node = doc.get('pipeline', true)
  const current = (isSeq(node) ? (node.toJSON() as PipelineStepConfig[]) : []) ?? []
  if (current.length === 0) {
    doc.set('pipeline', doc.createNode(applyAssignments(defaultPipeline, assignments)))
  } else {
    for (const a of assignments) {
      const i = findStep(current, a.step, a.param, { file })
      doc.setIn(['pipeline', i, a.param], a.value)
    }
  }
  const out = doc.toString({ lineWidth: 0 })
  await writeFileAtomic(file, out)
  return out
}
