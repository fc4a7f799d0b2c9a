/**
 * ioredis connections for the service's own Redis use (pub/sub, limiters, caches). Every key and
 * channel carries the configured prefix, so tests and deployments can share one Redis.
 */
import { Redis, type RedisOptions } from 'ioredis';

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    // Reconnect forever with a capped backoff: Redis restarts must not kill the process.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}

/** `prefix:part:part` */
export function redisKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].join(':');
}
