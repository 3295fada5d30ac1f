/**
 * The peer side of the benchmark protocol for peers written for Node (NLP.js, intentops): the same steps and the
 * same clock discipline as `peer_common.py`, so every system is measured the same way.
 * @module
 */
import { text } from 'node:stream/consumers'
import { type BenchSplit, readSplit } from '../lib/dataset.js'
import { type PeerPrediction, type PeerRequest, type PeerResult, PROGRESS_PREFIX } from '../lib/protocol.js'

export interface PeerSplits {
  train: BenchSplit
  valid: BenchSplit | null
  test: BenchSplit
}

export async function readRequest(): Promise<PeerRequest> {
  return JSON.parse(await text(process.stdin)) as PeerRequest
}

export async function readSplits(req: PeerRequest): Promise<PeerSplits> {
  return {
    train: await readSplit(req.train),
    valid: req.valid ? await readSplit(req.valid) : null,
    test: await readSplit(req.test),
  }
}

export function progress(phase: string, done?: number, total?: number): void {
  process.stderr.write(`${PROGRESS_PREFIX}${JSON.stringify({ phase, done, total })}\n`)
}

/** Wall time of `work` in milliseconds on the monotonic clock, and what it returned. */
export async function timed<T>(work: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint()
  const value = await work()
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 }
}

export type PredictOne = (text: string) => PeerPrediction | Promise<PeerPrediction>

export async function predictUntimed(predictOne: PredictOne, texts: readonly string[], phase: string) {
  const out: PeerPrediction[] = []
  for (let i = 0; i < texts.length; i++) {
    out.push(await predictOne(texts[i]!))
    if ((i + 1) % 500 === 0) progress(phase, i + 1, texts.length)
  }
  return out
}

export async function warmUp(predictOne: PredictOne, texts: readonly string[], n: number): Promise<void> {
  for (const t of texts.slice(0, n)) await predictOne(t)
}

/** Predict one message at a time, as a service does, and time each call in-process. */
export async function predictTimed(predictOne: PredictOne, texts: readonly string[]) {
  const predictions: PeerPrediction[] = []
  const latencyMs: number[] = []
  for (let i = 0; i < texts.length; i++) {
    const start = process.hrtime.bigint()
    const p = await predictOne(texts[i]!)
    latencyMs.push(Number(process.hrtime.bigint() - start) / 1e6)
    predictions.push(p)
    if ((i + 1) % 500 === 0) progress('test', i + 1, texts.length)
  }
  return { predictions, latencyMs }
}

/** Print the result with the process's peak RSS (Node reports maxRSS in kilobytes). */
export function emit(result: Omit<PeerResult, 'peakRssBytes'>): void {
  const full: PeerResult = { ...result, peakRssBytes: process.resourceUsage().maxRSS * 1024 }
  process.stdout.write(`${JSON.stringify(full)}\n`)
}

/** Run a peer's main, turning any failure into a message on stderr and exit code 1. */
export function runPeer(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const e = err as Error
    process.stderr.write(`${e?.stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
