/**
 * The log queue's records as UTF-8 JSON text in one buffer outside the JavaScript heap. Records wait in the queue for
 * up to a flush interval plus a write, long enough to outlive several young-generation collections. Held as strings,
 * they were copied by each of those collections and then promoted: with the log on, the server's scavenges took
 * 3–4 ms (median) instead of ~0.8 ms, ~4× the collector's time (bench/README.md, "Log records off the heap"). Bytes
 * in a Buffer are not traced or moved at all.
 * @module
 */

const NEWLINE = 0x0a
/** Bytes the buffer starts with, and the least it shrinks back to. */
const INITIAL_BYTES = 1 << 20
const INITIAL_RECORDS = 1024
/**
 * Batches taken in a row, each while the buffer held less than a quarter of its size, before the buffer is cut to
 * twice the most they held. A buffer is replaced only after a burst, never in the steady cycle of appends and
 * batches: each new one is fresh memory, and the event loop then takes a page fault for every 4 KiB it writes.
 */
const SHRINK_AFTER = 16

/**
 * A FIFO of records, each stored as its JSON text followed by a newline (JSON text never holds a raw one), so any
 * leading run of them is newline-delimited JSON that a reader can split without parsing.
 */
export class JsonBacklog {
  private bytes = Buffer.allocUnsafeSlow(INITIAL_BYTES)
  /** Byte offsets of the first record and past the last one. */
  private head = 0
  private tail = 0
  /** Each record's byte length (comma included), a ring from `first`. */
  private lengths = new Uint32Array(INITIAL_RECORDS)
  private first = 0
  private size = 0
  /** The most bytes held since the last batch was shifted out, and over the current run of such batches. */
  private peak = 0
  private runPeak = 0
  /** Batches shifted in a row while the buffer was more than four times the most held. */
  private oversized = 0

  get count(): number {
    return this.size
  }

  /** Bytes held, newlines included. */
  get byteLength(): number {
    return this.tail - this.head
  }

  /** The buffer's size in bytes. */
  get capacity(): number {
    return this.bytes.length
  }

  /** Appends `value` as JSON text; it must be JSON-safe (no cycles, no BigInt). */
  append(value: unknown): void {
    this.appendJson(JSON.stringify(value))
  }

  /** Appends one JSON text, which must not hold a raw newline (`JSON.stringify` never writes one). */
  appendJson(text: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8 (a surrogate pair takes 4 for 2 units).
    this.reserve(text.length * 3 + 1)
    const n = this.bytes.write(text, this.tail)
    this.bytes[this.tail + n] = NEWLINE
    this.tail += n + 1
    if (this.size === this.lengths.length) this.growLengths()
    this.lengths[(this.first + this.size) % this.lengths.length] = n + 1
    this.size++
    if (this.tail - this.head > this.peak) this.peak = this.tail - this.head
  }

  /** The size in bytes of the first `n` records. */
  byteLengthOf(n: number): number {
    const count = Math.min(n, this.size)
    let len = 0
    for (let i = 0; i < count; i++) len += this.lengths[(this.first + i) % this.lengths.length]!
    return len
  }

  /**
   * Copies the first `n` records into `target` (at least `byteLengthOf(n)` long) and returns the bytes copied. The
   * records stay queued until `shift`.
   */
  copyTo(n: number, target: Uint8Array): number {
    const len = this.byteLengthOf(n)
    if (target.length < len) throw new RangeError(`the target holds ${target.length} bytes; ${len} are needed`)
    target.set(this.bytes.subarray(this.head, this.head + len))
    return len
  }

  /** The first `n` records in a buffer of their own. */
  batch(n: number): Uint8Array {
    const out = new Uint8Array(this.byteLengthOf(n))
    this.copyTo(n, out)
    return out
  }

