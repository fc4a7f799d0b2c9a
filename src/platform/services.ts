/**
 * Every long-lived resource a process needs, made once from the config and closed once. Made by the
 * composition root, `createServices` in src/services.ts (the one way to make them), which gives this
 * layer what it must not import: the entities (src/modules) and the queue (src/worker).
 *
 * - `orm`: MikroORM (database created if missing, migrations applied). Work on `orm.em.fork()`.
 * - `redis`: ioredis for the service's own keys (caches, limiters); keys via `redisKey(config.redisPrefix, …)`.
 * - `pubsub`: graphql-redis-subscriptions on two more ioredis connections; channels via `topicChannel`.
 * - `storage`: {@link DiskStorage} at `STORAGE_DIR`, or {@link S3Storage} on `S3_BUCKET` (`STORAGE_BACKEND`).
 * - `queue`: the {@link ConversionQueuePort} (job-queue.ts): producers of the conversion queues of
 *   every priority (it enqueues, reads counts and removes jobs, never processes); the worker makes its
 *   own processing queues.
 */
import type { Redis } from 'ioredis';
import type { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { initOrm, type Entities, type Orm } from './database.js';
import { createRedis } from './redis.js';
import { createPubSub } from './pubsub.js';
import { createStorage, type Storage } from './storage.js';
import { createMetrics, type Metrics } from './metrics.js';
import { readSharedState } from './shared-state.js';
import { checkHealth } from './health.js';
import type { ConversionQueuePort } from './job-queue.js';
import type { UploadChecker } from './upload-check.js';

export type ProcessRole = 'api' | 'worker' | 'all';

/** Made here before storage.ts had it; kept for its importers. */
export { createStorage };

/** The conversion queues of all priorities (counts are sums; `removeJob` and `getJob` look in all three). */
export type ConversionQueue = ConversionQueuePort;

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
   * What checks stored uploads for `convertMelody`: the decode helper process (`DECODE_HELPER=process`,
   * API processes only, forked first so the fork is cheap), else absent and the API checks inline.
   */
  uploadChecker?: UploadChecker;
  /**
   * This process's Prometheus metrics (`GET /metrics`). Made by {@link openServices}; optional so
   * hand-built services (tests) may leave it out, in which case nothing is counted.
   */
  metrics?: Metrics;
  /** Closes everything this created, in reverse order of dependency; safe to call twice. */
  close(): Promise<void>;
}

/** What {@link openServices} needs beyond the config. */
export interface OpenServicesOptions {
  role: ProcessRole;
  /** Default: `createLogger(config, role)`. */
  logger?: Logger;
  /** Default: new metrics labelled with the role. */
  metrics?: Metrics;
  /** The ORM's entities (src/modules/entities.ts). */
  entities: Entities;
  /** Opens the producer queues (the worker's Bee-Queue queues); `onError` gets their connection errors. */
  openQueue(config: Config, onError: (error: Error) => void): Promise<ConversionQueuePort>;
}

/**
 * Builds every shared resource for a process of `role`. On failure, whatever was already opened is
 * closed again before the error is rethrown. Called by `createServices` (src/services.ts) only.
 */
export async function openServices(config: Config, options: OpenServicesOptions): Promise<Services> {
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
    // First, while this process is at its smallest: a fork copies the page tables of the whole process.
    let uploadChecker: UploadChecker | undefined;
    if (options.role !== 'worker' && config.decodeHelper === 'process') {
      const { DecodeHelper } = await import('./decode-helper.js');
      const helper = new DecodeHelper({
        settings: {
          storageBackend: config.storageBackend,
          storageDir: config.storageDir,
          s3: config.s3,
          ffmpegTimeoutMs: config.decodeTimeoutSeconds * 1000,
        },
        logger,
      }).start();
      helper.on('exit', (_pid: number, _code: number | null, _signal: string | null, unexpected: boolean) => {
        if (unexpected) metrics.decodeHelperCrashes.inc();
      });
      closers.push(() => helper.close());
      uploadChecker = helper;
    }
    const orm = await initOrm(config.databaseUrl, options.entities);
    closers.push(() => orm.close(true));
    const redis = createRedis(config.redisUrl);
    closers.push(() => redis.quit());
    redis.on('error', (error) => logger.warn('Redis error', { error: error.message }));
    const pubsub = createPubSub(config.redisUrl, (error) => logger.warn('Redis pub/sub error', { error: error.message }));
    closers.push(() => pubsub.close());
    const storage = await createStorage(config);
    closers.push(() => storage.close?.() ?? Promise.resolve());
    const queue = await options.openQueue(config, (error) => logger.warn('Queue error', { error: error.message }));
    closers.push(() => queue.close(5000));
    metrics.setQueueDepthSource(() => queue.checkHealth());
    metrics.setReadinessSource(() => checkHealth({ orm, redis }));
    // Database size, Redis memory, ratings, genres, quota use: the same on every replica, so API processes report them.
    if (options.role !== 'worker') metrics.setSharedStateSource(() => readSharedState(orm, redis, config.quotaTimeZone));
    let closed: Promise<void> | null = null;
    return {
      config,
      logger,
      orm,
      redis,
      pubsub,
      storage,
      queue,
      uploadChecker,
      metrics,
      close: () => (closed ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
