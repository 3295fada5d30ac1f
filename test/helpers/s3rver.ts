/**
 * Starts a real s3rver process on loopback with a temporary directory, for tests of the S3 registry backend.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'

export interface S3rverProcess {
  endpoint: string
  /** Credentials s3rver accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string }
  region: string
  /** The store directory of the server, to tamper with objects behind the API in tests. */
  directory: string
  stop(): Promise<void>
}

const serverScript = `
const S3rver = require(process.argv[1])
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[2],
  configureBuckets: process.argv.slice(3).map((name) => ({ name })) })
server.run().then((addr) => { process.stdout.write(JSON.stringify({ port: addr.port }) + '\\n') },
  (err) => { console.error(err); process.exit(1) })
process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
`

/** Start s3rver in its own process with the given buckets; resolves once it listens. */
export async function startS3rver(buckets: string[] = ['registry']): Promise<S3rverProcess> {
  const directory = mkdtempSync(path.join(tmpdir(), 'io-s3rver-'))
  const main = createRequire(import.meta.url).resolve('s3rver')
  const child: ChildProcess = spawn(process.execPath, ['-e', serverScript, main, directory, ...buckets], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split('\n')[0]
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port)
    })
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)))
  })
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    region: 'us-east-1',
    directory,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(directory, { recursive: true, force: true })
    },
  }
}
