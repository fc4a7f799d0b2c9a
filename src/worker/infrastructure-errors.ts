/**
 * Infrastructure failures as the job error model: which PostgreSQL SQLSTATEs, ioredis messages and
 * errno values mean "unavailable, retry" and which mean "needs an operator". The worker is the code
 * that retries, so the classification lives beside it; the error classes themselves are the audio
 * core's (src/audio/errors.ts).
 */
import { AppError, type ErrorCode } from '../audio/errors.js';

/** The codes a job's failure may end with (ABORTED is internal: our own aborts, never a job's outcome). */
export const JOB_ERROR_CODES: ReadonlySet<ErrorCode> = new Set([
  'VALIDATION_ERROR',
  'AUDIO_PROCESSING_ERROR',
  'AI_SERVICE_ERROR',
  'TIMEOUT_ERROR',
  'STORAGE_ERROR',
  'UNKNOWN_ERROR',
]);

/** `reason` of a STORAGE_ERROR raised because PostgreSQL could not be reached (retryable). */
export const DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE';
/** `reason` of a STORAGE_ERROR raised because Redis could not be reached (retryable). */
export const REDIS_UNAVAILABLE = 'REDIS_UNAVAILABLE';

/**
 * PostgreSQL SQLSTATEs that mean "the server is not there for us right now": class 08 (connection
 * exception), 57P01 admin_shutdown (pg_terminate_backend, a restart), 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (starting up), 53300 too_many_connections.
 */
const DATABASE_SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300']);
/** Socket-level errors from a client connecting to or talking with a server. */
const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/** What pg, pg-pool and knex say when a connection dies or cannot be had (they carry no code). */
const DATABASE_MESSAGES =
  /Connection terminated|connection error and is not queryable|Timeout acquiring a connection|timeout exceeded when trying to connect|not currently accepting connections|the database system is (shutting down|starting up|in recovery mode)|terminating connection due to administrator command/i;
/** What ioredis says when a command cannot reach the server. */
const REDIS_MESSAGES = /Connection is closed|Stream isn't writeable|max retries per request limit|Redis connection to .* failed/i;
/** File-system errors of our own storage that may pass (space freed, descriptors released, a busy device). */
const TRANSIENT_STORAGE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN']);
/** File-system errors that need an operator (permissions, a read-only mount): retrying will not help. */
const PERMANENT_STORAGE_ERRNOS = new Set(['EACCES', 'EPERM', 'EROFS']);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** The error and its `cause` chain (at most 5 deep: causes can be cyclic in principle). */
function causeChain(error: unknown): ErrorShape[] {
  const chain: ErrorShape[] = [];
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && chain.length < 5 && !chain.includes(current as ErrorShape)) {
    chain.push(current as ErrorShape);
    current = (current as ErrorShape).cause;
  }
  return chain;
}

function codeOf(error: ErrorShape): string {
  return typeof error.code === 'string' ? error.code : '';
}

function messageOf(error: ErrorShape): string {
  return typeof error.message === 'string' ? error.message : '';
}

/** True when `error` (or a cause) says Redis is unreachable: ioredis' MaxRetriesPerRequestError or closed-connection errors. */
export function isRedisUnavailable(error: unknown): boolean {
  return causeChain(error).some(
    (e) => e.name === 'MaxRetriesPerRequestError' || (REDIS_MESSAGES.test(messageOf(e)) && !DATABASE_MESSAGES.test(messageOf(e))),
  );
}

/**
 * True when `error` (or a cause) says PostgreSQL is unreachable: MikroORM's ConnectionException, a
 * SQLSTATE of {@link DATABASE_SQLSTATES}, a socket error, or pg's connection messages. A bare socket
 * error counts as the database's because, in a job, the database driver is the only client that
 * throws them raw (ioredis wraps its own, providers raise AppErrors).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return causeChain(error).some(
    (e) =>
      e.name === 'ConnectionException' ||
      DATABASE_SQLSTATES.has(codeOf(e)) ||
      NETWORK_ERRNOS.has(codeOf(e)) ||
      DATABASE_MESSAGES.test(messageOf(e)),
  );
}

/** The storage errno in `error`'s chain (ENOSPC, EACCES...), or null. */
function storageErrno(error: unknown): string | null {
  for (const e of causeChain(error)) {
    const code = codeOf(e);
    if (TRANSIENT_STORAGE_ERRNOS.has(code) || PERMANENT_STORAGE_ERRNOS.has(code)) return code;
  }
  return null;
}

function storageErrorFor(errno: string, cause: unknown): AppError {
  if (PERMANENT_STORAGE_ERRNOS.has(errno)) {
    return new AppError('STORAGE_ERROR', 'The service cannot write to its storage.', {
      reason: 'STORAGE_PERMISSION',
      retryable: false,
      cause,
    });
  }
  const reason = errno === 'ENOSPC' || errno === 'EDQUOT' ? 'STORAGE_FULL' : 'STORAGE_IO';
  return new AppError('STORAGE_ERROR', 'The service could not use its storage.', { reason, retryable: true, cause });
}

/**
 * Any thrown value as an error of the job error model ({@link JOB_ERROR_CODES}), with `retryable` set
 * the way the queue needs it. See the table in src/worker/conversion.processor.ts. Messages of
 * errors made here are generic (they reach users); the original is kept as `cause` for the log.
 */
export function toErrorModel(error: unknown): AppError {
  if (error instanceof AppError) {
    // Our own DiskStorage wraps every I/O failure as a retryable STORAGE_ERROR; the errno decides.
    if (error.code === 'STORAGE_ERROR' && error.reason === 'STORAGE_ERROR') {
      const errno = storageErrno(error.cause);
      if (errno) return storageErrorFor(errno, error);
    }
    if (JOB_ERROR_CODES.has(error.code)) return error;
  }
  if (isRedisUnavailable(error)) {
    return new AppError('STORAGE_ERROR', 'Redis was unavailable; the conversion will be retried.', {
      reason: REDIS_UNAVAILABLE,
      retryable: true,
      cause: error,
    });
  }
  if (isDatabaseUnavailable(error)) {
    return new AppError('STORAGE_ERROR', 'The database was unavailable; the conversion will be retried.', {
      reason: DATABASE_UNAVAILABLE,
      retryable: true,
      cause: error,
    });
  }
  const errno = storageErrno(error);
  if (errno) return storageErrorFor(errno, error);
  if (causeChain(error).some((e) => e.name === 'TimeoutError')) {
    return new AppError('TIMEOUT_ERROR', 'An operation of the conversion timed out.', {
      reason: 'OPERATION_TIMEOUT',
      retryable: true,
      cause: error,
    });
  }
  return new AppError('UNKNOWN_ERROR', 'The conversion failed unexpectedly.', {
    reason: error instanceof AppError ? error.reason : 'UNKNOWN_ERROR',
    retryable: false,
    cause: error,
  });
}
