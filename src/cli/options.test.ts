import { describe, expect, it } from 'vitest'
import { floatOption, intOption } from './options.js'

describe('intOption', () => {
  it('reads decimal integers in range', async () => {
    expect(await intOption('-n', '20', 1)).toBe(20)
    expect(await intOption('--seed', '4294967295', 0, 0xffffffff)).toBe(0xffffffff)
    expect(await intOption('-n', undefined, 1)).toBeUndefined()
  })

  it.each([
    ['abc', 1, undefined, '-n must be an integer ≥ 1, got "abc"'],
    ['0', 1, undefined, '-n must be an integer ≥ 1, got "0"'],
    ['-1', 1, undefined, '≥ 1'],
    ['0x10', 0, undefined, '"0x10"'],
    ['1e3', 0, undefined, '"1e3"'],
    [' 5', 0, undefined, '" 5"'],
    ['', 0, undefined, '""'],
    ['9007199254740993', 0, undefined, '≥ 0'],
    ['-3', 0, 0xffffffff, '-n must be an integer in [0, 4294967295], got "-3"'],
    ['65536', 0, 65535, 'in [0, 65535]'],
  ])('refuses %j (min %d, max %s) with a usage error', async (value, min, max, message) => {
    await expect(intOption('-n', value, min, max)).rejects.toMatchObject({
      code: 'ERR_CLI_USAGE',
      message: expect.stringContaining(message),
    })
  })
})

describe('floatOption', () => {
  it('reads plain decimals in range', async () => {
    expect(await floatOption('--alpha', '0.05', { min: 0, max: 1, open: true })).toBe(0.05)
    expect(await floatOption('--alpha', '.5', { min: 0, max: 1, open: true })).toBe(0.5)
    expect(await floatOption('--h', '0', { min: 0 })).toBe(0)
    expect(await floatOption('--h', '2.', { min: 0 })).toBe(2)
  })

  it.each([
    ['5e-2', { min: 0, max: 1, open: true }, '--x must be a number in (0, 1), got "5e-2"'],
    ['0x1', { min: 0, max: 1, open: true }, '"0x1"'],
    ['1', { min: 0, max: 1, open: true }, 'in (0, 1)'],
    ['0', { min: 0, max: 1, open: true }, 'in (0, 1)'],
    ['Infinity', { min: 0 }, '--x must be a number ≥ 0, got "Infinity"'],
    [' 1', { min: 0 }, '" 1"'],
    ['', { min: 0 }, '""'],
    ['-0.5', { min: 0 }, '≥ 0'],
    ['3', { min: 0, max: 2 }, 'in [0, 2]'],
  ])('refuses %j (%j) with a usage error', async (value, range, message) => {
    await expect(floatOption('--x', value, range)).rejects.toMatchObject({
      code: 'ERR_CLI_USAGE',
      message: expect.stringContaining(message),
    })
  })
})
