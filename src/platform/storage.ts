/**
 * File storage behind a small interface, so the API, the worker and the files route never touch
 * paths directly: {@link DiskStorage} here (`STORAGE_BACKEND=fs`), S3Storage in storage-s3.ts
 * (`STORAGE_BACKEND=s3`); both pass the same contract tests (test/unit/platform/storage.test.ts).
 *
 * Keys are relative, `/`-separated names such as `conversions/<uuid>/input`. Each segment is 1–128
 * characters of letters, digits, `.`, `_` and `-`, and must start with a letter or digit (so `.` and
 * `..` are impossible, and neither are the hidden temp files writes go through). Keys are checked
 * before any path is built, and the resolved path is checked again to lie under the root: a key can
 * never address a file outside the storage directory.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat as fsStat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError, ValidationError } from '../audio/errors.js';
import type { Config } from './config.js';

/** What {@link Storage.stat} reports about a stored object. */
export interface StoredObject {
  key: string;
  /** Bytes. */
  size: number;
  modifiedAt: Date;
}

export interface WriteOptions {
  /**
   * Largest accepted object in bytes. Counted while streaming; the write stops as soon as it is
   * passed, leaves nothing behind and throws ValidationError `FILE_TOO_LARGE`. Default: no limit.
   */
  maxBytes?: number;
}

/** A byte range, both ends inclusive (as in HTTP `Range: bytes=start-end`). */
export interface ByteRange {
  /** First byte, default 0. */
  start?: number;
  /** Last byte (inclusive), default the last byte of the object. */
  end?: number;
}

export type WriteSource = Uint8Array | AsyncIterable<Uint8Array> | Readable;

export interface Storage {
  /**
   * Stores `source` under `key`, replacing any previous object atomically: readers see the old
   * object or the whole new one, never a part. @returns the number of bytes written.
   * @throws ValidationError `FILE_TOO_LARGE` past `maxBytes`; AppError STORAGE_ERROR on I/O failure
   *   (or the error the source stream failed with).
   */
  write(key: string, source: WriteSource, options?: WriteOptions): Promise<{ key: string; size: number }>;
  /** The whole object. @throws AppError STORAGE_ERROR, reason `NOT_FOUND` when missing. */
  read(key: string): Promise<Uint8Array>;
  /** Size and time of the object, or null when there is none. */
  stat(key: string): Promise<StoredObject | null>;
  /** A stream of the object or of one byte range of it. @throws AppError STORAGE_ERROR (`NOT_FOUND`, `INVALID_RANGE`). */
  openRead(key: string, range?: ByteRange): Promise<Readable>;
  /** Removes the object; no error when it does not exist. */
  delete(key: string): Promise<void>;
  /** Removes the object `prefix` and everything under `prefix/`; no error when nothing is there. */
  deletePrefix(prefix: string): Promise<void>;
  /**
   * What lies directly under `prefix/` (objects and sub-folders, by their one-segment name, with the
   * time they last changed); empty when nothing is there. Hidden temp files are left out. Optional: the
   * reconciler's orphan sweep needs it, nothing else does.
   */
  list?(prefix: string): Promise<StoredEntry[]>;
  /**
   * A URL at which a client can GET the object itself until `expiresInSeconds` from now (an S3
   * presigned GET), answering with the given headers. Optional: only a backend that clients can reach
   * directly has it (s3 with `S3_DOWNLOADS=presigned`); the files route streams the file otherwise.
   */
  presignRead?(key: string, options: PresignOptions): Promise<string>;
  /** Releases what the backend holds (connection pools); optional. */
  close?(): Promise<void>;
}

/** What {@link Storage.presignRead} signs into the URL. */
export interface PresignOptions {
  expiresInSeconds: number;
  contentType: string;
  contentDisposition: string;
  cacheControl: string;
}

