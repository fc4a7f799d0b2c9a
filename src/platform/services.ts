/**
 * The composition root: every long-lived resource a process needs, made once from the config and
 * closed once. The API, the worker and the tests build their processes from this.
 *
 * - `orm`: MikroORM (database created if missing, migrations applied). Work on `orm.em.fork()`.
 * - `redis`: ioredis for the service's own keys (caches, limiters); keys via `redisKey(config.redisPrefix, …)`.
 * - `pubsub`: graphql-redis-subscriptions on two more ioredis connections; channels via `topicChannel`.
 * - `storage`: {@link DiskStorage} at `STORAGE_DIR`.
 * - `queue`: Bee-Queue *producers* of the three conversion queues, one per priority, as one
 *   {@link ConversionQueues} (it enqueues, reads counts and removes jobs, never processes); the worker
 *   makes its own processing queues with {@link beeQueueSettings}(config, 'worker').
 */
import type BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import type { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { initOrm, type Orm } from './database.js';
import { createRedis } from './redis.js';
import { createPubSub } from './pubsub.js';
import { DiskStorage, type Storage } from './storage.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createConversionQueues, type ConversionQueues } from '../worker/conversion-queues.js';

export type ProcessRole = 'api' | 'worker' | 'all';

/** The conversion queues of all priorities (counts are sums; `removeJob` and `getJob` look in all three). */
export type ConversionQueue = ConversionQueues;

export interface Services {
  config: Config;
  logger: Logger;
  orm: Orm;
  redis: Redis;
  pubsub: RedisPubSub;
  storage: Storage;
  /** Producer-mode queues of conversion jobs, one per priority (`queue.of(priority)` to enqueue). */
  queue: ConversionQueue;
  /**
   * This process's Prometheus metrics (`GET /metrics`). Made by {@link createServices}; optional so
   * hand-built services (tests) may leave it out, in which case nothing is counted.
   */
  metrics?: Metrics;
  /** Closes everything this created, in reverse order of dependency; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Bee-Queue settings for the conversion queues. Keys live under `<REDIS_PREFIX>:bq:<queue name>:*`
 * (Bee-Queue's `prefix` option), so tests and deployments sharing a Redis never see each other's jobs.
 * - `producer`: no blocking client, no event subscription, no job map (an API replica would leak
 *   one entry per enqueued job otherwise).
 * - `worker`: processes jobs, publishes Bee-Queue events, activates delayed jobs (retry backoff).
 */
export function beeQueueSettings(config: Pick<Config, 'redisUrl' | 'redisPrefix'>, mode: 'producer' | 'worker'): BeeQueue.QueueSettings {
  // node_redis's own reconnection delay grows by 1.7× per attempt without a cap, so after a long
  // outage a queue would reconnect minutes after Redis is back; capped like createRedis's instead.
  const redis = { url: config.redisUrl, retry_strategy: ({ attempt }: { attempt: number }) => Math.min(attempt * 200, 2000) };
  const common = { prefix: `${config.redisPrefix}:bq`, redis: redis as BeeQueue.QueueSettings['redis'] };
  if (mode === 'producer') {
    return { ...common, isWorker: false, getEvents: false, sendEvents: false, storeJobs: false, activateDelayedJobs: false };
  }
  return { ...common, isWorker: true, getEvents: false, sendEvents: true, storeJobs: false, activateDelayedJobs: true };
}

/** Creates the conversion queues (all priorities) in `mode` and waits until they are connected. */
export async function createConversionQueue(config: Pick<Config, 'redisUrl' | 'redisPrefix'>, mode: 'producer' | 'worker', onError: (error: Error) => void = () => undefined): Promise<ConversionQueue> {
  return createConversionQueues(beeQueueSettings(config, mode), onError);
}

/**
 * Builds every shared resource for a process of `role`. On failure, whatever was already opened is
 * closed again before the error is rethrown.
 */
export async function createServices(config: Config, options: { role: ProcessRole; logger?: Logger; metrics?: Metrics }): Promise<Services> {
  const logger = options.logger ?? createLogger(config, options.role);
  const metrics = options.metrics ?? createMetrics({ defaultLabels: { role: options.role } });
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    while (closers.length) {
      const close = closers.pop()!;
      try {
        await close();
      } catch (error) {
        logger.warn('Error while closing a resource', { error: (error as Error).message });
      }
    }
  };
  try {
    const orm = await initOrm(config.databaseUrl);
    closers.push(() => orm.close(true));
    const redis = createRedis(config.redisUrl);
    closers.push(() => redis.quit());
    redis.on('error', (error) => logger.warn('Redis error', { error: error.message }));
    const pubsub = createPubSub(config.redisUrl, (error) => logger.warn('Redis pub/sub error', { error: error.message }));
    closers.push(() => pubsub.close());
    const storage = new DiskStorage(config.storageDir);
    const queue = await createConversionQueue(config, 'producer', (error) => logger.warn('Queue error', { error: error.message }));
    closers.push(() => queue.close(5000));
    metrics.setQueueDepthSource(() => queue.checkHealth());
    let closed: Promise<void> | null = null;
    return {
      config,
      logger,
      orm,
      redis,
      pubsub,
      storage,
      queue,
      metrics,
      close: () => (closed ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
