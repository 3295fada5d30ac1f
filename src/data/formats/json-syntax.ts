/**
 * A strict JSON syntax check (RFC 8259, what `JSON.parse` and Python's `json` accept), with the offset of the first
 * problem, what it is and how to fix it. JSON data is read through the YAML parser for positions, and YAML would
 * let comments, trailing commas, single quotes and bare keys through: Rasa refuses such a file, so intentops does
 * too, before the YAML parser sees it.
 * @module
 */

export interface JsonSyntaxProblem {
  /** UTF-16 offset of the problem in the text. */
  offset: number
  detail: string
  hint: string
}

const WS = new Set([' ', '\t', '\n', '\r'])
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const WORD = /[A-Za-z_$][\w$]*/y

const HINT = {
  comment: 'JSON has no comments (Rasa refuses them too): delete the comment, or keep notes in a YAML data file.',
  trailing: 'Delete the comma after the last item: JSON allows no comma before a closing bracket.',
  quote: 'JSON strings and keys take double quotes: write "text", not \'text\'.',
  key: 'Write the key in double quotes: {"key": value}.',
  comma: 'Separate the items of a list or object with a comma.',
  colon: 'Write a colon between a key and its value: {"key": value}.',
  control: 'Write a line break in a string as \\n and a tab as \\t: JSON strings may not hold them raw.',
  escape: 'JSON knows the escapes \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; write a literal backslash as \\\\.',
  number:
    'Write numbers as JSON does: no leading +, no leading zeros, digits on both sides of a decimal point, no NaN or Infinity.',
  literal: 'JSON spells its constants true, false and null, in lower case; quote text: "text".',
  end: 'The file ends too early: close every string, list and object that was opened.',
  value: 'Write a value here: a "string", a number, true, false, null, a [list] or an {object}.',
  emptyItem: 'Delete the extra comma, or write the missing item.',
  extra: 'A JSON file holds one value: delete what follows it, or wrap the values in a list.',
  empty:
    'Write the data as one JSON value, e.g. {"rasa_nlu_data": {"common_examples": []}}; docs/data-format.md shows every format.',
} as const

/** The first reason `text` is not strict JSON, or undefined when it is. */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  // The engine's parser accepts the same language about ten times faster than the scan, which only a text with a
  // problem needs, for its position and words.
  try {
    JSON.parse(text)
    return undefined
  } catch (err) {
    return scanForProblem(text) ?? { offset: 0, detail: (err as Error).message, hint: HINT.value }
  }
}

