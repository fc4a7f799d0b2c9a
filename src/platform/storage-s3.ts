/**
 * The {@link Storage} port on an S3-compatible object store (`STORAGE_BACKEND=s3`), through the AWS
 * SDK v3: AWS S3, MinIO, Ceph RGW, Cloudflare R2 and GCS's XML interop all speak this subset.
 *
 * Keys are the same `/`-separated names as on disk (checked by the same {@link assertValidKey}), the
 * object key in the bucket is the storage key itself. What the contract asks and how S3 gives it:
 * - atomic replace: a PutObject, or a multipart upload's CompleteMultipartUpload, makes the new
 *   object visible whole or not at all; a failed write leaves the previous object as it was.
 * - the streaming size cap: the source is counted while {@link Upload} pulls it; past `maxBytes`
 *   the source throws, the Upload stops, and any multipart upload already begun is aborted (its
 *   parts deleted), so a refused upload leaves nothing behind. At most `PART_BYTES × QUEUE_SIZE`
 *   bytes are held in memory at once, whatever the object's size.
 * - folders: S3 has none; a "folder" is a key prefix ending in `/`. `list` asks for CommonPrefixes
 *   with Delimiter `/`, `deletePrefix` removes every key under `prefix/` in batched DeleteObjects.
 * - errors: NoSuchKey/404 → STORAGE_ERROR `NOT_FOUND`, InvalidRange/416 → `INVALID_RANGE`,
 *   AccessDenied, a missing bucket or bad credentials → `STORAGE_PERMISSION` (not retryable: a retry
 *   cannot fix configuration), anything else (5xx, refused or timed-out connections) →
 *   `STORAGE_IO`, retryable (the job is retried with backoff).
 *
 * Credentials come from the SDK's default chain (environment, web identity, profile…).
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type ListObjectsV2CommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError } from '../audio/errors.js';
import type { S3Config } from './config.js';
import {
  assertValidKey,
  chunksOf,
  isValidKey,
  tooLarge,
  type ByteRange,
  type PresignOptions,
  type Storage,
  type StoredEntry,
  type StoredObject,
  type WriteOptions,
  type WriteSource,
} from './storage.js';

/** Multipart part size: S3's minimum (5 MiB), so an upload holds the least memory. */
export const PART_BYTES = 5 * 1024 * 1024;
/** Parts in flight at once per upload (memory ≤ PART_BYTES × QUEUE_SIZE ≈ 10 MiB per upload). */
const QUEUE_SIZE = 2;
/** DeleteObjects takes at most 1000 keys per request (S3 API reference). */
const DELETE_BATCH = 1000;
/** Folders whose newest object `list` looks up at once. */
const LIST_CONCURRENCY = 8;
/** A store that accepts no connection within this is treated as down (ms). */
const CONNECT_TIMEOUT_MS = 3000;
/** A request whose socket stays silent this long fails (ms), so a hung store cannot hold a job forever. */
const REQUEST_TIMEOUT_MS = 20_000;
/** Tries per request (the SDK's standard retry with jittered backoff); the job queue retries beyond that. */
const MAX_ATTEMPTS = 3;

/** SDK error names and HTTP statuses that mean "this configuration cannot work", not "try again". */
const PERMISSION_ERRORS = new Set([
  'AccessDenied',
  'NoSuchBucket',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AllAccessDisabled',
  'CredentialsProviderError',
]);

interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkError)?.$metadata?.httpStatusCode;
}

function isMissing(error: unknown): boolean {
  const name = (error as SdkError)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(error) === 404 && name !== 'NoSuchBucket');
}

/** An SDK (or network) error as the AppError the Storage contract promises. */
export function s3ErrorToAppError(error: unknown, message: string): AppError {
  if (error instanceof AppError) return error;
  const name = (error as SdkError)?.name ?? '';
  if (isMissing(error))
    return new AppError('STORAGE_ERROR', 'No such file in storage.', { reason: 'NOT_FOUND', retryable: false, cause: error });
  if (name === 'InvalidRange' || statusOf(error) === 416) {
    return new AppError('STORAGE_ERROR', 'The byte range lies outside the file.', {
      reason: 'INVALID_RANGE',
      retryable: false,
      cause: error,
    });
  }
  if (PERMISSION_ERRORS.has(name) || statusOf(error) === 403) {
    return new AppError('STORAGE_ERROR', 'The service cannot use its object store.', {
      reason: 'STORAGE_PERMISSION',
      retryable: false,
      cause: error,
    });
  }
  return new AppError('STORAGE_ERROR', message, { reason: 'STORAGE_IO', retryable: true, cause: error });
}

