/**
 * The whole registry story, through the CLI: train twice (the second time with more data), evaluate both on one
 * test set with `intentops test`, publish both with their reports, promote the first, promote the second (it passes the gate only because it is better),
 * try a worse one (refused), tamper with the live model's file (refused everywhere), roll back, and read the audit
 * log. Data: a slice of BANKING77 from /work/shared/datasets (read in place, never copied into the repository).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../src/cli/io.js'
import { runCli } from '../src/cli/program.js'
import type { EvalSummary } from '../src/eval/types.js'
import { decodeModel } from '../src/nlu/model-file.js'
import { loadConfig } from '../src/project/config.js'
import { keys } from '../src/registry/layout.js'
import { openRegistry } from '../src/registry/open.js'

const DATASET = process.env.INTENTOPS_DATASETS ?? '/work/shared/datasets'
const banking = path.join(DATASET, 'banking77')
const INTENTS = [
  'card_arrival',
  'lost_or_stolen_card',
  'exchange_rate',
  'top_up_failed',
  'pin_blocked',
  'cash_withdrawal_charge',
  'beneficiary_not_allowed',
  'apple_pay_or_google_pay',
]

let dir: string
const cli = async (...argv: string[]) => {
  const io = memoryIO(dir, { INTENTOPS_AUTHOR: 'Ada <ada@example.com>' })
  const code = await runCli(argv, io)
  return { code, out: io.out(), err: io.err() }
}
const ok = async (...argv: string[]) => {
  const res = await cli(...argv)
  expect(res.code, `${argv.join(' ')}: ${res.err}`).toBe(0)
  return res
}

/** Rows of a JSONL split for our intents, the first `perIntent` of each. */
function slice(split: string, perIntent: number): string {
  const counts = new Map<string, number>()
  const rows: string[] = []
  for (const line of readFileSync(path.join(banking, `${split}.jsonl`), 'utf8').split('\n')) {
    if (!line.trim()) continue
    const row = JSON.parse(line) as { intent: string }
    const n = counts.get(row.intent) ?? 0
    if (!INTENTS.includes(row.intent) || n >= perIntent) continue
    counts.set(row.intent, n + 1)
    rows.push(line)
  }
  return `${rows.join('\n')}\n`
}

