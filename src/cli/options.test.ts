import { describe, expect, it } from 'vitest'
import { intOption } from './options.js'

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
