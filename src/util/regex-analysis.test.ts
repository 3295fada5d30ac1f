import { describe, expect, it } from 'vitest'
import { estimateWork } from './regex-analysis.js'

const n = 10_000
const work = (pattern: string, search = true) => estimateWork(pattern, 'u', { search }, n)

describe('estimateWork', () => {
  it('counts the n²/2 steps of a search along a run that one repetition takes and the end refuses', () => {
    const w = work('\\d+x')!
    expect(w.ways).toBe(1)
    expect(w.steps).toBeGreaterThanOrEqual((n * (n - 1)) / 2)
    expect(w.steps).toBeLessThan(0.51 * n * n)
    expect(w.attack).toEqual({ prefix: '0', pump: '0', suffix: 'a' })
  })

  it('multiplies that by the ways an optional item beside the repetition adds', () => {
    const one = work('\\d+x')!.steps
    expect(work('\\d?\\d+x')!.steps / one).toBeCloseTo(2, 1)
    expect(work('\\d?\\d?\\d+x')!.steps / one).toBeCloseTo(4, 1)
    expect(work('\\d?\\d?\\d+x')!.culprit).toBe('\\d?\\d?\\d+')
  })

  it('counts the ways of optional items in a row, which no repetition makes', () => {
    // A run of k a's after five a? and before five a: every subset of the a? that takes some of them.
    const w = work(`${'a?'.repeat(5)}${'a'.repeat(5)}`)!
    expect(w.ways).toBe(31)
    // Each attempt, at every start, costs the same bounded number of steps.
    expect(w.steps).toBeLessThan(200 * n)
    expect(w.attack.prefix).toBe('')
    expect(w.attack.pump).toMatch(/^a+[^a]$/)
  })

  it('makes one attempt of a pattern anchored at the start, or searched with the sticky flag', () => {
    expect(work(`^${'a?'.repeat(5)}${'a'.repeat(5)}`)!.steps).toBeLessThan(200)
    expect(work('\\d?\\d?\\d+x', false)!.steps).toBeLessThan(5 * n)
  })

  it('runs a counted repetition as counted, so an attempt ends after its count', () => {
    expect(work('(?:\\d[ -]?){12,18}\\d')!.steps).toBeLessThan(100 * n)
    expect(work('[a-z]{1,256}\\.')!.steps).toBeLessThan(300 * n)
  })

  it('adds the steps of a lookahead at every attempt', () => {
    // `[A-Z]*` runs to the end of a long run from each start: n²/2, where the pattern alone takes 7n.
    expect(work('[A-Z0-9]{6}')!.steps).toBeLessThan(10 * n)
    expect(work('(?=[A-Z]*\\d)[A-Z0-9]{6}')!.steps).toBeGreaterThan((n * (n - 1)) / 2)
  })

  it('keeps a long-lived part that no attempt can start in out of the n² of the search', () => {
    // Three ways to group a run of digits, but an attempt starts only after a character that is not one: the n² of
    // the search is paid once per way of the groups, not three times.
    const grouped = '(?:^|[^\\w])(?:\\d{1,3}(?:[ ,.]?\\d{3})*)(?:[^\\w]|$)'
    expect(work(grouped)!.ways).toBe(3)
    expect(work(grouped)!.steps).toBeLessThan(0.6 * n * n)
    expect(work('\\d{1,3}(?:[ ,.]?\\d{3})*!')!.steps).toBeGreaterThan(1.4 * n * n)
  })

  it('starts a run once where a lookbehind in front refuses every character of it', () => {
    // After a character of the run, the lookbehind fails at once: only the attempt at the run's start goes through it.
    for (const guarded of [
      '(?<![a-z])[a-z]+@',
      '(?<![a-z0-9])[a-z]+@',
      '(?<=\\s)[a-z]+x',
      '(?<!a|b)[ab]+x',
      '(?<!a)(?<!b)[ab]+x',
      '(?=[a-z])(?<![a-z])(?:[a-z]+@)',
      '(?:(?<![ab])a+x|(?<![ab])b+y)',
      // Every later run of the pattern is refused too.
      '(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}',
      '(?<!\\d)\\d+\\.\\d+',
      // `\b` fails between two word characters, so inside a run of them.
      '\\b[a-z]+@',
      '\\b\\w+@',
      '\\b\\d+\\.\\d+',
      '(?<![.])\\b[a-z]+@',
      // And between two others.
      '\\b[.,]+@',
    ]) {
      expect(work(guarded)!.steps, guarded).toBeLessThan(20 * n)
    }
  })

  it('keeps the n² of the search where a lookbehind lets an attempt start inside a run', () => {
    for (const near of [
      // The run takes a character the lookbehind lets through: a digit, an `a`.
      '(?<![a-z])[a-z0-9]+@',
      '(?<=[\\sa])[a-z]+x',
      // A run after the first takes any character.
      '(?<![a-z])[a-z]+-.*x',
      // Not clearly covered: one way into the pattern passes no lookbehind, or one of more than a character, or a
      // lookahead; or something takes a character before it.
      '(?:(?<!a)a+x|b+y)',
      '(?<![a-z]{2})[a-z]+@',
      '(?![a-z])[a-z]+@',
      'x?(?<![a-z])[a-z]+@',
      // A run of word characters and others, where every character is a boundary, even with a lookbehind that refuses
      // the others; `\B`, which passes inside a run; `\b` on one way in only.
      '\\b[a-z.]+@',
      '(?<![.])\\b[a-z.]+@',
      '\\B\\w+@',
      '(?:\\b|x)[a-z]+@',
    ]) {
      expect(work(near)!.steps, near).toBeGreaterThan((n * (n - 1)) / 2)
    }
  })

  it('counts the paths of a single attempt that is polynomial by itself on the text that shows it', () => {
    // n - 1 digits, then a letter: after ℓ digits the two runs split them ℓ ways, n²/2 steps in all.
    const w = work('^\\d+\\d+x')
    expect(w.steps).toBe((n * (n - 1)) / 2)
    expect(w.ways).toBe(n - 1)
    expect(w.culprit).toBe('\\d+\\d+')
    expect(w.attack).toEqual({ prefix: '0', pump: '0', suffix: 'a' })
    // An optional digit beside them takes a digit of the run or not: twice the splits; two of them, four times.
    expect(work('^\\d?\\d+\\d+x').steps / w.steps).toBeCloseTo(2, 2)
    expect(work('^\\d+\\d+\\d?x').steps / w.steps).toBeCloseTo(2, 2)
    expect(work('^\\d?\\d?\\d+\\d+x').steps / w.steps).toBeCloseTo(4, 2)
    // A required digit between them takes one split away, not half of them.
    expect(work('^\\d+\\d\\d+x').steps / w.steps).toBeCloseTo(1, 2)
    // Found again from each start of a search where no anchor holds it to one.
    expect(work('a\\d+\\d+x').steps / w.steps).toBeCloseTo(1, 2)
    // Split between three runs, as the degree the analysis finds without a search: n³/6, reckoned from a shorter text.
    expect(work('\\d+\\d+\\d+x', false).steps / ((n * (n - 1) * (n - 2)) / 6)).toBeCloseTo(1, 3)
  })

  it('drops paths that can end the match, as the search stops there', () => {
    expect(work('\\d+')!.ways).toBe(0)
  })
})