/** The S3 client for `config` (one per process; it pools its connections). */
export function createS3Client(config: S3Config): S3Client {
  const options: S3ClientConfig = {
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    // The SDK's newer default adds CRC32 checksums to every upload (aws-chunked trailers), which
    // several S3-compatible stores (GCS interop, older MinIO and Ceph) refuse; ask for them only
    // where the API requires one (DeleteObjects). TLS and SigV4's payload hash still guard the bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (config.endpoint) options.endpoint = config.endpoint;
  return new S3Client(options);
}

/** SigV4's longest presigned life (7 days), in seconds. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** Storage in a bucket of an S3-compatible object store (`STORAGE_BACKEND=s3`). */
export class S3Storage implements Storage {
  readonly bucket: string;
  readonly client: S3Client;
  /** Signs download URLs for the host clients reach (`S3_PUBLIC_ENDPOINT`); no request is ever sent with it. */
  private readonly signer: S3Client | null;
  presignRead?: (key: string, options: PresignOptions) => Promise<string>;

  constructor(config: S3Config, client: S3Client = createS3Client(config)) {
    this.bucket = config.bucket;
    this.client = client;
    this.signer = null;
    if (config.downloads === 'presigned') {
      this.signer =
        config.publicEndpoint && config.publicEndpoint !== config.endpoint
          ? createS3Client({ ...config, endpoint: config.publicEndpoint })
          : client;
      this.presignRead = (key, options) => this.presign(key, options);
    }
  }

  /**
   * A presigned GET of `key` (offline: SigV4 over the request, with the credentials of the chain).
   * The response headers are signed into the URL, so the store answers with our content type,
   * disposition and cache rule.
   */
  private async presign(key: string, options: PresignOptions): Promise<string> {
    assertValidKey(key);
    const expiresIn = Math.max(1, Math.min(MAX_PRESIGN_SECONDS, Math.floor(options.expiresInSeconds)));
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentType: options.contentType,
      ResponseContentDisposition: options.contentDisposition,
      ResponseCacheControl: options.cacheControl,
    });
    try {
      return await getSignedUrl(this.signer ?? this.client, command, { expiresIn });
    } catch (error) {
      throw s3ErrorToAppError(error, 'Could not sign a download link.');
    }
  }

  async write(key: string, source: WriteSource, options: WriteOptions = {}): Promise<{ key: string; size: number }> {
    assertValidKey(key);
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    let size = 0;
    // Errors of the source (a client that went away, the size cap) are passed on as they are; only
    // the store's own become STORAGE_ERROR. The counter throws from inside the stream the Upload
    // reads, so the cap stops the upload at the first chunk past it.
    let sourceError: unknown = null;
    const counted = Readable.from(
      (async function* count() {
        try {
          for await (const chunk of chunksOf(source)) {
            size += chunk.byteLength;
            if (size > maxBytes) throw tooLarge(maxBytes);
            yield chunk;
          }
        } catch (error) {
          sourceError = error;
          throw error;
        }
      })(),
      { objectMode: false },
    );
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: counted },
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      return { key, size };
    } catch (error) {
      // lib-storage aborts a begun multipart upload itself (leavePartsOnError: false); abort() again
      // also stops parts still in flight. An abort that fails (the store is down) leaves parts that
      // the bucket's AbortIncompleteMultipartUpload lifecycle rule removes (docs/decisions.md).
      await upload.abort().catch(() => undefined);
      counted.destroy();
      if (sourceError) throw sourceError;
      throw s3ErrorToAppError(error, 'Could not write to storage.');
    }
  }

  async read(key: string): Promise<Uint8Array> {
    assertValidKey(key);
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!reply.Body) return new Uint8Array(0);
      return await reply.Body.transformToByteArray();
    } catch (error) {
      throw s3ErrorToAppError(error, 'Could not read from storage.');
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    assertValidKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isMissing(error)) return null;
      throw s3ErrorToAppError(error, 'Could not read from storage.');
    }
  }

  async openRead(key: string, range: ByteRange = {}): Promise<Readable> {
    assertValidKey(key);
    const { start, end } = range;
    if (start === undefined && end === undefined) return this.get(key);
    // The same rule as DiskStorage: the range must lie inside the object (S3 would clip an end
    // past the last byte instead), so the size is looked up first.
    const info = await this.stat(key);
    if (!info) throw s3ErrorToAppError({ name: 'NoSuchKey' }, '');
    const first = start ?? 0;
    const last = end ?? info.size - 1;
    if (
      !Number.isSafeInteger(first) ||
      !Number.isSafeInteger(last) ||
      first < 0 ||
      (info.size > 0 && (first > last || last >= info.size))
    ) {
      throw s3ErrorToAppError({ name: 'InvalidRange' }, '');
    }
    if (info.size === 0) return this.get(key);
    return this.get(key, `bytes=${first}-${last}`);
  }

  private async get(key: string, range?: string): Promise<Readable> {
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }));
      // In Node the body is the response's IncomingMessage, a Readable.
      return (reply.Body as Readable | undefined) ?? Readable.from([]);
    } catch (error) {
      throw s3ErrorToAppError(error, 'Could not read from storage.');
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      // S3 answers 204 for a key that does not exist: no error, as the contract asks.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw s3ErrorToAppError(error, 'Could not delete from storage.');
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    assertValidKey(prefix);
    try {
      // Each page is deleted before the next is asked for, so memory stays at one page; the listing
      // goes on from its continuation token, which stays valid while keys before it are removed.
      for await (const page of this.pages(`${prefix}/`)) {
        const keys = (page.Contents ?? []).map((object) => object.Key!).filter(Boolean);
        for (let at = 0; at < keys.length; at += DELETE_BATCH) {
          const batch = keys.slice(at, at + DELETE_BATCH);
          const reply = await this.client.send(
            new DeleteObjectsCommand({
              Bucket: this.bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          );
          const failed = reply.Errors ?? [];
          if (failed.length > 0) {
            const first = failed[0];
            throw Object.assign(new Error(`DeleteObjects failed for ${failed.length} key(s): ${first.Code} ${first.Message}`), {
              name: first.Code ?? 'DeleteObjectsError',
            });
          }
        }
      }
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: prefix }));
    } catch (error) {
      throw s3ErrorToAppError(error, 'Could not delete from storage.');
    }
  }

  async list(prefix: string): Promise<StoredEntry[]> {
    assertValidKey(prefix);
    const under = `${prefix}/`;
    const objects: StoredEntry[] = [];
    const folders: string[] = [];
    try {
      for await (const page of this.pages(under, '/')) {
        for (const object of page.Contents ?? []) {
          const name = object.Key?.slice(under.length) ?? '';
          if (isValidKey(name)) objects.push({ name, folder: false, modifiedAt: object.LastModified ?? new Date(0) });
        }
        for (const common of page.CommonPrefixes ?? []) {
          const name = common.Prefix?.slice(under.length, -1) ?? '';
          if (isValidKey(name)) folders.push(name);
        }
      }
      // S3 keeps no time for a prefix: a folder's time is that of its newest object, which is what a
      // directory's mtime approximates on disk (the reconciler's grace period counts from it).
      const timed: StoredEntry[] = [];
      for (let at = 0; at < folders.length; at += LIST_CONCURRENCY) {
        const batch = folders.slice(at, at + LIST_CONCURRENCY);
        const times = await Promise.all(batch.map((name) => this.newestUnder(`${under}${name}/`)));
        batch.forEach((name, i) => {
          // Emptied since the listing (deleted meanwhile): left out, like a directory gone since readdir.
          if (times[i]) timed.push({ name, folder: true, modifiedAt: times[i]! });
        });
      }
      return [...objects, ...timed];
    } catch (error) {
      throw s3ErrorToAppError(error, 'Could not list storage.');
    }
  }

  /** Closes the client's pooled connections. */
  async close(): Promise<void> {
    this.client.destroy();
    if (this.signer && this.signer !== this.client) this.signer.destroy();
  }

  private async newestUnder(prefix: string): Promise<Date | null> {
    let newest: Date | null = null;
    for await (const page of this.pages(prefix)) {
      for (const object of page.Contents ?? []) {
        if (object.LastModified && (!newest || object.LastModified > newest)) newest = object.LastModified;
      }
    }
    return newest;
  }

  /** Every page of ListObjectsV2 under `prefix` (1000 keys a page at most). */
  private async *pages(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
