/**
 * DiskStorage on a real temporary directory: atomic writes from every kind of source, the streaming
 * size cap, ranges, deletion, and keys that try to leave the root.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DiskStorage, isValidKey } from '../../../src/platform/storage.js';
import { AppError, ValidationError } from '../../../src/audio/errors.js';

let root: string;
let storage: DiskStorage;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mv-storage-test-'));
  storage = new DiskStorage(join(root, 'store'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

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

describe('DiskStorage', () => {
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
    expect(await filesUnder(join(root, 'store'))).toEqual([]);
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
    expect((await filesUnder(join(root, 'store'))).length).toBe(1);
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
    await expect(stat(join(root, 'escape'))).rejects.toThrow();
  });
});
