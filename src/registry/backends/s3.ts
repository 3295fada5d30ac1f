/**
 * The S3 registry backend: any S3-compatible store (AWS S3, MinIO, Ceph, R2, s3rver) through `@aws-sdk/client-s3`,
 * which is imported only when this backend is first used, so projects on a local registry never load it.
 *
 * Create-only writes check for the key and send `If-None-Match: *`, which stores that support conditional writes
 * enforce atomically; the registry never relies on that alone, since it writes only while holding the registry
 * lock, which is the bakery lock of `object-lock.ts` and needs nothing but plain PUT, LIST and DELETE.
 * @module
 */
import { createHash } from 'node:crypto'
import type { S3Client } from '@aws-sdk/client-s3'
import { createError, isIntentopsError } from '../../errors.js'
import {
  assertValidKey,
  backendError,
  type GetOptions,
  isNotModified,
  type LockOptions,
  type NotModified,
  type ObjectInfo,
  type PutOptions,
  type RegistryBackend,
  type StoredObject,
} from '../backend.js'
import { acquireObjectLock } from '../object-lock.js'

export interface S3BackendOptions {
  /** Bucket name; the bucket must exist. */
  bucket: string
  /** Key prefix inside the bucket, e.g. `registry/bot`. Default: the bucket root. */
  prefix?: string
  /** Endpoint URL for S3-compatible stores (MinIO, R2, s3rver); omit for AWS. */
  endpoint?: string
  /** Region; default `us-east-1`. */
  region?: string
  /** Use `endpoint/bucket/key` URLs instead of `bucket.endpoint/key`; most non-AWS stores need it. */
  forcePathStyle?: boolean
  /** Explicit credentials; by default the AWS SDK's chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** A ready client to use instead of creating one (its options then win over the ones above). */
  client?: S3Client
  /** How often a waiting lock contender re-lists, ms. Default 100. */
  lockPollMs?: number
}

type S3Module = typeof import('@aws-sdk/client-s3')

const GET_ATTEMPTS = 5
/** Marks objects whose ETag is not the MD5 of their body (KMS or customer-key encryption). */
const OPAQUE_ETAG = Symbol('opaqueEtag')

function bodyMatchesEtag(obj: StoredObject): boolean {
  if ((obj as { [OPAQUE_ETAG]?: boolean })[OPAQUE_ETAG]) return false
  const etag = obj.etag.replace(/"/g, '')
  if (!/^[0-9a-f]{32}$/i.test(etag)) return false
  return createHash('md5').update(obj.data).digest('hex') === etag.toLowerCase()
}

function stripMarker(obj: StoredObject): StoredObject {
  const { key, etag, size, lastModified, data } = obj
  return { key, etag, size, lastModified, data }
}

/** Errors worth another attempt: dropped connections and server-side hiccups. */
function isTransient(err: unknown): boolean {
  const e = err as SdkError & { code?: string }
  const status = statusOf(err)
  if (status !== undefined && status >= 500) return true
  return (
    ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ERR_STREAM_PREMATURE_CLOSE'].includes(e?.code ?? '') ||
    /aborted|socket hang up/i.test((err as Error)?.message ?? '')
  )
}

interface SdkError {
  name?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode
}

function isMissing(err: unknown): boolean {
  const e = err as SdkError
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || statusOf(err) === 404
}

/** Normalise a user prefix to `''` or `a/b/`. */
function normalisePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '')
  if (trimmed === '') return ''
  assertValidKey(trimmed)
  return `${trimmed}/`
}

/**
 * A registry in an S3 bucket (or any S3-compatible store).
 * @example
 * const backend = createS3Backend({ bucket: 'models', prefix: 'registry', region: 'eu-west-1' })
 */
