/**
 * The storage contract, run against both backends: DiskStorage on a real temporary directory and
 * S3Storage on a real S3-compatible server (s3rver on loopback, test/support/object-store.ts).
 * Atomic writes from every kind of source, the streaming size cap (nothing left behind), ranges,
 * deletion, listing, and keys that try to leave the root. Backend-specific cases follow.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { DiskStorage, isValidKey, type Storage } from '../../../src/platform/storage.js';
import { PART_BYTES, S3Storage, createS3Client } from '../../../src/platform/storage-s3.js';
import { AppError, ValidationError } from '../../../src/audio/errors.js';
import { Cleanup } from '../../support/service-harness.js';
import { startObjectStore, type TestObjectStore } from '../../support/object-store.js';

let root: string;
let storage: Storage;
/** Everything the backend holds, temp files and objects alike (relative names). */
let everything: () => Promise<string[]>;
const cleanup = new Cleanup();

afterEach(async () => {
  await cleanup.run();
  await rm(root, { recursive: true, force: true });
});

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return new Uint8Array(Buffer.concat(parts));
}

/** Every file under `dir`, recursively (temp files included). */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error.reason;
    throw error;
  }
  throw new Error('expected a rejection');
}

let store: TestObjectStore | null = null;

const BACKENDS: [string, () => Promise<void>][] = [
  [
    'fs',
    async () => {
      storage = new DiskStorage(join(root, 'store'));
      everything = () => filesUnder(join(root, 'store'));
    },
  ],
  [
    's3',
    async () => {
      store = await startObjectStore(cleanup);
      const s3 = new S3Storage(store.config);
      cleanup.add(() => s3.close());
      storage = s3;
      const { keys } = store;
      everything = keys;
    },
  ],
];

