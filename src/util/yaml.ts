/**
 * YAML parsing that keeps positions, so every problem can point to file:line:column, and refuses alias bombs
 * and absurd nesting before they cost memory.
 * @module
 */
import {
  Composer,
  type CST,
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
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
  const at = (offset: number): SourceLocation => {
    const pos = lineCounter.linePos(offset)
    return { file, line: pos.line, column: pos.col }
  }
  // The parser keeps its own stack, but composing recurses once per level: measure the depth on the parsed
  // tokens first, so deep input is refused at its position instead of overflowing the call stack.
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text))
  const docTokens = tokens.filter((t): t is CST.Document => t.type === 'document')
  for (const t of docTokens) {
    const tooDeep = firstTooDeep(t)
    if (tooDeep !== undefined)
      throw createError('ERR_YAML_TOO_DEEP', { limit: MAX_YAML_DEPTH }, { location: at(tooDeep) })
  }
  const composer = new Composer({ uniqueKeys: true, keepSourceTokens: false })
  let doc: Document.Parsed | undefined
  for (const d of composer.compose(tokens, true, text.length)) {
    doc ??= d
    if (d !== doc) break
  }
  if (!doc) throw createError('ERR_YAML_SYNTAX', { detail: 'the file holds no YAML document' }, { location: { file } })
  const first = doc.errors[0]
  if (first) {
    const detail = first.message.split('\n')[0] ?? first.message
    throw createError('ERR_YAML_SYNTAX', { detail }, { location: at(first.pos[0]), hint: yamlHint(first.code) })
  }
  const second = docTokens[1]
  if (second) {
    const marker = second.start.find((s) => s.type === 'doc-start')
    throw createError(
      'ERR_YAML_SYNTAX',
      { detail: 'the file holds more than one YAML document; only one is allowed' },
      {
        location: at(marker?.offset ?? second.offset),
        hint: 'A line of "---" (or "..." followed by more text) starts another document: remove it, or move what follows into its own file.',
      },
    )
  }
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

/**
 * Offset of the first item nested deeper than MAX_YAML_DEPTH (the document's top node is level 0, its items level 1),
 * or undefined. Walks the parser's tokens with an explicit stack, so any depth is safe to measure.
 */
function firstTooDeep(doc: CST.Document): number | undefined {
  const stack: Array<{ token: CST.Token | null | undefined; depth: number }> = [{ token: doc.value, depth: 0 }]
  for (let top = stack.pop(); top; top = stack.pop()) {
    const { token, depth } = top
    if (!token || (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection'))
      continue
    const first = token.items[0]
    if (first && depth + 1 > MAX_YAML_DEPTH) {
      const offsets = [first.start[0]?.offset, first.key?.offset, first.sep?.[0]?.offset, first.value?.offset]
      const found = offsets.filter((o): o is number => o !== undefined)
      return found.length > 0 ? Math.min(...found) : token.offset
    }
    // reversed, so the stack hands items back in file order and the first deep spot is the one reported
    for (let i = token.items.length - 1; i >= 0; i--) {
      const item = token.items[i]!
      stack.push({ token: item.value, depth: depth + 1 }, { token: item.key, depth: depth + 1 })
    }
  }
  return undefined
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
