/**
 * Text search over the prediction log, with one meaning on both backends. A message's searchable text is its words:
 * runs of letters and digits, lower-cased, accents removed, joined by single spaces behind a leading space. A query
 * is split the same way; every word must start a word of the message, and words in double quotes must follow each
 * other in that order (the last one of a quoted group is a prefix too). SQLite answers from an FTS5 index over those
 * words, PostgreSQL from a trigram index that serves the equivalent `LIKE '% word%'`.
 * @module
 */
import { createError } from '../errors.js'
import { isAscii } from '../util/text.js'

const WORD = /[\p{L}\p{N}]+/gu
const MARKS = /\p{M}+/gu
// On ASCII text NFKD changes nothing, there are no marks, and the letters and digits are exactly these: the same
// words for a third of the CPU (~1.7 against ~5 µs a message), which the log's writer spends on every record.
const ASCII_WORD = /[a-z0-9]+/g

/** The words of a text as search sees them: lower-cased, accents removed, letters and digits only. */
export function searchWords(text: string): string[] {
  if (isAscii(text)) return text.toLowerCase().match(ASCII_WORD) ?? []
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase().match(WORD) ?? []
}

/**
 * The stored searchable text of a message: its words (text and field values) behind a leading space, so that a
 * word start is always a space followed by the word.
 */
export function searchText(text: string, fields?: Record<string, string>): string {
  const words = fields ? [text, ...Object.values(fields)].flatMap(searchWords) : searchWords(text)
  return words.length === 0 ? '' : ` ${words.join(' ')}`
}

/**
 * A query as phrases of words, all of which must match. Quoted groups are phrases, and so are words joined by
 * punctuation (`e-mail`, `money_back`); every other word is a phrase of its own. An unclosed quote runs to the end.
 */
export function parseSearch(query: string): string[][] {
  const phrases: string[][] = []
  const parts = query.split('"')
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      const words = searchWords(part)
      if (words.length > 0) phrases.push(words)
    } else {
      for (const chunk of part.split(/\s+/)) {
        const joined = searchWords(chunk)
        if (joined.length > 0) phrases.push(joined)
      }
    }
  })
  if (phrases.length === 0) {
    throw createError('ERR_INVALID_ARGUMENT', {
      detail: `search "${query.slice(0, 100)}" has no words: search for letters or digits (punctuation is ignored)`,
    })
  }
  return phrases
}

/** The FTS5 query of parsed phrases: each a quoted phrase whose last word is a prefix, all of them required. */
export function ftsQuery(phrases: readonly string[][]): string {
  return phrases.map((p) => `"${p.join(' ')}" *`).join(' AND ')
}

/** The `LIKE` pattern of one phrase over `searchText` (words hold no wildcard or escape characters). */
export function likePattern(phrase: readonly string[]): string {
  return `% ${phrase.join(' ')}%`
}
