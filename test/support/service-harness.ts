/**
 * What every service test (integration and e2e) needs around the real services: a cleanup list, a
 * PostgreSQL database `mv_test_<random>`, a Redis key prefix `mvtest-<random>` and a storage
 * directory of the test's own (each removed again by the cleanup list), a free TCP port and tokens.
 *
 * The area harnesses (`api-harness.ts`, `read-side-harness.ts`, `worker-harness.ts`,
 * `service-processes.ts`) build on these; tests import the shared pieces from here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knex } from '@mikro-orm/knex';
import type { Redis } from 'ioredis';
import { initOrm, type Orm } from '../../src/platform/database.js';
import { ENTITIES } from '../../src/modules/entities.js';
import { createRedis } from '../../src/platform/redis.js';
import { signToken } from '../../src/platform/auth.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { QUEUE_NAMES } from '../../src/worker/conversion-queues.js';
import { startObjectStore, type TestObjectStore } from './object-store.js';

/** The local PostgreSQL (user postgres, trust auth) as its maintenance database. */
export const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** The local Redis. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Disposers run last-in first-out; one failing does not stop the others (the first error is rethrown). */
export class Cleanup {
  private readonly tasks: (() => unknown)[] = [];

  add(task: () => unknown): void {
    this.tasks.push(task);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.tasks.length > 0) {
      const task = this.tasks.pop()!;
      try {
        await task();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** 12 random hex digits, for names no other test (or test run) uses. */
export function uniqueSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** A random secret long enough for production rules (64 hex digits). */
export function randomSecret(): string {
  return randomBytes(32).toString('hex');
}

/** The URL of database `name` on the local PostgreSQL. */
export function databaseUrl(name: string): string {
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}

/** Drops a test database, closing whatever connections are still open to it. */
export async function dropDatabase(name: string): Promise<void> {
  const admin = knex({ client: 'pg', connection: POSTGRES_ADMIN_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.destroy();
  }
}

/**
 * A database name `mv_test_<random>` that the cleanup drops; nothing is created yet (`initOrm`, or a
 * process's start-up, creates it and runs the migrations).
 */
export function reserveTestDatabase(cleanup: Cleanup): { name: string; url: string } {
  const name = `mv_test_${uniqueSuffix()}`;
  cleanup.add(() => dropDatabase(name));
  return { name, url: databaseUrl(name) };
}

/** A fresh database `mv_test_<random>` with the migrations applied, and an ORM on it; both go with the cleanup. */
export async function createTestDatabase(cleanup: Cleanup): Promise<{ orm: Orm; url: string; name: string }> {
  const { name, url } = reserveTestDatabase(cleanup);
  const orm = await initOrm(url, ENTITIES);
  cleanup.add(() => orm.close(true));
  return { orm, url, name };
}

/** Deletes every Redis key under `<prefix>:`. */
export async function deleteRedisKeys(prefix: string, redisUrl = REDIS_URL): Promise<void> {
  const redis = createRedis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A Redis key prefix `mvtest-<random>`; the cleanup deletes every key under it. */
export function createTestPrefix(cleanup: Cleanup): string {
  const prefix = `mvtest-${uniqueSuffix()}`;
  cleanup.add(() => deleteRedisKeys(prefix));
  return prefix;
}

/** A new empty directory under the system temp dir (`<label>XXXXXX`); the cleanup removes it with its contents. */
export async function createStorageDir(cleanup: Cleanup, label = 'mv-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A TCP port that was free on 127.0.0.1 a moment ago (the OS picked it for a listener we closed).
 * For processes that must know their port before they start (their signed links name it); servers in
 * this process should listen on port 0 instead.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('No port assigned.'))));
    });
  });
}

/** A bearer token for `userId`, signed with `secret` as the service's `npm run token` does. */
export function mintToken(secret: string, userId: string, role: Role = Role.USER): string {
  return signToken(secret, userId, role);
}

/**
 * Everything a test's own service instance needs: database (not yet created; dropped by the cleanup),
 * Redis prefix (keys deleted by the cleanup), storage directory (removed by the cleanup), JWT secret,
 * and the environment variables that point a configuration (or a process) at them.
 */
export interface TestResources {
  databaseName: string;
  databaseUrl: string;
  prefix: string;
  storageDir: string;
  jwtSecret: string;
  /**
   * The test's own bucket on a loopback S3 server when the storage backend is s3 (see
   * {@link testStorageBackend}); null with fs.
   */
  objectStore: TestObjectStore | null;
  /**
   * NODE_ENV, DATABASE_URL, REDIS_URL, REDIS_PREFIX, STORAGE_DIR and JWT_SECRET for `loadConfig` or a
   * child process; with s3 also STORAGE_BACKEND, S3_* and the AWS_* credentials.
   */
  env: Record<string, string>;
  /** Everything the storage holds (relative paths or object keys, temp files included), sorted. */
  storedFiles(): Promise<string[]>;
}

/**
 * The storage backend service tests run on: `fs`, or `s3` when the test runner's environment has
 * `TEST_STORAGE_BACKEND=s3` (the `s3` jest projects set it, jest.config.js) or a test asks for it.
 */
export function testStorageBackend(requested?: 'fs' | 's3'): 'fs' | 's3' {
  return requested ?? (process.env.TEST_STORAGE_BACKEND === 's3' ? 's3' : 'fs');
}

export async function createTestResources(
  cleanup: Cleanup,
  options: { storageLabel?: string; jwtSecret?: string; storageBackend?: 'fs' | 's3' } = {},
): Promise<TestResources> {
  const storageDir = await createStorageDir(cleanup, options.storageLabel);
  const objectStore = testStorageBackend(options.storageBackend) === 's3' ? await startObjectStore(cleanup) : null;
  const prefix = createTestPrefix(cleanup);
  const database = reserveTestDatabase(cleanup);
  const jwtSecret = options.jwtSecret ?? randomSecret();
  return {
    databaseName: database.name,
    databaseUrl: database.url,
    prefix,
    storageDir,
    jwtSecret,
    objectStore,
    storedFiles: objectStore ? () => objectStore.keys() : () => filesUnder(storageDir),
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      STORAGE_DIR: storageDir,
      JWT_SECRET: jwtSecret,
      // Test processes make many anonymous requests from one address; the limit's own tests set it.
      ANONYMOUS_RATE_LIMIT_PER_MINUTE: '0',
      ...objectStore?.env,
    },
  };
}

/** Every file under `dir`, as sorted paths relative to it (temp files included); empty when `dir` is gone. */
export async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/**
 * Bee-Queue's own record of the conversion queues (all priorities) under `prefix`: `jobs`, every job
 * they hold (the hashes of job data; finished jobs are kept), and `waiting`, the jobs no worker has
 * taken yet.
 */
export async function queuedJobs(redis: Pick<Redis, 'hlen' | 'llen'>, prefix: string): Promise<{ jobs: number; waiting: number }> {
  let jobs = 0;
  let waiting = 0;
  for (const name of Object.values(QUEUE_NAMES)) {
    jobs += await redis.hlen(`${prefix}:bq:${name}:jobs`);
    waiting += await redis.llen(`${prefix}:bq:${name}:waiting`);
  }
  return { jobs, waiting };
}