/** The scan behind {@link jsonSyntaxProblem}: the first problem of `text` as strict JSON, or undefined. */
export function scanForProblem(text: string): JsonSyntaxProblem | undefined {
  let i = 0
  const n = text.length
  const problem = (offset: number, detail: string, hint: string): JsonSyntaxProblem => ({ offset, detail, hint })
  const skipWs = () => {
    while (i < n && WS.has(text[i]!)) i++
  }
  const describe = (at: number): string => {
    if (at >= n) return 'the end of the file'
    const cp = text.codePointAt(at)!
    return cp < 0x20
      ? `the control character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
      : `'${String.fromCodePoint(cp)}'`
  }
  /** A problem for something that is not what was expected here, named by what it looks like. */
  const unexpected = (expected: string, hint: string = HINT.comma): JsonSyntaxProblem => {
    if (i >= n) return problem(i, `the file ends where ${expected} should be`, HINT.end)
    const c = text[i]!
    const next = text[i + 1]
    if (c === '/' && (next === '/' || next === '*'))
      return problem(i, `a ${next === '/' ? '//' : '/* */'} comment`, HINT.comment)
    if (c === '#') return problem(i, 'a # comment', HINT.comment)
    if (c === "'") return problem(i, 'a string in single quotes', HINT.quote)
    return problem(i, `expected ${expected}, found ${describe(i)}`, hint)
  }

  /** Reads a string at `i` (which is `"`); returns a problem or undefined. */
  const readString = (): JsonSyntaxProblem | undefined => {
    const start = i
    i++
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return undefined
      }
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            return problem(i, 'a \\u escape without four hex digits', HINT.escape)
          i += 6
          continue
        }
        if (e === undefined || !ESCAPES.has(e)) {
          return problem(
            i,
            `an invalid escape \\${e === undefined ? '' : String.fromCodePoint(text.codePointAt(i + 1)!)} in a string`,
            HINT.escape,
          )
        }
        i += 2
        continue
      }
      if (c < 0x20) {
        const what = c === 0x0a || c === 0x0d ? 'a line break' : c === 0x09 ? 'a tab' : describe(i)
        return problem(i, `${what} inside a string (or a string whose closing quote is missing)`, HINT.control)
      }
      i++
    }
    return problem(start, 'a string that is never closed', HINT.end)
  }

  /** Reads a scalar (not an object or array) at `i`. */
  const readScalar = (expected: string): JsonSyntaxProblem | undefined => {
    const c = text[i]
    if (c === '"') return readString()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(text)
      const after = m ? i + m[0].length : i
      // A number must end where a delimiter starts: 01, 1., 1.e5 and -x are not JSON numbers.
      if (!m || (after < n && /[\w.+-]/.test(text[after]!))) {
        const token = /^[-+\w.]+/.exec(text.slice(i))?.[0] ?? c
        return problem(i, `"${token}" is not a JSON number`, HINT.number)
      }
      i = after
      return undefined
    }
    if (c === '+' || c === '.') {
      const token = /^[-+\w.]+/.exec(text.slice(i))?.[0] ?? c
      return problem(i, `"${token}" is not a JSON number`, HINT.number)
    }
    WORD.lastIndex = i
    const w = WORD.exec(text)
    if (w) {
      if (w[0] === 'true' || w[0] === 'false' || w[0] === 'null') {
        i += w[0].length
        return undefined
      }
      if (w[0] === 'NaN' || w[0] === 'Infinity') return problem(i, `${w[0]} is not a JSON number`, HINT.number)
      return problem(i, `"${w[0]}" is not a JSON value`, HINT.literal)
    }
    return unexpected(expected, HINT.value)
  }

  skipWs()
  if (i >= n) return problem(0, 'the file is empty', HINT.empty)
  // Open containers, innermost last: '{' or '['.
  const stack: string[] = []
  // What the loop expects next.
  let state: 'value' | 'key' | 'after' = 'value'
  // Whether the value or key expected next follows a comma, where a closing bracket means a trailing comma.
  let afterComma = false
  for (;;) {
    skipWs()
    if (state === 'value') {
      const c = text[i]
      if (c === '{' || c === '[') {
        stack.push(c)
        i++
        skipWs()
        const close = c === '{' ? '}' : ']'
        if (text[i] === close) {
          stack.pop()
          i++
          state = 'after'
        } else state = c === '{' ? 'key' : 'value'
        afterComma = false
        continue
      }
      if ((c === ']' || c === '}') && afterComma) {
        return problem(i, `a comma before '${c}' (a trailing comma)`, HINT.trailing)
      }
      if (c === ',') return problem(i, 'a comma where a value should be (an empty item)', HINT.emptyItem)
      if (c === ']' || c === '}') return problem(i, `expected a value, found '${c}'`, HINT.value)
      const p = readScalar('a value')
      if (p) return p
      state = 'after'
      afterComma = false
      continue
    }
    if (state === 'key') {
      const c = text[i]
      if (c === '}' && afterComma) return problem(i, "a comma before '}' (a trailing comma)", HINT.trailing)
      if (c === '"') {
        const p = readString()
        if (p) return p
      } else {
        WORD.lastIndex = i
        const w = i < n ? WORD.exec(text) : null
        if (w) return problem(i, `the key ${w[0]} is not in double quotes`, HINT.key)
        return unexpected('a key in double quotes', HINT.key)
      }
      skipWs()
      if (text[i] !== ':') {
        if (i >= n) return problem(i, "the file ends where ':' should be", HINT.end)
        const u = unexpected("':' after the key")
        return u.hint === HINT.comma ? { ...u, hint: HINT.colon } : u
      }
      i++
      state = 'value'
      afterComma = false
      continue
    }
    // after a value
    const top = stack[stack.length - 1]
    if (top === undefined) {
      if (i >= n) return undefined
      const u = unexpected('the end of the file')
      return u.hint === HINT.comma ? problem(i, `text after the end of the JSON value: ${describe(i)}`, HINT.extra) : u
    }
    const c = text[i]
    const close = top === '{' ? '}' : ']'
    if (c === ',') {
      i++
      state = top === '{' ? 'key' : 'value'
      afterComma = true
      continue
    }
    if (c === close) {
      stack.pop()
      i++
      continue
    }
    if (i >= n) return problem(i, `the file ends before the closing '${close}'`, HINT.end)
    return unexpected(`',' or '${close}'`)
  }
}

/** 1-based line and column of a UTF-16 offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let start = 0
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
    line++
    start = k + 1
  }
  return { line, column: offset - start + 1 }
}