describe('the registry story, end to end', () => {
  const summaries: Record<string, EvalSummary> = {}

  beforeAll(async () => {
    if (!existsSync(path.join(banking, 'train.jsonl'))) {
      throw new Error(`BANKING77 not found in ${banking}: set INTENTOPS_DATASETS to the directory holding banking77/`)
    }
    dir = mkdtempSync(path.join(tmpdir(), 'io-story-'))
    execFileSync('git', ['init', '-q', dir])
    writeFileSync(path.join(dir, 'small.jsonl'), slice('train', 6))
    writeFileSync(path.join(dir, 'large.jsonl'), slice('train', 80))
    writeFileSync(path.join(dir, 'test.jsonl'), slice('test', 25))
    const gen = JSON.parse((await ok('keys', 'generate', '--json')).out)
    writeFileSync(
      path.join(dir, 'intentops.yml'),
      [
        'name: banking-bot',
        'registry:',
        '  signingKey: .intentops/keys/intentops-signing.key',
        `  trustedKeys: [${gen.publicKey}]`,
        'gates:',
        '  minMacroF1: 0.3',
        '  minDelta: 0.01',
        '',
      ].join('\n'),
    )
    for (const [name, data, seed] of [
      ['small', 'small.jsonl', '1'],
      ['large', 'large.jsonl', '1'],
      ['small-again', 'small.jsonl', '2'],
    ] as const) {
      // Slices of a public benchmark repeat a few sentences within an intent, which `data validate` refuses.
      await ok('train', '--data', data, '--no-validate', '--out', `${name}.iom`, '--seed', seed, '--workers', '0')
      // Every model is evaluated on the same test set; the report carries the test-set fingerprint.
      const res = await ok('test', '--model', `${name}.iom`, '--test', 'test.jsonl', '--out', `eval-${name}`, '--json')
      summaries[name] = JSON.parse(res.out).summary
    }
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('publishes both models with their lineage, and promotes the first', async () => {
    // A report of another model is refused: the scores must belong to the model they are published with.
    const wrong = await cli('publish', 'large.iom', '--eval', 'eval-small/report.json')
    expect(wrong.code).toBe(1)
    expect(wrong.err).toMatch(/^error ERR_REGISTRY_EVAL_MISMATCH: .*eval-small\/report\.json evaluates another model/)
    const v1 = JSON.parse((await ok('publish', 'small.iom', '--eval', 'eval-small/report.json', '--json')).out)
    const v2 = JSON.parse((await ok('publish', 'large.iom', '--eval', 'eval-large/report.json', '--json')).out)
    expect(v1.signed.record.eval).toEqual(summaries.small)
    expect([v1.version, v2.version]).toEqual([1, 2])
    expect(v2.signed.record.training.examples).toBeGreaterThan(v1.signed.record.training.examples)
    expect(v2.signed.record.training.dataFingerprint).not.toBe(v1.signed.record.training.dataFingerprint)
    const first = await ok('promote', '1', '--to', 'production')
    expect(first.out).toContain('banking-bot/production: unset → v1')
  })

  it('promotes the second only because it is really better on the same test set', async () => {
    const small = summaries.small!
    const large = summaries.large!
    // More data must give the better model here; the gate then agrees with the numbers.
    expect(large.macroF1).toBeGreaterThan(small.macroF1 + 0.01)
    const res = await cli('promote', '2', '--to', 'production', '--json')
    expect(res.code, res.err).toBe(0)
    const gate = JSON.parse(res.out).gate
    expect(gate.rules.find((r: { rule: string }) => r.rule === 'minDelta')).toMatchObject({
      status: 'pass',
      actual: large.macroF1 - small.macroF1,
    })
    expect(gate.rules.find((r: { rule: string }) => r.rule === 'sameTestSet').status).toBe('pass')

    // A model trained on the small data again is worse than the holder: the gate refuses it.
    await ok('publish', 'small-again.iom', '--eval', 'eval-small-again/report.json')
    const worse = await cli('promote', '3', '--to', 'production')
    expect(worse.code).toBe(1)
    expect(worse.err).toContain('ERR_REGISTRY_GATE_FAILED')
    expect(worse.out).toMatch(/FAIL {2}minDelta/)
    // Nor can it borrow the better model's scores at promotion time.
    const borrowed = await cli('promote', '3', '--to', 'production', '--eval', 'eval-large/report.json')
    expect(borrowed.err).toMatch(/^error ERR_REGISTRY_EVAL_MISMATCH: .* than banking-bot v3/)
    expect((await ok('models', 'show', 'production', '--json')).out).toContain('"version": 2')
  })

  it('serves the verified production model, and refuses it once its file is tampered with', async () => {
    const { config, root } = await loadConfig({ dir })
    const registry = await openRegistry({ config: config.registry, root })
    const live = await registry.resolveAlias('banking-bot', 'production')
    expect(live.version).toBe(2)
    expect(decodeModel(live.bytes).parse('my card has not arrived yet').intent.name).toBe('card_arrival')

    const blob = path.join(dir, '.intentops/registry', ...keys.blob(live.record.blob.digest).split('/'))
    const bytes = readFileSync(blob)
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01
    writeFileSync(blob, bytes)

    await expect(registry.resolveAlias('banking-bot', 'production')).rejects.toMatchObject({
      code: 'ERR_REGISTRY_BLOB_CORRUPT',
    })
    const verify = await cli('models', 'verify')
    expect(verify.code).toBe(1)
    expect(verify.out).toMatch(/FAIL {2}banking-bot v2 {2}ERR_REGISTRY_BLOB_CORRUPT/)
    expect(verify.out).toMatch(/FAIL {2}banking-bot\/production/)
    expect(verify.out).toMatch(/ok {4}banking-bot v1/)
    const show = await cli('models', 'show', 'production')
    expect(show.code).toBe(1)
    expect(show.out).toMatch(/verified +NO: ERR_REGISTRY_BLOB_CORRUPT/)
  })

  it('rolls back to the previous holder, which loads verified', async () => {
    const rb = await ok('rollback', 'production', '--reason', 'v2 model file failed verification')
    expect(rb.out).toBe('banking-bot/production: v2 → v1 (rolled back)\n')
    const { config, root } = await loadConfig({ dir })
    const registry = await openRegistry({ config: config.registry, root })
    const live = await registry.resolveAlias('banking-bot', 'production')
    expect(live.version).toBe(1)
    expect(live.signature.signedBy).toMatch(/^[0-9a-f]{16}$/)
    expect(decodeModel(live.bytes).labels).toEqual(expect.arrayContaining(INTENTS))
  })

  it('keeps an audit log of every publish, gate decision, promotion and rollback', async () => {
    const audit = JSON.parse((await ok('models', 'audit', '--json')).out)
    expect(
      audit.entries.map((e: { kind: string; version?: number; to?: number; passed?: boolean }) =>
        e.kind === 'gate' ? `gate v${e.version} ${e.passed ? 'passed' : 'failed'}` : `${e.kind} v${e.version ?? e.to}`,
      ),
    ).toEqual([
      'publish v1',
      'publish v2',
      'gate v1 passed',
      'promote v1',
      'gate v2 passed',
      'promote v2',
      'publish v3',
      'gate v3 failed',
      'rollback v1',
    ])
    expect(audit.entries.every((e: { actor: string }) => e.actor === 'Ada <ada@example.com>')).toBe(true)
    expect(audit.entries.at(-1)).toMatchObject({ reason: 'v2 model file failed verification', from: 2 })
    const today = new Date().toISOString().slice(0, 10)
    const day = JSON.parse((await ok('models', 'history', 'production', '--at', today, '--json')).out)
    expect(day.holders.map((h: { version: number }) => h.version)).toEqual([1, 2, 1])
    const text = (await ok('models', 'audit')).out
    expect(text).toMatch(/rollback +production v2 → v1 +Ada <ada@example\.com> +v2 model file failed verification/)
  })
})
