/**
 * JSON read through the YAML parser (JSON is a subset of YAML 1.2), so every value keeps its line and column. The
 * text is checked as strict JSON first, since YAML would accept comments, trailing commas and bare keys.
 * @module
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml'
import { isIntentopsError, type SourceLocation } from '../../errors.js'
import { nodeLocation, type ParsedYaml, parseYaml } from '../../util/yaml.js'
import { type Diagnostic, diagnosticFromError, errorDiagnostic } from '../diagnostics.js'
import { jsonSyntaxProblem, lineColumn } from './json-syntax.js'

export interface JsonDoc {
  parsed: ParsedYaml
  value: unknown
  /** Location of the value at a path of keys and indexes. */
  at(path: ReadonlyArray<string | number>): SourceLocation
}

/** Parse strict JSON keeping positions; a syntax error becomes an ERR_DATA_SYNTAX diagnostic at its line and column. */
export function parseJsonDoc(text: string, file: string, diags: Diagnostic[]): JsonDoc | undefined {
  const problem = jsonSyntaxProblem(text)
  if (problem) {
    const at = { file, ...lineColumn(text, problem.offset) }
    diags.push(errorDiagnostic('ERR_DATA_SYNTAX', { format: 'JSON', detail: problem.detail }, at, problem.hint))
    return undefined
  }
  let parsed: ParsedYaml
  try {
    parsed = parseYaml(text, file)
  } catch (err) {
    if (isIntentopsError(err) && err.code === 'ERR_YAML_SYNTAX') {
      diags.push(
        errorDiagnostic(
          'ERR_DATA_SYNTAX',
          { format: 'JSON', detail: String(err.params.detail) },
          err.location ?? { file },
          // What is left after the strict check is a repeated key, whose YAML hint fits JSON as well.
          err.hint,
        ),
      )
    } else diags.push(diagnosticFromError(err, file))
    return undefined
  }
  return {
    parsed,
    value: parsed.value,
    at(path) {
      let node: unknown = parsed.doc.contents
      for (const part of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part))
          if (!pair) break
          node = pair.value
        } else if (isSeq(node)) {
          const item = node.items[Number(part)]
          if (item === undefined) break
          node = item
        } else break
      }
      return nodeLocation(node as Node, file, parsed.lineCounter)
    },
  }
}

/** A plain object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}