describe.each(BACKENDS)('the storage contract on %s', (_name, makeBackend) => {
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mv-storage-test-'));
    await makeBackend();
  });

  it('writes bytes, a Readable and an async iterable, and reads back exactly what was written', async () => {
    const a = bytes(1000, 1);
    const b = bytes(70_000, 2);
    const c = bytes(5, 3);
    expect(await storage.write('x/a.bin', a)).toEqual({ key: 'x/a.bin', size: 1000 });
    await storage.write('x/b.bin', Readable.from([b.subarray(0, 30_000), b.subarray(30_000)]));
    await storage.write(
      'y/c.bin',
      (async function* () {
        yield c.subarray(0, 2);
        yield c.subarray(2);
      })(),
    );
    expect(await storage.read('x/a.bin')).toEqual(a);
    expect(await storage.read('x/b.bin')).toEqual(b);
    expect(await storage.read('y/c.bin')).toEqual(c);
    expect((await storage.stat('x/b.bin'))?.size).toBe(70_000);
    expect(await storage.stat('x/missing')).toBeNull();
  });

  it('stops a write past maxBytes with FILE_TOO_LARGE and leaves neither the object nor a temp file', async () => {
    let produced = 0;
    const endless = (async function* () {
      for (;;) {
        produced += 4096;
        yield bytes(4096);
      }
    })();
    const error = await storage.write('up/big', endless, { maxBytes: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).reason).toBe('FILE_TOO_LARGE');
    // It stopped at the first chunk past the cap: nothing unbounded was read.
    expect(produced).toBe(12_288);
    expect(await storage.stat('up/big')).toBeNull();
    expect(await everything()).toEqual([]);
  });

  it('accepts an object of exactly maxBytes', async () => {
    await storage.write('up/exact', bytes(10_000), { maxBytes: 10_000 });
    expect((await storage.stat('up/exact'))?.size).toBe(10_000);
  });

  it('keeps the previous object whole when a replacing write fails', async () => {
    const old = bytes(100, 9);
    await storage.write('k/obj', old);
    const failing = (async function* () {
      yield bytes(50);
      throw new Error('client went away');
    })();
    await expect(storage.write('k/obj', failing)).rejects.toThrow('client went away');
    expect(await storage.read('k/obj')).toEqual(old);
    expect(await everything()).toHaveLength(1);
  });

  it('streams single byte ranges (inclusive ends) and refuses ranges outside the object', async () => {
    const data = bytes(1000);
    await storage.write('r/data', data);
    expect(await collect(await storage.openRead('r/data', { start: 100, end: 199 }))).toEqual(data.subarray(100, 200));
    expect(await collect(await storage.openRead('r/data', { start: 990 }))).toEqual(data.subarray(990));
    expect(await collect(await storage.openRead('r/data'))).toEqual(data);
    expect(await reason(storage.openRead('r/data', { start: 1000 }))).toBe('INVALID_RANGE');
    expect(await reason(storage.openRead('r/data', { start: 10, end: 5 }))).toBe('INVALID_RANGE');
    expect(await reason(storage.openRead('r/missing'))).toBe('NOT_FOUND');
  });

  it('reports a missing object on read as STORAGE_ERROR NOT_FOUND', async () => {
    const error = await storage.read('nothing/here').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('STORAGE_ERROR');
    expect((error as AppError).reason).toBe('NOT_FOUND');
  });

  it('deletes single objects and whole prefixes, quietly when nothing is there', async () => {
    await storage.write('conversions/a/input', bytes(10));
    await storage.write('conversions/a/out/vocals.wav', bytes(10));
    await storage.write('conversions/ab/input', bytes(10));
    await storage.delete('conversions/a/input');
    expect(await storage.stat('conversions/a/input')).toBeNull();
    await storage.delete('conversions/a/input');
    await storage.deletePrefix('conversions/a');
    expect(await storage.stat('conversions/a/out/vocals.wav')).toBeNull();
    // A sibling whose name merely starts with the same letters is untouched.
    expect(await storage.stat('conversions/ab/input')).not.toBeNull();
    await storage.deletePrefix('conversions/none');
  });

  it('lists what lies directly under a prefix: objects and folders by name, with their times', async () => {
    const before = Date.now() - 2000; // S3 keeps whole seconds
    await storage.write('conversions/c1/input', bytes(10));
    await storage.write('conversions/c1/att-1/vocals.wav', bytes(10));
    await storage.write('conversions/c1/att-1/deep/x', bytes(10));
    await storage.write('conversions/c2/input', bytes(10));
    const top = (await storage.list!('conversions')).map(({ name, folder }) => ({ name, folder }));
    expect(top.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'c1', folder: true },
      { name: 'c2', folder: true },
    ]);
    const inside = await storage.list!('conversions/c1');
    expect(inside.map(({ name, folder }) => ({ name, folder })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'att-1', folder: true },
      { name: 'input', folder: false },
    ]);
    for (const entry of inside) expect(entry.modifiedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(await storage.list!('conversions/none')).toEqual([]);
  });

  it('streams an object larger than one multipart part in and reads any range of it back', async () => {
    const size = PART_BYTES + 1_234_567;
    const data = bytes(size, 4);
    const chunks = Array.from({ length: Math.ceil(size / 65_536) }, (_, i) => data.subarray(i * 65_536, (i + 1) * 65_536));
    expect(await storage.write('big/object', Readable.from(chunks), { maxBytes: size })).toEqual({ key: 'big/object', size });
    expect((await storage.stat('big/object'))?.size).toBe(size);
    const start = PART_BYTES - 10;
    expect(await collect(await storage.openRead('big/object', { start, end: start + 99 }))).toEqual(data.subarray(start, start + 100));
    expect(await storage.read('big/object')).toEqual(data);
  });

  it('stops a write past maxBytes after a multipart part went out, and leaves no object', async () => {
    let produced = 0;
    const endless = (async function* () {
      for (;;) {
        produced += 65_536;
        yield bytes(65_536);
      }
    })();
    const maxBytes = PART_BYTES + 100_000;
    const error = await storage.write('up/huge', endless, { maxBytes }).catch((e: unknown) => e);
    expect((error as ValidationError).reason).toBe('FILE_TOO_LARGE');
    expect(produced).toBeLessThanOrEqual(maxBytes + 65_536);
    expect(await storage.stat('up/huge')).toBeNull();
    expect(await everything()).toEqual([]);
  });

  it.each([
    '../escape',
    'a/../../escape',
    '/etc/passwd',
    'a//b',
    '.hidden',
    'a/.tmp',
    'a\\..\\b',
    '',
    'a/',
    'x'.repeat(513),
    'nul\0byte',
    '%2e%2e/x',
  ])('refuses the key %j without touching the disk', async (key) => {
    expect(isValidKey(key)).toBe(false);
    expect(await reason(storage.write(key, bytes(1)))).toBe('INVALID_KEY');
    expect(await reason(storage.read(key))).toBe('INVALID_KEY');
    expect(await reason(storage.deletePrefix(key))).toBe('INVALID_KEY');
    expect(await filesUnder(root)).toEqual([]);
    expect(await everything()).toEqual([]);
    await expect(stat(join(root, 'escape'))).rejects.toThrow();
  });
});

