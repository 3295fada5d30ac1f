/**
 * One open-loop run (`bench/lib/open-loop.ts`) in a process of its own, for `bench/serve.ts`: the generator then has
 * a small heap and an event loop that nothing else shares (the benchmark's own, which holds the models, the
 * registry and the swap checks, ran late by up to ~35 ms during these runs; this one by ~10). Options come as one
 * JSON argument, the bodies from a file (one a line); the result is printed as one JSON line.
 *
 *   npx tsx bench/open-loop-run.ts '{"host":"127.0.0.1","port":3000,"path":"/v1/parse","bodiesFile":"b.txt","connections":50,"rate":5000,"seconds":5}'
 * @module
 */
import { readFileSync } from 'node:fs'
import { type OpenLoopOptions, openLoop } from './lib/open-loop.js'

const o = JSON.parse(process.argv[2] ?? '{}') as Omit<OpenLoopOptions, 'bodies'> & { bodiesFile: string }
const bodies = readFileSync(o.bodiesFile, 'utf8')
  .split('\n')
  .filter((l) => l !== '')
const result = await openLoop({ ...o, bodies })
process.stdout.write(`${JSON.stringify(result)}\n`)
