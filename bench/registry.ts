/**
 * Registry benchmark: publish, resolve and promotion pick-up latency on the local-directory backend and on S3
 * (a real s3rver process on loopback), side by side in one run. Prints a table and writes
 * bench/results/registry.json.
 *
 *   npx tsx bench/registry.ts [--versions 20] [--model-mb 2]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { defaultConfig } from '../src/config/defaults.js'
import type { RegistryBackend } from '../src/registry/backend.js'
import { createFsBackend } from '../src/registry/backends/fs.js'
import { createS3Backend } from '../src/registry/backends/s3.js'
import { ModelRegistry } from '../src/registry/registry.js'
import { watchAlias } from '../src/registry/watch.js'
import { evalSummary, modelBytes, testSigner } from '../test/helpers/registry.js'
import { startS3rver } from '../test/helpers/s3rver.js'

const { values } = parseArgs({
  options: { versions: { type: 'string', default: '20' }, 'model-mb': { type: 'string', default: '2' } },
})
const versions = Number(values.versions)
const modelSize = Math.round(Number(values['model-mb']) * 1024 * 1024)
const gates = defaultConfig().gates
const key = testSigner()

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN
}
const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs) })
const round = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 10) / 10]))

async function measure(label: string, open: () => RegistryBackend, pollMs: number) {
  const registry = () =>
    new ModelRegistry(open(), { trust: { trustedKeys: [key.publicKey], allowUnsigned: false }, signer: key.signer })
  const writer = registry()
  const publish: number[] = []
  for (let i = 1; i <= versions; i++) {
    const t = performance.now()
    await writer.publish({
      name: 'bench',
      bytes: modelBytes(`v${i}`, modelSize),
      author: 'bench',
      eval: evalSummary(0.5 + i / 1000),
    })
    publish.push(performance.now() - t)
  }
  await writer.promote({ name: 'bench', version: 1, alias: 'production', policy: gates, actor: 'bench' })

  const reader = registry()
  const resolve: number[] = []
  for (let i = 0; i < 30; i++) {
    const t = performance.now()
    await reader.resolveAlias('bench', 'production')
    resolve.push(performance.now() - t)
  }

  // Promotion pick-up: from the promote call to the watcher reporting the new holder's verified model.
  const ac = new AbortController()
  const pickup: number[] = []
  let promotedAt = 0
  let resolveNext: (() => void) | undefined
  let baseline = true
  const ready = new Promise<void>((r) => (resolveNext = r))
  const watching = (async () => {
    for await (const change of watchAlias(reader, 'bench', 'production', { signal: ac.signal, intervalMs: pollMs })) {
      if (change.type !== 'change') continue
      // The first report is the holder when the watch started.
      if (baseline) baseline = false
      else pickup.push(performance.now() - promotedAt)
      resolveNext?.()
    }
  })()
  await ready
  for (let v = 2; v <= Math.min(versions, 11); v++) {
    const next = new Promise<void>((r) => (resolveNext = r))
    promotedAt = performance.now()
    await writer.promote({ name: 'bench', version: v, alias: 'production', policy: gates, actor: 'bench' })
    await next
  }
  ac.abort()
  await watching

  const concurrent = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      registry().publish({ name: 'bench', bytes: modelBytes(`c${i}`, 64 * 1024), author: 'bench' }),
    ),
  )
  const concurrentMs = performance.now() - concurrent
  await writer.backend.close?.()
  await reader.backend.close?.()
  return {
    backend: label,
    modelBytes: modelSize,
    publishMs: round(stats(publish)),
    resolveAliasMs: round(stats(resolve)),
    watchPollMs: pollMs,
    promotionPickupMs: round(stats(pickup)),
    eightConcurrentPublishesMs: Math.round(concurrentMs),
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'io-bench-registry-'))
const s3 = await startS3rver(['bench'])
try {
  const results = [
    await measure('fs (fs.watch + 2 s poll)', () => createFsBackend({ root: path.join(dir, 'registry') }), 2000),
    await measure(
      's3rver (200 ms poll)',
      () =>
        createS3Backend({
          bucket: 'bench',
          prefix: 'registry',
          endpoint: s3.endpoint,
          region: s3.region,
          credentials: s3.credentials,
          forcePathStyle: true,
        }),
      200,
    ),
  ]
  const rows = results.map((r) => [
    r.backend,
    `${r.publishMs.p50} / ${r.publishMs.p95}`,
    `${r.resolveAliasMs.p50} / ${r.resolveAliasMs.p95}`,
    `${r.promotionPickupMs.p50} / ${r.promotionPickupMs.max}`,
    String(r.eightConcurrentPublishesMs),
  ])
  const head = [
    'backend',
    'publish p50/p95 ms',
    'resolveAlias p50/p95 ms',
    'pick-up p50/max ms',
    '8 parallel publishes ms',
  ]
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '))
  const out = new URL('./results/', import.meta.url).pathname
  mkdirSync(out, { recursive: true })
  const report = { bench: 'registry', at: new Date().toISOString(), node: process.version, versions, results }
  writeFileSync(path.join(out, 'registry.json'), `${JSON.stringify(report, null, 2)}\n`)
  console.log(`wrote ${path.join(out, 'registry.json')}`)
} finally {
  await s3.stop()
  rmSync(dir, { recursive: true, force: true })
}
