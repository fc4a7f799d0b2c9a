/**
 * Periodic maintenance that one worker at a time should run (the retention sweep, the reconciler):
 * every interval each worker tries a Redis lock (`SET key token NX PX ttl`); the one that gets it runs
 * the task, the others skip that round. The lock expires by itself, so a worker that dies holding it
 * blocks the task for at most one lock lifetime; it is released (only by its holder: compare and
 * delete in one script) as soon as the task ends.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../platform/logger.js';

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Runs `task` holding the lock `key` (lifetime `ttlMs`); resolves with its result, or with `null`
 * without running it when another holder has the lock.
 */
export async function withRedisLock<T>(
  redis: Pick<Redis, 'set' | 'eval'>,
  key: string,
  ttlMs: number,
  task: () => Promise<T>,
): Promise<T | null> {
  const token = randomUUID();
  const taken = await redis.set(key, token, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
  if (taken !== 'OK') return null;
  try {
    return await task();
  } finally {
    await redis.eval(RELEASE_SCRIPT, 1, key, token).catch(() => undefined);
  }
}

export interface PeriodicTask {
  /** Runs one round now (lock permitting), unless one is running; resolves when it is over. */
  runNow(): Promise<void>;
  /** Stops the timer and waits for a round in progress. */
  stop(): Promise<void>;
}

/**
 * Every `intervalMs` (the first round one interval after start), runs `task` under the lock `lockKey`
 * (lifetime: the larger of the interval and `minLockMs`, default 60 s, so a slow round is not joined by
 * a second worker). Errors are logged, never thrown; rounds never overlap within a process.
 */
export function startPeriodicTask(options: {
  name: string;
  redis: Pick<Redis, 'set' | 'eval'>;
  lockKey: string;
  intervalMs: number;
  minLockMs?: number;
  logger: Pick<Logger, 'warn'>;
  task: () => Promise<unknown>;
}): PeriodicTask {
  const lockMs = Math.max(options.intervalMs, options.minLockMs ?? 60_000);
  let current: Promise<void> | null = null;
  let stopped = false;
  const round = (): Promise<void> =>
    (current ??= (async () => {
      try {
        await withRedisLock(options.redis, options.lockKey, lockMs, options.task);
      } catch (error) {
        options.logger.warn(`${options.name} failed; trying again next round`, { error: (error as Error).message });
      } finally {
        current = null;
      }
    })());
  const timer = setInterval(() => {
    if (!stopped) void round();
  }, options.intervalMs);
  timer.unref();
  return {
    runNow: () => round(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
