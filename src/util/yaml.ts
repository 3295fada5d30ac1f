/**
 * YAML parsing that keeps positions, so every problem can point to file:line:column, and refuses alias bombs
 * and absurd nesting before they cost memory.
 * @module
 */
import {
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml'
import { createError, type SourceLocation } from '../errors.js'

export const MAX_YAML_DEPTH = 64
/** Alias expansions allowed per document; `yaml` counts the nodes each alias would copy. */
export const MAX_YAML_ALIAS_COUNT = 1000

export interface ParsedYaml {
  file: string
  doc: Document.Parsed
  lineCounter: LineCounter
  /** The plain JS value of the document. */
  value: unknown
}

/** Parse one YAML document. Syntax errors, alias bombs and deep nesting become IntentopsErrors with positions. */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false })
  const first = doc.errors[0]
  if (first) {
    const pos = lineCounter.linePos(first.pos[0])
    const detail = first.message.split('\n')[0] ?? first.message
    throw createError(
      'ERR_YAML_SYNTAX',
      { detail },
      { location: { file, line: pos.line, column: pos.col }, hint: yamlHint(first.code) },
    )
  }
  checkDepth(doc.contents, 0, file, lineCounter)
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT })
  } catch (err) {
    const msg = (err as Error).message
    if (/alias/i.test(msg)) {
      // point at the first alias, where the expansion starts
      let at: SourceLocation = { file }
      visit(doc, {
        Alias(_key, node) {
          at = nodeLocation(node as unknown as Node, file, lineCounter)
          return visit.BREAK
        },
      })
      throw createError('ERR_YAML_ALIAS_BOMB', { detail: msg }, { location: at })
    }
    throw createError('ERR_YAML_SYNTAX', { detail: msg }, { location: { file } })
  }
  return { file, doc, lineCounter, value }
}

function yamlHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'Each key may appear once in a mapping; remove or rename the duplicate.'
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'Check the indentation: list items and keys at one level must line up.'
    case 'TAB_AS_INDENT':
      return 'YAML does not allow tabs for indentation; use spaces.'
    default:
      return 'Check the indentation and quoting here; quote text that contains ": " or starts with "[", "{", "*" or "&".'
  }
}

function checkDepth(node: unknown, depth: number, file: string, lc: LineCounter): void {
  if (depth > MAX_YAML_DEPTH) {
    const loc = nodeLocation(node as Node, file, lc)
    throw createError('ERR_YAML_TOO_DEEP', { limit: MAX_YAML_DEPTH }, { location: loc })
  }
  if (isMap(node)) for (const item of node.items) checkDepth(item.value, depth + 1, file, lc)
  else if (isSeq(node)) for (const item of node.items) checkDepth(item, depth + 1, file, lc)
}

/** Location of a node's start, 1-based. */
export function nodeLocation(node: Node | null | undefined, file: string, lc: LineCounter): SourceLocation {
  if (!node || !isNode(node) || !node.range) return { file }
  const pos = lc.linePos(node.range[0])
  return { file, line: pos.line, column: pos.col }
}

/**
 * Find the node at a path of keys / indexes. When the path runs out of the tree, returns the deepest node found,
 * so an error about a missing key points at the mapping that should hold it.
 */
export function nodeAtPath(doc: Document.Parsed, pathParts: ReadonlyArray<string | number>): Node | null {
  let node: unknown = doc.contents
  for (const part of pathParts) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part))
      if (!pair) return node as Node
      node = pair.value ?? pair.key
    } else if (isSeq(node)) {
      const item = node.items[Number(part)]
      if (item === undefined) return node as Node
      node = item
    } else {
      return (node as Node) ?? null
    }
  }
  return (node as Node) ?? null
}

/** Location of the key (not the value) for a path ending in a mapping key: best for "unknown key" errors. */
export function keyLocation(
  doc: Document.Parsed,
  pathParts: ReadonlyArray<string | number>,
  file: string,
  lc: LineCounter,
): SourceLocation {
  const parent = nodeAtPath(doc, pathParts.slice(0, -1))
  const last = pathParts[pathParts.length - 1]
  if (isMap(parent) && last !== undefined) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last))
    if (pair && isNode(pair.key)) return nodeLocation(pair.key as Node, file, lc)
  }
  return nodeLocation(nodeAtPath(doc, pathParts), file, lc)
}

/** Location of the node at a JSON pointer (`/a/0/b`), as TypeBox reports error paths. */
export function pointerLocation(parsed: ParsedYaml, pointer: string): SourceLocation {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  return nodeLocation(nodeAtPath(parsed.doc, parts), parsed.file, parsed.lineCounter)
}
