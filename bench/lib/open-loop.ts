/**
 * An open-loop HTTP/1.1 load generator for latency at a fixed offered rate. autocannon's `overallRate` sends each
 * connection's quota for the second back to back and then idles, so its latencies at a "fixed rate" are those of
 * one-second bursts at saturation; here requests are scheduled evenly (rate × elapsed) on a 1 ms tick and handed to
 * whichever keep-alive connection is idle. A request that finds none waits in a queue, and its latency is counted
 * from when it was scheduled too (`fromScheduled`), so a server stall is not hidden by the generator waiting for it
 * (coordinated omission). Raw sockets keep the generator's own CPU small on a machine it shares with the server.
 * @module
 */
import net from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface OpenLoopOptions {
  host: string
  port: number
  path: string
  /** Request bodies (JSON), sent in turn. */
  bodies: readonly string[]
  connections: number
  /** Offered requests per second. */
  rate: number
  seconds: number
}

export interface OpenLoopResult {
  offeredRate: number
  /** Responses per second over the run. */
  achievedRate: number
  sent: number
  ok: number
  non2xx: number
  errors: number
  /** Requests still unanswered or unsent at the end. */
  unfinished: number
  /** Latency from writing the request to the last byte of the answer, ms. */
  fromSend: Percentiles
  /** Latency from the moment the schedule called for the request, ms (includes waiting for a free connection). */
  fromScheduled: Percentiles
  /**
   * How late the generator's own event loop ran, ms (p99 and max): a late loop sends late and reads answers late, and
   * both show in the latencies, so this is the floor under what the run can measure.
   */
  generatorLoopDelay: { p99: number; max: number }
}

export interface Percentiles {
  p50: number
  p90: number
  p99: number
  max: number
}

interface Conn {
  socket: net.Socket
  busy: boolean
  buf: Buffer
  sentAt: number
  scheduledAt: number
}

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const requests = options.bodies.map((body) =>
    Buffer.from(
      `POST ${options.path} HTTP/1.1\r\nhost: ${options.host}:${options.port}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  )
  const fromSend: number[] = []
  const fromScheduled: number[] = []
  let sent = 0
  let ok = 0
  let non2xx = 0
  let errors = 0
  let next = 0
  const waiting: number[] = []
  const idle: Conn[] = []

  const send = (c: Conn, scheduledAt: number) => {
    c.busy = true
    c.scheduledAt = scheduledAt
    c.sentAt = performance.now()
    c.socket.write(requests[next++ % requests.length]!)
    sent++
  }
  const release = (c: Conn) => {
    c.busy = false
    const due = waiting.shift()
    if (due !== undefined) send(c, due)
    else idle.push(c)
  }
  const onData = (c: Conn, chunk: Buffer) => {
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk])
    for (;;) {
      const end = c.buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = c.buf.subarray(0, end).toString('latin1')
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
      if (c.buf.length < end + 4 + length) return
      c.buf = c.buf.subarray(end + 4 + length)
      const now = performance.now()
      const status = Number(head.slice(9, 12))
      if (status >= 200 && status < 300) ok++
      else non2xx++
      fromSend.push(now - c.sentAt)
      fromScheduled.push(now - c.scheduledAt)
      release(c)
    }
  }

  const conns = await Promise.all(
    Array.from(
      { length: options.connections },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const socket = net.connect({ host: options.host, port: options.port, noDelay: true })
          const c: Conn = { socket, busy: false, buf: Buffer.alloc(0), sentAt: 0, scheduledAt: 0 }
          socket.once('connect', () => resolve(c))
          socket.once('error', reject)
          socket.on('data', (chunk) => onData(c, chunk))
        }),
    ),
  )
  for (const c of conns) {
    c.socket.on('error', () => {
      errors++
    })
    idle.push(c)
  }

  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const start = performance.now()
  const total = Math.round(options.rate * options.seconds)
  let scheduled = 0
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      const due = Math.min(total, Math.floor(((now - start) / 1000) * options.rate))
      for (; scheduled < due; scheduled++) {
        const at = start + (scheduled / options.rate) * 1000
        const c = idle.pop()
        if (c) send(c, at)
        else waiting.push(at)
      }
      if (scheduled >= total) resolve()
      else setTimeout(tick, 1)
    }
    tick()
  })
  // Let answers in flight arrive (bounded), then stop.
  const drainUntil = performance.now() + 2000
  while (conns.some((c) => c.busy) && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5))
  const elapsed = (performance.now() - start) / 1000
  delay.disable()
  for (const c of conns) c.socket.destroy()
  return {
    offeredRate: options.rate,
    achievedRate: (ok + non2xx) / elapsed,
    sent,
    ok,
    non2xx,
    errors,
    unfinished: total - ok - non2xx,
    fromSend: percentiles(fromSend),
    fromScheduled: percentiles(fromScheduled),
    // The histogram counts in ns, and from its 1 ms sampling period on.
    generatorLoopDelay: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
  }
}

function percentiles(xs: number[]): Percentiles {
  const s = Float64Array.from(xs).sort()
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] ?? Number.NaN }
}