/** One entry of {@link Storage.list}. */
export interface StoredEntry {
  name: string;
  folder: boolean;
  modifiedAt: Date;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_KEY_LENGTH = 512;

/** True when `key` is a well-formed storage key (see the module comment). */
export function isValidKey(key: string): boolean {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return false;
  return key.split('/').every((segment) => SEGMENT.test(segment) && segment !== '.' && segment !== '..');
}

/** @throws AppError STORAGE_ERROR, reason `INVALID_KEY` */
export function assertValidKey(key: string): void {
  if (!isValidKey(key)) throw new AppError('STORAGE_ERROR', 'Invalid storage key.', { reason: 'INVALID_KEY' });
}

function storageError(message: string, cause: unknown, reason = 'STORAGE_ERROR', retryable = true): AppError {
  return new AppError('STORAGE_ERROR', message, { reason, retryable, cause });
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** The ValidationError `FILE_TOO_LARGE` every backend throws past `maxBytes`. */
export function tooLarge(maxBytes: number): ValidationError {
  return new ValidationError([
    {
      code: 'FILE_TOO_LARGE',
      message: `The file is larger than ${Math.round((maxBytes / (1024 * 1024)) * 10) / 10} MB, the upload limit.`,
      value: null,
      limit: maxBytes,
    },
  ]);
}

/** Any {@link WriteSource} as an async iterable of chunks. */
export function chunksOf(source: WriteSource): AsyncIterable<Uint8Array> {
  if (source instanceof Uint8Array) {
    return (async function* one() {
      yield source;
    })();
  }
  return source as AsyncIterable<Uint8Array>;
}

/** Storage in a directory of the local disk (the default; `STORAGE_DIR`). */
export class DiskStorage implements Storage {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
  }

  /** The absolute path of a key, guaranteed to lie inside the root. */
  private pathOf(key: string): string {
    assertValidKey(key);
    const path = resolve(this.rootDir, ...key.split('/'));
    if (!path.startsWith(this.rootDir + sep)) throw new AppError('STORAGE_ERROR', 'Invalid storage key.', { reason: 'INVALID_KEY' });
    return path;
  }

  async write(key: string, source: WriteSource, options: WriteOptions = {}): Promise<{ key: string; size: number }> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    // The temp file sits in the target's directory so the rename is atomic (same file system); its
    // leading dot makes it unreachable through any key.
    const temp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    let size = 0;
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw storageError('Could not create the storage directory.', error);
    }
    let handle;
    try {
      handle = await open(temp, 'wx', 0o600);
    } catch (error) {
      throw storageError('Could not open a file in storage.', error);
    }
    // Failures of the source (a client that disconnected, a size guard) are passed on as they are;
    // only failures of the disk become STORAGE_ERROR.
    let diskStep = false;
    try {
      for await (const chunk of chunksOf(source)) {
        size += chunk.byteLength;
        if (size > maxBytes) throw tooLarge(maxBytes);
        diskStep = true;
        let offset = 0;
        while (offset < chunk.byteLength) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
          offset += bytesWritten;
        }
        diskStep = false;
      }
      diskStep = true;
      await handle.close();
      handle = null;
      await rename(temp, path);
      return { key, size };
    } catch (error) {
      if (handle) await handle.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      if (!diskStep || error instanceof AppError) throw error;
      throw storageError('Could not write to storage.', error);
    }
  }

  async read(key: string): Promise<Uint8Array> {
    const path = this.pathOf(key);
    try {
      const buffer = await readFile(path);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (isNotFound(error)) throw storageError('No such file in storage.', error, 'NOT_FOUND', false);
      throw storageError('Could not read from storage.', error);
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    const path = this.pathOf(key);
    try {
      const info = await fsStat(path);
      if (!info.isFile()) return null;
      return { key, size: info.size, modifiedAt: info.mtime };
    } catch (error) {
      if (isNotFound(error) || (error as NodeJS.ErrnoException)?.code === 'ENOTDIR') return null;
      throw storageError('Could not read from storage.', error);
    }
  }

  async openRead(key: string, range: ByteRange = {}): Promise<Readable> {
    const info = await this.stat(key);
    if (!info) throw storageError('No such file in storage.', undefined, 'NOT_FOUND', false);
    const start = range.start ?? 0;
    const end = range.end ?? info.size - 1;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || (info.size > 0 && (start > end || end >= info.size))) {
      throw storageError('The byte range lies outside the file.', undefined, 'INVALID_RANGE', false);
    }
    const path = this.pathOf(key);
    return new Promise<ReadStream>((resolveStream, reject) => {
      const stream = info.size === 0 ? createReadStream(path, { start: 0, end: -1 }) : createReadStream(path, { start, end });
      const onError = (error: Error) =>
        reject(
          isNotFound(error)
            ? storageError('No such file in storage.', error, 'NOT_FOUND', false)
            : storageError('Could not read from storage.', error),
        );
      stream.once('error', onError);
      stream.once('open', () => {
        stream.off('error', onError);
        resolveStream(stream);
      });
    });
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await rm(path, { force: true });
    } catch (error) {
      throw storageError('Could not delete from storage.', error);
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const path = this.pathOf(prefix);
    try {
      await rm(path, { force: true, recursive: true });
    } catch (error) {
      throw storageError('Could not delete from storage.', error);
    }
  }

  async list(prefix: string): Promise<StoredEntry[]> {
    const path = this.pathOf(prefix);
    try {
      const entries = await readdir(path, { withFileTypes: true });
      const visible = entries.filter((entry) => isValidKey(entry.name) && (entry.isFile() || entry.isDirectory()));
      const listed = await Promise.all(
        visible.map(async (entry) => {
          // Gone since readdir (deleted meanwhile): left out.
          const info = await fsStat(join(path, entry.name)).catch(() => null);
          return info ? { name: entry.name, folder: entry.isDirectory(), modifiedAt: info.mtime } : null;
        }),
      );
      return listed.filter((entry): entry is StoredEntry => entry !== null);
    } catch (error) {
      if (isNotFound(error) || (error as NodeJS.ErrnoException)?.code === 'ENOTDIR') return [];
      throw storageError('Could not list storage.', error);
    }
  }
}

/**
 * The storage backend `STORAGE_BACKEND` names. The S3 backend (and the AWS SDK under it) is loaded
 * only when chosen: a process on the disk backend starts without it.
 */
export async function createStorage(config: Pick<Config, 'storageBackend' | 'storageDir' | 's3'>): Promise<Storage> {
  if (config.storageBackend === 's3' && config.s3) {
    const { S3Storage } = await import('./storage-s3.js');
    return new S3Storage(config.s3);
  }
  return new DiskStorage(config.storageDir);
}
