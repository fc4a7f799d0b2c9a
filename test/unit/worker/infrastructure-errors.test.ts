/**
 * The job error model (toErrorModel in src/worker/infrastructure-errors.ts, the table in
 * src/worker/conversion.processor.ts): every failure becomes one of the six codes with `retryable`
 * right. Where the machine can produce the real error cheaply it does (a PostgreSQL backend
 * terminated with 57P01, a refused connection, an ioredis client with no server, ENOSPC from
 * /dev/full, DiskStorage's own wrapping); the rest are built with the shape their library gives them.
 */
import { writeFile } from 'node:fs/promises';
import { knex } from '@mikro-orm/knex';
import { ConnectionException, DriverException } from '@mikro-orm/core';
import { Redis } from 'ioredis';
import { AppError, AudioProcessingError, ValidationError } from '../../../src/audio/errors.js';
import {
  DATABASE_UNAVAILABLE,
  REDIS_UNAVAILABLE,
  isDatabaseUnavailable,
  isRedisUnavailable,
  toErrorModel,
} from '../../../src/worker/infrastructure-errors.js';
import { jobTimeoutError, toJobError, workerLostError } from '../../../src/worker/conversion-attempt.js';
import { POSTGRES_ADMIN_URL, freePort } from '../../support/service-harness.js';