export function createS3Backend(options: S3BackendOptions): RegistryBackend {
  const base = normalisePrefix(options.prefix)
  const bucket = options.bucket
  const location = `s3://${bucket}/${base}`
  let loaded: Promise<{ sdk: S3Module; client: S3Client }> | undefined

  const load = () => {
    loaded ??= (async () => {
      let sdk: S3Module
      try {
        sdk = await import('@aws-sdk/client-s3')
      } catch (err) {
        throw createError('ERR_REGISTRY_S3_CLIENT_MISSING', {}, { cause: err })
      }
      const client =
        options.client ??
        new sdk.S3Client({
          region: options.region ?? 'us-east-1',
          ...(options.endpoint ? { endpoint: options.endpoint } : {}),
          ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
          ...(options.credentials ? { credentials: options.credentials } : {}),
          // Checksums only where S3 requires them: some S3-compatible stores reject the newer checksum headers.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        })
      return { sdk, client }
    })()
    // A failed import may be fixed by installing the package; do not cache the failure.
    loaded.catch(() => {
      loaded = undefined
    })
    return loaded
  }

  const fail = (operation: string, key: string, err: unknown) =>
    isIntentopsError(err) ? err : backendError(location, operation, key, err)

  async function getOnce(key: string, opts?: GetOptions): Promise<StoredObject | NotModified | null> {
    const { sdk, client } = await load()
    try {
      const res = await client.send(
        new sdk.GetObjectCommand({
          Bucket: bucket,
          Key: base + key,
          ...(opts?.ifNoneMatch !== undefined ? { IfNoneMatch: opts.ifNoneMatch } : {}),
        }),
      )
      const data = res.Body ? await res.Body.transformToByteArray() : new Uint8Array()
      return {
        key,
        etag: res.ETag ?? '',
        size: data.byteLength,
        lastModified: res.LastModified ?? new Date(0),
        data,
        ...(res.ServerSideEncryption === 'aws:kms' ||
        res.ServerSideEncryption === 'aws:kms:dsse' ||
        res.SSECustomerAlgorithm
          ? { [OPAQUE_ETAG]: true }
          : {}),
      }
    } catch (err) {
      if (isMissing(err)) return null
      if (statusOf(err) === 304 && opts?.ifNoneMatch !== undefined) {
        return { key, etag: opts.ifNoneMatch, notModified: true }
      }
      throw err
    }
  }

  /**
   * GET with a check of the body against the ETag, which S3 sets to the MD5 of a single-part upload. A torn or
   * truncated read (a store that writes in place, a dropped connection) is retried, never returned.
   */
  async function get(key: string, opts?: GetOptions): Promise<StoredObject | NotModified | null> {
    assertValidKey(key)
    let previous: StoredObject | undefined
    let lastError: unknown
    for (let attempt = 0; attempt < GET_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt))
      let obj: StoredObject | NotModified | null
      try {
        obj = await getOnce(key, opts)
      } catch (err) {
        if (!isTransient(err)) throw fail('get', key, err)
        lastError = err
        continue
      }
      if (obj === null || isNotModified(obj)) return obj
      if (bodyMatchesEtag(obj)) return stripMarker(obj)
      // Not an MD5 ETag (encrypted or multipart objects, some stores): accept two identical reads in a row.
      if (previous && previous.etag === obj.etag && Buffer.from(previous.data).equals(obj.data)) return stripMarker(obj)
      previous = obj
      lastError = new Error(`the body read does not match its ETag ${obj.etag}`)
    }
    throw fail('get', key, lastError)
  }

  async function head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key)
    const { sdk, client } = await load()
    try {
      const res = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: base + key }))
      return {
        key,
        etag: res.ETag ?? '',
        size: res.ContentLength ?? 0,
        lastModified: res.LastModified ?? new Date(0),
      }
    } catch (err) {
      if (isMissing(err)) return null
      throw fail('head', key, err)
    }
  }

  const backend: RegistryBackend = {
    kind: 's3',
    location,
    get: get as RegistryBackend['get'],
    head,

    async put(key, data, opts: PutOptions = {}) {
      assertValidKey(key)
      const { sdk, client } = await load()
      if (opts.ifNoneMatch === '*' && (await head(key))) throw createError('ERR_REGISTRY_PRECONDITION', { key })
      try {
        const res = await client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: base + key,
            Body: data,
            ContentLength: data.byteLength,
            ContentType: key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
            ...(opts.ifNoneMatch === '*' ? { IfNoneMatch: '*' } : {}),
          }),
        )
        return { key, etag: res.ETag ?? '', size: data.byteLength, lastModified: new Date() }
      } catch (err) {
        // 412: the key appeared meanwhile; 409: a concurrent conditional write to the same key is in flight.
        const status = statusOf(err)
        if (opts.ifNoneMatch === '*' && (status === 412 || status === 409)) {
          throw createError('ERR_REGISTRY_PRECONDITION', { key }, { cause: err })
        }
        throw fail('put', key, err)
      }
    },

    async list(prefix) {
      if (prefix !== '') assertValidKey(prefix, true)
      const { sdk, client } = await load()
      const out: ObjectInfo[] = []
      let token: string | undefined
      try {
        do {
          const res = await client.send(
            new sdk.ListObjectsV2Command({
              Bucket: bucket,
              Prefix: base + prefix,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          )
          for (const o of res.Contents ?? []) {
            if (!o.Key) continue
            out.push({
              key: o.Key.slice(base.length),
              etag: o.ETag ?? '',
              size: o.Size ?? 0,
              lastModified: o.LastModified ?? new Date(0),
            })
          }
          token = res.IsTruncated ? res.NextContinuationToken : undefined
        } while (token)
      } catch (err) {
        throw fail('list', prefix, err)
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    },

    async delete(key) {
      assertValidKey(key)
      const { sdk, client } = await load()
      try {
        await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: base + key }))
      } catch (err) {
        if (isMissing(err)) return
        throw fail('delete', key, err)
      }
    },

    lock(name: string, lockOptions: LockOptions) {
      assertValidKey(name)
      return acquireObjectLock(backend, `locks/${name}/`, {
        ...lockOptions,
        ...(options.lockPollMs !== undefined ? { pollMs: options.lockPollMs } : {}),
      })
    },

    async close() {
      if (!loaded || options.client) return
      const { client } = await loaded.catch(() => ({ client: undefined }))
      client?.destroy()
    },
  }
  return backend
}
