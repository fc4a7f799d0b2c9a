/**
 * Publishes this process's breaker states to Redis so the admin `stats` (answered by any API replica)
 * shows the breakers of every worker: one hash `<REDIS_PREFIX>:breakers`, one field per breaker and
 * process, `<breaker name>@<hostname>:<pid>`, whose value is a {@link PublishedBreaker} JSON document.
 *
 * Written on every state change and every `intervalMs` (10 s) as a heartbeat (`updatedAt`); readers
 * drop entries older than {@link BREAKER_STALE_MS} (a process that died without cleaning up). `stop()`
 * removes this process's fields. Redis being away is logged, never thrown: breakers work without it.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { redisKey } from '../redis.js';
import type { BreakerStatus, ProviderHost } from './provider-host.js';

/** Entries whose `updatedAt` is older than this are stale (6 missed heartbeats), ms. */
export const BREAKER_STALE_MS = 60_000;
/** Heartbeat period, ms. */
export const BREAKER_PUBLISH_INTERVAL_MS = 10_000;

/** One breaker of one process, as stored in the hash. */
export interface PublishedBreaker extends BreakerStatus {
  /** `<hostname>:<pid>` of the process that owns the breaker. */
  process: string;
  /** When the process last wrote this entry (ISO). */
  updatedAt: string;
}

/** The hash that holds every process's breakers. */
export function breakersKey(prefix: string): string {
  return redisKey(prefix, 'breakers');
}

export interface BreakerPublisherOptions {
  /** Heartbeat period, ms. Default {@link BREAKER_PUBLISH_INTERVAL_MS}. */
  intervalMs?: number;
  /** This process's id in the field names. Default `<hostname>:<pid>`. */
  processId?: string;
  logger?: Pick<Logger, 'warn'>;
  /** Wall clock, ms. Default `Date.now`. */
  now?: () => number;
}

export interface BreakerPublisher {
  /** Writes every breaker now (also done on each change and heartbeat). */
  publish(): Promise<void>;
  /** Stops the heartbeat and removes this process's fields. */
  stop(): Promise<void>;
}

/**
 * Starts publishing `host`'s breakers to `redis` under `prefix` (writes once at once). The worker
 * calls it after creating its provider host and awaits `stop()` on shutdown, before closing Redis.
 */
export function publishBreakerStates(
  host: Pick<ProviderHost, 'breakers' | 'onBreakerChange'>,
  redis: Pick<Redis, 'hset' | 'hdel'>,
  prefix: string,
  options: BreakerPublisherOptions = {},
): BreakerPublisher {
  const processId = options.processId ?? `${hostname()}:${process.pid}`;
  const now = options.now ?? Date.now;
  const key = breakersKey(prefix);
  const fieldOf = (name: string) => `${name}@${processId}`;
  let stopped = false;
  // Writes run one after another, so stop()'s removal always comes after the last write.
  let writes: Promise<void> = Promise.resolve();

  const write = async (): Promise<void> => {
    const statuses = host.breakers();
    if (stopped || statuses.length === 0) return;
    const updatedAt = new Date(now()).toISOString();
    const fields: Record<string, string> = {};
    for (const status of statuses)
      fields[fieldOf(status.name)] = JSON.stringify({ ...status, process: processId, updatedAt } satisfies PublishedBreaker);
    try {
      await redis.hset(key, fields);
    } catch (error) {
      options.logger?.warn('Could not publish circuit breaker states', { error: (error as Error).message });
    }
  };
  const publish = (): Promise<void> => (writes = writes.then(write));

  const unsubscribe = host.onBreakerChange(() => void publish());
  const timer = setInterval(() => void publish(), options.intervalMs ?? BREAKER_PUBLISH_INTERVAL_MS);
  timer.unref();
  void publish();

  return {
    publish,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      await writes;
      const fields = host.breakers().map((status) => fieldOf(status.name));
      if (fields.length === 0) return;
      try {
        await redis.hdel(key, ...fields);
      } catch (error) {
        options.logger?.warn('Could not remove circuit breaker states', { error: (error as Error).message });
      }
    },
  };
}