/** An error as Node's fs or net layer makes it. */
function errno(code: string, syscall = 'write'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, ${syscall}`), { code, syscall, errno: -1 });
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('errors of the model keep their code and retryable flag', () => {
  it.each([
    ['a validation failure', new ValidationError([{ code: 'TOO_SHORT', message: 'Too short.' }]), 'VALIDATION_ERROR', false],
    [
      'an audio processing failure',
      new AudioProcessingError('Decoder crashed.', { reason: 'DECODER_CRASH' }),
      'AUDIO_PROCESSING_ERROR',
      false,
    ],
    [
      'a retryable provider failure',
      new AppError('AI_SERVICE_ERROR', 'Provider down.', { reason: 'HTTP_503', retryable: true }),
      'AI_SERVICE_ERROR',
      true,
    ],
    ['the job timeout', jobTimeoutError(300), 'TIMEOUT_ERROR', false],
    ['a job that lost its worker too often', workerLostError(3), 'AUDIO_PROCESSING_ERROR', false],
    [
      'a missing input file',
      new AppError('STORAGE_ERROR', 'No such file in storage.', { reason: 'NOT_FOUND', retryable: false, cause: errno('ENOENT', 'open') }),
      'STORAGE_ERROR',
      false,
    ],
  ])('%s', (_, error, code, retryable) => {
    const mapped = toJobError(error);
    expect(mapped).toBe(error);
    expect([mapped.code, mapped.retryable]).toEqual([code, retryable]);
  });

  it('names WORKER_LOST and the number of lost workers', () => {
    expect(workerLostError(3)).toMatchObject({ reason: 'WORKER_LOST', message: expect.stringContaining('3 times') });
  });
});

describe('PostgreSQL unavailable → STORAGE_ERROR, DATABASE_UNAVAILABLE, retryable', () => {
  it('a backend terminated by pg_terminate_backend (SQLSTATE 57P01)', async () => {
    const db = knex({ client: 'pg', connection: POSTGRES_ADMIN_URL, pool: { min: 0, max: 1 } });
    try {
      const error = await rejection(db.raw('select pg_terminate_backend(pg_backend_pid())'));
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(toErrorModel(error)).toMatchObject({ code: 'STORAGE_ERROR', reason: DATABASE_UNAVAILABLE, retryable: true });
    } finally {
      await db.destroy();
    }
  });

  it('a refused connection (nothing listens on the port)', async () => {
    const port = await freePort();
    const db = knex({
      client: 'pg',
      connection: `postgres://postgres@127.0.0.1:${port}/postgres`,
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 5000,
    });
    try {
      const error = await rejection(db.raw('select 1'));
      expect(toErrorModel(error)).toMatchObject({ code: 'STORAGE_ERROR', reason: DATABASE_UNAVAILABLE, retryable: true });
    } finally {
      await db.destroy();
    }
  });

  it.each([
    ["MikroORM's ConnectionException", new ConnectionException(new Error('connect failed'))],
    [
      'a database that does not allow connections (55000)',
      Object.assign(new DriverException(new Error('database "mv_test_x" is not currently accepting connections')), { code: '55000' }),
    ],
    ['pg: Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['pg: a client that is not queryable', new Error('Client has encountered a connection error and is not queryable')],
    ['knex: no connection from the pool', new Error('Knex: Timeout acquiring a connection. The pool is probably full.')],
    ['the database is starting up (57P03)', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['a connection failure (08006)', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['an ECONNRESET wrapped as a cause', new Error('query failed', { cause: errno('ECONNRESET', 'read') })],
  ])('%s', (_, error) => {
    expect(toErrorModel(error)).toMatchObject({ code: 'STORAGE_ERROR', reason: DATABASE_UNAVAILABLE, retryable: true });
  });

  it('but not an ordinary SQL error (a unique violation is a bug, not an outage)', () => {
    const error = Object.assign(new DriverException(new Error('duplicate key value violates unique constraint')), { code: '23505' });
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(toErrorModel(error)).toMatchObject({ code: 'UNKNOWN_ERROR', retryable: false });
  });
});

describe('Redis unavailable → STORAGE_ERROR, REDIS_UNAVAILABLE, retryable', () => {
  it('an ioredis command with no server to reach', async () => {
    const port = await freePort();
    const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    redis.on('error', () => undefined);
    try {
      const error = await rejection(redis.get('anything'));
      expect(isRedisUnavailable(error)).toBe(true);
      expect(toErrorModel(error)).toMatchObject({ code: 'STORAGE_ERROR', reason: REDIS_UNAVAILABLE, retryable: true });
    } finally {
      redis.disconnect();
    }
  });

  it.each([
    [
      'MaxRetriesPerRequestError',
      Object.assign(
        new Error('Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.'),
        { name: 'MaxRetriesPerRequestError' },
      ),
    ],
    ['Connection is closed', new Error('Connection is closed.')],
    ['no offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
  ])('%s', (_, error) => {
    expect(toErrorModel(error)).toMatchObject({ code: 'STORAGE_ERROR', reason: REDIS_UNAVAILABLE, retryable: true });
  });
});

describe('storage I/O → STORAGE_ERROR', () => {
  it('ENOSPC from a full device is retryable (space may be freed)', async () => {
    const error = await rejection(writeFile('/dev/full', 'x'));
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(toErrorModel(error)).toMatchObject({ code: 'STORAGE_ERROR', reason: 'STORAGE_FULL', retryable: true });
  });

  it.each([
    ['EIO', 'STORAGE_IO', true],
    ['EMFILE', 'STORAGE_IO', true],
    ['EDQUOT', 'STORAGE_FULL', true],
    ['EACCES', 'STORAGE_PERMISSION', false],
    ['EPERM', 'STORAGE_PERMISSION', false],
    ['EROFS', 'STORAGE_PERMISSION', false],
  ])('%s → %s, retryable %s', (code, reason, retryable) => {
    expect(toErrorModel(errno(code))).toMatchObject({ code: 'STORAGE_ERROR', reason, retryable });
  });

  it("DiskStorage's own wrapping (a generic retryable STORAGE_ERROR) is refined by the errno it carries", () => {
    const wrapped = new AppError('STORAGE_ERROR', 'Could not write to storage.', { retryable: true, cause: errno('EACCES', 'open') });
    expect(toErrorModel(wrapped)).toMatchObject({ code: 'STORAGE_ERROR', reason: 'STORAGE_PERMISSION', retryable: false });
    const full = new AppError('STORAGE_ERROR', 'Could not write to storage.', { retryable: true, cause: errno('ENOSPC') });
    expect(toErrorModel(full)).toMatchObject({ code: 'STORAGE_ERROR', reason: 'STORAGE_FULL', retryable: true });
  });
});

describe('everything else', () => {
  it('a TimeoutError (AbortSignal.timeout) is a retryable TIMEOUT_ERROR', async () => {
    const error = await rejection(
      new Promise((_, reject) => {
        const signal = AbortSignal.timeout(1);
        signal.addEventListener('abort', () => reject(signal.reason as Error));
      }),
    );
    expect(toErrorModel(error)).toMatchObject({ code: 'TIMEOUT_ERROR', reason: 'OPERATION_TIMEOUT', retryable: true });
  });

  it('our own ABORTED (never a job outcome) and plain bugs are UNKNOWN_ERROR, not retryable, with a generic message', () => {
    expect(toErrorModel(new AppError('ABORTED', 'stopped', { reason: 'X' }))).toMatchObject({
      code: 'UNKNOWN_ERROR',
      reason: 'X',
      retryable: false,
    });
    const bug = toErrorModel(new TypeError("Cannot read properties of undefined (reading 'x') at /srv/app/secret/path.js"));
    expect(bug).toMatchObject({
      code: 'UNKNOWN_ERROR',
      reason: 'UNKNOWN_ERROR',
      retryable: false,
      message: 'The conversion failed unexpectedly.',
    });
    expect(toErrorModel('a string')).toMatchObject({ code: 'UNKNOWN_ERROR', retryable: false });
    expect(toErrorModel(null)).toMatchObject({ code: 'UNKNOWN_ERROR', retryable: false });
  });

  it('keeps the original as the cause, for the log', () => {
    const original = new Error('Connection terminated');
    expect(toErrorModel(original).cause).toBe(original);
  });
});
