import { describe } from 'vitest'
import { testRegistryBackend } from '../testing.js'
import { createMemoryBackend } from './memory.js'

describe('memory backend', () => {
  testRegistryBackend(() => createMemoryBackend())
})
