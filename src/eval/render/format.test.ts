import { describe, expect, it } from 'vitest'
import { htmlText, mdCode, mdText, percent, signed } from './format.js'

describe('report formatting', () => {
  it('signs differences, and prints a change that rounds to zero without a sign', () => {
    expect(signed(0.0123)).toBe('+0.012')
    expect(signed(-0.0123)).toBe('-0.012')
    expect(signed(-0.0001)).toBe('0.000')
    expect(signed(0)).toBe('0.000')
    expect(signed(-0.19, 2)).toBe('-0.19')
    expect(percent(0.0264)).toBe('2.6 %')
  })

  it('keeps Markdown cells on one line and inert', () => {
    expect(mdText('a | b\n<script>*x*</script>')).toBe('a \\| b &lt;script&gt;\\*x\\*&lt;/script&gt;')
    expect(mdText('x'.repeat(200), 10)).toBe(`${'x'.repeat(9)}…`)
    expect(mdCode('intent_a|b')).toBe('`intent_a\\|b`')
    expect(mdCode('a`b')).toBe('`` a`b ``')
    expect(htmlText(`<a href="x">'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&lt;/a&gt;')
  })
})
