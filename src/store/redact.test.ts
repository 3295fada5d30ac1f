import { describe, expect, it } from 'vitest'
import { MAX_CHECKED_PATTERNS } from '../util/regex-safety.js'
import { createRedactor, longestRedactedText, type RedactionRule, redactionRuleIssues } from './redact.js'

/** The old default e-mail rule: searched from each character of a long run, quadratic; fine on 15,000 characters. */
const EMAIL = '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}'
const serve = (maxTextLength: number, bodyLimitBytes = 1_048_576) => ({ maxTextLength, bodyLimitBytes })

describe('longestRedactedText', () => {
  it('counts characters as serve.maxTextLength does, and code units at twice that, both within the body limit', () => {
    expect(longestRedactedText(serve(10_000))).toEqual({ characters: 10_000, units: 20_000 })
    expect(longestRedactedText(serve(100_000, 150_000))).toEqual({ characters: 100_000, units: 150_000 })
    expect(longestRedactedText(serve(100_000, 50_000))).toEqual({ characters: 50_000, units: 50_000 })
    // What a text of emoji is to a rule without the `u` flag.
    const emoji = '😀'.repeat(10_000)
    expect([...emoji].length).toBe(10_000)
    expect(emoji.length).toBe(longestRedactedText(serve(10_000)).units)
  })
})

describe('redactionRuleIssues', () => {
  it('judges a rule without the `u` flag on code units, and states the fix in characters', () => {
    const rule: RedactionRule = { pattern: EMAIL, replacement: '[email]' }
    // 10,000 emoji are 20,000 code units, over what the rule passes on.
    const [issue, ...rest] = redactionRuleIssues([rule], serve(10_000))
    expect(rest).toEqual([])
    expect(issue).toMatchObject({ index: 0, kind: 'rule' })
    expect(issue!.message).toContain(
      `/${EMAIL}/ can take too long on the texts of up to 10,000 characters the server can log, which it reads as up to 20,000 code units: without the \`u\` flag a rule reads a character past U+FFFF, such as an emoji, as two (`,
    )
    expect(issue!.message).toContain('over the 2.5×10^8 allowed on 20,000 UTF-16 code units;')
    expect(issue!.message).toContain(
      'it passes on texts of up to 7,500 characters, 15,000 code units: set `serve.maxTextLength` to 7,500 or less, give the rule the `u` flag, or rewrite it',
    )
    // Its advice passes; so does the `u` flag, which reads an emoji as one; and a body limit bounds code units too.
    expect(redactionRuleIssues([rule], serve(7_500))).toEqual([])
    expect(redactionRuleIssues([{ ...rule, flags: 'u' }], serve(10_000))).toEqual([])
    expect(redactionRuleIssues([rule], serve(10_000, 15_000))).toEqual([])
    // With `u`, characters are what counts: the same rule fails past the same length in characters.
    const [byCharacter] = redactionRuleIssues([{ ...rule, flags: 'iu' }], serve(20_000))
    expect(byCharacter?.message).toContain(
      'can take too long on the texts of up to 20,000 characters the server can log (',
    )
    expect(byCharacter?.message).toContain('over the 2.5×10^8 allowed on 20,000 characters;')
    // A lookbehind in front lets a search go through each run once: the rewrite the message asks for.
    expect(redactionRuleIssues([{ ...rule, pattern: `(?<![A-Za-z0-9._%+-])${EMAIL}` }], serve(1_000_000))).toEqual([])
  })

  it('refuses a rule one attempt of which is quadratic, on the longest text the server takes', () => {
    const rule: RedactionRule = { pattern: '^\\d+\\d+x', flags: 'u', replacement: '[n]' }
    expect(redactionRuleIssues([rule], serve(10_000))).toEqual([])
    const [issue, ...rest] = redactionRuleIssues([rule], serve(1_048_576))
    expect(rest).toEqual([])
    expect(issue).toMatchObject({ index: 0, kind: 'rule' })
    expect(issue!.message).toContain('can take too long on the texts of up to 1,048,576 characters the server can log')
    expect(issue!.message).toContain('"0" + "0".repeat(1048574) + "a" takes about 5.5×10^11 steps')
    expect(issue!.message).toContain('write `\\d+\\d+` as `\\d{2,}`')
    expect(issue!.message).toContain('it passes on texts of up to 22,000 characters')
    // One attempt splits the run: a lookbehind in front would change nothing, and the message does not advise one.
    expect(issue!.message).toMatch(/or rewrite it as above, so that it can match a text one way only$/)
    expect(issue!.message).not.toContain('lookbehind')
    expect(redactionRuleIssues([{ ...rule, pattern: '(?<!\\d)^\\d+\\d+x' }], serve(1_048_576))).toHaveLength(1)
    expect(redactionRuleIssues([{ ...rule, pattern: '^\\d{2,}x' }], serve(1_048_576))).toEqual([])
  })

  it('judges a rule written twice once, and stops past what one check may judge', () => {
    // Texts short enough that each rule is judged on 10,000 code units alone.
    const short = serve(5_000)
    const rule = { pattern: '\\b\\d{6}\\b', replacement: '[id]' }
    expect(
      redactionRuleIssues(
        Array.from({ length: 2 * MAX_CHECKED_PATTERNS }, () => rule),
        short,
      ),
    ).toEqual([])
    const distinct = Array.from({ length: MAX_CHECKED_PATTERNS + 1 }, (_, i) => ({
      pattern: `\\b\\d{6}-${i}\\b`,
      replacement: '[id]',
    }))
    expect(redactionRuleIssues(distinct, short)).toEqual([
      {
        index: MAX_CHECKED_PATTERNS,
        kind: 'limit',
        message: 'it has checked 1,000 patterns, as many as one check may',
      },
    ])
  })
})

describe('createRedactor', () => {
  it('says a rule was judged on code units, or on characters with the `u` flag', () => {
    const unsafe = (flags?: string) => {
      try {
        createRedactor([{ pattern: '\\d?\\d?\\d?\\d+x', replacement: '[n]', ...(flags ? { flags } : {}) }])
      } catch (err) {
        return err as Error & { code: string }
      }
      return expect.fail('the rule was taken')
    }
    expect(unsafe()).toMatchObject({ code: 'ERR_STORE_REDACTION_UNSAFE' })
    expect(unsafe().message).toContain('allowed on 10,000 UTF-16 code units;')
    expect(unsafe('u').message).toContain('allowed on 10,000 characters;')
  })

  it('keeps its rules, for the server to judge on its longest text', () => {
    const rules = [{ pattern: '\\d{6}', replacement: '[id]', flags: 'i' }]
    const redact = createRedactor(rules)
    expect(redact('id 123456')).toBe('id [id]')
    expect(redact.rules).toEqual(rules)
    expect(redact.rules).not.toBe(rules)
    expect(createRedactor([]).rules).toEqual([])
  })
})
