import { defineConfig } from 'vitest/config'

// The PostgreSQL tests always run: they use $DATABASE_URL, or the machine's local server (trust auth, database
// `test`), the same default `.ci/run` sets. A server that is down fails those tests; it never skips them.
process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/test'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