describe('S3Storage on its own terms', () => {
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mv-storage-test-'));
    await BACKENDS[1][1]();
  });

  /** The names of the S3 commands `s3` sends from now on. */
  function recordCommands(s3: S3Storage): string[] {
    const sent: string[] = [];
    s3.client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    return sent;
  }

  it('aborts the multipart upload it began when the source fails mid-way, and keeps the old object', async () => {
    const s3 = storage as S3Storage;
    await s3.write('k/obj', bytes(100, 9));
    const sent = recordCommands(s3);
    const failing = (async function* () {
      for (let i = 0; i < 100; i += 1) yield bytes(65_536);
      throw new Error('client went away');
    })();
    await expect(s3.write('k/obj', failing)).rejects.toThrow('client went away');
    expect(sent).toContain('CreateMultipartUploadCommand');
    expect(sent).toContain('AbortMultipartUploadCommand');
    expect(sent).not.toContain('CompleteMultipartUploadCommand');
    expect(await s3.read('k/obj')).toEqual(bytes(100, 9));
    expect(await everything()).toEqual(['k/obj']);
  });

  it('sends nothing to the store for a refused upload smaller than one part', async () => {
    const s3 = storage as S3Storage;
    const sent = recordCommands(s3);
    const error = await s3.write('up/small', Readable.from([bytes(8000), bytes(8000)]), { maxBytes: 10_000 }).catch((e: unknown) => e);
    expect((error as ValidationError).reason).toBe('FILE_TOO_LARGE');
    expect(sent.filter((name) => name !== 'AbortMultipartUploadCommand')).toEqual([]);
  });

  it('turns a store that does not answer into a retryable STORAGE_ERROR STORAGE_IO', async () => {
    await storage.write('a/b', bytes(10));
    await store!.stop();
    for (const attempt of [storage.read('a/b'), storage.write('a/c', bytes(10)), storage.list!('a'), storage.deletePrefix('a')]) {
      const error = (await attempt.catch((e: unknown) => e)) as AppError;
      expect(error).toBeInstanceOf(AppError);
      expect([error.code, error.reason, error.retryable]).toEqual(['STORAGE_ERROR', 'STORAGE_IO', true]);
    }
    await store!.start();
    expect(await storage.read('a/b')).toEqual(bytes(10));
  });

  it('reports a bucket that does not exist as STORAGE_PERMISSION, not retryable', async () => {
    const wrong = new S3Storage({ ...store!.config, bucket: 'no-such-bucket-here' });
    cleanup.add(() => wrong.close());
    const error = (await wrong.write('a/b', bytes(10)).catch((e: unknown) => e)) as AppError;
    expect([error.code, error.reason, error.retryable]).toEqual(['STORAGE_ERROR', 'STORAGE_PERMISSION', false]);
    expect(await reason(wrong.read('a/b'))).toBe('STORAGE_PERMISSION');
  });

  it('leaves a multipart upload that another writer abandoned to the store (s3rver keeps its parts)', async () => {
    // What the bucket lifecycle rule (AbortIncompleteMultipartUpload) is for: an upload whose
    // process died between CreateMultipartUpload and Abort. It never becomes a visible object.
    const client = createS3Client(store!.config);
    cleanup.add(() => client.destroy());
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: store!.bucket, Key: 'orphan/upload' }));
    expect(UploadId).toBeTruthy();
    expect(await storage.stat('orphan/upload')).toBeNull();
    expect(await storage.list!('orphan')).toEqual([]);
    await client.send(new AbortMultipartUploadCommand({ Bucket: store!.bucket, Key: 'orphan/upload', UploadId })).catch(() => undefined);
  });
});