  /** Drops the first `n` records. */
  shift(n: number): void {
    const count = Math.min(n, this.size)
    this.head += this.byteLengthOf(count)
    this.first = (this.first + count) % this.lengths.length
    this.size -= count
    if (this.size === 0) {
      this.head = 0
      this.tail = 0
      this.first = 0
    }
    this.settle()
  }

  /** Drops every record, and gives back the memory a burst grew. */
  clear(): void {
    this.head = 0
    this.tail = 0
    this.first = 0
    this.size = 0
    this.peak = 0
    this.runPeak = 0
    this.oversized = 0
    if (this.bytes.length > INITIAL_BYTES) this.bytes = Buffer.allocUnsafeSlow(INITIAL_BYTES)
    if (this.lengths.length > INITIAL_RECORDS) this.lengths = new Uint32Array(INITIAL_RECORDS)
  }

  /** After a batch: gives back a buffer that a run of batches has shown to be far larger than the load needs. */
  private settle(): void {
    if (this.bytes.length > 4 * Math.max(INITIAL_BYTES / 2, this.peak)) {
      if (this.peak > this.runPeak) this.runPeak = this.peak
      if (++this.oversized >= SHRINK_AFTER) this.resize(Math.max(INITIAL_BYTES, 2 * this.runPeak))
    } else {
      this.oversized = 0
      this.runPeak = 0
    }
    this.peak = this.tail - this.head
  }

  /** Moves the records to the front of a new buffer of `bytes` (at least what they take). */
  private resize(bytes: number): void {
    const live = this.tail - this.head
    const next = Buffer.allocUnsafeSlow(Math.max(bytes, live))
    this.bytes.copy(next, 0, this.head, this.tail)
    this.bytes = next
    this.head = 0
    this.tail = live
    this.oversized = 0
    this.runPeak = 0
  }

  /** Makes room for `need` more bytes past `tail`: slides the records to the front, or grows the buffer. */
  private reserve(need: number): void {
    if (this.tail + need <= this.bytes.length) return
    const live = this.tail - this.head
    if (live + need <= this.bytes.length && this.head >= live) {
      // Sliding costs a copy of what is held; done only when the free front is at least as large, so a record's
      // bytes are moved a bounded number of times however long it waits.
      this.bytes.copyWithin(0, this.head, this.tail)
      this.head = 0
      this.tail = live
    } else {
      this.resize(Math.max(this.bytes.length * 2, live + need))
    }
  }

  private growLengths(): void {
    const next = new Uint32Array(this.lengths.length * 2)
    for (let i = 0; i < this.size; i++) next[i] = this.lengths[(this.first + i) % this.lengths.length]!
    this.lengths = next
    this.first = 0
  }
}

/** Bytes of text decoded and parsed at a time: small enough to stay out of V8's large-object space. */
const PARSE_CHUNK = 64 * 1024

/**
 * The values of newline-delimited JSON (each text followed by a newline, as `JsonBacklog` holds them), parsed a
 * chunk of whole lines at a time. One string for a whole batch (megabytes) is allocated in V8's large-object space,
 * fresh pages every time: decoding and parsing a 5,000-record batch in one piece cost 6.6–6.9 µs a record, in 64 KiB
 * chunks 3.8–4.0 (bench/log-cost.ts).
 */
export function parseJsonLines(bytes: Uint8Array): unknown[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: unknown[] = []
  let start = 0
  while (start < buf.length) {
    let nl = start + PARSE_CHUNK >= buf.length ? buf.length - 1 : buf.lastIndexOf(NEWLINE, start + PARSE_CHUNK)
    // A single line longer than a chunk is parsed alone.
    if (nl < start) nl = buf.indexOf(NEWLINE, start + PARSE_CHUNK)
    if (nl < 0 || buf[nl] !== NEWLINE) throw new SyntaxError('newline-delimited JSON must end with a newline')
    const lines = buf.toString('utf8', start, nl)
    const values = JSON.parse(`[${lines.replaceAll('\n', ',')}]`) as unknown[]
    for (const v of values) out.push(v)
    start = nl + 1
  }
  return out
}
