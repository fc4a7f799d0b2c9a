/**
 * The job-start limiter shared by every worker: at most `limit` conversion starts per sliding window
 * of `windowMs` (JOB_START_LIMIT per JOB_START_WINDOW_MS, default 10 per minute), kept in Redis as a
 * sliding-window log: a sorted set of one member per start, scored by its Redis time in ms.
 *
 * One Lua script does the whole check atomically (so two workers can never both take the last
 * place): drop the starts older than the window, count the rest, and either record this start or
 * answer how long until the oldest one leaves the window. Times come from the Redis server's clock
 * (`TIME`), so workers on hosts whose clocks disagree still share one window.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../platform/logger.js';

/**
 * KEYS[1] the log; ARGV[1] window ms, ARGV[2] limit, ARGV[3] a member unique to this start.
 * Returns 0 when the start was recorded, else the ms until a place frees up (≥ 1).
 */
const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
`;

export interface StartLimiterOptions {
  /** Starts allowed per window; 0 turns the limiter off. */
  limit: number;
  /** The window, ms. */
  windowMs: number;
  /** The Redis key of the log (`<REDIS_PREFIX>:queue:starts`). */
  key: string;
  /** Wait after a Redis error before trying again, ms; default 1000. */
  errorRetryMs?: number;
  logger?: Pick<Logger, 'warn'>;
}

export interface StartLimiter {
  /**
   * Resolves once this process may start one job (the start is then recorded). Waits while the window
   * is full, until its oldest start leaves it; on a Redis error waits `errorRetryMs` and tries again.
   * Rejects with `signal.reason` when `signal` aborts (worker shutdown).
   */
  acquire(signal?: AbortSignal): Promise<void>;
}

/** Sleeps `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A limiter over `redis` (any ioredis connection; it only runs EVAL). */
export function createStartLimiter(redis: Pick<Redis, 'eval'>, options: StartLimiterOptions): StartLimiter {
  const errorRetryMs = options.errorRetryMs ?? 1000;
  if (options.limit <= 0) {
    return {
      acquire: (signal) => (signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve()),
    };
  }
  return {
    async acquire(signal) {
      const member = randomUUID();
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        let waitMs: number;
        try {
          waitMs = Number(await redis.eval(ACQUIRE_SCRIPT, 1, options.key, options.windowMs, options.limit, member));
        } catch (error) {
          options.logger?.warn('Start limiter: Redis error; retrying', { error: (error as Error).message, retryInMs: errorRetryMs });
          waitMs = errorRetryMs;
        }
        if (waitMs === 0) return;
        await sleep(waitMs, signal);
      }
    },
  };
}
