/**
 * Unicode-aware tokenizer that keeps character offsets, so entities map back to the original text.
 * @module
 */

export interface Token {
  /** Normalised form (lowercased / accent-folded as configured). */
  text: string
  /** UTF-16 offset of the first character in the original text. */
  start: number
  /** UTF-16 offset one past the last character. */
  end: number
}

export interface TokenizerParams {
  /** Lowercase tokens. Default true. */
  lowercase: boolean
  /** Strip combining marks after NFD (é → e). Default false. */
  foldAccents: boolean
}

export const DEFAULT_TOKENIZER_PARAMS: Readonly<TokenizerParams> = Object.freeze({
  lowercase: true,
  foldAccents: false,
})

// Letters and digits, with inner apostrophes and combining marks kept in the word ("don't", "naïve" in NFD).
const TOKEN_RE = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:['’][\p{L}\p{N}\p{M}]+)*/gu
const COMBINING_RE = /\p{M}+/gu

/** Split text into word tokens with offsets into the original string. */
export function tokenize(text: string, params: TokenizerParams = DEFAULT_TOKENIZER_PARAMS): Token[] {
  const tokens: Token[] = []
  TOKEN_RE.lastIndex = 0
  for (let m = TOKEN_RE.exec(text); m !== null; m = TOKEN_RE.exec(text)) {
    tokens.push({ text: normalizeToken(m[0], params), start: m.index, end: m.index + m[0].length })
  }
  return tokens
}

export function normalizeToken(raw: string, params: TokenizerParams): string {
  let t = params.lowercase ? raw.toLowerCase() : raw
  if (params.foldAccents) t = t.normalize('NFD').replace(COMBINING_RE, '').normalize('NFC')
  return t
}
