/**
 * The catalog error a synchronous call throws, for asserting its code, position and hint; anything else fails the test.
 * @module
 */
import { IntentopsError } from '../../src/errors.js'

export function catchError(fn: () => unknown): IntentopsError {
  try {
    fn()
  } catch (err) {
    if (err instanceof IntentopsError) return err
    throw err
  }
  throw new Error('expected an IntentopsError')
}
